package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Captures what the process writes to {@code System.err} while open, and still passes it on.
 * slf4j-simple, the module's logger, looks {@code System.err} up on every line (its default
 * output, not cached), so this sees the log as a user's terminal does.
 */
final class CapturedStderr implements AutoCloseable {

    private final PrintStream original = System.err;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    CapturedStderr() {
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                bytes.write(b);
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                bytes.write(b, off, len);
                original.write(b, off, len);
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
    }

    /** Everything written so far. */
    String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The lines written so far that contain {@code part}. */
    List<String> linesWith(String part) {
        return text().lines().filter(l -> l.contains(part)).toList();
    }

    /**
     * The message of the one WARN line that contains {@code part}, without slf4j-simple's
     * {@code [thread] WARN logger - } prefix; fails unless there is exactly one such line.
     */
    String warning(String part) {
        List<String> lines = linesWith(part);
        assertEquals(1, lines.size(), text());
        String line = lines.get(0);
        int level = line.indexOf(" WARN ");
        assertTrue(level >= 0, "not a WARN: " + line);
        return line.substring(line.indexOf(" - ", level) + 3);
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}

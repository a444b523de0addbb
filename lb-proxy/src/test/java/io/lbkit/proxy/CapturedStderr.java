package io.lbkit.proxy;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

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
    java.util.List<String> linesWith(String part) {
        return text().lines().filter(l -> l.contains(part)).toList();
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}

package io.lbkit.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A keys file held in memory: its bytes and where each line starts and ends. Lines end at
 * {@code \n}; a {@code \r} before it is dropped (CRLF files), as is the empty piece after a final
 * newline. A line's key is its bytes exactly, nothing trimmed.
 */
final class KeysFile {

    final String name;
    final byte[] data;
    private final int[] starts;
    private final int[] ends;
    private final int lines;

    private KeysFile(String name, byte[] data, int[] starts, int[] ends, int lines) {
        this.name = name;
        this.data = data;
        this.starts = starts;
        this.ends = ends;
        this.lines = lines;
    }

    static KeysFile read(String usage, String file) throws UsageException {
        byte[] data;
        try {
            data = Files.readAllBytes(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new UsageException(usage, "cannot read keys file '" + file + "': no such file");
        } catch (IOException | InvalidPathException | SecurityException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (Files.isDirectory(Path.of(file))) {
                why = "it is a directory";
            }
            throw new UsageException(usage, "cannot read keys file '" + file + "': " + why);
        } catch (OutOfMemoryError e) {
            throw new UsageException(usage, "cannot read keys file '" + file + "': too large to hold in memory");
        }
        int[] starts = new int[16];
        int[] ends = new int[16];
        int n = 0;
        int start = 0;
        for (int i = 0; i <= data.length; i++) {
            if (i == data.length && start == data.length) {
                break; // nothing after the last newline
            }
            if (i == data.length || data[i] == '\n') {
                int end = i;
                if (end > start && data[end - 1] == '\r') {
                    end--;
                }
                if (n == starts.length) {
                    starts = Arrays.copyOf(starts, n * 2);
                    ends = Arrays.copyOf(ends, n * 2);
                }
                starts[n] = start;
                ends[n] = end;
                n++;
                start = i + 1;
            }
        }
        return new KeysFile(file, data, starts, ends, n);
    }

    int lines() {
        return lines;
    }

    int start(int line) {
        return starts[line];
    }

    int length(int line) {
        return ends[line] - starts[line];
    }

    /** Line {@code line} (0-based) decoded as UTF-8, for parsing and messages. */
    String text(int line) {
        return new String(data, starts[line], length(line), java.nio.charset.StandardCharsets.UTF_8);
    }
}

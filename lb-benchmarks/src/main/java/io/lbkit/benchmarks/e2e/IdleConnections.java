package io.lbkit.benchmarks.e2e;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * N keep-alive client connections to a proxy, each after one complete request and response,
 * then left idle (the harness's {@code --idle} table). Blocking sockets, opened one after another
 * (a proxy's accept path is not what this measures).
 */
final class IdleConnections implements AutoCloseable {

    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final int port;
    private final List<SocketChannel> open = new ArrayList<>();
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);

    private IdleConnections(int port) {
        this.port = port;
    }

    static IdleConnections open(int port, int n) {
        IdleConnections c = new IdleConnections(port);
        for (int i = 0; i < n; i++) {
            try {
                SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                if (!c.exchange(ch)) {
                    ch.close();
                    continue;
                }
                c.open.add(ch);
            } catch (IOException e) {
                System.err.printf(Locale.ROOT, "idle connection %d of %d failed: %s%n", i + 1, n, e);
                break;
            }
        }
        return c;
    }

    int opened() {
        return open.size();
    }

    /** One more request on every held connection; the number answered with a whole response. */
    int askAgain() {
        int ok = 0;
        for (SocketChannel ch : open) {
            try {
                if (exchange(ch)) {
                    ok++;
                }
            } catch (IOException e) {
                // closed by the proxy: not counted
            }
        }
        return ok;
    }

    /** Writes the request and reads one whole response (Content-Length framed); false if the connection ended. */
    private boolean exchange(SocketChannel ch) throws IOException {
        ch.write(ByteBuffer.wrap(REQUEST));
        buf.clear();
        int headEnd = -1;
        long need = -1;
        while (true) {
            if (ch.read(buf) < 0) {
                return false;
            }
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
            if (headEnd < 0) {
                headEnd = text.indexOf("\r\n\r\n");
                if (headEnd < 0) {
                    continue;
                }
                int cl = text.toLowerCase(Locale.ROOT).indexOf("\ncontent-length:");
                if (cl < 0 || cl > headEnd) {
                    throw new IOException("a response without Content-Length: " + text.substring(0, headEnd));
                }
                int eol = text.indexOf('\r', cl + 1);
                need = headEnd + 4 + Long.parseLong(text.substring(cl + "\ncontent-length:".length(), eol).trim());
            }
            if (buf.position() >= need) {
                return text.startsWith("HTTP/1.1 200");
            }
        }
    }

    @Override
    public void close() {
        for (SocketChannel ch : open) {
            try {
                ch.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}

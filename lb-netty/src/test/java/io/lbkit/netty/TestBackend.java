package io.lbkit.netty;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small blocking HTTP/1.1 server on 127.0.0.1 for the tests: one thread per connection,
 * keep-alive, Content-Length and chunked request bodies. Each request goes to a {@link Handler}
 * that writes the raw response; the backend counts accepted connections and records request heads.
 */
final class TestBackend implements AutoCloseable {

    /** Writes the response to one request (the body stream ends at the request body's end). */
    interface Handler {
        void handle(Request req, InputStream body, OutputStream out) throws Exception;
    }

    /** A request head as received: the target as bytes read one char per byte. */
    record Request(String method, String target, String version, List<String[]> headers) {
        String header(String name) {
            return first(headers, name);
        }

        List<String> headers(String name) {
            List<String> out = new ArrayList<>();
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    out.add(h[1]);
                }
            }
            return out;
        }
    }

    /** The first value of field {@code name} (any case) in a parsed head, or null. */
    static String first(List<String[]> headers, String name) {
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase(name)) {
                return h[1];
            }
        }
        return null;
    }

    final String id;
    private final ServerSocket server;
    private final Handler handler;
    final AtomicInteger connections = new AtomicInteger();
    final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    TestBackend(String id, Handler handler) throws IOException {
        this.id = id;
        this.handler = handler;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "backend-" + id);
        t.setDaemon(true);
        t.start();
    }

    /** A backend answering 200 with its id as the body. */
    static TestBackend named(String id) throws IOException {
        return new TestBackend(id, (req, body, out) -> respond(out, 200, id));
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                open.add(s);
                Thread t = new Thread(() -> serve(s), "backend-" + id + "-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = new BufferedOutputStream(s.getOutputStream());
            while (true) {
                String line = readLine(in);
                if (line == null) {
                    return;
                }
                String[] parts = line.split(" ", 3);
                List<String[]> headers = new ArrayList<>();
                for (String h; !(h = readLine(in)).isEmpty(); ) {
                    int c = h.indexOf(':');
                    headers.add(new String[] {h.substring(0, c), h.substring(c + 1).trim()});
                }
                Request req = new Request(parts[0], parts[1], parts[2], headers);
                requests.add(req);
                InputStream body = bodyOf(req, in);
                handler.handle(req, body, out);
                out.flush();
                body.transferTo(OutputStream.nullOutputStream());
                String conn = req.header("Connection");
                if (conn != null && conn.toLowerCase(Locale.ROOT).contains("close")) {
                    return;
                }
            }
        } catch (Exception e) {
            // the proxy closed the connection, or the test made the handler fail
        } finally {
            open.remove(s);
        }
    }

    private static InputStream bodyOf(Request req, InputStream in) {
        String te = req.header("Transfer-Encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            return new Chunked(in);
        }
        String cl = req.header("Content-Length");
        long n = cl == null ? 0 : Long.parseLong(cl);
        return new Limited(in, n);
    }

    /** One CRLF-terminated line as ISO-8859-1 (one char per byte); null at the end of input. */
    static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** Writes a complete response with a text body. */
    static void respond(OutputStream out, int status, String body, String... headers) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        sb.append("Content-Length: ").append(b.length).append("\r\n\r\n");
        out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(b);
    }

    /** Writes a response head as given (the lines without CRLF), then the blank line. */
    static void head(OutputStream out, String... lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append("\r\n");
        }
        out.write(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Writes one chunk of a chunked body and flushes it. */
    static void chunk(OutputStream out, byte[] b, int off, int len) throws IOException {
        out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b, off, len);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    static void lastChunk(OutputStream out) throws IOException {
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }

    /** A request body: reads go through {@code read(byte[], int, int)}. */
    private abstract static class Body extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }
    }

    /** A body of a known length. */
    private static final class Limited extends Body {
        private final InputStream in;
        private long left;

        Limited(InputStream in, long left) {
            this.in = in;
            this.left = left;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("body cut");
            }
            left -= n;
            return n;
        }
    }

    /** A chunked body, decoded (trailers read and dropped). */
    static final class Chunked extends Body {
        private final InputStream in;
        private long left;
        private boolean done;

        Chunked(InputStream in) {
            this.in = in;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String size = readLine(in);
                if (size == null) {
                    throw new IOException("chunked body cut");
                }
                int semi = size.indexOf(';');
                left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (left == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailers
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("chunked body cut");
            }
            left -= n;
            if (left == 0) {
                readLine(in);
            }
            return n;
        }
    }
}

package io.lbkit.proxy.contract;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/** A socket-level backend that misbehaves on purpose, one connection at a time per thread. */
public final class RawBackend implements AutoCloseable {

    public enum Mode {
        /** Reads the whole request, then closes without answering (a reset after the request was sent). */
        CLOSE_AFTER_REQUEST,
        /**
         * Resets the connection as soon as a request head has arrived, reading no further: a reset
         * that can reach the proxy while its write of the request is still completing.
         */
        RESET_ON_HEAD,
        /** Answers with bytes that are not HTTP. */
        GARBAGE,
        /** Sends chunked headers and one chunk, then closes (a response failing after it started). */
        PARTIAL_CHUNKED,
        /** Answers 204 with {@code Content-Length: 5} and five bytes (an invalid 204). */
        NO_CONTENT_WITH_LENGTH,
        /** Answers 200 with {@link #GZIP_BODY} and {@code Content-Encoding: gzip}. */
        GZIP,
        /**
         * Answers the first request of each connection (kept alive), and resets the connection when
         * a second request arrives on it: a backend whose idle timeout closed a kept-alive
         * connection just as the proxy reused it, made deterministic.
         */
        ONE_PER_CONNECTION,
        /** Answers 200 with a 20,000-byte header field (over the proxy's 16 KiB bufferSize). */
        BIG_HEADER
    }

    /** The gzip bytes mode GZIP answers with ("hello gzip\n" compressed). */
    static final byte[] GZIP_BODY = gzip("hello gzip\n");

    private static byte[] gzip(String text) {
        try {
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
            try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(b)) {
                z.write(text.getBytes(StandardCharsets.US_ASCII));
            }
            return b.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private final ServerSocket server;
    private final Mode mode;
    private final AtomicInteger requests = new AtomicInteger();
    private final Thread thread;

    public RawBackend(Mode mode) throws IOException {
        this.mode = mode;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.thread = new Thread(this::run, "raw-backend-" + mode);
        thread.setDaemon(true);
        thread.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public int requests() {
        return requests.get();
    }

    private void run() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "raw-backend-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        if (mode == Mode.ONE_PER_CONNECTION) {
            serveOnce(s);
            return;
        }
        if (mode == Mode.RESET_ON_HEAD) {
            resetOnHead(s);
            return;
        }
        try (s) {
            InputStream in = open(s);
            String head = nextRequest(in);
            if (head == null) {
                return;
            }
            long length = 0;
            boolean chunked = false;
            for (String line : head.split("\r\n")) {
                String l = line.toLowerCase(Locale.ROOT);
                if (l.startsWith("content-length:")) {
                    length = Long.parseLong(l.substring(15).trim());
                } else if (l.startsWith("transfer-encoding:") && l.contains("chunked")) {
                    chunked = true;
                }
            }
            if (chunked) {
                readChunked(in);
            } else {
                in.readNBytes((int) length);
            }
            OutputStream out = s.getOutputStream();
            switch (mode) {
                case CLOSE_AFTER_REQUEST -> s.setSoLinger(true, 0); // RST on close
                case GARBAGE -> out.write("this is not http\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                case PARTIAL_CHUNKED -> {
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "5\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(200); // let the proxy forward the first chunk, then die
                    s.setSoLinger(true, 0);
                }
                case NO_CONTENT_WITH_LENGTH -> out.write("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"
                        .getBytes(StandardCharsets.US_ASCII));
                case GZIP -> {
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                            + "Content-Length: " + GZIP_BODY.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(GZIP_BODY);
                }
                case BIG_HEADER -> out.write(("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(20_000)
                        + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").getBytes(StandardCharsets.US_ASCII));
                default -> throw new AssertionError();
            }
            out.flush();
        } catch (IOException | InterruptedException e) {
            // the test decides what matters
        }
    }

    private void serveOnce(Socket s) {
        try (s) {
            InputStream in = open(s);
            String head = nextRequest(in);
            if (head == null) {
                return;
            }
            skipBody(in, head);
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            if (nextRequest(in) != null) {
                s.setSoLinger(true, 0); // RST: the second request is never answered
            }
        } catch (IOException e) {
            // the test decides what matters
        }
    }

    private void resetOnHead(Socket s) {
        try (s) {
            // buffered: the head in one read, so the reset follows the request as closely as it can
            if (nextRequest(new java.io.BufferedInputStream(open(s))) != null) {
                s.setSoLinger(true, 0); // RST on close
            }
        } catch (IOException e) {
            // the test decides what matters
        }
    }

    private static InputStream open(Socket s) throws IOException {
        s.setSoTimeout(30_000);
        return s.getInputStream();
    }

    /** The next request's head (counted), or null at the end of the connection. */
    private String nextRequest(InputStream in) throws IOException {
        String head = readHead(in);
        if (head != null) {
            requests.incrementAndGet();
        }
        return head;
    }

    private static void skipBody(InputStream in, String head) throws IOException {
        for (String line : head.split("\r\n")) {
            String l = line.toLowerCase(Locale.ROOT);
            if (l.startsWith("content-length:")) {
                in.readNBytes(Integer.parseInt(l.substring(15).trim()));
            }
        }
    }

    /** The next request or response head (up to the empty line) as ISO-8859-1, or null at the end. */
    public static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            state = switch (state) {
                case 0, 2 -> c == '\r' ? state + 1 : 0;
                case 1 -> c == '\n' ? 2 : 0;
                case 3 -> c == '\n' ? 4 : 0;
                default -> 0;
            };
            if (state == 4) {
                return b.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static void readChunked(InputStream in) throws IOException {
        while (true) {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            int semi = line.indexOf(";");
            int size = Integer.parseInt((semi < 0 ? line.toString() : line.substring(0, semi)).trim(), 16);
            if (size == 0) {
                readHead(prefixCrLf(in)); // trailers + final CRLF
                return;
            }
            in.readNBytes(size + 2);
        }
    }

    private static InputStream prefixCrLf(InputStream in) {
        return new java.io.SequenceInputStream(new java.io.ByteArrayInputStream("\r\n".getBytes(StandardCharsets.US_ASCII)), in);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}

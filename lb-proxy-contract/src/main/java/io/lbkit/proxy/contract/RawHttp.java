package io.lbkit.proxy.contract;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A raw HTTP/1.1 exchange over a socket, for headers the JDK client refuses to send. */
public final class RawHttp {

    private RawHttp() {
    }

    /** Sends header lines (CRLF added), then after an empty line the body as is; reads until the server closes. */
    public static String exchange(int port, String... lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        int blank = java.util.Arrays.asList(lines).indexOf("");
        int headEnd = blank < 0 ? lines.length : blank;
        for (int i = 0; i < headEnd; i++) {
            sb.append(lines[i]).append("\r\n");
        }
        sb.append("\r\n");
        for (int i = headEnd + 1; i < lines.length; i++) {
            sb.append(lines[i]); // body, sent as is
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** Writes a request body onto the socket. */
    @FunctionalInterface
    public interface BodyWriter {
        void write(java.io.OutputStream out) throws IOException, InterruptedException;
    }

    /**
     * POSTs to {@code path} with the extra header lines {@code fields} (each ending in CRLF),
     * lets {@code body} write the body, then reads the response until the server closes (or the
     * 30 s socket timeout).
     */
    public static String post(int port, String path, String fields, BodyWriter body) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            s.setTcpNoDelay(true);
            java.io.OutputStream out = s.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n" + fields + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            try {
                body.write(out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            s.getInputStream().transferTo(got);
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Sends a request whose body is {@code bodyBytes} bytes of 'x', chunked ({@code chunked}) or
     * with a Content-Length, writing all of it before reading the response until the server
     * closes. Fails (IOException) if the server resets the connection before the client has
     * written its body and read the answer.
     */
    public static String sendBodyThenRead(int port, String path, long bodyBytes, boolean chunked) throws IOException {
        String fields = (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + bodyBytes + "\r\n")
                + "Content-Type: application/octet-stream\r\n";
        return post(port, path, fields, out -> {
            byte[] chunk = new byte[16 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'x');
            long left = bodyBytes;
            while (left > 0) {
                int n = (int) Math.min(chunk.length, left);
                if (chunked) {
                    out.write(ascii(Integer.toHexString(n) + "\r\n"));
                }
                out.write(chunk, 0, n);
                if (chunked) {
                    out.write(ascii("\r\n"));
                }
                left -= n;
            }
            if (chunked) {
                out.write(ascii("0\r\n\r\n"));
            }
        });
    }

    /**
     * POSTs a chunked body of {@code chunks} chunks of {@code chunkText}, writing each chunk-size
     * line and each chunk's data in separate writes {@code pauseMillis} apart (so a server often
     * sees a chunk header with no data behind it), then reads the response until the server
     * closes ({@code Connection: close} is sent).
     */
    static String sendChunksApart(int port, String path, int chunks, String chunkText, long pauseMillis)
            throws IOException {
        return post(port, path, "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n", out -> {
            byte[] data = ascii(chunkText);
            for (int i = 0; i < chunks; i++) {
                out.write(ascii(Integer.toHexString(data.length) + "\r\n"));
                out.flush();
                Thread.sleep(pauseMillis);
                out.write(data);
                out.write(ascii("\r\n"));
                out.flush();
                Thread.sleep(pauseMillis);
            }
            out.write(ascii("0\r\n\r\n"));
        });
    }

    /**
     * POSTs a request declaring a body of {@code declared} bytes but sends only {@code sent}
     * of them, then reads the response until the server closes (or the 30 s socket timeout).
     */
    public static String sendPartOfBodyThenRead(int port, String path, int declared, int sent) throws IOException {
        return post(port, path, "Content-Length: " + declared + "\r\nContent-Type: text/plain\r\n",
                out -> out.write(ascii("x".repeat(sent))));
    }

    /**
     * POSTs a body of {@code pieces} × {@code pieceText} with a Content-Length, writing each piece
     * {@code pauseMillis} after the previous one, then reads the response until the server closes.
     */
    static String sendPiecesApart(int port, String path, int pieces, String pieceText, long pauseMillis)
            throws IOException {
        byte[] data = ascii(pieceText);
        return post(port, path, "Content-Length: " + (long) data.length * pieces
                + "\r\nContent-Type: text/plain\r\nConnection: close\r\n", out -> {
                    for (int i = 0; i < pieces; i++) {
                        Thread.sleep(pauseMillis);
                        out.write(data);
                        out.flush();
                    }
                });
    }

    /** The status code of a raw response. */
    public static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }

    /** The header block of a raw response, lower-cased names kept as sent. */
    public static String head(String response) {
        int end = response.indexOf("\r\n\r\n");
        return end < 0 ? response : response.substring(0, end + 2);
    }

    /** The body after the header block (still chunk-encoded if the response was). */
    public static String body(String response) {
        int end = response.indexOf("\r\n\r\n");
        return end < 0 ? "" : response.substring(end + 4);
    }
}

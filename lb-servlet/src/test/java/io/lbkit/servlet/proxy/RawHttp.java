package io.lbkit.servlet.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A raw HTTP/1.1 exchange over a socket, for headers the JDK client refuses to send. */
final class RawHttp {

    private RawHttp() {
    }

    /** Sends header lines (CRLF added), then after an empty line the body as is; reads until the server closes. */
    static String exchange(int port, String... lines) throws IOException {
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

    /**
     * Sends a request whose body is {@code bodyBytes} bytes of 'x', chunked ({@code chunked}) or
     * with a Content-Length, writing all of it before reading the response until the server
     * closes. Fails (IOException) if the server resets the connection before the client has
     * written its body and read the answer.
     */
    static String sendBodyThenRead(int port, String path, long bodyBytes, boolean chunked) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            java.io.OutputStream out = s.getOutputStream();
            String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + bodyBytes + "\r\n")
                    + "Content-Type: application/octet-stream\r\n\r\n";
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[16 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'x');
            byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            byte[] crlf = "\r\n".getBytes(StandardCharsets.ISO_8859_1);
            long left = bodyBytes;
            while (left > 0) {
                int n = (int) Math.min(chunk.length, left);
                if (chunked) {
                    out.write(n == chunk.length ? size : (Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                }
                out.write(chunk, 0, n);
                if (chunked) {
                    out.write(crlf);
                }
                left -= n;
            }
            if (chunked) {
                out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            s.getInputStream().transferTo(got);
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * POSTs a chunked body of {@code chunks} chunks of {@code chunkText}, writing each chunk-size
     * line and each chunk's data in separate writes {@code pauseMillis} apart (so a server often
     * sees a chunk header with no data behind it), then reads the response until the server
     * closes ({@code Connection: close} is sent).
     */
    static String sendChunksApart(int port, String path, int chunks, String chunkText, long pauseMillis)
            throws IOException, InterruptedException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            s.setTcpNoDelay(true);
            java.io.OutputStream out = s.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            byte[] data = chunkText.getBytes(StandardCharsets.ISO_8859_1);
            for (int i = 0; i < chunks; i++) {
                out.write((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                Thread.sleep(pauseMillis);
                out.write(data);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                Thread.sleep(pauseMillis);
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            s.getInputStream().transferTo(got);
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * POSTs a request declaring a body of {@code declared} bytes but sends only {@code sent}
     * of them, then reads the response until the server closes (or the 30 s socket timeout).
     */
    static String sendPartOfBodyThenRead(int port, String path, int declared, int sent) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            java.io.OutputStream out = s.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Length: " + declared
                    + "\r\nContent-Type: text/plain\r\n\r\n" + "x".repeat(sent)).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            s.getInputStream().transferTo(got);
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * POSTs a body of {@code pieces} × {@code pieceText} with a Content-Length, writing each piece
     * {@code pauseMillis} after the previous one, then reads the response until the server closes.
     */
    static String sendPiecesApart(int port, String path, int pieces, String pieceText, long pauseMillis)
            throws IOException, InterruptedException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            s.setTcpNoDelay(true);
            java.io.OutputStream out = s.getOutputStream();
            byte[] data = pieceText.getBytes(StandardCharsets.ISO_8859_1);
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Length: "
                    + (long) data.length * pieces + "\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            for (int i = 0; i < pieces; i++) {
                Thread.sleep(pauseMillis);
                out.write(data);
                out.flush();
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            s.getInputStream().transferTo(got);
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** The status code of a raw response. */
    static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }

    /** The header block of a raw response, lower-cased names kept as sent. */
    static String head(String response) {
        int end = response.indexOf("\r\n\r\n");
        return end < 0 ? response : response.substring(0, end + 2);
    }

    /** The body after the header block (still chunk-encoded if the response was). */
    static String body(String response) {
        int end = response.indexOf("\r\n\r\n");
        return end < 0 ? "" : response.substring(end + 4);
    }
}

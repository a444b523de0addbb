package io.lbkit.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A plain-socket HTTP/1.1 client for a server-sent event stream: it reads the status, headers
 * and chunked body itself, so a test decides exactly when the connection closes.
 */
final class SseClient implements AutoCloseable {

    final int status;
    final Map<String, String> headers = new HashMap<>();
    private final Socket socket;
    private final InputStream in;
    private final StringBuilder pending = new StringBuilder();
    private final boolean chunked;
    private long remaining; // of the current chunk

    SseClient(URI admin, String token) throws IOException {
        socket = new Socket(admin.getHost(), admin.getPort());
        socket.setSoTimeout(20_000);
        OutputStream out = socket.getOutputStream();
        out.write(("GET /api/stream HTTP/1.1\r\nHost: " + admin.getHost() + ":" + admin.getPort()
                + "\r\nAccept: text/event-stream\r\n" + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        in = socket.getInputStream();
        String statusLine = line();
        status = Integer.parseInt(statusLine.split(" ")[1]);
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        chunked = "chunked".equalsIgnoreCase(headers.get("transfer-encoding"));
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("the stream ended");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    /** The next event's fields ({@code event}, {@code id}, {@code data}, ...), skipping blocks without data. */
    Map<String, String> next() throws IOException {
        for (;;) {
            int end;
            while ((end = pending.indexOf("\n\n")) < 0) {
                pending.append(new String(readSome(), StandardCharsets.UTF_8));
            }
            String block = pending.substring(0, end);
            pending.delete(0, end + 2);
            Map<String, String> fields = new HashMap<>();
            for (String l : block.split("\n")) {
                int colon = l.indexOf(':');
                if (colon > 0) {
                    fields.merge(l.substring(0, colon), l.substring(colon + 1).stripLeading(), (a, b) -> a + "\n" + b);
                }
            }
            if (fields.containsKey("data")) {
                return fields;
            }
        }
    }

    /** The body of a response that is not a stream (read until the connection closes or its length). */
    String body() throws IOException {
        String length = headers.get("content-length");
        if (length != null) {
            return new String(in.readNBytes(Integer.parseInt(length)), StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try {
            for (;;) {
                b.write(readSome());
            }
        } catch (IOException ended) {
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    private byte[] readSome() throws IOException {
        if (!chunked) {
            byte[] buf = new byte[4096];
            int n = in.read(buf);
            if (n < 0) {
                throw new IOException("the stream ended");
            }
            return java.util.Arrays.copyOf(buf, n);
        }
        if (remaining == 0) {
            String size = line();
            if (size.isEmpty()) {
                size = line(); // the CRLF after the previous chunk
            }
            remaining = Long.parseLong(size.split(";")[0].trim(), 16);
            if (remaining == 0) {
                throw new IOException("the stream ended (last chunk)");
            }
        }
        byte[] buf = in.readNBytes((int) Math.min(remaining, 4096));
        if (buf.length == 0) {
            throw new IOException("the stream ended");
        }
        remaining -= buf.length;
        return buf;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

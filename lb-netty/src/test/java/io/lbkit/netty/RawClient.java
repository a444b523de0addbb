package io.lbkit.netty;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A client on a plain socket: sends bytes exactly as given and parses the responses that come back. */
final class RawClient implements AutoCloseable {

    /** A response; {@code body} is empty when it was streamed to a sink. */
    record Response(int status, List<String[]> headers, byte[] body) {
        String header(String name) {
            return TestBackend.first(headers, name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    final InputStream in;
    final OutputStream out;

    RawClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(20_000); // a hung proxy fails the test instead of hanging it
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends the text as ISO-8859-1: one byte per char, so "\u00c3\u00a9" sends the UTF-8 bytes of "é". */
    RawClient send(String raw) throws IOException {
        out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    Response read() throws IOException {
        return read(false, null);
    }

    /**
     * Reads one response. {@code head}: the request was HEAD (no body follows). {@code sink}: the body
     * goes there instead of into the response.
     */
    Response read(boolean head, OutputStream sink) throws IOException {
        String status = TestBackend.readLine(in);
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        int code = Integer.parseInt(status.split(" ")[1]);
        List<String[]> headers = new ArrayList<>();
        for (String h; !(h = TestBackend.readLine(in)).isEmpty(); ) {
            int c = h.indexOf(':');
            headers.add(new String[] {h.substring(0, c), h.substring(c + 1).trim()});
        }
        Response r = new Response(code, headers, new byte[0]);
        if (code / 100 == 1) {
            return r;
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        OutputStream to = sink != null ? sink : buf;
        String te = r.header("Transfer-Encoding");
        String cl = r.header("Content-Length");
        if (head || code == 204 || code == 304) {
            // no body
        } else if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            new TestBackend.Chunked(in).transferTo(to);
        } else if (cl != null) {
            long left = Long.parseLong(cl);
            byte[] b = new byte[8192];
            while (left > 0) {
                int n = in.read(b, 0, (int) Math.min(b.length, left));
                if (n < 0) {
                    throw new IOException("body cut with " + left + " bytes to go");
                }
                to.write(b, 0, n);
                left -= n;
            }
        } else {
            in.transferTo(to);
        }
        return new Response(code, headers, buf.toByteArray());
    }

    /** Whether the proxy closed the connection (reads the end of input, bounded by the socket timeout). */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (java.net.SocketException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** A GET with a Host header. */
    static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: front.example\r\n\r\n";
    }
}

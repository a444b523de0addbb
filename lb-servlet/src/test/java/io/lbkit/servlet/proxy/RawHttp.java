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

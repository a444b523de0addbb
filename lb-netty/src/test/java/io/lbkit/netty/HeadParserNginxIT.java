package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.testing.NginxFixture;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The in-place head parser against a real nginx: the same raw heads sent to nginx (a location that
 * answers 200) and given to the parser, and the same verdict (accepted, or refused with the same
 * status), except where lbkit differs on purpose; those are listed here, and in docs/proxy.md.
 */
class HeadParserNginxIT {

    /**
     * Where lbkit decides otherwise than nginx 1.22, on purpose: nginx ignores a field line whose
     * name is not a token and accepts control bytes other than NUL in a value (lbkit refuses both,
     * as the engine's Netty codec does today, so that nothing ambiguous reaches a backend); nginx
     * refuses a method in lower case (lbkit forwards a method as sent: docs/proxy.md); nginx
     * answers a version-less request line (HTTP/0.9) in HTTP/0.9.
     */
    private static final Map<String, String> ON_PURPOSE = Map.of(
            "GET / HTTP/1.1\r\nHost: h\r\nX(: h\r\n\r\n", "nginx ignores the line",
            "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", "nginx ignores the line",
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\u007fb\r\n\r\n", "nginx accepts DEL in a value",
            "GET / HTTP/1.1\r\nHost: h\r\nX:\u0001\r\n\r\n", "nginx accepts a control byte in a value",
            "get /x HTTP/1.1\r\nHost: h\r\n\r\n", "nginx refuses a lower-case method",
            "GET /\r\n\r\n", "nginx answers HTTP/0.9");

    private static final List<String> HEADS = List.of(
            "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1\nHost: h\n\n",
            "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET   /x   HTTP/1.0\r\n\r\n",
            "get /x HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "GET / HTTP/0.9\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX(: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\n: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\u0000b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\u007fb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX:\u0001\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
            " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /a\u0001b HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /\t/x HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /\r\n\r\n",
            "GET / HTTP/1\r\nHost: h\r\n\r\n",
            "GET / HTTX/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Trim: \t v a l \t \r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-U_nder: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: caf\u00e9\r\n\r\n",
            "GET /caf\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n");

    /** nginx's verdict: 200 (accepted) or its error status; 0 when it answered without a status line. */
    private static int nginx(int port, String head) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            byte[] line = new byte[12];
            int n = in.readNBytes(line, 0, 12);
            String text = new String(line, 0, n, StandardCharsets.ISO_8859_1);
            return text.startsWith("HTTP/1.1 ") ? Integer.parseInt(text.substring(9, 12)) : 0;
        }
    }

    private static int lbkit(String head) {
        HeadParser p = new HeadParser(8192, 32 * 1024, 100);
        ByteBuf buf = Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1);
        try {
            int r = p.parse(buf);
            return r > 0 ? 200 : -r;
        } finally {
            buf.release();
        }
    }

    @Test
    void theSameVerdictAsNginxForEachHead() throws Exception {
        try (NginxFixture nginx = NginxFixture.start("""
                server {
                    listen 127.0.0.1:{{port}};
                    location / { return 200 "ok"; }
                }
                """)) {
            List<String> differ = new ArrayList<>();
            for (String head : HEADS) {
                int theirs = nginx(nginx.port(), head);
                int ours = lbkit(head);
                boolean same = theirs == ours;
                if (same == ON_PURPOSE.containsKey(head)) {
                    differ.add((same ? "same, though listed as differing: " : "nginx " + theirs + ", lbkit " + ours + ": ")
                            + head.replace("\r", "\\r").replace("\n", "\\n"));
                }
            }
            assertEquals(List.of(), differ);
        }
    }
}

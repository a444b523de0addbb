package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.testing.NginxFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential: nginx's {@code stub_status} and lbkit's status page for the same sequence of
 * connections and requests, byte for byte (but the accepted and handled totals, compared as what
 * the sequence added to them): a first status request on a kept-alive connection, a
 * proxied request on it, then a status request on a second connection while the first waits. On
 * the servlet engines the filter sees requests, not connections (each request counts as a
 * connection of its own, none waits): there the requests must match nginx's, Writing may still
 * count the proxied request for a moment after its client has the last byte, and the connection
 * counts differ on purpose (docs/operations.md).
 */
class StubStatusNginxIT {

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void pageMatchesNginxForTheSameSequence(ProxyEngine kind) throws Exception {
        try (RecordingBackend backend = RecordingBackend.ok();
             NginxFixture nginx = NginxFixture.start("""
                     upstream u { server 127.0.0.1:%d; }
                     server {
                         listen 127.0.0.1:{{port}};
                         location = /nginx_status { stub_status; }
                         location /api/ { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; }
                     }
                     """.formatted(backend.port()));
             ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().statusPath("/nginx_status")
                     .route(Route.builder("api", Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", backend.port()))
                             .build()).pathPrefix("/api/").build()).build())) {
            List<String> n = sequence(nginx.port());
            List<String> l = sequence(p.port());
            if (kind.name().equals("netty")) {
                // byte for byte but the accepted and handled totals, which on nginx's side also count
                // the fixture's readiness probe (a connection with no request) or not: compared as
                // what the sequence added to them
                assertEquals(n.stream().map(StubStatusNginxIT::withoutTotals).toList(),
                        l.stream().map(StubStatusNginxIT::withoutTotals).toList());
                long[] n0 = AccessLogIT.stub(n.get(0));
                long[] n1 = AccessLogIT.stub(n.get(1));
                long[] l0 = AccessLogIT.stub(l.get(0));
                long[] l1 = AccessLogIT.stub(l.get(1));
                assertEquals(n1[1] - n0[1], l1[1] - l0[1], "accepts added");
                assertEquals(n1[2] - n0[2], l1[2] - l0[2], "handled added");
                assertEquals(l1[1], l1[2], "accepts = handled");
                return;
            }
            for (int i = 0; i < n.size(); i++) {
                long[] nv = AccessLogIT.stub(n.get(i));
                long[] lv = AccessLogIT.stub(l.get(i));
                assertEquals(nv[3], lv[3], "requests, page " + i + "\nnginx:\n" + n.get(i) + "lbkit:\n" + l.get(i));
                // an exchange counts as writing until the filter's thread ends it, which may come a moment
                // after the client read its last byte (Tomcat): at least nginx's count, never fewer
                assertTrue(lv[5] >= nv[5] && lv[5] <= nv[5] + 1, "Writing, page " + i + ": " + lv[5]);
                assertEquals(0, lv[6], "Waiting: the filter sees no idle connection");
            }
        }
    }

    /** A page with its accepts and handled numbers replaced by {@code A} and {@code H}. */
    static String withoutTotals(String page) {
        return page.replaceFirst("\n \\d+ \\d+ ", "\n A H ");
    }

    /** The status pages the sequence reads. */
    private static List<String> sequence(int port) throws IOException {
        try (Socket a = connect(port)) {
            String first = get(a, "/nginx_status", false);
            assertEquals("ok", get(a, "/api/x", false));
            String second;
            try (Socket b = connect(port)) {
                second = get(b, "/nginx_status", true);
            }
            return List.of(first, second);
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.setSoTimeout(30_000);
        return s;
    }

    /** One request on a kept-alive connection; returns the body (the response has a Content-Length). */
    private static String get(Socket s, String path, boolean close) throws IOException {
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: h\r\n" + (close ? "Connection: close\r\n" : "")
                + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed in the head: " + head);
            }
            head.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int at = h.toLowerCase(Locale.ROOT).indexOf("content-length:");
        if (!h.startsWith("HTTP/1.1 200") || at < 0) {
            throw new IOException("not a 200 with a Content-Length: " + h);
        }
        int length = Integer.parseInt(h.substring(at + 15, h.indexOf('\r', at)).trim());
        return new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }
}

package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.testing.NginxFixture;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential: the same raw requests through a real nginx and through lbkit, each in front of
 * its own recording backend. What the backend receives and the status the client gets must be
 * the same, except where the container refuses a target before the filter runs (listed per
 * container below and in docs/proxy.md, "The request target").
 */
class RequestTargetNginxIT {

    /** Targets as ISO-8859-1 strings, one char per byte. */
    static final List<String> TARGETS = List.of(
            "/plain", "/echo?e=\u00c3\u00a9&f=\u00e2\u0082\u00ac", "/echo?d=%zz", "/echo?d=%4", "/q?a=%C3%A9&b=%20%2B%25",
            "/sp%20ace?x=1", "/a/../b", "/p;a=b?x=[1]&y={2}", "/echo?q=a+b&&=&x", "//double//slash", "/a/%2e%2e/b",
            "/a%2Fb", "/caf\u00c3\u00a9", "/p#frag", "/q?x=\u00ff", "/a%zz", "/a%4", "/a%00b", "/x?a=b#c?d");

    /** Targets each container refuses (400) before the filter while nginx forwards them. */
    static final Map<String, Set<String>> CONTAINER_REFUSES = Map.of(
            "jetty", Set.of("//double//slash", "/a/%2e%2e/b", "/a%2Fb", "/caf\u00c3\u00a9", "/p#frag",
                    "/q?x=\u00ff", "/x?a=b#c?d"),
            "tomcat", Set.of("/echo?e=\u00c3\u00a9&f=\u00e2\u0082\u00ac", "/p;a=b?x=[1]&y={2}", "/a%2Fb",
                    "/caf\u00c3\u00a9", "/p#frag", "/q?x=\u00ff", "/x?a=b#c?d"));

    private static String send(int port, String target) throws Exception {
        return RawHttp.exchange(port, "GET " + target + " HTTP/1.1", "Host: h.example", "Connection: close");
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void targetsReachTheBackendAsThroughNginx(ProxyEngine kind) throws Exception {
        try (RecordingBackend viaNginx = RecordingBackend.ok(); RecordingBackend viaLbkit = RecordingBackend.ok();
             NginxFixture nginx = NginxFixture.start("""
                     server {
                         listen 127.0.0.1:{{port}};
                         location / {
                             proxy_pass http://127.0.0.1:%d;
                             proxy_http_version 1.1;
                             proxy_set_header Host $http_host;
                         }
                     }
                     """.formatted(viaNginx.port()));
             ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(Route.builder("all",
                     Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", viaLbkit.port())).build()).build()).build())) {
            List<String> differences = new ArrayList<>();
            for (String target : TARGETS) {
                int nBefore = viaNginx.heads().size();
                int lBefore = viaLbkit.heads().size();
                int nginxStatus = RawHttp.status(send(nginx.port(), target));
                int lbkitStatus = RawHttp.status(send(p.port(), target));
                String nginxLine = viaNginx.heads().size() > nBefore ? viaNginx.lastRequestLine() : null;
                String lbkitLine = viaLbkit.heads().size() > lBefore ? viaLbkit.lastRequestLine() : null;
                if (CONTAINER_REFUSES.getOrDefault(kind.name(), Set.of()).contains(target)) {
                    assertEquals(200, nginxStatus, "nginx forwards " + esc(target));
                    assertEquals(400, lbkitStatus, kind + " refuses " + esc(target));
                    assertEquals(null, lbkitLine);
                    differences.add(esc(target));
                    continue;
                }
                assertEquals(nginxStatus, lbkitStatus, "status for " + esc(target));
                // nginx speaks HTTP/1.0 or 1.1 to the backend per proxy_http_version: compare the target
                assertEquals(nginxLine == null ? null : targetOf(nginxLine), lbkitLine == null ? null : targetOf(lbkitLine),
                        "target the backend got for " + esc(target));
            }
            assertEquals(CONTAINER_REFUSES.getOrDefault(kind.name(), Set.of()).size(), differences.size(), differences.toString());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void bodilessAnswersCarryTheSameFramingAsThroughNginx(ProxyEngine kind) throws Exception {
        for (String response : new String[] {"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n"}) {
            try (RecordingBackend viaNginx = new RecordingBackend(response); RecordingBackend viaLbkit = new RecordingBackend(response);
                 NginxFixture nginx = NginxFixture.start("""
                         server {
                             listen 127.0.0.1:{{port}};
                             location / { proxy_pass http://127.0.0.1:%d; proxy_http_version 1.1; }
                         }
                         """.formatted(viaNginx.port()));
                 ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(Route.builder("all",
                         Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", viaLbkit.port())).build()).build()).build())) {
                for (String method : new String[] {"GET", "HEAD"}) {
                    String n = RawHttp.exchange(nginx.port(), method + " /x HTTP/1.1", "Host: h", "Connection: close");
                    String l = RawHttp.exchange(p.port(), method + " /x HTTP/1.1", "Host: h", "Connection: close");
                    assertEquals(RawHttp.status(n), RawHttp.status(l));
                    for (String field : new String[] {"content-length", "transfer-encoding"}) {
                        assertEquals(RawHttp.head(n).toLowerCase(Locale.ROOT).contains(field),
                                RawHttp.head(l).toLowerCase(Locale.ROOT).contains(field),
                                method + " " + response.substring(9, 12) + " " + field + "\nnginx: " + n + "\nlbkit: " + l);
                    }
                    assertFalse(RawHttp.head(l).toLowerCase(Locale.ROOT).contains("content-length"));
                    assertTrue(RawHttp.body(l).isEmpty());
                }
            }
        }
    }

    private static String targetOf(String requestLine) {
        return requestLine.substring(requestLine.indexOf(' ') + 1, requestLine.lastIndexOf(' '));
    }

    private static String esc(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            sb.append(c < 0x20 || c > 0x7e ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return sb.toString();
    }
}

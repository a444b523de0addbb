package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.AccessLog;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.engine.LogFormat;
import io.lbkit.testing.NginxFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential: the same requests through a real nginx and through lbkit, each logging with the
 * same {@code log_format}, compared field by field: a request retried to a second endpoint after
 * the first refused the connection, a plain proxied one, and a 404 no location/route takes, with
 * default and JSON escaping. Times and request ids are compared by shape (their values differ by
 * nature), and the 404's body size by shape (each writes its own error page).
 */
class AccessLogNginxIT {

    @TempDir
    Path dir;

    static final String[] FIELDS = {"remote_addr", "remote_user", "time_local", "time_iso8601", "request", "status",
        "body_bytes_sent", "http_referer", "http_user_agent", "request_time", "upstream_addr", "upstream_status",
        "upstream_response_time", "upstream_connect_time", "upstream_header_time", "request_id", "http_x_custom",
        "cookie_a", "request_method", "request_uri", "server_protocol"};

    /** Compared by shape: each a regex a value (or each element of a list) must match. */
    static final Map<String, String> SHAPES = Map.of(
            "time_local", "\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}",
            "time_iso8601", "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d",
            "request_time", "\\d+\\.\\d{3}",
            "request_id", "[0-9a-f]{32}");
    static final Set<String> TIME_LISTS = Set.of("upstream_response_time", "upstream_connect_time",
            "upstream_header_time");

    static String format() {
        StringBuilder sb = new StringBuilder();
        for (String f : FIELDS) {
            sb.append(sb.length() == 0 ? "" : "|").append('$').append(f);
        }
        return sb.toString();
    }

    /** The requests, as raw heads (bytes as ISO-8859-1 characters). */
    static final List<String[]> REQUESTS = List.of(
            new String[] {"GET /api/first?x=1 HTTP/1.1", "Host: h.example", "Referer: http://r.example/\"q\"",
                "User-Agent: a\"b\\c \u00e9 d", "X-Custom: one\ttwo", "Cookie: b=2; a=v1", "Connection: close"},
            new String[] {"GET /api/second HTTP/1.1", "Host: h.example", "User-Agent: test/1.0", "Connection: close"},
            new String[] {"GET /nothing/here HTTP/1.1", "Host: h.example", "Connection: close"});

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void linesMatchNginxFieldByField(ProxyEngine kind) throws Exception {
        for (LogFormat.Escape escape : new LogFormat.Escape[] {LogFormat.Escape.DEFAULT, LogFormat.Escape.JSON}) {
            compare(kind, escape);
        }
    }

    private void compare(ProxyEngine kind, LogFormat.Escape escape) throws Exception {
        int dead = AccessLogIT.deadPort();
        Path lbkitFile = dir.resolve("lbkit-" + escape + ".log");
        try (RecordingBackend backend = RecordingBackend.ok();
             NginxFixture nginx = NginxFixture.start("""
                     log_format diff %s'%s';
                     upstream u { server 127.0.0.1:%d; server 127.0.0.1:%d; }
                     server {
                         listen 127.0.0.1:{{port}};
                         access_log diff.log diff;
                         location /api/ { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; }
                         location / { return 404; }
                     }
                     """.formatted(escape == LogFormat.Escape.JSON ? "escape=json " : "", format(), dead, backend.port()));
             AccessLog log = AccessLog.builder().path(lbkitFile).format(format(), escape).build();
             ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().accessLog(log)
                     .route(Route.builder("api", Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", dead))
                             .endpoint(Endpoint.of("127.0.0.1", backend.port())).build()).pathPrefix("/api/").build())
                     .build())) {
            for (String[] head : REQUESTS) {
                int n = RawHttp.status(RawHttp.exchange(nginx.port(), head));
                int l = RawHttp.status(RawHttp.exchange(p.port(), head));
                assertEquals(n, l, "status of " + head[0]);
            }
            // in the order of the requests: the servlet engine may write a line a moment after its
            // client has the response, so the lines of requests that follow closely may swap
            List<String> lbkit = AccessLogIT.byRequest(AccessLogIT.lines(log, lbkitFile, REQUESTS.size()), 4);
            Path nginxFile = nginx.directory().resolve("diff.log");
            List<String> viaNginx = AccessLogIT.byRequest(awaitLines(nginxFile, REQUESTS.size()), 4);
            assertEquals(REQUESTS.size(), viaNginx.size(), viaNginx.toString());
            assertEquals(REQUESTS.size(), lbkit.size(), lbkit.toString());
            List<String> differences = new ArrayList<>();
            for (int i = 0; i < REQUESTS.size(); i++) {
                String[] n = viaNginx.get(i).split("\\|", -1);
                String[] l = lbkit.get(i).split("\\|", -1);
                assertEquals(FIELDS.length, n.length, viaNginx.get(i));
                assertEquals(FIELDS.length, l.length, lbkit.get(i));
                for (int f = 0; f < FIELDS.length; f++) {
                    String name = FIELDS[f];
                    String nv = n[f];
                    String lv = l[f];
                    boolean same;
                    if (SHAPES.containsKey(name)) {
                        same = nv.matches(SHAPES.get(name)) && lv.matches(SHAPES.get(name));
                    } else if (TIME_LISTS.contains(name)) {
                        same = timeShape(nv).equals(timeShape(lv));
                    } else if (name.equals("body_bytes_sent") && n[5].equals("404")) {
                        same = nv.matches("\\d+") && lv.matches("\\d+"); // each its own error page
                    } else {
                        same = nv.equals(lv);
                    }
                    if (!same) {
                        differences.add(escape + " " + REQUESTS.get(i)[0] + " $" + name + ": nginx [" + nv + "] lbkit ["
                                + lv + "]");
                    }
                }
            }
            assertEquals(List.of(), differences, "\nnginx:\n" + String.join("\n", viaNginx) + "\nlbkit:\n"
                    + String.join("\n", lbkit));
            assertTrue(lbkit.get(0).contains("127.0.0.1:" + dead + ", 127.0.0.1:" + backend.port()), lbkit.get(0));
        }
    }

    /** A list of upstream times with each number replaced by {@code T}: {@code "-, 0.001"} → {@code "-, T"}. */
    static String timeShape(String v) {
        return v.replaceAll("\\d+\\.\\d{3}", "T");
    }

    /** nginx writes its log line at the end of the request, possibly after the client has the response: a bounded wait. */
    private static List<String> awaitLines(Path file, int n) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.ISO_8859_1) : List.of();
            if (lines.size() >= n) {
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
        }
        return lines;
    }
}

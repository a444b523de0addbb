package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.proxy.ConnLimit;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import io.lbkit.testing.NginxFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code limit_conn} keyed by a request header, against a real nginx
 * ({@code limit_conn_zone $http_x_api_key; limit_conn k 2; limit_conn_status 429}): one scripted
 * sequence of requests held at a backend until the test opens its gate, of two keys, no key and
 * an empty key, then the same key once the held ones ended; each request's status is nginx's.
 */
class ConnLimitNginxIT {

    static LimitsIT.HeldBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = new LimitsIT.HeldBackend();
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
    }

    /** Sends {@code GET path} with {@code X-Api-Key: key} (none when null) on a new connection. */
    private static Socket send(int port, String path, String key) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (key == null ? "" : "X-Api-Key: " + key + "\r\n")
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return s;
    }

    /** The status of a response, reading its head. */
    private static int status(Socket s) throws IOException {
        byte[] line = s.getInputStream().readNBytes(12);
        return Integer.parseInt(new String(line, StandardCharsets.ISO_8859_1).substring(9, 12));
    }

    /** A request held at the backend (200 once its first body line came), or the status of its refusal. */
    private static int held(int port, String n, String key, List<Socket> open) throws IOException {
        Socket s = send(port, "/held?n=" + n, key);
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (true) {
            String text = got.toString(StandardCharsets.ISO_8859_1);
            if (text.contains("n=" + n + "\n")) {
                open.add(s);
                return Integer.parseInt(text.substring(9, 12));
            }
            int b = in.read();
            if (b < 0) {
                s.close();
                return Integer.parseInt(text.substring(9, 12)); // refused: the whole answer came
            }
            got.write(b);
        }
    }

    private static int quick(int port, String key) throws IOException {
        try (Socket s = send(port, "/id-free", key)) {
            return status(s);
        }
    }

    /** The script, against a proxy on {@code port}. */
    private static List<Integer> script(int port) throws Exception {
        CountDownLatch gate = backend.newGate();
        List<Socket> open = new ArrayList<>();
        List<Integer> out = new ArrayList<>();
        try {
            out.add(held(port, "a1", "a", open));
            out.add(held(port, "a2", "a", open));
            out.add(held(port, "a3", "a", open)); // the third of key a at once: refused
            out.add(quick(port, "a"));
            out.add(held(port, "b1", "b", open)); // another key
            out.add(quick(port, null));           // no key: not limited
            out.add(quick(port, ""));             // an empty key: not limited
        } finally {
            gate.countDown();
            for (Socket s : open) {
                try (s) {
                    s.getInputStream().transferTo(OutputStream.nullOutputStream());
                }
            }
        }
        // the held ones ended: their slots are free (nginx frees them with the request)
        out.add(quick(port, "a"));
        out.add(quick(port, "a"));
        return out;
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theSameStatusesAsNginx(ProxyEngine kind) throws Exception {
        List<Integer> expected;
        try (NginxFixture nginx = NginxFixture.start("""
                limit_conn_zone $http_x_api_key zone=k:1m;
                limit_conn_status 429;
                server {
                    listen 127.0.0.1:{{port}};
                    location / { limit_conn k 2; proxy_buffering off; proxy_pass http://127.0.0.1:%d; }
                }
                """.formatted(backend.port()))) {
            expected = script(nginx.port());
        }
        assertEquals(List.of(200, 200, 429, 429, 200, 200, 200, 200, 200), expected, "nginx's own statuses");
        ConcurrencyLimiter k = ConcurrencyLimiter.builder().maxConcurrent(2).rejectStatus(429).build();
        Upstream up = Upstream.builder("held").endpoint(ProxyFixture.endpoint("held", backend.port())).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder()
                .route(Route.builder("k", up).connLimit(ConnLimit.of(k, RequestValue.header("X-Api-Key"))).build())
                .build())) {
            List<Integer> lbkit = script(p.port());
            assertEquals(expected, lbkit);
            LimitsIT.await(() -> k.trackedKeys() == 0, "every slot back");
        }
    }
}

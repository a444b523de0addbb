package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.config.ConfigLoader;
import io.lbkit.testing.RedisServers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two {@code serve} proxies, one on each engine (event loop and servlet), with one route whose
 * {@code limit_req} keeps its bucket in a real Redis ({@code zone: { store: redis://... }}): a
 * scripted burst spread over both gets, request by request, the statuses one limiter gets for
 * the same script; with Redis killed each proxy decides alone (fail open, one log line per proxy);
 * once Redis is back the shared bucket decides again, with what it had counted.
 *
 * <p>The limit is {@code 1r/m burst=4 nodelay}: one request drains in 62.5 s, so on any machine
 * the few seconds this test takes leave every decision as on a frozen clock (the local limiter
 * it is compared with runs on one).
 */
class SharedRateLimitServeIT {

    private static final String DOWN = "Redis did not answer";
    private static final String BACK = "Redis answers again";

    private HttpServer backend;
    private RedisServers.ProcessServer redis;
    private ProxyServer a;
    private ProxyServer b;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        backend.createContext("/", x -> {
            byte[] body = "ok\n".getBytes(StandardCharsets.US_ASCII);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        backend.start();
        redis = RedisServers.process();
    }

    @AfterEach
    void stop() {
        for (ProxyServer p : new ProxyServer[] {a, b}) {
            if (p != null) {
                p.close();
            }
        }
        backend.stop(0);
        redis.close();
    }

    private ProxyServer serve(String engine) throws Exception {
        return ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: %s
                listen: ["127.0.0.1:0"]
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                routes:
                  - upstream: app
                    rateLimits:
                      - { rate: 1r/m, burst: 4, nodelay: true, key: "header:X-Api-Key", status: 429,
                          zone: { name: shared-it, store: "redis://127.0.0.1:%d" } }
                """.formatted(engine, backend.getAddress().getPort(), redis.port())));
    }

    private static RateLimiter oneLimiter() {
        return RateLimiter.builder().rate("1r/m").burst(4).noDelay().rejectStatus(429).ticker(() -> 0L).build();
    }

    private int send(ProxyServer p, String key) throws Exception {
        URI u = URI.create("http://127.0.0.1:" + p.uris().get(0).getPort() + "/");
        return client.send(HttpRequest.newBuilder(u).header("X-Api-Key", key).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static int status(RateLimiter l, String key) {
        return l.tryAcquire(key).isRejected() ? 429 : 200;
    }

    @Test
    void twoProxiesAdmitWhatOneLimiterAdmitsAndFailOpenWhileRedisIsDown() throws Exception {
        a = serve("event-loop");
        b = serve("servlet");

        // a burst over both proxies and two keys: the pair's statuses are one limiter's
        RateLimiter one = oneLimiter();
        List<Integer> pair = new ArrayList<>();
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            String key = i % 3 == 2 ? "k2" : "k1";
            pair.add(send(i % 2 == 0 ? a : b, key));
            expected.add(status(one, key));
        }
        assertEquals(expected, pair);
        assertEquals(5 + 4, pair.stream().filter(s -> s == 200).count(), "5 for k1, 4 of k2's 5 sent");

        try (CapturedStderr err = new CapturedStderr()) {
            // Redis dies: each proxy's own bucket decides (fail open), so the pair admits twice the limit
            redis.kill();
            RateLimiter ownA = oneLimiter();
            RateLimiter ownB = oneLimiter();
            List<Integer> open = new ArrayList<>();
            List<Integer> expectedOpen = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                boolean toA = i % 2 == 0;
                open.add(send(toA ? a : b, "k3"));
                expectedOpen.add(status(toA ? ownA : ownB, "k3"));
            }
            assertEquals(expectedOpen, open);
            assertEquals(10, open.stream().filter(s -> s == 200).count());
            assertEquals(2, err.linesWith(DOWN).size(), "one line per proxy for the outage: " + err.text());

            // Redis is back (its data kept, as a restarted Redis with persistence): the shared bucket decides again
            redis.start();
            int probe = 0;
            while (err.linesWith(BACK).size() < 2 && probe < 400) {
                send(probe % 2 == 0 ? a : b, "probe-" + probe++);
                if (err.linesWith(BACK).size() < 2) {
                    Thread.sleep(25); // Redisson reconnects on its own schedule
                }
            }
            assertEquals(2, err.linesWith(BACK).size(), "one line per proxy when Redis answers again");
            assertEquals(2, err.linesWith(DOWN).size(), "no second outage line: " + err.text());
        }
        // k1's bucket in Redis is still full: refused by both, though neither proxy's own bucket has seen k1
        assertEquals(429, send(a, "k1"));
        assertEquals(429, send(b, "k1"));
        // a key new to Redis: the shared limit again, 5 over the pair
        List<Integer> after = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            after.add(send(i % 2 == 0 ? a : b, "k5"));
        }
        assertEquals(List.of(200, 200, 200, 200, 200, 429, 429), after);
    }
}

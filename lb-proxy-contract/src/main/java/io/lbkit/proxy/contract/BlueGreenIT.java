package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCookie;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Blue/green on every engine: {@link Route#switchUpstream} while clients keep sending (bounded
 * loops on loopback, keep-alive connections): no request fails, every request that starts after
 * the switch returned goes to the new upstream, and switching back works the same way.
 */
class BlueGreenIT {

    static TestBackend blue;
    static TestBackend green;
    static TestBackend green2;

    @BeforeAll
    static void start() throws Exception {
        blue = new TestBackend("blue");
        green = new TestBackend("green");
        green2 = new TestBackend("green2");
    }

    @AfterAll
    static void stop() throws Exception {
        blue.close();
        green.close();
        green2.close();
    }

    private static String cookie(HttpResponse<?> r) {
        String sc = r.headers().firstValue("Set-Cookie").orElseThrow();
        return sc.substring(sc.indexOf('=') + 1, sc.indexOf(';'));
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aStickyRouteBindsAnewInTheNewUpstream(ProxyEngine kind) throws Exception {
        Upstream blueUp = Upstream.builder("blue").endpoint(ProxyFixture.endpoint(blue)).build();
        Upstream greenUp = Upstream.builder("green").endpoint(ProxyFixture.endpoint(green))
                .endpoint(ProxyFixture.endpoint(green2)).build();
        Route route = Route.builder("app", blueUp)
                .sticky(StickyCookie.builder("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII))
                        .build()).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            HttpResponse<String> first = p.get("/id");
            assertEquals("blue", first.body());
            String blueCookie = cookie(first);
            route.switchUpstream(greenUp);
            HttpResponse<String> moved = p.send(p.request("/id").header("Cookie", "srv_id=" + blueCookie).build());
            assertTrue(moved.body().startsWith("green"), "a cookie for blue does not hold the client there: "
                    + moved.body());
            String greenCookie = cookie(moved);
            assertTrue(!greenCookie.equals(blueCookie), "a new cookie names the green endpoint");
            for (int i = 0; i < 6; i++) {
                assertEquals(moved.body(), p.send(p.request("/id").header("Cookie", "srv_id=" + greenCookie).build())
                        .body(), "bound to its green endpoint");
            }
        }
    }

    /** What the clients saw: each answer's status and body, split by whether it started after the switch. */
    private static final class Load {
        final Map<String, AtomicInteger> before = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> after = new ConcurrentHashMap<>();
        final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger afterCount = new AtomicInteger();
        final CountDownLatch warm = new CountDownLatch(100);
        volatile boolean switched;

        void run(ProxyFixture p, int maxRequests, int afterSwitch) {
            for (int i = 0; i < maxRequests && afterCount.get() < afterSwitch; i++) {
                boolean startedAfter = switched;
                try {
                    HttpResponse<String> r = p.get("/id");
                    if (r.statusCode() != 200) {
                        failures.add(r.statusCode() + " " + r.body());
                    } else {
                        (startedAfter ? after : before).computeIfAbsent(r.body(), k -> new AtomicInteger())
                                .incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.add(e.toString());
                }
                if (startedAfter) {
                    afterCount.incrementAndGet();
                }
                warm.countDown();
            }
        }

        int after(String who) {
            AtomicInteger n = after.get(who);
            return n == null ? 0 : n.get();
        }

        int before(String who) {
            AtomicInteger n = before.get(who);
            return n == null ? 0 : n.get();
        }
    }

    private static Load switchUnderLoad(ProxyFixture p, Route route, Upstream to) throws Exception {
        Load load = new Load();
        ExecutorService clients = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                running.add(clients.submit(() -> load.run(p, 5000, 300)));
            }
            assertTrue(load.warm.await(60, TimeUnit.SECONDS), "the clients are sending");
            route.switchUpstream(to);
            load.switched = true;
            for (Future<?> f : running) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        return load;
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aSwitchUnderLoadDropsNothingAndMovesEveryNewRequest(ProxyEngine kind) throws Exception {
        Upstream blueUp = Upstream.builder("blue").endpoint(ProxyFixture.endpoint(blue)).build();
        Upstream greenUp = Upstream.builder("green").endpoint(ProxyFixture.endpoint(green)).build();
        Route route = Route.builder("app", blueUp).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            Load toGreen = switchUnderLoad(p, route, greenUp);
            assertEquals(List.of(), toGreen.failures, "no request failed");
            assertTrue(toGreen.before("blue") >= 100, "blue served before the switch: " + toGreen.before);
            assertEquals(0, toGreen.after("blue"), "nothing started after the switch reached blue: " + toGreen.after);
            assertTrue(toGreen.after("green") >= 300, toGreen.after.toString());
            assertSame(greenUp, route.upstream());

            Load back = switchUnderLoad(p, route, blueUp);
            assertEquals(List.of(), back.failures, "no request failed switching back");
            assertEquals(0, back.after("green"), back.after.toString());
            assertTrue(back.after("blue") >= 300, back.after.toString());
        }
    }
}

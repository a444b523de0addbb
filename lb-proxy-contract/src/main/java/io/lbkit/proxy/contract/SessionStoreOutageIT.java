package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.proxy.contract.SessionBackend.Echo;
import io.lbkit.session.redis.RedisSessionStore;
import io.lbkit.testing.RedisServers;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Redis stopped and started under load, on every engine, with the Redis store on its asynchronous
 * API (no executor): while Redis is down, a request with a session cookie gets a prompt 503 with
 * {@code Retry-After: 1} and reaches no backend, a request without one is served; once Redis is
 * back, sessions work again without restarting the proxy. Loopback only; the load is a bounded
 * loop on a few client threads.
 */
class SessionStoreOutageIT {

    /** Requests per client thread at most: the load ends by itself even if a phase never comes. */
    private static final int MAX_REQUESTS_PER_THREAD = 3000;
    private static final int THREADS = 4;
    /** How many answers of a kind a phase waits for. */
    private static final int ENOUGH = 20;

    static SessionBackend backend;

    @BeforeAll
    static void startBackend() throws Exception {
        backend = new SessionBackend();
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    enum Phase { UP, DOWN, RESTARTING, BACK }

    /** One request's outcome, with the phase it started and ended in. */
    record Outcome(Phase started, Phase ended, boolean withSession, int status, String retryAfter,
                   String sessionSeen, Throwable failure) {
        boolean within(Phase p) {
            return started == p && ended == p;
        }
    }

    /** Collects outcomes; a test thread waits on it for a condition instead of sleeping. */
    static final class Recorder {
        private final List<Outcome> all = new ArrayList<>();
        private volatile Phase phase = Phase.UP;
        private volatile boolean stop;

        synchronized void add(Outcome o) {
            all.add(o);
            notifyAll();
        }

        synchronized long count(Predicate<Outcome> p) {
            return all.stream().filter(p).count();
        }

        synchronized List<Outcome> snapshot() {
            return List.copyOf(all);
        }

        /** Waits until at least {@code n} outcomes match, or the timeout passes; the count reached. */
        synchronized long await(Predicate<Outcome> p, long n, long timeoutMillis) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            long c;
            while ((c = all.stream().filter(p).count()) < n) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                wait(left);
            }
            return c;
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void redisStoppedAndStartedUnderLoad(ProxyEngine kind) throws Exception {
        try (RedisServers.ProcessServer redis = RedisServers.process();
             RedisSessionStore store = RedisSessionStore.builder().uri(redis.url()).nearCache(false)
                     .commandTimeout(Duration.ofMillis(500)).connectTimeout(Duration.ofMillis(500))
                     .retryAttempts(1).retryDelay(Duration.ofMillis(100)).build();
             ProxyFixture proxy = new ProxyFixture(kind, ProxyConfig.builder()
                     .route(Route.builder("all", Upstream.builder("b")
                             .endpoint(ProxyFixture.endpoint("s1", backend.port())).build()).build())
                     .sessionForwarding(SessionForwarding.builder(store).build()).build())) {
            // a session, created through the proxy
            HttpResponse<String> created = proxy.get("/app?set=" + URLEncoder.encode("{\"user\":\"ann\"}",
                    StandardCharsets.UTF_8));
            assertEquals(200, created.statusCode(), created.body());
            String setCookie = created.headers().allValues("set-cookie").stream()
                    .filter(c -> c.startsWith("LBSESSION=")).findFirst().orElse(null);
            assertNotNull(setCookie, created.headers().map().toString());
            String id = setCookie.substring("LBSESSION=".length(), setCookie.indexOf(';'));

            Recorder rec = new Recorder();
            List<Thread> load = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Thread th = new Thread(() -> run(proxy, id, rec), "load-" + t);
                th.setDaemon(true);
                th.start();
                load.add(th);
            }
            try {
                assertTrue(rec.await(o -> o.within(Phase.UP) && o.withSession() && o.status() == 200, ENOUGH, 60_000)
                        >= ENOUGH, "sessions served before the outage");

                redis.kill();
                rec.phase = Phase.DOWN;
                rec.await(o -> o.within(Phase.DOWN) && o.withSession(), ENOUGH, 60_000);
                rec.await(o -> o.within(Phase.DOWN) && !o.withSession(), ENOUGH, 60_000);

                rec.phase = Phase.RESTARTING;
                redis.start();
                rec.phase = Phase.BACK;
                assertTrue(rec.await(o -> o.within(Phase.BACK) && o.withSession() && o.status() == 200, ENOUGH, 60_000)
                        >= ENOUGH, "sessions work again after Redis is back: " + summary(rec));
            } finally {
                rec.stop = true;
                for (Thread th : load) {
                    th.join(60_000);
                }
            }
            assertFalse(load.stream().anyMatch(Thread::isAlive), "the load ended");

            List<Outcome> all = rec.snapshot();
            String summary = summary(rec);
            // nothing ever hung, broke or was answered by anything but the backend or the 503
            for (Outcome o : all) {
                assertTrue(o.failure() == null, "a request failed: " + o + " " + summary);
                if (!o.withSession()) {
                    assertEquals(200, o.status(), "a request without a session: " + o + " " + summary);
                } else if (o.status() == 200) {
                    assertEquals(id, o.sessionSeen(), "a served session request carried its session: " + o);
                } else {
                    assertEquals(503, o.status(), "a session request: " + o + " " + summary);
                    assertEquals("1", o.retryAfter(), "503 with Retry-After: " + o);
                }
            }
            long downWith = rec.count(o -> o.within(Phase.DOWN) && o.withSession());
            long downWithout = rec.count(o -> o.within(Phase.DOWN) && !o.withSession());
            assertTrue(downWith >= ENOUGH && downWithout >= ENOUGH, "enough requests while Redis was down: " + summary);
            assertEquals(downWith, rec.count(o -> o.within(Phase.DOWN) && o.withSession() && o.status() == 503),
                    "every session request while Redis was down got the 503: " + summary);
            assertEquals(downWithout, rec.count(o -> o.within(Phase.DOWN) && !o.withSession() && o.status() == 200),
                    "every request without a session was served while Redis was down: " + summary);

            // the session survived (AOF), and new sessions are created again
            HttpResponse<String> after = proxy.send(proxy.request("/app?set=" + URLEncoder.encode("{\"n\":1}",
                    StandardCharsets.UTF_8)).header("Cookie", "LBSESSION=" + id).GET().build());
            assertEquals(200, after.statusCode(), after.body());
            assertEquals("{\"user\":\"ann\"}", new Echo(after.body()).one("x-session-data"));
            assertEquals(1, store.load(id).orElseThrow().attribute("n").intValue());
            HttpResponse<String> fresh = proxy.get("/app?set=" + URLEncoder.encode("{\"k\":2}", StandardCharsets.UTF_8));
            assertTrue(fresh.headers().allValues("set-cookie").stream().anyMatch(c -> c.startsWith("LBSESSION=")),
                    fresh.headers().map().toString());
        }
    }

    /** One client thread: alternately with and without the session cookie, until told to stop or its bound. */
    private static void run(ProxyFixture proxy, String id, Recorder rec) {
        for (int i = 0; i < MAX_REQUESTS_PER_THREAD && !rec.stop; i++) {
            boolean withSession = (i & 1) == 0;
            Phase started = rec.phase;
            var b = proxy.request("/app").timeout(Duration.ofSeconds(20)).GET();
            if (withSession) {
                b.header("Cookie", "LBSESSION=" + id);
            }
            try {
                HttpResponse<String> r = proxy.send(b.build());
                String seen = r.statusCode() == 200 ? new Echo(r.body()).one("x-session-id") : null;
                rec.add(new Outcome(started, rec.phase, withSession, r.statusCode(),
                        r.headers().firstValue("Retry-After").orElse(null), seen, null));
            } catch (Exception e) {
                rec.add(new Outcome(started, rec.phase, withSession, 0, null, null, e));
            }
        }
    }

    private static String summary(Recorder rec) {
        StringBuilder sb = new StringBuilder("[");
        for (Phase p : Phase.values()) {
            sb.append(p).append(": with session ")
                    .append(rec.count(o -> o.within(p) && o.withSession() && o.status() == 200)).append("x200 ")
                    .append(rec.count(o -> o.within(p) && o.withSession() && o.status() == 503)).append("x503, without ")
                    .append(rec.count(o -> o.within(p) && !o.withSession() && o.status() == 200)).append("x200; ");
        }
        return sb.append(rec.count(o -> o.failure() != null || (o.status() != 200 && o.status() != 503)))
                .append(" other]").toString();
    }
}

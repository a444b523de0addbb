package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.SlowStart;
import io.lbkit.core.Upstream;
import io.lbkit.core.retry.RetryPolicy;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three real Jetty 12 backends on loopback behind an Upstream, a steady bounded client load that
 * retries per lb-core's RetryPolicy, and a rolling deployment that stops and restarts each backend
 * in turn. The deployment's readiness deadline runs on a {@link TestTicker} that moves one second
 * per failed probe, so it counts failures of a stopped backend, never the machine's speed; the
 * HTTP timeouts are long enough for a loaded machine.
 */
class RollingDeploymentIT {

    /** A backend answering its name and version; can be stopped and started again on the same port. */
    static final class Backend {
        final String name;
        volatile String version = "v1";
        int port;
        Server server;

        Backend(String name) throws Exception {
            this.name = name;
            start(0);
        }

        void start(int p) throws Exception {
            Server s = new Server();
            ServerConnector c = new ServerConnector(s);
            c.setHost("127.0.0.1");
            c.setPort(p);
            c.setReuseAddress(true);
            s.addConnector(c);
            String body = name + "-" + version;
            s.setHandler(new Handler.Abstract() {
                @Override
                public boolean handle(Request request, Response response, Callback callback) {
                    response.setStatus(200);
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                    Content.Sink.write(response, true, body, callback);
                    return true;
                }
            });
            s.start();
            port = c.getLocalPort();
            server = s;
        }

        void stop() throws Exception {
            server.stop();
        }
    }

    private final List<Backend> backends = new ArrayList<>();
    private Upstream upstream;
    private HealthMonitor monitor;
    private HttpClient client;
    private HttpClient probeClient;

    @BeforeEach
    void setUp() throws Exception {
        Upstream.Builder b = Upstream.builder("deploy").slowStart(SlowStart.of(Duration.ofSeconds(1)));
        for (String n : List.of("a", "b", "c")) {
            Backend be = new Backend(n);
            backends.add(be);
            b.endpoint(Endpoint.builder(n).host("127.0.0.1").port(be.port).build());
        }
        upstream = b.build();
        monitor = HealthMonitor.builder(upstream).build().start();
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        probeClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterEach
    void tearDown() throws Exception {
        monitor.close();
        for (Backend be : backends) {
            be.stop();
        }
    }

    /** A real HTTP readiness probe. */
    private boolean ready(Endpoint e) {
        try {
            HttpResponse<Void> r = probeClient.send(HttpRequest.newBuilder(
                            URI.create("http://" + e.host() + ":" + e.port() + "/health")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException ex) {
            return false;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@link #ready} that moves {@code clock} one second each time it fails. */
    private java.util.function.Predicate<Endpoint> readyOn(TestTicker clock) {
        return e -> {
            boolean ok = ready(e);
            if (!ok) {
                clock.advance(Duration.ofSeconds(1));
            }
            return ok;
        };
    }

    /** The client load: counts successes per body, failures, retries. */
    final class Load {
        final Map<String, LongAdder> servedAfter = new ConcurrentHashMap<>();
        final LongAdder ok = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder retries = new LongAdder();
        final AtomicLong afterDone = new AtomicLong();
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicInteger lastFailureStatus = new AtomicInteger();
        final List<Thread> threads = new ArrayList<>();
        final int afterRequests;
        final List<String> mustServeAfter;

        Load(int afterRequests, List<String> mustServeAfter) {
            this.afterRequests = afterRequests;
            this.mustServeAfter = mustServeAfter;
        }

        void start(int n) {
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(this::loop, "load-" + i);
                threads.add(t);
                t.start();
            }
        }

        boolean finished() {
            if (!done.get()) {
                return false;
            }
            if (afterDone.get() < afterRequests) {
                return false;
            }
            for (String b : mustServeAfter) {
                LongAdder a = servedAfter.get(b);
                if (a == null || a.sum() == 0) {
                    return afterDone.get() > 50_000; // bounded: the assertion below reports it
                }
            }
            return true;
        }

        void loop() {
            PickRequest pr = PickRequest.create();
            RetryPolicy policy = RetryPolicy.defaults();
            long hardStop = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (!finished() && System.nanoTime() < hardStop) {
                boolean after = done.get();
                pr.reset();
                RetryPolicy.Attempts at = policy.start("GET", System.nanoTime(), upstream.defaultTries());
                String body = null;
                while (true) {
                    Selection s = upstream.pick(pr);
                    if (!s.found()) {
                        lastFailureStatus.set(at.noEndpoint());
                        break;
                    }
                    Endpoint e = s.endpoint();
                    long t0 = System.nanoTime();
                    Outcome outcome;
                    int status = 0;
                    boolean sent = true;
                    String text = null;
                    try {
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                                        URI.create("http://" + e.host() + ":" + e.port() + "/"))
                                .timeout(Duration.ofSeconds(30)).build(),
                                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                        outcome = Outcome.RESPONSE;
                        status = r.statusCode();
                        text = r.body();
                    } catch (ConnectException ex) {
                        outcome = Outcome.CONNECT_FAILURE;
                        sent = false;
                    } catch (HttpTimeoutException ex) {
                        outcome = Outcome.TIMEOUT;
                    } catch (IOException ex) {
                        outcome = Outcome.RESET;
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                        s.complete(Outcome.CANCELLED, 0, 0);
                        return;
                    }
                    s.complete(outcome, status, System.nanoTime() - t0);
                    pr.markTried(s);
                    RetryPolicy.Decision d = at.next(outcome, status, sent, false, System.nanoTime());
                    if (d == RetryPolicy.Decision.RETRY) {
                        retries.increment();
                        continue;
                    }
                    if (outcome == Outcome.RESPONSE && status == 200) {
                        body = text;
                    } else {
                        lastFailureStatus.set(at.statusOnGiveUp());
                    }
                    break;
                }
                if (body == null) {
                    failed.increment();
                } else {
                    ok.increment();
                    if (after) {
                        afterDone.incrementAndGet();
                        servedAfter.computeIfAbsent(body, k -> new LongAdder()).increment();
                    }
                }
            }
        }

        /** Waits (60 s at most) until the load has had 100 successes: it runs before the deployment starts. */
        void awaitRunning() throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (ok.sum() < 100) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("the load had " + ok.sum() + " successes, " + failed.sum() + " failures in 60 s");
                }
                Thread.sleep(5);
            }
        }

        void finish() throws InterruptedException {
            done.set(true);
            for (Thread t : threads) {
                t.join(120_000);
            }
        }
    }

    private Backend backend(String id) {
        for (Backend b : backends) {
            if (b.name.equals(id)) {
                return b;
            }
        }
        throw new IllegalArgumentException(id);
    }

    private static List<String> phases(RollingDeployment.Report r) {
        List<String> out = new ArrayList<>();
        for (RollingDeployment.Step s : r.steps()) {
            out.add(s.endpointId() + ":" + s.phase() + ":" + s.result());
        }
        return out;
    }

    @Test
    void everyBackendIsRestartedInTurnWithZeroFailedRequests() throws Exception {
        Load load = new Load(300, List.of("a-v2", "b-v2", "c-v2"));
        load.start(3);
        load.awaitRunning();
        List<RollingDeployment.Step> live = new ArrayList<>();
        TestTicker clock = new TestTicker();
        RollingDeployment deployment = RollingDeployment.builder(monitor).ticker(clock)
                .drainTimeout(Duration.ofSeconds(60)).readyTimeout(Duration.ofSeconds(20)).requiredPasses(2)
                .readinessProbe(readyOn(clock)).probeInterval(Duration.ofMillis(50)).listener(live::add).build();
        RollingDeployment.Report report = deployment.run(current -> {
            Backend be = backend(current.id());
            be.stop();
            be.version = "v2";
            be.start(be.port);
            return current.toBuilder().metadata(Map.of("version", "v2")).build();
        });
        load.finish();

        assertTrue(report.completed(), report.reason());
        assertNull(report.abortedAt());
        List<String> expected = new ArrayList<>();
        for (String id : List.of("a", "b", "c")) {
            for (RollingDeployment.Phase p : RollingDeployment.Phase.values()) {
                expected.add(id + ":" + p + ":OK");
            }
        }
        assertEquals(expected, phases(report));
        assertEquals(report.steps(), live, "the listener saw every step as it ended");
        assertEquals(0, load.failed.sum(), "failed requests (last status " + load.lastFailureStatus.get()
                + ", ok " + load.ok.sum() + ", retries " + load.retries.sum() + ")");
        for (String v2 : List.of("a-v2", "b-v2", "c-v2")) {
            LongAdder n = load.servedAfter.get(v2);
            assertTrue(n != null && n.sum() > 0, v2 + " served after the deployment: " + load.servedAfter);
        }
        assertFalse(load.servedAfter.keySet().stream().anyMatch(k -> k.endsWith("-v1")), "old versions are gone");
        for (String id : List.of("a", "b", "c")) {
            assertEquals(EndpointHealthState.UP, monitor.state(id).orElseThrow());
            assertEquals("v2", upstream.endpoint(id).orElseThrow().metadata().get("version"));
        }
    }

    @Test
    void aBackendThatNeverComesBackAbortsAndThePoolKeepsServing() throws Exception {
        Load load = new Load(300, List.of("a-v2", "c-v1"));
        load.start(3);
        load.awaitRunning();
        TestTicker clock = new TestTicker(); // b's two failed probes end its 2 s; a started backend never fails one
        RollingDeployment deployment = RollingDeployment.builder(monitor).ticker(clock)
                .drainTimeout(Duration.ofSeconds(60)).readyTimeout(Duration.ofSeconds(2)).requiredPasses(2)
                .readinessProbe(readyOn(clock)).probeInterval(Duration.ofMillis(50)).build();
        RollingDeployment.Report report = deployment.run(current -> {
            Backend be = backend(current.id());
            be.stop();
            if (!current.id().equals("b")) { // b's new version never starts
                be.version = "v2";
                be.start(be.port);
            }
            return null;
        });
        load.finish();

        assertFalse(report.completed());
        assertEquals("b", report.abortedAt());
        assertTrue(report.reason().startsWith("not healthy within PT2S"), report.reason());
        assertEquals(List.of("a:DRAIN:OK", "a:WAIT_IDLE:OK", "a:UPDATE:OK", "a:WAIT_HEALTHY:OK", "a:READMIT:OK",
                "b:DRAIN:OK", "b:WAIT_IDLE:OK", "b:UPDATE:OK", "b:WAIT_HEALTHY:TIMED_OUT"), phases(report));
        assertEquals(0, load.failed.sum(), "failed requests (last status " + load.lastFailureStatus.get() + ")");
        assertEquals(EndpointHealthState.UP, monitor.state("a").orElseThrow());
        assertEquals(EndpointHealthState.DOWN, monitor.state("b").orElseThrow(), "the failed endpoint stays out");
        assertEquals(EndpointHealthState.UP, monitor.state("c").orElseThrow(), "nothing else was drained");
        assertTrue(load.servedAfter.get("a-v2").sum() > 0);
        assertTrue(load.servedAfter.get("c-v1").sum() > 0);
        assertFalse(load.servedAfter.containsKey("b-v1"));
    }
}

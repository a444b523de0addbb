package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.health.HealthMonitor;
import io.lbkit.health.RollingDeployment;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A rolling deployment under steady load, through the proxy: lb-health's {@link RollingDeployment}
 * drains each endpoint, waits until nothing is in flight on it, replaces its backend by a new one on
 * another port (the same endpoint id), waits until the new one answers, and readmits it, one
 * endpoint after the other. No request of the load fails.
 */
class ProxyDeploymentIT {

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aRollingDeploymentUnderLoadFailsNoRequest(ProxyEngine kind) throws Exception {
        Map<String, TestBackend> live = new ConcurrentHashMap<>();
        Upstream.Builder ub = Upstream.builder("u");
        for (String id : List.of("a", "b", "c")) {
            TestBackend b = new TestBackend(id);
            live.put(id, b);
            ub.endpoint(ProxyFixture.endpoint(b));
        }
        Upstream up = ub.build();
        HttpClient probes = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HealthMonitor monitor = HealthMonitor.builder(up).build().start();
        ExecutorService load = Executors.newFixedThreadPool(4);
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(Route.builder("all", up).build()).build())) {
            AtomicBoolean deployed = new AtomicBoolean();
            AtomicInteger ok = new AtomicInteger();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            Map<String, AtomicInteger> servedAfter = new ConcurrentHashMap<>();
            List<Future<?>> clients = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                clients.add(load.submit(() -> {
                    // until the deployment is over and 50 more requests were served (bounded either way)
                    int after = 0;
                    for (int i = 0; i < 20_000 && after < 50; i++) {
                        boolean done = deployed.get();
                        try {
                            HttpResponse<String> r = p.get("/id");
                            String by = r.headers().firstValue("X-Served-By").orElse("");
                            if (r.statusCode() == 200 && r.body().equals(by)) {
                                ok.incrementAndGet();
                                if (done) {
                                    servedAfter.computeIfAbsent(by, k -> new AtomicInteger()).incrementAndGet();
                                }
                            } else {
                                failures.add(r.statusCode() + " " + r.body());
                            }
                        } catch (IOException e) {
                            failures.add(e.toString());
                        }
                        if (done) {
                            after++;
                        }
                    }
                    return null;
                }));
            }
            while (ok.get() < 100) { // the load is running before the first endpoint is drained
                Thread.sleep(5);
            }
            RollingDeployment.Report report = RollingDeployment.builder(monitor)
                    .drainTimeout(Duration.ofSeconds(20)).readyTimeout(Duration.ofSeconds(30))
                    .requiredPasses(2).probeInterval(Duration.ofMillis(20))
                    .readinessProbe(e -> answers(probes, e))
                    .build()
                    .run(current -> {
                        TestBackend next = new TestBackend(current.id()); // the new version, on another port
                        live.put(current.id(), next).close();             // the old one stops (drained: idle)
                        return current.toBuilder().port(next.port()).build();
                    });
            deployed.set(true);
            for (Future<?> f : clients) {
                f.get(120, TimeUnit.SECONDS);
            }
            assertTrue(report.completed(), report.toString());
            assertEquals(List.of(), failures, "failed requests during the deployment (" + ok.get() + " served)");
            for (String id : List.of("a", "b", "c")) {
                assertEquals(live.get(id).port(), up.endpoint(id).orElseThrow().port(), "endpoint " + id + " moved");
            }
            assertEquals(java.util.Set.of("a", "b", "c"), servedAfter.keySet(),
                    "after the deployment every new backend serves: " + servedAfter);
        } finally {
            load.shutdownNow();
            monitor.close();
            for (TestBackend b : live.values()) {
                b.close();
            }
        }
    }

    private static boolean answers(HttpClient client, Endpoint e) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://" + e.host() + ":" + e.port()
                    + "/id")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().equals(e.id());
        } catch (IOException ex) {
            return false;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

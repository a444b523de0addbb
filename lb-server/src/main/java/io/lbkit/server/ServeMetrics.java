package io.lbkit.server;

import io.lbkit.core.Upstream;
import io.lbkit.health.EndpointHealth;
import io.lbkit.health.HealthMonitor;
import io.lbkit.proxy.ProxyMeters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code serve}'s meters, in Prometheus's text format at the admin listener's {@code /metrics}:
 * per upstream endpoint the attempts, responses by class, failures and response time the admin
 * API's counters keep ({@link PeerCounters}), its in-flight requests, weight and state; the
 * proxy's own meters ({@link ProxyMeters}: requests by route, upstream timings, retries, limit
 * rejections, bytes, client connections, health transitions); the session store's calls
 * ({@code MeteredSessionStore}); the JVM's memory, GC, threads and CPU.
 *
 * <p>Only the proxy meters run per request (the engines record each exchange in them); the
 * endpoint meters read counters the proxy keeps anyway.
 * Endpoints come and go (admin API, reload), so the endpoint meters are matched to the upstreams'
 * current members at each scrape: new endpoints get meters, removed ones lose theirs.
 */
final class ServeMetrics implements AutoCloseable {

    /** The peer states of the status JSON, each a 0/1 gauge {@code lbkit_upstream_peer_state{state=...}}. */
    private static final String[] STATES = {"up", "draining", "down", "unavail", "checking", "unhealthy"};
    private static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    /** The proxy's per-request meters, health transitions and client connections (lb-proxy's). */
    private final ProxyMeters proxyMeters = ProxyMeters.of(registry);
    private final ProxyServer proxy;
    /** The members' statuses as of the last scrape, by upstream and endpoint id: what the gauges read. */
    private volatile Map<String, Map<String, Upstream.EndpointStatus>> current = Map.of();
    private volatile Map<String, Map<String, EndpointHealth>> health = Map.of();
    private final Map<String, List<Meter>> endpointMeters = new HashMap<>(); // "upstream\0id" -> its meters

    ServeMetrics(ProxyServer proxy) {
        this.proxy = proxy;
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The proxy's meters: the engines record each exchange in them (with {@code admin.proxyMetrics}). */
    ProxyMeters proxyMeters() {
        return proxyMeters;
    }

    /** The text Prometheus scrapes (text format 0.0.4), the endpoint meters matched to the members first. */
    synchronized String scrape() {
        sync();
        return registry.scrape();
    }

    private void sync() {
        Map<String, Map<String, Upstream.EndpointStatus>> now = new HashMap<>();
        Map<String, Map<String, EndpointHealth>> healthNow = new HashMap<>();
        Set<String> present = new HashSet<>();
        for (Map.Entry<String, Upstream> e : proxy.upstreams().entrySet()) {
            String u = e.getKey();
            HealthMonitor m = proxy.monitor(u);
            Map<String, Upstream.EndpointStatus> byId = new HashMap<>();
            Map<String, EndpointHealth> hById = new HashMap<>();
            for (Upstream.EndpointStatus s : e.getValue().statuses()) {
                String id = s.endpoint().id();
                byId.put(id, s);
                if (m != null) {
                    m.health(id).ifPresent(h -> hById.put(id, h));
                }
                String key = u + '\0' + id;
                present.add(key);
                endpointMeters.computeIfAbsent(key, k -> register(u, id));
            }
            now.put(u, byId);
            healthNow.put(u, hById);
        }
        current = now;
        health = healthNow;
        for (var it = endpointMeters.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!present.contains(e.getKey())) {
                e.getValue().forEach(registry::remove);
                String key = e.getKey();
                int sep = key.indexOf('\0');
                proxyMeters.forget(key.substring(0, sep), key.substring(sep + 1));
                it.remove();
            }
        }
    }

    private List<Meter> register(String upstream, String id) {
        Tags tags = Tags.of("upstream", upstream, "endpoint", id);
        PeerCounters c = proxy.counters;
        List<Meter> meters = new ArrayList<>();
        meters.add(FunctionCounter.builder("lbkit.upstream.peer.requests", c, x -> sum(x.get(id), 0))
                .description("Attempts sent to the endpoint that completed (nginx Plus: requests)").tags(tags)
                .register(registry));
        for (int k = 0; k < CLASSES.length; k++) {
            int cls = k;
            meters.add(FunctionCounter.builder("lbkit.upstream.peer.responses", c, x -> {
                PeerCounters.Peer p = x.get(id);
                return p == null ? 0 : p.byClass[cls].sum();
            }).description("Responses from the endpoint, by status class").tags(tags).tag("code_class", CLASSES[k])
                    .register(registry));
        }
        meters.add(FunctionCounter.builder("lbkit.upstream.peer.fails", c, x -> sum(x.get(id), 1))
                .description("Attempts that failed (connect or read errors, timeouts, counted statuses)").tags(tags)
                .register(registry));
        meters.add(FunctionTimer.builder("lbkit.upstream.peer.response", c, x -> (long) sum(x.get(id), 2),
                        x -> sum(x.get(id), 3), TimeUnit.NANOSECONDS)
                .description("Time from sending the request to the end of the endpoint's response").tags(tags)
                .register(registry));
        meters.add(Gauge.builder("lbkit.upstream.peer.active", this, s -> status(upstream, id, 0))
                .description("Requests in flight on the endpoint").tags(tags).register(registry));
        meters.add(Gauge.builder("lbkit.upstream.peer.weight", this, s -> status(upstream, id, 1))
                .description("The endpoint's configured weight").tags(tags).register(registry));
        for (String st : STATES) {
            meters.add(Gauge.builder("lbkit.upstream.peer.state", this, s -> state(upstream, id).equals(st) ? 1 : 0)
                    .description("1 for the endpoint's state (the status JSON's), 0 for the others").tags(tags)
                    .tag("state", st).register(registry));
        }
        return meters;
    }

    /** 0 attempts, 1 failures, 2 responses, 3 response nanoseconds. */
    private static double sum(PeerCounters.Peer p, int which) {
        if (p == null) {
            return 0;
        }
        return switch (which) {
            case 0 -> p.attempts.sum();
            case 1 -> p.failures.sum();
            case 2 -> p.responses.sum();
            default -> p.responseNanos.sum();
        };
    }

    private double status(String upstream, String id, int which) {
        Upstream.EndpointStatus s = current.getOrDefault(upstream, Map.of()).get(id);
        if (s == null) {
            return Double.NaN;
        }
        return which == 0 ? s.inFlight() : s.endpoint().weight();
    }

    private String state(String upstream, String id) {
        Upstream.EndpointStatus s = current.getOrDefault(upstream, Map.of()).get(id);
        return s == null ? "" : UpstreamStatus.state(s, health.getOrDefault(upstream, Map.of()).get(id));
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}

package io.lbkit.proxy;

import io.lbkit.health.EndpointHealthState;
import io.lbkit.health.HealthEvent;
import io.lbkit.health.HealthMonitor;
import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.AccessRules;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.StubStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The proxy's meters in a Micrometer {@link MeterRegistry}, fed by each engine from the exchange's
 * {@link AccessRecord} when the exchange ends (the record the access log reads), whichever engine
 * runs the proxy. Micrometer is an optional dependency of lb-proxy: only an application that
 * creates this class needs it on its classpath.
 *
 * <pre>{@code
 * ProxyMeters meters = ProxyMeters.of(registry);
 * ProxyConfig config = ProxyConfig.builder().meters(meters).route(route).build();
 * meters.watch(healthMonitor);   // health transitions and outlier ejections, per upstream
 * }</pre>
 *
 * <table>
 *   <caption>Meters (Micrometer names; Prometheus's in brackets)</caption>
 *   <tr><th>name</th><th>type, unit</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@value #REQUESTS} [{@code lbkit_proxy_requests_seconds_count}, {@code _sum}, {@code _max}]</td>
 *       <td>timer, seconds (histogram buckets with {@link Builder#requestBuckets})</td><td>{@code route}, {@code upstream}, {@code endpoint}, {@code code_class}</td>
 *       <td>requests, by the route that took them, the upstream, the endpoint of their last attempt and
 *       the class of the status the client got ({@code 1xx}..{@code 5xx}); the time from the first byte
 *       of the request to the end of the exchange. {@code -} where there is none (no route, no attempt)</td></tr>
 *   <tr><td>{@value #UPSTREAM_CONNECT}, {@value #UPSTREAM_HEADER}, {@value #UPSTREAM_RESPONSE}
 *       [{@code lbkit_proxy_upstream_connect_seconds_bucket}...]</td><td>timer with histogram buckets, seconds</td>
 *       <td>{@code upstream}, {@code endpoint}</td><td>per attempt, nginx's {@code $upstream_connect_time},
 *       {@code $upstream_header_time}, {@code $upstream_response_time}; an attempt that never connected
 *       (or got no head) is not in the connect (header) timer</td></tr>
 *   <tr><td>{@value #RETRIES} [{@code lbkit_proxy_retries_total}]</td><td>counter</td>
 *       <td>{@code route}, {@code upstream}, {@code endpoint}, {@code reason}</td>
 *       <td>attempts followed by another attempt, by the endpoint that failed and why: {@code connect_error},
 *       {@code error} (after connecting), {@code timeout}, {@code http_NNN} (a retried status)</td></tr>
 *   <tr><td>{@value #REJECTIONS} [{@code lbkit_proxy_rejections_total}]</td><td>counter</td>
 *       <td>{@code route}, {@code reason}, {@code status}</td><td>requests the route's limits or access
 *       rules refused: {@code rate_limit}, {@code connection_limit}, {@code access} (allow/deny, geo)</td></tr>
 *   <tr><td>{@value #RECEIVED}, {@value #SENT} [{@code lbkit_proxy_received_bytes_total}, {@code lbkit_proxy_sent_bytes_total}]</td>
 *       <td>counter, bytes</td><td>{@code route}</td><td>request body bytes received from clients, response body
 *       bytes sent to them</td></tr>
 *   <tr><td>{@value #CONNECTIONS} [{@code lbkit_proxy_client_connections}]</td><td>gauge</td><td>–</td>
 *       <td>client connections open now ({@code stub_status}'s active connections) of every watched engine</td></tr>
 *   <tr><td>{@value #TRANSITIONS} [{@code lbkit_upstream_health_transitions_total}]</td><td>counter</td>
 *       <td>{@code upstream}, {@code endpoint}, {@code to}</td><td>health state changes of watched monitors,
 *       by the state entered ({@code up}, {@code checking}, {@code unhealthy}, {@code ejected}, {@code draining}, {@code down})</td></tr>
 *   <tr><td>{@value #EJECTIONS} [{@code lbkit_upstream_ejections_total}]</td><td>counter</td>
 *       <td>{@code upstream}, {@code endpoint}</td><td>outlier ejections</td></tr>
 * </table>
 *
 * <p>Tag values come from the configuration (route and upstream names, endpoint ids) and from fixed
 * sets (status classes, reasons), never from the request, so the number of series is bounded by
 * what is configured. Meters are registered the first time a combination occurs and kept in maps
 * looked up by those strings: recording a request allocates nothing beyond what the registry's
 * timers and counters do. Thread-safe; {@link #record} is called by the exchange's thread.
 */
public final class ProxyMeters {

    /** {@value}: requests by route, upstream, endpoint and status class. */
    public static final String REQUESTS = "lbkit.proxy.requests";
    /** {@value}: an attempt's time to connect. */
    public static final String UPSTREAM_CONNECT = "lbkit.proxy.upstream.connect";
    /** {@value}: an attempt's time to the response head. */
    public static final String UPSTREAM_HEADER = "lbkit.proxy.upstream.header";
    /** {@value}: an attempt's time to its end. */
    public static final String UPSTREAM_RESPONSE = "lbkit.proxy.upstream.response";
    /** {@value}: attempts followed by a retry, by reason. */
    public static final String RETRIES = "lbkit.proxy.retries";
    /** {@value}: requests refused by a route's limits or access rules. */
    public static final String REJECTIONS = "lbkit.proxy.rejections";
    /** {@value}: request body bytes received. */
    public static final String RECEIVED = "lbkit.proxy.received";
    /** {@value}: response body bytes sent. */
    public static final String SENT = "lbkit.proxy.sent";
    /** {@value}: client connections open. */
    public static final String CONNECTIONS = "lbkit.proxy.client.connections";
    /** {@value}: health state transitions. */
    public static final String TRANSITIONS = "lbkit.upstream.health.transitions";
    /** {@value}: outlier ejections. */
    public static final String EJECTIONS = "lbkit.upstream.ejections";

    /** The default histogram buckets of the upstream timers. */
    public static final List<Duration> DEFAULT_BUCKETS = List.of(Duration.ofMillis(1), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
            Duration.ofSeconds(5), Duration.ofSeconds(10));

    private static final String NONE = "-";
    private static final String[] CLASSES = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final int CONNECT_ERROR = -1;
    private static final int ERROR = -2;
    private static final int TIMEOUT = -3;

    private final MeterRegistry registry;
    private final Duration[] buckets;
    private final Duration[] requestBuckets;
    private final ConcurrentHashMap<String, RouteSeries> routes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Attempts>> attempts = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<StubStatus> watched = new CopyOnWriteArrayList<>();

    private ProxyMeters(Builder b) {
        this.registry = b.registry;
        this.buckets = b.upstreamBuckets.toArray(Duration[]::new);
        this.requestBuckets = b.requestBuckets.toArray(Duration[]::new);
    }

    /**
     * Meters in {@code registry} with the defaults: the upstream timers' histograms with
     * {@link #DEFAULT_BUCKETS}, none for {@value #REQUESTS}.
     */
    public static ProxyMeters of(MeterRegistry registry) {
        return builder(registry).build();
    }

    /** A builder of meters in {@code registry}. */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(Objects.requireNonNull(registry, "registry"));
    }

    /** Builder for {@link ProxyMeters}; validated in {@link #build()}. */
    public static final class Builder {
        private final MeterRegistry registry;
        private List<Duration> upstreamBuckets = DEFAULT_BUCKETS;
        private List<Duration> requestBuckets = List.of();

        private Builder(MeterRegistry registry) {
            this.registry = registry;
        }

        /**
         * The histogram buckets (upper bounds, Prometheus's {@code le}) of the upstream connect,
         * header and response timers; {@link #DEFAULT_BUCKETS} by default, an empty list for none.
         */
        public Builder upstreamBuckets(List<Duration> buckets) {
            this.upstreamBuckets = buckets;
            return this;
        }

        /**
         * Histogram buckets of {@value #REQUESTS} too (none by default: each bucket is one more
         * series per route, upstream, endpoint and status class).
         */
        public Builder requestBuckets(List<Duration> buckets) {
            this.requestBuckets = buckets;
            return this;
        }

        public ProxyMeters build() {
            check("upstreamBuckets", upstreamBuckets);
            check("requestBuckets", requestBuckets);
            upstreamBuckets = List.copyOf(upstreamBuckets);
            requestBuckets = List.copyOf(requestBuckets);
            return new ProxyMeters(this);
        }

        private static void check(String field, List<Duration> buckets) {
            if (buckets == null) {
                throw new IllegalArgumentException(field + " must not be null (an empty list for none)");
            }
            for (Duration d : buckets) {
                if (d == null || d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException(field + " must each be > 0, got " + d);
                }
            }
        }
    }

    /** The registry the meters are in. */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Records one ended exchange. Engines call it once per request, after the record's
     * {@link AccessRecord#end end}, on the exchange's thread. The request's {@value #REQUESTS}
     * timer is recorded last, after the exchange's other meters.
     */
    public void record(AccessRecord r) {
        RouteSeries rs = route(r.route());
        int n = r.attempts();
        String upstream = r.upstream() == null ? NONE : r.upstream();
        for (int i = 0; i < n; i++) {
            String id = id(r.attemptEndpoint(i));
            Attempts a = attempts(upstream, id);
            long c = r.attemptConnectNanos(i);
            long h = r.attemptHeaderNanos(i);
            long t = r.attemptResponseNanos(i);
            if (c != AccessRecord.NONE) {
                a.connect.record(c, TimeUnit.NANOSECONDS);
            }
            if (h != AccessRecord.NONE) {
                a.header.record(h, TimeUnit.NANOSECONDS);
            }
            if (t != AccessRecord.NONE) {
                a.response.record(t, TimeUnit.NANOSECONDS);
            }
            if (i < n - 1) {
                int reason = h != AccessRecord.NONE ? r.attemptStatus(i)
                        : r.attemptStatus(i) == 504 ? TIMEOUT : c == AccessRecord.NONE ? CONNECT_ERROR : ERROR;
                rs.requests(upstream, id).retry(reason).increment();
            }
        }
        if (r.refusal() != null) {
            rs.rejection(r.refusal(), r.refusalStatus()).increment();
        }
        if (r.bodyBytes() > 0) {
            rs.sent.increment(r.bodyBytes());
        }
        if (r.requestBytes() > 0) {
            rs.received.increment(r.requestBytes());
        }
        // last: whoever sees the request counted sees the rest of the exchange's meters too
        String endpoint = n == 0 ? NONE : id(r.attemptEndpoint(n - 1));
        rs.requests(upstream, endpoint).timer(statusClass(r.status()))
                .record(r.totalNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Counts {@code status}'s open connections in {@value #CONNECTIONS} (registered with the first
     * engine watched) until the returned handle is closed. Engines call it when they start.
     */
    public Watch watch(StubStatus status) {
        Objects.requireNonNull(status, "status");
        Gauge.builder(CONNECTIONS, watched, w -> {
            long n = 0;
            for (StubStatus s : w) {
                n += s.active();
            }
            return n;
        }).description("Client connections open now").register(registry); // once: the registry keeps the first
        watched.add(status);
        return () -> watched.remove(status);
    }

    /** What {@link #watch(StubStatus)} returns: closing it stops counting that engine's connections. */
    public interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    /** Counts {@code monitor}'s health transitions and outlier ejections from now on. */
    public void watch(HealthMonitor monitor) {
        monitor.addListener(this::transition);
    }

    /**
     * Removes the meters of an endpoint that left {@code upstream} (its request, attempt, retry and
     * health series), so that a scrape no longer shows it. A request still running on it when it
     * left registers its series again when it ends.
     */
    public void forget(String upstream, String endpointId) {
        ConcurrentHashMap<String, Attempts> byEndpoint = attempts.get(upstream);
        Attempts a = byEndpoint == null ? null : byEndpoint.remove(endpointId);
        if (a != null) {
            registry.remove(a.connect);
            registry.remove(a.header);
            registry.remove(a.response);
        }
        for (RouteSeries rs : routes.values()) {
            ConcurrentHashMap<String, Series> series = rs.series.get(upstream);
            Series s = series == null ? null : series.remove(endpointId);
            if (s != null) {
                for (int i = 0; i < CLASSES.length; i++) {
                    if (s.byClass.get(i) != null) {
                        registry.remove(s.byClass.get(i));
                    }
                }
                for (Retry r : s.retries) {
                    registry.remove(r.counter);
                }
            }
        }
        for (String name : new String[] {TRANSITIONS, EJECTIONS}) {
            registry.find(name).tags("upstream", upstream, "endpoint", endpointId).meters().forEach(registry::remove);
        }
    }

    private void transition(HealthEvent e) {
        EndpointHealthState to = e.to();
        if (to == null) {
            return; // the endpoint left
        }
        Counter.builder(TRANSITIONS).description("Health state transitions, by the state entered")
                .tag("upstream", e.upstream()).tag("endpoint", e.endpointId())
                .tag("to", to.name().toLowerCase(Locale.ROOT)).register(registry).increment();
        if (to == EndpointHealthState.EJECTED) {
            Counter.builder(EJECTIONS).description("Outlier ejections")
                    .tag("upstream", e.upstream()).tag("endpoint", e.endpointId()).register(registry).increment();
        }
    }

    private static String id(String endpointId) {
        return endpointId == null ? NONE : endpointId;
    }

    private static int statusClass(int status) {
        return status >= 100 && status < 600 ? status / 100 : 0;
    }

    private RouteSeries route(String name) {
        String key = name == null ? NONE : name;
        RouteSeries rs = routes.get(key);
        return rs != null ? rs : routes.computeIfAbsent(key, RouteSeries::new);
    }

    private Attempts attempts(String upstream, String endpoint) {
        ConcurrentHashMap<String, Attempts> byEndpoint = attempts.get(upstream);
        if (byEndpoint == null) {
            byEndpoint = attempts.computeIfAbsent(upstream, k -> new ConcurrentHashMap<>());
        }
        Attempts a = byEndpoint.get(endpoint);
        return a != null ? a : byEndpoint.computeIfAbsent(endpoint, k -> new Attempts(upstream, k));
    }

    private Timer upstreamTimer(String name, String description, String upstream, String endpoint) {
        return Timer.builder(name).description(description).tag("upstream", upstream).tag("endpoint", endpoint)
                .serviceLevelObjectives(buckets).register(registry);
    }

    /** An upstream endpoint's attempt timers. */
    private final class Attempts {
        final Timer connect;
        final Timer header;
        final Timer response;

        Attempts(String upstream, String endpoint) {
            connect = upstreamTimer(UPSTREAM_CONNECT, "Time to connect to the endpoint, per attempt (nginx $upstream_connect_time)",
                    upstream, endpoint);
            header = upstreamTimer(UPSTREAM_HEADER, "Time to the response head, per attempt (nginx $upstream_header_time)",
                    upstream, endpoint);
            response = upstreamTimer(UPSTREAM_RESPONSE, "Time to the end of the response, per attempt (nginx $upstream_response_time)",
                    upstream, endpoint);
        }
    }

    /** One route's meters. */
    private final class RouteSeries {
        final String route;
        final Counter sent;
        final Counter received;
        final ConcurrentHashMap<String, ConcurrentHashMap<String, Series>> series = new ConcurrentHashMap<>();
        volatile Rejection[] rejections = new Rejection[0];

        RouteSeries(String route) {
            this.route = route;
            this.sent = Counter.builder(SENT).baseUnit("bytes").description("Response body bytes sent to clients")
                    .tag("route", route).register(registry);
            this.received = Counter.builder(RECEIVED).baseUnit("bytes").description("Request body bytes received from clients")
                    .tag("route", route).register(registry);
        }

        Series requests(String upstream, String endpoint) {
            ConcurrentHashMap<String, Series> byEndpoint = series.get(upstream);
            if (byEndpoint == null) {
                byEndpoint = series.computeIfAbsent(upstream, k -> new ConcurrentHashMap<>());
            }
            Series s = byEndpoint.get(endpoint);
            return s != null ? s : byEndpoint.computeIfAbsent(endpoint, k -> new Series(route, upstream, k));
        }

        Counter rejection(String reason, int status) {
            for (Rejection x : rejections) {
                if (x.status == status && (x.text == reason || x.text.equals(reason))) {
                    return x.counter;
                }
            }
            synchronized (this) {
                for (Rejection x : rejections) {
                    if (x.status == status && x.text.equals(reason)) {
                        return x.counter;
                    }
                }
                String tag = reason.equals(Limits.RATE_EXCEEDED) ? "rate_limit"
                        : reason.equals(Limits.TOO_MANY_CONCURRENT) ? "connection_limit"
                        : reason.equals(AccessRules.FORBIDDEN) ? "access" : "other";
                Counter c = Counter.builder(REJECTIONS).description("Requests refused by the route's limits or access rules")
                        .tag("route", route).tag("reason", tag).tag("status", Integer.toString(status))
                        .register(registry);
                Rejection[] next = Arrays.copyOf(rejections, rejections.length + 1);
                next[next.length - 1] = new Rejection(reason, status, c);
                rejections = next;
                return c;
            }
        }
    }

    private record Rejection(String text, int status, Counter counter) {
    }

    private record Retry(int reason, Counter counter) {
    }

    /** The meters of one (route, upstream, endpoint). */
    private final class Series {
        final String route;
        final String upstream;
        final String endpoint;
        final AtomicReferenceArray<Timer> byClass = new AtomicReferenceArray<>(CLASSES.length);
        volatile Retry[] retries = new Retry[0];

        Series(String route, String upstream, String endpoint) {
            this.route = route;
            this.upstream = upstream;
            this.endpoint = endpoint;
        }

        Timer timer(int cls) {
            Timer t = byClass.get(cls);
            if (t == null) {
                t = Timer.builder(REQUESTS).description("Requests, by route, upstream, endpoint of the last attempt and status class")
                        .tag("route", route).tag("upstream", upstream).tag("endpoint", endpoint)
                        .tag("code_class", CLASSES[cls]).serviceLevelObjectives(requestBuckets).register(registry);
                byClass.set(cls, t); // the registry returns the same timer to a racing thread
            }
            return t;
        }

        Counter retry(int reason) {
            for (Retry x : retries) {
                if (x.reason == reason) {
                    return x.counter;
                }
            }
            synchronized (this) {
                for (Retry x : retries) {
                    if (x.reason == reason) {
                        return x.counter;
                    }
                }
                String tag = switch (reason) {
                    case CONNECT_ERROR -> "connect_error";
                    case ERROR -> "error";
                    case TIMEOUT -> "timeout";
                    default -> "http_" + reason;
                };
                Counter c = Counter.builder(RETRIES).description("Attempts followed by a retry, by the endpoint and why")
                        .tag("route", route).tag("upstream", upstream).tag("endpoint", endpoint).tag("reason", tag)
                        .register(registry);
                Retry[] next = Arrays.copyOf(retries, retries.length + 1);
                next[next.length - 1] = new Retry(reason, c);
                retries = next;
                return c;
            }
        }
    }
}

package io.lbkit.config;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.Rate;
import io.lbkit.core.retry.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code lb-server serve --config FILE} runs: the parsed and validated form of the file
 * (the nginx.conf of lbkit). Read with {@link ConfigLoader}; the format is documented in
 * {@code docs/configuration.md}.
 *
 * @param source          the file it was read from (for error messages)
 * @param listeners       where to accept connections
 * @param proxy           settings shared by every route (timeouts, body limit, headers, pool)
 * @param upstreams       named pools, in file order
 * @param routes          first match wins; a request no route matches gets 404
 * @param sessions        the session store and its API, or {@code null} for none
 * @param trust           which peers' forwarding headers are believed, and the Via name
 * @param shutdownTimeout how long a graceful stop waits for in-flight requests
 * @param admin           the admin API listener, or {@code null} when off
 * @param policy          added response headers and allow/deny rules, top level and per route
 * @param observe         the access log, the request id header and the status page
 */
public record ServeConfig(String source, Engine engine, List<Listener> listeners, ProxySpec proxy,
                          Map<String, UpstreamSpec> upstreams, List<RouteSpec> routes, SessionSpec sessions, TrustSpec trust,
                          Duration shutdownTimeout, AdminSpec admin, EdgePolicy policy, ObserveSpec observe) {

    /** Which engine runs the proxy: the servlet filter in embedded Jetty, or lb-netty's event loops. */
    public enum Engine { SERVLET, EVENT_LOOP }

    public ServeConfig {
        listeners = List.copyOf(listeners);
        upstreams = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(upstreams));
        routes = List.copyOf(routes);
        observe = observe == null ? ObserveSpec.NONE : observe;
    }

    /** Without access log, request id or status page. */
    public ServeConfig(String source, Engine engine, List<Listener> listeners, ProxySpec proxy,
                       Map<String, UpstreamSpec> upstreams, List<RouteSpec> routes, SessionSpec sessions, TrustSpec trust,
                       Duration shutdownTimeout, AdminSpec admin, EdgePolicy policy) {
        this(source, engine, listeners, proxy, upstreams, routes, sessions, trust, shutdownTimeout, admin, policy,
                ObserveSpec.NONE);
    }

    /**
     * nginx {@code listen}; {@code large_client_header_buffers} as the total request header limit.
     *
     * @param maxConnections the most client connections open at once on it (0: no limit); at the
     *                       limit the listener stops accepting until one closes (HAProxy {@code maxconn})
     */
    public record Listener(String host, int port, int maxRequestHeaderBytes, int maxConnections) {
        /** A listener with no connection limit. */
        public Listener(String host, int port, int maxRequestHeaderBytes) {
            this(host, port, maxRequestHeaderBytes, 0);
        }
    }

    /**
     * The {@code proxy_*} settings shared by every route.
     *
     * @param servedByHeader response header naming the endpoint, or {@code null} for none
     * @param serverName     the host name for requests without a Host header, or {@code null}
     * @param threads        the servlet engine's one thread pool
     * @param workers        the event-loop engine's loops (0: one per core)
     * @param clientHeaderTimeout    nginx {@code client_header_timeout} (event-loop engine only)
     * @param clientKeepaliveTimeout nginx {@code keepalive_timeout}: an idle kept-alive client connection closes
     * @param keepaliveRequests      nginx {@code keepalive_requests} (event-loop engine only)
     */
    public record ProxySpec(Duration connectTimeout, Duration readTimeout, Duration totalTimeout,
                            Duration clientBodyTimeout, long maxBodyBytes,
                            HostHeaderMode hostHeader, String serverName, String servedByHeader, boolean forwarded,
                            int maxConnectionsPerEndpoint, Duration keepaliveTimeout, int threads, int workers,
                            Duration clientHeaderTimeout, Duration clientKeepaliveTimeout, int keepaliveRequests) {
        /** The default size of the one thread pool that serves clients and backends. */
        public static final int DEFAULT_THREADS = 200;

        /** {@code client} = nginx {@code $http_host}, {@code host} = {@code $host}, {@code endpoint} = {@code $proxy_host}. */
        public enum HostHeaderMode { CLIENT, HOST, ENDPOINT }
    }

    /** Where a hash policy takes its key from (nginx {@code hash $...} / {@code ip_hash}). */
    public record HashKey(Source source, String name) {
        public enum Source { NONE, CLIENT_IP, HEADER, COOKIE, QUERY, URI }
    }

    /**
     * An nginx {@code upstream} block with lbkit's additions.
     *
     * @param activeCheck active health check, or {@code null} for passive only
     * @param outlier     outlier detection, or {@code null} when off
     * @param states      endpoints that start down or draining (nginx {@code down} / {@code drain})
     */
    public record UpstreamSpec(String name, String policyName, BalancingPolicy policy, HashKey hashKey,
                               List<Endpoint> endpoints, Duration slowStart, Set<Integer> failureStatuses,
                               int panicThresholdPercent, ActiveCheckSpec activeCheck, OutlierSpec outlier,
                               Map<String, io.lbkit.core.EndpointState> states) {
        public UpstreamSpec {
            endpoints = List.copyOf(endpoints);
            states = Map.copyOf(states);
            failureStatuses = Set.copyOf(failureStatuses);
        }
    }

    /** HAProxy-style active check ({@code option httpchk} / {@code check inter rise fall}). */
    public record ActiveCheckSpec(Type type, String method, String path, String hostHeader,
                                  List<int[]> expectStatus, String bodyContains, Duration interval,
                                  Duration timeout, int rise, int fall, Duration fastInterval,
                                  Duration downInterval, int jitterPercent, boolean startHealthy) {
        public enum Type { HTTP, TCP }
    }

    /**
     * Envoy outlier detection.
     *
     * @param maxEjectionPercent most endpoints ejected at once, in percent of the upstream: an
     *                           ejection happens only if the ejected share after it is at most this
     * @param alwaysEjectOneHost eject one endpoint even when that passes {@code maxEjectionPercent}
     *                           (Envoy's {@code always_eject_one_host}); what a small upstream needs
     */
    public record OutlierSpec(int consecutive5xx, int consecutiveGatewayFailure, Duration interval,
                              Duration baseEjectionTime, Duration maxEjectionTime, int maxEjectionPercent,
                              boolean alwaysEjectOneHost, boolean successRate, boolean failurePercentage) {
    }

    /** A {@code location} with its {@code proxy_*} settings. */
    public record RouteSpec(String name, MatchSpec match, String upstream, Mode mode, RetryPolicy retry,
                            StickySpec sticky, RateLimitSpec rateLimit, FanOutSpec fanOut, TargetSpec target) {
        public enum Mode { PROXY, BROADCAST, TARGETED }
    }

    /** Route predicates; all given ones must match. */
    public record MatchSpec(String pathPrefix, String host, Set<String> methods, Map<String, String> headers) {
        public MatchSpec {
            methods = Set.copyOf(methods);
            headers = Map.copyOf(headers);
        }
    }

    /** The {@code srv_id}-style sticky cookie (nginx {@code sticky cookie srv_id}). */
    public record StickySpec(String cookie, Duration maxAge, String key) {
        @Override
        public String toString() {
            return "StickySpec[cookie=" + cookie + ", maxAge=" + maxAge + ", key=(hidden)]";
        }
    }

    /** nginx {@code limit_req}. */
    public record RateLimitSpec(Rate rate, int burst, int delay, boolean nodelay, HashKey key, int status) {
    }

    /** Fan-out: one request to every endpoint of a broadcast route. */
    public record FanOutSpec(Aggregate aggregate, int quorum, String primary, boolean summary) {
        public enum Aggregate { ALL, FIRST, QUORUM }
    }

    /** Targeted routing: the request value that names the endpoint. */
    public record TargetSpec(HashKey.Source source, String name) {
    }

    /**
     * Session store, forwarding to backends and the session API.
     *
     * @param forward send {@code X-Session-ID} / {@code X-Session-Data} to backends and apply their
     *                {@code X-New-Session-Data}
     */
    public record SessionSpec(String store, Duration idleTimeout, Duration absoluteTimeout, String cookie,
                              boolean forward, boolean api, String apiPath, List<String> apiAllow, String apiToken) {
        public SessionSpec {
            apiAllow = List.copyOf(apiAllow);
        }

        @Override
        public String toString() {
            return "SessionSpec[store=" + (store.startsWith("redis") ? "redis" : store) + ", idleTimeout="
                    + idleTimeout + ", cookie=" + cookie + ", api=" + api + "]";
        }
    }

    /** Trusted proxies (X-Forwarded-*, Forwarded) and the Via name. */
    public record TrustSpec(CidrRules trustedProxies, String via) {
    }

    /**
     * The admin API listener (nginx Plus {@code api}, {@code state}).
     *
     * @param host      the address it binds (loopback by default)
     * @param port      its port (0: any free one)
     * @param token     the bearer token every request must carry
     * @param allow     the clients allowed (CIDR rules; anyone else gets 403)
     * @param allowList the allow list as written, for messages
     * @param stateFile where runtime changes persist and are restored from at start, or {@code null}
     * @param proxyMetrics whether {@code /metrics} has the per-request proxy meters (requests by route,
     *                     upstream timings, retries, rejections, bytes); default true
     */
    public record AdminSpec(String host, int port, String token, CidrRules allow, List<String> allowList,
                            java.nio.file.Path stateFile, boolean proxyMetrics) {
        public AdminSpec {
            allowList = List.copyOf(allowList);
        }

        /** With the proxy meters on. */
        public AdminSpec(String host, int port, String token, CidrRules allow, List<String> allowList,
                         java.nio.file.Path stateFile) {
            this(host, port, token, allow, allowList, stateFile, true);
        }

        @Override
        public String toString() {
            return "AdminSpec[" + host + ":" + port + ", token=(hidden), allow=" + allowList + ", stateFile=" + stateFile
                    + ", proxyMetrics=" + proxyMetrics + "]";
        }
    }
}

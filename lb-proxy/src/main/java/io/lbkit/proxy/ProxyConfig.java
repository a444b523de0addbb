package io.lbkit.proxy;

import io.lbkit.core.Ticker;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.engine.Headers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The configuration of a proxy, whichever engine runs it (the servlet filter, the event loop):
 * routes, timeouts, retries, header rules, limits and the upstream connection pool. Immutable; built with {@link #builder()}, validated in
 * {@link Builder#build()} with messages that name the field and the bad value.
 *
 * <h2>Defaults (nginx equivalent in brackets)</h2>
 * <ul>
 *   <li>connectTimeout 60 s [{@code proxy_connect_timeout 60s}]</li>
 *   <li>readTimeout 60 s: no byte from the backend for this long → 504
 *       [{@code proxy_read_timeout 60s}]</li>
 *   <li>totalTimeout 0 = none: the whole exchange, response body included</li>
 *   <li>clientBodyTimeout 60 s: no byte of the request body from the client for this long, while
 *       the proxy waits for one → 408 and the connection closes [{@code client_body_timeout 60s}]</li>
 *   <li>retryPolicy {@link RetryPolicy#defaults()} [{@code proxy_next_upstream error timeout}]</li>
 *   <li>maxRequestBodyBytes 1 MiB, 0 = unlimited → 413 [{@code client_max_body_size 1m}]</li>
 *   <li>maxRequestHeaderBytes 32 KiB → 431 [{@code large_client_header_buffers 4 8k}]</li>
 *   <li>trustedProxies: none; inbound X-Forwarded-* and Forwarded are replaced
 *       [{@code set_real_ip_from}]</li>
 *   <li>hostHeader {@link HostHeader#CLIENT} [{@code proxy_set_header Host $http_host}; nginx's own
 *       default is {@code $proxy_host}, {@link HostHeader#ENDPOINT} here]</li>
 *   <li>serverName: none [{@code server_name}]: the host name used for a request without a Host
 *       header (HTTP/1.0) in Host, X-Forwarded-Host and Forwarded; without one, such a request's
 *       Host is the endpoint's {@code host:port} and no forwarded host is sent</li>
 *   <li>via "lbkit" (Via: 1.1 lbkit), servedByHeader "X-Served-By"</li>
 *   <li>xForwarded true, forwarded (RFC 7239) true, forwardedFor {@link ForwardedFor#ADDRESS}</li>
 *   <li>maxConnectionsPerEndpoint 4096, keepAliveTimeout 60 s [{@code keepalive_timeout 60s}]</li>
 *   <li>bufferSize 16 KiB: the request body buffer per request and the backend read buffer</li>
 *   <li>executor: none, the filter starts its own pool for the HTTP client</li>
 *   <li>accessLog: none [{@code access_log off}]; see {@link AccessLog}</li>
 *   <li>meters: none; see {@link ProxyMeters} (Micrometer)</li>
 *   <li>requestIdHeader: none; "X-Request-ID" passes a trusted peer's id on or sends a new one
 *       [{@code proxy_set_header X-Request-ID $request_id}]</li>
 *   <li>statusPath: none; a path such as "/nginx_status" answers nginx's {@code stub_status}
 *       page [{@code location /nginx_status { stub_status; }}]</li>
 * </ul>
 */
public final class ProxyConfig {

    /** Which Host header the backend gets. */
    public enum HostHeader {
        /** The client's Host header, as received (nginx {@code proxy_set_header Host $http_host}). */
        CLIENT,
        /**
         * The client's host name in lower case, without a port (nginx
         * {@code proxy_set_header Host $host}).
         */
        HOST,
        /** The endpoint's {@code host:port} (nginx's default {@code $proxy_host}). */
        ENDPOINT
    }

    /** What the {@code for=} parameter of {@code Forwarded} says about the client. */
    public enum ForwardedFor {
        /** The client address ({@code for=192.0.2.1}, {@code for="[2001:db8::1]"}). */
        ADDRESS,
        /**
         * An obfuscated identifier (RFC 7239 §6.3): {@code _} and 12 hex digits of a keyed hash of
         * the address, stable for one filter instance, so a backend can correlate without seeing
         * the address.
         */
        OBFUSCATED,
        /** {@code for=unknown}. */
        UNKNOWN
    }

    private final List<Route> routes;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final Duration totalTimeout;
    private final Duration clientBodyTimeout;
    private final RetryPolicy retryPolicy;
    private final long maxRequestBodyBytes;
    private final int maxRequestHeaderBytes;
    private final CidrRules trustedProxies;
    private final HostHeader hostHeader;
    private final String serverName;
    private final String via;
    private final String servedByHeader;
    private final boolean xForwarded;
    private final boolean forwarded;
    private final ForwardedFor forwardedFor;
    private final String forwardedBy;
    private final int maxConnectionsPerEndpoint;
    private final Duration keepAliveTimeout;
    private final int bufferSize;
    private final java.util.concurrent.Executor executor;
    private final Ticker ticker;
    private final SessionForwarding sessionForwarding;
    private final AccessLog accessLog;
    private final ProxyMeters meters;
    private final String requestIdHeader;
    private final String statusPath;
    private final AddedHeaders addedHeaders;
    private final CidrRules access;
    private final GeoBlock geoBlock;

    private ProxyConfig(Builder b) {
        this.routes = List.copyOf(b.routes);
        this.connectTimeout = b.connectTimeout;
        this.readTimeout = b.readTimeout;
        this.totalTimeout = b.totalTimeout;
        this.clientBodyTimeout = b.clientBodyTimeout;
        this.retryPolicy = b.retryPolicy;
        this.maxRequestBodyBytes = b.maxRequestBodyBytes;
        this.maxRequestHeaderBytes = b.maxRequestHeaderBytes;
        this.trustedProxies = b.trustedProxies;
        this.hostHeader = b.hostHeader;
        this.serverName = b.serverName;
        this.via = b.via;
        this.servedByHeader = b.servedByHeader;
        this.xForwarded = b.xForwarded;
        this.forwarded = b.forwarded;
        this.forwardedFor = b.forwardedFor;
        this.forwardedBy = b.forwardedBy;
        this.maxConnectionsPerEndpoint = b.maxConnectionsPerEndpoint;
        this.keepAliveTimeout = b.keepAliveTimeout;
        this.bufferSize = b.bufferSize;
        this.executor = b.executor;
        this.ticker = b.ticker;
        this.sessionForwarding = b.sessionForwarding;
        this.accessLog = b.accessLog;
        this.meters = b.meters;
        this.requestIdHeader = b.requestIdHeader;
        this.statusPath = b.statusPath;
        this.addedHeaders = b.addedHeaders;
        this.access = b.access;
        this.geoBlock = b.geoBlock;
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<Route> routes() { return routes; }
    public Duration connectTimeout() { return connectTimeout; }
    public Duration readTimeout() { return readTimeout; }

    /** The longest wait for the next byte of the client's request body (→ 408). */
    public Duration clientBodyTimeout() { return clientBodyTimeout; }
    public Duration totalTimeout() { return totalTimeout; }
    public RetryPolicy retryPolicy() { return retryPolicy; }
    public long maxRequestBodyBytes() { return maxRequestBodyBytes; }
    public int maxRequestHeaderBytes() { return maxRequestHeaderBytes; }
    public CidrRules trustedProxies() { return trustedProxies; }
    public HostHeader hostHeader() { return hostHeader; }
    /** The host name for requests without a Host header (nginx {@code server_name}), or null. */
    public String serverName() { return serverName; }
    /** The Via pseudonym, or null when no Via is added. */
    public String via() { return via; }
    /** The response header naming the endpoint, or null when none is added. */
    public String servedByHeader() { return servedByHeader; }
    public boolean xForwarded() { return xForwarded; }
    public boolean forwarded() { return forwarded; }
    public ForwardedFor forwardedFor() { return forwardedFor; }
    /** The {@code by=} value of {@code Forwarded}, or null for none. */
    public String forwardedBy() { return forwardedBy; }
    public int maxConnectionsPerEndpoint() { return maxConnectionsPerEndpoint; }
    public Duration keepAliveTimeout() { return keepAliveTimeout; }
    public int bufferSize() { return bufferSize; }
    /** The executor the HTTP client runs on, or null for a pool of the filter's own. */
    public java.util.concurrent.Executor executor() { return executor; }
    public Ticker ticker() { return ticker; }
    /** Session forwarding, or null when none is configured. */
    public SessionForwarding sessionForwarding() { return sessionForwarding; }
    /** The access log, or null for none. */
    public AccessLog accessLog() { return accessLog; }
    /** The proxy's meters, or null for none. */
    public ProxyMeters meters() { return meters; }
    /** The request id header passed on or generated (nginx {@code $request_id}), or null for none. */
    public String requestIdHeader() { return requestIdHeader; }
    /** The path answered with the {@code stub_status} page, or null for none. */
    public String statusPath() { return statusPath; }
    /** The response fields added on every answer of a route without its own (nginx {@code add_header}). */
    public AddedHeaders addedHeaders() { return addedHeaders; }
    /** The {@code allow}/{@code deny} rules of routes without their own, or null for none. */
    public CidrRules access() { return access; }
    /** The geo block of routes without their own, or null for none. */
    public GeoBlock geoBlock() { return geoBlock; }

    /** Builder for {@link ProxyConfig}. */
    public static final class Builder {
        private final List<Route> routes = new ArrayList<>();
        private Duration connectTimeout = Duration.ofSeconds(60);
        private Duration readTimeout = Duration.ofSeconds(60);
        private Duration totalTimeout = Duration.ZERO;
        private Duration clientBodyTimeout = Duration.ofSeconds(60);
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private long maxRequestBodyBytes = 1L << 20;
        private int maxRequestHeaderBytes = 32 * 1024;
        private CidrRules trustedProxies = CidrRules.parse("deny all;");
        private HostHeader hostHeader = HostHeader.CLIENT;
        private String serverName;
        private String via = "lbkit";
        private String servedByHeader = "X-Served-By";
        private boolean xForwarded = true;
        private boolean forwarded = true;
        private ForwardedFor forwardedFor = ForwardedFor.ADDRESS;
        private String forwardedBy;
        private int maxConnectionsPerEndpoint = 4096;
        private Duration keepAliveTimeout = Duration.ofSeconds(60);
        private int bufferSize = 16 * 1024;
        private java.util.concurrent.Executor executor;
        private Ticker ticker = Ticker.system();
        private SessionForwarding sessionForwarding;
        private AccessLog accessLog;
        private ProxyMeters meters;
        private String requestIdHeader;
        private String statusPath;
        private AddedHeaders addedHeaders = AddedHeaders.none();
        private CidrRules access;
        private GeoBlock geoBlock;

        private Builder() {
        }

        /** Adds a route; routes are tried in the order added. */
        public Builder route(Route route) {
            routes.add(Objects.requireNonNull(route, "route"));
            return this;
        }

        public Builder connectTimeout(Duration d) { this.connectTimeout = d; return this; }

        /** Read-idle timeout: the longest pause between two reads from the backend. */
        public Builder readTimeout(Duration d) { this.readTimeout = d; return this; }

        /** Whole-exchange timeout; {@link Duration#ZERO} = none. */
        public Builder totalTimeout(Duration d) { this.totalTimeout = d; return this; }

        /**
         * The longest pause between two reads of the client's request body while the proxy waits
         * for it (not while the backend holds it back): then 408, {@code Connection: close}, and
         * the backend attempt is cancelled (not counted against the endpoint).
         */
        public Builder clientBodyTimeout(Duration d) { this.clientBodyTimeout = d; return this; }

        public Builder retryPolicy(RetryPolicy p) { this.retryPolicy = p; return this; }

        /** Largest request body; 0 = unlimited. */
        public Builder maxRequestBodyBytes(long n) { this.maxRequestBodyBytes = n; return this; }

        /** Largest total size of the request header fields (names + values). */
        public Builder maxRequestHeaderBytes(int n) { this.maxRequestHeaderBytes = n; return this; }

        /**
         * Peers whose X-Forwarded-* / Forwarded / Via headers are believed (appended to) instead
         * of replaced, e.g. {@code CidrRules.parse("allow 10.0.0.0/8; deny all;")}.
         */
        public Builder trustedProxies(CidrRules rules) { this.trustedProxies = rules; return this; }

        public Builder hostHeader(HostHeader h) { this.hostHeader = h; return this; }

        /**
         * The host name (optionally {@code :port}) that stands for the client's when a request has
         * no Host header (HTTP/1.0), as nginx's {@code server_name}; null for none.
         */
        public Builder serverName(String name) { this.serverName = name; return this; }

        /** The Via pseudonym (a token); null for no Via header. */
        public Builder via(String name) { this.via = name; return this; }

        /** The response header that names the endpoint; null for none. */
        public Builder servedByHeader(String name) { this.servedByHeader = name; return this; }

        /** Whether to send X-Forwarded-For, -Proto, -Host and -Port. */
        public Builder xForwarded(boolean on) { this.xForwarded = on; return this; }

        /** Whether to send RFC 7239 {@code Forwarded}. */
        public Builder forwarded(boolean on) { this.forwarded = on; return this; }

        public Builder forwardedFor(ForwardedFor f) { this.forwardedFor = f; return this; }

        /** The {@code by=} of {@code Forwarded}: an obfuscated node name such as {@code _proxy1}. */
        public Builder forwardedBy(String by) { this.forwardedBy = by; return this; }

        /** The most connections to one endpoint (the pool cap per destination). */
        public Builder maxConnectionsPerEndpoint(int n) { this.maxConnectionsPerEndpoint = n; return this; }

        /** How long an idle pooled backend connection is kept. */
        public Builder keepAliveTimeout(Duration d) { this.keepAliveTimeout = d; return this; }

        /** The request body buffer and backend read buffer size in bytes (1 KiB .. 1 MiB). */
        public Builder bufferSize(int n) { this.bufferSize = n; return this; }


        /**
         * The executor the HTTP client runs its tasks on, e.g. the container's own pool so one
         * set of threads serves both sides; null (the default) for a pool of the filter's own.
         * The filter does not stop an executor it was given.
         */
        public Builder executor(java.util.concurrent.Executor e) { this.executor = e; return this; }

        /** The time source for retry budgets ({@link RetryPolicy#timeout()}). */
        public Builder ticker(Ticker t) { this.ticker = t; return this; }

        /**
         * Forwards sessions from a store to the backends and applies their updates;
         * null (the default) for none. See {@link SessionForwarding}.
         */
        public Builder sessionForwarding(SessionForwarding forwarding) {
            this.sessionForwarding = forwarding;
            return this;
        }

        /** Writes a line per request to {@code log}; null (the default) for none. See {@link AccessLog}. */
        public Builder accessLog(AccessLog log) { this.accessLog = log; return this; }

        /**
         * Records every request in {@code meters} (requests by route, upstream, endpoint and status
         * class, upstream timings, retries, limit rejections, bytes); null (the default) for none.
         * See {@link ProxyMeters}; it needs Micrometer on the classpath.
         */
        public Builder meters(ProxyMeters meters) { this.meters = meters; return this; }

        /**
         * The request id header: a trusted peer's value is passed on, else a new id (32 hex
         * characters, nginx's {@code $request_id}) is set; the backend gets it and the access log
         * prints it as {@code $request_id}. Null (the default) for none.
         */
        public Builder requestIdHeader(String name) { this.requestIdHeader = name; return this; }

        /** The exact path (e.g. "/nginx_status") answered with nginx's {@code stub_status} page; null (the default) for none. */
        public Builder statusPath(String path) { this.statusPath = path; return this; }

        /**
         * Response fields added to the answers of every route that has none of its own (nginx
         * {@code add_header} at {@code server} level), and to the proxy's answers that no route
         * is known for; see {@link AddedHeaders}. Default none.
         */
        public Builder addedHeaders(AddedHeaders headers) {
            this.addedHeaders = Objects.requireNonNull(headers, "addedHeaders");
            return this;
        }

        /**
         * nginx {@code allow}/{@code deny} at {@code server} level: the rules of every route
         * without its own (first match wins, no match allows, a denied request gets 403),
         * checked against the real client address ({@code RealClientAddress}); null (the
         * default) for none.
         */
        public Builder access(CidrRules rules) { this.access = rules; return this; }

        /**
         * Refuses (403) clients whose real address a geo table maps to a blocked value, on every
         * route without its own (seed 004's {@code geo} + {@code if (...) return 403}); null for none.
         */
        public Builder geoBlock(GeoBlock block) { this.geoBlock = block; return this; }

        public ProxyConfig build() {
            if (routes.isEmpty()) {
                throw new IllegalArgumentException("routes must not be empty, got 0 routes");
            }
            positive("connectTimeout", connectTimeout);
            positive("readTimeout", readTimeout);
            notNegative("totalTimeout", totalTimeout);
            positive("clientBodyTimeout", clientBodyTimeout);
            positive("keepAliveTimeout", keepAliveTimeout);
            Objects.requireNonNull(retryPolicy, "retryPolicy");
            if (maxRequestBodyBytes < 0) {
                throw new IllegalArgumentException("maxRequestBodyBytes must be >= 0, got " + maxRequestBodyBytes);
            }
            if (maxRequestHeaderBytes < 1024) {
                throw new IllegalArgumentException("maxRequestHeaderBytes must be >= 1024, got " + maxRequestHeaderBytes);
            }
            Objects.requireNonNull(trustedProxies, "trustedProxies");
            Objects.requireNonNull(hostHeader, "hostHeader");
            if (serverName != null && (serverName.isEmpty() || !Headers.isValidHost(serverName))) {
                throw new IllegalArgumentException("serverName must be a host name, got '" + serverName + "'");
            }
            Objects.requireNonNull(forwardedFor, "forwardedFor");
            Objects.requireNonNull(ticker, "ticker");
            if (via != null && (via.isEmpty() || !Headers.isToken(via))) {
                throw new IllegalArgumentException("via must be a token, got '" + via + "'");
            }
            if (servedByHeader != null && (servedByHeader.isEmpty() || !Headers.isToken(servedByHeader))) {
                throw new IllegalArgumentException("servedByHeader must be a header name, got '" + servedByHeader + "'");
            }
            if (forwardedBy != null && (forwardedBy.isEmpty() || !Headers.isToken(forwardedBy))) {
                throw new IllegalArgumentException("forwardedBy must be a token such as _proxy1, got '" + forwardedBy + "'");
            }
            if (maxConnectionsPerEndpoint < 1) {
                throw new IllegalArgumentException(
                        "maxConnectionsPerEndpoint must be >= 1, got " + maxConnectionsPerEndpoint);
            }
            if (bufferSize < 1024 || bufferSize > (1 << 20)) {
                throw new IllegalArgumentException("bufferSize must be 1024..1048576, got " + bufferSize);
            }
            if (requestIdHeader != null && (requestIdHeader.isEmpty() || !Headers.isToken(requestIdHeader))) {
                throw new IllegalArgumentException("requestIdHeader must be a header name, got '" + requestIdHeader + "'");
            }
            if (statusPath != null && (!statusPath.startsWith("/") || statusPath.indexOf('?') >= 0)) {
                throw new IllegalArgumentException("statusPath must be a path starting with /, got '" + statusPath + "'");
            }
            return new ProxyConfig(this);
        }

        private static void positive(String field, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(field + " must be > 0, got " + d);
            }
        }

        private static void notNegative(String field, Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException(field + " must be >= 0, got " + d);
            }
        }
    }
}

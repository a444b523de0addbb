package io.lbkit.proxy;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.engine.ClientRequest;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.RequestText;
import io.lbkit.proxy.engine.RequestValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * One proxy rule: which requests it takes (path prefix, host, methods, a header) and the
 * {@link Upstream} that serves them, the equivalent of an nginx {@code location} with
 * {@code proxy_pass}. An engine tries its routes in order; the first that matches
 * wins. A request no route matches goes down the filter chain, so the application serves it.
 *
 * <pre>{@code
 * Route api = Route.builder("api", upstream)
 *         .pathPrefix("/api/")          // nginx: location /api/ { proxy_pass http://backend; }
 *         .methods("GET", "POST")
 *         .sticky(StickyCookie.builder(key).build())
 *         .build();
 * }</pre>
 *
 * <p>Every condition left unset matches everything. Path prefixes are compared as plain string
 * prefixes (as nginx's prefix {@code location}) against the decoded, normalized path inside the
 * web application ({@code servletPath + pathInfo}); the raw request URI is what is forwarded.
 * Hosts are compared without the port and ignoring case. Instances are immutable but for the
 * upstream, which {@link #switchUpstream} changes (blue/green).
 */
public final class Route {

    private final String name;
    private final java.util.concurrent.atomic.AtomicReference<Upstream> upstream; // blue/green: switchUpstream
    private final String pathPrefix;
    private final String host;
    private final Set<String> methods;
    private final String headerName;
    private final String headerValue;
    private final RetryPolicy retryPolicy;
    private final StickyCookie sticky;
    private final RateLimiter rateLimiter;
    private final ConcurrencyLimiter concurrencyLimiter;
    private final FanOut fanOut;
    private final RequestValue target;
    private final String targetMetadata;
    private final RequestValue hashKey;
    private final AddedHeaders addedHeaders;
    private final CidrRules access;
    private final ValueMap matchMap;
    private final Set<String> matchMapValues;
    private final GeoBlock geoBlock;
    private final List<RateLimit> rateLimits;
    private final RateLimiter[] chain;
    private final RateLimit[] sharedLimits;
    private final ConnLimit[] connLimits;
    private final long limitRate;
    private final long limitRateAfter;
    private final boolean limitDryRun;
    private final Canary canary;

    private Route(Builder b) {
        this.name = b.name;
        this.upstream = new java.util.concurrent.atomic.AtomicReference<>(b.upstream);
        this.pathPrefix = b.pathPrefix;
        this.host = b.host;
        this.methods = Set.copyOf(b.methods);
        this.headerName = b.headerName;
        this.headerValue = b.headerValue;
        this.retryPolicy = b.retryPolicy;
        this.sticky = b.sticky;
        this.rateLimiter = b.rateLimiter;
        this.concurrencyLimiter = b.concurrencyLimiter;
        this.fanOut = b.fanOut;
        this.target = b.target;
        this.targetMetadata = b.targetMetadata;
        this.hashKey = b.hashKey;
        this.addedHeaders = b.addedHeaders;
        this.access = b.access;
        this.matchMap = b.matchMap;
        this.matchMapValues = b.matchMapValues;
        this.geoBlock = b.geoBlock;
        this.rateLimits = List.copyOf(b.rateLimits);
        List<RateLimiter> all = new ArrayList<>();
        if (rateLimiter != null) {
            all.add(rateLimiter);
        }
        rateLimits.stream().filter(l -> l.shared() == null).forEach(l -> all.add(l.limiter()));
        this.chain = all.toArray(new RateLimiter[0]);
        this.sharedLimits = rateLimits.stream().filter(l -> l.shared() != null).toArray(RateLimit[]::new);
        this.connLimits = b.connLimits.toArray(new ConnLimit[0]);
        this.limitRate = b.limitRate;
        this.limitRateAfter = b.limitRateAfter;
        this.limitDryRun = b.limitDryRun;
        this.canary = b.canary;
    }

    /** A builder for a route called {@code name} (used in logs) to {@code upstream}. */
    public static Builder builder(String name, Upstream upstream) {
        return new Builder(name, upstream);
    }

    public String name() { return name; }

    public Upstream upstream() { return upstream.get(); }

    /**
     * Blue/green: sends the requests that start from now on to {@code next} instead of the
     * current upstream. Requests already under way finish on the upstream they began with
     * (their retries too), so a switch drops none. A canary keeps its own upstream; a sticky
     * cookie naming an endpoint {@code next} lacks is ignored. Thread-safe.
     *
     * @return the upstream the route had
     * @throws IllegalArgumentException when {@code next} cannot serve this route (a broadcast
     *         route's primary endpoint is not in it); the route is then unchanged
     */
    public Upstream switchUpstream(Upstream next) {
        Objects.requireNonNull(next, "next");
        if (fanOut != null && fanOut.primary() != null && next.endpoint(fanOut.primary()).isEmpty()) {
            throw new IllegalArgumentException("route '" + name + "': fan-out primary '" + fanOut.primary()
                    + "' is not an endpoint of upstream '" + next.name() + "'");
        }
        return upstream.getAndSet(next);
    }

    /** The path prefix, or null for any path. */
    public String pathPrefix() { return pathPrefix; }

    /** The host (lower case, no port), or null for any host. */
    public String host() { return host; }

    /** The methods (upper case); empty for any method. */
    public Set<String> methods() { return methods; }

    /** The header that must be present, or null. */
    public String headerName() { return headerName; }

    /** The value that header must have (exact), or null for "present with any value". */
    public String headerValue() { return headerValue; }

    /** The retry policy of this route, or null to use the filter's. */
    public RetryPolicy retryPolicy() { return retryPolicy; }

    /** The sticky cookie settings, or null when the route is not sticky. */
    public StickyCookie sticky() { return sticky; }

    /** The request rate limit (nginx {@code limit_req}) keyed by client address, or null. */
    public RateLimiter rateLimiter() { return rateLimiter; }

    /** The concurrency limit (nginx {@code limit_conn}) keyed by client address, or null. */
    public ConcurrencyLimiter concurrencyLimiter() { return concurrencyLimiter; }

    /** The fan-out settings when this is a broadcast route, else null. */
    public FanOut fanOut() { return fanOut; }

    /** The request value naming the endpoint of a targeted route, or null. */
    public RequestValue target() { return target; }

    /** The endpoint metadata key the target value is matched against; null = the endpoint id. */
    public String targetMetadata() { return targetMetadata; }

    /** The hash key of each pick (for hashing policies), or null for none. */
    public RequestValue hashKey() { return hashKey; }

    /** The route's own added response fields (nginx {@code add_header}), or null to inherit the proxy's. */
    public AddedHeaders addedHeaders() { return addedHeaders; }

    /** The route's own {@code allow}/{@code deny} rules, or null to use the proxy's. */
    public CidrRules access() { return access; }

    /** The map whose result this route matches on, or null. */
    public ValueMap matchMap() { return matchMap; }

    /** The results of {@link #matchMap()} this route takes; empty when there is no map match. */
    public Set<String> matchMapValues() { return matchMapValues; }

    /** The route's own geo block, or null to use the proxy's. */
    public GeoBlock geoBlock() { return geoBlock; }

    /** The keyed rate limits added with {@link Builder#rateLimit}, in order (after {@link #rateLimiter()}). */
    public List<RateLimit> rateLimits() { return rateLimits; }

    /**
     * Every rate limiter of the route decided in this process, in order: {@link #rateLimiter()} (if
     * set) first, then the {@link #rateLimits()} that are not shared. A shared array: callers must
     * not change it.
     */
    public RateLimiter[] rateLimiterChain() { return chain; }

    /**
     * The {@link #rateLimits()} whose bucket a store shares ({@link RateLimit#shared}), in order;
     * decided after the local ones. A shared array: callers must not change it.
     */
    public RateLimit[] sharedRateLimits() { return sharedLimits; }

    /**
     * The keyed connection limits added with {@link Builder#connLimit}, in order (after
     * {@link #concurrencyLimiter()}). A shared array: callers must not change it.
     */
    public ConnLimit[] connLimits() { return connLimits; }

    /** nginx {@code limit_rate}: a response's bytes per second to the client; 0 (the default) for no limit. */
    public long limitRate() { return limitRate; }

    /** nginx {@code limit_rate_after}: the bytes of a response sent before {@link #limitRate()} applies. */
    public long limitRateAfter() { return limitRateAfter; }

    /** Whether the rate limits only decide and log (nginx {@code limit_req_dry_run on}). */
    public boolean limitDryRun() { return limitDryRun; }

    /** The canary that takes some of the route's requests, or null. */
    public Canary canary() { return canary; }

    /** Whether the body must be read before the first pick: a broadcast route, or a target read from a form. */
    public boolean buffersBody(String contentType) {
        return fanOut != null || (target != null && target.needsBody() && RequestValues.isForm(contentType));
    }

    /** Whether this route takes {@code request} (path prefix, method, host, header, map result). */
    public boolean matches(ClientRequest request) {
        if (pathPrefix != null && !request.path().startsWith(pathPrefix)) {
            return false;
        }
        if (!methods.isEmpty() && !methods.contains(request.method())) {
            return false;
        }
        if (host != null && !host.equalsIgnoreCase(request.serverName())) {
            return false;
        }
        if (headerName != null) {
            String v = request.header(headerName);
            if (v == null || (headerValue != null && !headerValue.equals(v))) {
                return false;
            }
        }
        return matchMap == null || matchMapValues.contains(
                matchMap.lookup(RequestText.of(matchMap.source(), request, new RequestValues.Slice())));
    }

    @Override
    public String toString() {
        return "Route[" + name + " -> " + upstream.get().name() + "]";
    }

    /** Builder for {@link Route}; validation happens in {@link #build()}. */
    public static final class Builder {
        private final String name;
        private final Upstream upstream;
        private String pathPrefix;
        private String host;
        private final Set<String> methods = new TreeSet<>();
        private String headerName;
        private String headerValue;
        private RetryPolicy retryPolicy;
        private StickyCookie sticky;
        private RateLimiter rateLimiter;
        private ConcurrencyLimiter concurrencyLimiter;
        private FanOut fanOut;
        private RequestValue target;
        private String targetMetadata;
        private RequestValue hashKey;
        private AddedHeaders addedHeaders;
        private CidrRules access;
        private ValueMap matchMap;
        private Set<String> matchMapValues = Set.of();
        private GeoBlock geoBlock;
        private final List<RateLimit> rateLimits = new ArrayList<>();
        private final List<ConnLimit> connLimits = new ArrayList<>();
        private long limitRate;
        private long limitRateAfter;
        private boolean limitDryRun;
        private Canary canary;

        private Builder(String name, Upstream upstream) {
            this.name = name;
            this.upstream = upstream;
        }

        /** Matches paths starting with {@code prefix}, which must start with {@code /}. */
        public Builder pathPrefix(String prefix) { this.pathPrefix = prefix; return this; }

        /** Matches requests for this host name (case-insensitive, port ignored). */
        public Builder host(String host) { this.host = host; return this; }

        /** Matches these methods (case-sensitive as HTTP methods are; given upper case). */
        public Builder methods(String... methods) {
            for (String m : methods) {
                this.methods.add(Objects.requireNonNull(m, "method"));
            }
            return this;
        }

        /** Matches requests carrying header {@code name} (any value). */
        public Builder header(String name) { return header(name, null); }

        /** Matches requests whose header {@code name} equals {@code value} (null: any value). */
        public Builder header(String name, String value) {
            this.headerName = name;
            this.headerValue = value;
            return this;
        }

        /** Overrides the filter's retry policy for this route. */
        public Builder retryPolicy(RetryPolicy policy) { this.retryPolicy = policy; return this; }

        /** Makes the route sticky with a signed cookie naming the endpoint (nginx {@code sticky cookie}). */
        public Builder sticky(StickyCookie sticky) { this.sticky = sticky; return this; }

        /** nginx {@code limit_req} per client address: reject or delay as the limiter decides. */
        public Builder rateLimiter(RateLimiter limiter) { this.rateLimiter = limiter; return this; }

        /** nginx {@code limit_conn} per client address. */
        public Builder concurrencyLimiter(ConcurrencyLimiter limiter) {
            this.concurrencyLimiter = limiter;
            return this;
        }

        /**
         * Makes this a broadcast route: every request goes to every eligible endpoint
         * and the answers are aggregated as {@code fanOut} says.
         */
        public Builder broadcast(FanOut fanOut) { this.fanOut = fanOut; return this; }

        /**
         * Makes this a targeted route: {@code value} (e.g. {@code RequestValue.param("backend")})
         * names the endpoint id that serves the request. Missing value → 400, no such endpoint →
         * 404, endpoint unavailable → 503; never another endpoint.
         */
        public Builder target(RequestValue value) { return target(value, null); }

        /**
         * A targeted route whose value is matched against the endpoint metadata {@code metadataKey}
         * (the first endpoint in configuration order with that value serves); null = the endpoint id.
         */
        public Builder target(RequestValue value, String metadataKey) {
            this.target = value;
            this.targetMetadata = metadataKey;
            return this;
        }

        /**
         * The hash key of hashing policies ({@code hash}, {@code consistent-hash}, Maglev, jump,
         * rendezvous, bounded load): nginx {@code hash $http_x_user} is
         * {@code hashKey(RequestValue.header("X-User"))}. ip-hash always uses the client address.
         */
        public Builder hashKey(RequestValue value) { this.hashKey = value; return this; }

        /**
         * Response fields added on this route's answers (nginx {@code add_header} in a
         * {@code location}); a route with its own does not get the proxy's, null (the default)
         * inherits them, {@link AddedHeaders#none()} stops the inheritance.
         */
        public Builder addedHeaders(AddedHeaders headers) { this.addedHeaders = headers; return this; }

        /**
         * nginx {@code allow}/{@code deny} in a {@code location}: the real client address (see
         * {@code RealClientAddress}) is checked against {@code rules}, first match wins, a denied
         * request gets 403. A route with rules of its own does not use the proxy's; null (the
         * default) uses them.
         */
        public Builder access(CidrRules rules) { this.access = rules; return this; }

        /**
         * Adds a keyed rate limit (nginx {@code limit_req zone=...}); every limit of a route
         * applies, decided together as nginx does: the first past its burst refuses the request
         * (its limiter's status) and nothing is counted, else the longest delay wins.
         */
        public Builder rateLimit(RateLimit limit) {
            rateLimits.add(Objects.requireNonNull(limit, "limit"));
            return this;
        }

        /**
         * Adds a {@code limit_conn} keyed by a request value or a map's result; several all apply,
         * in the order added, after {@link #concurrencyLimiter} (the one keyed by the peer address).
         */
        public Builder connLimit(ConnLimit limit) {
            connLimits.add(Objects.requireNonNull(limit, "limit"));
            return this;
        }

        /**
         * nginx {@code limit_rate}: each response's body goes to the client at most this many bytes
         * per second (after {@link #limitRateAfter}), nginx's arithmetic ({@code ResponseRate}); 0
         * for none. The event-loop engine paces on its loop's timers; the servlet engine refuses a
         * route that sets it.
         */
        public Builder limitRate(long bytesPerSecond) {
            if (bytesPerSecond < 0) {
                throw new IllegalArgumentException("limitRate must be >= 0 bytes per second, got " + bytesPerSecond);
            }
            this.limitRate = bytesPerSecond;
            return this;
        }

        /** nginx {@code limit_rate_after}: the first bytes of each response go unpaced (default 0). */
        public Builder limitRateAfter(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("limitRateAfter must be >= 0 bytes, got " + bytes);
            }
            this.limitRateAfter = bytes;
            return this;
        }

        /**
         * nginx {@code limit_req_dry_run on}: the rate limits decide and count as usual, but a
         * request they would refuse or delay goes on at once (the decision is logged at DEBUG).
         */
        public Builder limitDryRun(boolean on) { this.limitDryRun = on; return this; }

        /**
         * Sends some requests to a canary upstream: those a condition picks, then a share by
         * percentage (see {@link Canary}). Not with broadcast, target or sticky routes.
         */
        public Builder canary(Canary canary) { this.canary = canary; return this; }

        /** Refuses (403) clients the route's geo table maps to a blocked value; null: the proxy's. */
        public Builder geoBlock(GeoBlock block) { this.geoBlock = block; return this; }

        /**
         * Matches requests for which {@code map} gives one of {@code values} (nginx: a
         * {@code map} variable tested in the location, e.g. {@code if ($tier = premium)}). A map
         * of the client address reads the peer's address here.
         */
        public Builder match(ValueMap map, String... values) {
            this.matchMap = Objects.requireNonNull(map, "map");
            this.matchMapValues = Set.of(values);
            return this;
        }

        public Route build() {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("route name must not be blank, got '" + name + "'");
            }
            if (upstream == null) {
                throw new IllegalArgumentException("route '" + name + "': upstream must not be null");
            }
            if (pathPrefix != null && !pathPrefix.startsWith("/")) {
                throw new IllegalArgumentException(
                        "route '" + name + "': pathPrefix must start with '/', got '" + pathPrefix + "'");
            }
            if (host != null) {
                if (host.isBlank() || host.indexOf(':') >= 0 && !host.startsWith("[")) {
                    throw new IllegalArgumentException(
                            "route '" + name + "': host must be a host name without port, got '" + host + "'");
                }
                host = host.toLowerCase(Locale.ROOT);
            }
            for (String m : methods) {
                if (m.isEmpty() || !Headers.isToken(m)) {
                    throw new IllegalArgumentException("route '" + name + "': method must be a token, got '" + m + "'");
                }
            }
            if (headerName != null && (headerName.isEmpty() || !Headers.isToken(headerName))) {
                throw new IllegalArgumentException(
                        "route '" + name + "': header name must be a token, got '" + headerName + "'");
            }
            if (fanOut != null && (target != null || sticky != null)) {
                throw new IllegalArgumentException("route '" + name + "': broadcast cannot be combined with "
                        + (target != null ? "target" : "sticky"));
            }
            if (target != null && sticky != null) {
                throw new IllegalArgumentException("route '" + name + "': target cannot be combined with sticky");
            }
            if (fanOut != null && limitRate > 0) {
                throw new IllegalArgumentException("route '" + name + "': limitRate cannot be combined with broadcast "
                        + "(the proxy writes the aggregated answer itself)");
            }
            if (fanOut != null && fanOut.primary() != null && upstream.endpoint(fanOut.primary()).isEmpty()) {
                throw new IllegalArgumentException("route '" + name + "': fan-out primary '" + fanOut.primary()
                        + "' is not an endpoint of upstream '" + upstream.name() + "'");
            }
            if (targetMetadata != null && targetMetadata.isEmpty()) {
                throw new IllegalArgumentException("route '" + name + "': target metadata key must not be empty");
            }
            if (canary != null && (fanOut != null || target != null || sticky != null)) {
                throw new IllegalArgumentException("route '" + name + "': a canary cannot be combined with "
                        + (fanOut != null ? "broadcast" : target != null ? "target" : "sticky"));
            }
            if (matchMap != null && matchMapValues.isEmpty()) {
                throw new IllegalArgumentException("route '" + name + "': a map match needs at least one value");
            }
            if (hashKey != null && hashKey.needsBody()) {
                throw new IllegalArgumentException("route '" + name + "': hashKey cannot read the request body, got "
                        + hashKey);
            }
            return new Route(this);
        }
    }
}

package io.lbkit.config;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.GeoTable;
import io.lbkit.core.limit.Rate;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.ConnLimit;
import io.lbkit.proxy.GeoBlock;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.ValueMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the edge policy settings of a {@code serve} file:
 *
 * <pre>{@code
 * securityHeaders: seed-004            # a named preset (add_header ... always, for each field)
 * headers:                             # add_header NAME VALUE [always]
 *   X-Served: edge                     #   without always: only on 200, 201, 204, 206, 301..304, 307, 308
 *   X-Policy: { value: strict, always: true }
 * access: [allow 10.0.0.0/8, allow 127.0.0.1, deny all]   # allow / deny, first match wins, 403
 * maps:                                # map $http_x_api_key $tier { ... }
 *   tier: { source: header:X-Api-Key, entries: { premium-key-123: premium, "~^biz-": business }, default: free }
 * geo:                                 # geo $country { include countries.txt; }
 *   country: { file: countries.txt, default: "no" }     # or entries: { 10.0.0.0/8: "yes" }
 * geoBlock: { geo: country, values: ["no"] }           # if ($country = no) { return 403; }
 * routes:
 *   - upstream: app
 *     mapMatch: { map: tier, values: [premium] }       # the route takes these map results
 *     rateLimits:                                      # several limit_req, all apply
 *       - { rate: 10r/s, burst: 20, nodelay: true, key: "map:tier", status: 429 }
 *       - { rate: 100r/s, key: "header:X-Api-Key" }
 *       - { rate: 50r/s, zone: { name: api, store: "redis://10.0.0.5:6379", failOpen: true } }  # shared
 *     limitDryRun: false
 *     connLimits:                                      # limit_conn, any key
 *       - { max: 10, key: "header:X-Api-Key", status: 429 }
 *     limitRate: 64k                                   # limit_rate (event-loop engine only)
 *     limitRateAfter: 1m                               # limit_rate_after
 * }</pre>
 *
 * {@code headers}, {@code securityHeaders}, {@code access} and {@code geoBlock} may be set at the
 * top and in a route; a route that sets them gets none of the top level's (nginx's inheritance).
 */
final class EdgePolicyReader {

    /** The keys this reader takes at the top level. */
    static final String[] TOP_KEYS = {"headers", "securityHeaders", "access", "geoBlock", "maps", "geo"};

    /** The keys this reader takes in a route. */
    static final String[] ROUTE_KEYS = {"headers", "securityHeaders", "access", "geoBlock", "mapMatch", "rateLimits",
        "limitDryRun", "canary", "connLimits", "limitRate", "limitRateAfter"};

    private EdgePolicy.Level top = EdgePolicy.Level.EMPTY;
    private final Map<String, EdgePolicy.Level> routes = new LinkedHashMap<>();
    private final Map<String, ValueMap> maps = new HashMap<>();
    private final Map<String, GeoTable> geos = new HashMap<>();
    private final Path base;
    private Node limitRateAt; // the first route's limitRate, for an engine that cannot apply it

    /** @param base the directory relative file names ({@code geo.*.file}) are read from */
    EdgePolicyReader(Path base) {
        this.base = base;
    }

    /** {@code keys} and {@code more}, for {@code Node.allowOnly}. */
    static String[] with(String[] more, String... keys) {
        String[] all = new String[keys.length + more.length];
        System.arraycopy(keys, 0, all, 0, keys.length);
        System.arraycopy(more, 0, all, keys.length, more.length);
        return all;
    }

    void top(Node root) {
        for (Map.Entry<String, Node> e : root.get("maps").entries().entrySet()) {
            maps.put(e.getKey(), map(e.getValue()));
        }
        for (Map.Entry<String, Node> e : root.get("geo").entries().entrySet()) {
            geos.put(e.getKey(), geo(e.getValue()));
        }
        top = new EdgePolicy.Level(headers(root), access(root.get("access")), geoBlock(root.get("geoBlock")), null,
                List.of(), List.of(), false, null, Map.of(), List.of(), 0, 0);
    }

    void route(String name, Node route, java.util.Set<String> upstreams) {
        Node mm = route.get("mapMatch");
        ValueMap match = null;
        List<String> values = List.of();
        if (!mm.isMissing()) {
            mm.allowOnly("map", "values");
            match = namedMap(mm.get("map"));
            values = mm.get("values").strings();
            if (values.isEmpty()) {
                throw mm.get("values").error("must list at least one map result");
            }
        }
        List<RateLimit> limits = new ArrayList<>();
        Map<Integer, EdgePolicy.SharedZone> zones = new HashMap<>();
        for (Node l : route.get("rateLimits").items()) {
            EdgePolicy.SharedZone zone = sharedZone(l.get("zone"));
            if (zone != null) {
                zones.put(limits.size(), zone);
            }
            limits.add(rateLimit(l));
        }
        List<ConnLimit> conns = new ArrayList<>();
        for (Node c : route.get("connLimits").items()) {
            conns.add(connLimit(c));
        }
        EdgePolicy.Level l = new EdgePolicy.Level(headers(route), access(route.get("access")),
                geoBlock(route.get("geoBlock")), match, values, limits, route.get("limitDryRun").bool(false),
                canary(route.get("canary"), upstreams), zones, conns, route.get("limitRate").size(0),
                route.get("limitRateAfter").size(0));
        if (l.limitRate() > 0 && limitRateAt == null) {
            limitRateAt = route.get("limitRate");
        }
        if (!l.isEmpty()) {
            routes.put(name, l);
        }
    }

    /** {@code engine: servlet}: refuses a route's {@code limitRate}, which only the event-loop engine applies. */
    void servletEngine() {
        if (limitRateAt != null) {
            throw limitRateAt.error("is applied by the event-loop engine only (engine: servlet does not pace responses)");
        }
    }

    EdgePolicy build() {
        return top.isEmpty() && routes.isEmpty() ? EdgePolicy.NONE : new EdgePolicy(top, routes);
    }

    // ---------------------------------------------------------------------------------------

    private static AddedHeaders headers(Node n) {
        Node preset = n.get("securityHeaders");
        Node fields = n.get("headers");
        if (preset.isMissing() && fields.isMissing()) {
            return null;
        }
        AddedHeaders.Builder b = AddedHeaders.builder();
        if (!preset.isMissing()) {
            try {
                b.securityPreset(preset.requiredString().trim());
            } catch (IllegalArgumentException e) {
                throw preset.error("must be '" + AddedHeaders.SEED_004 + "', got '" + preset.string("") + "'");
            }
        }
        for (Map.Entry<String, Node> e : fields.entries().entrySet()) {
            Node v = e.getValue();
            String value;
            boolean always;
            if (v.isMapping()) {
                v.allowOnly("value", "always");
                value = v.get("value").requiredString();
                always = v.get("always").bool(false);
            } else {
                value = v.requiredString();
                always = false;
            }
            try {
                b.add(e.getKey(), value, always);
            } catch (IllegalArgumentException x) {
                throw v.error(x.getMessage());
            }
        }
        return b.build();
    }

    private static CidrRules access(Node n) {
        if (n.isMissing()) {
            return null;
        }
        StringBuilder rules = new StringBuilder();
        for (Node item : n.items()) {
            String rule = item.requiredString().trim();
            if (!rule.startsWith("allow ") && !rule.startsWith("deny ")) {
                throw item.error("must be 'allow CIDR|all' or 'deny CIDR|all', got '" + rule + "'");
            }
            try {
                CidrRules.parse(rule + ";");
            } catch (IllegalArgumentException e) {
                throw item.error(e.getMessage());
            }
            rules.append(rule).append(';');
        }
        if (rules.isEmpty()) {
            throw n.error("must list at least one rule");
        }
        return CidrRules.parse(rules.toString());
    }

    private GeoBlock geoBlock(Node n) {
        if (n.isMissing()) {
            return null;
        }
        n.allowOnly("geo", "values");
        String name = n.get("geo").requiredString();
        GeoTable table = geos.get(name);
        if (table == null) {
            throw n.get("geo").error("no geo table named '" + name + "' (defined: " + geos.keySet() + ")");
        }
        List<String> values = n.get("values").strings();
        if (values.isEmpty()) {
            throw n.get("values").error("must list at least one value to refuse");
        }
        return new GeoBlock(table, java.util.Set.copyOf(values));
    }

    /**
     * {@code canary: { upstream: NAME, when: ["header:X-Canary=1", "cookie:canary=1"], percent: 10%,
     * key: client-ip }}.
     */
    private static EdgePolicy.CanarySpec canary(Node n, java.util.Set<String> upstreams) {
        if (n.isMissing()) {
            return null;
        }
        n.allowOnly("upstream", "when", "percent", "key");
        String up = n.get("upstream").requiredString();
        if (!upstreams.contains(up)) {
            throw n.get("upstream").error("no upstream named '" + up + "' (defined: " + upstreams + ")");
        }
        List<Map.Entry<RequestValue, String>> conditions = new ArrayList<>();
        for (Node w : n.get("when").items()) {
            String s = w.requiredString().trim();
            int eq = s.indexOf('=');
            if (eq < 0) {
                throw w.error("must be SOURCE=VALUE such as header:X-Canary=1, got '" + s + "'");
            }
            try {
                conditions.add(Map.entry(requestValue(s.substring(0, eq)), s.substring(eq + 1)));
            } catch (IllegalArgumentException e) {
                throw w.error(e.getMessage());
            }
        }
        String percent = n.get("percent").string(null);
        RequestValue key = percent == null ? null : requestValue(n.get("key"));
        if (percent == null && n.has("key")) {
            throw n.get("key").error("applies only with percent");
        }
        EdgePolicy.CanarySpec spec = new EdgePolicy.CanarySpec(up, conditions, percent, key);
        try {
            spec.build(io.lbkit.core.Upstream.builder(up).endpoint(io.lbkit.core.Endpoint.of("127.0.0.1", 1)).build());
        } catch (IllegalArgumentException e) {
            throw n.error(e.getMessage()); // a bad percent, or neither conditions nor percent
        }
        return spec;
    }

    private static ValueMap map(Node n) {
        n.allowOnly("source", "entries", "default");
        ValueMap.Builder b;
        try {
            b = ValueMap.builder(requestValue(n.get("source")));
        } catch (IllegalArgumentException e) {
            throw n.get("source").error(e.getMessage());
        }
        for (Map.Entry<String, Node> e : n.get("entries").entries().entrySet()) {
            try {
                b.entry(e.getKey(), e.getValue().string(""));
            } catch (IllegalArgumentException x) {
                throw e.getValue().error(x.getMessage());
            }
        }
        return b.defaultValue(n.get("default").string("")).build();
    }

    private GeoTable geo(Node n) {
        n.allowOnly("file", "entries", "default");
        GeoTable.Builder b = GeoTable.builder();
        String file = n.get("file").string(null);
        if (file != null) {
            Path p = base.resolve(file);
            try {
                GeoTable loaded = GeoTable.load(p); // the file's own lines, default included
                if (n.has("entries")) {
                    throw n.get("entries").error("cannot be combined with file");
                }
                return n.has("default") ? reDefault(p, n.get("default").string("")) : loaded;
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw n.get("file").error(e.getMessage());
            }
        }
        for (Map.Entry<String, Node> e : n.get("entries").entries().entrySet()) {
            try {
                b.add(e.getKey(), e.getValue().requiredString());
            } catch (IllegalArgumentException x) {
                throw e.getValue().error(x.getMessage());
            }
        }
        return b.defaultValue(n.get("default").string("")).build();
    }

    /** A file's table with the default given in the config file (it overrides a {@code default} line). */
    private static GeoTable reDefault(Path p, String dflt) {
        GeoTable.Builder b = GeoTable.builder();
        try {
            for (String line : java.nio.file.Files.readAllLines(p)) {
                b.line(line);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read geo table " + p, e);
        }
        return b.defaultValue(dflt).build();
    }

    private ValueMap namedMap(Node n) {
        return namedMap(n.requiredString(), n);
    }

    private ValueMap namedMap(String name, Node n) {
        ValueMap m = maps.get(name);
        if (m == null) {
            throw n.error("no map named '" + name + "' (defined: " + maps.keySet() + ")");
        }
        return m;
    }

    private RateLimit rateLimit(Node n) {
        n.allowOnly("rate", "burst", "delay", "nodelay", "key", "status", "maxKeys", "zone");
        RateLimiter.Builder b = RateLimiter.builder();
        try {
            b.rate(Rate.parse(n.get("rate").requiredString().trim()));
        } catch (IllegalArgumentException e) {
            throw n.get("rate").error(e.getMessage());
        }
        b.burst(n.get("burst").integer(0, 0, 1_000_000));
        if (n.get("nodelay").bool(false)) {
            if (n.has("delay")) {
                throw n.get("nodelay").error("cannot be combined with delay (as in nginx)");
            }
            b.noDelay();
        } else {
            b.delay(n.get("delay").integer(0, 0, 1_000_000));
        }
        b.rejectStatus(n.get("status").integer(503, 400, 599));
        b.maximumKeys(n.get("maxKeys").integer((int) RateLimiter.DEFAULT_MAXIMUM_KEYS, 1, 100_000_000));
        RateLimiter limiter = b.build();
        Node key = n.get("key");
        String k = key.string("client-ip").trim();
        if (k.startsWith("map:")) {
            return RateLimit.of(limiter, namedMap(k.substring(4), key));
        }
        try {
            return RateLimit.of(limiter, requestValue(key));
        } catch (IllegalArgumentException e) {
            throw key.error(e.getMessage());
        }
    }

    private ConnLimit connLimit(Node n) {
        n.allowOnly("max", "key", "status", "maxKeys");
        if (!n.has("max")) {
            throw n.get("max").error("is required: the requests of one key in flight at once (limit_conn N)");
        }
        ConcurrencyLimiter limiter = ConcurrencyLimiter.builder()
                .maxConcurrent(n.get("max").integer(1, 1, 65535))
                .rejectStatus(n.get("status").integer(503, 400, 599))
                .maximumKeys(n.get("maxKeys").integer((int) ConcurrencyLimiter.DEFAULT_MAXIMUM_KEYS, 1, 100_000_000))
                .build();
        Node key = n.get("key");
        String k = key.string("client-ip").trim();
        if (k.startsWith("map:")) {
            return ConnLimit.of(limiter, namedMap(k.substring(4), key));
        }
        try {
            return ConnLimit.of(limiter, requestValue(key));
        } catch (IllegalArgumentException e) {
            throw key.error(e.getMessage());
        }
    }

    /** {@code zone: { name: NAME, store: redis://..., failOpen: true }}, or null when the limit is local. */
    private static EdgePolicy.SharedZone sharedZone(Node n) {
        if (n.isMissing()) {
            return null;
        }
        n.allowOnly("name", "store", "failOpen");
        String name = n.get("name").requiredString().trim();
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw n.get("name").error("must be letters, digits and -_., got '" + name + "'");
        }
        String store = n.get("store").requiredString().trim();
        if (!store.startsWith("redis://") && !store.startsWith("rediss://")) {
            throw n.get("store").error("must be a redis:// or rediss:// URI");
        }
        return new EdgePolicy.SharedZone(name, store, n.get("failOpen").bool(true));
    }

    /** {@code client-ip}, {@code uri}, {@code header:NAME}, {@code cookie:NAME}, {@code query:NAME}. */
    private static RequestValue requestValue(Node n) {
        try {
            return requestValue(n.string("client-ip").trim());
        } catch (IllegalArgumentException e) {
            throw n.error(e.getMessage());
        }
    }

    private static RequestValue requestValue(String s) {
        if (s.equals("client-ip")) {
            return RequestValue.clientIp();
        }
        if (s.equals("uri")) {
            return RequestValue.uri();
        }
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        String name = colon < 0 ? "" : s.substring(colon + 1);
        return switch (kind) {
            case "header" -> RequestValue.header(name);
            case "cookie" -> RequestValue.cookie(name);
            case "query" -> RequestValue.query(name);
            default -> throw new IllegalArgumentException("must be client-ip, uri, header:NAME, cookie:NAME, query:NAME"
                    + " (or map:NAME for a rate limit key), got '" + s + "'");
        };
    }
}

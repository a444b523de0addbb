package io.lbkit.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.Rate;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.engine.SessionApiHandler;
import io.lbkit.config.ServeConfig.ActiveCheckSpec;
import io.lbkit.config.ServeConfig.AdminSpec;
import io.lbkit.config.ServeConfig.FanOutSpec;
import io.lbkit.config.ServeConfig.HashKey;
import io.lbkit.config.ServeConfig.Listener;
import io.lbkit.config.ServeConfig.MatchSpec;
import io.lbkit.config.ServeConfig.OutlierSpec;
import io.lbkit.config.ServeConfig.RateLimitSpec;
import io.lbkit.config.ServeConfig.RouteSpec;
import io.lbkit.config.ServeConfig.SessionSpec;
import io.lbkit.config.ServeConfig.StickySpec;
import io.lbkit.config.ServeConfig.TargetSpec;
import io.lbkit.config.ServeConfig.ProxySpec;
import io.lbkit.config.ServeConfig.TrustSpec;
import io.lbkit.config.ServeConfig.UpstreamSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads a {@code serve} configuration file, YAML or JSON (a file ending in {@code .json} is read
 * as JSON, anything else as YAML, of which JSON is a subset), and validates every value. Every
 * problem is a {@link ConfigException} naming the file, the path inside it and what is wrong;
 * unknown settings are errors. {@code ${NAME}} / {@code ${NAME:-default}} in a value is replaced
 * by the environment variable, so secrets stay out of the file.
 *
 * <p>One method per section of the file ({@code listen}, {@code proxy}, {@code upstreams},
 * {@code routes}, {@code sessions}, {@code trust}), each reading and validating its settings in
 * the order docs/configuration.md lists them; that reads best kept together, which is why the
 * class is longer than most (the value parsing it shares lives in {@link Node}).
 */
public final class ConfigLoader {

    static final int MAX_BODY_DEFAULT = 1 << 20; // nginx client_max_body_size 1m
    private static final ObjectMapper YAML = YAMLMapper.builder().build();
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private ConfigLoader() {
    }

    /** Loads and validates {@code file} with the process environment. */
    public static ServeConfig load(Path file) {
        return load(file, System::getenv);
    }

    static ServeConfig load(Path file, Function<String, String> env) {
        String name = file.toString();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, "", "no such file");
        } catch (IOException e) {
            throw new ConfigException(name, "", "cannot read: " + e.getMessage());
        }
        return parse(name, text, env);
    }

    /**
     * Parses configuration text; {@code name} names it in error messages and picks the syntax
     * (JSON when it ends in {@code .json}, else YAML).
     */
    public static ServeConfig parse(String name, String text) {
        return parse(name, text, System::getenv);
    }

    static ServeConfig parse(String name, String text, Function<String, String> env) {
        JsonNode tree;
        try {
            tree = (name.toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML).readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new ConfigException(name, "", "not valid " + (name.endsWith(".json") ? "JSON" : "YAML")
                    + (loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr())
                    + ": " + e.getOriginalMessage());
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new ConfigException(name, "", "the file is empty");
        }
        return read(new Node(name, "", tree, env));
    }

    /** The keys a file may have at its top level. */
    static final String[] TOP_KEYS = EdgePolicyReader.with(EdgePolicyReader.TOP_KEYS, "engine", "listen", "proxy",
            "upstreams", "routes", "sessions", "trust", "shutdownTimeout", "admin", "accessLog", "logFormats", "requestId",
            "statusPath");

    /** Reads and validates a parsed tree ({@code root} names its source in errors). */
    static ServeConfig read(Node root) {
        String name = root.file();
        root.requireObject();
        root.allowOnly(TOP_KEYS);
        return new Reader(name).read(root);
    }

    /** The directory files named in {@code source} are read from: its own, else the working directory. */
    private static Path baseDirectory(String source) {
        Path parent = Path.of(source).toAbsolutePath().getParent();
        return parent != null ? parent : Path.of("").toAbsolutePath();
    }

    /** One read of one file; keeps what later sections refer to. */
    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        ServeConfig read(Node root) {
            List<Listener> listeners = listeners(root.get("listen"));
            ProxySpec proxy = proxy(root.get("proxy"));
            Node ups = root.get("upstreams");
            if (ups.isMissing() || ups.entries().isEmpty()) {
                throw ups.error("at least one upstream is required");
            }
            Map<String, UpstreamSpec> upstreams = new LinkedHashMap<>();
            for (Map.Entry<String, Node> e : ups.entries().entrySet()) {
                upstreams.put(e.getKey(), upstream(e.getKey(), e.getValue()));
            }
            Node rs = root.get("routes");
            List<RouteSpec> routes = new ArrayList<>();
            EdgePolicyReader policy = new EdgePolicyReader(baseDirectory(source));
            policy.top(root);
            if (rs.isMissing()) {
                if (upstreams.size() != 1) {
                    throw rs.error("is required when there is more than one upstream");
                }
                routes.add(defaultRoute(upstreams.keySet().iterator().next()));
            } else {
                Set<String> names = new HashSet<>();
                for (Node r : rs.items()) {
                    RouteSpec route = route(r, upstreams);
                    if (!names.add(route.name())) {
                        throw r.get("name").error("duplicate route name '" + route.name() + "'");
                    }
                    routes.add(route);
                    policy.route(route.name(), r, upstreams.keySet());
                }
                if (routes.isEmpty()) {
                    throw rs.error("at least one route is required");
                }
            }
            SessionSpec sessions = sessions(root.get("sessions"));
            TrustSpec trust = trust(root.get("trust"));
            Duration shutdown = root.get("shutdownTimeout").duration(Duration.ofSeconds(30));
            ServeConfig.Engine engine = root.get("engine").choice(ServeConfig.Engine.class, ServeConfig.Engine.EVENT_LOOP);
            if (engine == ServeConfig.Engine.SERVLET) {
                servletClientLimits(root.get("proxy"), proxy);
                policy.servletEngine(); // limitRate
            }
            AdminSpec admin = AdminReader.read(root.get("admin"));
            ObserveSpec observe = ObserveSpec.read(root);
            return new ServeConfig(source, engine, listeners, proxy, upstreams, routes, sessions, trust, shutdown, admin,
                    policy.build(), observe);
        }

        ProxySpec proxy(Node n) {
            n.allowOnly("connectTimeout", "readTimeout", "totalTimeout", "clientBodyTimeout", "maxBodySize", "hostHeader",
                    "serverName", "servedByHeader",
                    "forwarded", "maxConnectionsPerEndpoint", "keepaliveTimeout", "threads", "workers",
                    "clientHeaderTimeout", "clientKeepaliveTimeout", "keepaliveRequests");
            String servedBy = n.get("servedByHeader").string("X-Served-By");
            if (servedBy.isBlank() || servedBy.equalsIgnoreCase("off") || servedBy.equalsIgnoreCase("false")) {
                servedBy = null;
            } else if (!servedBy.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                throw n.get("servedByHeader").error("must be a header name or off, got '" + servedBy + "'");
            }
            return new ProxySpec(n.get("connectTimeout").positiveDuration(Duration.ofSeconds(60)),
                    n.get("readTimeout").positiveDuration(Duration.ofSeconds(60)),
                    n.get("totalTimeout").duration(Duration.ZERO),
                    n.get("clientBodyTimeout").positiveDuration(Duration.ofSeconds(60)),
                    n.get("maxBodySize").size(MAX_BODY_DEFAULT),
                    n.get("hostHeader").choice(ProxySpec.HostHeaderMode.class, ProxySpec.HostHeaderMode.CLIENT),
                    serverName(n.get("serverName")), servedBy, n.get("forwarded").bool(true),
                    n.get("maxConnectionsPerEndpoint").integer(4096, 1, 100_000),
                    n.get("keepaliveTimeout").positiveDuration(Duration.ofSeconds(60)),
                    n.get("threads").integer(ProxySpec.DEFAULT_THREADS, 4, 10_000),
                    n.get("workers").integer(0, 0, 1024),
                    n.get("clientHeaderTimeout").positiveDuration(Duration.ofSeconds(60)),
                    n.get("clientKeepaliveTimeout").positiveDuration(Duration.ofSeconds(75)),
                    n.get("keepaliveRequests").integer(1000, 1, Integer.MAX_VALUE));
        }

        /**
         * What of the client connection settings the servlet engine cannot do: Jetty has no limit on
         * the time a request head takes and no limit on requests per connection, and its one idle
         * timeout (clientKeepaliveTimeout there) must outlast clientBodyTimeout for the 408 to come first.
         */
        private static void servletClientLimits(Node n, ProxySpec p) {
            if (n.has("clientHeaderTimeout")) {
                throw n.get("clientHeaderTimeout").error("applies to engine: event-loop only (Jetty's idle timeout "
                        + "restarts with each byte, so it cannot limit the time a request head takes)");
            }
            if (n.has("keepaliveRequests")) {
                throw n.get("keepaliveRequests").error("applies to engine: event-loop only (Jetty does not close "
                        + "a connection after a number of requests)");
            }
            if (n.has("clientKeepaliveTimeout") && p.clientKeepaliveTimeout().compareTo(p.clientBodyTimeout()) <= 0) {
                throw n.get("clientKeepaliveTimeout").error("must be longer than clientBodyTimeout ("
                        + p.clientBodyTimeout().toMillis() + " ms) on engine: servlet, where it is Jetty's idle timeout "
                        + "and would cut a stalled body before its 408, got " + p.clientKeepaliveTimeout().toMillis() + " ms");
            }
        }

        private static String serverName(Node n) {
            if (n.isMissing()) {
                return null;
            }
            String name = n.string(null);
            if (!name.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+](:[0-9]{1,5})?")) {
                throw n.error("must be a host name (optionally with :port), got '" + name + "'");
            }
            return name;
        }

        List<Listener> listeners(Node n) {
            List<Listener> out = new ArrayList<>();
            if (n.isMissing()) {
                out.add(new Listener("0.0.0.0", 8080, 8 * 1024));
                return out;
            }
            for (Node l : n.items()) {
                if (l.isMissing()) {
                    throw l.error("is empty");
                }
                Node obj = l;
                String host = "0.0.0.0";
                int port;
                int headers = 8 * 1024;
                int maxConnections = 0;
                if (!isObject(l)) {
                    String s = l.requiredString();
                    int colon = s.lastIndexOf(':');
                    if (colon >= 0) {
                        host = s.substring(0, colon).replace("[", "").replace("]", "");
                        s = s.substring(colon + 1);
                    }
                    if (!s.matches("\\d{1,5}") || Integer.parseInt(s) > 65535) {
                        throw l.error("must be a port or host:port, got " + l.describe());
                    }
                    port = Integer.parseInt(s);
                } else {
                    obj.allowOnly("host", "port", "maxRequestHeaderSize", "maxConnections");
                    maxConnections = obj.get("maxConnections").integer(0, 0, 10_000_000);
                    host = obj.get("host").string("0.0.0.0");
                    port = obj.get("port").integer(-1, 0, 65535);
                    if (port < 0) {
                        throw obj.get("port").error("is required");
                    }
                    headers = (int) Math.min(Integer.MAX_VALUE, obj.get("maxRequestHeaderSize").size(headers));
                    if (headers < 1024) {
                        throw obj.get("maxRequestHeaderSize").error("must be at least 1k, got " + headers);
                    }
                }
                out.add(new Listener(host, port, headers, maxConnections));
            }
            return out;
        }

        UpstreamSpec upstream(String name, Node n) {
            n.allowOnly("policy", "hashKey", "balanceFactor", "tableSize", "choiceCount", "endpoints",
                    "slowStart", "failureStatuses", "panicThreshold", "healthCheck", "outlierDetection");
            String policyName = n.get("policy").string("round-robin").trim();
            if (!BalancingPolicy.NAMES.contains(policyName)) {
                throw n.get("policy").error("unknown policy '" + policyName + "' (one of " + BalancingPolicy.NAMES + ")");
            }
            BalancingPolicy policy;
            try {
                BalancingPolicy.Builder b = BalancingPolicy.builder(policyName);
                if (n.has("balanceFactor")) {
                    b.balanceFactor(n.get("balanceFactor").integer(0, 0, 10_000));
                }
                if (n.has("tableSize")) {
                    b.tableSize(n.get("tableSize").integer(0, 1, Integer.MAX_VALUE));
                }
                if (n.has("choiceCount")) {
                    b.choiceCount(n.get("choiceCount").integer(2, 2, 10));
                }
                policy = b.build();
            } catch (IllegalArgumentException e) {
                throw n.get("policy").error(e.getMessage());
            }
            boolean hashing = Set.of("hash", "consistent-hash", "maglev", "jump", "rendezvous").contains(policyName);
            HashKey key = hashKey(n.get("hashKey"), policyName.equals("ip-hash")
                    ? new HashKey(HashKey.Source.CLIENT_IP, null) : new HashKey(HashKey.Source.NONE, null));
            if (hashing && key.source() == HashKey.Source.NONE) {
                throw n.get("hashKey").error("is required for policy " + policyName
                        + " (e.g. 'client-ip', 'uri', 'header:X-User', 'cookie:uid', 'query:id')");
            }
            Node eps = n.get("endpoints");
            if (eps.isMissing() || eps.items().isEmpty()) {
                throw eps.error("at least one endpoint is required");
            }
            List<Endpoint> endpoints = new ArrayList<>();
            Map<String, io.lbkit.core.EndpointState> states = new LinkedHashMap<>();
            Set<String> ids = new HashSet<>();
            for (Node e : eps.items()) {
                Endpoint ep = endpoint(e);
                if (!ids.add(ep.id())) {
                    throw e.error("duplicate endpoint id '" + ep.id() + "'");
                }
                endpoints.add(ep);
                if (e.isMapping()) {
                    Node stn = e.get("state");
                    io.lbkit.core.EndpointState st = "drain".equalsIgnoreCase(stn.string("").trim())
                            ? io.lbkit.core.EndpointState.DRAINING  // nginx's keyword
                            : stn.choice(io.lbkit.core.EndpointState.class, io.lbkit.core.EndpointState.UP);
                    if (st != io.lbkit.core.EndpointState.UP) {
                        states.put(ep.id(), st);
                    }
                }
            }
            Duration slowStart = n.get("slowStart").duration(Duration.ZERO);
            Set<Integer> failureStatuses = new LinkedHashSet<>();
            for (Node s : n.get("failureStatuses").items()) {
                int st = s.integer(0, 100, 599);
                if (st == 403 || st == 404) {
                    throw s.error("403 and 404 never count as failures (as in nginx), got " + st);
                }
                failureStatuses.add(st);
            }
            int panic = n.get("panicThreshold").integer(50, 0, 100);
            ActiveCheckSpec check = n.has("healthCheck") ? activeCheck(n.get("healthCheck")) : null;
            OutlierSpec outlier = outlier(n.get("outlierDetection"));
            return new UpstreamSpec(name, policyName, policy, key, endpoints, slowStart, failureStatuses, panic,
                    check, outlier, states);
        }

        Endpoint endpoint(Node e) {
            String address;
            Endpoint.Builder b;
            if (!isObject(e)) {
                address = e.requiredString().trim();
                b = parseAddress(e, address, null);
            } else {
                e.allowOnly("address", "id", "weight", "backup", "maxConnections", "maxFails", "failTimeout", "metadata",
                        "state");
                address = e.get("address").requiredString().trim();
                b = parseAddress(e.get("address"), address, e.get("id").string(null));
                b.weight(e.get("weight").integer(1, 1, 1_000_000));
                b.backup(e.get("backup").bool(false));
                b.maxConnections(e.get("maxConnections").integer(0, 0, Integer.MAX_VALUE));
                b.maxFails(e.get("maxFails").integer(1, 0, Integer.MAX_VALUE));
                b.failTimeout(e.get("failTimeout").duration(Endpoint.DEFAULT_FAIL_TIMEOUT));
                Map<String, String> meta = new LinkedHashMap<>();
                for (Map.Entry<String, Node> m : e.get("metadata").entries().entrySet()) {
                    meta.put(m.getKey(), m.getValue().requiredString());
                }
                b.metadata(meta);
            }
            try {
                return b.build();
            } catch (IllegalArgumentException ex) {
                throw e.error(ex.getMessage());
            }
        }

        Endpoint.Builder parseAddress(Node at, String address, String id) {
            Endpoint parsed;
            try {
                parsed = Endpoint.parse(address);
            } catch (IllegalArgumentException ex) {
                throw at.error(ex.getMessage());
            }
            if (!address.regionMatches(true, 0, "unix:", 0, 5) && (parsed.port() < 1 || parsed.port() > 65535)) {
                throw at.error("must be host:port with a port between 1 and 65535, got '" + address + "'");
            }
            return Endpoint.builder(id == null ? address : id).host(parsed.host()).port(parsed.port());
        }

        HashKey hashKey(Node n, HashKey dflt) {
            if (n.isMissing()) {
                return dflt;
            }
            String s = n.requiredString().trim();
            String lower = s.toLowerCase(Locale.ROOT);
            if (lower.equals("client-ip") || lower.equals("$remote_addr") || lower.equals("$binary_remote_addr")) {
                return new HashKey(HashKey.Source.CLIENT_IP, null);
            }
            if (lower.equals("uri") || lower.equals("$request_uri")) {
                return new HashKey(HashKey.Source.URI, null);
            }
            int colon = s.indexOf(':');
            if (colon > 0 && colon < s.length() - 1) {
                String kind = lower.substring(0, colon);
                String name = s.substring(colon + 1).trim();
                switch (kind) {
                    case "header" -> { return new HashKey(HashKey.Source.HEADER, name); }
                    case "cookie" -> { return new HashKey(HashKey.Source.COOKIE, name); }
                    case "query" -> { return new HashKey(HashKey.Source.QUERY, name); }
                    default -> { }
                }
            }
            throw n.error("must be client-ip, uri, header:NAME, cookie:NAME or query:NAME, got " + n.describe());
        }

        ActiveCheckSpec activeCheck(Node n) {
            n.allowOnly("type", "method", "path", "host", "expectStatus", "bodyContains", "interval", "timeout",
                    "rise", "fall", "fastInterval", "downInterval", "jitter", "startHealthy");
            ActiveCheckSpec.Type type = n.get("type").choice(ActiveCheckSpec.Type.class, ActiveCheckSpec.Type.HTTP);
            String method = n.get("method").string("GET").toUpperCase(Locale.ROOT);
            if (!Set.of("GET", "HEAD", "OPTIONS").contains(method)) {
                throw n.get("method").error("must be GET, HEAD or OPTIONS, got '" + method + "'");
            }
            String path = n.get("path").string("/");
            if (!path.startsWith("/")) {
                throw n.get("path").error("must start with '/', got '" + path + "'");
            }
            List<int[]> expect = new ArrayList<>();
            for (Node s : n.get("expectStatus").items()) {
                expect.add(statusRange(s));
            }
            if (expect.isEmpty()) {
                expect.add(new int[] {200, 399});
            }
            Duration interval = n.get("interval").positiveDuration(Duration.ofSeconds(2));
            Duration timeout = n.get("timeout").positiveDuration(Duration.ofSeconds(1));
            int rise = n.get("rise").integer(2, 1, 1000);
            int fall = n.get("fall").integer(3, 1, 1000);
            Duration fast = n.get("fastInterval").positiveDuration(interval);
            Duration down = n.get("downInterval").positiveDuration(interval);
            int jitter = n.get("jitter").integer(0, 0, 50);
            boolean startHealthy = n.get("startHealthy").bool(false);
            return new ActiveCheckSpec(type, method, path, n.get("host").string(null), expect,
                    n.get("bodyContains").string(null), interval, timeout, rise, fall, fast, down, jitter, startHealthy);
        }

        int[] statusRange(Node s) {
            String t = s.requiredString().trim();
            String[] parts = t.split("-", -1);
            if (parts.length > 2 || !parts[0].trim().matches("\\d{3}") || (parts.length == 2 && !parts[1].trim().matches("\\d{3}"))) {
                throw s.error("must be a status like 200 or a range like 200-399, got " + s.describe());
            }
            int lo = Integer.parseInt(parts[0].trim());
            int hi = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : lo;
            if (lo < 100 || hi > 599 || lo > hi) {
                throw s.error("must be statuses between 100 and 599 (low-high), got " + s.describe());
            }
            return new int[] {lo, hi};
        }

        OutlierSpec outlier(Node n) {
            if (n.isMissing()) {
                return null;
            }
            if (!isObject(n)) {
                return n.bool(false) ? new OutlierSpec(5, 5, Duration.ofSeconds(10), Duration.ofSeconds(30),
                        Duration.ofSeconds(300), 10, false, true, false) : null;
            }
            n.allowOnly("consecutive5xx", "consecutiveGatewayFailure", "interval", "baseEjectionTime",
                    "maxEjectionTime", "maxEjectionPercent", "alwaysEjectOneHost", "successRate", "failurePercentage");
            Duration base = n.get("baseEjectionTime").positiveDuration(Duration.ofSeconds(30));
            Duration fiveMinutes = Duration.ofSeconds(300);
            // Envoy: max_ejection_time defaults to 300 s, or to the base when that is longer
            Duration max = n.get("maxEjectionTime").positiveDuration(base.compareTo(fiveMinutes) > 0 ? base : fiveMinutes);
            if (max.compareTo(base) < 0) {
                throw n.get("maxEjectionTime").error("must not be shorter than baseEjectionTime (" + base + "), got " + max);
            }
            return new OutlierSpec(n.get("consecutive5xx").integer(5, 1, 1_000_000),
                    n.get("consecutiveGatewayFailure").integer(5, 1, 1_000_000),
                    n.get("interval").positiveDuration(Duration.ofSeconds(10)), base, max,
                    n.get("maxEjectionPercent").integer(10, 0, 100), n.get("alwaysEjectOneHost").bool(false),
                    n.get("successRate").bool(true),
                    n.get("failurePercentage").bool(false));
        }

        RouteSpec defaultRoute(String upstream) {
            return new RouteSpec("default", new MatchSpec("/", null, Set.of(), Map.of()), upstream, RouteSpec.Mode.PROXY,
                    RetryPolicy.defaults(), null, null, null, null);
        }

        RouteSpec route(Node r, Map<String, UpstreamSpec> upstreams) {
            r.allowOnly(EdgePolicyReader.with(EdgePolicyReader.ROUTE_KEYS, "name", "match", "upstream", "mode", "retry", "sticky", "rateLimit", "fanOut",
                    "target"));
            String upstream = r.get("upstream").requiredString();
            if (!upstreams.containsKey(upstream)) {
                throw r.get("upstream").error("no upstream named '" + upstream + "' (defined: " + upstreams.keySet() + ")");
            }
            String name = r.get("name").string(r.path());
            Node m = r.get("match");
            m.allowOnly("pathPrefix", "host", "methods", "headers");
            String prefix = m.get("pathPrefix").string("/");
            if (!prefix.startsWith("/")) {
                throw m.get("pathPrefix").error("must start with '/', got '" + prefix + "'");
            }
            Set<String> methods = new LinkedHashSet<>();
            for (String s : m.get("methods").strings()) {
                if (!s.matches("[A-Za-z]+")) {
                    throw m.get("methods").error("must be HTTP method names, got '" + s + "'");
                }
                methods.add(s.toUpperCase(Locale.ROOT));
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (Map.Entry<String, Node> h : m.get("headers").entries().entrySet()) {
                headers.put(h.getKey(), h.getValue().requiredString());
            }
            MatchSpec match = new MatchSpec(prefix, m.get("host").string(null), methods, headers);
            RouteSpec.Mode mode = r.get("mode").choice(RouteSpec.Mode.class, RouteSpec.Mode.PROXY);
            RetryPolicy retry = retry(r.get("retry"));
            StickySpec sticky = sticky(r.get("sticky"));
            RateLimitSpec rate = rateLimit(r.get("rateLimit"));
            FanOutSpec fanOut = null;
            TargetSpec target = null;
            Node f = r.get("fanOut");
            if (mode == RouteSpec.Mode.BROADCAST) {
                f.allowOnly("aggregate", "quorum", "primary", "summary");
                FanOutSpec.Aggregate agg = f.get("aggregate").choice(FanOutSpec.Aggregate.class, FanOutSpec.Aggregate.ALL);
                int quorum = f.get("quorum").integer(0, 0, 10_000);
                if (agg == FanOutSpec.Aggregate.QUORUM && quorum < 1) {
                    throw f.get("quorum").error("is required (>= 1) with aggregate: quorum");
                }
                if (agg != FanOutSpec.Aggregate.QUORUM && f.has("quorum")) {
                    throw f.get("quorum").error("applies only to aggregate: quorum");
                }
                String primary = f.get("primary").string(null);
                if (primary != null && upstreams.get(upstream).endpoints().stream().noneMatch(e -> e.id().equals(primary))) {
                    throw f.get("primary").error("no endpoint '" + primary + "' in upstream '" + upstream + "'");
                }
                fanOut = new FanOutSpec(agg, quorum, primary, f.get("summary").bool(primary == null));
            } else if (!f.isMissing()) {
                throw f.error("applies only to mode: broadcast");
            }
            Node t = r.get("target");
            if (mode == RouteSpec.Mode.TARGETED) {
                HashKey k = hashKey(t, null);
                if (k == null || k.source() == HashKey.Source.CLIENT_IP || k.source() == HashKey.Source.URI) {
                    throw t.error("is required with mode: targeted: header:NAME, cookie:NAME or query:NAME (query also reads form fields)");
                }
                target = new TargetSpec(k.source(), k.name());
            } else if (!t.isMissing()) {
                throw t.error("applies only to mode: targeted");
            }
            return new RouteSpec(name, match, upstream, mode, retry, sticky, rate, fanOut, target);
        }

        RetryPolicy retry(Node n) {
            if (n.isMissing()) {
                return RetryPolicy.defaults();
            }
            n.allowOnly("on", "tries", "timeout");
            try {
                RetryPolicy.Builder b = RetryPolicy.builder();
                Node on = n.get("on");
                if (!on.isMissing()) {
                    b.conditions(String.join(" ", on.strings()));
                }
                b.tries(n.get("tries").integer(0, 0, 1000));
                b.timeout(n.get("timeout").duration(Duration.ZERO));
                return b.build();
            } catch (IllegalArgumentException e) {
                throw n.get("on").error(e.getMessage());
            }
        }

        StickySpec sticky(Node n) {
            if (n.isMissing()) {
                return null;
            }
            n.allowOnly("cookie", "maxAge", "key");
            String cookie = n.get("cookie").string("srv_id");
            if (!cookie.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                throw n.get("cookie").error("must be a cookie name (RFC 6265 token), got '" + cookie + "'");
            }
            String key = n.get("key").requiredString();
            if (key.getBytes(StandardCharsets.UTF_8).length < 16) {
                throw n.get("key").error("must be at least 16 bytes (an HMAC key), got " + key.length() + " characters");
            }
            return new StickySpec(cookie, n.get("maxAge").positiveDuration(Duration.ofSeconds(300)), key);
        }

        RateLimitSpec rateLimit(Node n) {
            if (n.isMissing()) {
                return null;
            }
            n.allowOnly("rate", "burst", "delay", "nodelay", "key", "status");
            Rate rate;
            try {
                rate = Rate.parse(n.get("rate").requiredString().trim());
            } catch (IllegalArgumentException e) {
                throw n.get("rate").error(e.getMessage());
            }
            int burst = n.get("burst").integer(0, 0, 1_000_000);
            int delay = n.get("delay").integer(0, 0, 1_000_000);
            boolean nodelay = n.get("nodelay").bool(false);
            if (nodelay && n.has("delay")) {
                throw n.get("nodelay").error("cannot be combined with delay (as in nginx)");
            }
            HashKey key = hashKey(n.get("key"), new HashKey(HashKey.Source.CLIENT_IP, null));
            if (key.source() != HashKey.Source.CLIENT_IP) {
                throw n.get("key").error("only client-ip is supported as a rate-limit key (nginx $binary_remote_addr)");
            }
            int status = n.get("status").integer(503, 400, 599);
            return new RateLimitSpec(rate, burst, delay, nodelay, key, status);
        }

        SessionSpec sessions(Node n) {
            if (n.isMissing()) {
                return null;
            }
            n.allowOnly("store", "idleTimeout", "absoluteTimeout", "cookie", "forward", "api");
            String store = n.get("store").string("memory").trim();
            if (!store.equals("memory") && !store.startsWith("redis://") && !store.startsWith("rediss://")) {
                throw n.get("store").error("must be 'memory' or a redis:// or rediss:// URI");
            }
            Duration idle = n.get("idleTimeout").positiveDuration(Duration.ofHours(24));
            Duration absolute = n.get("absoluteTimeout").positiveDuration(null);
            String cookie = n.get("cookie").string("LBSESSION");
            Node api = n.get("api");
            boolean apiOn;
            String apiPath = "/session";
            List<String> allow = List.of("127.0.0.0/8", "::1");
            String token = null;
            if (api.isMissing() || !isObject(api)) {
                apiOn = api.bool(false);
            } else {
                api.allowOnly("enabled", "path", "allow", "token");
                apiOn = api.get("enabled").bool(true);
                apiPath = api.get("path").string(apiPath);
                try {
                    SessionApiHandler.checkMountPath(apiPath);
                } catch (IllegalArgumentException e) {
                    throw api.get("path").error(e.getMessage());
                }
                List<String> cidrs = api.get("allow").strings();
                if (!cidrs.isEmpty()) {
                    AdminReader.allowOnly(api.get("allow"), cidrs); // checked here, built by the session API
                    allow = cidrs;
                }
                token = api.get("token").string(null);
            }
            return new SessionSpec(store, idle, absolute, cookie, n.get("forward").bool(true), apiOn, apiPath, allow, token);
        }

        TrustSpec trust(Node n) {
            n.allowOnly("proxies", "via");
            List<String> cidrs = n.get("proxies").strings();
            CidrRules rules;
            StringBuilder sb = new StringBuilder();
            for (String c : cidrs) {
                sb.append("allow ").append(c).append(';');
            }
            sb.append("deny all;");
            try {
                rules = CidrRules.parse(sb.toString());
            } catch (IllegalArgumentException e) {
                throw n.get("proxies").error(e.getMessage());
            }
            return new TrustSpec(rules, n.get("via").string("lbkit"));
        }

        private static boolean isObject(Node n) {
            return n.isMapping();
        }
    }
}

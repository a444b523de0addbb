package io.lbkit.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.health.ActiveChecker;
import io.lbkit.health.HealthMonitor;
import io.lbkit.health.RollingDeployment;
import io.lbkit.config.ConfigException;
import io.lbkit.config.ServeConfig.AdminSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API listener ({@code admin:} in the configuration): upstream status in the shape of
 * nginx Plus's API, runtime changes to servers, a deployment step, and reload.
 *
 * <p>It runs on the JDK's {@code com.sun.net.httpserver}: a handful of requests a minute needs no
 * event loop, and a server of its own, apart from both engines, works the same whichever engine
 * proxies, and lets a deployment step wait for an endpoint to drain (blocking its own small pool,
 * never a proxy thread or loop). Every request must come from {@code admin.allow} (else 403) and
 * carry {@code Authorization: Bearer TOKEN} (else 401), the token compared in constant time.
 * Every change writes one audit line (logger {@code lbkit.audit}): who (the client address),
 * what, before, after; never the token.
 */
final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("lbkit.audit");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 64 * 1024;
    static final String UPSTREAMS = "/api/upstreams";
    static final String STREAM = "/api/stream";
    static final String ROUTES = "/api/routes";

    private final ProxyServer proxy;
    private final AdminSpec spec;
    private final HttpServer http;
    private final ExecutorService pool;
    private final AdminStream stream;

    private AdminServer(ProxyServer proxy, AdminSpec spec, HttpServer http, ExecutorService pool) {
        this.proxy = proxy;
        this.spec = spec;
        this.http = http;
        this.pool = pool;
        this.stream = new AdminStream(proxy);
    }

    /** Restores the state file (when configured), then binds the admin listener. */
    static AdminServer start(ProxyServer proxy, AdminSpec spec) throws IOException {
        if (spec.stateFile() != null) {
            StateFile.restore(spec.stateFile(), proxy);
        }
        HttpServer http = HttpServer.create(new InetSocketAddress(spec.host(), spec.port()), 64);
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "lbkit-admin-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        AdminServer admin = new AdminServer(proxy, spec, http, pool);
        http.setExecutor(pool);
        http.createContext("/", admin::handle);
        http.start();
        LOG.info("lbkit admin API listening on {} (allow {})", admin.uri(), spec.allowList());
        return admin;
    }

    URI uri() {
        String host = spec.host().equals("0.0.0.0") ? "127.0.0.1" : spec.host().contains(":") ? "[" + spec.host() + "]" : spec.host();
        return URI.create("http://" + host + ":" + http.getAddress().getPort() + "/");
    }

    @Override
    public void close() {
        stream.close();
        http.stop(0);
        pool.shutdownNow();
    }

    /** An answer with a status and a JSON error body. */
    private static final class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String error;

        Refusal(int status, String error, String message) {
            super(message, null, false, false);
            this.status = status;
            this.error = error;
        }
    }

    private void handle(HttpExchange x) throws IOException {
        String who = x.getRemoteAddress().getAddress().getHostAddress();
        try {
            AdminSpec now = proxy.config().admin() != null ? proxy.config().admin() : spec; // a reload may change token and allow
            if (!now.allow().isAllowed(x.getRemoteAddress().getAddress())) {
                throw new Refusal(403, "forbidden", "client " + who + " is not in admin.allow");
            }
            if (Dashboard.serves(x)) {
                Dashboard.send(x); // the page holds no data: it reads everything from the API with the token
                return;
            }
            if (!authorized(x.getRequestHeaders().getFirst("Authorization"), now.token())) {
                x.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"lbkit admin\"");
                throw new Refusal(401, "unauthorized", x.getRequestHeaders().containsKey("Authorization")
                        ? "the bearer token is wrong" : "an Authorization: Bearer token is required");
            }
            route(x, who);
        } catch (Refusal r) {
            if (r.status != 404) {
                LOG.info("admin API: {} {} from {}: {} {}", x.getRequestMethod(), x.getRequestURI().getRawPath(), who,
                        r.status, r.getMessage());
            }
            send(x, r.status, error(r.error, r.getMessage()));
        } catch (RuntimeException e) {
            LOG.warn("admin API: {} {} from {} failed", x.getRequestMethod(), x.getRequestURI().getRawPath(), who, e);
            send(x, 500, error("internal", e.toString()));
        } finally {
            x.close();
        }
    }

    /** Compares SHA-256 digests in constant time (so neither content nor length leaks through timing). */
    static boolean authorized(String header, String token) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(sha256(header.substring(7).trim()), sha256(token));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void route(HttpExchange x, String who) throws IOException {
        String method = x.getRequestMethod();
        String path = x.getRequestURI().getRawPath();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.equals("/reload")) {
            allow(method, "POST");
            reload(x, who);
            return;
        }
        if (path.equals("/metrics") && proxy.metrics != null) {
            allow(method, "GET");
            sendText(x, proxy.metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8");
            return;
        }
        if (path.equals(STREAM)) {
            allow(method, "GET");
            stream(x);
            return;
        }
        if (path.equals(ROUTES) || path.startsWith(ROUTES + "/")) {
            routes(x, who, method, path);
            return;
        }
        if (!path.equals(UPSTREAMS) && !path.startsWith(UPSTREAMS + "/")) {
            throw new Refusal(404, "not_found", "no such resource: " + path + " (see " + UPSTREAMS + ", " + ROUTES
                    + ", " + STREAM + ", /metrics, /reload and " + Dashboard.PATH + ")");
        }
        String[] p = path.substring(UPSTREAMS.length()).split("/", -1); // "", name, "servers", id, "deploy"
        if (p.length == 1) {
            allow(method, "GET");
            ObjectNode all = JSON.createObjectNode();
            proxy.upstreams().forEach((name, u) -> all.set(name, UpstreamStatus.json(u, proxy.monitor(name),
                    proxy.checker(name), proxy.counters)));
            send(x, 200, all);
            return;
        }
        String name = decode(p[1]);
        Upstream u = proxy.upstreams().get(name);
        if (u == null) {
            throw new Refusal(404, "upstream_not_found", "no upstream '" + name + "' (defined: "
                    + proxy.upstreams().keySet() + ")");
        }
        HealthMonitor m = proxy.monitor(name);
        if (p.length == 2) {
            allow(method, "GET");
            send(x, 200, UpstreamStatus.json(u, m, proxy.checker(name), proxy.counters));
            return;
        }
        if (!p[2].equals("servers") || p.length > 5) {
            throw new Refusal(404, "not_found", "no such resource: " + path);
        }
        if (p.length == 3) {
            if (method.equals("POST")) {
                addServer(x, who, u, m);
            } else {
                allow(method, "GET", "POST");
                send(x, 200, servers(u, m));
            }
            return;
        }
        String id = decode(p[3]);
        Endpoint e = u.endpoint(id).orElseThrow(() -> new Refusal(404, "server_not_found",
                "upstream '" + name + "' has no server '" + id + "'"));
        if (p.length == 5) {
            if (!p[4].equals("deploy")) {
                throw new Refusal(404, "not_found", "no such resource: " + path);
            }
            allow(method, "POST");
            deploy(x, who, u, m, e);
            return;
        }
        switch (method) {
            case "GET" -> send(x, 200, ServerFields.json(e, AdminState.of(m, id)));
            case "PATCH" -> patchServer(x, who, u, m, e);
            case "DELETE" -> deleteServer(x, who, u, m, e);
            default -> allow(method, "GET", "PATCH", "DELETE");
        }
    }

    /**
     * {@code GET /api/routes}: each route and the upstream it sends to; {@code POST
     * /api/routes/NAME/upstream} with {@code {"upstream": "green"}}: blue/green, the route's new
     * requests go to that upstream ({@link ProxyServer#switchUpstream}).
     */
    private void routes(HttpExchange x, String who, String method, String path) throws IOException {
        if (path.equals(ROUTES)) {
            allow(method, "GET");
            ObjectNode all = JSON.createObjectNode();
            proxy.routeUpstreams().forEach((r, u) -> all.putObject(r).put("upstream", u));
            send(x, 200, all);
            return;
        }
        String[] p = path.substring(ROUTES.length()).split("/", -1); // "", name, "upstream"
        if (p.length != 3 || !p[2].equals("upstream")) {
            throw new Refusal(404, "not_found", "no such resource: " + path + " (see " + ROUTES + "/NAME/upstream)");
        }
        String route = decode(p[1]);
        allow(method, "POST");
        JsonNode body = body(x);
        JsonNode to = body == null ? null : body.get("upstream");
        if (to == null || !to.isTextual() || body.size() != 1) {
            throw new Refusal(400, "bad_request", "the body must be {\"upstream\": \"NAME\"}");
        }
        String before;
        try {
            before = proxy.switchUpstream(route, to.asText());
        } catch (java.util.NoSuchElementException e) {
            throw new Refusal(404, e.getMessage().startsWith("no route") ? "route_not_found" : "upstream_not_found",
                    e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, "bad_request", e.getMessage());
        }
        AUDIT.info("who={} what=\"switch upstream\" route={} before={} after={}", who, route, before, to.asText());
        ObjectNode out = JSON.createObjectNode();
        out.put("route", route);
        out.put("upstream", to.asText());
        out.put("before", before);
        send(x, 200, out);
    }

    /** Server-sent status events while the request's address and token stay allowed; 503 past the streams' limit. */
    private void stream(HttpExchange x) throws IOException {
        String header = x.getRequestHeaders().getFirst("Authorization");
        boolean served = stream.serve(x, () -> {
            AdminSpec now = proxy.config().admin() != null ? proxy.config().admin() : spec;
            return now.allow().isAllowed(x.getRemoteAddress().getAddress()) && authorized(header, now.token());
        });
        if (!served) {
            x.getResponseHeaders().set("Retry-After", "5");
            throw new Refusal(503, "too_many_streams", AdminStream.MAX_STREAMS
                    + " event streams are open already (each holds one of the admin listener's threads)");
        }
    }

    private static void allow(String method, String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw new Refusal(405, "method_not_allowed", method + " is not allowed here (allowed: " + String.join(", ", allowed) + ")");
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, "bad_request", "bad percent-encoding in '" + s + "'");
        }
    }

    private static ArrayNode servers(Upstream u, HealthMonitor m) {
        ArrayNode list = JSON.createArrayNode();
        for (Endpoint e : u.endpoints()) {
            list.add(ServerFields.json(e, AdminState.of(m, e.id())));
        }
        return list;
    }

    private void addServer(HttpExchange x, String who, Upstream u, HealthMonitor m) throws IOException {
        JsonNode body = body(x);
        Endpoint e;
        EndpointState state;
        try {
            e = ServerFields.endpoint(body, null);
            state = ServerFields.state(body);
        } catch (IllegalArgumentException ex) {
            throw new Refusal(400, "bad_request", ex.getMessage());
        }
        synchronized (proxy) {
            if (u.endpoint(e.id()).isPresent()) {
                throw new Refusal(409, "server_exists", "upstream '" + u.name() + "' already has a server '" + e.id() + "'");
            }
            m.add(e);
            if (state != null && state != EndpointState.UP) {
                AdminState.apply(m, e.id(), state);
            }
            sync(u.name());
            ObjectNode after = ServerFields.json(e, AdminState.of(m, e.id()));
            audit(who, "add server", u.name(), e.id(), "none", after);
            persist();
            send(x, 201, after);
        }
    }

    private void patchServer(HttpExchange x, String who, Upstream u, HealthMonitor m, Endpoint e) throws IOException {
        JsonNode body = body(x);
        Endpoint next;
        EndpointState state;
        try {
            next = ServerFields.endpoint(body, e);
            state = ServerFields.state(body);
        } catch (IllegalArgumentException ex) {
            throw new Refusal(400, "bad_request", ex.getMessage());
        }
        synchronized (proxy) {
            Endpoint now = u.endpoint(e.id()).orElseThrow(() -> new Refusal(404, "server_not_found",
                    "upstream '" + u.name() + "' has no server '" + e.id() + "'"));
            ObjectNode before = ServerFields.json(now, AdminState.of(m, now.id()));
            if (!next.equals(now)) {
                u.update(next);
            }
            if (state != null && state != AdminState.of(m, now.id())) {
                AdminState.apply(m, now.id(), state);
            }
            if (!next.host().equals(now.host()) || next.port() != now.port()) {
                sync(u.name());
            }
            ObjectNode after = ServerFields.json(next, AdminState.of(m, now.id()));
            audit(who, "change server", u.name(), now.id(), before, after);
            persist();
            send(x, 200, after);
        }
    }

    private void deleteServer(HttpExchange x, String who, Upstream u, HealthMonitor m, Endpoint e) throws IOException {
        synchronized (proxy) {
            ObjectNode before = ServerFields.json(e, AdminState.of(m, e.id()));
            if (!m.remove(e.id())) {
                throw new Refusal(404, "server_not_found", "upstream '" + u.name() + "' has no server '" + e.id() + "'");
            }
            sync(u.name());
            audit(who, "remove server", u.name(), e.id(), before, "none");
            persist();
            send(x, 200, servers(u, m));
        }
    }

    /**
     * A rolling-deployment step on one server: drain (no new requests, sticky ones included), wait
     * until idle, apply the body's changes (e.g. a new {@code server} address), wait until it is
     * ready (the upstream's active checks, else a TCP connect), readmit.
     */
    private void deploy(HttpExchange x, String who, Upstream u, HealthMonitor m, Endpoint e) throws IOException {
        JsonNode body = body(x);
        if (body != null && !body.isNull() && !body.isObject()) {
            throw new Refusal(400, "bad_request", "the body must be a JSON object");
        }
        ObjectNode changes = body == null || body.isNull() ? JSON.createObjectNode() : ((ObjectNode) body).deepCopy();
        Duration drainTimeout;
        Duration readyTimeout;
        Endpoint next;
        try {
            drainTimeout = changes.has("drain_timeout") ? ServerFields.parseDuration("drain_timeout", changes.remove("drain_timeout"))
                    : Duration.ofSeconds(30);
            readyTimeout = changes.has("ready_timeout") ? ServerFields.parseDuration("ready_timeout", changes.remove("ready_timeout"))
                    : Duration.ofSeconds(60);
            if (drainTimeout.isZero() || readyTimeout.isZero()) {
                throw new IllegalArgumentException("drain_timeout and ready_timeout must be > 0");
            }
            if (changes.has("state") || changes.has("down") || changes.has("drain")) {
                throw new IllegalArgumentException("state: a deployment step sets the state itself");
            }
            next = ServerFields.endpoint(changes, e);
        } catch (IllegalArgumentException ex) {
            throw new Refusal(400, "bad_request", ex.getMessage());
        }
        ObjectNode before = ServerFields.json(e, AdminState.of(m, e.id()));
        ActiveChecker checker = proxy.checker(u.name());
        RollingDeployment.Builder b = RollingDeployment.builder(m).drainTimeout(drainTimeout).readyTimeout(readyTimeout)
                .requiredPasses(checker != null ? 2 : 1);
        if (checker == null) {
            b.readinessProbe(AdminServer::accepts).probeInterval(Duration.ofMillis(200));
        }
        AUDIT.info("who={} what=\"deployment step started\" upstream={} server={} before={} after={}", who, u.name(),
                e.id(), before, ServerFields.json(next, EndpointState.UP));
        // no lock while it waits: requests keep flowing and other changes (or a reload) are not held up
        RollingDeployment.Report r = b.build().runOne(e.id(), current -> {
            if (checker != null && (!next.host().equals(current.host()) || next.port() != current.port())) {
                proxy.upstreams().get(u.name()).update(next);
                checker.sync();
                return null;
            }
            return next;
        });
        ObjectNode out = JSON.createObjectNode();
        out.put("completed", r.completed());
        out.put("reason", r.reason());
        out.put("duration_ms", r.duration().toMillis());
        ArrayNode steps = out.putArray("steps");
        for (RollingDeployment.Step s : r.steps()) {
            ObjectNode n = steps.addObject();
            n.put("phase", s.phase().name().toLowerCase(java.util.Locale.ROOT));
            n.put("result", s.result().name().toLowerCase(java.util.Locale.ROOT));
            n.put("duration_ms", s.duration().toMillis());
            n.put("detail", s.detail());
        }
        synchronized (proxy) {
            Endpoint now = u.endpoint(e.id()).orElse(next);
            ObjectNode after = ServerFields.json(now, AdminState.of(m, e.id()));
            out.set("server", after);
            audit(who, r.completed() ? "deployment step completed" : "deployment step failed: " + r.reason(), u.name(),
                    e.id(), before, after);
            persist();
        }
        send(x, r.completed() ? 200 : 409, out);
    }

    /** A readiness probe for upstreams without active checks: the endpoint accepts a TCP connection. */
    private static boolean accepts(Endpoint e) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(e.host(), e.port()), 1000);
            return true;
        } catch (IOException ex) {
            return false;
        }
    }

    private void reload(HttpExchange x, String who) throws IOException {
        String before = proxy.config().source();
        try {
            proxy.reloadFromFile();
        } catch (ConfigException ex) {
            String line = ex.getMessage().replaceAll("[\\r\\n]+", " ");
            AUDIT.info("who={} what=\"reload refused\" file={} error=\"{}\"", who, before, line);
            throw new Refusal(400, "invalid_configuration", line);
        }
        AUDIT.info("who={} what=reload file={} before=running after=reloaded", who, before);
        ObjectNode out = JSON.createObjectNode();
        out.put("reloaded", true);
        out.put("file", before);
        send(x, 200, out);
    }

    private void sync(String upstream) {
        ActiveChecker c = proxy.checker(upstream);
        if (c != null) {
            c.sync();
        }
    }

    /** Writes the state file when one is configured; a failure is logged (the change stays applied). */
    void persist() {
        if (spec.stateFile() == null) {
            return;
        }
        try {
            StateFile.write(spec.stateFile(), proxy);
        } catch (IOException e) {
            LOG.error("cannot write the admin state file {}: {}; runtime changes will not survive a restart",
                    spec.stateFile(), e.toString());
        }
    }

    private static void audit(String who, String what, String upstream, String server, Object before, Object after) {
        AUDIT.info("who={} what=\"{}\" upstream={} server={} before={} after={}", who, what, upstream, server, before, after);
    }

    private static JsonNode body(HttpExchange x) throws IOException {
        byte[] bytes;
        try (InputStream in = x.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new Refusal(413, "body_too_large", "the body is larger than " + MAX_BODY + " bytes");
        }
        if (bytes.length == 0) {
            return null;
        }
        try {
            return JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new Refusal(400, "bad_request", "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ObjectNode error(String code, String message) {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode e = n.putObject("error");
        e.put("status", 0);
        e.put("code", code);
        e.put("text", message);
        return n;
    }

    private static void sendText(HttpExchange x, String text, String type) throws IOException {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", type);
        x.getResponseHeaders().set("Cache-Control", "no-store");
        x.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void send(HttpExchange x, int status, JsonNode body) throws IOException {
        if (body.has("error")) {
            ((ObjectNode) body.get("error")).put("status", status);
        }
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.getResponseHeaders().set("Cache-Control", "no-store");
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }
}

package io.lbkit.server;

import io.lbkit.core.Upstream;
import io.lbkit.health.ActiveChecker;
import io.lbkit.health.EndpointHealthState;
import io.lbkit.health.HealthMonitor;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.SessionApi;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.config.ConfigException;
import io.lbkit.config.ConfigLoader;
import io.lbkit.config.ConfiguredProxy;
import io.lbkit.config.ServeConfig.ActiveCheckSpec;
import io.lbkit.config.ServeConfig.UpstreamSpec;
import io.lbkit.config.ServeConfig;
import io.lbkit.config.SpecObjects;
import io.lbkit.servlet.backend.SessionApiServlet;
import io.lbkit.servlet.backend.SessionFilter;
import io.lbkit.netty.NettyProxyServer;
import io.lbkit.servlet.proxy.ProxyFilter;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.redis.RedisSessionStore;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standalone proxy tier: an embedded Jetty 12 running lb-servlet's {@link ProxyFilter} from a
 * {@link ServeConfig} (or, with {@code engine: event-loop}, lb-netty's {@link NettyProxyServer} on
 * each listener), with lb-health monitoring every upstream and, when configured, a session
 * store and the session API. {@link #stop()} is graceful: listeners stop accepting, in-flight
 * requests get up to {@code shutdownTimeout} to finish, then health checks and the store close.
 *
 * <p>The proxy filter is mapped to the context's default servlet by name, so a servlet with its
 * own mapping (the session API at {@code /session}) is served locally and never proxied.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
    static final String DEFAULT_SERVLET = "lbkit-default";

    /** The configuration running now (a reload replaces it). */
    private volatile ServeConfig config;
    private final Map<String, Upstream> upstreams = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, HealthMonitor> monitors = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, ActiveChecker> checkers = new java.util.concurrent.ConcurrentHashMap<>();
    /** The servlet engine's proxy filter, swapped by a reload ({@code engine: servlet}). */
    private SwitchingFilter proxyFilter;
    private SessionForwarding forwarding;
    private AdminServer admin;
    /** Per-endpoint attempt counters for the admin API's status (installed only with {@code admin}). */
    final PeerCounters counters = new PeerCounters();
    /** The admin listener's /metrics (only with {@code admin}). */
    ServeMetrics metrics;
    private final Server server;
    private final List<ServerConnector> connectors = new ArrayList<>();
    /** The event-loop engine's servers, one per listener ({@code engine: event-loop}). */
    private final List<NettyProxyServer> loops = new ArrayList<>();
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    private final LimitStores limitStores = new LimitStores(); // shared rate limits' Redis clients
    private final BlueGreen blueGreen = new BlueGreen(); // the routes serving now, and their runtime upstream switches
    private SessionStore store;
    private SessionStore sharedStore;
    private ExecutorService storeExecutor;
    private io.lbkit.proxy.AccessLog accessLog; // or null

    private ProxyServer(ServeConfig config) {
        this.config = config;
        int threads = config.proxy().threads();
        QueuedThreadPool pool = new QueuedThreadPool(threads, Math.min(8, threads));
        pool.setName("lbkit-proxy");
        this.server = new Server(pool);
    }

    /**
     * Builds everything the configuration declares and starts listening.
     *
     * @throws ConfigException when a declared feature cannot be built (naming the config path)
     * @throws Exception       when a listener cannot bind or a component fails to start
     */
    public static ProxyServer start(ServeConfig config) throws Exception {
        return start(config, null);
    }

    /**
     * Like {@link #start(ServeConfig)} but with a session store the caller owns (used instead of
     * the one the configuration names; not closed by this server).
     */
    public static ProxyServer start(ServeConfig config, SessionStore sharedStore) throws Exception {
        ProxyServer s = new ProxyServer(config);
        s.sharedStore = sharedStore;
        try {
            if (config.admin() != null) {
                s.metrics = new ServeMetrics(s); // before the build: the session store is metered on it
            }
            s.build();
            if (config.admin() != null) {
                s.admin = AdminServer.start(s, config.admin()); // restores the state file before traffic
            }
            if (s.loops.isEmpty()) {
                s.server.start();
            } else {
                for (NettyProxyServer n : s.loops) {
                    n.start();
                }
            }
        } catch (Exception e) {
            s.close();
            throw e;
        }
        LOG.info("lbkit proxy listening on {}", s.uris());
        return s;
    }

    /** The base URI of each listener, with the port actually bound. */
    public List<URI> uris() {
        List<URI> out = new ArrayList<>();
        for (int i = 0; i < loops.size(); i++) {
            String host = config.listeners().get(i).host();
            host = host == null || host.equals("0.0.0.0") ? "127.0.0.1" : host.contains(":") ? "[" + host + "]" : host;
            out.add(URI.create("http://" + host + ":" + loops.get(i).port() + "/"));
        }
        for (ServerConnector c : connectors) {
            String host = c.getHost() == null || c.getHost().equals("0.0.0.0") ? "127.0.0.1" : c.getHost();
            if (host.contains(":")) {
                host = "[" + host + "]";
            }
            out.add(URI.create("http://" + host + ":" + c.getLocalPort() + "/"));
        }
        return out;
    }

    /** The upstreams by name, live (their status shows health and in-flight counts). */
    public Map<String, Upstream> upstreams() {
        Map<String, Upstream> out = new LinkedHashMap<>();
        for (String name : config.upstreams().keySet()) {
            out.put(name, upstreams.get(name));
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** The configuration running now. */
    public ServeConfig config() {
        return config;
    }

    /** The admin API's base URI, or {@code null} when it is off. */
    public URI adminUri() {
        return admin == null ? null : admin.uri();
    }

    /**
     * Applies {@code next} without dropping a connection or a request (nginx {@code -s reload}):
     * everything is validated first, and an invalid configuration changes nothing. Upstreams that
     * remain are updated in place (their in-flight counts, health and sticky bindings survive);
     * requests that start after the swap use the new routes and settings.
     *
     * @throws ConfigException when {@code next} cannot be applied (naming the setting and why)
     */
    public synchronized void reload(ServeConfig next) {
        new Reload(this, config, next).apply();
        if (admin != null) {
            admin.persist();
        }
    }

    /**
     * Re-reads the file the running configuration came from and {@linkplain #reload applies} it
     * (SIGHUP and {@code POST /reload}).
     *
     * @throws ConfigException when the file is invalid or cannot be applied; the running configuration stays
     */
    public void reloadFromFile() {
        reload(ConfigLoader.load(Path.of(config.source())));
    }

    /**
     * Blue/green: requests that start from now on take route {@code route}'s traffic to the
     * upstream {@code upstream} of the configuration; requests under way finish where they are.
     * The switch outlives reloads (while the route and the upstream exist) until switched back;
     * a restart starts from the file.
     *
     * @return the upstream the route had
     * @throws java.util.NoSuchElementException naming the route or upstream that does not exist
     * @throws IllegalArgumentException when the upstream cannot serve the route
     */
    public synchronized String switchUpstream(String route, String upstream) {
        return blueGreen.switchTo(route, upstream, upstreams);
    }

    /** Each route serving now, by name, and the upstream it sends to. */
    public Map<String, String> routeUpstreams() {
        return blueGreen.upstreams();
    }

    /** The active checker of the upstream {@code name}, or {@code null} when it has none. */
    ActiveChecker checker(String name) {
        return checkers.get(name);
    }

    /** A reload's last step: the new configuration serves requests that start from now on. */
    void swap(ServeConfig next, Map<String, Upstream> nextUpstreams) {
        ProxyConfig pc = proxyConfig(next, nextUpstreams).build();
        blueGreen.serving(pc.routes(), nextUpstreams); // runtime switches outlive a reload
        if (proxyFilter != null) {
            proxyFilter.swap(new ProxyFilter(pc));
        }
        for (NettyProxyServer n : loops) {
            n.reconfigure(pc);
        }
        config = next;
    }

    /** Validates the routes of {@code next} over {@code ups} (what {@link #swap} will build). */
    void checkRoutes(ServeConfig next, Map<String, Upstream> ups) {
        proxyConfig(next, ups).build();
    }

    /** Builds and starts health monitoring of a new upstream (at start or in a reload). */
    Upstream addUpstream(ServeConfig cfg, UpstreamSpec u) {
        Upstream upstream = newUpstream(cfg, u);
        upstreams.put(u.name(), upstream);
        monitor(u, upstream);
        return upstream;
    }

    /** A new upstream's pool, not yet registered. */
    static Upstream newUpstream(ServeConfig cfg, UpstreamSpec u) {
        return ConfiguredProxy.newUpstream(cfg, u);
    }

    /** Stops the health checks of an upstream a reload removed (requests still on it finish). */
    void retireUpstream(String name) {
        ActiveChecker c = checkers.remove(name);
        if (c != null) {
            c.close();
        }
        HealthMonitor m = monitors.remove(name);
        if (m != null) {
            m.close();
        }
        upstreams.remove(name);
    }

    /** Each upstream's failure statuses: its own and those of every retry policy that uses it. */
    static Map<String, Set<Integer>> failureStatuses(ServeConfig cfg) {
        return ConfiguredProxy.failureStatuses(cfg);
    }

    /** The health monitor of the upstream {@code name} (its endpoints' states), or {@code null}. */
    HealthMonitor monitor(String name) {
        return monitors.get(name);
    }

    /** The session store, or {@code null} when none is configured. */
    public SessionStore sessionStore() {
        return store;
    }

    private void build() {
        // upstreams, with the failure statuses of every retry policy that uses them
        for (UpstreamSpec u : config.upstreams().values()) {
            addUpstream(config, u);
        }
        ServeConfig.SessionSpec ss = config.sessions();
        SessionApi api = sessions(ss);
        accessLog = ObserveSetup.open(config.observe()); // once: a reload keeps it
        ProxyConfig.Builder pc = proxyConfig(config, upstreams);

        if (config.engine() == ServeConfig.Engine.EVENT_LOOP) {
            buildEventLoop(pc, ss, api);
            return;
        }
        ProxyConfig built = pc.build();
        blueGreen.serving(built.routes(), upstreams);
        proxyFilter = new SwitchingFilter(new ProxyFilter(built), config.shutdownTimeout());
        ServeConfig.ProxySpec p = config.proxy();
        buildServlet(p, ss, api);
    }

    /** The proxy configuration of {@code cfg}: its settings, and its routes over {@code ups}. */
    private ProxyConfig.Builder proxyConfig(ServeConfig cfg, Map<String, Upstream> ups) {
        ProxyConfig.Builder pc = ConfiguredProxy.proxyConfig(cfg, ups, limitStores::share) // shared limits: Redis
                .executor(server.getThreadPool()); // one pool for both sides
        ObserveSetup.apply(cfg.observe(), accessLog, pc);
        if (forwarding != null) {
            pc.sessionForwarding(forwarding);
        }
        if (metrics != null && cfg.admin() != null && cfg.admin().proxyMetrics()) {
            pc.meters(metrics.proxyMeters()); // /metrics: requests by route, upstream timings, retries...
        }
        return pc;
    }

    /** The session store, its forwarding rule and API (built once: a reload cannot change them). */
    private SessionApi sessions(ServeConfig.SessionSpec ss) {
        SessionApi api = null;
        if (ss != null) {
            store = sharedStore != null ? sharedStore : store(ss);
            boolean inMemory = store instanceof InMemorySessionStore;
            if (metrics != null) {
                store = io.lbkit.session.MeteredSessionStore.of(store, metrics.registry());
            }
            if (ss.forward()) {
                SessionForwarding.Builder fb = SessionForwarding.builder(store).cookieName(ss.cookie());
                if (!inMemory && config.engine() != ServeConfig.Engine.EVENT_LOOP) {
                    // a networked store: its calls run off the container threads (the event-loop
                    // engine uses the store's asynchronous calls, which never block a loop)
                    storeExecutor = Executors.newFixedThreadPool(32, r -> {
                        Thread t = new Thread(r, "lbkit-session-store");
                        t.setDaemon(true);
                        return t;
                    });
                    fb.executor(storeExecutor);
                }
                forwarding = fb.build();
            }
            if (ss.api()) {
                SessionApi.Builder ab = SessionApi.builder(store).cookieName(ss.cookie())
                        .allowFrom(ss.apiAllow().toArray(String[]::new));
                if (ss.apiToken() != null) {
                    ab.token(ss.apiToken());
                } else {
                    LOG.warn("the session API at {} has no token: every client from {} can read, change and delete "
                            + "every session (behind a TLS terminator or proxy on this host, every client is loopback); "
                            + "set sessions.api.token", ss.apiPath(), ss.apiAllow());
                }
                api = ab.build();
            }
        }
        return api;
    }

    private void buildServlet(ServeConfig.ProxySpec p, ServeConfig.SessionSpec ss, SessionApi api) {
        SwitchingFilter filter = proxyFilter;

        for (ServeConfig.Listener l : config.listeners()) {
            HttpConfiguration hc = new HttpConfiguration();
            hc.setRequestHeaderSize(l.maxRequestHeaderBytes());
            // above the proxy's own limit on a backend's header block (its 16 KiB bufferSize, a 502
            // beyond), with room for the fields lbkit adds (Via, X-Served-By, cookies)
            hc.setResponseHeaderSize(32 * 1024);
            hc.setSendServerVersion(false);
            hc.setSendXPoweredBy(false);
            ServerConnector c = new ServerConnector(server, new HttpConnectionFactory(hc));
            c.setHost(l.host());
            c.setPort(l.port());
            c.setAcceptQueueSize(1024);
            // Jetty's idle timeout bounds an idle keep-alive connection (clientKeepaliveTimeout, nginx
            // keepalive_timeout 75 s); it must not cut a stalled body before the 408 of clientBodyTimeout
            c.setIdleTimeout(Math.max(p.clientKeepaliveTimeout().toMillis(), p.clientBodyTimeout().toMillis() + 5_000L));
            server.addConnector(c);
            if (l.maxConnections() > 0) {
                // as the event-loop engine: at the limit the connector stops accepting until one closes
                server.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(l.maxConnections(), c));
            }
            connectors.add(c);
        }
        ServletContextHandler context = new ServletContextHandler("/");
        if (store != null) {
            context.setAttribute(SessionFilter.STORE_ATTRIBUTE, store);
        }
        SessionApiServlet apiServlet = api == null ? null : SessionApiServlet.of(api);
        String apiPath = ss == null ? null : ss.apiPath();
        context.addServletContainerInitializer((classes, ctx) -> {
            var fallback = ctx.addServlet(DEFAULT_SERVLET, new NotFound());
            fallback.addMapping("/");
            fallback.setAsyncSupported(true);
            if (apiServlet != null) {
                var reg = ctx.addServlet("lbkit-session-api", apiServlet);
                reg.addMapping(apiPath);
                reg.setAsyncSupported(true);
            }
            var f = ctx.addFilter("lbkit-proxy", filter);
            f.setAsyncSupported(true);
            f.addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST), false, DEFAULT_SERVLET);
        });
        GracefulHandler graceful = new GracefulHandler(context);
        server.setHandler(graceful);
        server.setStopTimeout(config.shutdownTimeout().toMillis());
        server.setStopAtShutdown(false);
    }

    /**
     * {@code engine: event-loop}: lb-netty's {@link NettyProxyServer} on each listener, with the same
     * proxy configuration, and the session API ({@code api}, or null) at its path. What that engine
     * does not do yet is refused here with its config path.
     */
    private void buildEventLoop(ProxyConfig.Builder pc, ServeConfig.SessionSpec ss, SessionApi api) {
        ProxyConfig proxyConfig = pc.build();
        blueGreen.serving(proxyConfig.routes(), upstreams);
        int workers = config.proxy().workers() > 0 ? config.proxy().workers() : Runtime.getRuntime().availableProcessors();
        for (ServeConfig.Listener l : config.listeners()) {
            try {
                ServeConfig.ProxySpec p = config.proxy();
                NettyProxyServer.Builder nb = NettyProxyServer.builder(proxyConfig).bind(l.host(), l.port()).workers(workers)
                        .clientHeaderTimeout(p.clientHeaderTimeout()).clientKeepAliveTimeout(p.clientKeepaliveTimeout())
                        .keepAliveRequests(p.keepaliveRequests()).maxConnections(l.maxConnections());
                if (api != null) {
                    nb.sessionApi(ss.apiPath(), api);
                }
                loops.add(nb.build());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(config.source(), "engine", e.getMessage());
            }
        }
    }

    private void monitor(UpstreamSpec u, Upstream upstream) {
        SpecObjects.warnIfNeverEjects(u);
        ActiveCheckSpec a = u.activeCheck();
        HealthMonitor.Builder mb = HealthMonitor.builder(upstream)
                .outlierDetection(SpecObjects.outlier(u.outlier()))
                .panicThresholdPercent(u.panicThresholdPercent())
                .initialState(a != null && !a.startHealthy() ? EndpointHealthState.CHECKING : EndpointHealthState.UP);
        HealthMonitor monitor = mb.build().start();
        monitors.put(u.name(), monitor);
        if (metrics != null) {
            metrics.proxyMeters().watch(monitor); // health transitions and outlier ejections
        }
        if (config.admin() != null) {
            upstream.setOutcomeListener(counters.wrap(monitor)); // the status JSON's counters, then health
        }
        if (a != null) {
            ActiveChecker checker = ActiveChecker.builder().check(ConfiguredProxy.activeCheck(a)).listener(monitor).build();
            checker.watch(upstream);
            checker.start();
            checkers.put(u.name(), checker);
        }
    }

    private static SessionStore store(ServeConfig.SessionSpec ss) {
        SessionSettings.Builder settings = SessionSettings.builder().idleTimeout(ss.idleTimeout());
        if (ss.absoluteTimeout() != null) {
            settings.absoluteTimeout(ss.absoluteTimeout());
        }
        if (ss.store().equals("memory")) {
            return InMemorySessionStore.builder().settings(settings.build()).build();
        }
        return RedisSessionStore.builder().uri(ss.store()).settings(settings.build()).build();
    }

    /** Stops gracefully: no new connections, in-flight requests get the shutdown timeout. */
    public void stop() {
        close();
    }

    /** Reopens the access log file (log rotation: move the file, then call this; SIGUSR1 in serve). */
    public void reopenLogs() {
        if (accessLog != null) {
            accessLog.reopen();
        }
    }

    /** Waits until the server has stopped. */
    public void join() throws InterruptedException {
        if (loops.isEmpty()) {
            server.join();
        } else {
            closed.await();
        }
    }

    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        for (NettyProxyServer n : loops) {
            n.stop(config.shutdownTimeout());
        }
        try {
            if (server.isStarted() || server.isStarting()) {
                server.stop();
            }
        } catch (Exception e) {
            LOG.warn("stopping the server: {}", e.toString());
        }
        for (ActiveChecker c : checkers.values()) {
            c.close();
        }
        checkers.clear();
        for (HealthMonitor m : monitors.values()) {
            m.close();
        }
        monitors.clear();
        if (proxyFilter != null) {
            proxyFilter.destroy();
        }
        if (storeExecutor != null) {
            storeExecutor.shutdownNow();
        }
        if (store != null && sharedStore == null) {
            store.close(); // its own store (metered or not); a shared one is the caller's
        }
        if (accessLog != null) {
            accessLog.close(); // after the engines: every request's line is written
        }
        limitStores.close();
        closed.countDown();
    }

    /** The fallback servlet: answers 404 for paths no route and no local servlet serves. */
    static final class NotFound extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setStatus(404);
            resp.setContentType("text/plain;charset=utf-8");
            resp.getWriter().write("no route\n");
        }
    }
}

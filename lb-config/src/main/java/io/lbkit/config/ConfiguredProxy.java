package io.lbkit.config;

import io.lbkit.config.ServeConfig.ActiveCheckSpec;
import io.lbkit.config.ServeConfig.RouteSpec;
import io.lbkit.config.ServeConfig.UpstreamSpec;
import io.lbkit.core.SlowStart;
import io.lbkit.core.Upstream;
import io.lbkit.health.ActiveCheck;
import io.lbkit.health.ActiveChecker;
import io.lbkit.health.EndpointHealthState;
import io.lbkit.health.HealthMonitor;
import io.lbkit.health.HttpCheck;
import io.lbkit.health.InitialState;
import io.lbkit.health.TcpCheck;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The engine-neutral part of a {@link ServeConfig} made live: its upstreams, each with a
 * {@link HealthMonitor} (passive health, outlier detection, panic threshold) and, when it has a
 * {@code healthCheck}, an {@link ActiveChecker}; and a {@link ProxyConfig.Builder} holding its
 * routes and settings (timeouts, body and header limits, trust, headers, edge policy) for an engine
 * to complete (executor, access log, session forwarding) and build. Listeners, the engine, the
 * admin API and the session store are the host's (lb-server, a Spring Boot app).
 *
 * <p>{@link #start()} starts the health monitors and active checks; {@link #close()} stops them.
 */
public final class ConfiguredProxy implements AutoCloseable {

    private final ServeConfig config;
    private final Map<String, Upstream> upstreams = new LinkedHashMap<>();
    private final Map<String, HealthMonitor> monitors = new LinkedHashMap<>();
    private final Map<String, ActiveChecker> checkers = new LinkedHashMap<>();
    private boolean started;

    private ConfiguredProxy(ServeConfig config) {
        this.config = config;
        for (UpstreamSpec u : config.upstreams().values()) {
            upstreams.put(u.name(), newUpstream(config, u));
        }
    }

    /**
     * The pool an upstream spec of {@code cfg} describes (its failure statuses include those of
     * the retry policies of the routes that use it), not monitored.
     */
    public static Upstream newUpstream(ServeConfig cfg, UpstreamSpec u) {
        Upstream.Builder b = Upstream.builder(u.name()).policy(u.policy()).endpoints(u.endpoints())
                .failureStatuses(failureStatuses(cfg).get(u.name()));
        if (!u.slowStart().isZero()) {
            b.slowStart(SlowStart.of(u.slowStart()));
        }
        Upstream upstream = b.build();
        u.states().forEach(upstream::setState);
        return upstream;
    }

    /**
     * The upstreams of {@code config}, not yet monitored.
     *
     * @throws ConfigException when a route cannot be built (naming {@code routes[i]})
     */
    public static ConfiguredProxy of(ServeConfig config) {
        ConfiguredProxy p = new ConfiguredProxy(config);
        p.proxyConfig(); // a route that cannot be built fails here, before anything starts
        return p;
    }

    /** The configuration this was made from. */
    public ServeConfig config() {
        return config;
    }

    /** The upstreams by name, in configuration order; live (statuses show health and load). */
    public Map<String, Upstream> upstreams() {
        return Collections.unmodifiableMap(upstreams);
    }

    /** The health monitor of upstream {@code name} (its endpoints' health states), or {@code null} before {@link #start()}. */
    public synchronized HealthMonitor monitor(String name) {
        return monitors.get(name);
    }

    /** The active checker of upstream {@code name}, or {@code null} when it has no {@code healthCheck} or before start. */
    public synchronized ActiveChecker checker(String name) {
        return checkers.get(name);
    }

    /**
     * A new builder with the routes over these upstreams and the configuration's settings; the
     * caller adds what its engine owns and builds it.
     *
     * @throws ConfigException when a route cannot be built (naming {@code routes[i]})
     */
    public ProxyConfig.Builder proxyConfig() {
        return proxyConfig(config, upstreams);
    }

    /**
     * A new builder with the routes of {@code config} over {@code ups} (by upstream name) and its
     * settings; the caller adds what its engine owns (executor, access log, session forwarding).
     *
     * @throws ConfigException when a route cannot be built (naming {@code routes[i]})
     */
    public static ProxyConfig.Builder proxyConfig(ServeConfig config, Map<String, Upstream> ups) {
        return proxyConfig(config, ups, SpecObjects.NO_SHARED_STORE);
    }

    /**
     * {@link #proxyConfig(ServeConfig, Map)} where {@code shared} makes the shared form of a rate
     * limit with a {@code zone.store} (lb-server's Redis clients).
     */
    public static ProxyConfig.Builder proxyConfig(ServeConfig config, Map<String, Upstream> ups,
            java.util.function.BiFunction<EdgePolicy.SharedZone, io.lbkit.proxy.RateLimit, io.lbkit.proxy.RateLimit> shared) {
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < config.routes().size(); i++) {
            try {
                routes.add(SpecObjects.route(config, ups, i, config.routes().get(i), shared));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(config.source(), "routes[" + i + "]", e.getMessage());
            }
        }
        ServeConfig.ProxySpec p = config.proxy();
        int maxHeader = config.listeners().stream().mapToInt(ServeConfig.Listener::maxRequestHeaderBytes).max().orElse(8192);
        ProxyConfig.Builder pc = ProxyConfig.builder()
                .connectTimeout(p.connectTimeout())
                .readTimeout(p.readTimeout())
                .clientBodyTimeout(p.clientBodyTimeout())
                .maxRequestBodyBytes(p.maxBodyBytes())
                .maxRequestHeaderBytes(maxHeader)
                .trustedProxies(config.trust().trustedProxies())
                .hostHeader(switch (p.hostHeader()) {
                    case CLIENT -> ProxyConfig.HostHeader.CLIENT;
                    case HOST -> ProxyConfig.HostHeader.HOST;
                    case ENDPOINT -> ProxyConfig.HostHeader.ENDPOINT;
                })
                .serverName(p.serverName())
                .via(config.trust().via())
                .servedByHeader(p.servedByHeader())
                .forwarded(p.forwarded())
                .maxConnectionsPerEndpoint(p.maxConnectionsPerEndpoint())
                .keepAliveTimeout(p.keepaliveTimeout());
        if (!p.totalTimeout().isZero()) {
            pc.totalTimeout(p.totalTimeout());
        }
        routes.forEach(pc::route);
        config.policy().applyTo(pc);
        return pc;
    }

    /** Starts each upstream's health monitor and active checks. Idempotent. */
    public synchronized ConfiguredProxy start() {
        if (started) {
            return this;
        }
        started = true;
        try {
            for (UpstreamSpec u : config.upstreams().values()) {
                monitor(u, upstreams.get(u.name()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    private void monitor(UpstreamSpec u, Upstream upstream) {
        SpecObjects.warnIfNeverEjects(u);
        ActiveCheckSpec a = u.activeCheck();
        HealthMonitor monitor = HealthMonitor.builder(upstream)
                .outlierDetection(SpecObjects.outlier(u.outlier()))
                .panicThresholdPercent(u.panicThresholdPercent())
                .initialState(a != null && !a.startHealthy() ? EndpointHealthState.CHECKING : EndpointHealthState.UP)
                .build().start();
        monitors.put(u.name(), monitor);
        if (a != null) {
            ActiveChecker checker = ActiveChecker.builder().check(activeCheck(a)).listener(monitor).build();
            checker.watch(upstream);
            checker.start();
            checkers.put(u.name(), checker);
        }
    }

    /** The active check an upstream's {@code healthCheck} describes. */
    public static ActiveCheck activeCheck(ActiveCheckSpec a) {
        ActiveCheck.Builder cb = ActiveCheck.builder().interval(a.interval()).fastInterval(a.fastInterval())
                .downInterval(a.downInterval()).timeout(a.timeout()).rise(a.rise()).fall(a.fall())
                .jitterPercent(a.jitterPercent())
                .initialState(a.startHealthy() ? InitialState.UP : InitialState.CHECKING);
        if (a.type() == ActiveCheckSpec.Type.TCP) {
            return cb.tcp(TcpCheck.connect()).build();
        }
        HttpCheck.Builder hb = HttpCheck.builder().method(a.method()).path(a.path());
        if (a.hostHeader() != null) {
            hb.host(a.hostHeader());
        }
        StringBuilder statuses = new StringBuilder();
        for (int[] r : a.expectStatus()) {
            if (statuses.length() > 0) {
                statuses.append(',');
            }
            statuses.append(r[0]);
            if (r[1] != r[0]) {
                statuses.append('-').append(r[1]);
            }
        }
        hb.expectStatuses(statuses.toString());
        if (a.bodyContains() != null) {
            hb.expectBodyContains(a.bodyContains());
        }
        return cb.http(hb.build()).build();
    }

    /** Each upstream's failure statuses: its own and those of every retry policy that uses it. */
    public static Map<String, Set<Integer>> failureStatuses(ServeConfig cfg) {
        Map<String, Set<Integer>> failureStatuses = new LinkedHashMap<>();
        for (UpstreamSpec u : cfg.upstreams().values()) {
            failureStatuses.put(u.name(), new LinkedHashSet<>(u.failureStatuses()));
        }
        for (RouteSpec r : cfg.routes()) {
            failureStatuses.get(r.upstream()).addAll(r.retry().failureStatuses());
        }
        return failureStatuses;
    }

    /** Stops the active checks and health monitors. */
    @Override
    public synchronized void close() {
        for (ActiveChecker c : checkers.values()) {
            c.close();
        }
        checkers.clear();
        for (HealthMonitor m : monitors.values()) {
            m.close();
        }
        monitors.clear();
    }
}

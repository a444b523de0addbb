package io.lbkit.server;

import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.health.ActiveChecker;
import io.lbkit.health.HealthMonitor;
import io.lbkit.config.ConfigException;
import io.lbkit.config.ServeConfig;
import io.lbkit.config.ServeConfig.ActiveCheckSpec;
import io.lbkit.config.ServeConfig.UpstreamSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One reload: checks that the new configuration can replace the running one, then applies it.
 * Nothing changes until every check has passed.
 *
 * <p>What a reload applies: routes and everything on them, the proxy's timeouts and limits, trust,
 * upstreams added or removed, and the endpoints of the upstreams that remain, updated in place
 * through {@link HealthMonitor} and {@link Upstream} (what changed <em>in the file</em> since the
 * running configuration: endpoints added, removed, re-weighted, moved, or given another state;
 * runtime changes made through the admin API to endpoints the file did not change survive).
 * What needs a restart is refused with the setting's path: the listeners, the engine, the thread
 * and loop counts, the client connection limits, the sessions section, the admin listener and state
 * file, on the event-loop engine the backend pool settings, and of an upstream that remains its
 * policy, slow start, failure statuses, panic threshold, health check and outlier detection.
 */
final class Reload {

    private static final Logger LOG = LoggerFactory.getLogger(Reload.class);

    private final ProxyServer server;
    private final ServeConfig old;
    private final ServeConfig next;

    Reload(ProxyServer server, ServeConfig old, ServeConfig next) {
        this.server = server;
        this.old = old;
        this.next = next;
    }

    void apply() {
        checkRestartOnly();
        Map<String, Set<Integer>> oldFailures = ProxyServer.failureStatuses(old);
        Map<String, Set<Integer>> nextFailures = ProxyServer.failureStatuses(next);
        Map<String, Upstream> candidates = new LinkedHashMap<>();
        for (UpstreamSpec u : next.upstreams().values()) {
            UpstreamSpec was = old.upstreams().get(u.name());
            if (was == null) {
                candidates.put(u.name(), ProxyServer.newUpstream(next, u));
                continue;
            }
            String at = "upstreams." + u.name() + ".";
            same(at + "policy", was.policyName(), u.policyName());
            same(at + "slowStart", was.slowStart(), u.slowStart());
            same(at + "failureStatuses (with the retry statuses of its routes)", oldFailures.get(u.name()),
                    nextFailures.get(u.name()));
            same(at + "panicThreshold", was.panicThresholdPercent(), u.panicThresholdPercent());
            same(at + "healthCheck", describe(was.activeCheck()), describe(u.activeCheck()));
            same(at + "outlierDetection", was.outlier(), u.outlier());
            candidates.put(u.name(), server.upstreams().get(u.name()));
        }
        server.checkRoutes(next, candidates); // route errors, before anything changes

        // apply
        List<String> added = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Map<String, Upstream> live = new LinkedHashMap<>();
        for (UpstreamSpec u : next.upstreams().values()) {
            UpstreamSpec was = old.upstreams().get(u.name());
            if (was == null) {
                live.put(u.name(), server.addUpstream(next, u));
                added.add(u.name());
            } else {
                live.put(u.name(), server.upstreams().get(u.name()));
                endpoints(was, u, changes);
            }
        }
        server.swap(next, live);
        List<String> removed = new ArrayList<>();
        for (String name : old.upstreams().keySet()) {
            if (!next.upstreams().containsKey(name)) {
                server.retireUpstream(name);
                removed.add(name);
            }
        }
        LOG.info("reloaded {}: upstreams added {}, removed {}; endpoint changes {}; {} routes", next.source(), added,
                removed, changes, next.routes().size());
    }

    /** Applies what changed in the file to the endpoints of an upstream that remains. */
    private void endpoints(UpstreamSpec was, UpstreamSpec now, List<String> changes) {
        HealthMonitor monitor = server.monitor(now.name());
        Upstream upstream = monitor.upstream();
        Map<String, Endpoint> before = new LinkedHashMap<>();
        was.endpoints().forEach(e -> before.put(e.id(), e));
        String at = now.name() + "/";
        for (Endpoint e : now.endpoints()) {
            Endpoint prev = before.remove(e.id());
            EndpointState prevState = prev == null ? null : was.states().getOrDefault(e.id(), EndpointState.UP);
            EndpointState state = now.states().getOrDefault(e.id(), EndpointState.UP);
            boolean fileChanged = prev == null || !e.equals(prev) || state != prevState;
            if (upstream.endpoint(e.id()).isEmpty()) {
                if (!fileChanged) {
                    continue; // removed at runtime, unchanged in the file: stays removed
                }
                monitor.add(e);
                changes.add("+" + at + e.id());
                prevState = null;
            } else if (!e.equals(prev) && !e.equals(upstream.endpoint(e.id()).orElseThrow())) {
                upstream.update(e);
                changes.add("~" + at + e.id());
            }
            if (state != prevState && (prevState != null || state != EndpointState.UP)) {
                AdminState.apply(monitor, e.id(), state);
                changes.add(at + e.id() + "=" + state.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        for (String gone : before.keySet()) {
            if (monitor.remove(gone)) {
                changes.add("-" + at + gone);
            }
        }
        ActiveChecker checker = server.checker(now.name());
        if (checker != null) {
            checker.sync();
        }
    }

    private void checkRestartOnly() {
        same("engine", old.engine(), next.engine());
        same("listen", old.listeners(), next.listeners());
        ServeConfig.ProxySpec a = old.proxy();
        ServeConfig.ProxySpec b = next.proxy();
        same("proxy.threads", a.threads(), b.threads());
        same("proxy.workers", a.workers(), b.workers());
        same("proxy.clientHeaderTimeout", a.clientHeaderTimeout(), b.clientHeaderTimeout());
        same("proxy.clientKeepaliveTimeout", a.clientKeepaliveTimeout(), b.clientKeepaliveTimeout());
        same("proxy.keepaliveRequests", a.keepaliveRequests(), b.keepaliveRequests());
        if (next.engine() == ServeConfig.Engine.EVENT_LOOP) {
            same("proxy.connectTimeout", a.connectTimeout(), b.connectTimeout());
            same("proxy.keepaliveTimeout", a.keepaliveTimeout(), b.keepaliveTimeout());
            same("proxy.maxConnectionsPerEndpoint", a.maxConnectionsPerEndpoint(), b.maxConnectionsPerEndpoint());
        }
        same("sessions", old.sessions(), next.sessions());
        ServeConfig.AdminSpec x = old.admin();
        ServeConfig.AdminSpec y = next.admin();
        same("admin", x == null, y == null);
        if (x != null) {
            same("admin.listen", x.host() + ":" + x.port(), y.host() + ":" + y.port());
            same("admin.stateFile", x.stateFile(), y.stateFile());
        }
    }

    private void same(String path, Object was, Object now) {
        if (!Objects.equals(was, now)) {
            throw new ConfigException(next.source(), path, "cannot change on reload (restart to change it): was "
                    + was + ", now " + now);
        }
    }

    /** A health check's settings as text (its expected statuses are arrays, which records compare by identity). */
    private static String describe(ActiveCheckSpec a) {
        if (a == null) {
            return "none";
        }
        StringBuilder statuses = new StringBuilder();
        for (int[] r : a.expectStatus()) {
            statuses.append(Arrays.toString(r));
        }
        return a.type() + " " + a.method() + " " + a.path() + " host=" + a.hostHeader() + " expect=" + statuses
                + " body=" + a.bodyContains() + " interval=" + a.interval() + " timeout=" + a.timeout() + " rise="
                + a.rise() + " fall=" + a.fall() + " fast=" + a.fastInterval() + " down=" + a.downInterval() + " jitter="
                + a.jitterPercent() + " startHealthy=" + a.startHealthy();
    }
}

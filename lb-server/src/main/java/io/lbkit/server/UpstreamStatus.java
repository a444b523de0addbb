package io.lbkit.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.health.ActiveChecker;
import io.lbkit.health.EndpointHealth;
import io.lbkit.health.HealthMonitor;

/**
 * One upstream's live status in the shape of nginx Plus's {@code /api/N/http/upstreams/NAME}:
 * {@code peers} with {@code id}, {@code server}, {@code name}, {@code backup}, {@code weight},
 * {@code state}, {@code active}, {@code max_conns}, {@code fails}, {@code unavail},
 * {@code health_checks}, plus lbkit's own fields; docs/operations.md lists each field and what
 * lbkit does not fill yet.
 */
final class UpstreamStatus {

    private UpstreamStatus() {
    }

    static ObjectNode json(Upstream u, HealthMonitor m, ActiveChecker checker, PeerCounters counters) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode peers = out.putArray("peers");
        for (Upstream.EndpointStatus s : u.statuses()) {
            String id = s.endpoint().id();
            EndpointHealth h = m == null ? null : m.health(id).orElse(null);
            ObjectNode p = peers.addObject();
            p.put("id", id);
            p.put("server", ServerFields.address(s.endpoint()));
            p.put("name", id);
            p.put("backup", s.endpoint().backup());
            p.put("weight", s.endpoint().weight());
            p.put("state", state(s, h));
            p.put("active", s.inFlight());
            if (s.endpoint().maxConnections() > 0) {
                p.put("max_conns", s.endpoint().maxConnections());
            }
            PeerCounters.Peer c = counters.get(id);
            p.put("requests", c == null ? 0 : c.attempts.sum());
            ObjectNode r = p.putObject("responses");
            long total = 0;
            for (int k = 0; k < 5; k++) {
                long n = c == null ? 0 : c.byClass[k].sum();
                r.put((k + 1) + "xx", n);
                total += n;
            }
            r.put("total", total);
            p.put("fails", c == null ? 0 : c.failures.sum());
            if (c != null && c.lastCompletedMillis != 0) {
                p.put("selected", java.time.Instant.ofEpochMilli(c.lastCompletedMillis).toString());
            }
            long responses = c == null ? 0 : c.responses.sum();
            if (responses > 0) {
                p.put("response_time", c.responseNanos.sum() / responses / 1_000_000);
            }
            p.put("unavail", h == null ? 0 : h.ejections());
            ObjectNode hc = p.putObject("health_checks");
            ActiveChecker.State a = checker == null ? null : checker.state(id).orElse(null);
            if (a != null) {
                hc.put("checked", a.checked());
                hc.put("healthy", a.healthy());
                hc.put("consecutive_passes", a.consecutivePasses());
                hc.put("consecutive_fails", a.consecutiveFailures());
                if (a.lastResult() != null) {
                    hc.put("last_passed", a.lastResult().passed());
                    hc.put("last_detail", a.lastResult().detail());
                }
            }
            // lbkit's own
            p.put("fails_now", s.fails());
            p.put("effective_weight", s.effectiveWeight());
            p.put("available", s.available());
            p.put("health", h == null ? (s.healthy() ? "up" : "unhealthy") : h.state().name().toLowerCase(java.util.Locale.ROOT));
            p.put("ejected", h != null && h.ejected());
        }
        out.put("zone", u.name());
        out.put("policy", u.policy().name());
        out.put("panic", u.inPanic());
        return out;
    }

    /** nginx Plus's peer states: up, draining, down, unavail, checking, unhealthy. */
    static String state(Upstream.EndpointStatus s, EndpointHealth h) {
        if (s.state() == EndpointState.DOWN) {
            return "down";
        }
        if (s.state() == EndpointState.DRAINING) {
            return "draining";
        }
        if (h != null) {
            switch (h.state()) {
                case CHECKING: return "checking";
                case UNHEALTHY: return "unhealthy";
                case EJECTED: return "unavail";
                default: break;
            }
        } else if (!s.healthy()) {
            return "unhealthy";
        }
        return s.available() ? "up" : "unavail";
    }
}

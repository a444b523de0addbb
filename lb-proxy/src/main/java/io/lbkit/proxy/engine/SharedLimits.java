package io.lbkit.proxy.engine;

import io.lbkit.core.limit.Decision;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.Route;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A route's shared rate limits ({@link RateLimit#shared}) applied to a request its local limits
 * admitted: each asks its store once (one round trip, all at once), and the pending permit is
 * decided when every answer is in. The first refusing limit in the route's order refuses with its
 * status; otherwise the request goes after the longest delay of all its limits; a request the
 * access rules deny is refused with 403 only after the limits admitted it (nginx's phase order).
 */
final class SharedLimits {

    private static final Logger log = LoggerFactory.getLogger(SharedLimits.class);

    private SharedLimits() {
    }

    /** Asks the stores of {@code route}'s shared limits; {@code local} is the local limits' permit. */
    static Limits.Permit decide(ProxyConfig config, Route route, ClientOrigin origin, ClientRequest req,
                                Limits.Permit local, boolean allowed) {
        RateLimit[] shared = route.sharedRateLimits();
        Limits.Permit pending = Limits.Permit.pending(local);
        RequestValues.Slice slice = new RequestValues.Slice();
        if (shared.length == 1) {
            String key = Limits.keyOf(config, shared[0].key(), shared[0].map(), origin, req, slice);
            ask(shared[0], key).whenComplete((d, x) -> decided(route, pending, allowed, new Decision[] {d}, x));
            return pending;
        }
        Decision[] answers = new Decision[shared.length];
        AtomicInteger left = new AtomicInteger(shared.length);
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < shared.length; i++) {
            int at = i;
            ask(shared[i], Limits.keyOf(config, shared[i].key(), shared[i].map(), origin, req, slice)).whenComplete((d, x) -> {
                answers[at] = d;
                if (x != null) {
                    failure[0] = x;
                }
                if (left.decrementAndGet() == 0) { // the last answer sees every write before it
                    decided(route, pending, allowed, answers, failure[0]);
                }
            });
        }
        return pending;
    }

    private static CompletionStage<Decision> ask(RateLimit limit, String key) {
        try {
            return limit.shared().tryAcquire(key);
        } catch (RuntimeException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    private static void decided(Route route, Limits.Permit pending, boolean allowed, Decision[] answers,
                                Throwable failure) {
        if (failure != null) {
            log.warn("route {}: a shared rate limit could not decide: {}", route.name(), failure.toString());
            pending.decide(503, Limits.RATE_UNCHECKED, 0);
            return;
        }
        long delay = 0;
        Decision refusal = null;
        for (Decision d : answers) {
            if (d.isRejected()) {
                refusal = d;
                break;
            }
            delay = Math.max(delay, d.delayMillis());
        }
        if (route.limitDryRun()) {
            if (refusal != null || delay > 0) {
                log.debug("limit_req dry run, route {}: a shared limit would {}", route.name(),
                        refusal != null ? "refuse with " + refusal.status() : "delay " + delay + " ms");
            }
            pending.decide(allowed ? 0 : AccessRules.STATUS, allowed ? null : AccessRules.FORBIDDEN, 0);
        } else if (refusal != null) {
            pending.decide(refusal.status(), Limits.RATE_EXCEEDED, 0);
        } else if (!allowed) {
            pending.decide(AccessRules.STATUS, AccessRules.FORBIDDEN, 0);
        } else {
            pending.decide(0, null, delay);
        }
    }
}

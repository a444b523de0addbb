package io.lbkit.health;

import io.lbkit.core.Outcome;
import io.lbkit.core.Ticker;
import java.util.Collection;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's outlier detection for the endpoints of one {@link HealthMonitor}: it counts outcomes,
 * finds outliers and ejects them, and the monitor folds "ejected" into each endpoint's joined state.
 *
 * <ul>
 *   <li><b>Consecutive errors</b> (Envoy {@code consecutive_5xx}, {@code consecutive_gateway_failure}):
 *       {@link #record} runs on request threads, lock-free and allocation-free (the packed counters of
 *       {@link EndpointTracker}); the one request whose failure brings a streak to its threshold hands
 *       the ejection to the monitor's context.</li>
 *   <li><b>Each interval</b> ({@link #sweep}): ends ejections whose time has passed, then the
 *       success-rate pass (eject below {@code mean - factor × stdev} over the endpoints with enough
 *       requests) and the failure-percentage pass, then lowers the ejection back-off of endpoints that
 *       stayed in for a whole interval.</li>
 *   <li><b>Ejecting</b> (Envoy's {@code ejectHost}): never beyond {@code maxEjectionPercent} of the
 *       endpoints (one is always allowed with {@code alwaysEjectOneHost}), then only with the
 *       enforcement chance; the ejection lasts {@code baseEjectionTime × back-off}, capped at
 *       {@code maxEjectionTime}, and the back-off grows by one per ejection.</li>
 * </ul>
 *
 * <p>The ejection state lives in each {@link EndpointTracker}. Everything except {@link #record}
 * runs on the monitor's serialized context.
 */
final class OutlierEjector {

    /** Logs under the monitor's name, as before outlier detection had a class of its own. */
    private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

    /** What the ejector needs from its monitor. */
    interface Monitor {
        /** Runs {@code task} on the monitor's serialized context; called from request threads. */
        void runInContext(Runnable task);

        /**
         * The endpoint was ejected or its ejection ended (context only): the monitor joins its state
         * again, tells the balancer and publishes the change with {@code reason}.
         */
        void ejectionChanged(EndpointTracker t, String reason);
    }

    private final OutlierDetection od;
    private final int consecutive5xx;
    private final int consecutiveGateway;
    private final Ticker ticker;
    private final String upstreamName;
    /** The monitor's endpoints in membership order: a live view, read in the context only. */
    private final Collection<EndpointTracker> members;
    private final Monitor monitor;

    OutlierEjector(OutlierDetection od, Ticker ticker, String upstreamName, Collection<EndpointTracker> members,
                   Monitor monitor) {
        this.od = od;
        this.consecutive5xx = od.consecutive5xx();
        this.consecutiveGateway = od.consecutiveGatewayFailure();
        this.ticker = ticker;
        this.upstreamName = upstreamName;
        this.members = members;
        this.monitor = monitor;
    }

    // =====================================================================================
    // the request path
    // =====================================================================================

    /**
     * Records one completed attempt, as Envoy classifies it without
     * {@code split_external_local_origin_errors}: a status 500..599 is a 5xx and 502..504 a gateway
     * failure too; a connect failure or reset counts as 503, a timeout as 504, an invalid response
     * as 502; a cancelled attempt is not counted. Lock-free and allocation-free except when a streak
     * reaches its threshold.
     */
    void record(EndpointTracker t, Outcome outcome, int status) {
        int code;
        if (outcome == Outcome.RESPONSE) {
            code = status;
        } else if (outcome == Outcome.CANCELLED) {
            return;
        } else if (outcome == Outcome.TIMEOUT) {
            code = 504;
        } else if (outcome == Outcome.INVALID_RESPONSE) {
            code = 502;
        } else { // CONNECT_FAILURE, RESET: Envoy's LocalOriginConnectFailed = 503
            code = 503;
        }
        if (code < 500 || code > 599) {
            t.success();
        } else {
            failed(t, code);
        }
    }

    /** A 5xx-class outcome (kept out of {@link #record} so that the success path stays small). */
    private void failed(EndpointTracker t, int code) {
        boolean gateway = code >= 502 && code <= 504;
        long streaks = t.failure(gateway);
        if (gateway && EndpointTracker.gateway(streaks) == consecutiveGateway) {
            monitor.runInContext(() -> onConsecutive(t, false));
        }
        if (EndpointTracker.fiveXx(streaks) == consecutive5xx) {
            monitor.runInContext(() -> onConsecutive(t, true));
        }
    }

    /** A streak reached its threshold: Envoy ejects unless the endpoint is already out or gone. */
    private void onConsecutive(EndpointTracker t, boolean fiveXx) {
        if (t.removed || t.ejected) {
            return;
        }
        if (fiveXx) {
            eject(t, od.enforcingConsecutive5xx(), "consecutive 5xx: " + od.consecutive5xx());
            t.clear5xx();
        } else {
            eject(t, od.enforcingConsecutiveGatewayFailure(),
                    "consecutive gateway failures: " + od.consecutiveGatewayFailure());
            t.clearGateway();
        }
    }

    // =====================================================================================
    // the interval (context only)
    // =====================================================================================

    /**
     * One outlier-detection interval: ends ejections whose time has passed, evaluates success rate
     * and failure percentage over the requests since the last sweep, and lowers by one the ejection
     * back-off of every endpoint that has been back in for at least one interval.
     */
    void sweep() {
        long now = ticker.nanos();
        for (EndpointTracker t : members) {
            if (t.ejected && now - t.ejectedAt >= od.ejectionTime(t.backoff).toNanos()) {
                uneject(t);
                monitor.ejectionChanged(t, "ejection time " + od.ejectionTime(t.backoff).toSeconds() + " s elapsed");
            }
        }
        int n = members.size();
        EndpointTracker[] hosts = new EndpointTracker[n];
        double[] rates = new double[n];
        long[] volumes = new long[n];
        int i = 0;
        for (EndpointTracker t : members) {
            long c = t.counts.sumThenReset(); // requests since the last sweep, packed
            long dt = c >>> 32;
            long ds = dt - (c & 0xFFFF_FFFFL);
            hosts[i] = t;
            volumes[i] = dt;
            rates[i] = dt == 0 ? -1 : Math.min(100.0, Math.max(0.0, ds * 100.0 / dt));
            i++;
        }
        if (n >= od.successRateMinimumHosts() || n >= od.failurePercentageMinimumHosts()) {
            detectStatistical(hosts, rates, volumes);
        }
        long interval = od.interval().toNanos();
        for (EndpointTracker t : members) {
            if (!t.ejected && t.lastUnejectedAt != Long.MIN_VALUE && now - t.lastUnejectedAt >= interval
                    && t.backoff != 0) {
                t.backoff--;
                t.publishView();
            }
        }
    }

    /**
     * Envoy's success-rate and failure-percentage passes over the endpoints not ejected, each
     * judging only endpoints with at least its request volume and running only when at least its
     * minimum number of endpoints qualify. {@code rates} are success rates in percent (-1: no
     * requests).
     */
    private void detectStatistical(EndpointTracker[] hosts, double[] rates, long[] volumes) {
        int[] sr = new int[hosts.length];
        int srCount = 0;
        int[] fp = new int[hosts.length];
        int fpCount = 0;
        double sum = 0;
        for (int i = 0; i < hosts.length; i++) {
            if (hosts[i].ejected || rates[i] < 0) {
                continue;
            }
            if (volumes[i] >= od.successRateRequestVolume()) {
                sr[srCount++] = i;
                sum += rates[i];
            }
            if (volumes[i] >= od.failurePercentageRequestVolume()) {
                fp[fpCount++] = i;
            }
        }
        if (srCount > 0 && srCount >= od.successRateMinimumHosts()) {
            double mean = sum / srCount;
            double var = 0;
            for (int k = 0; k < srCount; k++) {
                double d = rates[sr[k]] - mean;
                var += d * d;
            }
            double stdev = Math.sqrt(var / srCount);
            double threshold = mean - od.successRateStdevFactor() / 1000.0 * stdev;
            for (int k = 0; k < srCount; k++) {
                int i = sr[k];
                if (rates[i] < threshold) {
                    eject(hosts[i], od.enforcingSuccessRate(), String.format(Locale.ROOT,
                            "success rate %.1f%% below threshold %.1f%% (mean %.1f%%)", rates[i], threshold, mean));
                }
            }
        }
        if (fpCount > 0 && fpCount >= od.failurePercentageMinimumHosts()) {
            for (int k = 0; k < fpCount; k++) {
                int i = fp[k];
                if (!hosts[i].ejected && 100.0 - rates[i] >= od.failurePercentageThreshold()) {
                    eject(hosts[i], od.enforcingFailurePercentage(), String.format(Locale.ROOT,
                            "failure percentage %.1f%% >= %d%%", 100.0 - rates[i], od.failurePercentageThreshold()));
                }
            }
        }
    }

    // =====================================================================================
    // ejecting and ending ejections (context only)
    // =====================================================================================

    /**
     * Envoy's {@code ejectHost}: refused when the ejected share after it would pass
     * {@code maxEjectionPercent} (unless {@code alwaysEjectOneHost} and none is ejected), then
     * enforced with a chance of {@code enforcingPercent}; an ejection grows the back-off while the
     * ejection time has not reached its cap.
     */
    private void eject(EndpointTracker t, int enforcingPercent, String reason) {
        int ejectedNow = 0;
        for (EndpointTracker o : members) {
            if (o.ejected) {
                ejectedNow++;
            }
        }
        double percentAfter = 100.0 * (ejectedNow + 1) / members.size();
        boolean allowed = percentAfter <= od.maxEjectionPercent() || (od.alwaysEjectOneHost() && ejectedNow == 0);
        if (!allowed) {
            LOG.info("upstream '{}' endpoint '{}': outlier detected ({}) but not ejected: {} of {} already ejected, "
                    + "maxEjectionPercent {}", upstreamName, t.id, reason, ejectedNow, members.size(),
                    od.maxEjectionPercent());
            return;
        }
        if (!(enforcingPercent >= 100 || (enforcingPercent > 0
                && ThreadLocalRandom.current().nextInt(100) < enforcingPercent))) {
            LOG.info("upstream '{}' endpoint '{}': outlier detected ({}) but not enforced (enforcing {}%)",
                    upstreamName, t.id, reason, enforcingPercent);
            return;
        }
        t.ejected = true;
        t.ejectedAt = ticker.nanos();
        t.ejections++;
        if ((long) t.backoff * od.baseEjectionTime().toNanos()
                < od.maxEjectionTime().toNanos() + od.baseEjectionTime().toNanos()) {
            t.backoff++;
        }
        monitor.ejectionChanged(t, reason + "; ejected for " + od.ejectionTime(t.backoff).toSeconds() + " s");
    }

    /**
     * Envoy's {@code successful_active_health_check_uneject_host}: a passing active check of an
     * endpoint that is active-healthy ends its ejection when the setting is on. Returns whether an
     * ejection ended; the caller publishes the change.
     */
    boolean unejectOnPassingCheck(EndpointTracker t) {
        if (t.ejected && od.successfulActiveCheckUnejects()) {
            uneject(t);
            return true;
        }
        return false;
    }

    /**
     * Forgets the endpoint's outlier history (a deployment replaced its process): no ejection, no
     * back-off, no streaks. The caller publishes the change.
     */
    void reset(EndpointTracker t) {
        if (t.ejected) {
            uneject(t);
        }
        t.backoff = 0;
        t.clearStreaks();
    }

    /** Ends the ejection and both streaks, so that a few new errors do not eject it again at once. */
    private void uneject(EndpointTracker t) {
        t.ejected = false;
        t.lastUnejectedAt = ticker.nanos();
        t.clearStreaks();
    }
}

package io.lbkit.core;

/**
 * Receives every completed attempt of an {@link Upstream}, on the thread that completed it. This
 * is how lb-health's passive checks (outlier detection) observe traffic. Implementations must be
 * fast, thread-safe and allocation-free: they run on the request path.
 */
@FunctionalInterface
public interface OutcomeListener {

    /**
     * @param endpoint     the endpoint the attempt went to
     * @param outcome      how it ended
     * @param status       the HTTP status for {@link Outcome#RESPONSE}, else 0
     * @param latencyNanos the attempt's latency as reported by the caller
     * @param failure      whether the upstream counted this as a failure (transport failure or a
     *                     status in its failure set)
     */
    void onOutcome(Endpoint endpoint, Outcome outcome, int status, long latencyNanos, boolean failure);
}

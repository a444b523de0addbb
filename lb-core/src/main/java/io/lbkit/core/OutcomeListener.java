package io.lbkit.core;

/**
 * Receives every completed attempt of an {@link Upstream}, on the thread that completed it. This
 * is how lb-health's passive checks (outlier detection) observe traffic. Implementations must be
 * fast, thread-safe and allocation-free: they run on the request path.
 *
 * <p>The upstream calls {@link #onOutcome(Endpoint, Object, Outcome, int, long, boolean)}, which
 * also hands over the endpoint's {@linkplain Upstream#setAttachment attachment}: a per-endpoint
 * object the listener stored earlier (for example its counters), so it needs no lookup by id on
 * the request path. By default that method ignores the attachment and calls the five-argument one.
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

    /**
     * What the upstream calls: {@link #onOutcome(Endpoint, Outcome, int, long, boolean)} plus the
     * endpoint's attachment. Override it to use the attachment; the default ignores it.
     *
     * @param attachment what {@link Upstream#setAttachment} last stored for this endpoint, or
     *                   {@code null} when nothing was stored since the endpoint was added
     */
    default void onOutcome(Endpoint endpoint, Object attachment, Outcome outcome, int status, long latencyNanos,
                           boolean failure) {
        onOutcome(endpoint, outcome, status, latencyNanos, failure);
    }
}

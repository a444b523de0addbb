package io.lbkit.core;

/**
 * The result of {@link Upstream#pick}: either an endpoint, which the caller must
 * {@link #complete complete} exactly once with the outcome of the attempt, or "no endpoint" with
 * a {@link #reason() reason}. Never null.
 *
 * <p>Completing feeds the endpoint's in-flight count, latency averages and passive health. The
 * selection object is shared by concurrent requests to the same endpoint: it carries no
 * per-request state, which is what keeps pick + complete allocation-free.
 */
public interface Selection {

    /** True when an endpoint was chosen. */
    boolean found();

    /**
     * The chosen endpoint.
     *
     * @throws NoEndpointException when nothing was chosen
     */
    Endpoint endpoint();

    /** Why nothing was chosen, or {@link NoEndpointReason#NONE} when an endpoint was. */
    NoEndpointReason reason();

    /**
     * Reports how the attempt ended. For {@link Outcome#RESPONSE}, {@code status} is the HTTP
     * status; otherwise it is ignored. {@code latencyNanos} is the time from sending to the end of
     * the response headers (or to the failure). A no-op when nothing was chosen.
     */
    void complete(Outcome outcome, int status, long latencyNanos);

    /** Shorthand for a response with {@code status}. */
    default void complete(int status, long latencyNanos) {
        complete(Outcome.RESPONSE, status, latencyNanos);
    }

    /** Why a pick found no endpoint. */
    enum NoEndpointReason {
        /** An endpoint was chosen. */
        NONE,
        /** The upstream has no endpoints at all. */
        EMPTY,
        /** Every endpoint is down, draining, unhealthy, temporarily failed or at its connection cap. */
        NONE_AVAILABLE,
        /** Every endpoint that could serve was already tried by this request. */
        ALL_TRIED;

        final Selection selection = new Selection() {
            @Override public boolean found() { return false; }
            @Override public Endpoint endpoint() { throw new NoEndpointException(NoEndpointReason.this); }
            @Override public NoEndpointReason reason() { return NoEndpointReason.this; }
            @Override public void complete(Outcome outcome, int status, long latencyNanos) { }
            @Override public String toString() { return "no endpoint (" + name() + ")"; }
        };
    }
}

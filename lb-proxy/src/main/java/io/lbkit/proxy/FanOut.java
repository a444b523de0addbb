package io.lbkit.proxy;

import java.time.Duration;
import java.util.Locale;

/**
 * The settings of a broadcast route: each request, body included, goes to every
 * eligible endpoint of the route's upstream at once, and the answers are aggregated into one
 * response. Immutable; built with {@link #builder()} and set with {@link Route.Builder#broadcast}.
 *
 * <pre>{@code
 * Route webhook = Route.builder("webhook", backends)
 *         .broadcast(FanOut.builder().aggregation(FanOut.Aggregation.ALL).build())
 *         .build();
 * }</pre>
 *
 * <h2>Defaults</h2>
 * <ul>
 *   <li>aggregation {@link Aggregation#ALL}; quorum 0 (required with {@link Aggregation#QUORUM})</li>
 *   <li>primary none: the response is the deciding one (see {@code docs/proxy.md})</li>
 *   <li>summary false; summaryBodyBytes 1024 (each body in the summary is cut to this)</li>
 *   <li>maxResponseBytes 1 MiB: the most that is kept of one endpoint's response body</li>
 *   <li>maxBodyBytes 0 = the filter's {@code maxRequestBodyBytes}, or 64 MiB when that is
 *       unlimited (the request body is held in memory)</li>
 *   <li>totalTimeout {@link Duration#ZERO} = the filter's {@code totalTimeout}</li>
 * </ul>
 * A response is a success when its status is 2xx.
 */
public final class FanOut {

    /** How the answers of the endpoints make one answer. */
    public enum Aggregation {
        /** Every endpoint must succeed; otherwise the first failing endpoint (in configuration order) decides. */
        ALL,
        /** The first success (in time) answers; the other requests run to their end and are discarded. */
        FIRST,
        /** {@code quorum} successes answer; failure as soon as the quorum can no longer be reached. */
        QUORUM
    }

    /** The buffer limit used when the filter's body limit is 0 (unlimited). */
    public static final long DEFAULT_BUFFER_LIMIT = 64L << 20;

    private final Aggregation aggregation;
    private final int quorum;
    private final String primary;
    private final boolean summary;
    private final int summaryBodyBytes;
    private final int maxResponseBytes;
    private final long maxBodyBytes;
    private final Duration totalTimeout;

    private FanOut(Builder b) {
        this.aggregation = b.aggregation;
        this.quorum = b.quorum;
        this.primary = b.primary;
        this.summary = b.summary;
        this.summaryBodyBytes = b.summaryBodyBytes;
        this.maxResponseBytes = b.maxResponseBytes;
        this.maxBodyBytes = b.maxBodyBytes;
        this.totalTimeout = b.totalTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Aggregation aggregation() { return aggregation; }

    /** Successes needed with {@link Aggregation#QUORUM}; 0 otherwise. */
    public int quorum() { return quorum; }

    /** The endpoint id whose response is returned when it succeeded, or null. */
    public String primary() { return primary; }

    /** Whether the response is a JSON summary of every endpoint's answer. */
    public boolean summary() { return summary; }

    public int summaryBodyBytes() { return summaryBodyBytes; }

    public int maxResponseBytes() { return maxResponseBytes; }

    /** The request body limit; 0 = the filter's. */
    public long maxBodyBytes() { return maxBodyBytes; }

    /** The whole fan-out's timeout; zero = the filter's total timeout. */
    public Duration totalTimeout() { return totalTimeout; }

    @Override
    public String toString() {
        return "FanOut[" + aggregation.name().toLowerCase(Locale.ROOT) + (aggregation == Aggregation.QUORUM ? " " + quorum : "")
                + (primary != null ? ", primary=" + primary : "") + (summary ? ", summary" : "") + "]";
    }

    /** Builder for {@link FanOut}; validation happens in {@link #build()}. */
    public static final class Builder {
        private Aggregation aggregation = Aggregation.ALL;
        private int quorum;
        private String primary;
        private boolean summary;
        private int summaryBodyBytes = 1024;
        private int maxResponseBytes = 1 << 20;
        private long maxBodyBytes;
        private Duration totalTimeout = Duration.ZERO;

        private Builder() {
        }

        public Builder aggregation(Aggregation a) { this.aggregation = a; return this; }

        /** Shorthand for {@link Aggregation#QUORUM} with {@code n} successes. */
        public Builder quorum(int n) {
            this.aggregation = Aggregation.QUORUM;
            this.quorum = n;
            return this;
        }

        /** Returns this endpoint's response (headers and body) whenever it succeeded. */
        public Builder primary(String endpointId) { this.primary = endpointId; return this; }

        /** Answers with a JSON summary of all answers instead of one endpoint's response. */
        public Builder summary(boolean on) { this.summary = on; return this; }

        /** How much of each body the summary shows (0 .. 1 MiB). */
        public Builder summaryBodyBytes(int n) { this.summaryBodyBytes = n; return this; }

        /** The most kept of one endpoint's response body; a longer one counts as a 502 failure. */
        public Builder maxResponseBytes(int n) { this.maxResponseBytes = n; return this; }

        /** The request body limit (the body is held in memory); 0 = the filter's. */
        public Builder maxBodyBytes(long n) { this.maxBodyBytes = n; return this; }

        /** The timeout of the whole fan-out; zero = the filter's total timeout. */
        public Builder totalTimeout(Duration d) { this.totalTimeout = d; return this; }

        public FanOut build() {
            if (aggregation == null) {
                throw new IllegalArgumentException("aggregation must not be null");
            }
            if (aggregation == Aggregation.QUORUM && quorum < 1) {
                throw new IllegalArgumentException("quorum must be >= 1 with aggregation QUORUM, got " + quorum);
            }
            if (aggregation != Aggregation.QUORUM && quorum != 0) {
                throw new IllegalArgumentException("quorum applies only to aggregation QUORUM, got " + quorum
                        + " with " + aggregation);
            }
            if (primary != null && primary.isEmpty()) {
                throw new IllegalArgumentException("primary must be an endpoint id, got ''");
            }
            if (summaryBodyBytes < 0 || summaryBodyBytes > (1 << 20)) {
                throw new IllegalArgumentException("summaryBodyBytes must be 0..1048576, got " + summaryBodyBytes);
            }
            if (maxResponseBytes < 1) {
                throw new IllegalArgumentException("maxResponseBytes must be >= 1, got " + maxResponseBytes);
            }
            if (maxBodyBytes < 0) {
                throw new IllegalArgumentException("maxBodyBytes must be >= 0, got " + maxBodyBytes);
            }
            if (totalTimeout == null || totalTimeout.isNegative()) {
                throw new IllegalArgumentException("totalTimeout must be >= 0, got " + totalTimeout);
            }
            return new FanOut(this);
        }
    }
}

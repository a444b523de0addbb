package io.lbkit.core.limit;

/**
 * The outcome of {@link RateLimiter#tryAcquire(String)}: the request is either allowed, possibly
 * after a delay, or rejected with an HTTP status code.
 *
 * <p>Decisions are immutable. The common outcomes are shared instances, so a limiter does not
 * allocate for them: "allowed now" is one process-wide instance ({@link #isAllowed()} true,
 * {@link #delayMillis()} 0) and "rejected" is one instance per limiter (it carries that limiter's
 * status code). Only a delayed decision, which carries its own delay, is a new object.
 *
 * <p>The way to act on a decision, as nginx does:
 *
 * <pre>{@code
 * Decision d = limiter.tryAcquire(clientIp);
 * if (d.isRejected()) {
 *     response.sendError(d.status());            // 503 by default, 429 if configured
 * } else if (d.delayMillis() > 0) {
 *     scheduleAfter(d.delayMillis(), this::proceed); // nginx holds the request that long
 * } else {
 *     proceed();
 * }
 * }</pre>
 */
public final class Decision {

    private static final Decision ALLOWED = new Decision(true, 0L, 0);

    private final boolean allowed;
    private final long delayMillis;
    private final int status;

    private Decision(boolean allowed, long delayMillis, int status) {
        this.allowed = allowed;
        this.delayMillis = delayMillis;
        this.status = status;
    }

    /** The shared "allowed, no delay" decision. */
    public static Decision allowed() {
        return ALLOWED;
    }

    /**
     * A new "allowed after {@code delayMillis}" decision; 0 gives the shared instance. For limiters
     * kept elsewhere (a bucket shared through Redis) that answer with the same decisions.
     */
    public static Decision delayed(long delayMillis) {
        if (delayMillis < 0) {
            throw new IllegalArgumentException("delayMillis must be >= 0, got " + delayMillis);
        }
        return delayMillis == 0 ? ALLOWED : new Decision(true, delayMillis, 0);
    }

    /**
     * A new "rejected with {@code status}" decision; limiters create one at build time.
     *
     * @throws IllegalArgumentException if {@code status} is not a 4xx or 5xx code
     */
    public static Decision rejected(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("status must be 400..599, got " + status);
        }
        return new Decision(false, 0L, status);
    }

    /** True if the request may proceed (now, or after {@link #delayMillis()}). */
    public boolean isAllowed() {
        return allowed;
    }

    /** True if the request must be refused with {@link #status()}. */
    public boolean isRejected() {
        return !allowed;
    }

    /** True if the request is allowed but must wait {@link #delayMillis()} first. */
    public boolean isDelayed() {
        return delayMillis > 0;
    }

    /**
     * How long to hold an allowed request before serving it, in milliseconds: 0 to serve it at
     * once (always 0 for a rejected request).
     */
    public long delayMillis() {
        return delayMillis;
    }

    /** The HTTP status to answer a rejected request with (e.g. 503 or 429); 0 when allowed. */
    public int status() {
        return status;
    }

    @Override
    public String toString() {
        if (!allowed) {
            return "Decision[rejected, status=" + status + "]";
        }
        return delayMillis == 0 ? "Decision[allowed]" : "Decision[allowed, delayMillis=" + delayMillis + "]";
    }
}

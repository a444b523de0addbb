package io.lbkit.core.retry;

import io.lbkit.core.Outcome;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * When to pass a failed request to the next endpoint: nginx's {@code proxy_next_upstream},
 * {@code proxy_next_upstream_tries} and {@code proxy_next_upstream_timeout}, with nginx's exact
 * rules.
 *
 * <pre>{@code
 * // nginx: proxy_next_upstream error timeout http_503;
 * //        proxy_next_upstream_tries 3;  proxy_next_upstream_timeout 10s;
 * RetryPolicy policy = RetryPolicy.builder()
 *         .conditions("error timeout http_503").tries(3).timeout(Duration.ofSeconds(10))
 *         .build();
 * Upstream upstream = Upstream.builder("backend").failureStatuses(policy.failureStatuses())...build();
 *
 * PickRequest req = PickRequest.create();
 * RetryPolicy.Attempts attempts = policy.start(method, ticker.nanos(), upstream.defaultTries());
 * for (;;) {
 *     Selection s = upstream.pick(req);
 *     if (!s.found()) { respond(attempts.noEndpoint()); break; }        // 502
 *     Result r = send(s.endpoint());
 *     s.complete(r.outcome(), r.status(), r.latencyNanos());
 *     req.markTried(s);
 *     Decision d = attempts.next(r.outcome(), r.status(), r.requestSent(), r.responseStarted(), ticker.nanos());
 *     if (d == Decision.RETRY) continue;                                // discard r, try the next endpoint
 *     if (r.outcome() == Outcome.RESPONSE) forward(r); else respond(attempts.statusOnGiveUp());
 *     break;
 * }
 * }</pre>
 *
 * <h2>Rules (nginx {@code ngx_http_upstream_next} / {@code ngx_http_upstream_test_next})</h2>
 * An attempt is retried only when all of these hold:
 * <ol>
 *   <li>its failure type ({@link RetryCondition#of}) is one of the {@link #conditions()}; a
 *       response whose status is not a configured {@code http_xxx} is simply the response
 *       ({@link Decision#DONE}), whatever its status;</li>
 *   <li>nothing of the response has reached the client yet ({@code responseStarted} false);</li>
 *   <li>if the request was sent and its method is POST, PATCH or LOCK, {@link
 *       RetryCondition#NON_IDEMPOTENT} is configured. PUT and DELETE count as idempotent, as in
 *       nginx. A request that was never sent (connect failure) is not affected;</li>
 *   <li>if the request was sent, its body can be sent again ({@link Attempts#bodyReplayable}; nginx:
 *       not with {@code proxy_request_buffering off});</li>
 *   <li>fewer than {@link Attempts#maxAttempts()} attempts were made. The count includes the first
 *       attempt. It is the endpoint count the upstream gives ({@link Upstream#defaultTries()}: the
 *       endpoints not down, primaries and backups), capped by {@link #tries()} when that is not 0;</li>
 *   <li>less than {@link #timeout()} has passed since the first attempt started (0 = no limit);</li>
 *   <li>a {@link RetryBudget}, when one is attached, has room for one more retry.</li>
 * </ol>
 * A cancelled attempt (the client went away) is never retried.
 *
 * <h2>Status after giving up</h2>
 * As nginx: a timeout gives 504; an error or invalid header 502; a response passes through with its
 * own status (nginx hands the last upstream response to the client, so a configured {@code http_503}
 * that could not be retried yields the upstream's 503, and {@code http_504} a 504); a cancelled
 * request 499 (nginx's "client closed request", for logs); no endpoint to try 502 ("no live
 * upstreams"). See {@link #statusOnGiveUp(Outcome, int)}.
 *
 * <h2>Passive health</h2>
 * {@link #failureStatuses()} is the set of response statuses nginx counts toward
 * {@code max_fails} under this policy, for {@code Upstream.Builder.failureStatuses(...)}.
 *
 * <p>Instances are immutable and thread-safe; {@link Attempts} is per request.
 */
public final class RetryPolicy {

    /** Status sent when no endpoint can be tried at all (nginx "no live upstreams"). */
    public static final int NO_LIVE_UPSTREAMS_STATUS = 502;

    /** Status nginx logs when the client went away ("client closed request"). */
    public static final int CLIENT_CLOSED_REQUEST_STATUS = 499;

    private static final int NON_IDEMPOTENT_BIT = 1 << RetryCondition.NON_IDEMPOTENT.ordinal();

    private static final RetryPolicy DEFAULT = builder().build();
    private static final RetryPolicy OFF = builder().off().build();

    private final int mask;
    private final Set<RetryCondition> conditions;
    private final int tries;
    private final Duration timeout;
    private final long timeoutNanos;
    private final Set<Integer> failureStatuses;

    private RetryPolicy(int mask, int tries, Duration timeout) {
        this.mask = mask;
        EnumSet<RetryCondition> set = EnumSet.noneOf(RetryCondition.class);
        TreeSet<Integer> statuses = new TreeSet<>();
        for (RetryCondition c : RetryCondition.values()) {
            if ((mask & (1 << c.ordinal())) != 0) {
                set.add(c);
                if (c.status() != 0 && c.isFailure()) {
                    statuses.add(c.status());
                }
            }
        }
        this.conditions = Collections.unmodifiableSet(set);
        this.failureStatuses = Collections.unmodifiableSet(statuses);
        this.tries = tries;
        this.timeout = timeout;
        this.timeoutNanos = timeout.toNanos();
    }

    /** nginx's default: {@code error timeout}, tries 0 (the upstream's count), no time limit. */
    public static RetryPolicy defaults() {
        return DEFAULT;
    }

    /** nginx's {@code proxy_next_upstream off}: never retry. */
    public static RetryPolicy off() {
        return OFF;
    }

    /**
     * A policy with the conditions of an nginx {@code proxy_next_upstream} argument list, such as
     * {@code "error timeout http_502 non_idempotent"}, and default tries and timeout. Tokens are
     * separated by whitespace and read case-insensitively; repeating one is harmless; {@code off}
     * means no conditions and, as in nginx, wins over any other token given with it.
     *
     * @throws IllegalArgumentException for a blank string or an unknown token (the message names it)
     */
    public static RetryPolicy parse(String conditions) {
        return builder().conditions(conditions).build();
    }

    /** A builder with nginx's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this policy's settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.conditionSet = EnumSet.noneOf(RetryCondition.class);
        b.conditionSet.addAll(conditions);
        b.tries = tries;
        b.timeout = timeout;
        return b;
    }

    /** The configured conditions; empty for {@code off}. Unmodifiable. */
    public Set<RetryCondition> conditions() {
        return conditions;
    }

    /** Whether {@code condition} is configured. */
    public boolean retriesOn(RetryCondition condition) {
        return (mask & (1 << condition.ordinal())) != 0;
    }

    /** Whether the policy never retries (no failure-type condition configured). */
    public boolean isOff() {
        return (mask & ~NON_IDEMPOTENT_BIT) == 0;
    }

    /** nginx {@code proxy_next_upstream_tries}: the most attempts per request; 0 = the upstream's count. */
    public int tries() {
        return tries;
    }

    /**
     * nginx {@code proxy_next_upstream_timeout}: no retry once this much time has passed since the
     * first attempt started; {@link Duration#ZERO} = no limit.
     */
    public Duration timeout() {
        return timeout;
    }

    /**
     * The response statuses nginx counts as failures for passive health ({@code max_fails}) under
     * this policy: those of the configured {@code http_500}, {@code http_502}, {@code http_503},
     * {@code http_504} and {@code http_429}; never 403 or 404. Connect errors, timeouts and invalid
     * headers always count and are not statuses. Feed it to
     * {@code Upstream.Builder.failureStatuses(...)}. Unmodifiable, in ascending order.
     */
    public Set<Integer> failureStatuses() {
        return failureStatuses;
    }

    /**
     * How many attempts a request may make (including the first) against an upstream whose
     * {@link Upstream#defaultTries()} is {@code defaultTries}: {@code defaultTries} when
     * {@link #tries()} is 0, else the smaller of the two (nginx never raises the count above the
     * number of endpoints).
     *
     * @throws IllegalArgumentException when {@code defaultTries} is negative
     */
    public int maxAttempts(int defaultTries) {
        if (defaultTries < 0) {
            throw new IllegalArgumentException("defaultTries must be >= 0, got " + defaultTries);
        }
        return tries == 0 ? defaultTries : Math.min(tries, defaultTries);
    }

    /**
     * Whether nginx treats {@code method} as non-idempotent: POST, PATCH and LOCK. PUT, DELETE and
     * every other method count as idempotent. The comparison ignores ASCII case (nginx refuses
     * lower-case methods with 400, so it never meets them; here they err on the safe side).
     * Allocation-free.
     */
    public static boolean isNonIdempotent(CharSequence method) {
        int n = method.length();
        if (n == 4) {
            return eq(method, "POST") || eq(method, "LOCK");
        }
        return n == 5 && eq(method, "PATCH");
    }

    private static boolean eq(CharSequence s, String upper) {
        for (int i = 0; i < upper.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'a' && c <= 'z') {
                c = (char) (c - 32);
            }
            if (c != upper.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The status nginx sends the client when it stops after an attempt that ended with
     * {@code outcome}: 504 for a timeout; 502 for a connection error or an invalid header; the
     * response's own status for a response (nginx passes the upstream's response through, so 500,
     * 503, 403, 404, 429 and 504 stay what they are, and 502 is 502); 499 for a cancelled attempt.
     *
     * @param status the HTTP status when {@code outcome} is {@link Outcome#RESPONSE}, else ignored
     */
    public static int statusOnGiveUp(Outcome outcome, int status) {
        switch (outcome) {
            case TIMEOUT:
                return 504;
            case RESPONSE:
                return status;
            case CANCELLED:
                return CLIENT_CLOSED_REQUEST_STATUS;
            default:
                return 502;
        }
    }

    /**
     * Starts the retry state of one request.
     *
     * @param method       the request method (decides idempotency)
     * @param startNanos   when the first attempt starts, from the same {@code Ticker} as later
     *                     {@code now} values
     * @param defaultTries the upstream's {@link Upstream#defaultTries()}
     */
    public Attempts start(CharSequence method, long startNanos, int defaultTries) {
        return new Attempts(this).reset(method, startNanos, defaultTries, null);
    }

    /**
     * Starts the retry state of one request that also draws its retries from {@code budget}. The
     * request is counted as active in the budget until it finishes (see {@link Attempts}).
     */
    public Attempts start(CharSequence method, long startNanos, int defaultTries, RetryBudget budget) {
        return new Attempts(this).reset(method, startNanos, defaultTries, budget);
    }

    /** The conditions in nginx syntax, such as {@code "error timeout http_503"}, or {@code "off"}. */
    public String conditionsString() {
        if (conditions.isEmpty()) {
            return "off";
        }
        StringBuilder sb = new StringBuilder();
        for (RetryCondition c : conditions) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(c.token());
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RetryPolicy p && p.mask == mask && p.tries == tries && p.timeout.equals(timeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mask, tries, timeout);
    }

    @Override
    public String toString() {
        return "RetryPolicy[" + conditionsString() + ", tries=" + tries + ", timeout=" + timeout + "]";
    }

    // =====================================================================================

    /** What to do after an attempt. */
    public enum Decision {
        /** Pass the request to another endpoint (after {@code PickRequest.markTried}). */
        RETRY,
        /**
         * The attempt produced the response for the client and was not a retryable failure: a
         * success, or a status that is not a configured condition (such as a 404 without
         * {@code http_404}). Forward it.
         */
        DONE,
        /**
         * The attempt failed (or got a configured {@code http_xxx} status) and may not be retried;
         * {@link Attempts#giveUpReason()} says why. Answer with {@link Attempts#statusOnGiveUp()};
         * when the last outcome was a response, that is its status and nginx forwards the
         * response itself.
         */
        GIVE_UP
    }

    /** Why a request stopped being retried. */
    public enum GiveUpReason {
        /** Not given up: still retrying, or finished with {@link Decision#DONE}. */
        NONE,
        /** The failure type is not a configured condition. */
        NOT_A_CONDITION,
        /** Part of the response already reached the client. */
        RESPONSE_STARTED,
        /** A POST, PATCH or LOCK was sent and {@code non_idempotent} is not configured. */
        NON_IDEMPOTENT,
        /** The request was sent and its body cannot be sent again. */
        BODY_NOT_REPLAYABLE,
        /** The attempt count reached {@link Attempts#maxAttempts()}. */
        TRIES_EXHAUSTED,
        /** {@link RetryPolicy#timeout()} has passed since the first attempt started. */
        TIME_BUDGET,
        /** The {@link RetryBudget} had no room for another retry. */
        RETRY_BUDGET,
        /** The attempt was cancelled (the client went away). */
        CANCELLED,
        /** No endpoint was left to try ({@link Attempts#noEndpoint()}). */
        NO_ENDPOINT
    }

    /**
     * The retry state of one request: how many attempts were made, when the first started, how the
     * last one ended. Create it with {@link RetryPolicy#start} and reuse it for later requests with
     * {@link #reset}; {@link #next} allocates nothing. Not thread-safe: one request at a time.
     *
     * <p>With a {@link RetryBudget} attached, the request counts as active from {@code start} or
     * {@code reset} until it finishes: when {@link #next} returns anything but {@link
     * Decision#RETRY}, on {@link #noEndpoint()}, {@link #finish()} or the next {@code reset}. Each
     * retry holds one retry slot of the budget from the {@code RETRY} decision until the next call
     * of {@code next} (as Envoy holds it until the retried attempt ends). Call {@link #finish()} in a
     * {@code finally} block when a request can end in other ways (exceptions).
     */
    public static final class Attempts {

        private final RetryPolicy policy;
        private boolean nonIdempotent;
        private boolean bodyReplayable;
        private long startNanos;
        private int maxAttempts;
        private int attempts;
        private Outcome lastOutcome;
        private int lastStatus;
        private boolean lastFailed;
        private boolean finished;
        private GiveUpReason reason;
        private RetryBudget budget;
        private boolean budgetRequestActive;
        private boolean holdingRetry;

        Attempts(RetryPolicy policy) {
            this.policy = policy;
        }

        /** Prepares this object for a new request, as {@link RetryPolicy#start} does. */
        public Attempts reset(CharSequence method, long startNanos, int defaultTries) {
            return reset(method, startNanos, defaultTries, null);
        }

        /**
         * Prepares this object for a new request drawing retries from {@code budget} (may be null).
         * Finishes the previous request first if it was still running.
         */
        public Attempts reset(CharSequence method, long startNanos, int defaultTries, RetryBudget budget) {
            Objects.requireNonNull(method, "method");
            int max = policy.maxAttempts(defaultTries);
            finish();
            this.nonIdempotent = RetryPolicy.isNonIdempotent(method);
            this.bodyReplayable = true;
            this.startNanos = startNanos;
            this.maxAttempts = max;
            this.attempts = 0;
            this.lastOutcome = null;
            this.lastStatus = 0;
            this.lastFailed = false;
            this.finished = false;
            this.reason = GiveUpReason.NONE;
            this.budget = budget;
            if (budget != null) {
                budget.requestStarted();
                budgetRequestActive = true;
            }
            return this;
        }

        /**
         * Declares whether the request body can be sent again (default true). False is nginx's
         * {@code proxy_request_buffering off}: once any of the request was sent, it is not retried.
         */
        public Attempts bodyReplayable(boolean replayable) {
            this.bodyReplayable = replayable;
            return this;
        }

        /**
         * Records how an attempt ended and decides whether to try another endpoint.
         *
         * @param outcome         how the attempt ended
         * @param status          the HTTP status for {@link Outcome#RESPONSE} (0 otherwise)
         * @param requestSent     whether any of the request was written to the endpoint (false
         *                        for a connect failure)
         * @param responseStarted whether any byte of the response already reached the client
         * @param nowNanos        the current time, from the ticker that gave {@code startNanos}
         * @return {@link Decision#RETRY}, {@link Decision#DONE} or {@link Decision#GIVE_UP}
         * @throws IllegalStateException when the request already finished (call {@link #reset})
         */
        public Decision next(Outcome outcome, int status, boolean requestSent, boolean responseStarted,
                             long nowNanos) {
            Objects.requireNonNull(outcome, "outcome");
            if (finished) {
                throw new IllegalStateException("next() after the request finished (attempts=" + attempts
                        + ", last=" + lastOutcome + "); call reset() for a new request");
            }
            if (holdingRetry) {
                holdingRetry = false;
                budget.retryFinished();
            }
            attempts++;
            lastOutcome = outcome;
            lastStatus = outcome == Outcome.RESPONSE ? status : 0;
            // nginx frees the peer as failed before any other check for error/timeout/invalid_header
            lastFailed = outcome.isTransportFailure() && !responseStarted;

            if (outcome == Outcome.CANCELLED) {
                return giveUp(GiveUpReason.CANCELLED);
            }
            RetryCondition condition = RetryCondition.of(outcome, status);
            if (condition == null || !policy.retriesOn(condition)) {
                if (outcome == Outcome.RESPONSE) {
                    finish();
                    return Decision.DONE;
                }
                return giveUp(GiveUpReason.NOT_A_CONDITION);
            }
            if (responseStarted) {
                return giveUp(GiveUpReason.RESPONSE_STARTED);
            }
            if (requestSent && nonIdempotent && (policy.mask & NON_IDEMPOTENT_BIT) == 0) {
                return giveUp(GiveUpReason.NON_IDEMPOTENT);
            }
            if (requestSent && !bodyReplayable) {
                return giveUp(GiveUpReason.BODY_NOT_REPLAYABLE);
            }
            if (attempts >= maxAttempts) {
                return giveUp(GiveUpReason.TRIES_EXHAUSTED);
            }
            if (policy.timeoutNanos != 0 && nowNanos - startNanos >= policy.timeoutNanos) {
                return giveUp(GiveUpReason.TIME_BUDGET);
            }
            if (budget != null) {
                if (!budget.tryAcquireRetry()) {
                    return giveUp(GiveUpReason.RETRY_BUDGET);
                }
                holdingRetry = true;
            }
            // nginx moves on: a retried 5xx/429 counts as a failure, a retried 403/404 does not
            if (condition.isFailure()) {
                lastFailed = true;
            }
            return Decision.RETRY;
        }

        /**
         * Gives the request one more attempt than its tries allow: nginx's {@code u->peer.tries++}
         * when an attempt failed on a kept-alive connection the endpoint had already closed
         * ({@code u->peer.cached}), which says nothing about the endpoint. Call it before the
         * {@link #next} that records that attempt.
         */
        public void extraTry() {
            maxAttempts++;
        }

        /**
         * Records that no endpoint could be picked (every one tried, down or unavailable) and ends
         * the request. Returns the status to send: 502, nginx's "no live upstreams", whatever the
         * earlier attempts returned.
         */
        public int noEndpoint() {
            reason = GiveUpReason.NO_ENDPOINT;
            lastOutcome = null;
            lastStatus = 0;
            lastFailed = false;
            finish();
            return NO_LIVE_UPSTREAMS_STATUS;
        }

        /**
         * Ends the request: releases a held retry slot and the active-request count of the budget.
         * Idempotent; {@link #next} and {@link #noEndpoint()} call it when the request ends.
         */
        public void finish() {
            if (holdingRetry) {
                holdingRetry = false;
                budget.retryFinished();
            }
            if (budgetRequestActive) {
                budgetRequestActive = false;
                budget.requestFinished();
            }
            finished = true;
        }

        private Decision giveUp(GiveUpReason why) {
            reason = why;
            finish();
            return Decision.GIVE_UP;
        }

        /** The policy this state follows. */
        public RetryPolicy policy() {
            return policy;
        }

        /** Attempts recorded so far (each {@link #next} call is one). */
        public int attempts() {
            return attempts;
        }

        /** The most attempts this request may make, the first included. */
        public int maxAttempts() {
            return maxAttempts;
        }

        /** When the first attempt started. */
        public long startNanos() {
            return startNanos;
        }

        /** Whether the request's method is POST, PATCH or LOCK. */
        public boolean isNonIdempotent() {
            return nonIdempotent;
        }

        /** Whether the request ended (no further {@link #next} is allowed until {@link #reset}). */
        public boolean isFinished() {
            return finished;
        }

        /** How the last attempt ended, or null before the first (or after {@link #noEndpoint()}). */
        public Outcome lastOutcome() {
            return lastOutcome;
        }

        /** The HTTP status of the last attempt when it was a response, else 0. */
        public int lastStatus() {
            return lastStatus;
        }

        /**
         * Whether nginx would count the last attempt as a failure of its endpoint
         * ({@code max_fails}): a connection error, timeout or invalid header before the response
         * started; or a response with a configured {@code http_500/502/503/504/429} that was
         * retried. nginx does not count such a status on the attempt it passes to the client (the
         * last try), nor 403/404 ever.
         */
        public boolean lastAttemptFailed() {
            return lastFailed;
        }

        /** Why the request was given up, or {@link GiveUpReason#NONE}. */
        public GiveUpReason giveUpReason() {
            return reason;
        }

        /**
         * The status for the client after giving up: {@link RetryPolicy#statusOnGiveUp(Outcome, int)}
         * of the last attempt; 502 when there was none or no endpoint was left.
         */
        public int statusOnGiveUp() {
            return lastOutcome == null ? NO_LIVE_UPSTREAMS_STATUS : RetryPolicy.statusOnGiveUp(lastOutcome, lastStatus);
        }

        @Override
        public String toString() {
            return "Attempts[" + attempts + "/" + maxAttempts + ", last=" + lastOutcome
                    + (lastOutcome == Outcome.RESPONSE ? " " + lastStatus : "")
                    + (finished ? ", finished" : "") + (reason != GiveUpReason.NONE ? ", " + reason : "") + "]";
        }
    }

    // =====================================================================================

    /**
     * Builds a {@link RetryPolicy}. Values are checked by {@link #build()}, which throws
     * {@link IllegalArgumentException} naming the field and the bad value.
     */
    public static final class Builder {

        private Set<RetryCondition> conditionSet = EnumSet.of(RetryCondition.ERROR, RetryCondition.TIMEOUT);
        private Collection<RetryCondition> conditionList;
        private String conditionText;
        private int tries;
        private Duration timeout = Duration.ZERO;

        private Builder() {
        }

        /** The conditions (replacing earlier ones); none = {@code off}. Default {@code error timeout}. */
        public Builder conditions(RetryCondition... conditions) {
            Objects.requireNonNull(conditions, "conditions");
            return conditions(Arrays.asList(conditions));
        }

        /** The conditions (replacing earlier ones); empty = {@code off}. */
        public Builder conditions(Collection<RetryCondition> conditions) {
            Objects.requireNonNull(conditions, "conditions");
            this.conditionList = new ArrayList<>(conditions);
            this.conditionSet = null;
            this.conditionText = null;
            return this;
        }

        /**
         * The conditions in nginx syntax (replacing earlier ones), such as
         * {@code "error timeout http_503 non_idempotent"} or {@code "off"}; see
         * {@link RetryPolicy#parse}. Parsed by {@link #build()}.
         */
        public Builder conditions(String nginxConditions) {
            this.conditionText = Objects.requireNonNull(nginxConditions, "conditions");
            this.conditionSet = null;
            this.conditionList = null;
            return this;
        }

        /** No conditions: nginx {@code proxy_next_upstream off}. */
        public Builder off() {
            return conditions(Collections.emptyList());
        }

        /** nginx {@code proxy_next_upstream_tries}: at most this many attempts; 0 (default) = no cap. */
        public Builder tries(int tries) {
            this.tries = tries;
            return this;
        }

        /** nginx {@code proxy_next_upstream_timeout}: retry budget in time; zero (default) = no limit. */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        private Collection<RetryCondition> currentConditions() {
            if (conditionText != null) {
                return parseConditions(conditionText);
            }
            return conditionSet != null ? conditionSet : conditionList;
        }

        /** Checks the settings and builds the policy. */
        public RetryPolicy build() {
            int mask = 0;
            for (RetryCondition c : currentConditions()) {
                if (c == null) {
                    throw new IllegalArgumentException("conditions must not contain null, got " + conditionList);
                }
                mask |= 1 << c.ordinal();
            }
            if (tries < 0) {
                throw new IllegalArgumentException("tries must be >= 0 (0 = the upstream's count), got " + tries);
            }
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("timeout must be >= 0 (0 = no limit), got " + timeout);
            }
            try {
                timeout.toNanos();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("timeout is too large (more than ~292 years), got " + timeout);
            }
            return new RetryPolicy(mask, tries, timeout);
        }

        private static Set<RetryCondition> parseConditions(String text) {
            String trimmed = text.strip();
            if (trimmed.isEmpty()) {
                throw new IllegalArgumentException(
                        "conditions must not be empty (use \"off\" for no retries), got \"" + text + "\"");
            }
            EnumSet<RetryCondition> set = EnumSet.noneOf(RetryCondition.class);
            boolean off = false;
            for (String token : trimmed.split("\\s+")) {
                if (token.toLowerCase(Locale.ROOT).equals("off")) {
                    off = true;
                    continue;
                }
                try {
                    set.add(RetryCondition.fromToken(token));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage() + " in conditions \"" + text + "\"", e);
                }
            }
            if (off) {
                set.clear(); // nginx: "off" overrides every other condition
            }
            return set;
        }
    }
}

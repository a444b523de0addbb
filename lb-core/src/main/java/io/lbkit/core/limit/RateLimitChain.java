package io.lbkit.core.limit;

/**
 * Several {@code limit_req} limits on one request, decided as nginx does
 * (ngx_http_limit_req_handler): every limit is looked up in order, the last one accounting at
 * once; the first limit past its burst refuses the request and no limit counts it; otherwise every
 * limit counts it and the longest delay among them wins. A limit whose key is empty (or longer
 * than 65535 bytes) is skipped. Stateless; the limiters hold the state.
 *
 * <pre>{@code
 * // nginx: limit_req zone=perip burst=5; limit_req zone=perkey burst=20 nodelay;
 * RateLimitChain.Outcome o = RateLimitChain.acquire(new RateLimiter[] {perIp, perKey}, new String[] {ip, apiKey});
 * }</pre>
 */
public final class RateLimitChain {

    private RateLimitChain() {
    }

    /**
     * What the chain decided.
     *
     * @param refusedBy   the index of the limit that refused the request, or -1 when admitted
     * @param delayMillis how long to hold an admitted request (0: now)
     * @param excess      the excess (thousandths of a request) of the deciding limit, for logs
     */
    public record Outcome(int refusedBy, long delayMillis, long excess) {

        private static final Outcome NOW = new Outcome(-1, 0, 0);

        /** Whether a limit refused the request. */
        public boolean refused() {
            return refusedBy >= 0;
        }
    }

    /**
     * Decides one request against {@code limiters}, each with its key ({@code keys[i]}, empty or
     * null: that limit is skipped). The time is read once, from the first limiter's ticker.
     */
    public static Outcome acquire(RateLimiter[] limiters, String[] keys) {
        int n = limiters.length;
        if (n == 0) {
            return Outcome.NOW;
        }
        if (n > 64) {
            throw new IllegalArgumentException("at most 64 limits on one request, got " + n);
        }
        long looked = 0; // the limits whose state this request holds (nginx: ctx->node set)
        long now = limiters[0].nowMillis();
        long excess = 0;
        int last = -1; // the limit looked up last (accounted at once when it is the last of the chain)
        boolean againLast = false;
        for (int i = 0; i < n; i++) {
            long e = limiters[i].lookup(keys[i], now, i == n - 1);
            if (e == RateLimiter.SKIP) {
                continue;
            }
            if (e == RateLimiter.BUSY) {
                return new Outcome(i, 0, 0);
            }
            looked |= 1L << i;
            last = i;
            excess = e;
            againLast = i != n - 1;
        }
        if (last < 0) {
            return Outcome.NOW;
        }
        // ngx_http_limit_req_account: the last lookup's excess (0 when it was not accounted), then
        // every earlier limit counted now; the longest delay wins
        long startExcess = againLast ? 0 : excess;
        long maxDelay = againLast ? 0 : limiters[last].delayFor(excess);
        long decidingExcess = startExcess;
        int upTo = againLast ? last + 1 : last;
        for (int i = upTo - 1; i >= 0; i--) {
            if ((looked & (1L << i)) == 0) {
                continue;
            }
            long e = limiters[i].account(keys[i], now);
            long d = limiters[i].delayFor(e);
            if (d > maxDelay) {
                maxDelay = d;
                decidingExcess = e;
            }
        }
        return maxDelay == 0 && decidingExcess == 0 ? Outcome.NOW : new Outcome(-1, maxDelay, decidingExcess);
    }
}

package io.lbkit.core.limit;

import java.util.concurrent.CompletionStage;

/**
 * A {@code limit_req} whose bucket is kept outside this process (for example in Redis, by
 * {@code io.lbkit.session.redis.RedisRateLimiter}), so that several proxy instances enforce one
 * limit. A decision takes a round trip, so it is a stage, never a blocked thread.
 *
 * <p>The limit's settings (rate, burst, delay or nodelay, status) are those of {@link #local()},
 * which also decides when the store cannot (an implementation's documented choice, such as
 * failing open to the local bucket). Implementations are thread-safe.
 */
public interface SharedRateLimiter {

    /**
     * Accounts one request of {@code key} in the shared bucket and decides it, as
     * {@link RateLimiter#tryAcquire(String)} does. The stage may complete on any thread; it should
     * not complete exceptionally (a store that cannot answer decides as documented); a caller
     * treats an exceptional completion as a limit that could not be checked.
     */
    CompletionStage<Decision> tryAcquire(String key);

    /** The limit's settings, and the bucket that decides in this process when the store cannot. */
    RateLimiter local();
}

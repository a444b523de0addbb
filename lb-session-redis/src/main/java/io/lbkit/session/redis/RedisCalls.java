package io.lbkit.session.redis;

import io.lbkit.session.SessionStoreException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Sends a store's Redis commands without waiting and gives their failures the store's form: a
 * {@link SessionStoreException} naming the operation and the failure's type only (Redisson's
 * messages can quote command arguments: ids, data), after clearing the near cache (Redis trouble
 * may mean missed invalidations).
 */
final class RedisCalls {

    private final NearCache nearCache;

    RedisCalls(NearCache nearCache) {
        this.nearCache = nearCache;
    }

    /**
     * Runs {@code command}; a failure it throws at once or delivers later fails the returned
     * stage with the mapped exception.
     */
    <T> CompletableFuture<T> call(String op, Supplier<? extends CompletionStage<T>> command) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            command.get().whenComplete((value, e) -> {
                if (e == null) {
                    result.complete(value);
                } else {
                    result.completeExceptionally(mapped(op, e));
                }
            });
        } catch (RuntimeException e) {
            result.completeExceptionally(mapped(op, e));
        }
        return result;
    }

    private SessionStoreException mapped(String op, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof SessionStoreException s) {
            return s; // the store's own (an unexpected script reply)
        }
        nearCache.clear();
        return failure(op, cause);
    }

    /** {@code Redis <op> failed (<type of e>)}: nothing of Redisson's message. */
    static SessionStoreException failure(String op, Throwable e) {
        return new SessionStoreException("Redis " + op + " failed (" + e.getClass().getSimpleName() + ")");
    }
}

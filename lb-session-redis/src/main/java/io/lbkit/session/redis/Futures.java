package io.lbkit.session.redis;

import io.lbkit.session.SessionStoreException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The few things {@link RedisSessionStore} does with stages besides composing them: start an
 * operation so that even its argument checks fail through the stage, wait without holding a
 * thread, and let a blocking method wait for its asynchronous twin.
 */
final class Futures {

    /** Prefix of the names of Redisson's Netty I/O threads. */
    private static final String REDISSON_IO_THREAD = "redisson-netty";

    private Futures() {
    }

    /**
     * Runs {@code operation}; an exception it throws before it returns a stage (a closed store,
     * a limit, a null argument) fails the returned stage instead, as the SPI's async methods
     * promise.
     */
    static <T> CompletableFuture<T> start(Supplier<? extends CompletionStage<T>> operation) {
        try {
            return operation.get().toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A stage that completes after {@code nanos}; no thread waits meanwhile. */
    static CompletableFuture<Void> delay(long nanos) {
        if (nanos <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(nanos, TimeUnit.NANOSECONDS));
    }

    /**
     * Waits for {@code stage} and answers its value, or throws what failed it (unwrapped: the
     * exceptions of a blocking method are those of its async twin).
     *
     * @param op names the operation in the {@link SessionStoreException} of an interrupted wait
     *     or of a wait on one of Redisson's I/O threads (that thread would have to deliver the
     *     reply it waits for: Redisson's own blocking methods refuse to run there too)
     */
    static <T> T await(String op, CompletionStage<T> stage) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (!f.isDone() && Thread.currentThread().getName().startsWith(REDISSON_IO_THREAD)) {
            throw new SessionStoreException("Redis " + op + " failed (IllegalStateException): a blocking call on a "
                    + "Redisson I/O thread would wait for itself; use the async method");
        }
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new SessionStoreException("Redis " + op + " failed (" + cause.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SessionStoreException("Redis " + op + " failed (interrupted while waiting for the reply)");
        }
    }
}

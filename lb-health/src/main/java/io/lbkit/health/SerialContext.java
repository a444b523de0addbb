package io.lbkit.health;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on whichever thread drains the queue (the design
 * of gRPC's {@code SynchronizationContext}). Tasks never run concurrently, so the state they touch
 * needs no lock.
 */
final class SerialContext {
    private static final Logger LOG = LoggerFactory.getLogger(SerialContext.class);

    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Thread> owner = new AtomicReference<>();

    /** Queues {@code task} without running anything. */
    void executeLater(Runnable task) {
        queue.add(task);
    }

    /** Queues {@code task} and drains the queue if no other thread is draining it. */
    void execute(Runnable task) {
        queue.add(task);
        drain();
    }

    /** Whether the calling thread is running a task of this context. */
    boolean inContext() {
        return owner.get() == Thread.currentThread();
    }

    /**
     * Runs {@code task} in the context and returns once it ran, unless the caller is itself a task
     * of this context: then it runs right after the current task.
     */
    void executeAndWait(Runnable task) {
        if (inContext()) {
            queue.add(task);
            return;
        }
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        queue.add(() -> {
            try {
                task.run();
            } finally {
                done.complete(null);
            }
        });
        drain();
        done.join();
    }

    /** Runs queued tasks until the queue is empty, unless another thread is already doing so. */
    void drain() {
        do {
            Thread me = Thread.currentThread();
            if (!owner.compareAndSet(null, me)) {
                return;
            }
            try {
                Runnable r;
                while ((r = queue.poll()) != null) {
                    try {
                        r.run();
                    } catch (RuntimeException | Error e) {
                        LOG.error("health state task failed", e);
                    }
                }
            } finally {
                owner.set(null);
            }
        } while (!queue.isEmpty());
    }
}

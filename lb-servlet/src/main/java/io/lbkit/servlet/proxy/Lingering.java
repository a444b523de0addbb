package io.lbkit.servlet.proxy;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * nginx's lingering close for a refused request body: after the error answer (413) is written, the
 * rest of the body is read and dropped, without blocking, until it ends, until
 * {@link #MAX_BYTES} more were dropped or after {@link #MAX_MILLIS}; only then does the exchange
 * complete and the container close the connection. Without it the connection would be closed with
 * unread bytes in the socket, the kernel would answer the client with a reset, and a client still
 * sending would lose the 413 (seen with Jetty and a chunked body).
 *
 * <p>Used as the input's {@link ReadListener} when nothing else was (a declared length over the
 * limit), or driven by the listener that was ({@link RequestBody}, {@link BufferedBody}): a
 * servlet input takes one listener for its life. Drain steps are serialized, and the end runs once,
 * inside that serialization: a time bound or an input callback that ends the draining while a read
 * is in progress on another thread takes effect after that read, so the exchange never completes
 * under a read of its input.
 */
final class Lingering implements ReadListener {

    /** At most this many more bytes are read and dropped. */
    static final long MAX_BYTES = 4L << 20;
    /** At most this long is spent reading and dropping. */
    static final long MAX_MILLIS = 5_000;

    private final ServletInputStream in;
    private final byte[] scratch;
    private final Runnable end;
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean endRequested;
    private volatile Scheduler.Task timer;
    private long dropped; // touched only inside the serialized drain loop

    /**
     * @param scratch a buffer to read into (its content is dropped)
     * @param end     runs once when the draining ends, for whatever reason
     */
    Lingering(ServletInputStream in, byte[] scratch, Runnable end) {
        this.in = in;
        this.scratch = scratch;
        this.end = end;
    }

    /** Arms the time bound and drains what is already there. */
    void start(Scheduler scheduler) {
        timer = scheduler.schedule(this::end, MAX_MILLIS, TimeUnit.MILLISECONDS);
        if (ended.get()) {
            timer.cancel(); // ended before the timer was stored
        }
        drain();
    }

    /** Reads and drops what can be read now; called again when more is available. */
    void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        do {
            step();
        } while (wip.decrementAndGet() != 0);
    }

    private void step() {
        if (ended.get()) {
            return;
        }
        try {
            while (!endRequested && in.isReady()) {
                int n = in.read(scratch);
                if (n < 0) {
                    finish();
                    return;
                }
                dropped += n;
                if (dropped > MAX_BYTES) {
                    finish();
                    return;
                }
            }
            if (endRequested || in.isFinished()) {
                finish();
            }
        } catch (IOException | RuntimeException e) {
            finish();
        } catch (Error e) {
            finish(); // the exchange still completes; later drain calls find it ended
            throw e;
        }
    }

    /**
     * The exchange completed by another route (the container ended it): stops the draining without
     * running the end, and cancels the time bound, so nothing touches the exchange after it.
     */
    void abandon() {
        endRequested = true;
        if (ended.compareAndSet(false, true)) {
            cancelTimer();
        }
    }

    /**
     * Ends the draining (idempotent; from any thread): at once when no drain step runs, else right
     * after the running one.
     */
    void end() {
        endRequested = true;
        drain();
    }

    /** Runs only inside the serialized drain loop. */
    private void finish() {
        if (ended.compareAndSet(false, true)) {
            cancelTimer();
            end.run();
        }
    }

    private void cancelTimer() {
        Scheduler.Task t = timer;
        if (t != null) {
            t.cancel();
        }
    }

    boolean ended() {
        return ended.get();
    }

    @Override
    public void onDataAvailable() {
        drain();
    }

    @Override
    public void onAllDataRead() {
        end();
    }

    @Override
    public void onError(Throwable t) {
        end();
    }
}

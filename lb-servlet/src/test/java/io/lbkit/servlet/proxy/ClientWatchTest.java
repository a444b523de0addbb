package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.junit.jupiter.api.Test;

/** {@link ClientWatch} with a manual scheduler and clock: which pauses time out, and no timer outlives a body. */
class ClientWatchTest {

    private static final long T = TimeUnit.SECONDS.toNanos(60);

    /** Captures scheduled tasks (delays too); the test runs them when it wants; cancel removes. */
    static final class ManualScheduler extends AbstractLifeCycle implements Scheduler {
        final List<Runnable> tasks = new ArrayList<>();
        final List<Long> delays = new ArrayList<>();

        @Override
        public Task schedule(Runnable task, long delay, TimeUnit units) {
            tasks.add(task);
            delays.add(units.toNanos(delay));
            return () -> {
                int i = tasks.indexOf(task);
                if (i >= 0) {
                    tasks.remove(i);
                    delays.remove(i);
                    return true;
                }
                return false;
            };
        }

        void runOne() {
            delays.remove(0);
            tasks.remove(0).run();
        }
    }

    private final AtomicLong now = new AtomicLong();
    private final AtomicInteger timeouts = new AtomicInteger();
    private final ManualScheduler s = new ManualScheduler();
    private final ClientWatch w = new ClientWatch(s, now::get, Duration.ofNanos(T), x -> timeouts.incrementAndGet());

    @Test
    void aPauseOfTheTimeoutFailsTheBody() {
        w.waiting();
        assertEquals(List.of(T), s.delays);
        now.set(T);
        s.runOne();
        assertEquals(1, timeouts.get());
        assertEquals(0, s.tasks.size());
    }

    /**
     * Bytes at 1 s; the backend then holds the body back until 59.999 s; the proxy waits again:
     * the timer armed at 0 fires at 60 s and must measure the new pause (1 ms), then re-arm for
     * the rest of it.
     */
    @Test
    void timeTheBackendHoldsTheBodyBackIsNotAPause() {
        w.waiting();
        now.set(TimeUnit.SECONDS.toNanos(1));
        w.received();
        long again = T - TimeUnit.MILLISECONDS.toNanos(1);
        now.set(again);
        w.waiting();
        now.set(T);
        s.runOne();
        assertEquals(0, timeouts.get(), "the client paused for 1 ms, not 60 s");
        assertEquals(List.of(T - TimeUnit.MILLISECONDS.toNanos(1)), s.delays, "re-armed for the rest of the pause");
        now.set(again + T);
        s.runOne();
        assertEquals(1, timeouts.get());
    }

    @Test
    void aTimerFiringWhenNothingIsAwaitedIsNotReArmed() {
        w.waiting();
        now.set(TimeUnit.SECONDS.toNanos(2));
        w.received();
        now.set(T);
        s.runOne();
        assertEquals(0, timeouts.get());
        assertEquals(0, s.tasks.size(), "the next waiting() arms again");
        w.waiting();
        assertEquals(1, s.tasks.size());
    }

    /** A finished buffered body cancels its timer: nothing keeps the (up to 64 MiB) body reachable. */
    @Test
    void aFinishedBufferedBodyLeavesNoTimerBehind() throws Exception {
        byte[] data = new byte[1 << 20];
        java.io.ByteArrayInputStream src = new java.io.ByteArrayInputStream(data);
        jakarta.servlet.ServletInputStream in = new jakarta.servlet.ServletInputStream() {
            @Override public boolean isFinished() { return src.available() == 0; }
            @Override public boolean isReady() { return true; }
            @Override public void setReadListener(jakarta.servlet.ReadListener l) { }
            @Override public int read() { return src.read(); }
            @Override public int read(byte[] b, int off, int len) { return src.read(b, off, len); }
        };
        BufferedBody body = new BufferedBody(in, 64L << 20, "application/octet-stream", s, now::get, Duration.ofNanos(T));
        assertEquals(1, s.tasks.size());
        body.onDataAvailable();
        body.onAllDataRead();
        assertEquals(1 << 20, body.size());
        assertEquals(0, s.tasks.size(), "no timer pins the finished body");
    }
}

package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.junit.jupiter.api.Test;

/**
 * {@link Lingering}'s end runs once and never while a read of the input is in progress. The
 * containers' side (a 413 read by a client still sending) is covered by the proxy ITs; here a
 * scripted input holds a read open so the order can be checked.
 */
class LingeringTest {

    /** An input whose every read blocks until released, then returns 100 bytes. */
    static class HeldInput extends ServletInputStream {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger reads = new AtomicInteger();
        volatile boolean finished;

        /** An input on which nothing arrives (never ready, never finished). */
        static HeldInput idle() {
            return new HeldInput() {
                @Override
                public boolean isReady() {
                    return false;
                }
            };
        }

        @Override
        public int read(byte[] b, int off, int len) {
            reads.incrementAndGet();
            entered.countDown();
            try {
                if (!release.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 100;
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isFinished() {
            return finished;
        }

        @Override
        public boolean isReady() {
            return !finished;
        }

        @Override
        public void setReadListener(ReadListener l) {
        }
    }

    /** A scheduler whose tasks run only when the test says so. */
    static final class ManualScheduler extends AbstractLifeCycle implements Scheduler {
        final List<Runnable> tasks = new ArrayList<>();
        final AtomicInteger cancelled = new AtomicInteger();

        @Override
        public Task schedule(Runnable task, long delay, TimeUnit units) {
            tasks.add(task);
            return () -> {
                cancelled.incrementAndGet();
                return true;
            };
        }
    }

    @Test
    void anEndDuringAReadTakesEffectAfterThatRead() throws Exception {
        HeldInput in = new HeldInput();
        AtomicInteger ends = new AtomicInteger();
        Lingering l = new Lingering(in, new byte[64], ends::incrementAndGet);
        Thread reader = new Thread(l::drain, "drain");
        reader.start();
        assertTrue(in.entered.await(10, TimeUnit.SECONDS));
        l.end(); // e.g. the time bound, while the reader is inside read()
        assertEquals(0, ends.get(), "the exchange must not complete under a read of its input");
        assertFalse(l.ended());
        in.release.countDown();
        reader.join(10_000);
        assertFalse(reader.isAlive());
        assertEquals(1, ends.get());
        assertEquals(1, in.reads.get(), "no read after the end was asked for");
        assertTrue(l.ended());
        l.end();
        l.onAllDataRead();
        assertEquals(1, ends.get(), "the end runs once");
    }

    @Test
    void theTimeBoundEndsTheDrainingAndAnEarlierEndCancelsIt() {
        ManualScheduler scheduler = new ManualScheduler();
        HeldInput idle = HeldInput.idle();
        AtomicInteger ends = new AtomicInteger();
        Lingering l = new Lingering(idle, new byte[64], ends::incrementAndGet);
        l.start(scheduler);
        assertEquals(0, ends.get());
        assertEquals(1, scheduler.tasks.size());
        scheduler.tasks.get(0).run(); // MAX_MILLIS passed
        assertEquals(1, ends.get());

        HeldInput done = new HeldInput();
        done.finished = true; // the body already ended
        ManualScheduler s2 = new ManualScheduler();
        AtomicInteger ends2 = new AtomicInteger();
        Lingering l2 = new Lingering(done, new byte[64], ends2::incrementAndGet);
        l2.start(s2);
        assertEquals(1, ends2.get());
        assertEquals(1, s2.cancelled.get(), "the time bound is cancelled when the draining ends first");
        s2.tasks.get(0).run(); // a late timer changes nothing
        assertEquals(1, ends2.get());
    }

    @Test
    void anExchangeTheContainerEndedIsAbandonedWithoutItsEnd() {
        ManualScheduler scheduler = new ManualScheduler();
        HeldInput idle = HeldInput.idle();
        AtomicInteger ends = new AtomicInteger();
        Lingering l = new Lingering(idle, new byte[64], ends::incrementAndGet);
        l.start(scheduler);
        l.abandon();
        assertEquals(1, scheduler.cancelled.get(), "the time bound is cancelled");
        assertTrue(l.ended());
        scheduler.tasks.get(0).run(); // had it fired anyway
        l.end();
        l.onAllDataRead();
        assertEquals(0, ends.get(), "nothing completes an exchange the container already ended");
    }
}

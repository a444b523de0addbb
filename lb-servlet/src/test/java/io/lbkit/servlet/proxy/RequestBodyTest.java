package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.Test;

/**
 * {@link RequestBody} when the client exchange ends before the container reported the body's end
 * (a backend answered as soon as it had the declared bytes): the backend request must still get
 * its end, or the backend exchange stays open until shutdown.
 */
class RequestBodyTest {

    /** All declared bytes given, but neither finished nor ready: the end would come by onAllDataRead. */
    private static ServletInputStream input(byte[] data) {
        return new ServletInputStream() {
            private int pos;

            @Override public boolean isFinished() { return false; }
            @Override public boolean isReady() { return pos < data.length; }
            @Override public void setReadListener(ReadListener l) { }
            @Override public int read() { return pos < data.length ? data[pos++] : -1; }
            @Override public int read(byte[] b, int off, int len) {
                int n = Math.min(len, data.length - pos);
                System.arraycopy(data, pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    @Test
    void allDeclaredBytesReadThenTheExchangeEndsGivesTheBackendItsEnd() {
        RequestBody body = new RequestBody(input("once".getBytes()), 0, 4, "text/plain", 1024,
                new ClientWatchTest.ManualScheduler(), System::nanoTime, java.time.Duration.ofSeconds(60));
        Request.Content c = body.forAttempt();
        Content.Chunk first = c.read();
        assertEquals(4, first.remaining());
        assertTrue(!first.isLast());
        assertNull(c.read(), "nothing more yet");
        AtomicInteger woken = new AtomicInteger();
        c.demand(woken::incrementAndGet);
        assertEquals(0, woken.get());
        body.exchangeOver();
        assertEquals(1, woken.get(), "the waiting backend request is woken");
        Content.Chunk end = c.read();
        assertTrue(end.isLast());
        assertNull(Content.Chunk.isFailure(end) ? end.getFailure() : null, "all declared bytes came: a clean end");
    }

    @Test
    void aShortBodyEndsAsAFailure() {
        RequestBody body = new RequestBody(input("on".getBytes()), 0, 4, "text/plain", 1024,
                new ClientWatchTest.ManualScheduler(), System::nanoTime, java.time.Duration.ofSeconds(60));
        Request.Content c = body.forAttempt();
        assertEquals(2, c.read().remaining());
        assertNull(c.read());
        AtomicInteger woken = new AtomicInteger();
        c.demand(woken::incrementAndGet);
        body.exchangeOver();
        assertEquals(1, woken.get());
        Content.Chunk end = c.read();
        assertTrue(end.isLast());
        assertNotNull(end.getFailure(), "2 of 4 declared bytes: the backend request fails");
    }

    @Test
    void aBodyOfWhichAByteWasConsumedIsNeverGivenToAnotherAttempt() {
        RequestBody body = new RequestBody(input("once".getBytes()), 0, 4, "text/plain", 1024,
                new ClientWatchTest.ManualScheduler(), System::nanoTime, java.time.Duration.ofSeconds(60));
        Request.Content first = body.forAttempt();
        assertTrue(first.rewind(), "nothing read yet");
        Request.Content untouched = body.forAttempt(); // e.g. after a connect failure
        assertEquals(4, untouched.read().remaining());
        // a second attempt would announce 4 bytes and send none: its endpoint would wait for them
        assertThrows(IllegalStateException.class, body::forAttempt);
    }
}

package io.lbkit.servlet.proxy;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.io.Content;

/**
 * The client's request body as the backend request's content, with back-pressure: the servlet
 * input is read (non-blocking, through a {@link ReadListener}) only when the HTTP client demands
 * the next chunk, and the HttpClient demands it only after it wrote the previous one to the
 * backend. One buffer per request; a chunk's bytes stay valid until the client releases the chunk
 * (its sender reads the next chunk only after writing the previous one).
 *
 * <p>Each attempt gets its own {@link #forAttempt view}: failing an attempt does not fail the
 * servlet input, so a retry can start over as long as no byte was consumed ({@link #consumedAny()}).
 */
final class RequestBody implements ReadListener {

    /** The body was longer than the limit. */
    static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException(long limit) {
            super("request body larger than " + limit + " bytes");
        }
    }

    /**
     * The client sent no byte of the body for {@code clientBodyTimeout} while the proxy waited
     * for one (or the container's own read timeout fired): 408.
     */
    static final class ClientTimeoutException extends IOException {
        private static final long serialVersionUID = 1L;

        ClientTimeoutException(String message) {
            super(message);
        }

        /** The exception itself, or a client timeout when {@code t} is a container's read timeout. */
        static Throwable classify(Throwable t) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (c instanceof java.util.concurrent.TimeoutException || c instanceof java.net.SocketTimeoutException
                        || c instanceof ClientTimeoutException) {
                    return c instanceof ClientTimeoutException ? c
                            : new ClientTimeoutException("the container's read timeout fired: " + c);
                }
            }
            return t;
        }
    }

    private final ServletInputStream in;
    private final long limit;
    private final long contentLength;
    private final String contentType;
    private final byte[] buffer;
    private final Object lock = new Object();

    // guarded by lock
    private Runnable demand;
    private boolean available;
    private boolean eof;
    private Throwable failure;

    // written only by the reading thread (one read at a time by contract); exchangeOver reads it
    private volatile long count;
    private volatile boolean consumedAny;
    private volatile Lingering lingering;

    /** Times the client's pauses (408 after the timeout without a byte while waiting). */
    private final ClientWatch watch;

    RequestBody(ServletInputStream in, long limit, long contentLength, String contentType, int bufferSize,
                org.eclipse.jetty.util.thread.Scheduler scheduler, io.lbkit.core.Ticker ticker,
                java.time.Duration clientBodyTimeout) {
        this.watch = new ClientWatch(scheduler, ticker, clientBodyTimeout, x -> {
            fail(x);
            fireDemand();
        });
        this.in = in;
        this.limit = limit;
        this.contentLength = contentLength;
        this.contentType = contentType;
        this.buffer = new byte[bufferSize];
    }

    boolean consumedAny() {
        return consumedAny;
    }

    long bytesRead() {
        return count;
    }

    Throwable failure() {
        synchronized (lock) {
            return failure;
        }
    }

    /** True while the proxy waits for the client's next body bytes (a pause is being timed). */
    boolean waitingForClient() {
        return watch.isWaiting();
    }

    /** True once the whole body was read. */
    boolean finished() {
        synchronized (lock) {
            return eof;
        }
    }

    /**
     * The client exchange is over (its response completed, e.g. a backend answered as soon as it
     * had the declared bytes, before the container reported the body's end): a backend request
     * still waiting for body bytes gets their end now, or it would wait for a signal the recycled
     * servlet input never sends.
     */
    void exchangeOver() {
        watch.stop();
        if (lingering != null) {
            return;
        }
        synchronized (lock) {
            if (eof || failure != null) {
                return;
            }
            if (contentLength >= 0 && count >= contentLength) {
                eof = true;
            } else {
                failure = new IOException("the client exchange ended before its request body did");
            }
        }
        fireDemand();
    }

    /** From now on the input's callbacks drive {@code l} (the body was refused). */
    void linger(Lingering l) {
        watch.stop();
        lingering = l;
    }

    /** A buffer the body no longer needs (the body was refused). */
    byte[] scratch() {
        return buffer;
    }

    /**
     * A new attempt's view of the body. Only a body of which no byte was consumed can start over: a
     * later attempt would announce the whole body, send what is left of it (or nothing) and leave
     * its endpoint waiting for the rest.
     *
     * @throws IllegalStateException when a byte was already consumed (no retry may be decided then)
     */
    Request.Content forAttempt() {
        if (consumedAny) {
            throw new IllegalStateException("the request body already went (in part) to an endpoint: not sent again");
        }
        return new AttemptContent();
    }

    /**
     * Ends {@code attempt}'s view of the body so another attempt can send it, unless a byte was
     * already consumed (then it cannot be sent again, and the attempt keeps its body). Atomic with
     * the attempt's reads: no read is in progress when this decides, and none starts after a stop.
     *
     * @return true when the attempt was stopped and the body can go to another attempt
     */
    static boolean stopForRetry(Request.Content attempt, Throwable why) {
        return !(attempt instanceof AttemptContent a) || a.stopIfUntouched(why);
    }

    Content.Chunk read() {
        synchronized (lock) {
            if (failure != null) {
                return Content.Chunk.from(failure, true);
            }
            if (eof) {
                return Content.Chunk.EOF;
            }
        }
        try {
            int n;
            do {
                if (in.isFinished()) {
                    markEof();
                    return Content.Chunk.EOF;
                }
                if (!in.isReady()) {
                    return null; // the container calls onDataAvailable or onAllDataRead later
                }
                // a read may give 0 bytes while isReady() was true (Tomcat, after a chunk header):
                // ask isReady() again, or no onDataAvailable would ever come
                n = in.read(buffer);
            } while (n == 0);
            if (n < 0) {
                markEof();
                return Content.Chunk.EOF;
            }
            count += n;
            consumedAny = true;
            if (limit > 0 && count > limit) {
                TooLargeException x = new TooLargeException(limit);
                fail(x);
                return Content.Chunk.from(x, true);
            }
            boolean last = in.isFinished();
            if (last) {
                markEof();
            }
            return Content.Chunk.from(ByteBuffer.wrap(buffer, 0, n), last);
        } catch (IOException | RuntimeException e) {
            Throwable x = ClientTimeoutException.classify(e);
            fail(x);
            return Content.Chunk.from(x, true);
        }
    }

    private void markEof() {
        synchronized (lock) {
            eof = true;
        }
        watch.stop();
    }

    void demand(Runnable r) {
        boolean now;
        synchronized (lock) {
            now = available || eof || failure != null;
            if (now) {
                available = false;
            } else {
                watch.waiting(); // the pause starts before the wait is published
                demand = r;
            }
        }
        if (now) {
            r.run();
        }
    }

    private void fireDemand() {
        watch.received();
        Runnable r;
        synchronized (lock) {
            r = demand;
            demand = null;
            if (r == null) {
                available = true;
            }
        }
        if (r != null) {
            r.run();
        }
    }

    private void fail(Throwable t) {
        synchronized (lock) {
            if (failure == null) {
                failure = t;
            }
        }
        watch.stop();
    }

    @Override
    public void onDataAvailable() {
        Lingering l = lingering;
        if (l != null) {
            l.drain();
            return;
        }
        fireDemand();
    }

    @Override
    public void onAllDataRead() {
        Lingering l = lingering;
        if (l != null) {
            l.end();
            return;
        }
        fireDemand();
    }

    @Override
    public void onError(Throwable t) {
        Lingering l = lingering;
        if (l != null) {
            l.end();
            return;
        }
        fail(ClientTimeoutException.classify(t));
        fireDemand();
    }

    /** One attempt's view of the body. */
    private final class AttemptContent implements Request.Content {
        private volatile Throwable attemptFailure;

        @Override
        public long getLength() {
            return contentLength;
        }

        @Override
        public String getContentType() {
            return contentType;
        }

        // read, fail and stopIfUntouched are serialized: once fail or a stop returns, no read of
        // this attempt is in progress or starts (reads do not block: the input is non-blocking)
        @Override
        public synchronized Content.Chunk read() {
            Throwable f = attemptFailure;
            if (f != null) {
                return Content.Chunk.from(f, true);
            }
            return RequestBody.this.read();
        }

        synchronized boolean stopIfUntouched(Throwable why) {
            if (consumedAny) {
                return false;
            }
            if (attemptFailure == null) {
                attemptFailure = why;
            }
            return true;
        }

        @Override
        public void demand(Runnable demandCallback) {
            if (attemptFailure != null) {
                demandCallback.run();
                return;
            }
            RequestBody.this.demand(() -> {
                if (attemptFailure != null) {
                    fireDemand(); // this attempt is over: pass the signal on to the next one
                } else {
                    demandCallback.run();
                }
            });
        }

        @Override
        public synchronized void fail(Throwable failure) {
            if (attemptFailure == null) {
                attemptFailure = failure;
            }
        }

        @Override
        public boolean rewind() {
            return !consumedAny;
        }
    }
}

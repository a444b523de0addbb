package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.RequestValues;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.client.ByteBufferRequestContent;
import org.eclipse.jetty.client.Request;

/**
 * The whole request body read into memory (non-blocking, through a {@link ReadListener}) so it
 * can be sent to several endpoints (fan-out) or inspected before the pick (a targeted route that
 * reads a form field), then replayed any number of times. Bounded by a limit: a longer body fails
 * with {@link RequestBody.TooLargeException} (413).
 */
final class BufferedBody implements ReadListener {

    private static final int CHUNK = 64 * 1024;

    private final ServletInputStream in;
    private final long limit;
    private final String contentType;
    private final List<ByteBuffer> chunks = new ArrayList<>();
    private byte[] current;
    private int currentFill;
    private long size;

    // guarded by this
    private boolean done;
    private Throwable failure;
    private Runnable onDone;
    private java.util.function.Consumer<Throwable> onFail;
    private String formText;
    private volatile Lingering lingering;
    /** Times the client's pauses; the body is awaited from the start. */
    private final ClientWatch watch;

    BufferedBody(ServletInputStream in, long limit, String contentType, org.eclipse.jetty.util.thread.Scheduler scheduler,
                 io.lbkit.core.Ticker ticker, java.time.Duration clientBodyTimeout) {
        this.watch = new ClientWatch(scheduler, ticker, clientBodyTimeout, this::fail);
        this.in = in;
        this.limit = limit;
        this.contentType = contentType;
        watch.waiting(); // the body is awaited from the start
    }

    /** Calls {@code ok} once the body is complete, or {@code failed} if reading failed. */
    void whenDone(Runnable ok, java.util.function.Consumer<Throwable> failed) {
        boolean d;
        Throwable f;
        synchronized (this) {
            d = done;
            f = failure;
            if (!d && f == null) {
                onDone = ok;
                onFail = failed;
                return;
            }
        }
        if (f != null) {
            failed.accept(f);
        } else {
            ok.run();
        }
    }

    long size() {
        return size;
    }

    /** True once the whole body was read. */
    synchronized boolean isDone() {
        return done;
    }

    /** No more pause timing (the body ended, or the exchange is over). */
    void stopWatch() {
        watch.stop();
    }

    /** From now on the input's callbacks drive {@code l} (the body was refused). */
    void linger(Lingering l) {
        stopWatch();
        lingering = l;
    }

    @Override
    public void onDataAvailable() throws IOException {
        Lingering l = lingering;
        if (l != null) {
            l.drain();
            return;
        }
        synchronized (this) {
            if (failure != null) {
                return; // refused: keep nothing more (the exchange starts lingering)
            }
        }
        watch.received();
        try {
            while (in.isReady()) {
                if (current == null || currentFill == current.length) {
                    flushCurrent();
                    long room = limit - size;
                    current = new byte[(int) Math.max(1, Math.min(CHUNK, room + 1))];
                    currentFill = 0;
                }
                int n = in.read(current, currentFill, current.length - currentFill);
                if (n < 0) {
                    return;
                }
                currentFill += n;
                size += n;
                if (size > limit) {
                    fail(new RequestBody.TooLargeException(limit));
                    return;
                }
            }
            watch.waiting(); // not ready: the next bytes are awaited from now
        } catch (IOException | RuntimeException e) {
            fail(RequestBody.ClientTimeoutException.classify(e));
        }
    }

    private void flushCurrent() {
        if (current != null && currentFill > 0) {
            chunks.add(ByteBuffer.wrap(current, 0, currentFill).asReadOnlyBuffer());
        }
        current = null;
        currentFill = 0;
    }

    @Override
    public void onAllDataRead() {
        Lingering l = lingering;
        if (l != null) {
            l.end();
            return;
        }
        Runnable r;
        synchronized (this) {
            if (done || failure != null) {
                return;
            }
            flushCurrent();
            done = true;
            stopWatch();
            r = onDone;
            onDone = null;
            onFail = null;
        }
        if (r != null) {
            r.run();
        }
    }

    @Override
    public void onError(Throwable t) {
        Lingering l = lingering;
        if (l != null) {
            l.end();
            return;
        }
        fail(RequestBody.ClientTimeoutException.classify(t));
    }

    private void fail(Throwable t) {
        java.util.function.Consumer<Throwable> f;
        synchronized (this) {
            if (done || failure != null) {
                return;
            }
            failure = t;
            stopWatch();
            f = onFail;
            onDone = null;
            onFail = null;
        }
        if (f != null) {
            f.accept(t);
        }
    }

    /** A fresh content for one backend request (the buffers are shared read-only views). */
    Request.Content content() {
        List<ByteBuffer> views = new ArrayList<>(chunks.size());
        for (ByteBuffer b : chunks) {
            views.add(b.duplicate());
        }
        return new ByteBufferRequestContent(contentType, views);
    }

    /** The body as text when it is {@code application/x-www-form-urlencoded}, else null. */
    synchronized String formText() {
        if (!done || !RequestValues.isForm(contentType)) {
            return null;
        }
        if (formText == null) {
            byte[] all = new byte[(int) size];
            int p = 0;
            for (ByteBuffer b : chunks) {
                ByteBuffer d = b.duplicate();
                int n = d.remaining();
                d.get(all, p, n);
                p += n;
            }
            formText = new String(all, StandardCharsets.ISO_8859_1); // percent-decoding handles UTF-8
        }
        return formText;
    }
}

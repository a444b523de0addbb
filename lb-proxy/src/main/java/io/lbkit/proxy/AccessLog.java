package io.lbkit.proxy;

import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.LogFormat;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one line per request in an nginx {@code log_format} ({@link LogFormat#COMBINED}
 * by default), written off the request path. An engine renders the line on the request's thread
 * and hands it to a bounded queue; one writer thread ({@code lbkit-access-log}) writes the queue
 * to a file (appended) or to standard output. When the queue is full the line is dropped and
 * counted ({@link #dropped()}): the request never waits for the disk.
 *
 * <pre>{@code
 * AccessLog log = AccessLog.builder().path(Path.of("/var/log/lbkit/access.log")).build();
 * ProxyConfig config = ProxyConfig.builder().accessLog(log)...build();
 * // log rotation: rename the file, then
 * log.reopen();
 * }</pre>
 *
 * The caller owns the log: {@link #close()} writes what is queued and stops the writer.
 */
public final class AccessLog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final ThreadLocal<StringBuilder> LINE = ThreadLocal.withInitial(() -> new StringBuilder(256));

    private final LogFormat format;
    private final Path path;            // null: standard output
    private final int capacity;
    private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final Thread writer;
    private volatile boolean sleeping;
    private volatile boolean reopen;
    private volatile boolean closed;
    private OutputStream out;            // the writer thread's
    private byte[] bytes = new byte[512]; // the writer thread's: a line's bytes
    private long lastLine = System.nanoTime() - 2 * BUSY_NANOS; // the writer thread's: when it last wrote a line
    /** How long after a line the writer polls instead of waiting to be woken. */
    private static final long BUSY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
    private static final long POLL_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1);

    private AccessLog(Builder b) {
        this.format = b.format;
        this.path = b.path;
        this.capacity = b.queueCapacity;
        this.out = open();
        this.writer = new Thread(this::run, "lbkit-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    public static Builder builder() {
        return new Builder();
    }

    public LogFormat format() {
        return format;
    }

    /** The file, or null for standard output. */
    public Path path() {
        return path;
    }

    /**
     * Renders {@code r}'s line now and queues it; never blocks. Engines call this once per request
     * when the exchange ends.
     */
    public void log(AccessRecord r) {
        if (closed) {
            dropped.increment();
            return;
        }
        if (queued.incrementAndGet() > capacity) {
            queued.decrementAndGet();
            dropped.increment();
            return;
        }
        StringBuilder sb = LINE.get();
        sb.setLength(0);
        format.render(r, System.currentTimeMillis(), sb);
        sb.append('\n');
        queue.offer(sb.toString());
        if (sleeping) {
            LockSupport.unpark(writer);
        }
    }

    /** Lines dropped because the queue was full (or the log closed). */
    public long dropped() {
        return dropped.sum();
    }

    /** Lines written. */
    public long written() {
        return written.sum();
    }

    /**
     * Closes and reopens the file at the writer's next turn (log rotation: move the file away,
     * then call this; nginx's {@code -s reopen}). Nothing is lost: lines queued meanwhile go to the
     * new file.
     */
    public void reopen() {
        reopen = true;
        LockSupport.unpark(writer);
    }

    /**
     * Waits until every line queued before this call is written and flushed, at most
     * {@code timeout}; false if that did not happen in time.
     */
    public boolean flush(Duration timeout) {
        long target = written.sum() + queued.get();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (written.sum() < target && System.nanoTime() < deadline && writer.isAlive()) {
            LockSupport.unpark(writer);
            LockSupport.parkNanos(200_000);
        }
        return written.sum() >= target;
    }

    /** Writes what is queued, then stops the writer and closes the file. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // =====================================================================================
    // the writer thread
    // =====================================================================================

    private void run() {
        try {
            while (true) {
                if (reopen) {
                    reopen = false;
                    reopenNow();
                }
                String line = queue.poll();
                if (line == null) {
                    flushOut();
                    if (closed && queue.isEmpty()) {
                        break;
                    }
                    if (System.nanoTime() - lastLine < BUSY_NANOS) {
                        // lines came within the last second: look again in a millisecond, so that
                        // the request threads need not wake this one for every line (one write
                        // per millisecond under load, not one per line)
                        LockSupport.parkNanos(this, POLL_NANOS);
                        continue;
                    }
                    sleeping = true;
                    if (queue.isEmpty() && !reopen && !closed) {
                        LockSupport.park(this);
                    }
                    sleeping = false;
                    continue;
                }
                queued.decrementAndGet();
                lastLine = System.nanoTime();
                write(line);
            }
        } finally {
            flushOut();
            if (path != null) {
                closeOut();
            }
        }
    }

    private void write(String line) {
        try {
            int n = line.length();
            if (bytes.length < n) {
                bytes = new byte[Math.max(n, 2 * bytes.length)];
            }
            for (int i = 0; i < n; i++) {
                bytes[i] = (byte) line.charAt(i); // one byte per char (the line is a byte string)
            }
            out.write(bytes, 0, n);
        } catch (IOException e) {
            log.warn("access log {}: write failed: {}", where(), e.toString());
        }
        written.increment();
    }

    private void flushOut() {
        try {
            out.flush();
        } catch (IOException e) {
            log.warn("access log {}: flush failed: {}", where(), e.toString());
        }
    }

    private void closeOut() {
        try {
            out.close();
        } catch (IOException e) {
            log.warn("access log {}: close failed: {}", where(), e.toString());
        }
    }

    private void reopenNow() {
        if (path == null) {
            return;
        }
        flushOut();
        closeOut();
        try {
            out = open();
            log.info("access log {}: reopened", path);
        } catch (UncheckedIOException e) {
            log.warn("access log {}: reopen failed, lines are dropped until the next reopen: {}", path, e.toString());
            out = OutputStream.nullOutputStream();
        }
    }

    private OutputStream open() {
        if (path == null) {
            return new java.io.BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
        }
        try {
            return new java.io.BufferedOutputStream(Files.newOutputStream(path, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE), 1 << 16);
        } catch (IOException e) {
            throw new UncheckedIOException("access log " + path + ": cannot open: " + e.getMessage(), e);
        }
    }

    private String where() {
        return path == null ? "stdout" : path.toString();
    }

    /** Builds an {@link AccessLog}; {@link #build()} opens the file and starts the writer. */
    public static final class Builder {
        private LogFormat format = LogFormat.compile(LogFormat.COMBINED, LogFormat.Escape.DEFAULT);
        private Path path;
        private int queueCapacity = 65536;

        private Builder() {
        }

        /** The line format; default {@link LogFormat#COMBINED} with default escaping. */
        public Builder format(LogFormat f) {
            this.format = Objects.requireNonNull(f, "format");
            return this;
        }

        /** {@code format(LogFormat.compile(text, escape))}. */
        public Builder format(String text, LogFormat.Escape escape) {
            return format(LogFormat.compile(text, escape));
        }

        /** The file lines are appended to (created if missing); null, the default, for standard output. */
        public Builder path(Path p) {
            this.path = p;
            return this;
        }

        /** How many lines may wait for the writer; more are dropped and counted. Default 65536. */
        public Builder queueCapacity(int n) {
            this.queueCapacity = n;
            return this;
        }

        public AccessLog build() {
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("accessLog queueCapacity must be >= 1, got " + queueCapacity);
            }
            return new AccessLog(this);
        }
    }
}

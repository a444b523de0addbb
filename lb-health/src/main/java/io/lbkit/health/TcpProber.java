package io.lbkit.health;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * TCP probes on asynchronous channels sharing one small channel group: a non-blocking connect,
 * optional send and reply-prefix match; the timeout closes the channel from the scheduler.
 */
final class TcpProber {

    private final AsynchronousChannelGroup group;
    private final ExecutorService pool;
    private final ScheduledExecutorService timer;
    private final ThreadPoolExecutor resolver;

    TcpProber(ScheduledExecutorService timer) throws IOException {
        this.timer = timer;
        AtomicInteger dns = new AtomicInteger();
        this.resolver = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), t -> {
            Thread th = new Thread(t, "lbkit-health-dns-" + dns.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
        this.resolver.allowCoreThreadTimeOut(true);
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(1, r -> {
            Thread t = new Thread(r, "lbkit-health-tcp-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.group = AsynchronousChannelGroup.withThreadPool(pool);
    }

    void stop() {
        group.shutdown();
        try {
            group.shutdownNow();
        } catch (IOException e) {
            // closing anyway
        }
        pool.shutdownNow();
        resolver.shutdownNow();
    }

    CompletableFuture<ProbeOutcome> probe(String host, int port, TcpCheck spec, long timeoutMillis) {
        Attempt a = new Attempt(spec, timeoutMillis);
        try {
            a.channel = AsynchronousSocketChannel.open(group);
            a.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            a.timeout = timer.schedule(a::expire, timeoutMillis, TimeUnit.MILLISECONDS);
            if (isLiteral(host)) {
                connect(a, new InetSocketAddress(host, port));
            } else {
                // name resolution may block: never on the scheduler or the channel group's thread
                resolver.execute(() -> connect(a, new InetSocketAddress(host, port)));
            }
        } catch (Throwable e) {
            a.done(ProbeOutcome.failure(e, timeoutMillis));
        }
        return a.future;
    }

    private static void connect(Attempt a, InetSocketAddress address) {
        try {
            if (address.isUnresolved()) {
                a.done(ProbeOutcome.fail(0, "unknown host"));
            } else if (!a.future.isDone()) {
                a.channel.connect(address, a, CONNECTED);
            }
        } catch (Throwable e) {
            a.failed(e);
        }
    }

    static boolean isLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true; // IPv6
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                return false;
            }
        }
        return !host.isEmpty();
    }

    private static final class Attempt {
        final TcpCheck spec;
        final long timeoutMillis;
        final CompletableFuture<ProbeOutcome> future = new CompletableFuture<>();
        AsynchronousSocketChannel channel;
        volatile ScheduledFuture<?> timeout;
        ByteBuffer out;
        ByteBuffer in;

        Attempt(TcpCheck spec, long timeoutMillis) {
            this.spec = spec;
            this.timeoutMillis = timeoutMillis;
        }

        void expire() {
            done(ProbeOutcome.timeout(timeoutMillis));
        }

        void failed(Throwable e) {
            done(ProbeOutcome.failure(e, timeoutMillis));
        }

        void done(ProbeOutcome outcome) {
            if (future.complete(outcome)) {
                ScheduledFuture<?> t = timeout;
                if (t != null) {
                    t.cancel(false);
                }
                if (channel != null) {
                    try {
                        channel.close();
                    } catch (IOException e) {
                        // already closed
                    }
                }
            }
        }

        void afterConnect() throws IOException {
            if (channel.getLocalAddress() != null && channel.getLocalAddress().equals(channel.getRemoteAddress())) {
                // TCP self-connect: the closed port was picked as our own ephemeral port
                done(ProbeOutcome.fail(0, "connection refused"));
                return;
            }
            byte[] expect = spec.expectBytes();
            if (expect.length == 0) {
                done(ProbeOutcome.pass(0, "connected"));
                return;
            }
            in = ByteBuffer.allocate(expect.length);
            byte[] send = spec.sendBytes();
            if (send.length > 0) {
                out = ByteBuffer.wrap(send);
                channel.write(out, this, WRITTEN);
            } else {
                channel.read(in, this, READ);
            }
        }

        void afterRead(int n) {
            byte[] expect = spec.expectBytes();
            for (int i = in.position() - Math.max(n, 0); i < in.position(); i++) {
                if (i >= 0 && in.get(i) != expect[i]) {
                    done(ProbeOutcome.fail(0, "reply did not match"));
                    return;
                }
            }
            if (!in.hasRemaining()) {
                done(ProbeOutcome.pass(0, "reply matched"));
            } else if (n < 0) {
                done(ProbeOutcome.fail(0, "connection closed before reply"));
            } else {
                channel.read(in, this, READ);
            }
        }
    }

    private static final CompletionHandler<Void, Attempt> CONNECTED = new CompletionHandler<>() {
        @Override
        public void completed(Void v, Attempt a) {
            if (a.future.isDone()) {
                return;
            }
            try {
                a.afterConnect();
            } catch (Throwable e) {
                a.failed(e);
            }
        }

        @Override
        public void failed(Throwable e, Attempt a) {
            a.failed(e);
        }
    };

    private static final CompletionHandler<Integer, Attempt> WRITTEN = new CompletionHandler<>() {
        @Override
        public void completed(Integer n, Attempt a) {
            if (a.future.isDone()) {
                return;
            }
            try {
                if (a.out.hasRemaining()) {
                    a.channel.write(a.out, a, this);
                } else {
                    a.channel.read(a.in, a, READ);
                }
            } catch (Throwable e) {
                a.failed(e);
            }
        }

        @Override
        public void failed(Throwable e, Attempt a) {
            a.failed(e);
        }
    };

    private static final CompletionHandler<Integer, Attempt> READ = new CompletionHandler<>() {
        @Override
        public void completed(Integer n, Attempt a) {
            if (a.future.isDone()) {
                return;
            }
            try {
                a.afterRead(n);
            } catch (Throwable e) {
                a.failed(e);
            }
        }

        @Override
        public void failed(Throwable e, Attempt a) {
            a.failed(e);
        }
    };
}

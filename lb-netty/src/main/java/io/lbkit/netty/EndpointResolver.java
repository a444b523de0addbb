package io.lbkit.netty;

import io.lbkit.core.internal.Repeats;
import io.netty.channel.ConnectTimeoutException;
import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the host names of endpoints for backend connects without blocking an event loop: the
 * lookup runs on a small pool of daemon threads ({@code lbkit-resolver-N}, at most
 * {@value #THREADS}, started on the first lookup and ended after a minute idle), and its result
 * completes Netty's promise, whose listeners run on the channel's loop, so the connect goes on
 * there.
 *
 * <p><b>Why the JDK resolver and not Netty's {@code netty-resolver-dns}.</b> The lookup is
 * {@link InetAddress#getAllByName}, the one the servlet engine (and every JDK HTTP client) uses, so a
 * name resolves exactly as there: {@code /etc/hosts}, the platform resolver with its
 * {@code nsswitch.conf} sources (mDNS, LDAP, systemd-resolved...), search domains, and the JDK's
 * address cache ({@code networkaddress.cache.ttl}, 30 s by default;
 * {@code networkaddress.cache.negative.ttl}, 10 s). Netty's asynchronous DNS client needs no
 * thread but speaks DNS over UDP itself: it reads {@code /etc/hosts} and {@code resolv.conf} only,
 * keeps a cache of its own, and so may answer differently from the JDK for the same name (a
 * Docker or Kubernetes name served through nsswitch, a JVM whose cache TTL was tuned); a proxy
 * that picks a different address than the application next to it is a surprise. The price of the
 * JDK lookup is a thread per running lookup; with the JDK cache nearly every lookup is a hit and
 * takes microseconds, so a few threads serve every loop.
 *
 * <p>An IP literal never reaches the pool: {@link BackendPool} connects to it as an address
 * already resolved, and a literal that comes here anyway is answered on the spot.
 *
 * <p>A lookup is bounded by {@code connectTimeout} (Netty's connect timer starts only once the
 * address is known, so the lookup has a timer of its own): when the answer has not come by then the
 * connect fails with a {@link ConnectTimeoutException} (a timeout of that endpoint, as a connect
 * that takes too long); the connect itself then has its own {@code connectTimeout}. An unknown
 * host fails the connect with the {@link UnknownHostException} (a connect failure of that
 * endpoint) and a log line naming the host, collapsed while it repeats.
 */
final class EndpointResolver extends AddressResolverGroup<InetSocketAddress> {

    private static final Logger log = LoggerFactory.getLogger(EndpointResolver.class);
    static final int THREADS = 4;
    /** Lookups that may wait for a thread; beyond, a connect fails at once. */
    static final int QUEUE = 1024;

    /** The blocking lookup: {@link InetAddress#getAllByName} but in tests. */
    @FunctionalInterface
    interface Lookup {
        InetAddress[] lookup(String host) throws UnknownHostException;
    }

    private final Lookup lookup;
    private final long timeoutNanos;
    private final ThreadPoolExecutor threads;
    private final Map<String, Repeats> unknown = new ConcurrentHashMap<>();

    EndpointResolver(Lookup lookup, Duration timeout) {
        this.lookup = lookup;
        this.timeoutNanos = timeout.toNanos();
        AtomicInteger n = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "lbkit-resolver-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        threads.allowCoreThreadTimeOut(true);
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor loop) {
        return new OffLoop(loop).asAddressResolver();
    }

    /** Stops the lookup threads (a lookup still running is interrupted, its connect fails). */
    @Override
    public void close() {
        super.close();
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code lookup} on the pool and completes {@code promise} with {@code answer} of its result. */
    private <T> void lookUp(EventExecutor loop, String host, Promise<T> promise, Answer<T> answer) {
        InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
        if (literal != null) {
            promise.trySuccess(answer.of(new InetAddress[] {literal}));
            return;
        }
        ScheduledFuture<?> timer = loop.schedule(() -> {
            promise.tryFailure(new ConnectTimeoutException("the lookup of " + host + " took longer than "
                    + Duration.ofNanos(timeoutNanos)));
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        promise.addListener(f -> timer.cancel(false));
        try {
            threads.execute(() -> {
                if (promise.isDone()) {
                    return; // timed out while it waited for a thread
                }
                try {
                    promise.trySuccess(answer.of(lookup.lookup(host)));
                } catch (UnknownHostException e) {
                    if (promise.tryFailure(e)) { // else the connect timed out already, and said so
                        Repeats r = unknown.computeIfAbsent(host, h -> new Repeats(Duration.ofSeconds(10)));
                        long skipped = r.admit();
                        if (skipped >= 0) {
                            log.warn("cannot resolve endpoint host {}: {}{}", host, e.getMessage(),
                                    Repeats.note(skipped));
                        }
                    }
                } catch (RuntimeException | Error e) {
                    if (promise.tryFailure(e)) {
                        log.warn("the lookup of endpoint host {} failed", host, e);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            promise.tryFailure(new UnknownHostException("the lookup of " + host + " was not started: "
                    + (threads.isShutdown() ? "the server is stopping" : QUEUE + " lookups are waiting already")));
        }
    }

    @FunctionalInterface
    private interface Answer<T> {
        T of(InetAddress[] all);
    }

    /** The resolver of one event loop: its promises complete on that loop. */
    private final class OffLoop extends InetNameResolver {

        OffLoop(EventExecutor loop) {
            super(loop);
        }

        @Override
        protected void doResolve(String host, Promise<InetAddress> promise) {
            lookUp(executor(), host, promise, all -> all[0]);
        }

        @Override
        protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
            lookUp(executor(), host, promise, List::of);
        }
    }
}

package io.lbkit.server;

import io.lbkit.servlet.proxy.ProxyFilter;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The servlet engine's proxy filter, swappable while it serves (a reload): each request runs
 * through the {@link ProxyFilter} current when it arrived; after a {@link #swap}, the previous
 * filter (and its HTTP client) stops once its last request has finished, or after the shutdown
 * timeout, the bound a graceful stop gives in-flight requests too.
 */
final class SwitchingFilter implements Filter {

    private static final Logger LOG = LoggerFactory.getLogger(SwitchingFilter.class);

    /** A filter and the requests running through it (an asynchronous one counts until it completes). */
    private static final class Generation {
        final ProxyFilter filter;
        final AtomicInteger running = new AtomicInteger();

        Generation(ProxyFilter filter) {
            this.filter = filter;
        }
    }

    private final Duration retireTimeout;
    private volatile Generation current;
    private volatile boolean destroyed;

    SwitchingFilter(ProxyFilter first, Duration retireTimeout) {
        this.current = new Generation(first);
        this.retireTimeout = retireTimeout;
    }

    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        current.filter.init(filterConfig);
    }

    /**
     * Makes {@code next} serve every request that arrives from now on; the previous filter stops
     * when its requests are done. Starts {@code next}'s HTTP client first.
     */
    synchronized void swap(ProxyFilter next) {
        try {
            next.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the proxy HTTP client: " + e.getMessage(), e);
        }
        Generation old = current;
        current = new Generation(next);
        Thread t = new Thread(() -> retire(old), "lbkit-reload-retire");
        t.setDaemon(true);
        t.start();
    }

    private void retire(Generation old) {
        long deadline = System.nanoTime() + retireTimeout.toNanos();
        // polls: the count drops on container threads, and a stopping filter has no hurry
        while (old.running.get() > 0 && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (old.running.get() > 0) {
            LOG.warn("reload: {} requests still running on the previous configuration after {}; stopping it",
                    old.running.get(), retireTimeout);
        }
        old.filter.stop();
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Generation g = current;
        g.running.incrementAndGet();
        boolean async = false;
        try {
            g.filter.doFilter(request, response, chain);
            if (request.isAsyncStarted()) {
                request.getAsyncContext().addListener(new Done(g));
                async = true;
            }
        } finally {
            if (!async) {
                g.running.decrementAndGet();
            }
        }
    }

    @Override
    public synchronized void destroy() {
        if (!destroyed) {
            destroyed = true;
            current.filter.destroy();
        }
    }

    /** Counts an asynchronous request down once, however it ends. */
    private static final class Done implements AsyncListener {
        private final Generation g;
        private boolean done;

        Done(Generation g) {
            this.g = g;
        }

        private synchronized void end() {
            if (!done) {
                done = true;
                g.running.decrementAndGet();
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            end();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            end();
        }

        @Override
        public void onError(AsyncEvent event) {
            end();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // a new asynchronous cycle of the same request: keep listening
            event.getAsyncContext().addListener(this);
        }
    }
}

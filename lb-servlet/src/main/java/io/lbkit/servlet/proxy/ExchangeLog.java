package io.lbkit.servlet.proxy;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.ClientOrigin;
import io.lbkit.proxy.engine.RequestIds;
import io.lbkit.proxy.engine.StubStatus;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.http.HttpFields;

/**
 * The access log, the meters, the request id and the {@code stub_status} counts of the filter's
 * exchanges: an {@link AccessRecord} per exchange when the proxy has an access log or meters, begun when the filter takes
 * the request, the line written once when the exchange ends (its async cycle completes, or the
 * filter answered at once). The filter sees requests, not connections: for {@code stub_status}
 * each exchange counts as a connection of its own, writing while it runs.
 */
final class ExchangeLog {

    private ExchangeLog() {
    }

    /** The record of a new exchange, or null when the proxy has neither access log nor meters. */
    static AccessRecord begin(StubStatus status, ProxyConfig config, ServletClientRequest view) {
        status.request();
        status.move(status.opened(), StubStatus.WRITING);
        if (config.accessLog() == null && config.meters() == null) {
            return null;
        }
        HttpServletRequest req = view.servletRequest();
        String q = req.getQueryString();
        String uri = q == null ? req.getRequestURI() : req.getRequestURI() + "?" + q;
        return new AccessRecord().begin(req.getRemoteAddr(), req.getMethod(), uri, req.getProtocol(), view,
                System.nanoTime());
    }

    /** The request id: a trusted peer's or a new one, set on the backend request's fields and recorded. */
    static void requestId(ProxyExchange ex, ClientOrigin origin, HttpFields.Mutable fields) {
        String id = RequestIds.of(ex.config, ex.view, origin);
        if (id != null) {
            fields.put(ex.config.requestIdHeader(), id);
            if (ex.rec != null) {
                ex.rec.requestId(id);
            }
        }
    }

    /**
     * A request no route takes goes on down the filter chain (the application answers); it is
     * counted and logged as nginx logs a request its own locations answer.
     */
    static void passOn(ProxyFilter filter, ServletClientRequest view, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        AccessRecord r = begin(filter.status, filter.config(), view);
        HttpServletRequest req = view.servletRequest();
        boolean async = false;
        try {
            chain.doFilter(req, resp);
            async = req.isAsyncStarted();
        } finally {
            if (async) {
                req.getAsyncContext().addListener(new AsyncListener() {
                    @Override
                    public void onComplete(AsyncEvent event) {
                        passedOnEnded(filter, r, resp);
                    }

                    @Override
                    public void onTimeout(AsyncEvent event) {
                    }

                    @Override
                    public void onError(AsyncEvent event) {
                    }

                    @Override
                    public void onStartAsync(AsyncEvent event) {
                    }
                });
            } else {
                passedOnEnded(filter, r, resp);
            }
        }
    }

    private static void passedOnEnded(ProxyFilter filter, AccessRecord r, HttpServletResponse resp) {
        filter.status.closed(StubStatus.WRITING);
        if (r != null) {
            r.status(resp.getStatus());
            String length = resp.getHeader("Content-Length");
            if (length != null) {
                try {
                    r.bodyBytes(Long.parseLong(length));
                } catch (NumberFormatException e) {
                    // not known: 0
                }
            }
            r.end(System.nanoTime());
            written(filter.config(), r);
        }
    }

    /** The exchange is over: its line goes to the log, once. */
    static void end(ProxyExchange ex) {
        if (!ex.logged.compareAndSet(false, true)) {
            return;
        }
        ex.filter.status.closed(StubStatus.WRITING);
        AccessRecord r = ex.rec;
        if (r == null) {
            return;
        }
        HttpServletResponse resp = ex.resp;
        r.status(ex.clientGone && !resp.isCommitted() ? 499 : resp.getStatus());
        if (ex.body != null) {
            r.requestBytes(ex.body.bytesRead());
        } else if (ex.buffered != null) {
            r.requestBytes(ex.buffered.size());
        }
        r.end(System.nanoTime());
        written(ex.config, r);
    }

    /** The ended record goes to the access log and the meters, those the proxy has. */
    private static void written(ProxyConfig config, AccessRecord r) {
        if (config.accessLog() != null) {
            config.accessLog().log(r);
        }
        if (config.meters() != null) {
            config.meters().record(r);
        }
    }
}

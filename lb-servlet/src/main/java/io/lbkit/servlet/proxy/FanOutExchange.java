package io.lbkit.servlet.proxy;

import io.lbkit.core.Outcome;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.engine.AddedHeaderRules;
import io.lbkit.proxy.engine.FanOutAggregator;
import io.lbkit.proxy.engine.FanOutAnswer;
import io.lbkit.proxy.engine.ForwardedSession;
import io.lbkit.proxy.engine.HeaderSink;
import io.lbkit.proxy.engine.RequestHeaderRules;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request of a broadcast route on the servlet engine: the buffered request goes to every
 * active leg of lb-proxy's {@link FanOutAggregator} at once on the Jetty client, each answer is
 * handed to the aggregator, and the answer it decides is written with non-blocking servlet I/O.
 * The {@link ProxyExchange} did the checks, headers, limits and body buffering before. Callbacks
 * run on HTTP client threads; the aggregator is called under {@code this} (one lock per answer).
 */
final class FanOutExchange {

    private static final Logger log = LoggerFactory.getLogger(FanOutExchange.class);

    private final ProxyExchange ex;
    private final HttpServletRequest req;
    private final HttpServletResponse resp;
    private final long startNanos;
    // read by abort() on the thread where the client left, possibly while run() still fills it
    private final List<Leg> legs = new java.util.concurrent.CopyOnWriteArrayList<>();
    private FanOutAggregator aggregator; // guarded by this

    FanOutExchange(ProxyExchange ex) {
        this.ex = ex;
        this.req = ex.request();
        this.resp = ex.response();
        this.startNanos = ex.config().ticker().nanos();
    }

    void run() {
        FanOutAggregator a = FanOutAggregator.start(ex.config(), ex.route(), ex.peer());
        if (!a.enough()) {
            log.warn("proxy {} {} route={}: fan-out to {}: {} endpoint(s) available, {} needed", req.getMethod(),
                    req.getRequestURI(), ex.route().name(), ex.route().upstream().name(), a.active(), a.needed());
            ex.fail(503);
            return;
        }
        synchronized (this) {
            aggregator = a;
        }
        for (FanOutAggregator.Leg l : a.legs()) {
            if (l.active()) {
                legs.add(new Leg(l));
            }
        }
        for (Leg l : legs) {
            l.send();
        }
        if (ex.clientGone()) {
            // the client left while the legs were built: abort() may have seen none of them
            abort(new CancellationException("client gone"));
        }
    }

    /** The client went away: abort every request still running. */
    void abort(Throwable t) {
        for (Leg l : legs) {
            Request r = l.request;
            if (r != null) {
                r.abort(t);
            }
        }
    }

    // =====================================================================================
    // one endpoint
    // =====================================================================================

    private final class Leg implements Response.Listener {
        final FanOutAggregator.Leg leg;
        volatile Request request;
        HttpFields headers; // written by this leg's client callbacks, read after it ended under the lock
        boolean tooLarge;

        Leg(FanOutAggregator.Leg leg) {
            this.leg = leg;
        }

        void send() {
            try {
                ProxyConfig config = ex.config();
                String host = leg.endpoint().host();
                int port = leg.endpoint().port();
                Request r = new BackendRequest(ex.client(), host, port, ex.backendTarget())
                        .method(req.getMethod())
                        .version(HttpVersion.HTTP_1_1)
                        .idleTimeout(config.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
                String backendHost = RequestHeaderRules.backendHost(config, ex.clientHost(), host, port);
                HttpFields forward = ex.forwardHeaders();
                r.headers(h -> {
                    h.add(forward);
                    h.put(HttpHeader.HOST, backendHost);
                });
                long total = FanOutAggregator.totalTimeout(config, ex.route().fanOut()).toMillis();
                if (total > 0) {
                    long spent = TimeUnit.NANOSECONDS.toMillis(config.ticker().nanos() - startNanos);
                    r.timeout(Math.max(1, total - spent), TimeUnit.MILLISECONDS);
                }
                BufferedBody b = ex.buffered();
                if (b != null) {
                    r.body(b.content());
                }
                request = r;
                r.send(this);
            } catch (RuntimeException e) {
                log.warn("proxy {} {}: cannot build the backend request for {}: {}", req.getMethod(),
                        req.getRequestURI(), leg.endpoint().id(), e.toString());
                FanOutAnswer answer;
                synchronized (FanOutExchange.this) {
                    answer = aggregator.legNotSent(leg, 502);
                }
                respond(answer);
            }
        }

        @Override
        public void onHeaders(Response response) {
            headers = response.getHeaders();
            List<Map.Entry<String, String>> fields = new ArrayList<>(headers.size());
            for (HttpField f : headers) {
                fields.add(new AbstractMap.SimpleImmutableEntry<>(f.getName(), f.getValue()));
            }
            leg.head(response.getStatus(), response.getVersion() == null ? null : response.getVersion().asString(),
                    fields);
            if (ex.clientGone()) {
                response.abort(new CancellationException("client gone"));
            }
        }

        @Override
        public void onContent(Response response, ByteBuffer content) {
            if (!tooLarge && !leg.content(content)) {
                tooLarge = true;
                response.abort(new IOException("fan-out response larger than "
                        + ex.route().fanOut().maxResponseBytes() + " bytes"));
            }
        }

        @Override
        public void onComplete(Result result) {
            Throwable failure = result.getFailure();
            FanOutAnswer answer;
            synchronized (FanOutExchange.this) {
                if (failure == null) {
                    answer = aggregator.legResponded(leg);
                } else if (tooLarge) {
                    log.warn("proxy {} {}: fan-out response from {} larger than {} bytes", req.getMethod(),
                            req.getRequestURI(), leg.endpoint().id(), ex.route().fanOut().maxResponseBytes());
                    answer = aggregator.legTooLarge(leg);
                } else if (ex.clientGone()) {
                    answer = aggregator.legFailed(leg, Outcome.CANCELLED);
                } else if (BackendFailures.localFailureStatus(failure) != 0) {
                    // lbkit's or the request's failure: not recorded against the endpoint
                    int st = BackendFailures.localFailureStatus(failure);
                    log.warn("proxy {} {} route={}: fan-out to {} not sent ({}); {}", req.getMethod(),
                            req.getRequestURI(), ex.route().name(), leg.endpoint().id(), failure.toString(), st);
                    answer = aggregator.legNotSent(leg, st);
                } else {
                    log.warn("proxy {} {} route={}: fan-out to {} failed: {}", req.getMethod(), req.getRequestURI(),
                            ex.route().name(), leg.endpoint().id(), failure.toString());
                    answer = aggregator.legFailed(leg, BackendFailures.classify(failure, true));
                }
            }
            respond(answer);
        }
    }

    // =====================================================================================
    // the client response
    // =====================================================================================

    /** Writes the decided answer; nothing when {@code answer} is null (not decided by this leg). */
    private void respond(FanOutAnswer answer) {
        if (answer == null || ex.clientGone() || !ex.claimFinish()) {
            return;
        }
        if (!answer.ok()) {
            log.warn("proxy {} {} route={}: fan-out {} failed: {} answered {}", req.getMethod(), req.getRequestURI(),
                    ex.route().name(), ex.route().fanOut().aggregation(), answer.chosen().endpoint().id(),
                    answer.status());
        }
        try {
            resp.setStatus(answer.status());
            answer.writeHeaders(ex.config(), !ClientAbort.isJetty(resp), new HeaderSink() { // Jetty writes its own Date
                @Override
                public void add(String name, String value) {
                    resp.addHeader(name, value);
                }

                @Override
                public void set(String name, String value) {
                    resp.setHeader(name, value);
                }
            });
            AddedHeaderRules.apply(ex.config(), ex.route(), answer.status(), req.getScheme(), ServletFields.sink(resp));
            if (answer.kind() != FanOutAnswer.Kind.RESPONSE) {
                write(answer.body(), answer.bodyLength());
                return;
            }
            ForwardedSession session = ex.session();
            CompletionStage<?> saving = session == null ? null : session.save(answer.chosenFields());
            if (saving == null) {
                writeChosen(answer);
            } else {
                // session forwarding creating the session (and setting its cookie) in the
                // store: the headers are written only once it is done, as in a single exchange
                saving.whenComplete((v, x) -> {
                    try {
                        session.addResponseFields(ServletFields.sink(resp));
                        writeChosen(answer);
                    } catch (IOException | RuntimeException e) {
                        log.debug("cannot write the fan-out response: {}", e.toString());
                        ex.abortClaimed();
                    }
                });
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot write the fan-out response: {}", e.toString());
            ex.abortClaimed();
        }
    }

    private void writeChosen(FanOutAnswer answer) throws IOException {
        if ("HEAD".equals(req.getMethod())) {
            ex.completeAsync();
            return;
        }
        write(answer.body(), answer.bodyLength());
    }

    /** Writes {@code b[0, len)} without blocking, then completes the exchange. */
    private void write(byte[] b, int len) throws IOException {
        resp.setContentLength(len);
        ServletOutputStream o = resp.getOutputStream();
        o.setWriteListener(new WriteListener() {
            private int pos;
            private boolean over;

            @Override
            public void onWritePossible() throws IOException {
                while (!over && o.isReady()) {
                    if (pos >= len) {
                        over = true;
                        ex.completeAsync();
                        return;
                    }
                    int n = Math.min(16 * 1024, len - pos);
                    o.write(b, pos, n);
                    pos += n;
                }
            }

            @Override
            public void onError(Throwable t) {
                if (!over) {
                    over = true;
                    log.debug("fan-out response write failed: {}", t.toString());
                    ex.abortClaimed();
                }
            }
        });
    }
}

package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.ErrorAnswer;
import io.lbkit.proxy.engine.ForwardedSession;
import io.lbkit.proxy.engine.ResponseHeaderRules;
import io.lbkit.proxy.engine.RequestHeaderRules;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.engine.Headers;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * One request of a broadcast route: the buffered request is sent to every eligible endpoint at
 * once, each answer is kept in memory (bounded), and the aggregation decides the one response.
 * The {@link ProxyExchange} did the checks, headers, limits and body buffering before; this class
 * takes over from its first pick. Callbacks run on HTTP client threads; the aggregation state is
 * guarded by {@code this} (not a hot path: one lock per answer).
 */
final class FanOutExchange {

    private static final Logger log = LoggerFactory.getLogger(FanOutExchange.class);
    private static final JsonFactory JSON = new JsonFactory();

    private final ProxyExchange ex;
    private final FanOut spec;
    private final Upstream upstream;
    private final HttpServletRequest req;
    private final HttpServletResponse resp;
    // read by abort() on the thread where the client left, possibly while run() still fills it
    private final List<Leg> legs = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final long startNanos;

    // guarded by this
    private int pending;
    private int successes;
    private boolean decided;

    FanOutExchange(ProxyExchange ex) {
        this.ex = ex;
        this.spec = ex.route().fanOut();
        this.upstream = ex.route().upstream();
        this.req = ex.request();
        this.resp = ex.response();
        this.startNanos = ex.config().ticker().nanos();
    }

    void run() {
        InetAddress peer = ex.peer();
        int active = 0;
        for (Endpoint e : upstream.endpoints()) {
            PickRequest pr = PickRequest.create().preferred(e.id());
            if (peer != null) {
                pr.clientAddress(peer);
            }
            Selection s = upstream.pick(pr);
            Leg leg = new Leg(e);
            if (s.found() && s.endpoint().id().equals(e.id())) {
                leg.selection = s;
                active++;
            } else {
                if (s.found()) {
                    s.complete(Outcome.CANCELLED, 0, 0); // another endpoint: not this one's turn
                }
                leg.skipped = true;
            }
            legs.add(leg);
        }
        int needed = spec.aggregation() == FanOut.Aggregation.QUORUM ? spec.quorum() : 1;
        if (active < needed) {
            for (Leg l : legs) {
                if (!l.skipped) {
                    l.completeSelection(Outcome.CANCELLED, 0);
                }
            }
            log.warn("proxy {} {} route={}: fan-out to {}: {} endpoint(s) available, {} needed", req.getMethod(),
                    req.getRequestURI(), ex.route().name(), upstream.name(), active, needed);
            ex.fail(503);
            return;
        }
        synchronized (this) {
            pending = active;
        }
        for (Leg l : legs) {
            if (!l.skipped) {
                l.send();
            }
        }
        if (ex.clientGone()) {
            // the client left while the legs were built: abort() may have seen none of them
            abort(new java.util.concurrent.CancellationException("client gone"));
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
        final Endpoint endpoint;
        boolean skipped;
        Selection selection;
        volatile Request request;
        private final AtomicBoolean selectionCompleted = new AtomicBoolean();
        private final long sentNanos = System.nanoTime();
        private long headerNanos = -1;
        // written by the client callbacks of this leg, read after done() under the exchange's lock
        int status;
        HttpFields headers;
        HttpVersion version;
        byte[] body = new byte[0];
        int bodyLength;
        boolean truncated;
        boolean tooLarge;
        boolean done;
        boolean success;
        int resultStatus;
        String error;

        Leg(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        void send() {
            try {
                ProxyConfig config = ex.config();
                Request r = new BackendRequest(ex.client(), endpoint.host(), endpoint.port(), ex.backendTarget())
                        .method(req.getMethod())
                        .version(HttpVersion.HTTP_1_1)
                        .idleTimeout(config.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
                String backendHost = RequestHeaderRules.backendHost(config, ex.clientHost(), endpoint.host(), endpoint.port());
                HttpFields forward = ex.forwardHeaders();
                r.headers(h -> {
                    h.add(forward);
                    h.put(HttpHeader.HOST, backendHost);
                });
                long total = (spec.totalTimeout().isZero() ? config.totalTimeout() : spec.totalTimeout()).toMillis();
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
                        req.getRequestURI(), endpoint.id(), e.toString());
                completeSelection(Outcome.CANCELLED, 0);
                finish(502, "invalid_request");
            }
        }

        void completeSelection(Outcome o, int st) {
            if (selectionCompleted.compareAndSet(false, true)) {
                long latency = headerNanos >= 0 ? headerNanos : System.nanoTime() - sentNanos;
                selection.complete(o, st, latency);
            }
        }

        @Override
        public void onHeaders(Response response) {
            headerNanos = System.nanoTime() - sentNanos;
            status = response.getStatus();
            headers = response.getHeaders();
            version = response.getVersion();
            if (ex.clientGone()) {
                response.abort(new CancellationException("client gone"));
            }
        }

        @Override
        public void onContent(Response response, ByteBuffer content) {
            int n = content.remaining();
            int cap = spec.summary() ? spec.summaryBodyBytes() : spec.maxResponseBytes();
            if (bodyLength + n > cap) {
                if (!spec.summary()) {
                    tooLarge = true;
                    response.abort(new IOException("fan-out response larger than " + cap + " bytes"));
                    return;
                }
                truncated = true;
                n = cap - bodyLength;
            }
            if (n <= 0) {
                return;
            }
            if (body.length < bodyLength + n) {
                body = Arrays.copyOf(body, Math.max(bodyLength + n, Math.min(cap, Math.max(1024, body.length * 2))));
            }
            content.get(body, bodyLength, n);
            bodyLength += n;
        }

        @Override
        public void onComplete(Result result) {
            Throwable failure = result.getFailure();
            if (failure == null) {
                completeSelection(Outcome.RESPONSE, status);
                success = status >= 200 && status < 300;
                finish(status, null);
            } else if (tooLarge) {
                completeSelection(Outcome.RESPONSE, status);
                log.warn("proxy {} {}: fan-out response from {} larger than {} bytes", req.getMethod(),
                        req.getRequestURI(), endpoint.id(), spec.maxResponseBytes());
                finish(502, "response_too_large");
            } else if (ex.clientGone()) {
                completeSelection(Outcome.CANCELLED, 0);
                finish(499, "cancelled");
            } else if (ProxyExchange.localFailureStatus(failure) != 0) {
                // lbkit's or the request's failure: not recorded against the endpoint
                int st = ProxyExchange.localFailureStatus(failure);
                completeSelection(Outcome.CANCELLED, 0);
                log.warn("proxy {} {} route={}: fan-out to {} not sent ({}); {}", req.getMethod(), req.getRequestURI(),
                        ex.route().name(), endpoint.id(), failure.toString(), st);
                finish(st, "not_sent");
            } else {
                Outcome o = ProxyExchange.classify(failure, true);
                if (o == Outcome.CONNECT_FAILURE || headers == null) {
                    status = 0; // no (complete) response
                }
                completeSelection(o, 0);
                log.warn("proxy {} {} route={}: fan-out to {} failed: {}", req.getMethod(), req.getRequestURI(),
                        ex.route().name(), endpoint.id(), failure.toString());
                finish(o == Outcome.TIMEOUT ? 504 : 502, o.name().toLowerCase(Locale.ROOT));
            }
        }

        private void finish(int st, String err) {
            resultStatus = st;
            error = err;
            legDone(this);
        }

        boolean hasResponse() {
            return error == null && headers != null;
        }
    }

    // =====================================================================================
    // aggregation
    // =====================================================================================

    private void legDone(Leg leg) {
        Leg chosen = null;
        boolean ok = false;
        synchronized (this) {
            leg.done = true;
            pending--;
            if (leg.success) {
                successes++;
            }
            if (decided) {
                return; // FIRST / QUORUM: a late answer, drained and discarded
            }
            switch (spec.aggregation()) {
                case ALL -> {
                    if (pending == 0) {
                        ok = successes == active();
                        chosen = ok ? firstSuccess() : firstFailure();
                    }
                }
                case FIRST -> {
                    if (leg.success) {
                        ok = true;
                        chosen = leg;
                    } else if (pending == 0) {
                        chosen = firstFailure();
                    }
                }
                case QUORUM -> {
                    if (successes >= spec.quorum()) {
                        ok = true;
                        chosen = firstSuccess();
                    } else if (successes + pending < spec.quorum()) {
                        chosen = firstFailure();
                    }
                }
                default -> throw new IllegalStateException(spec.aggregation().name());
            }
            if (chosen == null) {
                return;
            }
            decided = true;
            if (ok && spec.primary() != null) {
                for (Leg l : legs) {
                    if (l.endpoint.id().equals(spec.primary()) && l.done && l.success) {
                        chosen = l;
                    }
                }
            }
        }
        respond(ok, chosen);
    }

    private int active() {
        int n = 0;
        for (Leg l : legs) {
            if (!l.skipped) {
                n++;
            }
        }
        return n;
    }

    private Leg firstSuccess() {
        for (Leg l : legs) {
            if (!l.skipped && l.done && l.success) {
                return l;
            }
        }
        throw new IllegalStateException("no success");
    }

    private Leg firstFailure() {
        for (Leg l : legs) {
            if (!l.skipped && l.done && !l.success) {
                return l;
            }
        }
        throw new IllegalStateException("no failure");
    }

    // =====================================================================================
    // the client response
    // =====================================================================================

    private void respond(boolean ok, Leg chosen) {
        if (ex.clientGone() || !ex.claimFinish()) {
            return;
        }
        int status = chosen.resultStatus;
        if (!ok) {
            log.warn("proxy {} {} route={}: fan-out {} failed: {} answered {}", req.getMethod(), req.getRequestURI(),
                    ex.route().name(), spec.aggregation(), chosen.endpoint.id(), status);
        }
        try {
            String servedBy = ex.config().servedByHeader();
            if (spec.summary()) {
                byte[] json = summary(ok, status);
                if (servedBy != null) {
                    resp.setHeader(servedBy, servedByValue());
                }
                resp.setStatus(status);
                resp.setContentType("application/json");
                write(json, json.length);
            } else if (chosen.hasResponse()) {
                copyHeaders(chosen);
                if (servedBy != null) {
                    resp.setHeader(servedBy, servedByValue());
                }
                ForwardedSession session = ex.session();
                java.util.concurrent.CompletionStage<?> saving =
                        session == null ? null : session.save(ServletFields.of(chosen.headers));
                if (saving == null) {
                    writeChosen(chosen);
                } else {
                    // session forwarding creating the session (and setting its cookie) in the
                    // store: the headers are written only once it is done, as in a single exchange
                    saving.whenComplete((v, x) -> {
                        try {
                            session.addResponseFields(ServletFields.sink(resp));
                            writeChosen(chosen);
                        } catch (IOException | RuntimeException e) {
                            log.debug("cannot write the fan-out response: {}", e.toString());
                            ex.abortClaimed();
                        }
                    });
                }
            } else {
                if (servedBy != null) {
                    resp.setHeader(servedBy, servedByValue());
                }
                byte[] b = ErrorAnswer.body(status);
                resp.setStatus(status);
                resp.setContentType(ErrorAnswer.CONTENT_TYPE);
                write(b, b.length);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot write the fan-out response: {}", e.toString());
            ex.abortClaimed();
        }
    }

    private void writeChosen(Leg chosen) throws IOException {
        if ("HEAD".equals(req.getMethod())) {
            ex.completeAsync();
            return;
        }
        resp.setContentLength(chosen.bodyLength);
        write(chosen.body, chosen.bodyLength);
    }

    /** The endpoints the request was sent to, in configuration order. */
    private String servedByValue() {
        StringBuilder sb = new StringBuilder();
        for (Leg l : legs) {
            if (!l.skipped) {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                sb.append(l.endpoint.id());
            }
        }
        return sb.toString();
    }

    private void copyHeaders(Leg leg) {
        HttpFields h = leg.headers;
        resp.setStatus(leg.status);
        Set<String> conn = Headers.connectionTokens(h.getValuesList(HttpHeader.CONNECTION));
        boolean containerAddsDate = ClientAbort.isJetty(resp);
        List<String> vias = null;
        for (HttpField f : h) {
            String name = f.getName();
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("via")) {
                if (vias == null) {
                    vias = new ArrayList<>(1);
                }
                vias.add(f.getValue());
            } else if (ResponseHeaderRules.copied(name, lower, conn) && !(containerAddsDate && lower.equals("date"))
                    && (ex.session() == null || !ex.filter().sessions().hidesResponseField(name))) {
                resp.addHeader(name, f.getValue());
            }
        }
        String via = ResponseHeaderRules.via(ex.config(), vias, leg.version == null ? null : leg.version.asString());
        if (via != null) {
            resp.setHeader("Via", via);
        }
    }

    private byte[] summary(boolean ok, int status) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        synchronized (this) {
            try (JsonGenerator g = JSON.createGenerator(out)) {
                g.writeStartObject();
                g.writeNumberField("status", status);
                g.writeBooleanField("ok", ok);
                g.writeStringField("aggregation", spec.aggregation().name().toLowerCase(Locale.ROOT));
                g.writeArrayFieldStart("results");
                for (Leg l : legs) {
                    g.writeStartObject();
                    g.writeStringField("endpoint", l.endpoint.id());
                    if (l.skipped) {
                        g.writeBooleanField("skipped", true);
                    } else if (!l.done) {
                        g.writeBooleanField("pending", true);
                    } else {
                        g.writeNumberField("status", l.resultStatus);
                        if (l.error != null) {
                            g.writeStringField("error", l.error);
                        } else {
                            g.writeStringField("body", new String(l.body, 0, l.bodyLength, StandardCharsets.UTF_8));
                            g.writeBooleanField("truncated", l.truncated);
                        }
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
        }
        return out.toByteArray();
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

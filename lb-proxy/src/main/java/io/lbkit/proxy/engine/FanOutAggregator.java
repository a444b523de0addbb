package io.lbkit.proxy.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Ticker;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rules of one request of a broadcast route ({@link Route#fanOut()}), for any engine: which
 * endpoints get a leg, how much of each answer is kept, when the answer is decided and what the
 * client gets. The engine sends the buffered request on every {@linkplain Leg#active() active}
 * leg, reports what each leg received ({@link Leg#head}, {@link Leg#content}) and how it ended
 * ({@link #legResponded}, {@link #legFailed}, ...); the call that decides returns the
 * {@link FanOutAnswer}, exactly once. Each leg's {@link Selection} is completed here with the leg's real
 * outcome, so in-flight counts, latency and passive health see fan-out traffic; legs still
 * running when the answer is decided run to their end and are recorded the same way.
 *
 * <p>Not thread-safe: an engine whose legs complete on several threads calls it under one lock;
 * a leg's {@code head} and {@code content} may run without it, on the one thread that reads that
 * leg, before that leg's ending call.
 */
public final class FanOutAggregator {

    private static final JsonFactory JSON = new JsonFactory();

    /** The answer's {@code Content-Type} with {@link FanOut#summary()}. */
    public static final String SUMMARY_CONTENT_TYPE = "application/json";

    private final ProxyConfig config;
    private final FanOut spec;
    private final List<Leg> legs;
    private final int active;
    private int pending;
    private int successes;
    private boolean decided;

    private FanOutAggregator(ProxyConfig config, FanOut spec, List<Leg> legs, int active) {
        this.config = config;
        this.spec = spec;
        this.legs = legs;
        this.active = active;
        this.pending = active;
    }

    /**
     * The most request body bytes held for a broadcast route: {@link FanOut#maxBodyBytes()}, else
     * the proxy's {@code maxRequestBodyBytes}, else {@link FanOut#DEFAULT_BUFFER_LIMIT}. A longer
     * body is answered with 413 and reaches no endpoint.
     */
    public static long bodyLimit(ProxyConfig config, Route route) {
        long limit = Admission.bodyLimit(config, route);
        return limit > 0 ? limit : FanOut.DEFAULT_BUFFER_LIMIT;
    }

    /** The bound on each leg's whole exchange, counted from the fan-out's start; zero for none. */
    public static Duration totalTimeout(ProxyConfig config, FanOut spec) {
        return spec.totalTimeout().isZero() ? config.totalTimeout() : spec.totalTimeout();
    }

    /**
     * Starts the fan-out of one request: every endpoint of the route's upstream, in configuration
     * order, is picked through the balancer ({@link PickRequest#preferred}); one that the balancer
     * would not give (down, unhealthy, ejected, at its connection limit) is skipped. When fewer
     * legs are active than the aggregation needs ({@link #enough()} false), every selection is
     * already completed CANCELLED and the engine answers 503 without sending anything.
     *
     * @param clientAddress the client's address for the picks, or null
     */
    public static FanOutAggregator start(ProxyConfig config, Route route, InetAddress clientAddress) {
        FanOut spec = route.fanOut();
        if (spec == null) {
            throw new IllegalArgumentException("route '" + route.name() + "' is not a broadcast route");
        }
        Upstream upstream = route.upstream();
        List<Endpoint> endpoints = upstream.endpoints();
        List<Leg> legs = new ArrayList<>(endpoints.size());
        long now = config.ticker().nanos();
        int active = 0;
        for (Endpoint e : endpoints) {
            PickRequest pr = PickRequest.create().preferred(e.id());
            if (clientAddress != null) {
                pr.clientAddress(clientAddress);
            }
            Selection s = upstream.pick(pr);
            Selection mine = null;
            if (s.found() && s.endpoint().id().equals(e.id())) {
                mine = s;
                active++;
            } else if (s.found()) {
                s.complete(Outcome.CANCELLED, 0, 0); // another endpoint: not this one's turn
            }
            legs.add(new Leg(legs.size(), e, mine, spec, config.ticker(), now));
        }
        FanOutAggregator a = new FanOutAggregator(config, spec, Collections.unmodifiableList(legs), active);
        if (active < a.needed()) {
            for (Leg l : legs) {
                if (l.active()) {
                    l.completeSelection(Outcome.CANCELLED, 0);
                }
            }
            a.decided = true;
        }
        return a;
    }

    /** Every endpoint of the upstream, in configuration order, active or skipped. */
    public List<Leg> legs() {
        return legs;
    }

    /** How many legs are sent. */
    public int active() {
        return active;
    }

    /** The successes the aggregation needs at least ({@link FanOut#quorum()}, else 1). */
    public int needed() {
        return spec.aggregation() == FanOut.Aggregation.QUORUM ? spec.quorum() : 1;
    }

    /** Whether enough legs are active to send the request; when not, the answer is 503. */
    public boolean enough() {
        return active >= needed();
    }

    /** Whether the answer was decided (or, without enough legs, never can be). */
    public boolean decided() {
        return decided;
    }

    /** Whether some active leg has not ended yet. */
    public boolean running() {
        return pending > 0;
    }

    /** The served-by value: the endpoints the request was sent to, in configuration order. */
    public String servedBy() {
        StringBuilder sb = new StringBuilder();
        for (Leg l : legs) {
            if (l.active()) {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                sb.append(l.endpoint.id());
            }
        }
        return sb.toString();
    }

    // =====================================================================================
    // how a leg ends
    // =====================================================================================

    /** The leg's whole response was read: a success when its status is 2xx. */
    public FanOutAnswer legResponded(Leg leg) {
        leg.completeSelection(Outcome.RESPONSE, leg.status);
        return ended(leg, leg.status, null, leg.status >= 200 && leg.status < 300);
    }

    /**
     * The leg's response body grew over {@link FanOut#maxResponseBytes()} ({@link Leg#content}
     * returned false; the engine stopped reading it): a 502 failure. The endpoint answered, so its
     * selection completes as a response with its status.
     */
    public FanOutAnswer legTooLarge(Leg leg) {
        leg.completeSelection(Outcome.RESPONSE, leg.status);
        return ended(leg, 502, "response_too_large", false);
    }

    /**
     * The leg failed on the way: a connect failure, reset or invalid response (502) or a read-idle
     * or total timeout (504), recorded against the endpoint with that outcome; or
     * {@link Outcome#CANCELLED} (the client went away: 499, the endpoint not blamed).
     */
    public FanOutAnswer legFailed(Leg leg, Outcome outcome) {
        if (outcome == Outcome.RESPONSE) {
            throw new IllegalArgumentException("a response is not a failure: use legResponded");
        }
        leg.completeSelection(outcome, 0);
        if (outcome == Outcome.CANCELLED) {
            return ended(leg, 499, "cancelled", false);
        }
        leg.status = 0; // no (complete) response
        leg.headers = null;
        return ended(leg, outcome == Outcome.TIMEOUT ? 504 : 502, outcome.name().toLowerCase(Locale.ROOT), false);
    }

    /**
     * The request could not be sent for a reason that is not the endpoint's (it could not be
     * built or encoded, the proxy is overloaded): answered with {@code status}, the selection
     * completed CANCELLED.
     */
    public FanOutAnswer legNotSent(Leg leg, int status) {
        leg.completeSelection(Outcome.CANCELLED, 0);
        leg.headers = null;
        return ended(leg, status, "not_sent", false);
    }

    private FanOutAnswer ended(Leg leg, int status, String error, boolean success) {
        if (!leg.active() || leg.done) {
            throw new IllegalStateException("leg " + leg.endpoint.id() + " is not running");
        }
        leg.done = true;
        leg.success = success;
        leg.resultStatus = status;
        leg.error = error;
        pending--;
        if (success) {
            successes++;
        }
        if (decided) {
            return null; // FIRST / QUORUM: a late answer, discarded
        }
        Leg chosen = null;
        boolean ok = false;
        switch (spec.aggregation()) {
            case ALL -> {
                if (pending == 0) {
                    ok = successes == active;
                    chosen = ok ? first(true) : first(false);
                }
            }
            case FIRST -> {
                if (success) {
                    ok = true;
                    chosen = leg;
                } else if (pending == 0) {
                    chosen = first(false);
                }
            }
            case QUORUM -> {
                if (successes >= spec.quorum()) {
                    ok = true;
                    chosen = first(true);
                } else if (successes + pending < spec.quorum()) {
                    chosen = first(false);
                }
            }
            default -> throw new IllegalStateException(spec.aggregation().name());
        }
        if (chosen == null) {
            return null;
        }
        decided = true;
        if (ok && spec.primary() != null) {
            for (Leg l : legs) {
                if (l.endpoint.id().equals(spec.primary()) && l.done && l.success) {
                    chosen = l;
                }
            }
        }
        return answer(ok, chosen);
    }

    /** The first ended leg in configuration order that succeeded (or failed). */
    private Leg first(boolean success) {
        for (Leg l : legs) {
            if (l.active() && l.done && l.success == success) {
                return l;
            }
        }
        throw new IllegalStateException("no leg with success=" + success);
    }

    private FanOutAnswer answer(boolean ok, Leg chosen) {
        int status = chosen.resultStatus;
        if (spec.summary()) {
            byte[] json = summary(ok, status);
            return new FanOutAnswer(FanOutAnswer.Kind.SUMMARY, ok, status, chosen, json, json.length,
                    SUMMARY_CONTENT_TYPE, servedBy());
        }
        if (chosen.error == null && chosen.headers != null) {
            return new FanOutAnswer(FanOutAnswer.Kind.RESPONSE, ok, status, chosen, chosen.body, chosen.bodyLength, null,
                    servedBy());
        }
        byte[] b = ErrorAnswer.body(status);
        return new FanOutAnswer(FanOutAnswer.Kind.ERROR, ok, status, chosen, b, b.length, ErrorAnswer.CONTENT_TYPE,
                servedBy());
    }

    private byte[] summary(boolean ok, int status) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("status", status);
            g.writeBooleanField("ok", ok);
            g.writeStringField("aggregation", spec.aggregation().name().toLowerCase(Locale.ROOT));
            g.writeArrayFieldStart("results");
            for (Leg l : legs) {
                g.writeStartObject();
                g.writeStringField("endpoint", l.endpoint.id());
                if (!l.active()) {
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
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return out.toByteArray();
    }

    // =====================================================================================
    // values
    // =====================================================================================

    /**
     * One endpoint of the fan-out: skipped, or active with its {@link Selection}, and what its
     * answer was. The engine fills the response as it arrives; the aggregator reads it once the
     * leg ended.
     */
    public static final class Leg {
        private final int index;
        private final Endpoint endpoint;
        private final Selection selection;
        private final FanOut spec;
        private final Ticker ticker;
        private final long sentNanos;
        private long headerNanos = -1;
        private boolean selectionCompleted;
        // the response, written by the engine's reader of this leg
        private int status;
        private String version;
        private List<Map.Entry<String, String>> headers;
        private byte[] body = new byte[0];
        private int bodyLength;
        private boolean truncated;
        // the end, written by the aggregator
        private boolean done;
        private boolean success;
        private int resultStatus;
        private String error;

        private Leg(int index, Endpoint endpoint, Selection selection, FanOut spec, Ticker ticker, long nanos) {
            this.index = index;
            this.endpoint = endpoint;
            this.selection = selection;
            this.spec = spec;
            this.ticker = ticker;
            this.sentNanos = nanos;
        }

        /** The leg's place in {@link #legs()} (configuration order). */
        public int index() {
            return index;
        }

        public Endpoint endpoint() {
            return endpoint;
        }

        /** Whether the request is sent to this endpoint; false when it was skipped. */
        public boolean active() {
            return selection != null;
        }

        /** Whether the leg has ended (its answer or failure was reported). */
        public boolean done() {
            return done;
        }

        /**
         * The final response head of this leg arrived (not a 1xx).
         *
         * @param version the response's protocol version ({@code HTTP/1.1}), or null
         * @param fields  the response's header fields in order (copied)
         */
        public void head(int status, String version, Iterable<? extends Map.Entry<String, String>> fields) {
            this.headerNanos = ticker.nanos() - sentNanos;
            this.status = status;
            this.version = version;
            List<Map.Entry<String, String>> copy = new ArrayList<>();
            for (Map.Entry<String, String> f : fields) {
                copy.add(new AbstractMap.SimpleImmutableEntry<>(f.getKey(), f.getValue()));
            }
            this.headers = copy;
        }

        /** The response's fields in order, or null when the leg has no response. */
        List<Map.Entry<String, String>> fields() {
            return headers;
        }

        /** The response's protocol version, or null. */
        String version() {
            return version;
        }

        /** The status of the response head, or 0 before it. */
        public int status() {
            return status;
        }

        /**
         * Keeps the bytes of a response body chunk (the buffer's remaining bytes are consumed):
         * with {@link FanOut#summary()} at most {@link FanOut#summaryBodyBytes()} (the rest is
         * dropped and the leg marked truncated); else up to {@link FanOut#maxResponseBytes()}.
         *
         * @return false when the body is over {@code maxResponseBytes}: the engine stops reading
         *         this leg and reports {@link FanOutAggregator#legTooLarge}
         */
        public boolean content(ByteBuffer chunk) {
            int n = chunk.remaining();
            int cap = spec.summary() ? spec.summaryBodyBytes() : spec.maxResponseBytes();
            if ((long) bodyLength + n > cap) {
                if (!spec.summary()) {
                    chunk.position(chunk.limit());
                    return false;
                }
                truncated = true;
                n = cap - bodyLength;
            }
            if (n > 0) {
                if (body.length < bodyLength + n) {
                    body = Arrays.copyOf(body, Math.max(bodyLength + n, Math.min(cap, Math.max(1024, body.length * 2))));
                }
                chunk.get(body, bodyLength, n);
                bodyLength += n;
            }
            chunk.position(chunk.limit());
            return true;
        }

        private void completeSelection(Outcome o, int st) {
            if (!selectionCompleted) {
                selectionCompleted = true;
                long latency = headerNanos >= 0 ? headerNanos : ticker.nanos() - sentNanos;
                selection.complete(o, st, latency);
            }
        }

        @Override
        public String toString() {
            return "Leg[" + endpoint.id() + (active() ? done ? ", " + resultStatus : ", running" : ", skipped") + "]";
        }
    }
}

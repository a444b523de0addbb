package io.lbkit.proxy.engine;

import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The client's answer to a broadcast request, decided by the {@link FanOutAggregator} call that
 * returned it: its status, fields ({@link #writeHeaders}) and body. Immutable once returned.
 */
public final class FanOutAnswer {

    /** What the answer's body is. */
    public enum Kind {
        /** The chosen leg's response: its status, fields and body. */
        RESPONSE,
        /** The JSON summary of every leg ({@link FanOut#summary()}). */
        SUMMARY,
        /** The proxy's own error answer: the chosen leg ended without a response. */
        ERROR
    }

    private final Kind kind;
    private final boolean ok;
    private final int status;
    private final FanOutAggregator.Leg chosen;
    private final byte[] body;
    private final int bodyLength;
    private final String contentType;
    private final String servedBy;

    FanOutAnswer(Kind kind, boolean ok, int status, FanOutAggregator.Leg chosen, byte[] body, int bodyLength,
                 String contentType, String servedBy) {
        this.kind = kind;
        this.ok = ok;
        this.status = status;
        this.chosen = chosen;
        this.body = body;
        this.bodyLength = bodyLength;
        this.contentType = contentType;
        this.servedBy = servedBy;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether the aggregation succeeded. */
    public boolean ok() {
        return ok;
    }

    /** The client response's status. */
    public int status() {
        return status;
    }

    /** The leg that decided: the chosen response, or the deciding failure. */
    public FanOutAggregator.Leg chosen() {
        return chosen;
    }

    /** The body is {@code body()[0, bodyLength())}; not to be changed. */
    public byte[] body() {
        return body;
    }

    public int bodyLength() {
        return bodyLength;
    }

    /** The chosen leg's fields as the backend sent them (for {@link ForwardedSession#save}); none for the other kinds. */
    public ResponseFields chosenFields() {
        return kind == Kind.RESPONSE ? ResponseFields.of(chosen.fields()) : action -> { };
    }

    /**
     * Writes the client response's fields: for {@link Kind#RESPONSE} the chosen leg's fields
     * that {@link ResponseHeaderRules#copied} lets through and the {@code Via}; for the others
     * the {@code Content-Type}; then the served-by header listing every endpoint the request
     * was sent to. {@code Content-Length} is the engine's, from {@link #bodyLength()}.
     *
     * @param copyDate whether the backend's {@code Date} is copied (false where the server
     *                 writes its own)
     */
    public void writeHeaders(ProxyConfig config, boolean copyDate, HeaderSink out) {
        if (kind == Kind.RESPONSE) {
            List<String> connection = null;
            for (Map.Entry<String, String> f : chosen.fields()) {
                if (f.getKey().equalsIgnoreCase("connection")) {
                    if (connection == null) {
                        connection = new ArrayList<>(1);
                    }
                    connection.add(f.getValue());
                }
            }
            Set<String> tokens = Headers.connectionTokens(connection == null ? List.of() : connection);
            List<String> sessionNames = config.sessionForwarding() == null ? List.of()
                    : SessionForwarder.extraNames(config.sessionForwarding()); // never to the client
            List<String> vias = null;
            for (Map.Entry<String, String> f : chosen.fields()) {
                String name = f.getKey();
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("via")) {
                    if (vias == null) {
                        vias = new ArrayList<>(1);
                    }
                    vias.add(f.getValue());
                } else if (ResponseHeaderRules.copied(name, lower, tokens) && (copyDate || !lower.equals("date"))
                        && (sessionNames.isEmpty() || !SessionForwarder.isExtraName(sessionNames, name))) {
                    out.add(name, f.getValue());
                }
            }
            String via = ResponseHeaderRules.via(config, vias, chosen.version());
            if (via != null) {
                out.set("Via", via);
            }
        } else {
            out.set("Content-Type", contentType);
        }
        if (config.servedByHeader() != null) {
            out.set(config.servedByHeader(), servedBy);
        }
    }

    @Override
    public String toString() {
        return "FanOutAnswer[" + kind + " " + status + (ok ? " ok" : " failed") + " by " + chosen.endpoint().id() + "]";
    }
}

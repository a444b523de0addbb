package io.lbkit.proxy.engine;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.Route;

/**
 * The endpoint of a targeted route ({@link Route#target()}): a request value names it, by id or
 * by a metadata value, and the request goes to that endpoint or to none.
 *
 * <pre>{@code
 * Targets.Choice c = Targets.choose(route, request, pathAndQuery, formText);
 * if (c.endpointId() == null) { answer(c.status()); return; }   // 400 no value, 404 no such endpoint
 * pick.preferred(c.endpointId());
 * Selection s = Targets.strict(upstream.pick(pick), c.endpointId()); // never another endpoint
 * }</pre>
 */
public final class Targets {

    private Targets() {
    }

    /**
     * The endpoint a targeted request names, or why there is none.
     *
     * @param endpointId the id of the named endpoint; null when refused
     * @param status     0 when found; 400 when the request carries no value, 404 when the value
     *                   names no endpoint
     * @param reason     a fixed text for the log line; null when found
     */
    public record Choice(String endpointId, int status, String reason) {
    }

    private static final Choice NO_VALUE = new Choice(null, 400, "no target value");
    private static final Choice NO_ENDPOINT = new Choice(null, 404, "the target names no endpoint");

    /**
     * Reads {@code route}'s target value from the request and finds the endpoint it names.
     *
     * @param pathAndQuery the decoded path and query (a {@code uri} target)
     * @param formText     the buffered form body as ISO-8859-1 text when the route reads form
     *                     fields and the body is a form, else null
     */
    public static Choice choose(Route route, ClientRequest req, String pathAndQuery, String formText) {
        return choose(route, route.upstream(), req, pathAndQuery, formText);
    }

    /**
     * {@link #choose(Route, ClientRequest, String, String)} among the endpoints of
     * {@code upstream}: the one the exchange took when it began (the route's may have been
     * switched since, {@link Route#switchUpstream}).
     */
    public static Choice choose(Route route, Upstream upstream, ClientRequest req, String pathAndQuery,
                                String formText) {
        String v = RequestValues.targetText(route.target(), req, pathAndQuery, formText);
        if (v == null) {
            return NO_VALUE;
        }
        String key = route.targetMetadata();
        if (key == null) {
            return upstream.endpoint(v).isPresent() ? new Choice(v, 0, null) : NO_ENDPOINT;
        }
        for (Endpoint e : upstream.endpoints()) {
            if (v.equals(e.metadata().get(key))) {
                return new Choice(e.id(), 0, null);
            }
        }
        return NO_ENDPOINT;
    }

    /**
     * The pick {@code s} if it is the target, else a "none available" selection (a targeted
     * request never goes to another endpoint; a pick of another one is completed as cancelled, so
     * that endpoint is not charged).
     */
    public static Selection strict(Selection s, String targetId) {
        if (s.found() && !targetId.equals(s.endpoint().id())) {
            s.complete(Outcome.CANCELLED, 0, 0);
            return UNAVAILABLE;
        }
        return s;
    }

    private static final Selection UNAVAILABLE = new Selection() {
        @Override public boolean found() { return false; }
        @Override public Endpoint endpoint() { throw new IllegalStateException("the target endpoint is unavailable"); }
        @Override public NoEndpointReason reason() { return NoEndpointReason.NONE_AVAILABLE; }
        @Override public void complete(Outcome outcome, int status, long latencyNanos) { }
        @Override public String toString() { return "no endpoint (target unavailable)"; }
    };
}

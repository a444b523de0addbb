package io.lbkit.netty;

import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.RequestValues;
import io.lbkit.proxy.engine.Targets;
import io.netty.handler.codec.http.HttpHeaderValues;

/**
 * The steps of an {@link Exchange} on the client request before any attempt, each applying the
 * transport-neutral rules to the exchange's request: the route's limits, what the pick prefers,
 * the backend request's header fields, the target endpoint. Static, on the exchange's loop: no
 * object per request.
 */
final class ClientRequestSteps {

    private ClientRequestSteps() {
    }

    /** The route's rate and connection limits and access rules; a refusal is logged (rate-limited) and the caller answers. */
    static Limits.Permit admit(Exchange x) {
        Limits.Permit permit = Limits.admit(x.config, x.route, x.origin, x.view);
        if (permit.decided() == null) { // else a shared limit decides: logged then, on the loop
            logRefusal(x, permit);
        }
        return permit;
    }

    /** Logs a refusal (rate-limited); on the exchange's loop. */
    static void logRefusal(Exchange x, Limits.Permit permit) {
        if (permit.refused()) {
            if (x.rec != null) {
                x.rec.refused(permit.reason(), permit.status());
            }
            long skipped = x.engine.repeats(permit.reason()).admit();
            if (skipped >= 0) {
                Exchange.log.warn("proxy {} {} route={}: {} ({}){}", x.req.method(), x.view.path(), x.route.name(),
                        permit.status(), permit.reason(), Repeats.note(skipped));
            }
        }
    }

    /** What the pick prefers: the client's address, the route's hash key, the endpoint of the sticky cookie. */
    static void pickPreferences(Exchange x) {
        if (x.origin.peer() != null) {
            x.pick.clientAddress(x.origin.peer().getAddress());
        }
        if (x.route.hashKey() != null) {
            // the URI as the servlet engine hashes it: the target's bytes read as UTF-8
            RequestValues.applyHashKey(x.route.hashKey(), x.pick, x.view, NettyClientRequest.utf8(x.target),
                    new RequestValues.Slice());
        }
        if (x.sticky != null) {
            String bound = x.sticky.decode(RequestValues.cookie(x.view, x.sticky.settings().name()));
            if (bound != null) {
                x.pick.preferred(bound);
            }
        }
    }

    /** The backend request's header fields, the same for every attempt but Host (set per attempt). */
    static HeadWriter backendHeaders(Exchange x) {
        HeadWriter forward = x.conn.forwardFields.fields(); // the connection's: one exchange at a time
        x.engine.requestRules.apply(x.view, x.origin, x.chunkedBody, forward);
        if (x.declaredLength >= 0) {
            forward.set(Fields.CONTENT_LENGTH, Long.toString(x.declaredLength));
        } else if (x.chunkedBody) {
            forward.set(Fields.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return forward;
    }

    /** The request id: a trusted peer's, or a new one, set on the backend request and kept for the access log. */
    static void requestId(Exchange x) {
        String id = io.lbkit.proxy.engine.RequestIds.of(x.config, x.view, x.origin);
        if (id != null) {
            x.forward.set(x.config.requestIdHeader(), id);
            if (x.rec != null) {
                x.rec.requestId(id);
            }
        }
    }

    /**
     * The endpoint a targeted request names (the form body, if any, read whole already); null when
     * there is none, then the caller answers {@code choice.status()}.
     */
    static Targets.Choice target(Exchange x) {
        Targets.Choice c = Targets.choose(x.route, x.upstream, x.view, NettyClientRequest.utf8(x.target), x.body.formText());
        if (c.endpointId() == null) {
            Exchange.log.warn("proxy {} {} route={}: {} ({}) in {}", x.req.method(), x.view.path(), x.route.name(),
                    c.reason(), x.route.target(), x.upstream.name());
        }
        return c;
    }
}

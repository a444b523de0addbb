package io.lbkit.proxy.engine;

import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.Decision;
import io.lbkit.core.limit.RateLimitChain;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.ValueMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A route's request limits applied to one request: the concurrency limit (nginx
 * {@code limit_conn}) and the rate limit (nginx {@code limit_req}, with its {@code burst} and
 * {@code delay}) keyed by the client's address as the connection reports it (the peer;
 * forwarding headers are not believed for the key), then the keyed connection limits
 * ({@code ConnLimit}), the keyed rate limits ({@code RateLimit}, local, then shared ones), and the
 * access rules.
 *
 * <p>An engine asks once, after admission and before the endpoint choice, and acts on the answer:
 *
 * <pre>{@code
 * Limits.Permit permit = Limits.admit(config, route, origin, request);
 * if (permit.decided() != null) {           // a shared limit: its store decides, asynchronously
 *     permit.decided().whenComplete((p, x) -> onOwnThread(() -> act(p))); // then as below
 * } else if (permit.refused()) {
 *     answer(permit.status());              // 503 by default, or the limiter's configured status
 * } else if (permit.delayMillis() > 0) {
 *     schedule(permit.delayMillis(), this::proceed); // nginx holds the request; never a blocked thread
 * } else {
 *     proceed();
 * }
 * ...
 * permit.release();                         // when the exchange ends, however it ends
 * }</pre>
 *
 * <p>The concurrency limit is taken first; a request the rate limit then refuses gives it back at
 * once. An admitted request holds its concurrency slot while it is delayed and until
 * {@link Permit#release()}. Release is idempotent: the first call gives the slot back, later
 * calls do nothing, from any thread.
 */
public final class Limits {

    /** The log text of a concurrency refusal. */
    public static final String TOO_MANY_CONCURRENT = "too many concurrent requests";

    /** The log text of a rate refusal. */
    public static final String RATE_EXCEEDED = "request rate limit exceeded";

    private static final Logger log = LoggerFactory.getLogger(Limits.class);

    /** The log text of a shared limit whose store failed to decide. */
    public static final String RATE_UNCHECKED = "request rate limit could not be checked";

    private static final Permit FREE = new Permit(null, null, 0, 0, null);

    private static final Permit DENIED = new Permit(null, null, 0, AccessRules.STATUS, AccessRules.FORBIDDEN);

    private Limits() {
    }

    /**
     * The key a request is limited by: the peer address in its standard text form (IPv6 without
     * brackets or zone), or the engine's text when that is not an address literal. The text is the
     * one {@link ClientOrigin} already holds: no allocation per request.
     */
    public static String key(ClientOrigin origin) {
        return origin.peerText();
    }

    /**
     * Refuses a geo-blocked request ({@link AccessRules#geoBlocked}) first, then applies
     * {@code route}'s limits to one request, then its {@code allow}/{@code deny} rules
     * ({@link AccessRules}) in nginx's phase order (limits are preaccess, access rules come after):
     * a request the limits refuse gets their status even from a denied client, and a denied
     * request counts against the rate. A denied request is refused with 403 at once (nginx would
     * first hold it for its limit_req delay) and gives back its concurrency slot.
     */
    public static Permit admit(ProxyConfig config, Route route, ClientOrigin origin, ClientRequest req) {
        if (AccessRules.geoBlocked(config, route, origin, req)) {
            return DENIED; // nginx's rewrite-phase "if (...) { return 403; }", before the limits
        }
        Permit p = route.rateLimits().isEmpty() && !route.limitDryRun() && route.connLimits().length == 0
                ? admit(route, origin) : admitChain(config, route, origin, req);
        if (p.refused()) {
            return p;
        }
        boolean allowed = AccessRules.allowed(config, route, origin, req);
        if (route.sharedRateLimits().length > 0) {
            return SharedLimits.decide(config, route, origin, req, p, allowed); // after the local ones
        }
        if (allowed) {
            return p;
        }
        p.release();
        return DENIED;
    }

    /**
     * The concurrency limit (by peer), the keyed connection limits ({@link ConnSlots}), then every
     * local rate limit of the route decided as one chain ({@link RateLimitChain}).
     */
    private static Permit admitChain(ProxyConfig config, Route route, ClientOrigin origin, ClientRequest req) {
        ConcurrencyLimiter cl = route.concurrencyLimiter();
        String peerKey = key(origin);
        if (cl != null && !cl.tryAcquire(peerKey)) {
            return new Permit(null, null, 0, cl.rejectStatus(), TOO_MANY_CONCURRENT);
        }
        RequestValues.Slice slice = new RequestValues.Slice();
        ConnSlots slots = null;
        if (route.connLimits().length > 0) {
            slots = ConnSlots.take(config, route, origin, req, slice);
            if (slots.refused()) {
                if (cl != null) {
                    cl.release(peerKey);
                }
                return new Permit(null, null, 0, slots.status(), TOO_MANY_CONCURRENT);
            }
        }
        RateLimiter[] chain = route.rateLimiterChain();
        String[] keys = new String[chain.length];
        int i = 0;
        if (route.rateLimiter() != null) {
            keys[i++] = peerKey;
        }
        for (RateLimit l : route.rateLimits()) {
            if (l.shared() == null) { // the shared ones are decided by their store, after these
                keys[i++] = keyOf(config, l.key(), l.map(), origin, req, slice);
            }
        }
        RateLimitChain.Outcome o = RateLimitChain.acquire(chain, keys);
        long delay = o.delayMillis();
        if (route.limitDryRun() && (o.refused() || delay > 0)) {
            log.debug("limit_req dry run, route {}: would {} (excess {})", route.name(),
                    o.refused() ? "refuse with " + chain[o.refusedBy()].rejectStatus() : "delay " + delay + " ms",
                    o.excess());
            return cl == null && slots == null ? FREE : new Permit(cl, peerKey, slots, 0, 0, null, null);
        }
        if (o.refused()) {
            if (cl != null) {
                cl.release(peerKey);
            }
            if (slots != null) {
                slots.release();
            }
            return new Permit(null, null, 0, chain[o.refusedBy()].rejectStatus(), RATE_EXCEEDED);
        }
        return cl == null && slots == null && delay == 0 ? FREE
                : new Permit(cl, peerKey, slots, delay, 0, null, null);
    }

    /** The key of one keyed limit: the real client address, a request value as received, or a map's result. */
    static String keyOf(ProxyConfig config, RequestValue key, ValueMap map, ClientOrigin origin, ClientRequest req,
                        RequestValues.Slice slice) {
        if (map != null) {
            return map.lookup(RequestText.of(map.source(), req, slice));
        }
        if (key.source() == RequestValue.Source.CLIENT_IP) {
            byte[] a = RealClientAddress.of(origin, req, config.trustedProxies());
            if (a == null) {
                return origin.peerText();
            }
            if (!origin.trustedPeer()) {
                return origin.peerText(); // the real address is the peer's
            }
            try {
                return Headers.xffAddress(java.net.InetAddress.getByAddress(a));
            } catch (java.net.UnknownHostException e) {
                return origin.peerText(); // not for 4 or 16 bytes
            }
        }
        CharSequence v = RequestText.of(key, req, slice);
        return v == null ? null : v.toString();
    }

    /**
     * Applies {@code route}'s limits to one request from {@code origin}. A route without limits
     * gets a shared permit (no allocation) whose release does nothing.
     *
     * @return a permit to go now, to go after {@link Permit#delayMillis()}, or a refusal
     *         ({@link Permit#refused()}) that holds nothing
     */
    public static Permit admit(Route route, ClientOrigin origin) {
        ConcurrencyLimiter cl = route.concurrencyLimiter();
        RateLimiter rl = route.rateLimiter();
        if (cl == null && rl == null) {
            return FREE;
        }
        String key = key(origin);
        if (cl != null && !cl.tryAcquire(key)) {
            return new Permit(null, null, 0, cl.rejectStatus(), TOO_MANY_CONCURRENT);
        }
        long delay = 0;
        if (rl != null) {
            Decision d = rl.tryAcquire(key);
            if (d.isRejected()) {
                if (cl != null) {
                    cl.release(key);
                }
                return new Permit(null, null, 0, d.status(), RATE_EXCEEDED);
            }
            delay = d.delayMillis();
        }
        return cl == null && delay == 0 ? FREE : new Permit(cl, key, delay, 0, null);
    }

    /**
     * What {@link #admit} decided for one request. An admitted permit is released exactly once
     * however often {@link #release()} is called.
     */
    public static final class Permit {

        private static final VarHandle RELEASED;

        static {
            try {
                RELEASED = MethodHandles.lookup().findVarHandle(Permit.class, "released", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final ConcurrencyLimiter held;
        private final String key;
        private final ConnSlots slots;                   // the keyed connection limits' slots, or null
        private final CompletableFuture<Permit> decided; // a shared limit's decision, or null
        // final but for a pending permit, whose decision sets them once before completing decided
        private long delayMillis;
        private int status;
        private String reason;
        @SuppressWarnings("unused") // through RELEASED
        private volatile int released;

        private Permit(ConcurrencyLimiter held, String key, long delayMillis, int status, String reason) {
            this(held, key, null, delayMillis, status, reason, null);
        }

        private Permit(ConcurrencyLimiter held, String key, ConnSlots slots, long delayMillis, int status,
                       String reason, CompletableFuture<Permit> decided) {
            this.held = held;
            this.key = key;
            this.slots = slots;
            this.delayMillis = delayMillis;
            this.status = status;
            this.reason = reason;
            this.decided = decided;
        }

        /** A permit that holds what {@code local} holds and waits for a shared limit's decision. */
        static Permit pending(Permit local) {
            return new Permit(local.held, local.key, local.slots, local.delayMillis, 0, null, new CompletableFuture<>());
        }

        /**
         * Ends a pending permit: refused with {@code status} (0: admitted, after the longer of its
         * delay and {@code delayMillis}); a refusal gives its concurrency slot back.
         */
        void decide(int status, String reason, long delayMillis) {
            if (status != 0) {
                this.status = status;
                this.reason = reason;
                this.delayMillis = 0;
                release();
            } else {
                this.delayMillis = Math.max(this.delayMillis, delayMillis);
            }
            decided.complete(this); // publishes the fields to whoever reads them after the stage
        }

        /**
         * Null when the permit was decided at once (the common case: every limit of the route is
         * kept in this process). Otherwise the route has a shared limit ({@code RateLimit.shared})
         * whose store decides: {@link #refused()}, {@link #status()} and {@link #delayMillis()}
         * hold only once this stage completes (with this permit, on any thread, never
         * exceptionally); the engine goes on from there on its own thread or loop. Until then the
         * permit holds its concurrency slot, and {@link #release()} gives it back as always.
         */
        public CompletionStage<Permit> decided() {
            return decided;
        }

        /** True when the request must be answered with {@link #status()} and not proxied. */
        public boolean refused() {
            return status != 0;
        }

        /** The status of a refusal (the limiter's configured one: 503 by default, e.g. 429); 0 when admitted. */
        public int status() {
            return status;
        }

        /** A fixed text for the log line of a refusal; null when admitted. */
        public String reason() {
            return reason;
        }

        /**
         * How long to hold an admitted request before proxying it (nginx {@code limit_req}'s delay),
         * in milliseconds; 0 to go now.
         */
        public long delayMillis() {
            return delayMillis;
        }

        /**
         * Gives back what the request holds (its concurrency slot). Call it when the exchange
         * ends, whichever way; the first call releases, later ones do nothing. A refusal holds
         * nothing.
         */
        public void release() {
            if ((held != null || slots != null) && RELEASED.compareAndSet(this, 0, 1)) {
                if (held != null) {
                    held.release(key);
                }
                if (slots != null) {
                    slots.release();
                }
            }
        }

        @Override
        public String toString() {
            if (decided != null && !decided.isDone()) {
                return "Permit[pending]";
            }
            return refused() ? "Permit[refused " + status + "]"
                    : delayMillis > 0 ? "Permit[after " + delayMillis + " ms]" : "Permit[now]";
        }
    }
}

package io.lbkit.netty;

import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCodec;
import io.lbkit.proxy.engine.RequestHeaderRules;
import io.lbkit.proxy.engine.SessionForwarder;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every exchange of one server shares: the configuration and its rules, and each event
 * loop's backend pool. Read-only after construction but for the stop flag, the count of running
 * exchanges and {@link #reconfigure} (a reload), which publishes a new configuration and its rules
 * for exchanges that start after it; running exchanges keep the route and settings they began with.
 */
final class Engine {

    volatile ProxyConfig config;
    volatile RequestHeaderRules requestRules;
    /** The session forwarding rule, or null when the proxy forwards no sessions. */
    volatile SessionForwarder sessions;
    private volatile Map<Route, StickyCodec> sticky;
    private final Map<EventExecutor, BackendPool> pools = new IdentityHashMap<>();
    private final Map<String, Repeats> repeats = new ConcurrentHashMap<>();
    /** Exchanges running on all loops (a striped counter: no shared cache line on the request path). */
    final LongAdder activeExchanges = new LongAdder();
    /** The stub_status counters of all client connections. */
    final io.lbkit.proxy.engine.StubStatus status = new io.lbkit.proxy.engine.StubStatus();
    /** Each loop's own stub_status counters (the page sums them). */
    private final java.util.Map<EventExecutor, io.lbkit.proxy.engine.StubCounters> counters =
            new java.util.IdentityHashMap<>();
    volatile boolean stopping;

    /** The session APIs by their exact path, answered ahead of the routes (set once, before the listener binds). */
    Map<String, io.lbkit.proxy.engine.SessionApiHandler> sessionApis = Map.of();

    /** Client connection timeouts and the requests per connection (see NettyProxyServer.Builder). */
    final ClientLimits client;

    /** Looks up endpoint host names off the loops; closed when the server stops. */
    final EndpointResolver resolver;

    Engine(ProxyConfig config, Transport transport, EventLoopGroup workers, ClientLimits client,
           EndpointResolver.Lookup lookup) {
        this.config = config;
        this.resolver = new EndpointResolver(lookup, config.connectTimeout());
        this.client = client;
        this.requestRules = new RequestHeaderRules(config);
        this.sessions = SessionForwarder.of(config);
        this.sticky = stickyCodecs(config);
        int loops = 0;
        for (EventExecutor ignored : workers) {
            loops++;
        }
        // each loop gets its share of the per-endpoint cap, so all loops together keep to it
        int perLoop = Math.max(1, (config.maxConnectionsPerEndpoint() + loops - 1) / loops);
        for (EventExecutor e : workers) {
            counters.put(e, status.owned());
            pools.put(e, new BackendPool((EventLoop) e, transport, (int) Math.min(Integer.MAX_VALUE,
                    config.connectTimeout().toMillis()), config.bufferSize(), perLoop,
                    config.keepAliveTimeout().toNanos(), resolver));
        }
    }

    /** The stub_status counters of {@code loop}: only that loop's thread may write them. */
    io.lbkit.proxy.engine.StubCounters counters(EventLoop loop) {
        io.lbkit.proxy.engine.StubCounters c = counters.get(loop);
        return c != null ? c : status; // a loop not of this engine's group: the shared counters
    }

    /** The backend pool of {@code loop}: only that loop's thread may use it. */
    BackendPool pool(EventLoop loop) {
        return pools.get(loop);
    }

    StickyCodec sticky(Route route) {
        StickyCodec c = sticky.get(route);
        if (c == null && route.sticky() != null) {
            // a route of the configuration before a reload that happened while its request began
            c = new StickyCodec(route.sticky(), route);
        }
        return c;
    }

    private static Map<Route, StickyCodec> stickyCodecs(ProxyConfig config) {
        Map<Route, StickyCodec> out = new IdentityHashMap<>();
        for (Route r : config.routes()) {
            if (r.sticky() != null) {
                out.put(r, new StickyCodec(r.sticky(), r));
            }
        }
        return out;
    }

    /**
     * Publishes {@code next} for exchanges that start from now on (routes, header rules, limits,
     * sticky cookies, session forwarding). Its backend pool settings must equal the current ones:
     * the pools were sized for them.
     *
     * @throws IllegalArgumentException naming the first pool setting that differs
     */
    synchronized void reconfigure(ProxyConfig next) {
        ProxyConfig now = config;
        same("connectTimeout", now.connectTimeout(), next.connectTimeout());
        same("keepAliveTimeout", now.keepAliveTimeout(), next.keepAliveTimeout());
        same("maxConnectionsPerEndpoint", now.maxConnectionsPerEndpoint(), next.maxConnectionsPerEndpoint());
        same("bufferSize", now.bufferSize(), next.bufferSize());
        same("maxRequestHeaderBytes", now.maxRequestHeaderBytes(), next.maxRequestHeaderBytes());
        RequestHeaderRules rules = new RequestHeaderRules(next);
        SessionForwarder forwarder = SessionForwarder.of(next);
        Map<Route, StickyCodec> codecs = stickyCodecs(next);
        sticky = codecs;
        requestRules = rules;
        sessions = forwarder;
        config = next; // last: an exchange that sees the new routes finds their codecs and rules
    }

    private static void same(String field, Object now, Object next) {
        if (!now.equals(next)) {
            throw new IllegalArgumentException(field + " cannot change while the server runs (the backend pools "
                    + "were built for " + now + "), got " + next + "; restart to change it");
        }
    }

    /** The first route that matches, or null. */
    Route route(NettyClientRequest view) {
        for (Route r : config.routes()) {
            if (r.matches(view)) {
                return r;
            }
        }
        return null;
    }

    /** The collapsing of a log line that repeats with every request while its cause lasts. */
    Repeats repeats(String kind) {
        return repeats.computeIfAbsent(kind, k -> new Repeats(java.time.Duration.ofSeconds(10)));
    }
}

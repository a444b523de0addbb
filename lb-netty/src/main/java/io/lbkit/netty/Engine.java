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
 * What every exchange of one server shares: the configuration and its rules, built once, and
 * each event loop's backend pool. Read-only after construction but for the stop flag and the
 * count of running exchanges.
 */
final class Engine {

    final ProxyConfig config;
    final RequestHeaderRules requestRules;
    /** The session forwarding rule, or null when the proxy forwards no sessions. */
    final SessionForwarder sessions;
    private final Map<Route, StickyCodec> sticky = new IdentityHashMap<>();
    private final Map<EventExecutor, BackendPool> pools = new IdentityHashMap<>();
    private final Map<String, Repeats> repeats = new ConcurrentHashMap<>();
    /** Exchanges running on all loops (a striped counter: no shared cache line on the request path). */
    final LongAdder activeExchanges = new LongAdder();
    /** The stub_status counters of all client connections. */
    final io.lbkit.proxy.engine.StubStatus status = new io.lbkit.proxy.engine.StubStatus();
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
        for (Route r : config.routes()) {
            if (r.sticky() != null) {
                sticky.put(r, new StickyCodec(r.sticky(), r.upstream()));
            }
        }
        int loops = 0;
        for (EventExecutor ignored : workers) {
            loops++;
        }
        // each loop gets its share of the per-endpoint cap, so all loops together keep to it
        int perLoop = Math.max(1, (config.maxConnectionsPerEndpoint() + loops - 1) / loops);
        for (EventExecutor e : workers) {
            pools.put(e, new BackendPool((EventLoop) e, transport, (int) Math.min(Integer.MAX_VALUE,
                    config.connectTimeout().toMillis()), config.bufferSize(), perLoop,
                    config.keepAliveTimeout().toNanos(), resolver));
        }
    }

    /** The backend pool of {@code loop}: only that loop's thread may use it. */
    BackendPool pool(EventLoop loop) {
        return pools.get(loop);
    }

    StickyCodec sticky(Route route) {
        return sticky.get(route);
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

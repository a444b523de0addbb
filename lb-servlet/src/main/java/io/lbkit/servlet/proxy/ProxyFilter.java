package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.RequestHeaderRules;
import io.lbkit.proxy.engine.SessionForwarder;
import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCodec;
import io.lbkit.proxy.engine.ClientRequest;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A servlet filter that makes the application a reverse proxy: requests matching one of the
 * configured {@link Route routes} are proxied to an endpoint of the route's
 * {@link io.lbkit.core.Upstream}; all other requests go down the filter chain.
 *
 * <pre>{@code
 * Upstream backend = Upstream.builder("backend")
 *         .endpoint(Endpoint.of("10.0.0.1", 8080)).endpoint(Endpoint.of("10.0.0.2", 8080))
 *         .build();
 * ProxyFilter proxy = new ProxyFilter(ProxyConfig.builder()
 *         .route(Route.builder("all", backend).build())
 *         .build());
 * servletContext.addFilter("proxy", proxy).addMappingForUrlPatterns(null, false, "/*");
 * // the registration must allow async: dynamic.setAsyncSupported(true)
 * }</pre>
 *
 * <p>Proxying is non-blocking from end to end: the filter starts async processing, reads the
 * request body with a {@code ReadListener} only as fast as the backend takes it, and writes the
 * response with a {@code WriteListener}, demanding more from the backend only once the client
 * took the previous chunk. No container thread waits on a backend. The upstream side is one
 * pooled, keep-alive Jetty {@link HttpClient} per filter, started in {@link #init} and stopped in
 * {@link #destroy}; it never follows redirects, never decodes content, keeps no cookies and adds
 * no User-Agent.
 *
 * <p>See {@code docs/proxy.md} for every rule (headers, retries, statuses, timeouts, sticky
 * cookies) and its nginx equivalent.
 */
public final class ProxyFilter implements Filter {

    private static final Logger log = LoggerFactory.getLogger(ProxyFilter.class);

    private final ProxyConfig config;
    private final RequestHeaderRules requestHeaderRules;
    private final Map<Route, StickyCodec> sticky = new IdentityHashMap<>();
    private volatile HttpClient client;
    private final SessionForwarder sessions; // null: no session forwarding
    /** The stub_status counters of this filter's exchanges. */
    final io.lbkit.proxy.engine.StubStatus status = new io.lbkit.proxy.engine.StubStatus();
    /** Repeated WARN lines collapsed per kind (a flood of bad requests, a store outage): one per 10 s. */
    private final java.util.concurrent.ConcurrentHashMap<String, Repeats> repeats =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A filter for {@code config}; the HTTP client starts in {@link #init} (or {@link #start}).
     *
     * @throws IllegalArgumentException when a route sets {@code limitRate} (not applied by this engine)
     */
    public ProxyFilter(ProxyConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.requestHeaderRules = new RequestHeaderRules(config);
        for (Route r : config.routes()) {
            if (r.limitRate() > 0) { // pacing a response needs a timer per write: the event-loop engine's
                throw new IllegalArgumentException("route '" + r.name() + "': limitRate is applied by the "
                        + "event-loop engine (lb-netty) only, got " + r.limitRate() + " bytes per second");
            }
            if (r.sticky() != null) {
                sticky.put(r, new StickyCodec(r.sticky(), r));
            }
        }
        this.sessions = SessionForwarder.of(config);
    }

    public ProxyConfig config() {
        return config;
    }

    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        try {
            start();
        } catch (Exception e) {
            throw new ServletException("cannot start the proxy HTTP client", e);
        }
    }

    /** Starts the HTTP client; {@link #init} calls it. Idempotent. */
    public synchronized void start() throws Exception {
        if (client != null) {
            return;
        }
        java.util.concurrent.Executor pool = config.executor();
        if (pool == null) {
            QueuedThreadPool own = new QueuedThreadPool();
            own.setName("lbkit-proxy-client");
            own.setDaemon(true);
            pool = own;
        }
        ClientConnector connector = new ClientConnector();
        connector.setExecutor(pool);
        connector.setConnectTimeout(config.connectTimeout());
        connector.setIdleTimeout(config.keepAliveTimeout());
        HttpClientTransportOverHTTP transport = new HttpClientTransportOverHTTP(connector);
        HttpClient c = new HttpClient(transport);
        c.setExecutor(pool);
        c.setUseInputDirectByteBuffers(false);        // heap chunks are written to the client without a copy
        c.setFollowRedirects(false);
        c.getContentDecoderFactories().clear();       // Content-Encoding passes through untouched
        c.getProtocolHandlers().clear();              // no redirects, auth or 100-continue handling
        c.setUserAgentField(null);
        c.setDefaultRequestContentType(null);         // a body without Content-Type is sent without one
        c.setHttpCookieStore(new HttpCookieStore.Empty());
        c.setConnectTimeout(config.connectTimeout().toMillis());
        c.setIdleTimeout(config.keepAliveTimeout().toMillis());
        c.setMaxConnectionsPerDestination(config.maxConnectionsPerEndpoint());
        c.setMaxRequestsQueuedPerDestination(Math.max(1024, config.maxConnectionsPerEndpoint() * 4));
        c.setRequestBufferSize(Math.max(4096, config.bufferSize()));
        c.setResponseBufferSize(Math.max(4096, config.bufferSize()));
        c.start();
        // HttpClient installs its default decoders (gzip) when it starts with none: without this,
        // every request would get "Accept-Encoding: gzip" and every gzip answer would be decoded
        c.getContentDecoderFactories().clear();
        client = c;
        if (config.meters() != null && metersWatch == null) {
            metersWatch = config.meters().watch(status); // requests in flight count as open connections
        }
    }

    private io.lbkit.proxy.ProxyMeters.Watch metersWatch; // or null

    /** True once {@link #stop} began: exchanges failing from now on are not the endpoints' fault. */
    boolean stopping() {
        return stopping;
    }

    private volatile boolean stopping;

    @Override
    public void destroy() {
        stop();
    }

    /**
     * Stops the HTTP client; in-flight exchanges fail (recorded as CANCELLED: the proxy stopped,
     * not the endpoint). {@link #destroy} calls it.
     */
    public synchronized void stop() {
        stopping = true;
        if (metersWatch != null) {
            metersWatch.close();
            metersWatch = null;
        }
        HttpClient c = client;
        client = null;
        if (c != null) {
            try {
                c.stop();
            } catch (Exception e) {
                log.warn("error stopping the proxy HTTP client", e);
            }
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest req) || !(response instanceof HttpServletResponse resp)) {
            chain.doFilter(request, response);
            return;
        }
        ServletClientRequest view = new ServletClientRequest(req);
        if (config.statusPath() != null && config.statusPath().equals(req.getRequestURI())) {
            ExchangeLog.passOn(this, view, resp, (rq, rs) -> StatusPage.answer(status, req, resp));
            return;
        }
        Route route = match(view);
        if (route == null) {
            ExchangeLog.passOn(this, view, resp, chain); // the application answers: logged and counted all the same
            return;
        }
        HttpClient c = client;
        if (c == null) {
            throw new ServletException("ProxyFilter is not started (init was not called)");
        }
        ProxyExchange x = new ProxyExchange(this, c, route, view, resp);
        try {
            x.start();
        } finally {
            if (x.async == null) {
                ExchangeLog.end(x); // answered at once: no async cycle will end it
            }
        }
    }

    private Route match(ClientRequest req) {
        List<Route> routes = config.routes();
        for (int i = 0; i < routes.size(); i++) {
            Route r = routes.get(i);
            if (r.matches(req)) {
                return r;
            }
        }
        return null;
    }

    StickyCodec sticky(Route route) {
        return sticky.get(route);
    }

    /** The request header rules of this proxy (one instance: it keeps the Forwarded obfuscation key). */
    RequestHeaderRules requestHeaderRules() {
        return requestHeaderRules;
    }

    /**
     * The collapser for WARN lines of one kind; {@code kind} comes from a fixed set of texts in
     * the code, so the map stays small.
     */
    Repeats repeats(String kind) {
        Repeats r = repeats.get(kind);
        return r != null ? r : repeats.computeIfAbsent(kind, k -> new Repeats(REPEAT_INTERVAL));
    }

    static final java.time.Duration REPEAT_INTERVAL = java.time.Duration.ofSeconds(10);

    /** The backend client, or null before the filter started (tests read its pools). */
    HttpClient backendClient() {
        return client;
    }

    /** The session forwarding rule, or null when the proxy forwards no sessions. */
    SessionForwarder sessions() {
        return sessions;
    }
}

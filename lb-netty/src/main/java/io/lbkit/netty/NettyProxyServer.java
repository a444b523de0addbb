package io.lbkit.netty;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionApi;
import io.lbkit.proxy.engine.SessionApiHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-loop engine: a reverse proxy on Netty that applies the same rules as the servlet
 * filter ({@link ProxyConfig}, routes, retries, header rules, sticky cookies, session forwarding:
 * the store's asynchronous calls, their completions handled on the exchange's loop), and serves
 * the session API ({@link Builder#sessionApi}) as the servlet engine's {@code SessionApiServlet} does.
 *
 * <p>One event loop per core ({@link Builder#workers}). A client connection lives on one loop for
 * its life, and the backend connections its requests use come from that loop's keep-alive pool
 * per endpoint: the request path has no thread hand-off and no lock (one exception: an endpoint
 * given by host name is looked up on the resolver threads when a new connection to it opens, see
 * {@code EndpointResolver}). Bodies stream both ways with back-pressure and are never gathered in
 * memory, except where a rule needs the whole body, bounded: a broadcast route's, and a targeted
 * route's form body.
 *
 * <pre>{@code
 * NettyProxyServer server = NettyProxyServer.builder(config).bind("0.0.0.0", 8080).build();
 * server.start();
 * ...
 * server.stop(Duration.ofSeconds(30));   // stop accepting, let running exchanges finish
 * }</pre>
 */
public final class NettyProxyServer {

    private static final Logger log = LoggerFactory.getLogger(NettyProxyServer.class);
    /** The longest request line accepted (nginx's {@code large_client_header_buffers} buffer: 8k); longer → 414. */
    static final int MAX_REQUEST_LINE = 8192;

    private final ProxyConfig config;
    private final String host;
    private final int requestedPort;
    private final int workers;
    private final ClientLimits clientLimits;
    private final int maxConnections;
    private ConnectionLimit connectionLimit;
    private final Map<String, SessionApiHandler> sessionApis;
    private final EndpointResolver.Lookup lookup;
    private Transport transport;
    private EventLoopGroup boss;
    private EventLoopGroup loops;
    private Engine engine;
    private io.lbkit.proxy.ProxyMeters.Watch metersWatch; // the meters' count of this engine's connections, or null
    private Channel listener;
    private ChannelGroup clients;

    private NettyProxyServer(Builder b) {
        this.config = b.config;
        this.host = b.host;
        this.requestedPort = b.port;
        this.workers = b.workers;
        this.clientLimits = new ClientLimits(b.clientHeaderTimeout.toNanos(), b.clientKeepAliveTimeout.toNanos(),
                b.keepAliveRequests);
        this.maxConnections = b.maxConnections;
        this.sessionApis = Map.copyOf(b.sessionApis);
        this.lookup = b.lookup;
    }

    /** A builder for a server that proxies per {@code config}. */
    public static Builder builder(ProxyConfig config) {
        return new Builder(config);
    }

    /**
     * Binds the listener and starts accepting. Logs the transport (epoll or NIO) and the number of
     * event loops.
     *
     * @throws IllegalStateException when already started, or the address cannot be bound
     */
    public synchronized void start() {
        if (listener != null) {
            throw new IllegalStateException("already started");
        }
        transport = Transport.best();
        boss = transport.newGroup(1, "lbkit-accept");
        loops = transport.newGroup(workers, "lbkit-loop");
        engine = new Engine(config, transport, loops, clientLimits, lookup);
        engine.sessionApis = sessionApis;
        if (config.meters() != null) {
            metersWatch = config.meters().watch(engine.status); // open client connections
        }
        clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        int headerLimit = config.maxRequestHeaderBytes();
        ServerBootstrap b = new ServerBootstrap().group(boss, loops).channel(transport.serverChannel)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.AUTO_READ, false) // each connection reads when its exchange asks
                .childOption(ChannelOption.TCP_NODELAY, true);
        if (maxConnections > 0) {
            connectionLimit = new ConnectionLimit(maxConnections);
            b.handler(connectionLimit);
        }
        b.childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        clients.add(ch);
                        // the parser's head limit is looser than the rules' (which count a block as the
                        // servlet engine does) so that Admission applies the exact one (431)
                        ClientConnection conn = new ClientConnection(engine);
                        // lbkit's own codec: heads parsed in place and written as bytes
                        ch.pipeline().addLast(conn.decoder(MAX_REQUEST_LINE, headerLimit + 1024), conn.encoder, conn);
                    }
                });
        try {
            listener = b.bind(host, requestedPort).syncUninterruptibly().channel();
        } catch (Exception e) { // the bind's IOException comes through as it is (epoll: a NativeIoException)
            shutdownGroups(Duration.ZERO);
            Throwable cause = e;
            if (addressInUse(e)) {
                // the JDK's type, as the NIO transport and servlet containers report it
                cause = new java.net.BindException("address already in use: " + host + ":" + requestedPort);
                cause.initCause(e);
            }
            throw new IllegalStateException("cannot listen on " + host + ":" + requestedPort + ": " + cause.getMessage(),
                    cause);
        }
        Throwable noEpoll = Transport.epollUnavailability();
        log.info("lbkit event-loop engine listening on {}:{}: {} event loops on {}{}", host, port(), workers,
                transport.name, noEpoll == null ? "" : " (epoll unavailable: " + noEpoll + ")");
    }

    /**
     * Swaps the proxy configuration for requests that start from now on (a reload): routes and
     * their upstreams, header rules, limits, sticky cookies, session forwarding. Running requests
     * finish with the configuration they began with; no connection closes. The listener, the event
     * loops and the backend pools stay: {@code connectTimeout}, {@code keepAliveTimeout},
     * {@code maxConnectionsPerEndpoint}, {@code bufferSize} and {@code maxRequestHeaderBytes} must
     * not change, nor the session API given to the builder.
     *
     * @throws IllegalStateException    when the server is not running
     * @throws IllegalArgumentException naming a setting that cannot change while it runs
     */
    public synchronized void reconfigure(ProxyConfig next) {
        Objects.requireNonNull(next, "next");
        Engine e = engine;
        if (e == null || listener == null) {
            throw new IllegalStateException("not started");
        }
        e.reconfigure(next);
    }

    /** Linux's EADDRINUSE (epoll, hence this engine's native transport, exists only there). */
    private static final int EADDRINUSE = 98;

    private static boolean addressInUse(Throwable e) {
        return e instanceof java.net.BindException
                || (e instanceof io.netty.channel.unix.Errors.NativeIoException n && Math.abs(n.expectedErr()) == EADDRINUSE);
    }

    /** The port the server listens on (the one chosen when it was bound to port 0). */
    public int port() {
        Channel l = listener;
        if (l == null) {
            throw new IllegalStateException("not started");
        }
        return ((InetSocketAddress) l.localAddress()).getPort();
    }

    /**
     * Stops gracefully: no new connections, idle kept-alive connections close, running exchanges
     * may finish (their connections close after the response) until {@code timeout} passes; then
     * everything still open is closed.
     */
    public synchronized void stop(Duration timeout) {
        if (listener == null) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        engine.stopping = true;
        listener.close().syncUninterruptibly();
        for (Channel c : clients) {
            ClientConnection cc = c.pipeline().get(ClientConnection.class);
            if (cc != null) {
                c.eventLoop().execute(cc::closeIfIdle);
            }
        }
        while (engine.activeExchanges.sum() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        long left = engine.activeExchanges.sum();
        if (left > 0) {
            log.warn("lbkit event-loop engine: {} exchanges still running after {}; closing them", left, timeout);
        }
        clients.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        shutdownGroups(Duration.ofSeconds(5));
        listener = null;
        if (metersWatch != null) {
            metersWatch.close();
            metersWatch = null;
        }
        log.info("lbkit event-loop engine stopped");
    }

    private void shutdownGroups(Duration wait) {
        boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        loops.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        boss.terminationFuture().awaitUninterruptibly(wait.toMillis());
        loops.terminationFuture().awaitUninterruptibly(wait.toMillis());
        engine.resolver.close();
    }

    /** Open client connections (those the limit counts, when there is one); for tests. */
    int openClientConnections() {
        ConnectionLimit l = connectionLimit;
        return l != null ? l.open() : clients.size();
    }

    /** Idle kept-alive backend connections over all loops (each loop counts its own); for tests. */
    int idleBackendConnections() {
        int n = 0;
        for (io.netty.util.concurrent.EventExecutor e : loops) {
            BackendPool p = engine.pool((io.netty.channel.EventLoop) e);
            n += e.submit(p::idleConnections).syncUninterruptibly().getNow();
        }
        return n;
    }

    /** Settings of the server beside the proxy configuration. */
    public static final class Builder {
        private final ProxyConfig config;
        private String host = "0.0.0.0";
        private int port = 8080;
        private int workers = Runtime.getRuntime().availableProcessors();
        private Duration clientHeaderTimeout = Duration.ofSeconds(60);
        private Duration clientKeepAliveTimeout = Duration.ofSeconds(75);
        private int keepAliveRequests = 1000;
        private int maxConnections;
        private final Map<String, SessionApiHandler> sessionApis = new LinkedHashMap<>();
        private EndpointResolver.Lookup lookup = java.net.InetAddress::getAllByName;

        private Builder(ProxyConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /** The listening address (default {@code 0.0.0.0:8080}; port 0 picks a free one, see {@link #port()}). */
        public Builder bind(String host, int port) {
            this.host = Objects.requireNonNull(host, "host");
            this.port = port;
            return this;
        }

        /**
         * How long a request head may take to arrive whole (nginx {@code client_header_timeout},
         * default 60 s): counted from the connection's opening for its first request, and from the
         * first byte of each next one. A connection whose head is not complete by then is closed
         * without an answer, as nginx does (it logs 408): a slowloris client holds nothing longer.
         */
        public Builder clientHeaderTimeout(Duration d) {
            this.clientHeaderTimeout = Objects.requireNonNull(d, "clientHeaderTimeout");
            return this;
        }

        /**
         * How long a kept-alive client connection may wait for the first byte of its next request
         * before it is closed (nginx {@code keepalive_timeout}, default 75 s). Not the backend pool's
         * {@code ProxyConfig.keepAliveTimeout}.
         */
        public Builder clientKeepAliveTimeout(Duration d) {
            this.clientKeepAliveTimeout = Objects.requireNonNull(d, "clientKeepAliveTimeout");
            return this;
        }

        /**
         * Sets both {@link #clientKeepAliveTimeout} and {@link #clientHeaderTimeout} (one limit on
         * waiting for a request head, between requests or while it arrives).
         */
        public Builder clientIdleTimeout(Duration d) {
            Objects.requireNonNull(d, "clientIdleTimeout");
            this.clientKeepAliveTimeout = d;
            this.clientHeaderTimeout = d;
            return this;
        }

        /**
         * How many requests one client connection may carry (nginx {@code keepalive_requests},
         * default 1000): the response to the last says {@code Connection: close} and the connection
         * closes after it.
         */
        public Builder keepAliveRequests(int n) {
            this.keepAliveRequests = n;
            return this;
        }

        /**
         * The most client connections open at once on this listener; 0 (the default) for no limit
         * but the process's file descriptors. At the limit the listener stops accepting: new
         * connections wait in the kernel's accept queue (backlog 1024) until one closes (HAProxy
         * {@code maxconn}); one accepted beyond it in the same burst is closed at once.
         */
        public Builder maxConnections(int n) {
            this.maxConnections = n;
            return this;
        }

        /**
         * Serves the session API at exactly {@code path} (decoded, as routes match it), ahead of the
         * routes: the rules of {@link SessionApiHandler}, the store called through its asynchronous
         * methods and the answer written on the connection's loop. May be called for several paths.
         *
         * @throws IllegalArgumentException for a path that is not absolute, has a query, fragment,
         *         wildcard or space, or is already taken
         */
        public Builder sessionApi(String path, SessionApi api) {
            SessionApiHandler.checkMountPath(path);
            if (sessionApis.containsKey(path)) {
                throw new IllegalArgumentException("sessionApi: the path " + path + " already serves a session API");
            }
            sessionApis.put(path, new SessionApiHandler(Objects.requireNonNull(api, "api")));
            return this;
        }

        /** The number of event loops ({@code proxy.workers}); default the number of cores. */
        public Builder workers(int n) {
            this.workers = n;
            return this;
        }

        /** The blocking host-name lookup the resolver threads run (the JDK's by default); tests hold it. */
        Builder lookup(EndpointResolver.Lookup l) {
            this.lookup = Objects.requireNonNull(l, "lookup");
            return this;
        }

        /**
         * @throws IllegalArgumentException for a port outside 0..65535, fewer than one worker, a
         *         non-positive client timeout, fewer than one keep-alive request or a negative
         *         connection limit; the message names the setting and the value
         */
        public NettyProxyServer build() {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in 0..65535, got " + port);
            }
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be >= 1, got " + workers);
            }
            positive("clientHeaderTimeout", clientHeaderTimeout);
            positive("clientKeepAliveTimeout", clientKeepAliveTimeout);
            if (keepAliveRequests < 1) {
                throw new IllegalArgumentException("keepAliveRequests must be >= 1, got " + keepAliveRequests);
            }
            if (maxConnections < 0) {
                throw new IllegalArgumentException("maxConnections must be >= 0 (0: no limit), got " + maxConnections);
            }
            return new NettyProxyServer(this);
        }

        private static void positive(String field, Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(field + " must be > 0, got " + d);
            }
        }
    }
}

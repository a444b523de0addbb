package io.lbkit.netty;

import io.lbkit.core.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The kept-alive backend connections of one event loop, per endpoint. Only that loop's thread
 * touches it, so it takes no lock: an exchange gets a connection of its own loop (Zuul 2's
 * per-loop origin pools, nginx's per-worker {@code keepalive}).
 */
final class BackendPool {

    /** The connections to one endpoint: the idle ones (most recent last) and how many are open. */
    static final class Slot {
        final BackendPool pool;
        final String host;
        final int port;
        /** Where to connect: resolved once for an IP literal, else the name, looked up per connect. */
        final InetSocketAddress address;
        final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
        int open;

        Slot(BackendPool pool, String host, int port) {
            this.pool = pool;
            this.host = host;
            this.port = port;
            InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
            this.address = literal != null ? new InetSocketAddress(literal, port)
                    : InetSocketAddress.createUnresolved(host, port);
        }
    }

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final Map<String, Slot> slots = new HashMap<>();
    private final int maxPerEndpoint;
    private final int maxHeaderBytes;
    final long keepAliveNanos;

    BackendPool(EventLoop loop, Transport transport, int connectTimeoutMillis, int maxHeaderBytes,
                int maxPerEndpoint, long keepAliveNanos, EndpointResolver resolver) {
        this.loop = loop;
        this.maxPerEndpoint = maxPerEndpoint;
        this.keepAliveNanos = keepAliveNanos;
        this.bootstrap = new Bootstrap().group(loop).channel(transport.channel)
                .resolver(resolver) // names are looked up off the loop
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.AUTO_READ, false) // read only while the client can take the bytes
                .option(ChannelOption.TCP_NODELAY, true);
        this.maxHeaderBytes = maxHeaderBytes;
    }

    private Slot slot(Endpoint e) {
        Slot s = slots.get(e.id());
        if (s == null || s.port != e.port() || !s.host.equals(e.host())) {
            if (s != null) {
                for (BackendConnection c : s.idle) { // the endpoint moved: its old connections go
                    c.channel.close();
                }
                s.idle.clear();
            }
            s = new Slot(this, e.host(), e.port());
            slots.put(e.id(), s);
        }
        return s;
    }

    /** A kept-alive idle connection to {@code e}, or null. */
    BackendConnection pollIdle(Endpoint e) {
        Slot s = slot(e);
        BackendConnection c;
        while ((c = s.idle.pollLast()) != null) {
            if (c.channel.isActive()) {
                return c;
            }
        }
        return null;
    }

    /**
     * Starts a new connection to {@code e}; null when this loop already has its share of
     * {@code maxConnectionsPerEndpoint} open to it.
     */
    ChannelFuture connect(Endpoint e) {
        Slot s = slot(e);
        if (s.open >= maxPerEndpoint) {
            return null;
        }
        BackendConnection c = new BackendConnection(s);
        s.open++;
        // a new connection only (kept-alive ones are reused): the copy of the bootstrap is not per request
        ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                BackendCodec codec = new BackendCodec(maxHeaderBytes);
                c.encoder = codec.encoder;
                ch.pipeline().addLast(codec, c);
            }
        }).connect(s.address);
        f.channel().closeFuture().addListener(x -> {
            s.open--;
            s.idle.remove(c);
        });
        return f;
    }

    /** How many connections wait idle (on this pool's loop only). */
    int idleConnections() {
        int n = 0;
        for (Slot s : slots.values()) {
            n += s.idle.size();
        }
        return n;
    }

    /** Puts a connection whose exchange ended cleanly back for reuse. */
    void release(BackendConnection c) {
        c.owner = null;
        if (!c.channel.isActive()) {
            return;
        }
        c.idleSinceNanos = System.nanoTime();
        c.slot.idle.addLast(c);
        c.channel.read(); // notice the endpoint closing it while it waits
        if (!c.evictionArmed) {
            armEviction(c, keepAliveNanos);
        }
    }

    void armEviction(BackendConnection c, long nanos) {
        c.evictionArmed = true;
        loop.schedule(c.evictCheck, nanos, TimeUnit.NANOSECONDS);
    }
}

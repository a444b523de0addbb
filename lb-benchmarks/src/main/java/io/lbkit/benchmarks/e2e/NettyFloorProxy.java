package io.lbkit.benchmarks.e2e;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A floor for the end-to-end harness, not a product: the least a JVM proxy can do per request on
 * an event loop. Netty's HTTP/1.1 codecs on both sides, round robin per request, idle backend
 * connections kept per event loop and used from that loop only (no thread hand-off, no lock), the
 * request and response passed through as parsed, no header rules, no retries, no limits. Bodies
 * are relayed without flow control (the harness's bodies are small). What lbkit adds on top of
 * this is what its features cost; what this costs against nginx is the JVM and Netty.
 *
 * <pre>
 * java -cp benchmarks.jar io.lbkit.benchmarks.e2e.NettyFloorProxy &lt;port&gt; &lt;backendPort&gt;...
 * </pre>
 * Uses 2 event loops (this machine's cores) unless {@code -Dfloor.threads=N}.
 */
public final class NettyFloorProxy {

    private final InetSocketAddress[] backends;
    /**
     * With {@code -Dfloor.lbkit=true}: lbkit's per-request work on top of the floor — an lb-core
     * {@link io.lbkit.core.Upstream} picks (round robin) and is told the outcome, and the header
     * rules of lbkit's proxy are applied (hop-by-hop removed, X-Forwarded-*, Forwarded and Via
     * added to the request, X-Served-By to the response).
     */
    private final io.lbkit.core.Upstream upstream;
    private final java.util.Map<io.lbkit.core.Endpoint, Integer> indexOf = new java.util.HashMap<>();
    /** Idle backend connections, per event loop (touched only from that loop). */
    private final Map<EventLoop, List<ArrayDeque<Channel>>> idle = new IdentityHashMap<>();
    private final Map<EventLoop, int[]> cursor = new IdentityHashMap<>();

    private NettyFloorProxy(InetSocketAddress[] backends) {
        this.backends = backends;
        if (Boolean.getBoolean("floor.lbkit")) {
            io.lbkit.core.Upstream.Builder b = io.lbkit.core.Upstream.builder("backends");
            for (int i = 0; i < backends.length; i++) {
                io.lbkit.core.Endpoint e = io.lbkit.core.Endpoint.of("127.0.0.1", backends[i].getPort());
                b.endpoint(e);
                indexOf.put(e, i);
            }
            upstream = b.build();
        } else {
            upstream = null;
        }
    }

    public static void main(String[] args) throws Exception {
        Probe.install();
        int port = Integer.parseInt(args[0]);
        InetSocketAddress[] backends = new InetSocketAddress[args.length - 1];
        for (int i = 1; i < args.length; i++) {
            backends[i - 1] = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[i]));
        }
        int threads = Integer.getInteger("floor.threads", 2);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        NettyFloorProxy proxy = new NettyFloorProxy(backends);
        // the per-loop state exists before the first connection (the maps are then only read)
        group.forEach(e -> {
            List<ArrayDeque<Channel>> pools = new ArrayList<>();
            for (int i = 0; i < backends.length; i++) {
                pools.add(new ArrayDeque<>());
            }
            proxy.idle.put((EventLoop) e, pools);
            proxy.cursor.put((EventLoop) e, new int[1]);
        });
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), proxy.new Frontend());
                    }
                }).bind("127.0.0.1", port).sync().channel();
        System.out.println("netty-floor proxy ready on " + port);
        server.closeFuture().sync();
    }

    /** One client connection: relays each request to a backend connection and the answer back. */
    private final class Frontend extends ChannelInboundHandlerAdapter {
        private Channel client;
        private Channel backend;
        private int backendIndex;
        private boolean keepAlive;
        /** Messages of the current request written before its backend connection was up. */
        private List<Object> pending;
        private io.lbkit.core.Selection selection;
        private long started;
        private String servedBy;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            client = ctx.channel();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest req) {
                keepAlive = HttpUtil.isKeepAlive(req);
                EventLoop loop = ctx.channel().eventLoop();
                if (upstream != null) {
                    selection = upstream.pick();
                    started = System.nanoTime();
                    io.lbkit.core.Endpoint e = selection.endpoint();
                    backendIndex = indexOf.get(e);
                    servedBy = e.id();
                    rewriteRequestHeaders(req, (InetSocketAddress) ctx.channel().remoteAddress());
                } else {
                    int[] c = cursor.get(loop);
                    backendIndex = c[0]++ % backends.length;
                }
                ArrayDeque<Channel> pool = idle.get(loop).get(backendIndex);
                Channel b;
                while ((b = pool.pollFirst()) != null && !b.isActive()) {
                    // closed while idle
                }
                if (b != null) {
                    backend = b;
                    ((Backend) b.pipeline().last()).frontend = this;
                } else {
                    backend = null;
                    pending = new ArrayList<>(2);
                    connect(loop);
                }
            }
            if (backend != null && backend.isActive()) {
                backend.write(msg);
                if (msg instanceof LastHttpContent) {
                    backend.flush();
                }
            } else if (pending != null) {
                pending.add(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private void connect(EventLoop loop) {
            Backend handler = new Backend(this);
            ChannelFuture f = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), handler);
                        }
                    }).connect(backends[backendIndex]);
            f.addListener(done -> {
                List<Object> queued = pending;
                pending = null;
                if (!done.isSuccess()) {
                    queued.forEach(ReferenceCountUtil::release);
                    client.close();
                    return;
                }
                backend = f.channel();
                for (Object m : queued) {
                    backend.write(m);
                }
                backend.flush();
            });
        }

        void responsePart(Object msg, Channel from) {
            if (upstream != null && msg instanceof io.netty.handler.codec.http.HttpResponse r) {
                io.netty.handler.codec.http.HttpHeaders h = r.headers();
                stripHopByHop(h);
                h.set("X-Served-By", servedBy);
                selection.complete(io.lbkit.core.Outcome.RESPONSE, r.status().code(), System.nanoTime() - started);
            }
            client.write(msg);
            if (msg instanceof LastHttpContent) {
                client.flush();
                idle.get(from.eventLoop()).get(backendIndex).addLast(from);
                backend = null;
                if (!keepAlive) {
                    client.close();
                }
            }
        }

        private void rewriteRequestHeaders(HttpRequest req, InetSocketAddress peer) {
            io.netty.handler.codec.http.HttpHeaders h = req.headers();
            stripHopByHop(h);
            String addr = peer.getAddress().getHostAddress();
            String host = h.get("Host", "");
            String xff = h.get("X-Forwarded-For");
            h.set("X-Forwarded-For", xff == null ? addr : xff + ", " + addr);
            h.set("X-Forwarded-Proto", "http");
            h.set("X-Forwarded-Host", host);
            h.set("X-Forwarded-Port", "80");
            h.add("Forwarded", "for=" + addr + ";host=\"" + host + "\";proto=http");
            h.add("Via", "1.1 lbkit");
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (backend != null) {
                backend.close(); // mid-exchange: the connection cannot be reused
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static final String[] HOP_BY_HOP = {"Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
        "Proxy-Authenticate", "Proxy-Authorization"};

    /** Removes hop-by-hop fields and those Connection names (keeping the codec's own framing fields). */
    static void stripHopByHop(io.netty.handler.codec.http.HttpHeaders h) {
        String connection = h.get("Connection");
        if (connection != null) {
            for (String name : connection.split(",")) {
                String n = name.trim();
                if (!n.isEmpty() && !n.equalsIgnoreCase("close") && !n.equalsIgnoreCase("keep-alive")) {
                    h.remove(n);
                }
            }
            h.remove("Connection");
        }
        for (String n : HOP_BY_HOP) {
            h.remove(n);
        }
    }

    /** One backend connection, lent to one frontend exchange at a time. */
    private static final class Backend extends ChannelInboundHandlerAdapter {
        Frontend frontend;

        Backend(Frontend frontend) {
            this.frontend = frontend;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpObject && frontend != null) {
                Frontend f = frontend;
                if (msg instanceof LastHttpContent) {
                    frontend = null;
                }
                f.responsePart(msg, ctx.channel());
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

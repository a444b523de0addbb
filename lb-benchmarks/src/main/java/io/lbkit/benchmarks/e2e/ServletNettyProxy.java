package io.lbkit.benchmarks.e2e;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;

/**
 * An experiment for the end-to-end harness, not a product: the servlet front end lbkit's filter has
 * (Jetty 12, the same 200-thread pool, {@code startAsync} and a {@code WriteListener}) with the
 * backend side on Netty event loops instead of Jetty's HttpClient. It answers one question: is the
 * servlet front end or the HTTP client what keeps a servlet proxy far from nginx on this machine?
 * GET without a body only; round robin; idle backend connections kept per event loop and used from
 * that loop only; the response body collected (the harness's bodies are small) and written once.
 *
 * <pre>
 * java -cp benchmarks.jar io.lbkit.benchmarks.e2e.ServletNettyProxy &lt;port&gt; &lt;backendPort&gt;...
 * </pre>
 */
public final class ServletNettyProxy {

    private ServletNettyProxy() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        InetSocketAddress[] backends = new InetSocketAddress[args.length - 1];
        for (int i = 1; i < args.length; i++) {
            backends[i - 1] = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[i]));
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(Integer.getInteger("floor.threads", 2),
                NioIoHandler.newFactory());
        Map<EventLoop, List<ArrayDeque<Channel>>> idle = new IdentityHashMap<>();
        group.forEach(e -> {
            List<ArrayDeque<Channel>> pools = new ArrayList<>();
            for (int i = 0; i < backends.length; i++) {
                pools.add(new ArrayDeque<>());
            }
            idle.put((EventLoop) e, pools);
        });
        Server server = PeerProxies.server("servlet-netty", port);
        ServletContextHandler ctx = new ServletContextHandler("/");
        ServletHolder h = new ServletHolder(new Relay(group, idle, backends));
        h.setAsyncSupported(true);
        ctx.addServlet(h, "/*");
        server.setHandler(ctx);
        server.start();
        System.out.println("servlet-netty proxy ready on " + port);
        server.join();
    }

    static final class Relay extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final transient EventLoopGroup group;
        private final transient Map<EventLoop, List<ArrayDeque<Channel>>> idle;
        private final transient InetSocketAddress[] backends;
        private final AtomicInteger next = new AtomicInteger();

        Relay(EventLoopGroup group, Map<EventLoop, List<ArrayDeque<Channel>>> idle, InetSocketAddress[] backends) {
            this.group = group;
            this.idle = idle;
            this.backends = backends;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            AsyncContext ac = req.startAsync();
            ac.setTimeout(0);
            String q = req.getQueryString();
            FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(req.getMethod()),
                    q == null ? req.getRequestURI() : req.getRequestURI() + "?" + q);
            for (Enumeration<String> names = req.getHeaderNames(); names.hasMoreElements(); ) {
                String n = names.nextElement();
                if (n.equalsIgnoreCase("Connection") || n.equalsIgnoreCase("Keep-Alive") || n.equalsIgnoreCase("Upgrade")
                        || n.equalsIgnoreCase("HTTP2-Settings") || n.equalsIgnoreCase("TE")) {
                    continue;
                }
                for (Enumeration<String> v = req.getHeaders(n); v.hasMoreElements(); ) {
                    out.headers().add(n, v.nextElement());
                }
            }
            out.headers().set("Content-Length", 0);
            int index = Math.floorMod(next.getAndIncrement(), backends.length);
            Exchange x = new Exchange(ac, resp, index);
            EventLoop loop = group.next();
            loop.execute(() -> x.send(loop, out));
        }

        /** One request: its backend connection is borrowed on the loop and returned there. */
        final class Exchange extends ChannelInboundHandlerAdapter implements WriteListener {
            private final AsyncContext ac;
            private final HttpServletResponse resp;
            private final int index;
            private final ByteArrayOutputStream body = new ByteArrayOutputStream(256);
            private ServletOutputStream os;
            private boolean written;

            Exchange(AsyncContext ac, HttpServletResponse resp, int index) {
                this.ac = ac;
                this.resp = resp;
                this.index = index;
            }

            void send(EventLoop loop, FullHttpRequest out) {
                ArrayDeque<Channel> free = idle.get(loop).get(index);
                Channel b;
                while ((b = free.pollFirst()) != null && !b.isActive()) {
                    // closed while idle
                }
                if (b != null) {
                    ((Holder) b.pipeline().last()).exchange = this;
                    b.writeAndFlush(out);
                    return;
                }
                Holder holder = new Holder();
                holder.exchange = this;
                new Bootstrap().group(loop).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                        .handler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
                                ch.pipeline().addLast(new HttpClientCodec(), holder);
                            }
                        }).connect(backends[index]).addListener(f -> {
                            if (f.isSuccess()) {
                                holder.channel.writeAndFlush(out);
                            } else {
                                out.release();
                                resp.setStatus(502);
                                ac.complete();
                            }
                        });
            }

            void part(Object msg, Channel from) {
                try {
                    if (msg instanceof HttpResponse r) {
                        resp.setStatus(r.status().code());
                        r.headers().forEach(e -> {
                            String n = e.getKey();
                            if (!n.equalsIgnoreCase("Connection") && !n.equalsIgnoreCase("Keep-Alive")
                                    && !n.equalsIgnoreCase("Transfer-Encoding") && !n.equalsIgnoreCase("Date")
                                    && !n.equalsIgnoreCase("Server")) {
                                resp.addHeader(n, e.getValue());
                            }
                        });
                    }
                    if (msg instanceof HttpContent content) {
                        ByteBuf buf = content.content();
                        byte[] a = new byte[buf.readableBytes()];
                        buf.readBytes(a);
                        body.write(a, 0, a.length);
                    }
                    if (msg instanceof LastHttpContent) {
                        idle.get(from.eventLoop()).get(index).addLast(from);
                        try {
                            os = resp.getOutputStream();
                            os.setWriteListener(this);
                        } catch (IOException e) {
                            ac.complete();
                        }
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void onWritePossible() throws IOException {
                if (!written) {
                    written = true;
                    body.writeTo(os);
                }
                if (os.isReady()) {
                    ac.complete();
                }
            }

            @Override
            public void onError(Throwable t) {
                ac.complete();
            }
        }
    }

    /** The handler at the end of a backend connection's pipeline: passes messages to its exchange. */
    static final class Holder extends ChannelInboundHandlerAdapter {
        Relay.Exchange exchange;
        Channel channel;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            channel = ctx.channel();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Relay.Exchange x = exchange;
            if (x == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof LastHttpContent) {
                exchange = null;
            }
            x.part(msg, ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

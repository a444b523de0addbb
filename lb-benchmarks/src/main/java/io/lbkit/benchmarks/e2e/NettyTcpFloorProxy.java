package io.lbkit.benchmarks.e2e;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The floor of any HTTP proxy on Netty, not a product: bytes relayed between each client
 * connection and one backend connection of its own (chosen round robin when the client
 * connects), on the client's event loop, with nothing parsed at all. An HTTP/1.1 proxy with a
 * codec of its own still does at least this per request (one read and one write each way, on the
 * same loops, through a pipeline), plus finding the head's fields and choosing an endpoint; so the
 * distance from this floor to nginx is what no codec work on Netty can close.
 *
 * <pre>
 * java -cp benchmarks.jar io.lbkit.benchmarks.e2e.NettyTcpFloorProxy &lt;port&gt; &lt;backendPort&gt;...
 * </pre>
 * Native epoll where present, NIO otherwise; 2 event loops unless {@code -Dfloor.threads=N}.
 */
public final class NettyTcpFloorProxy {

    private NettyTcpFloorProxy() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        InetSocketAddress[] backends = new InetSocketAddress[args.length - 1];
        for (int i = 1; i < args.length; i++) {
            backends[i - 1] = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[i]));
        }
        int threads = Integer.getInteger("floor.threads", 2);
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> server = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Class<? extends Channel> client = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, io);
        AtomicInteger next = new AtomicInteger();
        new ServerBootstrap().group(group).channel(server)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel in) {
                        InetSocketAddress to = backends[Math.floorMod(next.getAndIncrement(), backends.length)];
                        Channel out = new Bootstrap().group(in.eventLoop()).channel(client)
                                .option(ChannelOption.AUTO_READ, false)
                                .option(ChannelOption.TCP_NODELAY, true)
                                .handler(new Relay(in))
                                .connect(to).addListener((ChannelFutureListener) f -> {
                                    if (f.isSuccess()) {
                                        in.read();
                                        f.channel().read();
                                    } else {
                                        in.close();
                                    }
                                }).channel();
                        in.pipeline().addLast(new Relay(out));
                    }
                }).bind("127.0.0.1", port).sync();
        Probe.install();
        System.out.println("netty tcp floor ready on " + port + " (" + (epoll ? "epoll" : "nio") + ")");
        Thread.currentThread().join();
    }

    /** Writes what one side reads to the other; reads on only while the other side takes it. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel to;

        Relay(Channel to) {
            this.to = to;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            to.write(msg, to.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            to.flush();
            if (to.isWritable()) {
                ctx.read();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // this side became writable again: the other side, paused for it, reads on
            if (ctx.channel().isWritable()) {
                to.read();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            to.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

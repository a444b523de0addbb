package io.lbkit.netty;

import io.netty.channel.Channel;
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

/** The socket transport: Linux's native epoll when it loads, Java NIO otherwise. */
final class Transport {

    final String name;
    final Class<? extends ServerChannel> serverChannel;
    final Class<? extends Channel> channel;
    private final IoHandlerFactory ioHandlers;

    private Transport(String name, Class<? extends ServerChannel> serverChannel, Class<? extends Channel> channel,
                      IoHandlerFactory ioHandlers) {
        this.name = name;
        this.serverChannel = serverChannel;
        this.channel = channel;
        this.ioHandlers = ioHandlers;
    }

    static Transport best() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollServerSocketChannel.class, EpollSocketChannel.class,
                    EpollIoHandler.newFactory());
        }
        return nio();
    }

    static Transport nio() {
        return new Transport("nio", NioServerSocketChannel.class, NioSocketChannel.class, NioIoHandler.newFactory());
    }

    EventLoopGroup newGroup(int threads, String prefix) {
        return new MultiThreadIoEventLoopGroup(threads, new io.netty.util.concurrent.DefaultThreadFactory(prefix, true),
                ioHandlers);
    }

    /** Why epoll is not used, for the start-up log line; null when it is. */
    static Throwable epollUnavailability() {
        return Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
    }
}

package io.lbkit.netty;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.SessionApi;
import io.lbkit.proxy.contract.ProxyEngine;
import java.time.Duration;
import java.util.Map;

/** The event-loop engine for the contract suite ({@code netty}): a {@link NettyProxyServer} with two loops. */
public final class NettyEngine implements ProxyEngine {

    @Override
    public String name() {
        return "netty";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public RunningProxy start(ProxyConfig config) {
        return start(config, Map.of());
    }

    @Override
    public RunningProxy start(ProxyConfig config, Map<String, SessionApi> sessionApis) {
        if (!sessionApis.isEmpty()) {
            LeakWatch.install();
        }
        NettyProxyServer.Builder b = NettyProxyServer.builder(config).bind("127.0.0.1", 0).workers(2);
        sessionApis.forEach(b::sessionApi);
        NettyProxyServer server = b.build();
        server.start();
        return new RunningProxy() {
            @Override
            public int port() {
                return server.port();
            }

            @Override
            public boolean awaitIdleBackendConnection(long millis) throws InterruptedException {
                long deadline = System.nanoTime() + millis * 1_000_000L;
                while (System.nanoTime() < deadline) {
                    if (server.idleBackendConnections() > 0) {
                        return true;
                    }
                    Thread.sleep(5);
                }
                return false;
            }

            @Override
            public void close() {
                server.stop(Duration.ofSeconds(5));
                if (!sessionApis.isEmpty()) {
                    // the session API copies each body buffer out and releases it: prove it
                    LeakWatch.install();
                    LeakWatch.assertNoLeaks();
                }
            }
        };
    }
}

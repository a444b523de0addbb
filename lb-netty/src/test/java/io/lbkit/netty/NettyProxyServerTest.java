package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.session.InMemorySessionStore;
import org.junit.jupiter.api.Test;

class NettyProxyServerTest {

    private static final Upstream UP = Upstream.builder("up").endpoint(Endpoint.of("127.0.0.1", 9)).build();

    @Test
    void settingsAreChecked() {
        ProxyConfig c = ProxyConfig.builder().route(Route.builder("r", UP).build()).build();
        assertEquals("port must be in 0..65535, got 70000",
                assertThrows(IllegalArgumentException.class,
                        () -> NettyProxyServer.builder(c).bind("127.0.0.1", 70000).build()).getMessage());
        assertEquals("workers must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> NettyProxyServer.builder(c).workers(0).build())
                        .getMessage());
    }

    @Test
    void limitsAndTargetedRoutesAreTaken() {
        ProxyConfig c = ProxyConfig.builder()
                .route(Route.builder("one", UP).target(RequestValue.query("backend"))
                        .rateLimiter(RateLimiter.builder().rate("10r/s").build())
                        .concurrencyLimiter(ConcurrencyLimiter.builder().maxConcurrent(2).build()).build())
                .build();
        org.junit.jupiter.api.Assertions.assertNotNull(NettyProxyServer.builder(c).build()); // not started
    }

    @Test
    void broadcastRoutesAndSessionForwardingAreTakenTogether() {
        Route broadcast = Route.builder("fan", UP).broadcast(FanOut.builder().build()).build();
        try (InMemorySessionStore store = InMemorySessionStore.builder().build()) {
            ProxyConfig c = ProxyConfig.builder().route(broadcast)
                    .sessionForwarding(SessionForwarding.builder(store).build()).build();
            org.junit.jupiter.api.Assertions.assertNotNull(NettyProxyServer.builder(c).build()); // not started
        }
    }

    @Test
    void aPortInUseIsReportedAsTheJdksBindException() throws Exception {
        ProxyConfig c = ProxyConfig.builder().route(Route.builder("r", UP).build()).build();
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            NettyProxyServer server = NettyProxyServer.builder(c).bind("127.0.0.1", taken.getLocalPort()).workers(1).build();
            IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
            assertTrue(e.getCause() instanceof java.net.BindException, String.valueOf(e.getCause()));
            assertEquals("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": address already in use: 127.0.0.1:"
                    + taken.getLocalPort(), e.getMessage());
        }
    }
}

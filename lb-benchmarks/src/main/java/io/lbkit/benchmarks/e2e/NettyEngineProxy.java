package io.lbkit.benchmarks.e2e;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.netty.NettyProxyServer;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;

/**
 * The event-loop engine (lb-netty) as an E2eHarness target: the configuration of the bundled
 * {@code e2e/lbkit.yaml} (round robin over the backends, lbkit's defaults: X-Forwarded-*,
 * Forwarded, Via and X-Served-By added), one event loop per core unless
 * {@code -Dlbkit.workers=N}.
 *
 * <pre>{@code java -cp benchmarks.jar io.lbkit.benchmarks.e2e.NettyEngineProxy PORT BACKEND_PORT...}</pre>
 */
public final class NettyEngineProxy {

    private NettyEngineProxy() {
    }

    public static void main(String[] args) throws Exception {
        Probe.install();
        int port = Integer.parseInt(args[0]);
        Upstream.Builder u = Upstream.builder("backends");
        for (int i = 1; i < args.length; i++) {
            u.endpoint(Endpoint.of("127.0.0.1", Integer.parseInt(args[i])));
        }
        ProxyConfig config = ProxyConfig.builder().route(Route.builder("all", u.build()).build()).build();
        NettyProxyServer server = NettyProxyServer.builder(config)
                .bind("127.0.0.1", port)
                .workers(Integer.getInteger("lbkit.workers", Runtime.getRuntime().availableProcessors()))
                .build();
        server.start();
        System.out.println("lbkit-netty proxy ready on " + server.port());
        Thread.currentThread().join();
    }
}

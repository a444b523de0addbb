package io.lbkit.netty;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;

/** Starts a proxy over test backends and stops it after each test, then checks for buffer leaks. */
abstract class ProxyITBase {

    static {
        LeakWatch.install();
    }

    /** Released after each test so that no backend thread waits past it. */
    final CountDownLatch release = new CountDownLatch(1);
    final List<TestBackend> backends = new ArrayList<>();
    NettyProxyServer proxy;

    @AfterEach
    void stopAll() throws Exception {
        release.countDown();
        if (proxy != null) {
            proxy.stop(Duration.ofSeconds(5));
        }
        for (TestBackend b : backends) {
            b.close();
        }
        LeakWatch.assertNoLeaks();
    }

    TestBackend backend(TestBackend b) {
        backends.add(b);
        return b;
    }

    /** Waits (bounded) for the test to release the backend. */
    void hold() throws InterruptedException {
        release.await(30, TimeUnit.SECONDS);
    }

    static Upstream upstream(int... ports) {
        Upstream.Builder u = Upstream.builder("up");
        for (int p : ports) {
            u.endpoint(Endpoint.of("127.0.0.1", p));
        }
        return u.build();
    }

    static Upstream upstream(TestBackend... bs) {
        int[] ports = new int[bs.length];
        for (int i = 0; i < bs.length; i++) {
            ports[i] = bs[i].port();
        }
        return upstream(ports);
    }

    static ProxyConfig.Builder config(Upstream u) {
        return ProxyConfig.builder().route(Route.builder("all", u).pathPrefix("/").build());
    }

    int start(ProxyConfig config) {
        return start(config, 1);
    }

    int start(ProxyConfig config, int workers) {
        proxy = NettyProxyServer.builder(config).bind("127.0.0.1", 0).workers(workers).build();
        proxy.start();
        return proxy.port();
    }

    /** A port nothing listens on (bound, then closed). */
    static int deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

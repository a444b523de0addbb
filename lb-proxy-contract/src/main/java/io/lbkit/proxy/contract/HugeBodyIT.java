package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * 1 GiB up and 1 GiB down through the proxy, in a JVM whose heap is capped at 256 MiB (the
 * failsafe execution {@code huge-bodies-capped-heap}); client, proxy container and backend all
 * share that heap, so nothing may hold a body. Bytes are generated on the fly and checked by
 * count and CRC-32.
 */
class HugeBodyIT {

    static final long GIB = 1L << 30;
    static TestBackend backend;
    static long crc;

    @BeforeAll
    static void start() throws Exception {
        long max = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
        assumeTrue(max <= 300L << 20, "runs only in the capped-heap failsafe execution (-Xmx256m); max heap is " + max);
        backend = new TestBackend("big");
        crc = TestBackend.patternCrc(GIB);
    }

    @AfterAll
    static void stop() {
        if (backend != null) {
            backend.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void oneGibibyteUpAndDown(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("big").endpoint(ProxyFixture.endpoint(backend)).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder()
                .route(Route.builder("all", up).build())
                .maxRequestBodyBytes(0)
                .build())) {
            HttpResponse<String> upload = p.send(p.request("/upload")
                    .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> ProxyFixture.patternStream(GIB))).build());
            assertEquals(200, upload.statusCode());
            assertEquals(GIB + " " + crc, upload.body());

            HttpResponse<InputStream> down = p.stream(p.request("/download?size=" + GIB).GET().build());
            assertEquals(200, down.statusCode());
            try (InputStream in = down.body()) {
                long[] cc = ProxyFixture.countAndCrc(in);
                assertEquals(GIB, cc[0]);
                assertEquals(crc, cc[1]);
            }
        }
    }
}

package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * nginx {@code limit_rate} / {@code limit_rate_after} on a route. The engines differ on purpose:
 * the event-loop engine paces each response on its loop's timers (no thread per response); the
 * servlet engine does not pace and refuses a configuration that asks it to (docs/limits.md).
 *
 * <p>On netty the client reads a 320 KiB download limited to 64 KiB/s after 16 KiB and checks,
 * at every read, that it never got more than nginx's allowance could have sent by then (plus one
 * backend read the proxy writes whole): an upper bound only, which a slow machine meets all the
 * more; without pacing the whole body would be there within the first second. The body arrives
 * byte for byte.
 */
class LimitRateIT {

    private static final long RATE = 64 * 1024;
    private static final long AFTER = 16 * 1024;
    private static final long SIZE = 320 * 1024;
    private static final long ONE_READ = 64 * 1024; // the most one backend read brings (Netty's adaptive buffer)

    static TestBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend("lr");
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
    }

    private static ProxyConfig config() {
        Upstream up = Upstream.builder("lr").endpoint(ProxyFixture.endpoint(backend)).build();
        return ProxyConfig.builder().route(Route.builder("dl", up).limitRate(RATE).limitRateAfter(AFTER).build())
                .build();
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aResponseNeverGetsAheadOfItsAllowance(ProxyEngine kind) throws Exception {
        if (!kind.name().equals("netty")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ProxyFixture(kind, config()).close());
            assertTrue(e.getMessage().contains("limitRate is applied by the event-loop engine"), e.getMessage());
            return;
        }
        try (ProxyFixture p = new ProxyFixture(kind, config())) {
            long started = System.nanoTime();
            HttpResponse<InputStream> r = p.stream(p.request("/download?size=" + SIZE).build());
            assertEquals(200, r.statusCode());
            CRC32 crc = new CRC32();
            byte[] buf = new byte[8192];
            long got = 0;
            try (InputStream in = r.body()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    crc.update(buf, 0, n);
                    got += n;
                    long seconds = (System.nanoTime() - started) / 1_000_000_000L;
                    // nginx's whole seconds may start just before the request: one more second of allowance
                    long allowance = AFTER + RATE * (seconds + 2) + ONE_READ;
                    assertTrue(got <= allowance, got + " bytes after " + seconds + " s: more than the allowance "
                            + allowance);
                }
            }
            long[] sent = ProxyFixture.countAndCrc(ProxyFixture.patternStream(SIZE));
            assertArrayEquals(new long[] {SIZE, sent[1]}, new long[] {got, crc.getValue()}, "the body, byte for byte");
        }
    }
}

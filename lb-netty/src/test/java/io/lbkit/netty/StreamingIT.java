package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * 64 MiB each way through the proxy, checked by CRC, in a test JVM with a 256 MiB heap (see the
 * pom). The proxy's pooled buffers in use stay far below the body size the whole time: bodies
 * stream with back-pressure and are never gathered.
 */
class StreamingIT extends ProxyITBase {

    private static final long SIZE = 64L << 20;
    /** Far below the body size: what a gathered body would need. */
    private static final long MAX_BUFFERED = 16L << 20;

    @Test
    void aLargeUploadStreamsToTheEndpoint() throws Exception {
        TestBackend a = backend(new TestBackend("crc", (req, body, out) -> {
            CRC32 crc = new CRC32();
            long n = 0;
            byte[] b = new byte[65536];
            for (int r; (r = body.read(b)) > 0; ) {
                crc.update(b, 0, r);
                n += r;
            }
            TestBackend.respond(out, 200, n + " " + Long.toHexString(crc.getValue()));
        }));
        int port = start(config(upstream(a)).maxRequestBodyBytes(0).build());
        try (RawClient c = new RawClient(port); Peak peak = new Peak()) {
            c.send("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: " + SIZE + "\r\n\r\n");
            long crc = generate(SIZE, 7, c.out::write);
            c.out.flush();
            RawClient.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals(SIZE + " " + Long.toHexString(crc), r.text());
            assertTrue(peak.max() > 0 && peak.max() < MAX_BUFFERED, "the proxy held " + peak.max() + " bytes of buffers");
        }
    }

    @Test
    void aLargeChunkedDownloadStreamsToTheClient() throws Exception {
        long[] sent = new long[1];
        TestBackend a = backend(new TestBackend("gen", (req, body, out) -> {
            TestBackend.head(out, "HTTP/1.1 200 OK", "Content-Type: application/octet-stream",
                    "Transfer-Encoding: chunked");
            sent[0] = generate(SIZE, 1, b -> TestBackend.chunk(out, b, 0, b.length));
            TestBackend.lastChunk(out);
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port); Peak peak = new Peak()) {
            c.send(RawClient.get("/down"));
            CrcSink sink = new CrcSink();
            RawClient.Response r = c.read(false, sink);
            assertEquals(200, r.status());
            assertEquals("chunked", r.header("Transfer-Encoding"));
            assertEquals(SIZE, sink.count);
            assertEquals(sent[0], sink.crc.getValue());
            assertTrue(peak.max() > 0 && peak.max() < MAX_BUFFERED, "the proxy held " + peak.max() + " bytes of buffers");
        }
    }

    /** What takes each generated block. */
    private interface Blocks {
        void accept(byte[] block) throws Exception;
    }

    /** Generates {@code size} bytes (a multiple of 64 KiB) from {@code seed} in blocks; returns their CRC. */
    private static long generate(long size, long seed, Blocks to) throws Exception {
        CRC32 crc = new CRC32();
        byte[] b = new byte[65536];
        long x = seed;
        for (long left = size; left > 0; left -= b.length) {
            x = fill(b, x);
            crc.update(b);
            to.accept(b);
        }
        return crc.getValue();
    }

    /** Fills {@code b} from a xorshift generator; returns the next seed. */
    private static long fill(byte[] b, long seed) {
        long x = seed;
        for (int i = 0; i < b.length; i += 8) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            for (int k = 0; k < 8; k++) {
                b[i + k] = (byte) (x >>> (8 * k));
            }
        }
        return x;
    }

    private static final class CrcSink extends OutputStream {
        final CRC32 crc = new CRC32();
        long count;

        @Override
        public void write(int b) {
            crc.update(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            crc.update(b, off, len);
            count += len;
        }
    }

    /** Samples the default allocator's memory in use (pooled buffers, direct and heap) while a test runs. */
    private static final class Peak implements AutoCloseable {
        private final AtomicBoolean on = new AtomicBoolean(true);
        private final AtomicLong max = new AtomicLong();
        private final Thread sampler;

        Peak() {
            ByteBufAllocatorMetricProvider p = (ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT;
            sampler = new Thread(() -> {
                while (on.get()) {
                    long used = p.metric().usedDirectMemory() + p.metric().usedHeapMemory();
                    max.accumulateAndGet(used, Math::max);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "buffer-peak");
            sampler.setDaemon(true);
            sampler.start();
        }

        long max() {
            return max.get();
        }

        @Override
        public void close() {
            on.set(false);
            try {
                sampler.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

}

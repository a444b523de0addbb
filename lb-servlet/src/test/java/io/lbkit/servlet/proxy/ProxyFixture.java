package io.lbkit.servlet.proxy;

import io.lbkit.core.Endpoint;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.servlet.testing.TestContainer;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;

/** A proxy filter hosted in a real container, plus a JDK client to call it. */
final class ProxyFixture implements AutoCloseable {

    final TestContainer container;
    final ProxyFilter filter;
    final HttpClient http;

    ProxyFixture(TestContainer.Kind kind, ProxyConfig config) {
        this.filter = new ProxyFilter(config);
        this.container = TestContainer.start(kind, ctx -> {
            FilterRegistration.Dynamic reg = ctx.addFilter("lbkit-proxy", filter);
            reg.setAsyncSupported(true);
            reg.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        });
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    static Endpoint endpoint(TestBackend b) {
        return Endpoint.builder(b.id()).host("127.0.0.1").port(b.port()).build();
    }

    static Endpoint endpoint(String id, int port) {
        return Endpoint.builder(id).host("127.0.0.1").port(port).build();
    }

    URI uri(String pathAndQuery) {
        return container.uri(pathAndQuery);
    }

    HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(60));
    }

    HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(request(pathAndQuery).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(HttpRequest r) throws IOException, InterruptedException {
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<InputStream> stream(HttpRequest r) throws IOException, InterruptedException {
        return http.send(r, HttpResponse.BodyHandlers.ofInputStream());
    }

    @Override
    public void close() {
        container.close();
    }

    /** An input stream of {@code size} pattern bytes generated on the fly. */
    static InputStream patternStream(long size) {
        return new InputStream() {
            long pos;

            @Override
            public int read() {
                return pos < size ? TestBackend.pattern(pos++) & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= size) {
                    return -1;
                }
                int n = (int) Math.min(len, size - pos);
                for (int i = 0; i < n; i++) {
                    b[off + i] = TestBackend.pattern(pos + i);
                }
                pos += n;
                return n;
            }
        };
    }

    /** Reads a stream to its end; returns {count, crc32}. */
    static long[] countAndCrc(InputStream in) throws IOException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        byte[] buf = new byte[65536];
        long count = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            crc.update(buf, 0, n);
            count += n;
        }
        return new long[] {count, crc.getValue()};
    }
}

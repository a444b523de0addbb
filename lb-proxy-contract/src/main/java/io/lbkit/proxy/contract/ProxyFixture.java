package io.lbkit.proxy.contract;

import io.lbkit.core.Endpoint;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.SessionApi;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A proxy started by one {@link ProxyEngine}, plus a JDK client to call it. */
public final class ProxyFixture implements AutoCloseable {

    public final ProxyEngine engine;
    final ProxyEngine.RunningProxy proxy;
    public final HttpClient http;

    public ProxyFixture(ProxyEngine engine, ProxyConfig config) {
        this(engine, config, Map.of());
    }

    /** A proxy that also serves each session API at its path ({@link ProxyEngine#start(ProxyConfig, Map)}). */
    public ProxyFixture(ProxyEngine engine, ProxyConfig config, Map<String, SessionApi> sessionApis) {
        this.engine = engine;
        this.proxy = engine.start(config, sessionApis);
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    /** The proxy's port on 127.0.0.1. */
    public int port() {
        return proxy.port();
    }

    /** The engine's name (tests that expect an engine to differ on purpose say which). */
    public String engineName() {
        return engine.name();
    }

    public static Endpoint endpoint(TestBackend b) {
        return Endpoint.builder(b.id()).host("127.0.0.1").port(b.port()).build();
    }

    public static Endpoint endpoint(String id, int port) {
        return Endpoint.builder(id).host("127.0.0.1").port(port).build();
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    public HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(60));
    }

    public HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(request(pathAndQuery).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> send(HttpRequest r) throws IOException, InterruptedException {
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<InputStream> stream(HttpRequest r) throws IOException, InterruptedException {
        return http.send(r, HttpResponse.BodyHandlers.ofInputStream());
    }

    @Override
    public void close() {
        proxy.close();
    }

    /** An input stream of {@code size} pattern bytes generated on the fly. */
    public static InputStream patternStream(long size) {
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
    public static long[] countAndCrc(InputStream in) throws IOException {
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

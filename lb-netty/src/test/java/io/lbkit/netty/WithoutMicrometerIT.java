package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.AccessLog;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is an optional dependency of lb-proxy: an application without it proxies (with an
 * access log, whose record the meters share) as before. The engine, the rules and their
 * dependencies are loaded again in a class loader that has no Micrometer class, and proxy a request.
 */
class WithoutMicrometerIT {

    @Test
    void proxiesWithNoMicrometerOnTheClasspath() throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<URL> urls = new ArrayList<>();
        int left = 0;
        for (String entry : cp.split(File.pathSeparator)) {
            if (entry.contains("micrometer")) {
                left++;
                continue;
            }
            urls.add(Path.of(entry).toUri().toURL());
        }
        assertTrue(left > 0, "the test's own class path has Micrometer (the contract suite's meters test): " + cp);
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            assertThrows(ClassNotFoundException.class, () -> loader.loadClass("io.micrometer.core.instrument.MeterRegistry"));
            @SuppressWarnings("unchecked")
            Callable<String> run = (Callable<String>) loader.loadClass(Run.class.getName()).getDeclaredConstructor()
                    .newInstance();
            assertEquals("200 ok, 1 line", run.call());
        }
    }

    /** Runs in the loader without Micrometer: a backend, the engine with an access log, one request. */
    public static final class Run implements Callable<String> {
        @Override
        public String call() throws Exception {
            com.sun.net.httpserver.HttpServer backend = com.sun.net.httpserver.HttpServer.create(
                    new InetSocketAddress("127.0.0.1", 0), 0);
            backend.createContext("/", x -> {
                byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
                x.sendResponseHeaders(200, ok.length);
                x.getResponseBody().write(ok);
                x.close();
            });
            backend.start();
            Path file = Files.createTempFile("lbkit-nomicrometer", ".log");
            NettyProxyServer proxy = null;
            try (AccessLog log = AccessLog.builder().path(file).build()) {
                Upstream up = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", backend.getAddress().getPort())).build();
                ProxyConfig config = ProxyConfig.builder().route(Route.builder("r", up).build()).accessLog(log).build();
                proxy = NettyProxyServer.builder(config).bind("127.0.0.1", 0).workers(1).build();
                proxy.start();
                HttpResponse<String> r = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/x")).build(),
                        HttpResponse.BodyHandlers.ofString());
                proxy.stop(java.time.Duration.ofSeconds(5));
                proxy = null;
                log.flush(java.time.Duration.ofSeconds(5));
                return r.statusCode() + " " + r.body() + ", " + Files.readAllLines(file).size() + " line";
            } finally {
                if (proxy != null) {
                    proxy.stop(java.time.Duration.ZERO);
                }
                backend.stop(0);
                Files.deleteIfExists(file);
            }
        }
    }
}

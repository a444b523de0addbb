package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.lbkit.config.ConfigLoader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** serve's accessLog, requestId and statusPath settings, on both engines, and the log's reopen for rotation. */
class ServeObserveIT {

    @TempDir
    Path dir;
    private ProxyServer proxy;
    private HttpServer backend;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.stop(0);
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve(path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> lines(Path file, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.ISO_8859_1) : List.of();
            if (lines.size() >= n) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return lines;
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void serveLogsSendsTheRequestIdAndServesTheStatusPage(String engine) throws Exception {
        AtomicReference<String> seenId = new AtomicReference<>();
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.createContext("/", ex -> {
            seenId.set(ex.getRequestHeaders().getFirst("X-Request-ID"));
            byte[] b = "hello".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        backend.start();
        Path file = dir.resolve("access.log");
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: %s
                listen: ["127.0.0.1:0"]
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                logFormats:
                  main: '$request $status $body_bytes_sent $upstream_status $request_id'
                accessLog: { path: '%s', format: main }
                requestId: X-Request-ID
                statusPath: /nginx_status
                """.formatted(engine, backend.getAddress().getPort(), file)));
        HttpResponse<String> r = get("/hello");
        assertEquals(200, r.statusCode());
        List<String> first = lines(file, 1);
        assertEquals(List.of("GET /hello HTTP/1.1 200 5 200 " + seenId.get()), first);
        assertTrue(seenId.get().matches("[0-9a-f]{32}"), seenId.get());
        HttpResponse<String> status = get("/nginx_status");
        assertEquals(200, status.statusCode());
        assertTrue(status.body().startsWith("Active connections: "), status.body());
        // rotation: move the file away, reopen, and the next line goes to a new file
        Path rotated = dir.resolve("access.log.1");
        lines(file, 2);
        Files.move(file, rotated);
        proxy.reopenLogs();
        get("/again");
        List<String> after = lines(file, 1);
        assertEquals(1, after.size(), after.toString());
        assertTrue(after.get(0).startsWith("GET /again HTTP/1.1 200 5 200 "), after.get(0));
        assertEquals(2, Files.readAllLines(rotated).size(), "the first request and the status page");
    }
}

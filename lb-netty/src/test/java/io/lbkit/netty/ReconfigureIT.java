package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link NettyProxyServer#reconfigure}: new requests, kept-alive connections included, take the new routes. */
class ReconfigureIT {

    static {
        LeakWatch.install();
    }

    private NettyProxyServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(Duration.ofSeconds(5));
        }
        LeakWatch.assertNoLeaks();
    }

    @Test
    void aNewConfigurationServesTheNextRequestAndPoolSettingsCannotChange() throws Exception {
        try (TestBackend a = TestBackend.named("a"); TestBackend b = TestBackend.named("b")) {
            Upstream ua = Upstream.builder("ua").endpoint(Endpoint.builder("a").host("127.0.0.1").port(a.port()).build()).build();
            Upstream ub = Upstream.builder("ub").endpoint(Endpoint.builder("b").host("127.0.0.1").port(b.port()).build()).build();
            server = NettyProxyServer.builder(ProxyConfig.builder().route(Route.builder("r", ua).build()).build())
                    .bind("127.0.0.1", 0).workers(1).build();
            assertThrows(IllegalStateException.class, () -> server.reconfigure(ProxyConfig.builder()
                    .route(Route.builder("r", ub).build()).build()), "not started");
            server.start();
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(); // keeps its connection
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/x");
            assertEquals("a", client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body());

            server.reconfigure(ProxyConfig.builder().route(Route.builder("r", ub).pathPrefix("/x").build()).build());
            assertEquals("b", client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body());
            assertEquals(404, client.send(HttpRequest.newBuilder(uri.resolve("/y")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode(), "the old catch-all route is gone");

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> server.reconfigure(
                    ProxyConfig.builder().connectTimeout(Duration.ofSeconds(1)).route(Route.builder("r", ua).build()).build()));
            assertEquals("connectTimeout cannot change while the server runs (the backend pools were built for PT1M), "
                    + "got PT1S; restart to change it", e.getMessage());
            assertEquals("b", client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body(),
                    "a refused configuration changes nothing");
        }
    }
}

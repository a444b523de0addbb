package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.proxy.contract.ProxyFixture;
import io.lbkit.proxy.contract.SessionBackend;
import io.lbkit.proxy.contract.SessionBackend.Echo;
import io.lbkit.servlet.backend.SessionApiServlet;
import io.lbkit.servlet.testing.TestContainer;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionStore;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What only the servlet engine has of session forwarding: the session API next to the proxy
 * filter in one servlet context (Jetty 12 and Tomcat 11). Session forwarding itself is tested on
 * every engine by the contract suite ({@code SessionForwardingContractIT}, {@code SessionStoreOutageIT}).
 */
class SessionForwardingIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static SessionBackend backend;

    private final SessionStore store = InMemorySessionStore.builder().build();
    private TestContainer container;

    @BeforeAll
    static void startBackend() throws Exception {
        backend = new SessionBackend();
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    @AfterEach
    void stop() {
        if (container != null) {
            container.close();
        }
        store.close();
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void sessionApiAndProxyShareOneContextWhenTheFilterIsMappedToTheDefaultServlet(TestContainer.Kind kind)
            throws Exception {
        ProxyFilter filter = new ProxyFilter(ProxyConfig.builder()
                .route(Route.builder("all", Upstream.builder("session-backends")
                        .endpoint(ProxyFixture.endpoint("s1", backend.port())).build()).build())
                .sessionForwarding(SessionForwarding.builder(store).build()).build());
        container = TestContainer.start(kind, ctx -> {
            ctx.addServlet("session-api", SessionApiServlet.builder(store).loopbackOnly().build()).addMapping("/session");
            FilterRegistration.Dynamic reg = ctx.addFilter("lbkit-proxy", filter);
            reg.setAsyncSupported(true);
            // not "/*": the filter runs only for requests the default ("/") servlet would serve,
            // so /session (an exact servlet mapping) is never proxied
            reg.addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST), false, "lbkit-test-404");
        });
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        int hits = backend.hits.get();
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(container.uri("/session"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"bob\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        assertEquals(hits, backend.hits.get(), "/session was proxied");
        String id = JSON.readTree(created.body()).get("session_id").textValue();

        HttpResponse<String> proxied = http.send(HttpRequest.newBuilder(container.uri("/app?set="
                        + URLEncoder.encode("{\"cart\":3}", StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(30)).header("Cookie", "LBSESSION=" + id).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, proxied.statusCode());
        assertEquals(hits + 1, backend.hits.get());
        assertEquals(JSON.readTree("{\"user\":\"bob\"}"), JSON.readTree(new Echo(proxied.body()).one("x-session-data")));

        HttpResponse<String> read = http.send(HttpRequest.newBuilder(container.uri("/session?session_id=" + id))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, read.statusCode(), read.body());
        JsonNode data = JSON.readTree(read.body()).get("data");
        assertEquals(JSON.readTree("{\"user\":\"bob\",\"cart\":3}"), data);
        assertEquals(hits + 1, backend.hits.get(), "/session was proxied");
    }
}

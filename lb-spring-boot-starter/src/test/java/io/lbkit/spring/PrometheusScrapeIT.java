package io.lbkit.spring;

import static io.lbkit.spring.BootApps.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * An app with the Prometheus registry (and Actuator): lbkit's meters, the session store's calls
 * and the proxy side's requests, in the text Prometheus scrapes at {@code /actuator/prometheus},
 * after real requests through a real app on embedded Tomcat to a real backend on loopback.
 */
class PrometheusScrapeIT {

    /** The value of the first sample line of {@code name} whose labels contain every one of {@code labels}. */
    private static double sample(String text, String name, String... labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} ([0-9.eE+-]+)$").matcher(text);
        while (m.find()) {
            String found = m.group(1);
            boolean all = true;
            for (String l : labels) {
                all &= found.contains(l);
            }
            if (all) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no " + name + " with " + List.of(labels) + " in:\n" + text);
    }

    @Test
    void theSessionStoresCallsAndTheProxysRequestsAreScraped() throws Exception {
        HttpServer backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        backend.createContext("/", x -> {
            byte[] body = "backend".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        backend.start();
        String endpoint = "127.0.0.1:" + backend.getAddress().getPort();
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "management.endpoints.web.exposure.include=health,prometheus",
                "lbkit.upstreams.api.endpoints[0]=" + endpoint,
                "lbkit.routes[0].match.path-prefix=/api/",
                "lbkit.routes[0].upstream=api")) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = get(app, "/api/x", Map.of());
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("backend", r.body());
            }
            HttpResponse<String> own = get(app, "/count", Map.of()); // the app's own, using the session
            assertTrue(own.body().startsWith("count=1"), own.body());

            HttpResponse<String> scrape = get(app, "/actuator/prometheus", Map.of());
            assertEquals(200, scrape.statusCode(), scrape.body());
            String text = scrape.body();
            assertEquals(3.0, sample(text, "lbkit_proxy_requests_seconds_count", "endpoint=\"" + endpoint + "\"",
                    "code_class=\"2xx\"", "upstream=\"api\""), text);
            assertEquals(3.0, sample(text, "lbkit_proxy_upstream_response_seconds_count",
                    "endpoint=\"" + endpoint + "\""), text);
            assertEquals(1.0, sample(text, "lbkit_session_store_calls_seconds_count", "operation=\"create\"",
                    "outcome=\"ok\""), text);
        } finally {
            backend.stop(0);
        }
    }
}

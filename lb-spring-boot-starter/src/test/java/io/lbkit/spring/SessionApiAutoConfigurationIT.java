package io.lbkit.spring;

import static io.lbkit.spring.BootApps.get;
import static io.lbkit.spring.BootApps.send;
import static io.lbkit.spring.SessionAutoConfigurationIT.assertStartFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.servlet.backend.SessionApiServlet;
import io.lbkit.session.SessionStore;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The session API of the starter, served by a real Spring Boot app on an embedded Tomcat. */
class SessionApiAutoConfigurationIT {

    private static final String TOKEN = "spring-boot-test-token-0123456789";
    private static final Pattern ID = Pattern.compile("\"session_id\":\"([A-Za-z0-9_-]+)\"");

    @Test
    void enabledTheApiAnswersWithItsTokenAndSharesTheStoreWithGetSession() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "lbkit.session.api.enabled=true", "lbkit.session.api.token=" + TOKEN,
                "lbkit.session.api.path=/api/session")) {
            Map<String, String> auth = Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json");
            HttpResponse<String> created = send(app, "POST", "/api/session", auth, "{\"count\":41}");
            assertEquals(201, created.statusCode(), created.body());
            Matcher m = ID.matcher(created.body());
            assertTrue(m.find(), created.body());
            String id = m.group(1);
            assertEquals(41, app.getBean(SessionStore.class).load(id).orElseThrow().attribute("count").intValue());

            // the app's request.getSession() sees the session the API made, and the API sees its change
            assertEquals("count=42 id=" + id + " timeout=86400",
                    get(app, "/count", Map.of("Cookie", "LBSESSION=" + id)).body());
            HttpResponse<String> read = get(app, "/api/session?session_id=" + id, auth);
            assertEquals(200, read.statusCode(), read.body());
            assertTrue(read.body().contains("\"data\":{\"count\":42}"), read.body());

            HttpResponse<String> noToken = get(app, "/api/session?session_id=" + id, Map.of());
            assertEquals(401, noToken.statusCode());
            HttpResponse<String> wrongToken = get(app, "/api/session?session_id=" + id,
                    Map.of("Authorization", "Bearer " + TOKEN.replace('0', 'x')));
            assertEquals(403, wrongToken.statusCode());
        }
    }

    @Test
    void anAllowListAloneOpensItToThoseAddresses() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "lbkit.session.api.enabled=true", "lbkit.session.api.allow=10.0.0.0/8")) {
            // the test calls from 127.0.0.1, which is not on the list
            assertEquals(403, get(app, "/session?session_id=" + "A".repeat(32), Map.of()).statusCode());
        }
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "lbkit.session.api.enabled=true", "lbkit.session.api.allow=127.0.0.1,::1")) {
            assertEquals(404, get(app, "/session?session_id=" + "A".repeat(32), Map.of()).statusCode());
        }
    }

    @Test
    void offByDefaultThePathIsTheAppsOwn() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class))) {
            assertTrue(app.getBeansOfType(org.springframework.boot.web.servlet.ServletRegistrationBean.class)
                    .keySet().stream().noneMatch(n -> n.startsWith("lbkit")));
            HttpResponse<String> r = send(app, "POST", "/session",
                    Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"), "{\"a\":1}");
            assertEquals(404, r.statusCode(), r.body());
        }
    }

    @Test
    void aRegistrationOfTheAppsOwnApiServletReplacesTheStartersApi() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, OwnApi.class),
                "lbkit.session.api.enabled=true", "lbkit.session.api.token=" + TOKEN)) {
            assertFalse(app.containsBean("lbkitSessionApi"));
            // the app's API answers at its own path, loopback only and with no token ...
            HttpResponse<String> own = send(app, "POST", "/own-api", Map.of("Content-Type", "application/json"),
                    "{\"a\":1}");
            assertEquals(201, own.statusCode(), own.body());
            // ... and the starter's is not there
            HttpResponse<String> starters = send(app, "POST", "/session",
                    Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"), "{\"a\":1}");
            assertEquals(404, starters.statusCode(), starters.body());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnApi {
        @Bean
        ServletRegistrationBean<SessionApiServlet> ownApi(SessionStore store) {
            return new ServletRegistrationBean<>(SessionApiServlet.builder(store).loopbackOnly().build(), "/own-api");
        }
    }

    @Test
    void enabledWithNeitherTokenNorAllowListItFailsStartUp() {
        assertStartFails("lbkit.session.api.token", "lbkit.session.api.enabled=true");
        String m = assertStartFails("lbkit.session.api.token", "lbkit.session.api.enabled=true",
                "lbkit.session.api.token=short-secret");
        assertTrue(!m.contains("short-secret"), m);
        assertStartFails("lbkit.session.api.path", "lbkit.session.api.enabled=true",
                "lbkit.session.api.token=" + TOKEN, "lbkit.session.api.path=/session/*");
    }
}

package io.lbkit.spring;

import static io.lbkit.spring.BootApps.cookie;
import static io.lbkit.spring.BootApps.get;
import static io.lbkit.spring.BootApps.messages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.servlet.backend.InstanceIdFilter;
import io.lbkit.servlet.backend.SessionFilter;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The backend auto-configuration in a real Spring Boot app on an embedded Tomcat, over real sockets. */
class SessionAutoConfigurationIT {

    @Test
    void getSessionIsBackedByTheAutoConfiguredStore() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class))) {
            HttpResponse<String> first = get(app, "/count", Map.of());
            assertEquals(200, first.statusCode(), first.body());
            String id = cookie(first, "LBSESSION");
            assertNotNull(id, "Set-Cookie: " + first.headers().allValues("Set-Cookie"));
            assertEquals("LBSESSION=" + id + "; Path=/; HttpOnly; SameSite=Lax",
                    first.headers().firstValue("Set-Cookie").orElseThrow());
            assertEquals("count=1 id=" + id + " timeout=86400", first.body());

            HttpResponse<String> second = get(app, "/count", Map.of("Cookie", "LBSESSION=" + id));
            assertEquals("count=2 id=" + id + " timeout=86400", second.body());
            assertNull(cookie(second, "LBSESSION"), "no new cookie for a known session");

            SessionStore store = BootApps.store(app);
            assertInstanceOf(InMemorySessionStore.class, store);
            Session stored = store.load(id).orElseThrow();
            assertEquals(2, stored.attribute("count").intValue());
            assertEquals(Duration.ofHours(24), stored.maxInactiveInterval());

            // Tomcat kept no session of its own: the container's session manager never saw one
            HttpResponse<String> withoutCookie = get(app, "/count", Map.of());
            assertEquals("count=1", withoutCookie.body().substring(0, 7));
            assertFalse(withoutCookie.headers().allValues("Set-Cookie").stream().anyMatch(h -> h.startsWith("JSESSIONID")));

            @SuppressWarnings("unchecked")
            FilterRegistrationBean<SessionFilter> reg =
                    app.getBean("lbkitSessionFilterRegistration", FilterRegistrationBean.class);
            assertEquals(Integer.MIN_VALUE + 50, reg.getOrder());
            assertTrue(reg.isAsyncSupported());
            assertSame(app.getBean(SessionFilter.class), reg.getFilter());
        }
    }

    @Test
    void cookieAndTimeoutPropertiesReachTheFilterAndTheStore() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "lbkit.session.idle-timeout=30m", "lbkit.session.absolute-timeout=8h",
                "lbkit.session.cookie.name=SID", "lbkit.session.cookie.same-site=strict",
                "lbkit.session.cookie.secure=always", "lbkit.session.cookie.max-age=3600",
                "lbkit.session.cookie.path=/app-path")) {
            HttpResponse<String> first = get(app, "/count", Map.of());
            String id = cookie(first, "SID");
            assertNotNull(id, "Set-Cookie: " + first.headers().allValues("Set-Cookie"));
            assertEquals("SID=" + id + "; Path=/app-path; Max-Age=3600; Secure; HttpOnly; SameSite=Strict",
                    first.headers().firstValue("Set-Cookie").orElseThrow());
            assertEquals("count=1 id=" + id + " timeout=1800", first.body());
            assertEquals("count=2 id=" + id + " timeout=1800", get(app, "/count", Map.of("Cookie", "SID=" + id)).body());

            SessionSettings settings = app.getBean(SessionStore.class).settings();
            assertEquals(Duration.ofMinutes(30), settings.idleTimeout());
            assertEquals(Duration.ofHours(8), settings.absoluteTimeout());
        }
    }

    @Test
    void sessionFilterRunsBeforeTheAppsOwnFilters() throws Exception {
        // a filter of the app at Spring Security's default order (-100) already sees lbkit's session
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, SecurityLikeFilter.class))) {
            HttpResponse<String> first = get(app, "/count", Map.of());
            String id = cookie(first, "LBSESSION");
            assertEquals(id, first.headers().firstValue("X-Seen-Session").orElseThrow());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class SecurityLikeFilter {
        @Bean
        FilterRegistrationBean<jakarta.servlet.Filter> securityLike() {
            FilterRegistrationBean<jakarta.servlet.Filter> r = new FilterRegistrationBean<>((req, resp, chain) -> {
                var session = ((jakarta.servlet.http.HttpServletRequest) req).getSession();
                ((jakarta.servlet.http.HttpServletResponse) resp).setHeader("X-Seen-Session", session.getId());
                chain.doFilter(req, resp);
            });
            r.setOrder(-100);
            return r;
        }
    }

    @Test
    void aSessionStoreBeanOfTheAppReplacesTheAutoConfiguredOne() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, OwnStore.class))) {
            assertEquals(1, app.getBeansOfType(SessionStore.class).size());
            SessionStore store = app.getBean(SessionStore.class);
            assertSame(app.getBean("ownStore"), store);
            assertEquals(Duration.ofMinutes(5), store.settings().idleTimeout());

            HttpResponse<String> first = get(app, "/count", Map.of());
            String id = cookie(first, "LBSESSION");
            assertEquals("count=1 id=" + id + " timeout=300", first.body());
            assertEquals(1, store.load(id).orElseThrow().attribute("count").intValue());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnStore {
        @Bean(destroyMethod = "close")
        SessionStore ownStore() {
            return InMemorySessionStore.builder()
                    .settings(SessionSettings.builder().idleTimeout(Duration.ofMinutes(5)).build())
                    .build();
        }
    }

    @Test
    void aSessionFilterBeanOfTheAppIsRegisteredInsteadAtTheSameOrder() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, OwnFilter.class))) {
            assertEquals(1, app.getBeansOfType(SessionFilter.class).size());
            HttpResponse<String> first = get(app, "/count", Map.of());
            assertNotNull(cookie(first, "MINE"), "Set-Cookie: " + first.headers().allValues("Set-Cookie"));
            @SuppressWarnings("unchecked")
            FilterRegistrationBean<SessionFilter> reg =
                    app.getBean("lbkitSessionFilterRegistration", FilterRegistrationBean.class);
            assertSame(app.getBean("ownFilter"), reg.getFilter());
            assertEquals(Integer.MIN_VALUE + 50, reg.getOrder());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnFilter {
        @Bean
        SessionFilter ownFilter(SessionStore store) {
            return SessionFilter.builder(store).cookieName("MINE").build();
        }
    }

    @Test
    void aRegistrationOfTheAppsOwnSessionFilterReplacesFilterAndRegistration() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, OwnRegistration.class))) {
            assertTrue(app.getBeansOfType(SessionFilter.class).isEmpty());
            assertFalse(app.containsBean("lbkitSessionFilterRegistration"));
            HttpResponse<String> first = get(app, "/count", Map.of());
            String id = cookie(first, "OWNREG");
            assertNotNull(id, "Set-Cookie: " + first.headers().allValues("Set-Cookie"));
            assertNull(cookie(first, "LBSESSION"));
            assertEquals("count=2 id=" + id + " timeout=86400",
                    get(app, "/count", Map.of("Cookie", "OWNREG=" + id)).body());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnRegistration {
        @Bean
        FilterRegistrationBean<SessionFilter> ownRegistration(SessionStore store) {
            FilterRegistrationBean<SessionFilter> r =
                    new FilterRegistrationBean<>(SessionFilter.builder(store).cookieName("OWNREG").build());
            r.setOrder(-200);
            return r;
        }
    }

    @Test
    void offByPropertyTheContainerKeepsItsOwnSessions() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "lbkit.session.enabled=false")) {
            assertTrue(app.getBeansOfType(SessionStore.class).isEmpty());
            HttpResponse<String> first = get(app, "/count", Map.of());
            assertNull(cookie(first, "LBSESSION"));
            assertNotNull(cookie(first, "JSESSIONID"), "Set-Cookie: " + first.headers().allValues("Set-Cookie"));
        }
    }

    @Test
    void anInvalidPropertyFailsStartUpNamingIt() {
        assertStartFails("lbkit.session.idle-timeout", "lbkit.session.idle-timeout=0s");
        assertStartFails("lbkit.session.idle-timeout", "lbkit.session.idle-timeout=soon");
        assertStartFails("lbkit.session.cookie.name", "lbkit.session.cookie.name=a b");
        assertStartFails("lbkit.session.cookie.same-site", "lbkit.session.cookie.same-site=lazy");
        assertStartFails("lbkit.session.trusted-proxies", "lbkit.session.trusted-proxies=10.0.0.0/33");
        assertStartFails("lbkit.session.max-session-bytes", "lbkit.session.max-session-bytes=10B");
        String m = assertStartFails("lbkit.session.store", "lbkit.session.store=http://user:secret-pw@host:80");
        assertFalse(m.contains("secret-pw"), m);
    }

    @Test
    void aRedisStoreWithoutLbSessionRedisFailsStartUpNamingTheProperty() {
        ClassLoader withoutRedisModule = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.startsWith("io.lbkit.session.redis.")) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }
        };
        RuntimeException e = assertThrows(RuntimeException.class, () -> BootApps.start(withoutRedisModule,
                List.of(TestApp.class), "lbkit.session.store=redis://user:secret-pw@127.0.0.1:1/0",
                "logging.level.root=OFF").close());
        String m = messages(e);
        assertTrue(m.contains("lbkit.session.store") && m.contains("io.lbkit:lb-session-redis"), m);
        assertFalse(m.contains("secret-pw"), m);
    }

    @Test
    void theInstanceIdHeaderIsOffByDefaultAndOnByProperty() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class))) {
            assertTrue(get(app, "/count", Map.of()).headers().firstValue("X-Instance-ID").isEmpty());
        }
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "lbkit.instance-id.enabled=true", "lbkit.instance-id.value=backend-1",
                "lbkit.instance-id.header=X-Served-By")) {
            HttpResponse<String> r = get(app, "/count", Map.of());
            assertEquals("backend-1", r.headers().firstValue("X-Served-By").orElseThrow());
            // error responses carry it too
            assertEquals("backend-1", get(app, "/nowhere", Map.of()).headers().firstValue("X-Served-By").orElseThrow());
        }
        assertStartFails("lbkit.instance-id.header", "lbkit.instance-id.enabled=true",
                "lbkit.instance-id.header=X Bad");
    }

    @Test
    void anInstanceIdFilterOfTheAppReplacesTheStartersFilter() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, OwnInstanceId.class),
                "lbkit.instance-id.enabled=true", "lbkit.instance-id.value=from-properties")) {
            assertFalse(app.containsBean("lbkitInstanceIdFilterRegistration"));
            HttpResponse<String> r = get(app, "/count", Map.of());
            assertEquals(List.of("from-bean"), r.headers().allValues("X-Instance-ID"));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnInstanceId {
        @Bean
        InstanceIdFilter ownInstanceId() {
            return new InstanceIdFilter("from-bean", null);
        }
    }

    /** Starting with {@code properties} fails, and the failure names {@code property}; returns the messages. */
    static String assertStartFails(String property, String... properties) {
        // the expected failure is asserted here: keep its report and stack traces out of the build log
        String[] quiet = java.util.stream.Stream.concat(java.util.Arrays.stream(properties),
                java.util.stream.Stream.of("logging.level.root=OFF")).toArray(String[]::new);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> BootApps.start(List.of(TestApp.class), quiet).close(), String.join(", ", properties));
        String m = messages(e);
        assertTrue(m.contains(property), "expected the failure to name " + property + ":\n" + m);
        return m;
    }
}

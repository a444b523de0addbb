package io.lbkit.servlet.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.proxy.contract.Http;
import io.lbkit.servlet.testing.TestContainer;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionStore;
import jakarta.servlet.DispatcherType;
import java.net.http.HttpResponse;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The web.xml way: a no-arg filter configured by init-params, its store shared through the context. */
class SessionFilterInitParamsIT {

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void initParamsConfigureTheCookieAndTheStoreIsShared(TestContainer.Kind kind) {
        AtomicReference<Object> storeSeen = new AtomicReference<>();
        try (TestContainer c = TestContainer.start(kind, ctx -> {
            var f = ctx.addFilter("sessions", SessionFilter.class);
            f.setInitParameters(Map.of("cookie-name", "SID", "cookie-path", "/app", "same-site", "strict",
                    "secure", "always", "cookie-max-age", "3600", "cookie-domain", "example.test",
                    "save-mode", "on-get-attribute"));
            f.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/app/*");
            var app = ctx.addServlet("app", new AppServlet());
            app.addMapping("/app/x");
            ctx.addServlet("peek", new jakarta.servlet.http.HttpServlet() {
                private static final long serialVersionUID = 1L;

                @Override
                protected void doGet(jakarta.servlet.http.HttpServletRequest req,
                                     jakarta.servlet.http.HttpServletResponse resp) {
                    storeSeen.set(req.getServletContext().getAttribute(SessionFilter.STORE_ATTRIBUTE));
                }
            }).addMapping("/peek");
        })) {
            HttpResponse<String> r = Http.get(c.uri("/app/x?op=set&k=a&v=1"));
            assertEquals(200, r.statusCode());
            String id = Http.cookieValue(r, "SID");
            assertEquals(List.of("SID=" + id + "; Path=/app; Domain=example.test; Max-Age=3600; Secure; HttpOnly; SameSite=Strict"),
                    Http.setCookies(r));
            assertEquals("id=" + id + " new=false attrs={a=1}", Http.get(c.uri("/app/x?op=get"), "Cookie", "SID=" + id).body());
            Http.get(c.uri("/peek"));
            assertTrue(storeSeen.get() instanceof InMemorySessionStore, String.valueOf(storeSeen.get()));
        }
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void aStoreInTheContextIsUsed(TestContainer.Kind kind) {
        SessionStore store = InMemorySessionStore.builder().build();
        try (TestContainer c = TestContainer.start(kind, ctx -> {
            ctx.setAttribute(SessionFilter.STORE_ATTRIBUTE, store);
            ctx.addFilter("sessions", SessionFilter.class)
                    .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
            ctx.addServlet("app", new AppServlet()).addMapping("/x");
        })) {
            HttpResponse<String> r = Http.get(c.uri("/x?op=set&k=a&v=1"));
            String id = Http.cookieValue(r, "LBSESSION");
            assertEquals("1", store.load(id).orElseThrow().attribute("a").textValue());
        }
    }

    @Test
    void builderRejectsBadSettingsNamingThem() {
        SessionStore store = InMemorySessionStore.builder().build();
        assertEquals("cookieName must be a non-empty RFC 6265 token, got 'a b'",
                assertThrows(IllegalArgumentException.class, () -> SessionFilter.builder(store).cookieName("a b").build()).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SessionFilter.builder(store).cookiePath("/x;Domain=evil").build()).getMessage().startsWith("cookiePath"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SessionFilter.builder(store).cookieMaxAgeSeconds(-2).build()).getMessage().contains("-2"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SessionFilter.builder(store).trustedProxies("10.0.0.0/33").build()).getMessage().contains("10.0.0.0/33"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SessionFilter.parseEnum(SessionCookies.SameSite.class, "same-site", "lazy")).getMessage()
                .contains("same-site must be one of [lax, strict, none], got 'lazy'"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SessionApiServlet.builder(store).token("short")).getMessage().contains("at least 16"));
    }
}

package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SessionForwardingTest {

    private final SessionStore store = InMemorySessionStore.builder().build();

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void buildRejectsBadSettingsNamingTheField() {
        assertMessage("cookieName must be a token, got 'a b'", () -> SessionForwarding.builder(store).cookieName("a b").build());
        assertMessage("cookiePath must start with /", () -> SessionForwarding.builder(store).cookiePath("x").build());
        assertMessage("idHeader must be a header name, got 'X:Y'", () -> SessionForwarding.builder(store).idHeader("X:Y").build());
        assertMessage("dataHeader must be a header name, got ''", () -> SessionForwarding.builder(store).dataHeader("").build());
        assertMessage("newDataHeader must be a header name, got 'null'",
                () -> SessionForwarding.builder(store).newDataHeader(null).build());
        assertMessage("idHeader and dataHeader must differ", () -> SessionForwarding.builder(store)
                .idHeader("X-A").dataHeader("x_a").build());
        assertMessage("maxDataBytes must be >= 64, got 10", () -> SessionForwarding.builder(store).maxDataBytes(10).build());
        assertMessage("maxPatchBytes must be >= 64, got 0", () -> SessionForwarding.builder(store).maxPatchBytes(0).build());
        assertThrows(NullPointerException.class, () -> SessionForwarding.builder(null));
    }

    @Test
    void defaults() {
        SessionForwarding d = SessionForwarding.builder(store).build();
        assertEquals("LBSESSION", d.cookieName());
        assertEquals("X-Session-ID", d.idHeader());
        assertEquals("X-Session-Data", d.dataHeader());
        assertEquals("X-Session-Data-Truncated", d.truncatedHeader());
        assertEquals("X-New-Session-Data", d.newDataHeader());
        assertEquals(8192, d.maxDataBytes());
        assertEquals(8192, d.maxPatchBytes());
        assertEquals(SessionCookies.SameSite.LAX, d.sameSite());
        assertEquals(SessionCookies.SecureCookie.AUTO, d.secure());
        assertEquals("/", d.cookiePath());
        assertNull(d.executor());
    }

    private static void assertMessage(String start, org.junit.jupiter.api.function.Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }
}

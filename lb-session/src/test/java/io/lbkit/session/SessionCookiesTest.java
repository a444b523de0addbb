package io.lbkit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SessionCookiesTest {

    @Test
    void setCookieForms() {
        assertEquals("LBSESSION=abc; Path=/; HttpOnly; SameSite=Lax",
                SessionCookies.setCookie("LBSESSION", "abc", "/", null, -1, SessionCookies.SameSite.LAX, false));
        assertEquals("s=abc; Path=/app; Domain=example.com; Max-Age=60; Secure; HttpOnly; SameSite=Strict",
                SessionCookies.setCookie("s", "abc", "/app", "example.com", 60, SessionCookies.SameSite.STRICT, true));
        assertEquals("s=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax",
                SessionCookies.setCookie("s", null, "/", null, 60, SessionCookies.SameSite.LAX, false));
        // browsers drop SameSite=None without Secure
        assertEquals("s=a; Path=/; Secure; HttpOnly; SameSite=None",
                SessionCookies.setCookie("s", "a", "/", null, -1, SessionCookies.SameSite.NONE, false));
    }

    @Test
    void tokens() {
        assertTrue(SessionCookies.isToken("X-Session_ID.1~!#$%&'*+^`|"));
        for (String bad : new String[] {"a b", "a;b", "a=b", "a\"b", "a/b", "a\u00e9", "a\tb", "a(b)", "a,b"}) {
            assertFalse(SessionCookies.isToken(bad), bad);
        }
    }
}

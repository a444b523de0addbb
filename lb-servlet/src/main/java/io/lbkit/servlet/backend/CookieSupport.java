package io.lbkit.servlet.backend;

import io.lbkit.session.SessionCookies;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Session cookie reading and writing; one {@code Set-Cookie} per name per response. */
final class CookieSupport {

    private CookieSupport() {
    }

    /** RFC 9110 token characters (header names, cookie names). */
    static boolean isToken(String s) {
        return SessionCookies.isToken(s);
    }

    /** No ';', no control characters, no spaces: safe inside a Set-Cookie attribute. */
    static boolean isSafeAttributeValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',') {
                return false;
            }
        }
        return true;
    }

    /** Every value of the named cookie the client sent, in order (at most {@code max}). */
    static List<String> values(HttpServletRequest req, String name, int max) {
        Cookie[] cookies = req.getCookies();
        List<String> out = new ArrayList<>(1);
        if (cookies != null) {
            for (Cookie c : cookies) {
                if (name.equals(c.getName()) && c.getValue() != null && out.size() < max) {
                    out.add(c.getValue());
                }
            }
        }
        return out;
    }

    /** The Set-Cookie value; {@code value == null} deletes the cookie. */
    static String header(SessionFilter.Config c, String path, boolean secure, String value) {
        return SessionCookies.setCookie(c.cookieName(), value, path, c.cookieDomain(), c.cookieMaxAge(), c.sameSite(), secure);
    }

    /**
     * Sets our cookie, replacing one this response already carries under the same name and keeping
     * every other {@code Set-Cookie}. Returns false when the response is already committed.
     */
    static boolean write(HttpServletResponse resp, String name, String headerValue) {
        if (resp.isCommitted()) {
            return false;
        }
        Collection<String> existing = resp.getHeaders("Set-Cookie");
        String prefix = name + "=";
        List<String> keep = new ArrayList<>(existing.size());
        boolean replaced = false;
        for (String h : existing) {
            if (h.startsWith(prefix)) {
                replaced = true;
            } else {
                keep.add(h);
            }
        }
        if (replaced) {
            resp.setHeader("Set-Cookie", null);
            for (String h : keep) {
                resp.addHeader("Set-Cookie", h);
            }
        }
        resp.addHeader("Set-Cookie", headerValue);
        return true;
    }
}

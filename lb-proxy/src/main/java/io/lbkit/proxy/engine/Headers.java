package io.lbkit.proxy.engine;

import io.lbkit.session.SessionCookies;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/** Header rules shared by the request and response sides. Stateless. */
public final class Headers {

    private Headers() {
    }

    /** RFC 9110 hop-by-hop headers, lower case (plus the non-standard Proxy-Connection). */
    public static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection");

    /**
     * Whether a trailer field may cross the proxy: not a hop-by-hop or framing field, not a
     * field the proxy owns (session headers, forwarding headers), not one that only makes sense
     * in the header section (RFC 9110 §6.5.1: routing, authentication, caching controls).
     */
    public static boolean isForwardableTrailer(String name) {
        String lower = name.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        return !HOP_BY_HOP.contains(lower) && !REGENERATED.contains(lower) && !isSessionHeader(name)
                && !NOT_IN_TRAILERS.contains(lower);
    }

    private static final Set<String> NOT_IN_TRAILERS = Set.of("content-type", "content-encoding", "content-range",
            "authorization", "cookie", "set-cookie", "cache-control", "expires", "date", "age", "location", "vary",
            "www-authenticate", "max-forwards", "range");

    /** Request headers the proxy regenerates or handles itself, lower case. */
    public static final Set<String> REGENERATED = Set.of("host", "content-length", "expect", "x-forwarded-for",
            "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip", "forwarded", "via");

    /**
     * Whether a backend response header is hidden from the client, as nginx's
     * {@code proxy_hide_header} defaults: {@code X-Pad} and the {@code X-Accel-*} family
     * (instructions to the proxy, such as {@code X-Accel-Buffering} and {@code X-Accel-Redirect},
     * not meant for clients). {@code lower} is the name in lower case.
     */
    public static boolean isHiddenResponse(String lower) {
        return lower.startsWith("x-accel-") || lower.equals("x-pad");
    }

    /** {@link #isHiddenResponse} for a name in any case, without copying it. */
    static boolean isHiddenResponseName(CharSequence name) {
        return startsWithIgnoreCase(name, "x-accel-") || equalsIgnoreCase(name, "x-pad");
    }

    private static final String[] HOP_BY_HOP_NAMES = HOP_BY_HOP.toArray(String[]::new);

    /** Whether {@code name}, in any case, is one of {@link #HOP_BY_HOP}; copies nothing. */
    public static boolean isHopByHop(CharSequence name) {
        for (String h : HOP_BY_HOP_NAMES) {
            if (equalsIgnoreCase(name, h)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code name} equals {@code lower} (lower case) ignoring ASCII case; copies nothing. */
    public static boolean equalsIgnoreCase(CharSequence name, String lower) {
        return name.length() == lower.length() && startsWithIgnoreCase(name, lower);
    }

    private static boolean startsWithIgnoreCase(CharSequence name, String lower) {
        if (name.length() < lower.length()) {
            return false;
        }
        for (int i = 0; i < lower.length(); i++) {
            char c = name.charAt(i);
            if ((c >= 'A' && c <= 'Z' ? (char) (c + 32) : c) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 token. */
    public static boolean isToken(CharSequence s) {
        return SessionCookies.isToken(s);
    }

    /**
     * Whether {@code name} is a session-forwarding header that a client must never set: it starts
     * with {@code x-session-} or {@code x-new-session-}, in any case and with {@code _} for
     * {@code -} (servers such as nginx with underscores_in_headers, and CGI-style frameworks, treat
     * {@code X_Session_Id} as {@code X-Session-Id}).
     */
    public static boolean isSessionHeader(CharSequence name) {
        return startsWithNormalized(name, "x-session-") || startsWithNormalized(name, "x-new-session-")
                || equalsNormalized(name, "x-session") || equalsNormalized(name, "x-new-session");
    }

    private static boolean startsWithNormalized(CharSequence name, String prefix) {
        if (name.length() < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (normalize(name.charAt(i)) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean equalsNormalized(CharSequence name, String target) {
        return name.length() == target.length() && startsWithNormalized(name, target);
    }

    /**
     * Whether two header names are the same field as a CGI-style backend reads them: equal
     * ignoring ASCII case, with {@code _} read as {@code -}.
     */
    public static boolean sameFieldName(CharSequence a, String b) {
        if (a.length() != b.length()) {
            return false;
        }
        for (int i = 0; i < a.length(); i++) {
            if (normalize(a.charAt(i)) != normalize(b.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static char normalize(char c) {
        if (c == '_') {
            return '-';
        }
        return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }

    /**
     * The lower-case names listed in {@code Connection} header values (RFC 9110 §7.6.1), which are
     * hop-by-hop too; null when there are none.
     */
    public static Set<String> connectionTokens(Iterable<String> connectionValues) {
        Set<String> out = null;
        for (String v : connectionValues) {
            if (v == null) {
                continue;
            }
            for (String t : v.split(",")) {
                String n = t.trim().toLowerCase(Locale.ROOT);
                if (!n.isEmpty()) {
                    if (out == null) {
                        out = new TreeSet<>();
                    }
                    out.add(n);
                }
            }
        }
        return out;
    }

    /** The address as X-Forwarded-For writes it: dotted IPv4, or IPv6 without brackets. */
    public static String xffAddress(InetAddress a) {
        String s = a.getHostAddress();
        int pct = s.indexOf('%');
        return pct >= 0 ? s.substring(0, pct) : s;
    }

    /** The RFC 7239 node for an address: bare IPv4, quoted and bracketed IPv6. */
    public static String forwardedNode(InetAddress a) {
        if (a instanceof Inet6Address) {
            return "\"[" + xffAddress(a) + "]\"";
        }
        return a.getHostAddress();
    }

    /** An RFC 7239 value: as is when a token, else a quoted-string with {@code "} and {@code \} escaped. */
    public static String forwardedValue(String v) {
        if (!v.isEmpty() && isToken(v)) {
            return v;
        }
        StringBuilder sb = new StringBuilder(v.length() + 2).append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    /**
     * Whether {@code host} is a valid Host header value: reg-name or IPv4 or bracketed IPv6,
     * optionally {@code :port} (RFC 9110 §7.2, RFC 3986 §3.2.2).
     */
    /**
     * nginx's {@code $host} from a valid Host value: the name without the port and without a
     * trailing dot, in lower case ({@code WWW.Example.COM.:8080} gives {@code www.example.com};
     * an IPv6 literal keeps its brackets).
     */
    public static String hostName(String host) {
        int end;
        if (host.startsWith("[")) {
            end = host.indexOf(']') + 1;
        } else {
            int colon = host.indexOf(':');
            end = colon < 0 ? host.length() : colon;
            if (end > 1 && host.charAt(end - 1) == '.') {
                end--;
            }
        }
        String name = end == host.length() ? host : host.substring(0, end);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return name.toLowerCase(Locale.ROOT);
            }
        }
        return name;
    }

    public static boolean isValidHost(String host) {
        if (host == null || host.isEmpty() || host.length() > 255 + 6) {
            return false;
        }
        int i = 0;
        int n = host.length();
        if (host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 2) {
                return false;
            }
            for (int k = 1; k < close; k++) {
                char c = host.charAt(k);
                if (!(c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                    return false;
                }
            }
            i = close + 1;
        } else {
            while (i < n && host.charAt(i) != ':') {
                char c = host.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || "-._~%!$&'()*+,;=".indexOf(c) >= 0;
                if (!ok) {
                    return false;
                }
                i++;
            }
            if (i == 0) {
                return false;
            }
        }
        if (i == n) {
            return true;
        }
        if (host.charAt(i) != ':' || i + 1 == n || n - i - 1 > 5) {
            return false;
        }
        for (int k = i + 1; k < n; k++) {
            char c = host.charAt(k);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
}

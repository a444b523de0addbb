package io.lbkit.servlet.proxy;

import io.lbkit.core.PickRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Objects;

/**
 * A value taken from each request: the client address, a header, a cookie, a query parameter, a
 * form field of an {@code application/x-www-form-urlencoded} body, or the request URI. Routes use
 * it as the hash key of a hashing policy ({@link Route.Builder#hashKey}, nginx
 * {@code hash $http_x_user}) and as the value that names the endpoint of a targeted route
 * ({@link Route.Builder#target}). Immutable.
 *
 * <pre>{@code
 * RequestValue.header("X-User")      // nginx $http_x_user
 * RequestValue.cookie("uid")         // nginx $cookie_uid
 * RequestValue.query("id")           // nginx $arg_id
 * RequestValue.uri()                 // nginx $request_uri (path and query, as received)
 * RequestValue.clientIp()            // nginx $remote_addr
 * RequestValue.formField("backend")  // backend=backend_one in a urlencoded body (targets only)
 * RequestValue.param("backend")      // the query parameter, else the form field (targets only)
 * }</pre>
 *
 * <p>As a hash key the value is taken as received (a query parameter or cookie is not
 * percent-decoded, as nginx's {@code $arg_} and {@code $cookie_}); a missing or empty value means
 * no key, which hashing policies answer with round robin (nginx). As a target the value is
 * trimmed, and query parameters and form fields are percent-decoded.
 *
 * <p>The query string is parsed by the filter, never with {@code getParameter}, which would
 * consume a form body that must still reach the backend.
 */
public final class RequestValue {

    /** Where the value comes from. */
    public enum Source {
        /** The client address as text (IPv6 without brackets); nginx {@code $remote_addr}. */
        CLIENT_IP,
        /** A request header (the first one of that name). */
        HEADER,
        /** A cookie. */
        COOKIE,
        /** A query parameter (the first one of that name). */
        QUERY,
        /** A field of an {@code application/x-www-form-urlencoded} request body. */
        FORM,
        /** The query parameter if present, else the form field. */
        PARAM,
        /** The request URI with its query string, as received; nginx {@code $request_uri}. */
        URI
    }

    private static final RequestValue CLIENT_IP = new RequestValue(Source.CLIENT_IP, null);
    private static final RequestValue URI = new RequestValue(Source.URI, null);

    private final Source source;
    private final String name;

    private RequestValue(Source source, String name) {
        this.source = source;
        this.name = name;
    }

    /** The client address. */
    public static RequestValue clientIp() {
        return CLIENT_IP;
    }

    /** The request URI with its query string. */
    public static RequestValue uri() {
        return URI;
    }

    /** The header {@code name} (case-insensitive). */
    public static RequestValue header(String name) {
        return named(Source.HEADER, name);
    }

    /** The cookie {@code name}. */
    public static RequestValue cookie(String name) {
        return named(Source.COOKIE, name);
    }

    /** The query parameter {@code name}. */
    public static RequestValue query(String name) {
        return named(Source.QUERY, name);
    }

    /** The field {@code name} of a urlencoded form body (targets only: it needs the body). */
    public static RequestValue formField(String name) {
        return named(Source.FORM, name);
    }

    /** The query parameter {@code name}, else the form field {@code name} (targets only). */
    public static RequestValue param(String name) {
        return named(Source.PARAM, name);
    }

    private static RequestValue named(Source source, String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || (source == Source.HEADER && !Headers.isToken(name))) {
            throw new IllegalArgumentException(source.name().toLowerCase(Locale.ROOT)
                    + " name must be " + (source == Source.HEADER ? "a header name" : "non-empty") + ", got '" + name + "'");
        }
        return new RequestValue(source, name);
    }

    public Source source() {
        return source;
    }

    /** The header, cookie, parameter or field name; null for {@link Source#CLIENT_IP} and {@link Source#URI}. */
    public String name() {
        return name;
    }

    /** Whether this value may have to be read from the request body. */
    boolean needsBody() {
        return source == Source.FORM || source == Source.PARAM;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RequestValue v && v.source == source && Objects.equals(v.name, name);
    }

    @Override
    public int hashCode() {
        return source.hashCode() * 31 + Objects.hashCode(name);
    }

    @Override
    public String toString() {
        return name == null ? source.name().toLowerCase(Locale.ROOT).replace('_', '-')
                : source.name().toLowerCase(Locale.ROOT) + ":" + name;
    }

    // =====================================================================================
    // hash keys: no decoding, no copies beyond the reusable slice
    // =====================================================================================

    /**
     * Sets the hash key of {@code pick} from {@code req}; leaves it unset when the value is
     * missing or empty. {@code slice} is a reusable view (one per exchange).
     */
    void applyHashKey(PickRequest pick, HttpServletRequest req, String pathAndQuery, Slice slice) {
        switch (source) {
            case CLIENT_IP -> {
                String a = req.getRemoteAddr();
                if (a != null && !a.isEmpty()) {
                    int from = a.startsWith("[") ? 1 : 0;
                    int to = a.endsWith("]") ? a.length() - 1 : a.length();
                    pick.hashKey(from == 0 && to == a.length() ? a : slice.set(a, from, to));
                }
            }
            case URI -> pick.hashKey(pathAndQuery);
            case HEADER -> {
                String v = req.getHeader(name);
                if (v != null && !v.isEmpty()) {
                    pick.hashKey(v);
                }
            }
            case QUERY -> {
                if (findParam(req.getQueryString(), name, slice)) {
                    pick.hashKey(slice);
                }
            }
            case COOKIE -> {
                Enumeration<String> headers = req.getHeaders("Cookie");
                while (headers != null && headers.hasMoreElements()) {
                    if (findCookie(headers.nextElement(), name, slice)) {
                        pick.hashKey(slice);
                        return;
                    }
                }
            }
            default -> throw new IllegalStateException("a hash key cannot be read from " + this);
        }
    }

    // =====================================================================================
    // targets: decoded text
    // =====================================================================================

    /** The value for a target, trimmed and decoded; null when missing or empty. */
    String targetText(HttpServletRequest req, String pathAndQuery, BufferedBody body) {
        Slice s = new Slice();
        String v = switch (source) {
            case CLIENT_IP -> req.getRemoteAddr();
            case URI -> pathAndQuery;
            case HEADER -> req.getHeader(name);
            case COOKIE -> {
                Enumeration<String> headers = req.getHeaders("Cookie");
                String found = null;
                while (found == null && headers != null && headers.hasMoreElements()) {
                    if (findCookie(headers.nextElement(), name, s)) {
                        found = s.toString();
                    }
                }
                yield found;
            }
            case QUERY -> findParam(req.getQueryString(), name, s) ? decode(s.toString()) : null;
            case FORM -> formField(body, s);
            case PARAM -> findParam(req.getQueryString(), name, s) ? decode(s.toString()) : formField(body, s);
        };
        if (v == null) {
            return null;
        }
        v = v.trim();
        return v.isEmpty() ? null : v;
    }

    private String formField(BufferedBody body, Slice s) {
        if (body == null) {
            return null;
        }
        String form = body.formText();
        return form != null && findParam(form, name, s) ? decode(s.toString()) : null;
    }

    private static String decode(String raw) {
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return raw; // malformed percent-encoding: the raw text
        }
    }

    /** Finds {@code name=value} in a {@code &}-separated string; sets {@code out} to the raw value. */
    static boolean findParam(String query, String name, Slice out) {
        if (query == null) {
            return false;
        }
        int n = query.length();
        int i = 0;
        while (i <= n) {
            int amp = query.indexOf('&', i);
            int end = amp < 0 ? n : amp;
            int eq = query.indexOf('=', i);
            int keyEnd = eq < 0 || eq > end ? end : eq;
            if (keyEnd - i == name.length() && query.regionMatches(i, name, 0, name.length())) {
                int from = keyEnd == end ? end : keyEnd + 1;
                if (end > from) {
                    out.set(query, from, end);
                    return true;
                }
                return false;
            }
            if (amp < 0) {
                break;
            }
            i = amp + 1;
        }
        return false;
    }

    /** Finds cookie {@code name} in one Cookie header value ({@code a=1; b=2}). */
    static boolean findCookie(String header, String name, Slice out) {
        if (header == null) {
            return false;
        }
        int n = header.length();
        int i = 0;
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == '\t')) {
                i++;
            }
            int semi = header.indexOf(';', i);
            int end = semi < 0 ? n : semi;
            int eq = header.indexOf('=', i);
            if (eq > 0 && eq < end && eq - i == name.length() && header.regionMatches(i, name, 0, name.length())) {
                int from = eq + 1;
                int to = end;
                while (to > from && (header.charAt(to - 1) == ' ' || header.charAt(to - 1) == '\t')) {
                    to--;
                }
                if (to - from >= 2 && header.charAt(from) == '"' && header.charAt(to - 1) == '"') {
                    from++;
                    to--;
                }
                if (to > from) {
                    out.set(header, from, to);
                    return true;
                }
                return false;
            }
            if (semi < 0) {
                break;
            }
            i = semi + 1;
        }
        return false;
    }

    /** A reusable window on a string, so a hash key is set without copying it into a new String. */
    static final class Slice implements CharSequence {
        private String s = "";
        private int from;
        private int to;

        Slice set(String s, int from, int to) {
            this.s = s;
            this.from = from;
            this.to = to;
            return this;
        }

        @Override
        public int length() {
            return to - from;
        }

        @Override
        public char charAt(int index) {
            return s.charAt(from + index);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return s.substring(from + start, from + end);
        }

        @Override
        public String toString() {
            return s.substring(from, to);
        }
    }
}

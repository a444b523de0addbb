package io.lbkit.proxy.engine;

import io.lbkit.core.PickRequest;
import io.lbkit.proxy.RequestValue;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads a {@link RequestValue} from a client request: as a hash key (no decoding, no copy: a
 * reusable {@link Slice}) or as the text naming a target endpoint (trimmed and decoded).
 */
public final class RequestValues {

    private RequestValues() {
    }

    /** Whether a body of this content type is an HTML form ({@code application/x-www-form-urlencoded}). */
    public static boolean isForm(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semi = contentType.indexOf(';');
        String t = (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        return t.equals("application/x-www-form-urlencoded");
    }

    // =====================================================================================
    // hash keys: no decoding, no copies beyond the reusable slice
    // =====================================================================================

    /**
     * Sets the hash key of {@code pick} from {@code req}; leaves it unset when the value is
     * missing or empty. {@code slice} is a reusable view (one per exchange).
     */
    public static void applyHashKey(RequestValue value, PickRequest pick, ClientRequest req, String pathAndQuery, Slice slice) {
        String name = value.name();
        switch (value.source()) {
            case CLIENT_IP -> {
                String a = req.remoteAddress();
                if (a != null && !a.isEmpty()) {
                    int from = a.startsWith("[") ? 1 : 0;
                    int to = a.endsWith("]") ? a.length() - 1 : a.length();
                    pick.hashKey(from == 0 && to == a.length() ? a : slice.set(a, from, to));
                }
            }
            case URI -> pick.hashKey(pathAndQuery);
            case HEADER -> {
                String v = req.header(name);
                if (v != null && !v.isEmpty()) {
                    pick.hashKey(v);
                }
            }
            case QUERY -> {
                if (findParam(req.query(), name, slice)) {
                    pick.hashKey(slice);
                }
            }
            case COOKIE -> {
                if (findCookie(req, name, slice)) {
                    pick.hashKey(slice);
                }
            }
            default -> throw new IllegalStateException("a hash key cannot be read from " + value);
        }
    }

    // =====================================================================================
    // targets: decoded text
    // =====================================================================================

    /** The value for a target, trimmed and decoded; null when missing or empty. */
    public static String targetText(RequestValue value, ClientRequest req, String pathAndQuery, String formText) {
        String name = value.name();
        Slice s = new Slice();
        String v = switch (value.source()) {
            case CLIENT_IP -> req.remoteAddress();
            case URI -> pathAndQuery;
            case HEADER -> req.header(name);
            case COOKIE -> findCookie(req, name, s) ? s.toString() : null;
            case QUERY -> findParam(req.query(), name, s) ? decode(s.toString()) : null;
            case FORM -> formField(formText, name, s);
            case PARAM -> findParam(req.query(), name, s) ? decode(s.toString()) : formField(formText, name, s);
        };
        if (v == null) {
            return null;
        }
        v = v.trim();
        return v.isEmpty() ? null : v;
    }

    private static String formField(String form, String name, Slice s) {
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
    public static boolean findParam(String query, String name, Slice out) {
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

    /**
     * Finds cookie {@code name} in every {@code Cookie} header of {@code req}: the one cookie
     * lookup of the rules (sticky cookies, session cookies, hash keys and targets use it).
     */
    public static boolean findCookie(ClientRequest req, String name, Slice out) {
        for (String header : req.headers("Cookie")) {
            if (findCookie(header, name, out)) {
                return true;
            }
        }
        return false;
    }

    /** The value of cookie {@code name} in {@code req}, or null. */
    public static String cookie(ClientRequest req, String name) {
        Slice s = new Slice();
        return findCookie(req, name, s) ? s.toString() : null;
    }

    /** Finds cookie {@code name} in one Cookie header value ({@code a=1; b=2}). */
    public static boolean findCookie(String header, String name, Slice out) {
        return header != null && findCookie(header, 0, name, out) >= 0 && out.length() > 0;
    }

    /**
     * Finds the first cookie {@code name} of {@code header} at or after index {@code start} and
     * sets {@code out} to its value (empty for {@code name=}): returns the index where the search
     * for a later one goes on, or -1 when there is none.
     */
    public static int findCookie(String header, int start, String name, Slice out) {
        int n = header.length();
        int i = start;
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
                out.set(header, from, Math.max(from, to));
                return semi < 0 ? n : semi + 1;
            }
            if (semi < 0) {
                break;
            }
            i = semi + 1;
        }
        return -1;
    }

    /** A reusable window on a string, so a hash key is set without copying it into a new String. */
    public static final class Slice implements CharSequence {
        private String s = "";
        private int from;
        private int to;

        public Slice set(String s, int from, int to) {
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

package io.lbkit.proxy.engine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An nginx {@code log_format}, compiled once into a list of parts (literal text and variables),
 * then rendered per request into a caller's {@link StringBuilder} with no parsing and no regex.
 *
 * <p>The rendered line is a byte string: each {@code char} is one byte (0..255) of the line as
 * nginx would write it, so it is written out with ISO-8859-1. Header bytes are passed through as
 * received; a value holding characters above U+00FF is written as UTF-8.
 *
 * <h2>Variables</h2>
 * {@code $remote_addr}, {@code $remote_user} (always not found), {@code $time_local},
 * {@code $time_iso8601}, {@code $msec}, {@code $request}, {@code $request_method},
 * {@code $request_uri}, {@code $server_protocol}, {@code $status}, {@code $body_bytes_sent},
 * {@code $request_time}, {@code $request_id}, {@code $upstream_addr}, {@code $upstream_status},
 * {@code $upstream_response_time}, {@code $upstream_connect_time}, {@code $upstream_header_time},
 * {@code $pid}, {@code $http_NAME} (a request header, {@code _} for {@code -}, any case) and
 * {@code $cookie_NAME}; {@code ${name}} where a name runs into the text after it. An unknown
 * variable fails the compile, naming it.
 *
 * <h2>Escaping (nginx {@code escape=})</h2>
 * {@link Escape#DEFAULT}: in variable values, {@code "}, {@code \}, bytes below 0x20 and from
 * 0x7F up as {@code \xHH}; a variable not found prints {@code -}. {@link Escape#JSON}: JSON string
 * escapes ({@code \"}, {@code \\}, {@code \n}, {@code \u0001}...); a variable not found prints
 * nothing. {@link Escape#NONE}: values as they are, not found as {@code -}.
 */
public final class LogFormat {

    /** nginx's predefined {@code combined} format. */
    public static final String COMBINED = "$remote_addr - $remote_user [$time_local] \"$request\" $status "
            + "$body_bytes_sent \"$http_referer\" \"$http_user_agent\"";

    /** nginx {@code log_format ... escape=}. */
    public enum Escape { DEFAULT, JSON, NONE }

    private final String text;
    private final Escape escape;
    private final Part[] parts;

    private LogFormat(String text, Escape escape, Part[] parts) {
        this.text = text;
        this.escape = escape;
        this.parts = parts;
    }

    /** Compiles {@code format}; an unknown variable or a lone {@code $} fails with the name and position. */
    public static LogFormat compile(String format, Escape escape) {
        if (format == null || format.isEmpty()) {
            throw new IllegalArgumentException("access log format must not be empty, got '" + format + "'");
        }
        if (escape == null) {
            throw new IllegalArgumentException("access log escape must be default, json or none, got null");
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i);
            if (c != '$') {
                literal.append(c);
                i++;
                continue;
            }
            int start = i + 1;
            int end;
            String name;
            if (start < format.length() && format.charAt(start) == '{') {
                end = format.indexOf('}', start);
                if (end < 0) {
                    throw new IllegalArgumentException("access log format: unclosed ${ at " + i + " in '" + format + "'");
                }
                name = format.substring(start + 1, end);
                end++;
            } else {
                end = start;
                while (end < format.length() && isNameChar(format.charAt(end))) {
                    end++;
                }
                name = format.substring(start, end);
            }
            if (name.isEmpty()) {
                throw new IllegalArgumentException("access log format: '$' without a variable name at " + i
                        + " in '" + format + "'");
            }
            if (literal.length() > 0) {
                parts.add(new Literal(bytes(literal.toString())));
                literal.setLength(0);
            }
            parts.add(variable(name));
            i = end;
        }
        if (literal.length() > 0) {
            parts.add(new Literal(bytes(literal.toString())));
        }
        return new LogFormat(format, escape, parts.toArray(new Part[0]));
    }

    public String text() {
        return text;
    }

    public Escape escape() {
        return escape;
    }

    /** Appends the line for {@code r} (without a line end) to {@code out}; {@code wallMillis} is the log time. */
    public void render(AccessRecord r, long wallMillis, StringBuilder out) {
        for (Part p : parts) {
            if (p instanceof Literal l) {
                out.append(l.bytes);
                continue;
            }
            Var v = (Var) p;
            int mark = out.length();
            if (!v.append(r, wallMillis, out, escape)) {
                out.setLength(mark);
                if (escape != Escape.JSON) {
                    out.append('-');
                }
            }
        }
    }

    /** {@link #render} to a new string: for tests and tools. */
    public String render(AccessRecord r, long wallMillis) {
        StringBuilder sb = new StringBuilder(128);
        render(r, wallMillis, sb);
        return sb.toString();
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }

    /** A Java string as a byte string (UTF-8 bytes, one char each). */
    static String bytes(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            }
        }
        return s;
    }

    // =====================================================================================

    private sealed interface Part permits Literal, Var {
    }

    private record Literal(String bytes) implements Part {
    }

    private enum Kind {
        REMOTE_ADDR, REMOTE_USER, TIME_LOCAL, TIME_ISO8601, MSEC, REQUEST, REQUEST_METHOD, REQUEST_URI,
        SERVER_PROTOCOL, STATUS, BODY_BYTES_SENT, REQUEST_TIME, REQUEST_ID, UPSTREAM_ADDR, UPSTREAM_STATUS,
        UPSTREAM_RESPONSE_TIME, UPSTREAM_CONNECT_TIME, UPSTREAM_HEADER_TIME, PID, HTTP, COOKIE
    }

    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private static Var variable(String name) {
        if (name.startsWith("http_") && name.length() > 5) {
            return new Var(Kind.HTTP, name.substring(5).replace('_', '-'));
        }
        if (name.startsWith("cookie_") && name.length() > 7) {
            return new Var(Kind.COOKIE, name.substring(7));
        }
        for (Kind k : Kind.values()) {
            if (k != Kind.HTTP && k != Kind.COOKIE && k.name().toLowerCase(Locale.ROOT).equals(name)) {
                return new Var(k, null);
            }
        }
        throw new IllegalArgumentException("access log format: unknown variable '$" + name + "'");
    }

    private record Var(Kind kind, String arg) implements Part {

        /** Appends the value; false when the variable is not found (nginx prints {@code -}, or nothing in JSON). */
        boolean append(AccessRecord r, long wallMillis, StringBuilder out, Escape e) {
            switch (kind) {
                case REMOTE_ADDR:
                    return text(r.remoteAddr, out, e);
                case REMOTE_USER:
                    return false;
                case TIME_LOCAL:
                    out.append(LogTime.local(wallMillis));
                    return true;
                case TIME_ISO8601:
                    out.append(LogTime.iso8601(wallMillis));
                    return true;
                case MSEC:
                    out.append(wallMillis / 1000).append('.');
                    pad3(out, wallMillis % 1000);
                    return true;
                case REQUEST:
                    if (r.method == null) {
                        return false;
                    }
                    text(r.method, out, e);
                    out.append(' ');
                    text(r.uri, out, e);
                    if (r.protocol != null) {
                        out.append(' ');
                        text(r.protocol, out, e);
                    }
                    return true;
                case REQUEST_METHOD:
                    return text(r.method, out, e);
                case REQUEST_URI:
                    return text(r.uri, out, e);
                case SERVER_PROTOCOL:
                    return text(r.protocol, out, e);
                case STATUS:
                    pad3(out, r.status);
                    return true;
                case BODY_BYTES_SENT:
                    out.append(r.bodyBytes);
                    return true;
                case REQUEST_TIME:
                    seconds(out, r.endNanos - r.startNanos);
                    return true;
                case REQUEST_ID:
                    if (r.requestId == null) {
                        r.requestId = RequestIds.generate();
                    }
                    return text(r.requestId, out, e);
                case UPSTREAM_ADDR:
                    if (r.attempts == 0) {
                        return false;
                    }
                    for (int i = 0; i < r.attempts; i++) {
                        sep(out, i);
                        text(r.hosts[i], out, e);
                        out.append(':').append(r.ports[i]);
                    }
                    return true;
                case UPSTREAM_STATUS:
                    if (r.attempts == 0) {
                        return false;
                    }
                    for (int i = 0; i < r.attempts; i++) {
                        sep(out, i);
                        if (r.statuses[i] == 0) {
                            out.append('-');
                        } else {
                            out.append(r.statuses[i]);
                        }
                    }
                    return true;
                case UPSTREAM_RESPONSE_TIME:
                    return times(r, r.responseNanos, out);
                case UPSTREAM_CONNECT_TIME:
                    return times(r, r.connectNanos, out);
                case UPSTREAM_HEADER_TIME:
                    return times(r, r.headerNanos, out);
                case PID:
                    out.append(PID);
                    return true;
                case HTTP:
                    return r.request != null && text(r.request.header(arg), out, e);
                case COOKIE:
                    return r.request != null && cookie(r.request.header("Cookie"), arg, out, e);
                default:
                    throw new IllegalStateException(kind.name());
            }
        }
    }

    private static void sep(StringBuilder out, int i) {
        if (i > 0) {
            out.append(", ");
        }
    }

    private static boolean times(AccessRecord r, long[] nanos, StringBuilder out) {
        if (r.attempts == 0) {
            return false;
        }
        for (int i = 0; i < r.attempts; i++) {
            sep(out, i);
            if (nanos[i] == AccessRecord.NONE) {
                out.append('-');
            } else {
                seconds(out, nanos[i]);
            }
        }
        return true;
    }

    /** Seconds with millisecond resolution, as nginx: {@code 0.005}, {@code 12.345}. */
    static void seconds(StringBuilder out, long nanos) {
        long ms = Math.max(0, nanos) / 1_000_000;
        out.append(ms / 1000).append('.');
        pad3(out, ms % 1000);
    }

    private static void pad3(StringBuilder out, long n) {
        if (n < 100) {
            out.append('0');
        }
        if (n < 10) {
            out.append('0');
        }
        out.append(n);
    }

    /** The value of cookie {@code name} (any case) in a {@code Cookie} header, escaped; false if absent. */
    static boolean cookie(String header, String name, StringBuilder out, Escape e) {
        if (header == null) {
            return false;
        }
        int i = 0;
        int n = header.length();
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == ';' || header.charAt(i) == ',')) {
                i++;
            }
            int eq = header.indexOf('=', i);
            int end = header.indexOf(';', i);
            if (end < 0) {
                end = n;
            }
            if (eq > 0 && eq < end && eq - i == name.length() && header.regionMatches(true, i, name, 0, name.length())) {
                escape(header, eq + 1, end, out, e);
                return true;
            }
            i = end + 1;
        }
        return false;
    }

    private static boolean text(String s, StringBuilder out, Escape e) {
        if (s == null) {
            return false;
        }
        escape(s, 0, s.length(), out, e);
        return true;
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** Appends {@code s[from, to)} escaped as {@code e} says. */
    static void escape(String s, int from, int to, StringBuilder out, Escape e) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c > 0xff) {
                // not a byte string: the rest as UTF-8 bytes
                escapeBytes(s.substring(i, to).getBytes(StandardCharsets.UTF_8), out, e);
                return;
            }
            escapeByte(c, out, e);
        }
    }

    private static void escapeBytes(byte[] b, StringBuilder out, Escape e) {
        for (byte x : b) {
            escapeByte((char) (x & 0xff), out, e);
        }
    }

    private static void escapeByte(char c, StringBuilder out, Escape e) {
        switch (e) {
            case NONE -> out.append(c);
            case DEFAULT -> {
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
                    out.append('\\').append('x').append(HEX[c >> 4]).append(HEX[c & 0xf]);
                } else {
                    out.append(c);
                }
            }
            case JSON -> {
                if (c == '"' || c == '\\') {
                    out.append('\\').append(c);
                } else if (c < 0x20) {
                    switch (c) {
                        case '\n' -> out.append("\\n");
                        case '\r' -> out.append("\\r");
                        case '\t' -> out.append("\\t");
                        case '\b' -> out.append("\\b");
                        case '\f' -> out.append("\\f");
                        default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    }
                } else {
                    out.append(c);
                }
            }
            default -> throw new IllegalStateException(e.name());
        }
    }
}

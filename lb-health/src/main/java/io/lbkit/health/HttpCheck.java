package io.lbkit.health;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An HTTP probe: HAProxy {@code option httpchk} + {@code http-check expect}, nginx Plus
 * {@code health_check uri= match=}. A probe passes when the response status is one of the expected
 * statuses and the optional header and body matches hold. Only the first {@link #maxBodyBytes()}
 * bytes of the body are read (at most 256 KiB); the response is aborted after that.
 *
 * <pre>{@code
 * HttpCheck.builder().path("/health/ready").expectStatuses("200-299").expectBodyContains("\"UP\"").build()
 * }</pre>
 */
public final class HttpCheck implements ProbeSpec {

    /** The largest body prefix a probe reads: 256 KiB. */
    public static final int MAX_BODY_BYTES = 256 * 1024;

    private static final Set<String> METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Set<String> RESERVED_HEADERS =
            Set.of("host", "connection", "content-length", "transfer-encoding", "upgrade");

    private final String method;
    private final String path;
    private final String host;
    private final Map<String, String> headers;
    private final StatusRanges expectedStatuses;
    private final String headerName;
    private final Pattern headerPattern;
    private final String bodyContains;
    private final Pattern bodyPattern;
    private final int maxBodyBytes;
    private final boolean reuseConnection;

    private HttpCheck(Builder b) {
        this.method = b.method;
        this.path = b.path;
        this.host = b.host;
        this.headers = Map.copyOf(b.headers);
        this.expectedStatuses = b.expectedStatuses;
        this.headerName = b.headerName;
        this.headerPattern = b.headerPattern;
        this.bodyContains = b.bodyContains;
        this.bodyPattern = b.bodyPattern;
        this.maxBodyBytes = b.maxBodyBytes;
        this.reuseConnection = b.reuseConnection;
    }

    /** A builder with the defaults: GET /, statuses 200-399, no header or body match, a new connection per probe. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@code GET /} expecting 200-399. */
    public static HttpCheck get(String path) {
        return builder().path(path).build();
    }

    /** GET, HEAD or OPTIONS. */
    public String method() { return method; }

    /** Request path with optional query, starting with {@code /}. */
    public String path() { return path; }

    /** The configured Host header, or empty for the endpoint's {@code host:port}. */
    public Optional<String> host() { return Optional.ofNullable(host); }

    /** Extra request headers. */
    public Map<String, String> headers() { return headers; }

    /** Expected statuses as text, e.g. {@code 200-399}. */
    public String expectedStatuses() { return expectedStatuses.toString(); }

    /** Whether {@code status} is expected. */
    public boolean expects(int status) { return expectedStatuses.contains(status); }

    /** Name of the header that must match, if any. */
    public Optional<String> headerName() { return Optional.ofNullable(headerName); }

    /** The pattern the header must match (whole value), if any. */
    public Optional<Pattern> headerPattern() { return Optional.ofNullable(headerPattern); }

    /** The substring the body must contain, if any. */
    public Optional<String> bodyContains() { return Optional.ofNullable(bodyContains); }

    /** The pattern the body must contain (find, not whole-match), if any. */
    public Optional<Pattern> bodyPattern() { return Optional.ofNullable(bodyPattern); }

    /** Whether the body is read at all (a body match is configured). */
    public boolean readsBody() { return bodyContains != null || bodyPattern != null; }

    /** How much of the body is read at most. */
    public int maxBodyBytes() { return maxBodyBytes; }

    /**
     * Whether probes keep the connection open for the next probe (Envoy {@code reuse_connection});
     * false (default) sends {@code Connection: close} and opens a new connection per probe, as HAProxy does.
     */
    public boolean reuseConnection() { return reuseConnection; }

    StatusRanges statusRanges() { return expectedStatuses; }

    @Override
    public String toString() {
        return "HttpCheck[" + method + " " + path + " expect " + expectedStatuses
                + (headerName != null ? " header " + headerName + "~" + headerPattern : "")
                + (bodyContains != null ? " body contains '" + bodyContains + "'" : "")
                + (bodyPattern != null ? " body ~ " + bodyPattern : "") + "]";
    }

    /** Builder for {@link HttpCheck}; validated in {@link #build()}. */
    public static final class Builder {
        private String method = "GET";
        private String path = "/";
        private String host;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private StatusRanges expectedStatuses = StatusRanges.DEFAULT;
        private boolean statusesSet;
        private String headerName;
        private Pattern headerPattern;
        private String bodyContains;
        private Pattern bodyPattern;
        private int maxBodyBytes = MAX_BODY_BYTES;
        private boolean reuseConnection;

        private Builder() {
        }

        /** GET (default), HEAD or OPTIONS. */
        public Builder method(String method) {
            String m = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
            if (!METHODS.contains(m)) {
                throw new IllegalArgumentException("method must be GET, HEAD or OPTIONS, got '" + method + "'");
            }
            this.method = m;
            return this;
        }

        /** The request path (and query), default {@code /}. */
        public Builder path(String path) {
            Objects.requireNonNull(path, "path");
            if (!path.startsWith("/") || containsControl(path) || path.indexOf(' ') >= 0) {
                throw new IllegalArgumentException(
                        "path must start with '/' and contain no spaces or control characters, got '" + path + "'");
            }
            this.path = path;
            return this;
        }

        /** The Host header; default the endpoint's {@code host:port}. */
        public Builder host(String host) {
            Objects.requireNonNull(host, "host");
            if (host.isBlank() || containsControl(host) || host.indexOf(' ') >= 0) {
                throw new IllegalArgumentException("host must be a non-empty header value without spaces, got '" + host + "'");
            }
            this.host = host;
            return this;
        }

        /** Adds a request header (not Host, Connection, Content-Length, Transfer-Encoding or Upgrade). */
        public Builder header(String name, String value) {
            Objects.requireNonNull(name, "header name");
            Objects.requireNonNull(value, "header value");
            if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
                throw new IllegalArgumentException("header name must be a token, got '" + name + "'");
            }
            if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("header '" + name + "' is managed by the check"
                        + (name.equalsIgnoreCase("host") ? "; use host(...)" : ""));
            }
            if (containsControl(value)) {
                throw new IllegalArgumentException("header '" + name + "' value must not contain control characters");
            }
            headers.put(name, value);
            return this;
        }

        /** Expected statuses as codes and ranges: {@code "200-399"} (default), {@code "200,204"}, {@code "2xx,404"}. */
        public Builder expectStatuses(String spec) {
            this.expectedStatuses = StatusRanges.parse(spec);
            this.statusesSet = true;
            return this;
        }

        /** Expected statuses as a list of codes (replaces the default). */
        public Builder expectStatuses(int... codes) {
            this.expectedStatuses = StatusRanges.of(codes);
            this.statusesSet = true;
            return this;
        }

        /** Adds an inclusive range of expected statuses; the first call replaces the default 200-399. */
        public Builder expectStatusRange(int from, int to) {
            this.expectedStatuses = statusesSet ? expectedStatuses.plus(from, to) : StatusRanges.range(from, to);
            this.statusesSet = true;
            return this;
        }

        /** The response must have header {@code name} whose whole value matches {@code regex}. */
        public Builder expectHeader(String name, Pattern regex) {
            this.headerName = Objects.requireNonNull(name, "header name");
            this.headerPattern = Objects.requireNonNull(regex, "header regex");
            return this;
        }

        /** The response must have header {@code name} equal to {@code value} (exact, case-sensitive). */
        public Builder expectHeaderEquals(String name, String value) {
            return expectHeader(name, Pattern.compile(Pattern.quote(Objects.requireNonNull(value, "header value"))));
        }

        /** The first {@code maxBodyBytes} of the body must contain this text. */
        public Builder expectBodyContains(String text) {
            Objects.requireNonNull(text, "body text");
            if (text.isEmpty()) {
                throw new IllegalArgumentException("expectBodyContains must not be empty");
            }
            this.bodyContains = text;
            return this;
        }

        /** The first {@code maxBodyBytes} of the body must contain a match of this pattern ({@code find()}). */
        public Builder expectBodyMatches(Pattern regex) {
            this.bodyPattern = Objects.requireNonNull(regex, "body regex");
            return this;
        }

        /** How much of the body to read for the body match, 1..262144 (default 262144 = 256 KiB). */
        public Builder maxBodyBytes(int bytes) {
            this.maxBodyBytes = bytes;
            return this;
        }

        /** Keep connections open between probes (Envoy {@code reuse_connection}); default false (HAProxy). */
        public Builder reuseConnection(boolean reuse) {
            this.reuseConnection = reuse;
            return this;
        }

        public HttpCheck build() {
            if (maxBodyBytes < 1 || maxBodyBytes > MAX_BODY_BYTES) {
                throw new IllegalArgumentException("maxBodyBytes must be 1.." + MAX_BODY_BYTES + ", got " + maxBodyBytes);
            }
            if (method.equals("HEAD") && (bodyContains != null || bodyPattern != null)) {
                throw new IllegalArgumentException("method HEAD has no body; a body match needs GET or OPTIONS");
            }
            return new HttpCheck(this);
        }

        private static boolean containsControl(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < 0x20 || c == 0x7f) {
                    return true;
                }
            }
            return false;
        }
    }
}

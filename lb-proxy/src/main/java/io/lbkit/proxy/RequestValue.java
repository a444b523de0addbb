package io.lbkit.proxy;

import io.lbkit.proxy.engine.Headers;
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
    public boolean needsBody() {
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
}

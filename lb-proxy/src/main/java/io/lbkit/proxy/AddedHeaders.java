package io.lbkit.proxy;

import io.lbkit.proxy.engine.Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Response header fields the proxy adds to what the client gets, nginx {@code add_header NAME
 * VALUE [always]}: set on the whole proxy ({@link ProxyConfig.Builder#addedHeaders}) or on one
 * route ({@link Route.Builder#addedHeaders}). Immutable; built with {@link #builder()}.
 *
 * <pre>{@code
 * // nginx: add_header X-Frame-Options "SAMEORIGIN" always;  add_header X-Served "edge";
 * AddedHeaders h = AddedHeaders.builder()
 *         .add("X-Frame-Options", "SAMEORIGIN", true)
 *         .add("X-Served", "edge", false)
 *         .build();
 * }</pre>
 *
 * <ul>
 *   <li>A field without {@code always} goes only on 200, 201, 204, 206, 301, 302, 303, 304, 307
 *       and 308 answers, as nginx; with {@code always} on every answer, the proxy's own error
 *       answers (403, 429, 502, 503, 504...) included.</li>
 *   <li>Fields are added, never replacing a backend field of the same name (nginx adds too).</li>
 *   <li>Inheritance is nginx's: a route with added headers of its own does not get the proxy's;
 *       a route without any gets the proxy's. {@link #none()} on a route stops the inheritance.</li>
 *   <li>A field marked TLS-only ({@code Strict-Transport-Security} of {@link #securityPreset}) goes
 *       only on answers over a TLS connection of this proxy (RFC 6797 section 7.2: a host must
 *       not send it over plain HTTP).</li>
 * </ul>
 */
public final class AddedHeaders {

    /** The name of seed 004's security header set (its nginx guide, section 8.2). */
    public static final String SEED_004 = "seed-004";

    private static final AddedHeaders NONE = new AddedHeaders(List.of());

    /**
     * One added field.
     *
     * @param name    the field name (a token)
     * @param value   the value (visible ASCII and spaces, not empty)
     * @param always  whether it goes on every status, not only the successful and redirect ones
     * @param tlsOnly whether it goes only on answers over TLS
     */
    public record Field(String name, String value, boolean always, boolean tlsOnly) {
    }

    private final List<Field> fields;

    private AddedHeaders(List<Field> fields) {
        this.fields = List.copyOf(fields);
    }

    /** No fields: on a route, stops the proxy's fields from being inherited. */
    public static AddedHeaders none() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A named preset: {@value #SEED_004} is seed 004's security headers, every one {@code always}:
     * {@code X-Frame-Options: SAMEORIGIN}, {@code X-Content-Type-Options: nosniff},
     * {@code X-XSS-Protection: 1; mode=block}, {@code Referrer-Policy: no-referrer-when-downgrade},
     * {@code Content-Security-Policy: default-src 'self' http: https: data: blob: 'unsafe-inline'}
     * and, on TLS only, {@code Strict-Transport-Security: max-age=31536000; includeSubDomains}.
     *
     * @throws IllegalArgumentException naming the preset when there is no such preset
     */
    public static AddedHeaders securityPreset(String name) {
        return builder().securityPreset(name).build();
    }

    /** The fields in the order they are added (a random-access list). */
    public List<Field> fields() {
        return fields;
    }

    /** Whether there are no fields. */
    public boolean isEmpty() {
        return fields.isEmpty();
    }

    /** Whether a field without {@code always} goes on an answer of {@code status} (nginx's list). */
    public static boolean successOrRedirect(int status) {
        return switch (status) {
            case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308 -> true;
            default -> false;
        };
    }

    @Override
    public String toString() {
        return "AddedHeaders" + fields;
    }

    /** Builder for {@link AddedHeaders}; each method validates its arguments. */
    public static final class Builder {
        private final List<Field> fields = new ArrayList<>();

        private Builder() {
        }

        /** nginx {@code add_header name value [always]}. */
        public Builder add(String name, String value, boolean always) {
            return add(name, value, always, false);
        }

        /** A field that goes only on answers over TLS (e.g. {@code Strict-Transport-Security}). */
        public Builder addTlsOnly(String name, String value, boolean always) {
            return add(name, value, always, true);
        }

        private Builder add(String name, String value, boolean always, boolean tlsOnly) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty() || !Headers.isToken(name)) {
                throw new IllegalArgumentException("header name must be a token, got '" + name + "'");
            }
            if (value.isEmpty() || !validValue(value)) {
                throw new IllegalArgumentException("header '" + name
                        + "': value must be non-empty visible ASCII or spaces, got '" + value + "'");
            }
            fields.add(new Field(name, value, always, tlsOnly));
            return this;
        }

        /** Adds the fields of the named preset ({@link AddedHeaders#securityPreset}). */
        public Builder securityPreset(String name) {
            if (!SEED_004.equals(name)) {
                throw new IllegalArgumentException("securityHeaders must be '" + SEED_004 + "', got '" + name + "'");
            }
            add("X-Frame-Options", "SAMEORIGIN", true);
            add("X-Content-Type-Options", "nosniff", true);
            add("X-XSS-Protection", "1; mode=block", true);
            add("Referrer-Policy", "no-referrer-when-downgrade", true);
            add("Content-Security-Policy", "default-src 'self' http: https: data: blob: 'unsafe-inline'", true);
            addTlsOnly("Strict-Transport-Security", "max-age=31536000; includeSubDomains", true);
            return this;
        }

        public AddedHeaders build() {
            return fields.isEmpty() ? NONE : new AddedHeaders(fields);
        }

        private static boolean validValue(String v) {
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c < 0x20 || c > 0x7e) {
                    return false;
                }
            }
            return v.charAt(0) != ' ' && v.charAt(v.length() - 1) != ' ';
        }
    }
}

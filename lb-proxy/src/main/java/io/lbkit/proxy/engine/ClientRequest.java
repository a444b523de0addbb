package io.lbkit.proxy.engine;

/**
 * The client's request as the rules read it: what an engine hands over, filled from its own
 * request type (a servlet request, a Netty {@code HttpRequest}). Implementations are views over
 * the engine's request and must not copy on every call.
 */
public interface ClientRequest {

    /** The method, upper case as sent ({@code GET}). */
    String method();

    /** The protocol of the request line ({@code HTTP/1.1}, {@code HTTP/1.0}). */
    String protocol();

    /**
     * The decoded, normalized path the routes match (nginx's {@code $uri}): percent-escapes
     * decoded, dot segments resolved. Never forwarded: the endpoint gets the target as sent.
     */
    String path();

    /** The path as sent, still percent-encoded (no query). */
    String rawPath();

    /** The query as sent, still percent-encoded, without the {@code ?}; null when there is none. */
    String query();

    /** The host name the request addressed, without port ({@code Host}, or the listener's name). */
    String serverName();

    /** The peer's address as text ({@code 192.0.2.1}, {@code 2001:db8::1}). */
    String remoteAddress();

    /** The first value of header {@code name} (any case), or null. */
    String header(String name);

    /** Every value of header {@code name} (any case), in order; empty when there is none. */
    Iterable<String> headers(String name);

    /** The names of the header fields, each once, as sent. */
    Iterable<String> headerNames();

    /**
     * Visits every header field in the order received, one call per field line. The default
     * walks {@link #headerNames()} and {@link #headers(String)}; an engine that holds fields as
     * ASCII strings overrides it to copy nothing.
     */
    default void forEachField(FieldVisitor visitor) {
        for (String name : headerNames()) {
            for (String value : headers(name)) {
                visitor.field(name, value);
            }
        }
    }

    /** Receives header fields from {@link #forEachField}. */
    @FunctionalInterface
    interface FieldVisitor {
        void field(CharSequence name, CharSequence value);
    }

    /** The {@code Content-Type}, or null. */
    default String contentType() {
        return header("Content-Type");
    }
}

package io.lbkit.proxy.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An answer the proxy gives itself, with no backend (the session API): what an engine writes.
 * The engine adds the framing ({@code Content-Length}, {@code Connection}) and leaves the body
 * out of an answer to {@code HEAD}.
 *
 * @param status  the status code
 * @param headers the header fields, one value per name, in the order to write them
 * @param body    the body (empty for none); not copied, and never to be changed
 */
public record LocalAnswer(int status, Map<String, String> headers, byte[] body) {

    private static final byte[] NONE = new byte[0];

    public LocalAnswer {
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        body = body == null ? NONE : body;
    }

    /** The value of header {@code name} (exact case as written here), or null. */
    public String header(String name) {
        return headers.get(Objects.requireNonNull(name, "name"));
    }
}

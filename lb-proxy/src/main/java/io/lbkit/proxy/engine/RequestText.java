package io.lbkit.proxy.engine;

import io.lbkit.proxy.RequestValue;

/**
 * A {@link RequestValue} as nginx's variable of the same name holds it, as received: no decoding,
 * no trimming ({@code $http_x}, {@code $cookie_x}, {@code $arg_x}, {@code $request_uri},
 * {@code $remote_addr}); null when the request has none. What {@code map} tables and limit keys
 * read.
 */
public final class RequestText {

    private RequestText() {
    }

    /**
     * The value of {@code value} in {@code req}, or null when missing.
     *
     * @param slice a reusable view for cookies and query parameters (their text is not copied)
     */
    public static CharSequence of(RequestValue value, ClientRequest req, RequestValues.Slice slice) {
        String name = value.name();
        return switch (value.source()) {
            case CLIENT_IP -> {
                String a = req.remoteAddress();
                if (a == null || a.isEmpty()) {
                    yield null;
                }
                yield a.startsWith("[") && a.endsWith("]") ? slice.set(a, 1, a.length() - 1) : a;
            }
            case URI -> req.query() == null ? req.rawPath() : req.rawPath() + "?" + req.query();
            case HEADER -> req.header(name);
            case COOKIE -> RequestValues.findCookie(req, name, slice) ? slice : null;
            case QUERY -> RequestValues.findParam(req.query(), name, slice) ? slice : null;
            case FORM, PARAM -> throw new IllegalArgumentException("cannot read " + value + " without the body");
        };
    }
}

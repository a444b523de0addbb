package io.lbkit.proxy.engine;

import java.nio.charset.StandardCharsets;

/**
 * The request target a backend receives: the client's own bytes, unchanged (nginx's
 * {@code proxy_pass} without a URI part forwards {@code $request_uri} as received).
 *
 * <p>Targets are held as <em>byte strings</em>: one {@code char} per byte, each in
 * {@code U+0000..U+00FF}, so a target survives a transport that writes characters as ISO-8859-1
 * without a change to any byte. {@link #fromDecoded} turns what a servlet container hands out
 * (it decodes the request line as UTF-8) back into that form.
 *
 * <p>What nginx refuses with 400 is refused here too, before any endpoint is chosen, so a
 * request that cannot be forwarded is the client's error and never an endpoint's failure:
 * a {@code %} in the path not followed by two hex digits, and an encoded NUL ({@code %00}) in
 * the path. The query is not decoded by a proxy, so nothing in it is refused.
 */
public final class RequestTarget {

    private RequestTarget() {
    }

    /**
     * The byte string of a target the container decoded as UTF-8: ASCII stays as it is, every
     * other character becomes its UTF-8 bytes (so {@code é} becomes the two chars
     * {@code \u00c3\u00a9}).
     *
     * @param path  the path as the container gives it, still percent-encoded
     *              ({@code getRequestURI()})
     * @param query the query as the container gives it ({@code getQueryString()}), or null
     * @return the byte string, or null when the target holds U+FFFD: the container met bytes that
     *         are not UTF-8 and replaced them, so the client's bytes are lost and cannot be sent on
     */
    public static String fromDecoded(String path, String query) {
        String target = query == null ? path : path + '?' + query;
        boolean ascii = true;
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '\uFFFD') {
                return null;
            }
            ascii &= c <= 0x7f;
        }
        return ascii ? target : new String(target.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /** The path part of a byte-string target (before the first {@code ?}). */
    public static String path(String target) {
        int q = target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
    }

    /** The query part of a byte-string target (after the first {@code ?}), or null. */
    public static String query(String target) {
        int q = target.indexOf('?');
        return q < 0 ? null : target.substring(q + 1);
    }

    /**
     * Why nginx would refuse this path with 400, or null when it may be forwarded: a malformed
     * percent-escape ({@code %zz}, a {@code %} with fewer than two characters after it) or an
     * encoded NUL.
     */
    public static String invalidPath(String path) {
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) != '%') {
                continue;
            }
            if (i + 2 >= path.length()) {
                return "a percent-escape in the path ends early";
            }
            int hi = hex(path.charAt(i + 1));
            int lo = hex(path.charAt(i + 2));
            if (hi < 0 || lo < 0) {
                return "a malformed percent-escape in the path";
            }
            if (hi == 0 && lo == 0) {
                return "an encoded NUL (%00) in the path";
            }
            i += 2;
        }
        return null;
    }

    private static int hex(char c) {
        return java.util.HexFormat.isHexDigit(c) ? java.util.HexFormat.fromHexDigit(c) : -1;
    }
}

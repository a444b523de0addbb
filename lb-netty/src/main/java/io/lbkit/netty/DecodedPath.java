package io.lbkit.netty;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * nginx's {@code $uri} from the path of a request target: percent-escapes decoded (as UTF-8),
 * runs of {@code /} merged ({@code merge_slashes on}) and dot segments resolved. Routes match it;
 * it is never forwarded.
 */
final class DecodedPath {

    private DecodedPath() {
    }

    /**
     * The decoded path of a byte-string path (one char per byte, as Netty decodes the request
     * line), or null when a {@code ..} climbs above the root (nginx answers 400). A malformed
     * escape is kept as it is: {@code RequestTarget.invalidPath} refuses those first.
     */
    static String of(String rawPath) {
        String decoded = rawPath.indexOf('%') < 0 && isAscii(rawPath) ? rawPath : percentDecode(rawPath);
        return normalize(decoded);
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static String percentDecode(String raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length()) {
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi >= 0 && lo >= 0) {
                    out.write(hi << 4 | lo);
                    i += 2;
                    continue;
                }
            }
            out.write(c & 0xff);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Merges slashes and resolves {@code .} and {@code ..} segments; null above the root. */
    static String normalize(String path) {
        if (!path.startsWith("/")) {
            return path; // "*" (OPTIONS) or an absolute form the caller did not split
        }
        if (path.indexOf("//") < 0 && path.indexOf("/.") < 0) {
            return path;
        }
        StringBuilder sb = new StringBuilder(path.length());
        int i = 0;
        int n = path.length();
        while (i < n) {
            while (i < n && path.charAt(i) == '/') {
                i++;
            }
            int end = path.indexOf('/', i);
            if (end < 0) {
                end = n;
            }
            String seg = path.substring(i, end);
            boolean last = end == n;
            if (seg.equals(".")) {
                if (last) {
                    sb.append('/');
                }
            } else if (seg.equals("..")) {
                int cut = sb.lastIndexOf("/");
                if (cut < 0) {
                    return null;
                }
                sb.setLength(cut);
                if (last) {
                    sb.append('/');
                }
            } else if (!seg.isEmpty() || last) {
                sb.append('/').append(seg);
            }
            i = end;
        }
        return sb.length() == 0 ? "/" : sb.toString();
    }
}

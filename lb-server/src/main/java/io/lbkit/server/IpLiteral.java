package io.lbkit.server;

/**
 * Parses IP address literals only, never a host name, so no DNS lookup can happen (unlike
 * {@link java.net.InetAddress#getByName}). IPv4 is dotted decimal with four parts; IPv6 is the
 * RFC 4291 text form (with {@code ::} and an optional dotted IPv4 tail), without a zone id.
 */
final class IpLiteral {
    private IpLiteral() {
    }

    /** The 4 or 16 address bytes, or null when {@code s} is not an IP address literal. */
    static byte[] parse(String s) {
        if (s.indexOf(':') >= 0) {
            return parseV6(s);
        }
        return parseV4(s, 0, s.length());
    }

    private static byte[] parseV4(String s, int from, int to) {
        byte[] out = new byte[4];
        int part = 0;
        int i = from;
        while (true) {
            int value = 0;
            int digits = 0;
            while (i < to && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                value = value * 10 + (s.charAt(i) - '0');
                digits++;
                i++;
                if (digits > 3) {
                    return null;
                }
            }
            if (digits == 0 || value > 255) {
                return null;
            }
            out[part++] = (byte) value;
            if (part == 4) {
                return i == to ? out : null;
            }
            if (i >= to || s.charAt(i) != '.') {
                return null;
            }
            i++;
        }
    }

    private static byte[] parseV6(String s) {
        byte[] out = new byte[16];
        int n = s.length();
        int len = 0;          // bytes written
        int gap = -1;         // byte position of "::"
        int i = 0;
        if (s.startsWith("::")) {
            gap = 0;
            i = 2;
            if (i == n) {
                return out;
            }
        } else if (s.startsWith(":")) {
            return null;
        }
        while (i < n) {
            int groupStart = i;
            int value = 0;
            int digits = 0;
            while (i < n && Character.digit(s.charAt(i), 16) >= 0 && s.charAt(i) < 0x80) {
                value = value << 4 | Character.digit(s.charAt(i), 16);
                digits++;
                i++;
                if (digits > 4) {
                    return null;
                }
            }
            if (i < n && s.charAt(i) == '.') {
                // dotted IPv4 tail: the rest of the string
                if (len + 4 > 16) {
                    return null;
                }
                byte[] v4 = parseV4(s, groupStart, n);
                if (v4 == null) {
                    return null;
                }
                System.arraycopy(v4, 0, out, len, 4);
                len += 4;
                i = n;
                break;
            }
            if (digits == 0 || len + 2 > 16) {
                return null;
            }
            out[len++] = (byte) (value >>> 8);
            out[len++] = (byte) value;
            if (i == n) {
                break;
            }
            if (s.charAt(i) != ':') {
                return null;
            }
            i++;
            if (i < n && s.charAt(i) == ':') {
                if (gap >= 0) {
                    return null; // a second "::"
                }
                gap = len;
                i++;
                if (i == n) {
                    break;
                }
            } else if (i == n) {
                return null; // trailing single ':'
            }
        }
        if (gap < 0) {
            return len == 16 ? out : null;
        }
        if (len == 16) {
            return null; // "::" must stand for at least one group
        }
        int tail = len - gap;
        System.arraycopy(out, gap, out, 16 - tail, tail);
        java.util.Arrays.fill(out, gap, 16 - tail, (byte) 0);
        return out;
    }
}

package io.lbkit.core.limit;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IP address literals, parsed without ever resolving a name (unlike
 * {@link InetAddress#getByName}, which would look a host name up in DNS). IPv4 is dotted decimal
 * with four parts; IPv6 is the RFC 4291 text form, with {@code ::} and an optional dotted IPv4
 * tail. The one parser of lbkit: CIDR rules, trusted proxies, peers and key files use it.
 */
public final class IpAddresses {

    private IpAddresses() {
    }

    /**
     * The 4 or 16 address bytes of a literal, or null when {@code s} is not one. Strict: no
     * brackets, no zone id, no spaces. An IPv4-mapped IPv6 literal keeps its 16 bytes (nginx's
     * {@code ip_hash} and {@code hash} see them so).
     */
    public static byte[] parse(String s) {
        if (s == null || s.isEmpty() || s.length() > 45) {
            return null;
        }
        if (s.indexOf(':') >= 0) {
            byte[] b = new byte[16];
            return CidrRules.parseIPv6(s, b) == null ? b : null;
        }
        byte[] b = new byte[4];
        return CidrRules.parseIPv4(s, 0, s.length(), b, 0) == null ? b : null;
    }

    /**
     * The address bytes of a peer as a server reports it: a literal, an IPv6 one possibly in
     * brackets ({@code [::1]}) or with a zone id ({@code fe80::1%eth0}, dropped); null otherwise.
     */
    public static byte[] parsePeer(String s) {
        if (s == null || s.isEmpty() || s.length() > 64) {
            return null;
        }
        String a = s;
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        int zone = a.indexOf('%');
        if (zone >= 0 && a.indexOf(':') >= 0) {
            a = a.substring(0, zone);
        }
        return parse(a);
    }

    /** {@link #parsePeer} as an {@link InetAddress} (an IPv4-mapped one becomes IPv4), or null. */
    public static InetAddress peerAddress(String s) {
        byte[] b = parsePeer(s);
        if (b == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            return null; // only for a wrong length, which parse never returns
        }
    }
}

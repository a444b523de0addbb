package io.lbkit.proxy.engine;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.IpAddresses;
import java.util.Iterator;

/**
 * The client's real address, as nginx's realip module finds it with
 * {@code set_real_ip_from <trustedProxies>; real_ip_header X-Forwarded-For; real_ip_recursive on;}:
 * when the peer is a trusted proxy, {@code X-Forwarded-For} is read from its right end, and each
 * address that is itself a trusted proxy is passed over; the first that is not is the client
 * (when every one is trusted, the leftmost). A peer that is not trusted is the client, whatever
 * it sends. An element that is not an address literal ({@code unknown}, a host name) ends the
 * walk at the last address found, as nginx's {@code ngx_http_get_forwarded_addr}. Elements may
 * carry a port ({@code 192.0.2.1:5000}, {@code [2001:db8::1]:5000}). Several
 * {@code X-Forwarded-For} fields are read as one list. Stateless.
 */
public final class RealClientAddress {

    private RealClientAddress() {
    }

    /**
     * The 4 or 16 bytes of the real client address of {@code req} from {@code origin}, or null when
     * the peer is not an address literal (e.g. a Unix socket).
     *
     * @param trusted the trusted proxies ({@code ProxyConfig.trustedProxies()})
     */
    public static byte[] of(ClientOrigin origin, ClientRequest req, CidrRules trusted) {
        if (origin.peer() == null) {
            return null;
        }
        byte[] addr = origin.peer().getAddress();
        if (!origin.trustedPeer()) {
            return addr;
        }
        Iterator<String> fields = req.headers("X-Forwarded-For").iterator();
        if (!fields.hasNext()) {
            return addr;
        }
        String xff = fields.next();
        while (fields.hasNext()) {
            xff = xff + "," + fields.next();
        }
        return walk(xff, addr, trusted);
    }

    /** Walks {@code xff} from its right end while the address in hand is trusted. */
    static byte[] walk(String xff, byte[] peer, CidrRules trusted) {
        byte[] addr = peer;
        int end = xff.length();
        while (trusted.isAllowed(addr)) {
            while (end > 0 && (xff.charAt(end - 1) == ' ' || xff.charAt(end - 1) == ',')) {
                end--;
            }
            if (end == 0) {
                return addr;
            }
            int start = end;
            while (start > 0 && xff.charAt(start - 1) != ' ' && xff.charAt(start - 1) != ',') {
                start--;
            }
            byte[] next = parseAddrPort(xff.substring(start, end));
            if (next == null) {
                return addr;
            }
            addr = next;
            end = start;
        }
        return addr;
    }

    /** An address literal with an optional port: {@code a.b.c.d[:port]}, {@code [v6][:port]}, bare v6. */
    static byte[] parseAddrPort(String s) {
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || (close + 1 < s.length() && !isPort(s, close + 2, s.charAt(close + 1)))) {
                return null;
            }
            return IpAddresses.parse(s.substring(1, close));
        }
        int colon = s.indexOf(':');
        if (colon >= 0 && colon == s.lastIndexOf(':')) { // one colon: IPv4 and a port
            return isPort(s, colon + 1, ':') ? IpAddresses.parse(s.substring(0, colon)) : null;
        }
        return IpAddresses.parse(s);
    }

    private static boolean isPort(String s, int from, char sep) {
        if (sep != ':' || from >= s.length() || s.length() - from > 5) {
            return false;
        }
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return Integer.parseInt(s, from, s.length(), 10) <= 65535;
    }
}

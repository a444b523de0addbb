package io.lbkit.servlet.backend;

import io.lbkit.core.limit.CidrRules;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** The direct peers whose forwarding headers are believed. Immutable. */
final class TrustedProxies {

    private static final TrustedProxies NONE = new TrustedProxies(null);
    private final CidrRules rules;

    private TrustedProxies(CidrRules rules) {
        this.rules = rules;
    }

    /** @throws IllegalArgumentException naming a bad CIDR */
    static TrustedProxies of(List<String> cidrs) {
        if (cidrs.isEmpty()) {
            return NONE;
        }
        CidrRules.Builder b = CidrRules.builder().defaultAllow(false);
        for (String c : cidrs) {
            b.allow(c.strip());
        }
        return new TrustedProxies(b.build());
    }

    static TrustedProxies of(CidrRules rules) {
        return new TrustedProxies(rules);
    }

    boolean isEmpty() {
        return rules == null;
    }

    /** Whether {@code remoteAddr} (an IP literal as the container reports it) matches. */
    boolean contains(String remoteAddr) {
        if (rules == null) {
            return false;
        }
        byte[] a = literal(remoteAddr);
        return a != null && rules.isAllowed(a);
    }

    /** Bytes of an IPv4/IPv6 literal, or null; never a DNS lookup. */
    static byte[] literal(String addr) {
        if (addr == null || addr.isEmpty() || addr.length() > 64) {
            return null;
        }
        String s = addr;
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        int zone = s.indexOf('%');
        if (zone >= 0) {
            s = s.substring(0, zone);
        }
        boolean colon = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (c == ':') {
                colon = true;
            } else if (!hex && c != '.') {
                return null;
            }
        }
        if (!colon && !s.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return null;
        }
        try {
            return InetAddress.getByName(s).getAddress(); // a literal: parsed, not resolved
        } catch (UnknownHostException e) {
            return null;
        }
    }
}

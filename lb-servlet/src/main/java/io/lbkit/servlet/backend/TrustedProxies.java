package io.lbkit.servlet.backend;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.IpAddresses;
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
        byte[] a = IpAddresses.parsePeer(remoteAddr);
        return a != null && rules.isAllowed(a);
    }
}

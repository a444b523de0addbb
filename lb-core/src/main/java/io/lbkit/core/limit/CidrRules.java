package io.lbkit.core.limit;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ordered list of allow/deny rules over IPv4 and IPv6 networks, with the semantics of nginx's
 * {@code allow} / {@code deny} (ngx_http_access_module): the first rule that matches the client
 * address decides; if none matches, the default decides (nginx: allow).
 *
 * <pre>{@code
 * // nginx: deny 192.168.1.1;  allow 192.168.1.0/24;  allow 10.1.1.0/16;  allow 2001:0db8::/32;  deny all;
 * CidrRules rules = CidrRules.builder()
 *         .deny("192.168.1.1").allow("192.168.1.0/24").allow("10.1.1.0/16").allow("2001:0db8::/32")
 *         .deny("all")
 *         .build();
 * // or: CidrRules.parse("deny 192.168.1.1; allow 192.168.1.0/24; ... deny all;")
 * if (!rules.isAllowed(remoteAddressBytes)) {
 *     response.sendError(CidrRules.DENY_STATUS); // 403
 * }
 * }</pre>
 *
 * <h2>Rules</h2>
 * A rule's network is {@code all}, an address ({@code 10.0.0.1}, {@code ::1}; a single host), or
 * an address with a prefix length ({@code 10.0.0.0/8}, {@code 2001:db8::/32}). Addresses are
 * literals only: they are parsed here, never resolved, so building rules never does a DNS lookup.
 * IPv4 is dotted decimal with four parts; IPv6 is the RFC 4291 text form, with {@code ::} and an
 * optional dotted IPv4 tail ({@code ::ffff:10.0.0.1}); zone ids and brackets are not accepted. As
 * in nginx, address bits beyond the prefix are ignored with a warning ({@code 10.0.0.1/8} is
 * {@code 10.0.0.0/8}).
 *
 * <h2>Matching</h2>
 * Like nginx, the rules form one list per family: IPv4 addresses are matched against the IPv4
 * rules and {@code all}, IPv6 addresses against the IPv6 rules and {@code all}, each in the order
 * given. An IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}, what a dual-stack socket reports for
 * an IPv4 client) is matched as the IPv4 address {@code a.b.c.d} against the IPv4 list; only if
 * there are no IPv4 rules at all does nginx (and this class) match it against the IPv6 list. The
 * {@code byte[]} methods do not allocate.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class CidrRules {

    /** What a matching rule, or the default, does. */
    public enum Action {
        /** Let the request through. */
        ALLOW,
        /** Refuse the request, with {@link CidrRules#DENY_STATUS} in nginx. */
        DENY
    }

    /** The status nginx answers a denied request with: {@value}. */
    public static final int DENY_STATUS = 403;

    private static final Logger log = LoggerFactory.getLogger(CidrRules.class);

    /** True if this JDK's Inet4Address.hashCode() is the address, so matching it needs no copy. */
    private static final boolean INET4_HASH_IS_ADDRESS = checkInet4Hash();

    private final List<String> ruleTexts;
    private final boolean[] allowByIndex;
    private final Action defaultAction;

    // IPv4 list (IPv4 rules and "all"), in order.
    private final int[] v4Addr;
    private final int[] v4Mask;
    private final boolean[] v4Allow;
    private final int[] v4Index;

    // IPv6 list (IPv6 rules and "all"), in order.
    private final long[] v6AddrHi;
    private final long[] v6AddrLo;
    private final long[] v6MaskHi;
    private final long[] v6MaskLo;
    private final boolean[] v6Allow;
    private final int[] v6Index;

    private CidrRules(Builder b) {
        this.ruleTexts = Collections.unmodifiableList(new ArrayList<>(b.texts));
        this.defaultAction = b.defaultAction;
        this.allowByIndex = new boolean[b.rules.size()];
        for (int i = 0; i < allowByIndex.length; i++) {
            allowByIndex[i] = b.rules.get(i).allow;
        }
        int n4 = 0;
        int n6 = 0;
        for (Rule r : b.rules) {
            if (r.family != 6) {
                n4++;
            }
            if (r.family != 4) {
                n6++;
            }
        }
        v4Addr = new int[n4];
        v4Mask = new int[n4];
        v4Allow = new boolean[n4];
        v4Index = new int[n4];
        v6AddrHi = new long[n6];
        v6AddrLo = new long[n6];
        v6MaskHi = new long[n6];
        v6MaskLo = new long[n6];
        v6Allow = new boolean[n6];
        v6Index = new int[n6];
        int i4 = 0;
        int i6 = 0;
        for (int i = 0; i < b.rules.size(); i++) {
            Rule r = b.rules.get(i);
            if (r.family != 6) {
                v4Addr[i4] = r.v4Addr;
                v4Mask[i4] = r.v4Mask;
                v4Allow[i4] = r.allow;
                v4Index[i4] = i;
                i4++;
            }
            if (r.family != 4) {
                v6AddrHi[i6] = r.v6AddrHi;
                v6AddrLo[i6] = r.v6AddrLo;
                v6MaskHi[i6] = r.v6MaskHi;
                v6MaskLo[i6] = r.v6MaskLo;
                v6Allow[i6] = r.allow;
                v6Index[i6] = i;
                i6++;
            }
        }
    }

    /** A builder with no rules and nginx's default: allow. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Parses rules in nginx's syntax, separated by {@code ;} and/or new lines:
     * {@code "allow 10.0.0.0/8; allow ::1; deny all;"}. {@code #} starts a comment to the end of
     * the line. The default action is allow, as in nginx.
     *
     * @throws IllegalArgumentException naming the bad rule or CIDR
     */
    public static CidrRules parse(String rules) {
        Objects.requireNonNull(rules, "rules must not be null");
        Builder b = builder();
        for (String line : rules.split("\n", -1)) {
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            for (String stmt : line.split(";", -1)) {
                String s = stmt.strip();
                if (!s.isEmpty()) {
                    b.rule(s);
                }
            }
        }
        return b.build();
    }

    /**
     * True if the first rule matching {@code address} allows it, or no rule matches and the
     * default is allow.
     *
     * @param address 4 bytes (IPv4) or 16 bytes (IPv6), network order
     * @throws IllegalArgumentException if the array is not 4 or 16 bytes long
     */
    public boolean isAllowed(byte[] address) {
        int i = firstMatch(address);
        return i < 0 ? defaultAction == Action.ALLOW : ruleAllows(i);
    }

    /**
     * As {@link #isAllowed(byte[])}. An {@link Inet4Address} is matched without copying; an IPv6
     * address costs one copy of its 16 bytes ({@link InetAddress#getAddress()} always copies), so
     * prefer the {@code byte[]} form on hot paths when the bytes are at hand.
     */
    public boolean isAllowed(InetAddress address) {
        Objects.requireNonNull(address, "address must not be null");
        if (address instanceof Inet4Address && INET4_HASH_IS_ADDRESS) {
            int i = matchV4(address.hashCode());
            return i < 0 ? defaultAction == Action.ALLOW : v4Allow[i];
        }
        return isAllowed(address.getAddress());
    }

    /** The action for {@code address}: the first matching rule's, else the default. */
    public Action evaluate(byte[] address) {
        return isAllowed(address) ? Action.ALLOW : Action.DENY;
    }

    /**
     * The position (0-based, in the order given) of the first rule matching {@code address}, or -1
     * if none matches. For diagnostics ("denied by rule 3: deny 10.0.0.0/8").
     */
    public int firstMatch(byte[] address) {
        Objects.requireNonNull(address, "address must not be null");
        if (address.length == 4) {
            int i = matchV4(int4(address, 0));
            return i < 0 ? -1 : v4Index[i];
        }
        if (address.length != 16) {
            throw new IllegalArgumentException(
                    "address must be 4 or 16 bytes, got " + address.length);
        }
        if (v4Addr.length > 0 && isV4Mapped(address)) {
            int i = matchV4(int4(address, 12));
            return i < 0 ? -1 : v4Index[i];
        }
        long hi = long8(address, 0);
        long lo = long8(address, 8);
        for (int i = 0; i < v6AddrHi.length; i++) {
            if ((hi & v6MaskHi[i]) == v6AddrHi[i] && (lo & v6MaskLo[i]) == v6AddrLo[i]) {
                return v6Index[i];
            }
        }
        return -1;
    }

    /** The rules in the order given, normalized to nginx syntax ({@code "allow 10.0.0.0/8"}). */
    public List<String> rules() {
        return ruleTexts;
    }

    /** The action when no rule matches. */
    public Action defaultAction() {
        return defaultAction;
    }

    @Override
    public String toString() {
        return "CidrRules" + ruleTexts + " default " + defaultAction.name().toLowerCase(Locale.ROOT);
    }

    private boolean ruleAllows(int ruleIndex) {
        return allowByIndex[ruleIndex];
    }

    /** Index into the IPv4 list of the first rule matching, or -1. */
    private int matchV4(int addr) {
        for (int i = 0; i < v4Addr.length; i++) {
            if ((addr & v4Mask[i]) == v4Addr[i]) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static int int4(byte[] a, int off) {
        return (a[off] & 0xff) << 24 | (a[off + 1] & 0xff) << 16 | (a[off + 2] & 0xff) << 8 | (a[off + 3] & 0xff);
    }

    private static long long8(byte[] a, int off) {
        return (long) int4(a, off) << 32 | (int4(a, off + 4) & 0xffffffffL);
    }

    private static boolean checkInet4Hash() {
        try {
            int[] samples = {0x01020304, 0x7f000001, 0xc0a80101, 0xffffffff, 0x00000000, 0x80000000};
            for (int v : samples) {
                byte[] b = {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
                InetAddress a = InetAddress.getByAddress(b); // no lookup: bytes given
                if (!(a instanceof Inet4Address) || a.hashCode() != v) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Parses {@code all}, an IPv4 or IPv6 literal, or a CIDR. Package-private for tests.
     *
     * @throws IllegalArgumentException {@code bad CIDR '<text>': <reason>}
     */
    static Rule parseCidr(String text, boolean allow) {
        Objects.requireNonNull(text, "CIDR must not be null");
        Rule r = new Rule();
        r.allow = allow;
        if (text.equals("all")) {
            r.family = 0;
            return r;
        }
        if (text.startsWith("unix:")) {
            throw bad(text, "unix domain socket rules are not supported");
        }
        int slash = text.indexOf('/');
        String addr = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes;
        if (addr.indexOf(':') >= 0) {
            bytes = new byte[16];
            String err = parseIPv6(addr, bytes);
            if (err != null) {
                throw bad(text, err);
            }
            r.family = 6;
        } else if (!addr.isEmpty() && Character.isDigit(addr.charAt(0))) {
            bytes = new byte[4];
            String err = parseIPv4(addr, 0, addr.length(), bytes, 0);
            if (err != null) {
                throw bad(text, err);
            }
            r.family = 4;
        } else {
            throw bad(text, "expected 'all', an IPv4 or IPv6 address, or address/prefix");
        }
        int max = r.family == 4 ? 32 : 128;
        int prefix = max;
        if (slash >= 0) {
            String p = text.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw bad(text, "prefix length must be 0.." + max);
            }
            prefix = Integer.parseInt(p);
            if (prefix > max) {
                throw bad(text, "prefix length must be 0.." + max);
            }
        }
        boolean lowBits;
        if (r.family == 4) {
            int a = int4(bytes, 0);
            r.v4Mask = prefix == 0 ? 0 : -1 << (32 - prefix);
            r.v4Addr = a & r.v4Mask;
            lowBits = r.v4Addr != a;
        } else {
            long hi = long8(bytes, 0);
            long lo = long8(bytes, 8);
            r.v6MaskHi = prefix == 0 ? 0 : prefix >= 64 ? -1L : -1L << (64 - prefix);
            r.v6MaskLo = prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix);
            r.v6AddrHi = hi & r.v6MaskHi;
            r.v6AddrLo = lo & r.v6MaskLo;
            lowBits = r.v6AddrHi != hi || r.v6AddrLo != lo;
        }
        if (lowBits) {
            log.warn("low address bits of {} are meaningless", text);
        }
        return r;
    }

    private static IllegalArgumentException bad(String text, String reason) {
        return new IllegalArgumentException("bad CIDR '" + text + "': " + reason);
    }

    /** Strict dotted-quad decimal into out[off..off+4); returns an error text or null. */
    static String parseIPv4(String s, int from, int to, byte[] out, int off) {
        int part = 0;
        int value = 0;
        int digits = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                value = value * 10 + (c - '0');
                if (++digits > 3 || value > 255) {
                    return "IPv4 octet must be 0..255";
                }
            } else if (c == '.') {
                if (digits == 0 || part == 3) {
                    return "IPv4 address must be four decimal octets a.b.c.d";
                }
                out[off + part++] = (byte) value;
                value = 0;
                digits = 0;
            } else {
                return "unexpected character '" + c + "' in IPv4 address";
            }
        }
        if (digits == 0 || part != 3) {
            return "IPv4 address must be four decimal octets a.b.c.d";
        }
        out[off + 3] = (byte) value;
        return null;
    }

    /** RFC 4291 text form into out[0..16); returns an error text or null. */
    static String parseIPv6(String s, byte[] out) {
        int n = s.length();
        if (n < 2) {
            return "bad IPv6 address";
        }
        int dbl = s.indexOf("::");
        if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) {
            return "'::' may appear only once in an IPv6 address";
        }
        int[] head = new int[8];
        int[] tail = new int[8];
        int headCount;
        int tailCount;
        if (dbl < 0) {
            headCount = parseGroups(s, 0, n, head, true);
            if (headCount < 0) {
                return groupError(headCount);
            }
            if (headCount != 8) {
                return "IPv6 address must have 8 groups or use '::'";
            }
            tailCount = 0;
        } else {
            headCount = dbl == 0 ? 0 : parseGroups(s, 0, dbl, head, false);
            if (headCount < 0) {
                return groupError(headCount);
            }
            tailCount = dbl + 2 == n ? 0 : parseGroups(s, dbl + 2, n, tail, true);
            if (tailCount < 0) {
                return groupError(tailCount);
            }
            if (headCount + tailCount > 7) {
                return "IPv6 address with '::' must have at most 7 groups";
            }
        }
        Arrays.fill(out, (byte) 0);
        for (int i = 0; i < headCount; i++) {
            out[2 * i] = (byte) (head[i] >>> 8);
            out[2 * i + 1] = (byte) head[i];
        }
        for (int i = 0; i < tailCount; i++) {
            int g = 8 - tailCount + i;
            out[2 * g] = (byte) (tail[i] >>> 8);
            out[2 * g + 1] = (byte) tail[i];
        }
        return null;
    }

    private static String groupError(int code) {
        switch (code) {
            case -2:
                return "IPv6 group must be 1 to 4 hex digits";
            case -3:
                return "bad IPv4 part in IPv6 address";
            case -4:
                return "too many groups in IPv6 address";
            default:
                return "bad IPv6 address";
        }
    }

    /**
     * Parses {@code h:h:...:h} (each 1-4 hex digits; the last may be a dotted IPv4 address if
     * {@code allowV4}) into groups; returns the count, or a negative error code.
     */
    private static int parseGroups(String s, int from, int to, int[] groups, boolean allowV4) {
        int count = 0;
        int start = from;
        for (int i = from; i <= to; i++) {
            if (i == to || s.charAt(i) == ':') {
                if (i == start) {
                    return -2; // empty group
                }
                if (count == 8) {
                    return -4;
                }
                int value = 0;
                for (int j = start; j < i; j++) {
                    int d = hexDigit(s.charAt(j));
                    if (d < 0) {
                        if (s.charAt(j) == '.' && allowV4 && i == to) {
                            // dotted IPv4 tail: two groups
                            if (count > 6) {
                                return -4;
                            }
                            byte[] b = new byte[4];
                            if (parseIPv4(s, start, to, b, 0) != null) {
                                return -3;
                            }
                            groups[count++] = (b[0] & 0xff) << 8 | (b[1] & 0xff);
                            groups[count++] = (b[2] & 0xff) << 8 | (b[3] & 0xff);
                            return count;
                        }
                        return -2;
                    }
                    value = value << 4 | d;
                }
                if (i - start > 4) {
                    return -2;
                }
                groups[count++] = value;
                start = i + 1;
            }
        }
        return count;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** One parsed rule. family: 4, 6, or 0 for "all". */
    static final class Rule {
        int family;
        boolean allow;
        int v4Addr;
        int v4Mask;
        long v6AddrHi;
        long v6AddrLo;
        long v6MaskHi;
        long v6MaskLo;
    }

    /** Collects rules in order; every method validates its argument at once. */
    public static final class Builder {
        private final List<Rule> rules = new ArrayList<>();
        private final List<String> texts = new ArrayList<>();
        private Action defaultAction = Action.ALLOW;

        private Builder() {
        }

        /** Appends {@code allow <cidr>}: {@code all}, an address, or address/prefix. */
        public Builder allow(String cidr) {
            return add(cidr, true);
        }

        /** Appends {@code deny <cidr>}: {@code all}, an address, or address/prefix. */
        public Builder deny(String cidr) {
            return add(cidr, false);
        }

        /**
         * Appends one rule in nginx syntax: {@code "allow 10.0.0.0/8"} or {@code "deny all;"}
         * (a trailing {@code ;} is optional).
         */
        public Builder rule(String rule) {
            Objects.requireNonNull(rule, "rule must not be null");
            String s = rule.strip();
            if (s.endsWith(";")) {
                s = s.substring(0, s.length() - 1).strip();
            }
            String[] words = s.split("\\s+");
            if (words.length != 2 || !(words[0].equals("allow") || words[0].equals("deny"))) {
                throw new IllegalArgumentException("bad rule '" + rule
                        + "': expected 'allow <cidr>' or 'deny <cidr>'");
            }
            return add(words[1], words[0].equals("allow"));
        }

        /** The action when no rule matches. Default {@link Action#ALLOW}, as in nginx. */
        public Builder defaultAction(Action action) {
            this.defaultAction = Objects.requireNonNull(action, "defaultAction must not be null");
            return this;
        }

        /** Shorthand for {@code defaultAction(allow ? ALLOW : DENY)}. */
        public Builder defaultAllow(boolean allow) {
            return defaultAction(allow ? Action.ALLOW : Action.DENY);
        }

        /** Builds the immutable rule list. */
        public CidrRules build() {
            return new CidrRules(this);
        }

        private Builder add(String cidr, boolean allow) {
            Rule r = parseCidr(cidr, allow);
            rules.add(r);
            texts.add((allow ? "allow " : "deny ") + cidr);
            return this;
        }
    }
}

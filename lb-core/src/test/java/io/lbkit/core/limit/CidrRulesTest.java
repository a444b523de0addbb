package io.lbkit.core.limit;

import static io.lbkit.core.limit.RateLimiterTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CidrRulesTest {

    /** The example of nginx's ngx_http_access_module documentation. */
    private static final CidrRules NGINX_EXAMPLE = CidrRules.builder()
            .deny("192.168.1.1")
            .allow("192.168.1.0/24")
            .allow("10.1.1.0/16")
            .allow("2001:0db8::/32")
            .deny("all")
            .build();

    static byte[] v4(int a, int b, int c, int d) {
        return new byte[] {(byte) a, (byte) b, (byte) c, (byte) d};
    }

    static byte[] v6(String literal) {
        byte[] out = new byte[16];
        assertNull(CidrRules.parseIPv6(literal, out), literal);
        return out;
    }

    static byte[] mapped(int a, int b, int c, int d) {
        byte[] out = new byte[16];
        out[10] = (byte) 0xff;
        out[11] = (byte) 0xff;
        out[12] = (byte) a;
        out[13] = (byte) b;
        out[14] = (byte) c;
        out[15] = (byte) d;
        return out;
    }

    @Test
    void firstMatchWinsOnTheNginxExample() {
        CidrRules r = NGINX_EXAMPLE;
        assertFalse(r.isAllowed(v4(192, 168, 1, 1)));
        assertEquals(0, r.firstMatch(v4(192, 168, 1, 1)));
        assertTrue(r.isAllowed(v4(192, 168, 1, 2)));
        assertEquals(1, r.firstMatch(v4(192, 168, 1, 2)));
        assertTrue(r.isAllowed(v4(10, 1, 200, 3))); // 10.1.1.0/16 is 10.1.0.0/16
        assertEquals(2, r.firstMatch(v4(10, 1, 200, 3)));
        assertFalse(r.isAllowed(v4(10, 2, 0, 1)));
        assertEquals(4, r.firstMatch(v4(10, 2, 0, 1)));
        assertTrue(r.isAllowed(v6("2001:db8:1234::1")));
        assertEquals(3, r.firstMatch(v6("2001:db8:1234::1")));
        assertFalse(r.isAllowed(v6("2001:db9::1")));
        assertFalse(r.isAllowed(v6("::1")));
        assertEquals(4, r.firstMatch(v6("::1")));
        assertEquals(CidrRules.Action.DENY, r.evaluate(v4(8, 8, 8, 8)));
        assertEquals(CidrRules.Action.ALLOW, r.evaluate(v4(192, 168, 1, 200)));
    }

    @Test
    void ipv4MappedAddressesMatchIpv4Rules() {
        CidrRules r = NGINX_EXAMPLE;
        assertFalse(r.isAllowed(mapped(192, 168, 1, 1)));
        assertEquals(0, r.firstMatch(mapped(192, 168, 1, 1)));
        assertTrue(r.isAllowed(mapped(192, 168, 1, 2)));
        assertEquals(1, r.firstMatch(mapped(192, 168, 1, 2)));
        assertFalse(r.isAllowed(mapped(8, 8, 8, 8)));
    }

    @Test
    void mappedAddressUsesIpv6RulesOnlyWhenThereAreNoIpv4Rules() {
        // nginx: "if (alcf->rules && IN6_IS_ADDR_V4MAPPED(...))" -> IPv4 list, else IPv6 list
        CidrRules v6only = CidrRules.builder().allow("::ffff:0:0/96").defaultAllow(false).build();
        assertTrue(v6only.isAllowed(mapped(1, 2, 3, 4)));
        assertFalse(v6only.isAllowed(v4(1, 2, 3, 4))); // plain IPv4: no IPv4 rules -> default

        CidrRules mixed = CidrRules.builder().deny("9.9.9.9").allow("::ffff:0:0/96").defaultAllow(false).build();
        assertFalse(mixed.isAllowed(mapped(1, 2, 3, 4))); // IPv4 list only, no match -> default
        assertEquals(-1, mixed.firstMatch(mapped(1, 2, 3, 4)));
        assertEquals(0, mixed.firstMatch(mapped(9, 9, 9, 9)));
    }

    @Test
    void familiesAreSeparateListsInOrder() {
        CidrRules r = CidrRules.builder().allow("::/0").deny("all").allow("0.0.0.0/0").build();
        assertTrue(r.isAllowed(v6("2001:db8::1"))); // IPv6 list: ::/0 first
        assertFalse(r.isAllowed(v4(1, 2, 3, 4))); // IPv4 list: all (deny) first
        assertEquals(1, r.firstMatch(v4(1, 2, 3, 4)));
    }

    @Test
    void defaultAppliesWhenNothingMatches() {
        CidrRules allowByDefault = CidrRules.builder().deny("10.0.0.0/8").build();
        assertTrue(allowByDefault.isAllowed(v4(11, 0, 0, 1)));
        assertEquals(CidrRules.Action.ALLOW, allowByDefault.defaultAction());
        CidrRules denyByDefault = CidrRules.builder().allow("10.0.0.0/8").allow("::1")
                .defaultAction(CidrRules.Action.DENY).build();
        assertTrue(denyByDefault.isAllowed(v4(10, 255, 255, 255)));
        assertTrue(denyByDefault.isAllowed(v6("::1")));
        assertFalse(denyByDefault.isAllowed(v4(11, 0, 0, 1)));
        assertFalse(denyByDefault.isAllowed(v6("::2")));
        assertEquals(-1, denyByDefault.firstMatch(v4(11, 0, 0, 1)));
        CidrRules empty = CidrRules.builder().build();
        assertTrue(empty.isAllowed(v4(1, 1, 1, 1)));
        assertTrue(empty.isAllowed(v6("::")));
    }

    @Test
    void prefixLengths() {
        CidrRules r = CidrRules.builder().defaultAllow(false)
                .allow("128.0.0.0/1").allow("0.0.0.0/32").allow("10.20.30.40")
                .allow("2001:db8:0:0:8000::/65").allow("fe80::/10").allow("::5/128")
                .build();
        assertTrue(r.isAllowed(v4(200, 0, 0, 1)));
        assertFalse(r.isAllowed(v4(127, 255, 255, 255)));
        assertTrue(r.isAllowed(v4(0, 0, 0, 0)));
        assertFalse(r.isAllowed(v4(0, 0, 0, 1)));
        assertTrue(r.isAllowed(v4(10, 20, 30, 40)));
        assertFalse(r.isAllowed(v4(10, 20, 30, 41)));
        assertTrue(r.isAllowed(v6("2001:db8::8000:0:0:1")));
        assertTrue(r.isAllowed(v6("2001:db8::ffff:0:0:0")));
        assertFalse(r.isAllowed(v6("2001:db8::7fff:0:0:1")));
        assertTrue(r.isAllowed(v6("febf::1")));
        assertFalse(r.isAllowed(v6("fec0::1")));
        assertTrue(r.isAllowed(v6("::5")));
        assertFalse(r.isAllowed(v6("::4")));
        CidrRules all = CidrRules.builder().defaultAllow(false).allow("0.0.0.0/0").allow("::/0").build();
        assertTrue(all.isAllowed(v4(255, 255, 255, 255)));
        assertTrue(all.isAllowed(v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    }

    @Test
    void lowBitsAreMaskedLikeNginx() {
        CidrRules r = CidrRules.builder().defaultAllow(false).allow("10.1.2.3/8").allow("2001:db8::1/32").build();
        assertTrue(r.isAllowed(v4(10, 200, 0, 0)));
        assertTrue(r.isAllowed(v6("2001:db8:ffff::")));
        assertEquals(List.of("allow 10.1.2.3/8", "allow 2001:db8::1/32"), r.rules());
    }

    @Test
    void inetAddressOverloads() throws UnknownHostException {
        CidrRules r = NGINX_EXAMPLE;
        InetAddress a4 = InetAddress.getByAddress(v4(192, 168, 1, 7));
        assertInstanceOf(Inet4Address.class, a4);
        assertTrue(r.isAllowed(a4));
        assertFalse(r.isAllowed(InetAddress.getByAddress(v4(192, 168, 1, 1))));
        assertFalse(r.isAllowed(InetAddress.getByAddress(v4(172, 16, 0, 1))));
        InetAddress a6 = InetAddress.getByAddress(v6("2001:db8::42"));
        assertInstanceOf(Inet6Address.class, a6);
        assertTrue(r.isAllowed(a6));
        assertFalse(r.isAllowed(InetAddress.getByAddress(v6("::1"))));
        // Java turns a mapped address into an Inet4Address; the result is the same either way
        assertTrue(r.isAllowed(InetAddress.getByAddress(mapped(192, 168, 1, 2))));
        assertThrows(NullPointerException.class, () -> r.isAllowed((InetAddress) null));
    }

    @Test
    void ipv6LiteralsParseLikeTheJdk() throws UnknownHostException {
        // InetAddress.getByName does not resolve literals; it is the reference here.
        for (String literal : List.of("::", "::1", "1::", "2001:db8::ff00:42:8329",
                "2001:0db8:0000:0000:0000:ff00:0042:8329", "1:2:3:4:5:6:7::", "1:2:3:4:5:6::8",
                "::2:3:4:5:6:7:8", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4", "FE80::ABCD:EF01",
                "::0.0.0.1", "1:2:3:4:5:6:7:8")) {
            assertArrayEquals(InetAddress.getByName(literal).getAddress(), v6(literal), literal);
        }
        assertArrayEquals(mapped(10, 1, 2, 3), v6("::ffff:10.1.2.3"));
    }

    @Test
    void badCidrsAreReportedWithTheTextAndReason() {
        assertMessage("bad CIDR '10.0.0.0/33': prefix length must be 0..32", () -> CidrRules.builder().allow("10.0.0.0/33"));
        assertMessage("bad CIDR '::/129': prefix length must be 0..128", () -> CidrRules.builder().allow("::/129"));
        assertMessage("bad CIDR '10.0.0.0/': prefix length must be 0..32", () -> CidrRules.builder().deny("10.0.0.0/"));
        assertMessage("bad CIDR '10.0.0.0/-1': prefix length must be 0..32", () -> CidrRules.builder().deny("10.0.0.0/-1"));
        assertMessage("bad CIDR '10.0.0.0/1000': prefix length must be 0..32", () -> CidrRules.builder().deny("10.0.0.0/1000"));
        assertMessage("bad CIDR '10.0.0.256': IPv4 octet must be 0..255", () -> CidrRules.builder().allow("10.0.0.256"));
        assertMessage("bad CIDR '10.0.0': IPv4 address must be four decimal octets a.b.c.d", () -> CidrRules.builder().allow("10.0.0"));
        assertMessage("bad CIDR '1.2.3.4.5': IPv4 address must be four decimal octets a.b.c.d", () -> CidrRules.builder().allow("1.2.3.4.5"));
        assertMessage("bad CIDR '1..2.3': IPv4 address must be four decimal octets a.b.c.d", () -> CidrRules.builder().allow("1..2.3"));
        assertMessage("bad CIDR '1.2.3.x': unexpected character 'x' in IPv4 address", () -> CidrRules.builder().allow("1.2.3.x"));
        assertMessage("bad CIDR 'localhost': expected 'all', an IPv4 or IPv6 address, or address/prefix", () -> CidrRules.builder().allow("localhost"));
        assertMessage("bad CIDR '': expected 'all', an IPv4 or IPv6 address, or address/prefix", () -> CidrRules.builder().allow(""));
        assertMessage("bad CIDR '1:2:3:4:5:6:7:8:9': too many groups in IPv6 address", () -> CidrRules.builder().allow("1:2:3:4:5:6:7:8:9"));
        assertMessage("bad CIDR '1:2:3:4:5:6:7': IPv6 address must have 8 groups or use '::'", () -> CidrRules.builder().allow("1:2:3:4:5:6:7"));
        assertMessage("bad CIDR '1:2:3:4::5:6:7:8': IPv6 address with '::' must have at most 7 groups", () -> CidrRules.builder().allow("1:2:3:4::5:6:7:8"));
        assertMessage("bad CIDR '1::2::3': '::' may appear only once in an IPv6 address", () -> CidrRules.builder().allow("1::2::3"));
        assertMessage("bad CIDR '12345::': IPv6 group must be 1 to 4 hex digits", () -> CidrRules.builder().allow("12345::"));
        assertMessage("bad CIDR '::g': IPv6 group must be 1 to 4 hex digits", () -> CidrRules.builder().allow("::g"));
        assertMessage("bad CIDR 'fe80::1%eth0': IPv6 group must be 1 to 4 hex digits", () -> CidrRules.builder().allow("fe80::1%eth0"));
        assertMessage("bad CIDR ':1::': IPv6 group must be 1 to 4 hex digits", () -> CidrRules.builder().allow(":1::"));
        assertMessage("bad CIDR '::1.2.3.256': bad IPv4 part in IPv6 address", () -> CidrRules.builder().allow("::1.2.3.256"));
        assertMessage("bad CIDR 'unix:': unix domain socket rules are not supported", () -> CidrRules.builder().allow("unix:"));
    }

    @Test
    void ruleSyntax() {
        CidrRules r = CidrRules.parse("""
                # office
                allow 10.0.0.0/8;  allow ::1/128;
                deny 192.0.2.0/24   # test net
                deny all;
                """);
        assertEquals(List.of("allow 10.0.0.0/8", "allow ::1/128", "deny 192.0.2.0/24", "deny all"), r.rules());
        assertTrue(r.isAllowed(v4(10, 9, 8, 7)));
        assertTrue(r.isAllowed(v6("::1")));
        assertFalse(r.isAllowed(v4(192, 0, 2, 1)));
        assertFalse(r.isAllowed(v4(1, 1, 1, 1)));
        assertEquals("CidrRules[allow 10.0.0.0/8, allow ::1/128, deny 192.0.2.0/24, deny all] default allow",
                r.toString());
        CidrRules single = CidrRules.builder().rule("  deny 10.0.0.1 ; ").build();
        assertFalse(single.isAllowed(v4(10, 0, 0, 1)));
        assertMessage("bad rule 'permit 1.2.3.4': expected 'allow <cidr>' or 'deny <cidr>'",
                () -> CidrRules.builder().rule("permit 1.2.3.4"));
        assertMessage("bad rule 'allow': expected 'allow <cidr>' or 'deny <cidr>'",
                () -> CidrRules.builder().rule("allow"));
        assertMessage("bad rule 'allow 1.2.3.4 5.6.7.8': expected 'allow <cidr>' or 'deny <cidr>'",
                () -> CidrRules.parse("allow 1.2.3.4 5.6.7.8;"));
        assertMessage("bad CIDR '1.2.3.4/40': prefix length must be 0..32",
                () -> CidrRules.parse("allow 10.0.0.0/8;\ndeny 1.2.3.4/40;"));
    }

    @Test
    void addressLengthIsChecked() {
        assertMessage("address must be 4 or 16 bytes, got 5", () -> NGINX_EXAMPLE.isAllowed(new byte[5]));
        assertThrows(NullPointerException.class, () -> NGINX_EXAMPLE.isAllowed((byte[]) null));
    }

    @Test
    void matchingBytesDoesNotAllocate() throws UnknownHostException {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        byte[][] addresses = {v4(192, 168, 1, 1), v4(10, 1, 2, 3), v6("2001:db8::1"), v6("::1"), mapped(192, 168, 1, 9)};
        InetAddress inet4 = InetAddress.getByAddress(v4(10, 1, 2, 3));
        int allowed = 0;
        for (int i = 0; i < 20_000; i++) { // warm up
            allowed += NGINX_EXAMPLE.isAllowed(addresses[i % addresses.length]) ? 1 : 0;
            allowed += NGINX_EXAMPLE.isAllowed(inet4) ? 1 : 0;
        }
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 100_000; i++) {
            allowed += NGINX_EXAMPLE.isAllowed(addresses[i % addresses.length]) ? 1 : 0;
            allowed += NGINX_EXAMPLE.isAllowed(inet4) ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < 10_000, "allocated " + allocated + " bytes in 200000 matches");
        assertEquals(3 * 24_000 + 120_000, allowed);
    }
}

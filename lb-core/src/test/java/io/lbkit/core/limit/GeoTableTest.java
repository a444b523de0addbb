package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeoTableTest {

    private static byte[] ip(String s) {
        return IpAddresses.parse(s);
    }

    @Test
    void longestPrefixWinsElseTheDefault() {
        GeoTable g = GeoTable.builder().defaultValue("no")
                .add("10.0.0.0/8", "yes").add("10.1.0.0/16", "inner").add("10.1.2.3", "host")
                .add("192.0.2.0/24", "doc").add("2001:db8::/32", "v6").add("2001:db8:1::/48", "v6in")
                .build();
        assertEquals("no", g.lookup(ip("9.255.255.255")));
        assertEquals("yes", g.lookup(ip("10.0.0.0")));
        assertEquals("inner", g.lookup(ip("10.1.0.0")));
        assertEquals("host", g.lookup(ip("10.1.2.3")));
        assertEquals("inner", g.lookup(ip("10.1.2.4")));
        assertEquals("inner", g.lookup(ip("10.1.255.255")));
        assertEquals("yes", g.lookup(ip("10.2.0.0")));
        assertEquals("yes", g.lookup(ip("10.255.255.255")));
        assertEquals("no", g.lookup(ip("11.0.0.0")));
        assertEquals("doc", g.lookup(ip("::ffff:192.0.2.7")), "IPv4-mapped: looked up as IPv4");
        assertEquals("v6", g.lookup(ip("2001:db8::1")));
        assertEquals("v6in", g.lookup(ip("2001:db8:1:ffff::1")));
        assertEquals("no", g.lookup(ip("2001:db9::")));
        assertEquals("no", g.lookup(ip("::")));
        assertEquals(6, g.size());
    }

    @Test
    void wholeRangesLastAddressesDuplicatesAndLowBits() {
        GeoTable g = GeoTable.builder().add("0.0.0.0/0", "all").add("255.255.255.255", "top")
                .add("::/0", "all6").add("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "top6")
                .add("10.1.1.0/16", "masked").add("10.1.0.0/16", "again").build();
        assertEquals("all", g.lookup(ip("0.0.0.0")));
        assertEquals("top", g.lookup(ip("255.255.255.255")));
        assertEquals("all", g.lookup(ip("255.255.255.254")));
        assertEquals("again", g.lookup(ip("10.1.200.1")), "10.1.1.0/16 is 10.1.0.0/16; the last value wins");
        assertEquals("all6", g.lookup(ip("8000::")));
        assertEquals("top6", g.lookup(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assertEquals("", GeoTable.builder().build().lookup(ip("1.2.3.4")), "nginx's default is the empty string");
    }

    @Test
    void agreesWithALinearLongestPrefixSearchOnRandomNestedTables() {
        Random rnd = new Random(14);
        for (int round = 0; round < 20; round++) {
            List<int[]> nets = new ArrayList<>(); // address, prefix, value
            GeoTable.Builder b = GeoTable.builder().defaultValue("d");
            for (int i = 0; i < 300; i++) {
                int prefix = 8 + rnd.nextInt(25);
                int base = (rnd.nextInt(4) << 24) | (rnd.nextInt(1 << 12) << 12); // clustered: many nest
                int addr = prefix == 0 ? 0 : base & (int) (0xffffffffL << (32 - prefix));
                nets.removeIf(n -> n[0] == addr && n[1] == prefix);
                nets.add(new int[] {addr, prefix, i});
                b.add(text(addr) + "/" + prefix, "v" + i);
            }
            GeoTable g = b.build();
            for (int q = 0; q < 5000; q++) {
                int a = q % 2 == 0 ? rnd.nextInt() : nets.get(rnd.nextInt(nets.size()))[0] + rnd.nextInt(4096) - 2048;
                String want = "d";
                int best = -1;
                for (int[] n : nets) {
                    int mask = n[1] == 0 ? 0 : (int) (0xffffffffL << (32 - n[1]));
                    if ((a & mask) == n[0] && n[1] > best) {
                        best = n[1];
                        want = "v" + n[2];
                    }
                }
                assertEquals(want, g.lookup(ip(text(a))), "round " + round + " address " + text(a));
            }
        }
    }

    @Test
    void ipv6AgreesWithALinearLongestPrefixSearch() {
        Random rnd = new Random(6);
        for (int round = 0; round < 10; round++) {
            List<Object[]> nets = new ArrayList<>(); // java.math.BigInteger network, prefix, value
            GeoTable.Builder b = GeoTable.builder().defaultValue("d");
            java.math.BigInteger top = java.math.BigInteger.ONE.shiftLeft(128).subtract(java.math.BigInteger.ONE);
            for (int i = 0; i < 300; i++) {
                int prefix = round % 2 == 0 ? 16 + rnd.nextInt(113) : rnd.nextInt(129);
                byte[] a = new byte[16];
                rnd.nextBytes(a);
                if (round % 2 == 0) {
                    a[0] = 0x20;
                    a[1] = 0x01;
                    a[2] = (byte) rnd.nextInt(4);
                }
                java.math.BigInteger mask = top.shiftRight(prefix).xor(top);
                java.math.BigInteger net = new java.math.BigInteger(1, a).and(mask);
                nets.removeIf(n -> n[0].equals(net) && (int) n[1] == prefix);
                nets.add(new Object[] {net, prefix, "v" + i});
                b.add(v6(net) + "/" + prefix, "v" + i);
            }
            GeoTable g = b.build();
            for (int q = 0; q < 3000; q++) {
                java.math.BigInteger addr;
                if (q % 2 == 0) {
                    byte[] a = new byte[16];
                    rnd.nextBytes(a);
                    addr = new java.math.BigInteger(1, a);
                } else {
                    addr = ((java.math.BigInteger) nets.get(rnd.nextInt(nets.size()))[0])
                            .add(java.math.BigInteger.valueOf(rnd.nextInt(1000) - 500)).and(top);
                }
                String want = "d";
                int best = -1;
                for (Object[] n : nets) {
                    int prefix = (int) n[1];
                    java.math.BigInteger mask = top.shiftRight(prefix).xor(top);
                    if (addr.and(mask).equals(n[0]) && prefix > best) {
                        best = prefix;
                        want = (String) n[2];
                    }
                }
                byte[] bytes = ip(v6(addr));
                if (bytes.length == 4) {
                    continue; // an IPv4-mapped address: looked up as IPv4
                }
                assertEquals(want, g.lookup(bytes), "round " + round + " address " + v6(addr));
            }
        }
    }

    private static String v6(java.math.BigInteger v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 7; i >= 0; i--) {
            sb.append(v.shiftRight(16 * i).intValue() & 0xffff).append(i > 0 ? ":" : "");
        }
        String[] parts = sb.toString().split(":");
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            hex.append(i > 0 ? ":" : "").append(Integer.toHexString(Integer.parseInt(parts[i])));
        }
        return hex.toString();
    }

    @Test
    void loadsAFileOfCidrValueLinesNamingABadLine(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("geo.txt");
        Files.writeString(f, "# countries\ndefault no;\n10.0.0.0/8 US;\n\n192.0.2.0/24   \"GB\";\n2001:db8::/32 CA\n");
        GeoTable g = GeoTable.load(f);
        assertEquals("US", g.lookup(ip("10.9.9.9")));
        assertEquals("GB", g.lookup(ip("192.0.2.1")));
        assertEquals("CA", g.lookup(ip("2001:db8::5")));
        assertEquals("no", g.lookup(ip("8.8.8.8")));

        Files.writeString(f, "10.0.0.0/8 US;\n10.0.0.0/33 X;\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GeoTable.load(f));
        assertEquals("geo.txt:2: bad CIDR '10.0.0.0/33': prefix length must be 0..32", e.getMessage());
        Files.writeString(f, "10.0.0.0/8\n");
        assertEquals("geo.txt:1: expected 'CIDR VALUE', got '10.0.0.0/8'",
                assertThrows(IllegalArgumentException.class, () -> GeoTable.load(f)).getMessage());
    }

    @Test
    void aHundredThousandNetworksLoadAndAnswerLikeTheLinearSearch(@TempDir Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        Random rnd = new Random(4);
        for (int i = 0; i < 100_000; i++) {
            int addr = rnd.nextInt() & 0xffffff00;
            sb.append(text(addr)).append("/24 c").append(i % 250).append('\n');
        }
        Path f = dir.resolve("big.txt");
        Files.writeString(f, sb);
        GeoTable g = GeoTable.load(f);
        assertEquals(true, g.size() > 99_000 && g.size() <= 100_000, "duplicates collapse: " + g.size());
        String[] lines = sb.toString().split("\n");
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = lines.length - 1; i >= lines.length - 1000; i--) {
            String[] p = lines[i].split(" ");
            if (!seen.add(p[0])) {
                continue; // a later line of the same network holds its value
            }
            byte[] a = ip(p[0].substring(0, p[0].indexOf('/')));
            a[3] = (byte) 77;
            assertEquals(p[1], g.lookup(a), lines[i]);
        }
    }

    private static String text(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }
}

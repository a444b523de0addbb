package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.IpAddresses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimulateCommandTest {

    @TempDir
    Path dir;

    private static Cli.Result ok(String... args) {
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.status(), () -> "exit status; stderr: " + r.err());
        assertEquals("", r.err());
        return r;
    }

    // ------------------------------------------------------------------ per-pick output

    @Test
    void roundRobinPrintsNginxSmoothWeightedSequence() {
        Cli.Result r = ok("simulate", "--algorithm", "round-robin", "--endpoint", "a=5", "--endpoint", "b=1",
                "--endpoint", "c=1", "--requests", "7");
        // nginx's example in ngx_http_upstream_round_robin.c: { a, a, b, a, c, a, a }
        assertEquals("a\na\nb\na\nc\na\na\n", r.out());
    }

    @Test
    void endpointsAsCommaListAndEqualsFormGiveTheSameResult() {
        Cli.Result r1 = ok("simulate", "--algorithm", "round-robin", "--endpoint", "a=5,b=1,c=1", "--requests", "14");
        Cli.Result r2 = ok("simulate", "--algorithm=round-robin", "--endpoint=a=5", "--endpoint", "b, c=1",
                "--requests=14");
        assertEquals(r1.out(), r2.out());
        assertEquals(14, r1.outLines().size());
    }

    @Test
    void algorithmNameIsCaseAndUnderscoreInsensitive() {
        Cli.Result r = ok("simulate", "--algorithm", "Round_Robin", "--endpoint", "a,b", "--requests", "4");
        assertEquals(List.of("a", "b", "a", "b"), r.outLines());
    }

    @Test
    void hashPoliciesWithRequestsHashGeneratedKeys() {
        List<String> ids = List.of("10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080");
        for (String policy : List.of("hash", "consistent-hash", "maglev", "rendezvous", "jump")) {
            Cli.Result r = ok("simulate", "--algorithm", policy, "--endpoint", String.join(",", ids),
                    "--requests", "200");
            Upstream up = upstream(policy, ids);
            PickRequest req = PickRequest.create();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                expected.add(up.pick(req.reset().hashKey("key-" + i)).endpoint().id());
            }
            assertEquals(expected, r.outLines(), policy);
        }
    }

    @Test
    void keysFileLinesAreHashedAsTheirBytes() {
        Path keys = Cli.write(dir, "keys.txt", "alice\nbob\r\n\u00e9t\u00e9\ncarol\n");
        List<String> ids = List.of("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80");
        for (String policy : List.of("hash", "consistent-hash", "maglev", "rendezvous")) {
            Cli.Result r = ok("simulate", "--algorithm", policy, "--endpoint", String.join(",", ids),
                    "--keys", keys.toString());
            Upstream up = upstream(policy, ids);
            PickRequest req = PickRequest.create();
            List<String> expected = new ArrayList<>();
            for (String k : List.of("alice", "bob", "\u00e9t\u00e9", "carol")) {
                expected.add(up.pick(req.reset().hashKey(k.getBytes(StandardCharsets.UTF_8))).endpoint().id());
            }
            assertEquals(expected, r.outLines(), policy);
        }
    }

    @Test
    void nonHashPolicyWithKeysMakesOnePickPerLine() {
        Path keys = Cli.write(dir, "keys.txt", "x\ny\nz\nw\n");
        Cli.Result r = ok("simulate", "--algorithm", "round-robin", "--endpoint", "a=5,b=1,c=1",
                "--keys", keys.toString());
        assertEquals(List.of("a", "a", "b", "a"), r.outLines());
    }

    @Test
    void jumpTakesDecimalLinesAsTheKeyItself() {
        String[] numeric = {"0", "1", "2", "42", "-1", "-9223372036854775808", "9223372036854775807",
                "123456789012345"};
        Path keys = Cli.write(dir, "keys.txt", String.join("\n", numeric) + "\n");
        for (int buckets : new int[] {1, 3, 10, 17}) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < buckets; i++) {
                ids.add("b" + i);
            }
            Cli.Result r = ok("simulate", "--algorithm", "jump", "--endpoint", String.join(",", ids),
                    "--keys", keys.toString());
            List<String> expected = new ArrayList<>();
            for (String k : numeric) {
                expected.add("b" + paperJump(Long.parseLong(k), buckets));
            }
            assertEquals(expected, r.outLines(), buckets + " buckets");
        }
    }

    @Test
    void jumpHashesOtherLinesAsBytes() {
        // not decimal, or out of the signed 64-bit range: hashed as bytes
        List<String> lines = List.of("abc", "9223372036854775808", "1.5", " 7", "0x10", "+");
        Path keys = Cli.write(dir, "keys.txt", String.join("\n", lines) + "\n");
        List<String> ids = List.of("b0", "b1", "b2", "b3", "b4", "b5", "b6");
        Cli.Result r = ok("simulate", "--algorithm", "jump", "--endpoint", String.join(",", ids),
                "--keys", keys.toString());
        Upstream up = upstream("jump", ids);
        List<String> expected = new ArrayList<>();
        for (String k : lines) {
            PickRequest req = PickRequest.create().hashKey(k.getBytes(StandardCharsets.UTF_8));
            Selection s = up.pick(req);
            expected.add(s.endpoint().id());
            s.complete(200, 0L);
        }
        assertEquals(expected, r.outLines());
    }

    @Test
    void ipHashMatchesNginxFormulaForIpv4AndIpv6() {
        List<String> addrs = List.of("1.2.3.4", "1.2.3.200", "192.168.10.7", "::1", "2001:db8::8a2e:370:7334",
                "::ffff:10.1.2.3", "10.0.0.1");
        // the last line ends with CRLF: the \r is not part of the address
        Path keys = Cli.write(dir, "ips.txt", String.join("\n", addrs) + "\r\n");
        Cli.Result r = ok("simulate", "--algorithm", "ip-hash", "--endpoint", "a=2,b,c,d=3", "--keys",
                keys.toString());
        int[] weights = {2, 1, 1, 3};
        String[] names = {"a", "b", "c", "d"};
        List<String> expected = new ArrayList<>();
        for (String addr : addrs) {
            expected.add(names[nginxIpHash(IpAddresses.parse(addr), weights)]);
        }
        assertEquals(expected, r.outLines());
        // same /24, same endpoint
        assertEquals(r.outLines().get(0), r.outLines().get(1));
    }

    @Test
    void ipHashRequestsUseOneClientPerSlash24() {
        Cli.Result r = ok("simulate", "--algorithm", "ip-hash", "--endpoint", "a,b,c", "--requests", "3");
        int[] w = {1, 1, 1};
        String[] names = {"a", "b", "c"};
        List<String> expected = List.of(
                names[nginxIpHash(new byte[] {10, 0, 0, 1}, w)],
                names[nginxIpHash(new byte[] {10, 0, 1, 1}, w)],
                names[nginxIpHash(new byte[] {10, 0, 2, 1}, w)]);
        assertEquals(expected, r.outLines());
    }

    // ------------------------------------------------------------------ summary

    @Test
    void summaryTableForRoundRobin() {
        Cli.Result r = ok("simulate", "--algorithm", "round-robin", "--endpoint", "a=5,b=2,c=1", "--requests", "800",
                "--summary");
        assertEquals(String.join("\n",
                "simulate round-robin: 3 endpoints, 800 requests",
                "endpoint  weight  picks    share  expected",
                "a              5    500   62.50%    62.50%",
                "b              2    200   25.00%    25.00%",
                "c              1    100   12.50%    12.50%",
                "total          8    800  100.00%   100.00%",
                ""), r.out());
    }

    @Test
    void summaryExpectedShareIsOneOverNForJump() {
        Cli.Result r = ok("simulate", "--algorithm", "jump", "--endpoint", "a=3,b,c,d", "--requests", "40000",
                "--summary");
        List<String> lines = r.outLines();
        assertEquals("simulate jump: 4 endpoints, 40000 requests with keys key-0 .. key-39999", lines.get(0));
        assertTrue(lines.get(2).matches("a +3 +\\d+ +\\d+\\.\\d\\d% +25\\.00%"), lines.get(2));
        for (int i = 2; i <= 5; i++) {
            long picks = Long.parseLong(lines.get(i).trim().split(" +")[2]);
            assertTrue(Math.abs(picks - 10000) < 400, lines.get(i));
        }
        assertTrue(r.out().contains("note: jump ignores weights; every bucket expects 1/n of the keys"));
    }

    @Test
    void summaryForWeightedHashPoliciesExpectsWeightShare() {
        for (String policy : List.of("maglev", "rendezvous", "hash", "consistent-hash")) {
            Cli.Result r = ok("simulate", "--algorithm", policy, "--endpoint", "10.0.0.1:80=3,10.0.0.2:80",
                    "--requests", "40000", "--summary");
            List<String> lines = r.outLines();
            assertTrue(lines.get(2).endsWith("75.00%"), policy + ": " + lines.get(2));
            assertTrue(lines.get(3).endsWith("25.00%"), policy + ": " + lines.get(3));
            long picks = Long.parseLong(lines.get(2).trim().split(" +")[2]);
            // consistent-hash (ketama, 160 points per weight unit) is the least even of these
            assertTrue(Math.abs(picks - 30000) < 2400, policy + ": " + lines.get(2));
            assertEquals("total", lines.get(4).split(" +")[0]);
        }
    }

    @Test
    void summaryWithSeedIsReproducible() {
        String[] args = {"simulate", "--algorithm", "random", "--endpoint", "a=2,b,c", "--requests", "5000",
            "--seed", "7", "--summary"};
        Cli.Result r1 = ok(args);
        Cli.Result r2 = ok(args);
        assertEquals(r1.out(), r2.out());
    }

    @Test
    void loadAwarePoliciesCarryANote() {
        Cli.Result r = ok("simulate", "--algorithm", "least-conn", "--endpoint", "a=2,b", "--requests", "30",
                "--summary");
        assertTrue(r.out().contains("note: each request completes before the next is picked"), r.out());
        assertTrue(r.out().contains("a              2     20   66.67%    66.67%"), r.out());
    }

    // ------------------------------------------------------------------ --remove

    private static final Pattern MOVED = Pattern.compile("keys moved: +(\\d+) of (\\d+) ");
    private static final Pattern ON_REMOVED = Pattern.compile("that were on (\\S+): +(\\d+) ");
    private static final Pattern ELSEWHERE = Pattern.compile("that were on other endpoints: +(\\d+) ");

    private static long group(Pattern p, String text, int g) {
        Matcher m = p.matcher(text);
        assertTrue(m.find(), () -> p + " not in:\n" + text);
        return Long.parseLong(m.group(g));
    }

    /** Picks of {@code id} in the first table. */
    private static long picksBefore(String out, String id) {
        for (String line : out.lines().toList()) {
            if (line.startsWith(id + " ")) {
                return Long.parseLong(line.trim().split(" +")[2]);
            }
        }
        throw new AssertionError(id + " not in\n" + out);
    }

    private Cli.Result remove(String policy, String... extra) {
        List<String> args = new ArrayList<>(List.of("simulate", "--algorithm", policy, "--endpoint",
                "10.0.0.1:8080=2", "--endpoint", "10.0.0.2:8080,10.0.0.3:8080,10.0.0.4:8080,10.0.0.5:8080",
                "--requests", "50000", "--remove", "10.0.0.3:8080", "--summary"));
        args.addAll(List.of(extra));
        return ok(args.toArray(String[]::new));
    }

    @Test
    void removeWithRendezvousMovesOnlyTheRemovedEndpointsKeys() {
        Cli.Result r = remove("rendezvous");
        long onRemoved = group(ON_REMOVED, r.out(), 2);
        assertEquals(0, group(ELSEWHERE, r.out(), 1));
        assertEquals(onRemoved, group(MOVED, r.out(), 1));
        assertEquals(picksBefore(r.out(), "10.0.0.3:8080"), onRemoved);
        assertEquals(50000, group(MOVED, r.out(), 2));
        assertTrue(r.out().contains("; no key moved that did not have to"));
        assertTrue(r.out().contains("\nafter removing 10.0.0.3:8080:\n"));
        // weight 2 of 6 total, then of 5
        assertTrue(r.out().contains("33.33%"));
        assertTrue(r.out().contains("40.00%"));
    }

    @Test
    void removeWithConsistentHashMovesOnlyTheRemovedEndpointsKeys() {
        Cli.Result r = remove("consistent-hash");
        assertEquals(0, group(ELSEWHERE, r.out(), 1));
        assertEquals(group(ON_REMOVED, r.out(), 2), group(MOVED, r.out(), 1));
    }

    @Test
    void removeWithMaglevMovesFewOtherKeys() {
        Cli.Result r = remove("maglev");
        long onRemoved = group(ON_REMOVED, r.out(), 2);
        long elsewhere = group(ELSEWHERE, r.out(), 1);
        assertEquals(onRemoved + elsewhere, group(MOVED, r.out(), 1));
        assertTrue(onRemoved > 50000 / 6 * 0.9, r.out());
        assertTrue(elsewhere < 50000 * 0.02, r.out()); // Maglev: a few percent at most
        Cli.Result small = remove("maglev", "--table-size", "251");
        assertTrue(group(ELSEWHERE, small.out(), 1) > elsewhere, "a smaller table disrupts more");
    }

    @Test
    void removeWithPlainHashMovesMany() {
        Cli.Result r = remove("hash");
        assertTrue(group(ELSEWHERE, r.out(), 1) > 50000 / 3, r.out());
    }

    @Test
    void removeLastJumpBucketMovesOnlyItsKeysAndOthersExplainRenumbering() {
        Cli.Result last = ok("simulate", "--algorithm", "jump", "--endpoint", "a,b,c,d", "--requests", "20000",
                "--remove", "d", "--summary");
        assertEquals(0, group(ELSEWHERE, last.out(), 1));
        assertTrue(!last.out().contains("renumbers"));
        Cli.Result middle = ok("simulate", "--algorithm", "jump", "--endpoint", "a,b,c,d", "--requests", "20000",
                "--remove", "b", "--summary");
        assertTrue(group(ELSEWHERE, middle.out(), 1) > 0);
        assertTrue(middle.out().contains("note: jump numbers buckets by position"));
    }

    @Test
    void removeWithKeysFile() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            sb.append("user-").append(i).append('\n');
        }
        Path keys = Cli.write(dir, "users.txt", sb.toString());
        Cli.Result r = ok("simulate", "--algorithm", "consistent-hash", "--endpoint", "a:1,b:1,c:1",
                "--keys", keys.toString(), "--remove", "b:1", "--summary");
        assertTrue(r.outLines().get(0).startsWith("simulate consistent-hash: 3 endpoints, 3000 keys from "));
        assertEquals(0, group(ELSEWHERE, r.out(), 1));
        assertEquals(3000, group(MOVED, r.out(), 2));
    }

    @Test
    void removeWithIpHashKeysFile() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            sb.append("172.16.").append(i % 256).append('.').append(i / 256).append('\n');
        }
        Path keys = Cli.write(dir, "ips.txt", sb.toString());
        Cli.Result r = ok("simulate", "--algorithm", "ip-hash", "--endpoint", "a,b,c", "--keys", keys.toString(),
                "--remove", "c", "--summary");
        assertEquals(group(ON_REMOVED, r.out(), 2) + group(ELSEWHERE, r.out(), 1), group(MOVED, r.out(), 1));
    }

    // ------------------------------------------------------------------ references

    private static Upstream upstream(String policy, List<String> ids) {
        Upstream.Builder b = Upstream.builder("t").policy(BalancingPolicy.builder(policy).build());
        for (String id : ids) {
            b.endpoint(Endpoint.parseBuilder(id).build());
        }
        return b.build();
    }

    /** Lamping &amp; Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm", figure 1. */
    static int paperJump(long key, int numBuckets) {
        long b = -1;
        long j = 0;
        while (j < numBuckets) {
            b = j;
            key = key * 2862933555777941757L + 1;
            j = (long) ((b + 1) * ((double) (1L << 31) / (double) ((key >>> 33) + 1)));
        }
        return (int) b;
    }

    /**
     * ngx_http_upstream_get_ip_hash_peer, first try: hash the first 3 bytes of IPv4 (all 16 of
     * IPv6) from 89, then walk the weights from {@code hash % total}.
     */
    static int nginxIpHash(byte[] addr, int[] weights) {
        int len = addr.length == 4 ? 3 : 16;
        int hash = 89;
        for (int i = 0; i < len; i++) {
            hash = (hash * 113 + (addr[i] & 0xff)) % 6271;
        }
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int w = hash % total;
        int p = 0;
        while (w >= weights[p]) {
            w -= weights[p];
            p++;
        }
        return p;
    }
}

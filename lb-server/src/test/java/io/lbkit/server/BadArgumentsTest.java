package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad argument: one "error:" line naming the problem, one usage line, exit 2, nothing on stdout. */
class BadArgumentsTest {

    @TempDir
    Path dir;

    private static final String SIM_USAGE = SimulateCommand.USAGE;
    private static final String SPLIT_USAGE = SplitCommand.USAGE;

    /** Asserts the failure shape and that the reason contains {@code reason}; returns the reason. */
    private static String fails(String usage, String reason, String... args) {
        Cli.Result r = Cli.run(args);
        assertEquals(2, r.status(), () -> "exit status for " + List.of(args) + "; stderr: " + r.err());
        assertEquals("", r.out(), "nothing on stdout");
        List<String> lines = r.errLines();
        assertEquals(2, lines.size(), () -> "stderr must be exactly two lines:\n" + r.err());
        assertTrue(lines.get(0).startsWith("error: "), lines.get(0));
        assertTrue(lines.get(0).contains(reason), () -> "'" + lines.get(0) + "' should contain '" + reason + "'");
        assertEquals(usage, lines.get(1));
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        return lines.get(0);
    }

    private static String sim(String reason, String... rest) {
        String[] args = new String[rest.length + 1];
        args[0] = "simulate";
        System.arraycopy(rest, 0, args, 1, rest.length);
        return fails(SIM_USAGE, reason, args);
    }

    @Test
    void noCommand() {
        fails(Main.USAGE, "error: missing command (demo, serve, simulate or split)");
    }

    @Test
    void unknownCommand() {
        fails(Main.USAGE, "error: unknown command 'simulat'", "simulat", "--algorithm", "round-robin");
    }

    @Test
    void unknownFlag() {
        assertEquals("error: unknown option --endpoints",
                sim("", "--algorithm", "round-robin", "--endpoints", "a", "--requests", "1"));
    }

    @Test
    void unknownAlgorithm() {
        String e = sim("unknown algorithm 'round-robbin'", "--algorithm", "round-robbin", "--endpoint", "a",
                "--requests", "1");
        assertTrue(e.contains("maglev") && e.contains("rendezvous"), "lists the names: " + e);
    }

    @Test
    void missingAlgorithm() {
        sim("missing --algorithm NAME", "--endpoint", "a", "--requests", "1");
    }

    @Test
    void missingValue() {
        sim("missing value for --requests", "--algorithm", "round-robin", "--endpoint", "a", "--requests");
        sim("missing value for --requests", "--algorithm", "round-robin", "--endpoint", "a", "--requests",
                "--summary");
        sim("missing value for --algorithm", "--algorithm");
    }

    @Test
    void missingEndpoint() {
        sim("missing --endpoint", "--algorithm", "round-robin", "--requests", "1");
    }

    @Test
    void badWeight() {
        sim("bad weight in --endpoint 'a=0': expected an integer >= 1, got '0'", "--algorithm", "round-robin",
                "--endpoint", "a=0", "--requests", "1");
        sim("bad weight in --endpoint 'b=x'", "--algorithm", "round-robin", "--endpoint", "a,b=x", "--requests", "1");
        sim("bad weight in --endpoint 'a='", "--algorithm", "round-robin", "--endpoint", "a=", "--requests", "1");
        sim("bad weight in --endpoint 'a=-3'", "--algorithm", "round-robin", "--endpoint", "a=-3", "--requests", "1");
        sim("bad weight in --endpoint 'a=99999999999'", "--algorithm", "round-robin", "--endpoint", "a=99999999999",
                "--requests", "1");
    }

    @Test
    void badEndpointSpec() {
        sim("empty endpoint id in --endpoint '=3'", "--algorithm", "round-robin", "--endpoint", "=3",
                "--requests", "1");
        sim("empty endpoint in --endpoint 'a,,b'", "--algorithm", "round-robin", "--endpoint", "a,,b",
                "--requests", "1");
        sim("duplicate endpoint 'a'", "--algorithm", "round-robin", "--endpoint", "a,b", "--endpoint", "a=2",
                "--requests", "1");
    }

    @Test
    void bothRequestsAndKeys() {
        Path keys = Cli.write(dir, "k", "x\n");
        sim("give either --requests or --keys, not both", "--algorithm", "hash", "--endpoint", "a:1,b:1",
                "--requests", "3", "--keys", keys.toString());
    }

    @Test
    void neitherRequestsNorKeys() {
        sim("missing --requests N or --keys FILE", "--algorithm", "hash", "--endpoint", "a:1,b:1", "--summary");
    }

    @Test
    void badRequestCount() {
        sim("bad value for --requests: 'many' is not an integer", "--algorithm", "round-robin", "--endpoint", "a",
                "--requests", "many");
        sim("bad value for --requests: must be >= 1, got 0", "--algorithm", "round-robin", "--endpoint", "a",
                "--requests", "0");
    }

    @Test
    void flagGivenTwice() {
        sim("--requests may be given only once", "--algorithm", "round-robin", "--endpoint", "a",
                "--requests", "1", "--requests", "2");
    }

    @Test
    void strayArgumentsAndBooleanValue() {
        sim("unexpected argument 'extra'", "--algorithm", "round-robin", "--endpoint", "a", "--requests", "1",
                "extra");
        sim("--summary takes no value, got 'yes'", "--algorithm", "round-robin", "--endpoint", "a",
                "--requests", "1", "--summary=yes");
    }

    @Test
    void unreadableKeysFile() {
        String missing = dir.resolve("nope.txt").toString();
        sim("cannot read keys file '" + missing + "': no such file", "--algorithm", "hash", "--endpoint", "a:1",
                "--keys", missing);
        sim("cannot read keys file '" + dir + "'", "--algorithm", "hash", "--endpoint", "a:1",
                "--keys", dir.toString());
        fails(SPLIT_USAGE, "cannot read keys file '" + missing + "'", "split", "--part", "*=A", "--keys", missing);
    }

    @Test
    void ipHashKeysMustBeLiterals() {
        Path keys = Cli.write(dir, "ips", "10.0.0.1\n::1\nlocalhost\n1.2.3.4\n");
        String e = sim("line 3: 'localhost' is not an IP address literal", "--algorithm", "ip-hash",
                "--endpoint", "a,b", "--keys", keys.toString());
        assertTrue(e.contains("names are not resolved"), e);
        Path bad = Cli.write(dir, "ips2", "1.2.3.4\n256.1.1.1\n");
        sim("line 2: '256.1.1.1' is not an IP address literal", "--algorithm", "ip-hash", "--endpoint", "a,b",
                "--keys", bad.toString());
    }

    @Test
    void removeUnknownEndpoint() {
        sim("--remove c:1: no such endpoint (endpoints: a:1, b:1)", "--algorithm", "maglev", "--endpoint",
                "a:1,b:1", "--requests", "10", "--remove", "c:1", "--summary");
    }

    @Test
    void removeNeedsHashPolicyAndSummary() {
        sim("--remove does not apply to round-robin", "--algorithm", "round-robin", "--endpoint", "a,b",
                "--requests", "10", "--remove", "a", "--summary");
        sim("--remove needs --summary", "--algorithm", "maglev", "--endpoint", "a,b", "--requests", "10",
                "--remove", "a");
        sim("--remove a: it is the only endpoint", "--algorithm", "maglev", "--endpoint", "a", "--requests", "10",
                "--remove", "a", "--summary");
    }

    @Test
    void optionsNotApplicableToThePolicy() {
        sim("--table-size does not apply to round-robin (only to maglev)", "--algorithm", "round-robin",
                "--endpoint", "a", "--requests", "1", "--table-size", "7");
        sim("--seed does not apply to maglev (only to random, random-two, least-request, peak-ewma)",
                "--algorithm", "maglev", "--endpoint", "a", "--requests", "1", "--seed", "1");
        sim("--balance-factor does not apply to hash (only to consistent-hash, maglev, jump, rendezvous)",
                "--algorithm", "hash", "--endpoint", "a", "--requests", "1", "--balance-factor", "150");
    }

    @Test
    void badPolicyOptionValues() {
        sim("bad policy option: tableSize must be a prime >= 3, got 100", "--algorithm", "maglev",
                "--endpoint", "a", "--requests", "1", "--table-size", "100");
        sim("bad policy option: balanceFactor must be 0 (off) or >= 100, got 50", "--algorithm", "rendezvous",
                "--endpoint", "a", "--requests", "1", "--balance-factor", "50");
        sim("bad value for --seed: 'x' is not an integer", "--algorithm", "random", "--endpoint", "a",
                "--requests", "1", "--seed", "x");
    }

    @Test
    void splitBadArguments() {
        Path keys = Cli.write(dir, "k", "x\n");
        String k = keys.toString();
        fails(SPLIT_USAGE, "missing --part", "split", "--keys", k);
        fails(SPLIT_USAGE, "missing --keys FILE", "split", "--part", "*=A");
        fails(SPLIT_USAGE, "bad --part '12.5%': expected PERCENT=VALUE", "split", "--part", "12.5%", "--keys", k);
        fails(SPLIT_USAGE, "bad --part '12.555%=A': bad percent '12.555%'", "split", "--part", "12.555%=A",
                "--keys", k);
        fails(SPLIT_USAGE, "bad --part 'x%=A'", "split", "--part", "x%=A", "--keys", k);
        fails(SPLIT_USAGE, "percent total must be <= 100%", "split", "--part", "60%=A", "--part", "50%=B",
                "--keys", k);
        fails(SPLIT_USAGE, "comes after the rest part", "split", "--part", "*=A", "--part", "5%=B", "--keys", k);
        fails(SPLIT_USAGE, "unknown option --requests", "split", "--part", "*=A", "--requests", "5");
    }

    @Test
    void helpGoesToStdoutWithStatusZero() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"simulate", "--help"},
                new String[] {"split", "-h"})) {
            Cli.Result r = Cli.run(args);
            assertEquals(0, r.status());
            assertEquals("", r.err());
            assertTrue(r.out().contains(SIM_USAGE), r.out());
            assertTrue(r.out().contains("split --part PERCENT=VALUE... --keys FILE"), r.out());
        }
    }
}

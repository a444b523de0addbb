package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.limit.IpAddresses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real shaded {@code lb-server.jar} with {@code java -jar}, as README tells users to. */
class ShadedJarIT {

    @TempDir
    Path dir;

    record Run(int status, String out, String err) {
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty("lbserver.jar", "target/lb-server.jar"));
        assertTrue(Files.isRegularFile(jar), "shaded jar not found at " + jar.toAbsolutePath());
        return jar;
    }

    private Run java(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(jar().toString());
        cmd.addAll(List.of(args));
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "jar did not finish within 60 s");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void simulatePrintsPicks() throws Exception {
        Run r = java("simulate", "--algorithm", "round-robin", "--endpoint", "a=5,b=1,c=1", "--requests", "7");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        assertEquals("a\na\nb\na\nc\na\na\n", r.out());
    }

    @Test
    void readmeExampleRuns() throws Exception {
        Run r = java("simulate", "--algorithm", "consistent-hash", "--endpoint", "10.0.0.1:8080=2",
                "--endpoint", "10.0.0.2:8080", "--endpoint", "10.0.0.3:8080", "--requests", "100000",
                "--remove", "10.0.0.3:8080", "--summary");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("simulate consistent-hash: 3 endpoints, 100000 requests with keys key-0 .. "
                + "key-99999\nendpoint       weight   picks    share  expected\n"), r.out());
        assertTrue(r.out().contains("\n  that were on other endpoints:      0 (0.00%); no key moved that did not have to\n"),
                r.out());
    }

    @Test
    void splitAndIpHashWithKeysFiles() throws Exception {
        Path keys = Files.writeString(dir.resolve("keys.txt"), "\nabc\nabcd\nhello\n");
        Run split = java("split", "--part", "12.5%=A", "--part", "*=B", "--keys", keys.toString());
        assertEquals(0, split.status(), split.err());
        assertEquals("A\nA\nB\nB\n", split.out());

        Path ips = Files.writeString(dir.resolve("ips.txt"), "1.2.3.4\n::1\n");
        Run ip = java("simulate", "--algorithm", "ip-hash", "--endpoint", "a,b,c", "--keys", ips.toString());
        assertEquals(0, ip.status(), ip.err());
        int[] w = {1, 1, 1};
        String expected = "abc".charAt(SimulateCommandTest.nginxIpHash(new byte[] {1, 2, 3, 4}, w)) + "\n"
                + "abc".charAt(SimulateCommandTest.nginxIpHash(IpAddresses.parse("::1"), w)) + "\n";
        assertEquals(expected, ip.out());
    }

    @Test
    void badArgumentsExitTwoWithOneLineReasonAndUsage() throws Exception {
        Run r = java("simulate", "--algorithm", "nope", "--endpoint", "a", "--requests", "1");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        List<String> lines = r.err().lines().toList();
        assertEquals(2, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("error: unknown algorithm 'nope'"), lines.get(0));
        assertEquals(SimulateCommand.USAGE, lines.get(1));

        Run none = java();
        assertEquals(2, none.status());
        assertEquals(List.of("error: missing command (demo, serve, simulate or split)", Main.USAGE), none.err().lines().toList());
    }

    @Test
    void serveWithABadConfigExitsTwoNamingTheFileAndPath(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = Cli.write(dir, "lbkit.yaml",
                "upstreams: { app: { endpoints: ['127.0.0.1:1'], healthCheck: { rise: 0 } } }");
        Run r = java("serve", "--config", file.toString());
        assertEquals(2, r.status(), r.err());
        assertEquals(List.of("error: " + file + ": upstreams.app.healthCheck.rise: must be between 1 and 1000, got 0"),
                r.err().lines().toList());
    }
}

package io.lbkit.benchmarks;

import io.lbkit.core.limit.GeoTable;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * nginx {@code geo}: lb-core's {@link GeoTable} with {@code networks} entries (random IPv4 networks
 * of /8 to /32, many nested, as a country table), the target for issue 14 being a lookup under
 * 100 ns and a load of 100 000 lines under a second.
 * <ul>
 *   <li>{@code lookupV4}: the value of one client address (a rotating set of 4096 addresses, half
 *       inside a network, half anywhere).
 *   <li>{@code lookupV6}: the same against a table of as many IPv6 networks.
 *   <li>{@code loadFile}: {@link GeoTable#load} of a file of {@code networks} {@code CIDR value}
 *       lines (single shot: {@code -bm ss} gives the time of one load; here average over calls).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class GeoBenchmark {

    @Param({"100000"})
    int networks;

    private GeoTable v4;
    private GeoTable v6;
    private byte[][] v4Queries;
    private byte[][] v6Queries;
    private int i;
    private Path file;

    @Setup
    public void setup() throws IOException {
        Random rnd = new Random(14);
        GeoTable.Builder b4 = GeoTable.builder().defaultValue("ZZ");
        GeoTable.Builder b6 = GeoTable.builder().defaultValue("ZZ");
        int[] addrs = new int[networks];
        StringBuilder lines = new StringBuilder();
        for (int n = 0; n < networks; n++) {
            int prefix = 8 + rnd.nextInt(25);
            int a = rnd.nextInt() & (int) (0xffffffffL << (32 - prefix));
            addrs[n] = a;
            String country = "C" + (n % 200);
            String cidr = v4Text(a) + "/" + prefix;
            b4.add(cidr, country);
            lines.append(cidr).append(' ').append(country).append(";\n");
            b6.add(String.format("2001:%x:%x::/%d", rnd.nextInt(0x10000), rnd.nextInt(0x10000), 24 + rnd.nextInt(25)),
                    country);
        }
        v4 = b4.build();
        v6 = b6.build();
        v4Queries = new byte[4096][];
        v6Queries = new byte[4096][];
        for (int q = 0; q < 4096; q++) {
            int a = q % 2 == 0 ? addrs[rnd.nextInt(networks)] | rnd.nextInt(256) : rnd.nextInt();
            v4Queries[q] = new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a};
            byte[] b = new byte[16];
            rnd.nextBytes(b);
            b[0] = 0x20;
            b[1] = 0x01;
            v6Queries[q] = b;
        }
        file = Files.createTempFile("geo", ".txt");
        file.toFile().deleteOnExit();
        Files.writeString(file, lines);
    }

    @Benchmark
    public String lookupV4() {
        return v4.lookup(v4Queries[i++ & 4095]);
    }

    @Benchmark
    public String lookupV6() {
        return v6.lookup(v6Queries[i++ & 4095]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public GeoTable loadFile() {
        return GeoTable.load(file);
    }

    private static String v4Text(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }
}

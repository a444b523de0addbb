import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Diagnostic (not a JMH benchmark): two threads pick + complete on one upstream, as
 * {@code PickBenchmark -t 2} does, then reports ns/op per thread, each thread's LongAdder probe
 * parity, and how many endpoints' striped in-flight counters (LongAdder) have created their cells.
 * An adder without cells still has both threads CAS one shared {@code base} word.
 *
 * <pre>
 * java --add-opens java.base/java.lang=ALL-UNNAMED \
 *      --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED \
 *      -cp lb-benchmarks/target/benchmarks.jar lb-benchmarks/scripts/StripedCells.java jump 1000 3000 [collide]
 * </pre>
 * {@code collide} gives both threads the same probe first (LongAdder rehashes on a failed CAS).
 */
public class StripedCells {
    static volatile boolean stop;

    public static void main(String[] a) throws Exception {
        String policy = a[0];
        int n = Integer.parseInt(a[1]);
        long millis = Long.parseLong(a[2]);
        boolean collide = a.length > 3;
        List<Endpoint> eps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            eps.add(Endpoint.parseBuilder(String.format("10.0.%d.%d:8080", i / 250, i % 250 + 1)).weight(1 + i % 5).build());
        }
        Upstream u = Upstream.builder("x").policy(BalancingPolicy.builder(policy).build()).endpoints(eps).build();
        Field probe = Thread.class.getDeclaredField("threadLocalRandomProbe");
        probe.setAccessible(true);
        long[] ops = new long[2];
        int[] probes = new int[2];
        Thread[] ts = new Thread[2];
        for (int t = 0; t < 2; t++) {
            final int id = t;
            ts[t] = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(0x5EED + id);
                byte[][] keys = new byte[4096][];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = ("user-" + (r.nextLong() & Long.MAX_VALUE) % 10_000_000_000L).getBytes(StandardCharsets.UTF_8);
                }
                PickRequest req = PickRequest.create();
                try {
                    if (collide) {
                        java.util.concurrent.ThreadLocalRandom.current();
                        probe.setInt(Thread.currentThread(), 0x2545F491);
                    }
                    long c = 0;
                    int k = 0;
                    while (!stop) {
                        for (int j = 0; j < 1000; j++) {
                            req.hashKey(keys[k++ & 4095]);
                            Selection s = u.pick(req);
                            s.complete(200, 1000L);
                        }
                        c += 1000;
                    }
                    ops[id] = c;
                    probes[id] = probe.getInt(Thread.currentThread());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        for (Thread t : ts) {
            t.start();
        }
        Thread.sleep(millis);
        stop = true;
        for (Thread t : ts) {
            t.join();
        }
        Field members = Upstream.class.getDeclaredField("members");
        members.setAccessible(true);
        Field striped = Class.forName("io.lbkit.core.Member").getDeclaredField("striped");
        striped.setAccessible(true);
        Field cells = Class.forName("java.util.concurrent.atomic.Striped64").getDeclaredField("cells");
        cells.setAccessible(true);
        int withCells = 0;
        int adders = 0;
        for (Object m : ((Map<?, ?>) members.get(u)).values()) {
            Object adder = striped.get(m);
            if (adder != null) {
                adders++;
                if (cells.get(adder) != null) {
                    withCells++;
                }
            }
        }
        System.out.printf("%s n=%d: ns/op per thread %.1f / %.1f, probe parity %d / %d, adders with cells %d of %d%n",
                policy, n, millis * 1e6 / ops[0], millis * 1e6 / ops[1], probes[0] & 1, probes[1] & 1, withCells, adders);
    }
}

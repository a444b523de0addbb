package io.lbkit.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Redis rows of {@link SessionBenchmark}, interleaved: each round times a block of every
 * operation back to back (the order rotating from round to round), so that the machine's load,
 * which on a shared VM drifts over minutes, falls on all of them alike. Ratios are taken within
 * each round, then summarised. Complements the JMH run, whose benchmarks run one after another.
 *
 * <pre>
 * java -cp lb-benchmarks/target/benchmarks.jar io.lbkit.benchmarks.SessionInterleaved [rounds 40] [opsPerBlock 500] [warmupRounds 6]
 * </pre>
 * Starts its own redis-server (or uses {@code -Dredis.url}), as the JMH benchmark does.
 */
public final class SessionInterleaved {

    private SessionInterleaved() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int block = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 6;
        SessionBenchmark.Redis r = new SessionBenchmark.Redis();
        r.start(false);
        try {
            Map<String, Runnable> ops = new LinkedHashMap<>();
            ops.put("lbkit load + update", r::loadUpdate);
            ops.put("lbkit load + save", r::loadSave);
            ops.put("Spring findById + save", r::springFindByIdSave);
            ops.put("floor: Redisson HGETALL, then HSET + PEXPIRE batch", r::redissonFloorLoadSave);
            List<String> names = new ArrayList<>(ops.keySet());
            double[][] micros = new double[names.size()][rounds];
            for (int round = -warmup; round < rounds; round++) {
                for (int k = 0; k < names.size(); k++) {
                    int i = Math.floorMod(k + round, names.size());
                    Runnable op = ops.get(names.get(i));
                    long t0 = System.nanoTime();
                    for (int n = 0; n < block; n++) {
                        op.run();
                    }
                    long t1 = System.nanoTime();
                    if (round >= 0) {
                        micros[i][round] = (t1 - t0) / 1e3 / block;
                    }
                }
            }
            System.out.printf("%d rounds of %d operations each, after %d warm-up rounds; µs/op median (p10-p90 over rounds)%n",
                    rounds, block, warmup);
            System.out.println("| operation | median µs | p10-p90 |");
            System.out.println("|---|---:|---:|");
            for (int i = 0; i < names.size(); i++) {
                double[] v = micros[i].clone();
                Arrays.sort(v);
                System.out.printf("| %s | %.1f | %.1f-%.1f |%n", names.get(i), pct(v, 50), pct(v, 10), pct(v, 90));
            }
            int floor = names.size() - 1;
            System.out.println("| ratio, per round | median | p10-p90 |");
            for (int i = 0; i < 2; i++) {
                ratioRow("floor / " + names.get(i) + " (target >= 0.7)", micros[floor], micros[i]);
                ratioRow("Spring / " + names.get(i) + " (target > 1)", micros[2], micros[i]);
            }
        } finally {
            r.tearDown();
        }
    }

    private static void ratioRow(String label, double[] num, double[] den) {
        double[] q = new double[num.length];
        for (int j = 0; j < q.length; j++) {
            q[j] = num[j] / den[j];
        }
        Arrays.sort(q);
        System.out.printf("| %s | %.2f | %.2f-%.2f |%n", label, pct(q, 50), pct(q, 10), pct(q, 90));
    }

    private static double pct(double[] sorted, int p) {
        double idx = (sorted.length - 1) * p / 100.0;
        int lo = (int) Math.floor(idx);
        int hi = (int) Math.ceil(idx);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - lo);
    }
}

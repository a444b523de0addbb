package io.lbkit.benchmarks.e2e;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** wrk, the load generator of the end-to-end harness: one run, and what its output says. */
final class Wrk {

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern PCT = Pattern.compile("^\\s+(50|75|90|99)%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);
    private static final Pattern REQUESTS = Pattern.compile("([0-9]+) requests in");

    /** One run's requests per second, latency percentiles in ms, and requests answered. */
    record Result(double rps, double p50, double p90, double p99, long requests) {
    }

    private Wrk() {
    }

    /** Runs {@code wrk --latency} against {@code url}; its output. */
    static String run(int threads, int connections, int seconds, String url) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency", url)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("wrk failed:\n" + out);
        }
        return out;
    }

    /** What a run's output says; answers other than 2xx/3xx and socket errors are printed to stderr. */
    static Result parse(String out) {
        Matcher m = RPS.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no Requests/sec in wrk output:\n" + out);
        }
        double rps = Double.parseDouble(m.group(1));
        Map<String, Double> pct = new LinkedHashMap<>();
        Matcher pm = PCT.matcher(out);
        while (pm.find()) {
            double v = Double.parseDouble(pm.group(2));
            double ms = switch (pm.group(3)) {
                case "us" -> v / 1000;
                case "s" -> v * 1000;
                default -> v;
            };
            pct.put(pm.group(1), ms);
        }
        if (out.contains("Non-2xx or 3xx responses") || out.contains("Socket errors")) {
            System.err.println("wrk reported errors:\n" + out);
        }
        Matcher rq = REQUESTS.matcher(out);
        long requests = rq.find() ? Long.parseLong(rq.group(1)) : 1;
        return new Result(rps, pct.getOrDefault("50", Double.NaN), pct.getOrDefault("90", Double.NaN),
                pct.getOrDefault("99", Double.NaN), requests);
    }
}

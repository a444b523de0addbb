package io.lbkit.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;

import com.sun.net.httpserver.HttpServer;

import io.lbkit.core.Endpoint;
import io.lbkit.health.ActiveCheck;
import io.lbkit.health.ActiveChecker;
import io.lbkit.health.CheckResult;
import io.lbkit.health.HttpCheck;
import io.lbkit.health.TcpCheck;

/**
 * Scale test of lb-health's active checker (a main class, not JMH): N endpoints probed every interval
 * against a few real loopback HTTP servers that run in a child JVM, so that the CPU and heap figures
 * are the checker's alone. Prints probes/s, process CPU, heap after GC and thread counts.
 *
 * <pre>
 * java -cp lb-benchmarks/target/benchmarks.jar io.lbkit.benchmarks.ProbeScaleHarness \
 *      --endpoints 2000 --interval-ms 1000 --seconds 60 --servers 8 [--tcp] [--reuse]
 * </pre>
 */
public final class ProbeScaleHarness {

    private ProbeScaleHarness() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("--serve")) {
            serve(Integer.parseInt(args[1]));
            return;
        }
        int endpoints = 2000;
        int intervalMs = 1000;
        int seconds = 60;
        int servers = 8;
        boolean tcp = false;
        boolean reuse = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--endpoints" -> endpoints = Integer.parseInt(args[++i]);
                case "--interval-ms" -> intervalMs = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--servers" -> servers = Integer.parseInt(args[++i]);
                case "--tcp" -> tcp = true;
                case "--reuse" -> reuse = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (use --endpoints N --interval-ms N --seconds N --servers N [--tcp] [--reuse])");
            }
        }
        if (seconds < 15 || seconds > 600) {
            throw new IllegalArgumentException("seconds must be 15..600, got " + seconds);
        }
        run(endpoints, intervalMs, seconds, servers, tcp, reuse);
    }

    private static void run(int endpoints, int intervalMs, int seconds, int servers, boolean tcp, boolean reuse)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                ProbeScaleHarness.class.getName(), "--serve", Integer.toString(servers))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            List<String[]> addresses = new ArrayList<>();
            for (int i = 0; i < servers; i++) {
                String line = out.readLine();
                if (line == null) {
                    throw new IllegalStateException("server process ended early");
                }
                addresses.add(line.trim().split(" "));
            }
            measure(endpoints, intervalMs, seconds, tcp, reuse, addresses);
        } finally {
            child.destroy();
        }
    }

    private static void measure(int endpoints, int intervalMs, int seconds, boolean tcp, boolean reuse,
                                List<String[]> addresses) throws Exception {
        LongAdder results = new LongAdder();
        LongAdder passes = new LongAdder();
        ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
        ActiveCheck check = ActiveCheck.builder()
                .interval(Duration.ofMillis(intervalMs))
                .timeout(Duration.ofMillis(Math.min(1000, intervalMs)))
                .probe(tcp ? TcpCheck.connect() : HttpCheck.builder().path("/health").reuseConnection(reuse).build())
                .build();
        try (ActiveChecker checker = ActiveChecker.builder().check(check).listener((CheckResult r) -> {
            results.increment();
            if (r.passed()) {
                passes.increment();
            } else {
                failures.computeIfAbsent(r.detail(), k -> new LongAdder()).increment();
            }
        }).build()) {
            for (int i = 0; i < endpoints; i++) {
                String[] a = addresses.get(i % addresses.size());
                checker.watch(Endpoint.builder("ep-" + i).host(a[0]).port(Integer.parseInt(a[1])).build());
            }
            System.out.printf(Locale.ROOT, "ProbeScaleHarness: %d endpoints, %s probes every %d ms (jitter %d%%), "
                            + "timeout %d ms, %d servers in a child JVM, %d cores, JDK %s%n",
                    endpoints, tcp ? "TCP connect" : "HTTP GET" + (reuse ? " (keep-alive)" : " (new connection each)"),
                    intervalMs, check.jitterPercent(), check.timeout().toMillis(), addresses.size(),
                    Runtime.getRuntime().availableProcessors(), Runtime.version());
            com.sun.management.OperatingSystemMXBean os =
                    (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            checker.start();
            int warmup = 10;
            Thread.sleep(warmup * 1000L);
            long r0 = results.sum();
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            long lastR = r0;
            long lastT = t0;
            long lastCpu = cpu0;
            for (int s = 10; s <= seconds - warmup; s += 10) {
                Thread.sleep(10_000);
                long r = results.sum();
                long t = System.nanoTime();
                long cpu = os.getProcessCpuTime();
                System.out.printf(Locale.ROOT, "  t=%3ds  probes/s %7.1f  cpu %5.1f%% of one core  threads %d%n",
                        warmup + s, (r - lastR) / ((t - lastT) / 1e9), 100.0 * (cpu - lastCpu) / (t - lastT),
                        threads.getThreadCount());
                lastR = r;
                lastT = t;
                lastCpu = cpu;
            }
            long r1 = results.sum();
            long t1 = System.nanoTime();
            long cpu1 = os.getProcessCpuTime();
            double wall = (t1 - t0) / 1e9;
            System.gc();
            Thread.sleep(200);
            long heap = memory.getHeapMemoryUsage().getUsed();
            long lbkitThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(th -> th.getName().startsWith("lbkit-health")).count();
            System.out.printf(Locale.ROOT, "RESULT endpoints=%d interval=%dms window=%.0fs probes/s=%.1f (expected <= %.1f) "
                            + "passed=%.2f%% cpu=%.1f%% of one core (%.1f%% of the machine) heapAfterGC=%.1fMiB "
                            + "threads=%d lbkit-health-threads=%d%n",
                    endpoints, intervalMs, wall, (r1 - r0) / wall, endpoints * 1000.0 / intervalMs,
                    100.0 * passes.sum() / Math.max(1, results.sum()),
                    100.0 * (cpu1 - cpu0) / (t1 - t0),
                    100.0 * (cpu1 - cpu0) / (t1 - t0) / Runtime.getRuntime().availableProcessors(),
                    heap / (1024.0 * 1024.0), threads.getThreadCount(), lbkitThreads);
            failures.forEach((k, v) -> System.out.printf(Locale.ROOT, "  failures: %s x%d%n", k, v.sum()));
        }
    }

    /** Child mode: start n HTTP servers on 127.0.0.1, 127.0.0.2, ... and print "host port" per line. */
    private static void serve(int n) throws Exception {
        byte[] body = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < n; i++) {
            String host = "127.0.0." + (1 + i % 4);
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), 0), 1024);
            server.setExecutor(Executors.newFixedThreadPool(2));
            server.createContext("/", exchange -> {
                exchange.getRequestBody().readAllBytes();
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream o = exchange.getResponseBody()) {
                    o.write(body);
                } catch (IOException e) {
                    // client went away
                }
            });
            server.start();
            System.out.println(host + " " + server.getAddress().getPort());
        }
        System.out.flush();
        // runs until the parent destroys this process (bounded: at most 15 minutes)
        new CountDownLatch(1).await(15, java.util.concurrent.TimeUnit.MINUTES);
    }
}

package io.lbkit.benchmarks.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end load harness: the same backends, the same wrk client settings, one run, each proxy
 * measured in turn with nothing else of the harness active: backends direct, nginx, Jetty's
 * AsyncProxyServlet, MITRE's smiley-http-proxy-servlet, and lbkit {@code serve} (the jar from
 * {@code --lbkit-jar}, default {@code lb-server/target/lb-server.jar}; the configuration from
 * {@code --lbkit-config-template}, default the bundled {@code e2e/lbkit.yaml}, whose
 * {@code {{port}}} and {@code {{backendN}}} placeholders are filled in).
 *
 * <pre>
 * java -cp lb-benchmarks/target/benchmarks.jar io.lbkit.benchmarks.e2e.E2eHarness \
 *      [--duration 20] [--warmup 5] [--threads 2] [--connections 64] [--targets direct,nginx,jetty,smiley,lbkit]
 *      (also, not in the default set: {@code jetty-core}, Jetty's core {@code ProxyHandler} without the
 *      servlet layer; {@code netty-floor}, {@link NettyFloorProxy}, the least a JVM event-loop proxy does;
 *      {@code servlet-sync} / {@code servlet-async}, not proxies: a servlet in the same Jetty answering
 *      the backends' body itself, blocking or through a WriteListener, the ceiling of any servlet front end;
 *      {@code servlet-netty}, {@link ServletNettyProxy}, that servlet front end with Netty as the client;
 *      {@code netty-floor-lbkit}, the floor doing lbkit's per-request work: pick, outcome, header rules;
 *      {@code netty-tcp-floor}, {@link NettyTcpFloorProxy}, bytes relayed with nothing parsed: the floor
 *      of any HTTP proxy on Netty, a codec of its own included;
 *      {@code lbkit-netty}, {@link NettyEngineProxy}, lbkit's event-loop engine with serve's defaults;
 *      {@code lbkit-servlet}, lbkit {@code serve} on {@code engine: servlet};
 *      {@code lbkit-observed}, {@code serve} with the access log, request ids, stub_status and the admin
 *      listener's counters on, to price them against {@code lbkit}; {@code lbkit-limited}, two rate limits
 *      that refuse nothing and allow/deny rules on the route)
 *      [--interleave 8 [--slice 5]]
 *      [--sse 1000 [--sse-targets nginx,lbkit] [--sse-events 20] [--sse-ms 500]]
 * </pre>
 * A JVM target written {@code NAME~FLAG~FLAG} (e.g. {@code lbkit-netty~-XX:+UseParallelGC}) runs with
 * those extra JVM flags, for an A/B of a flag in one run.
 * A target {@code lbkit#JAR} is lbkit {@code serve} from another build's runnable jar (an A/B of two
 * commits) with the bundled configuration.
 * A target {@code lbkit@FILE} is another lbkit {@code serve} run from the configuration template FILE
 * (placeholders as in the bundled one), for A/B runs of a setting next to {@code lbkit}.
 * With {@code --interleave R}, all targets run at once and R rounds measure each in turn
 * ({@link #interleaved}), with lbkit's per-round ratios to every other target.
 * With {@code --sse N}, a second table: N concurrent SSE streams held through each of the
 * {@code --sse-targets} ({@link SseScale}); lbkit runs with the bundled {@code e2e/lbkit-sse.yaml},
 * a pool of 50 threads for everything, and its peak thread count is reported (a JVM adds its own
 * threads: compiler, GC, the scheduler). Each target is warmed up first (three rounds of short
 * streams and 3 s of wrk), as in the throughput table. An empty
 * {@code --targets ""} skips the throughput table.
 * Needs {@code wrk} and {@code nginx} on PATH (Debian: {@code apt-get install wrk nginx-light}).
 * Prints one markdown table row per target.
 */
public final class E2eHarness {


    private final Map<String, String> opts;
    private final List<Process> children = new ArrayList<>();
    private final Map<Process, Path> logs = new java.util.HashMap<>();
    private int probeSeq;
    /** Extra flags for the JVM target being started ({@code NAME~FLAG~FLAG} targets). */
    private List<String> jvmFlags = List.of();
    private final Path work;
    private Process backendsProcess;

    private E2eHarness(Map<String, String> opts) throws IOException {
        this.opts = opts;
        this.work = Files.createTempDirectory("lbkit-e2e");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        E2eHarness h = new E2eHarness(opts);
        Runtime.getRuntime().addShutdownHook(new Thread(h::stopAll));
        h.run();
        h.stopAll();
    }

    private void run() throws Exception {
        int duration = Integer.parseInt(opts.getOrDefault("duration", "20"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "5"));
        int threads = Integer.parseInt(opts.getOrDefault("threads", "2"));
        int connections = Integer.parseInt(opts.getOrDefault("connections", "64"));
        String path = opts.getOrDefault("path", "/");
        List<String> targets = List.of(opts.getOrDefault("targets", "direct,nginx,jetty,smiley,lbkit").split(",", -1));

        int[] backends = {freePort(), freePort(), freePort()};
        backendsProcess = start("backends", javaCommand(Backends.class.getName(), ints(backends)));
        for (int p : backends) {
            awaitHttp(p, "/");
        }
        if (targets.size() == 1 && targets.get(0).isBlank()) {
            targets = List.of();
        }
        if (!targets.isEmpty() && opts.containsKey("interleave")) {
            interleaved(targets, backends, Integer.parseInt(opts.get("interleave")),
                    Integer.parseInt(opts.getOrDefault("slice", "5")), warmup, threads, connections, path);
        } else if (!targets.isEmpty()) {
            throughput(targets, backends, duration, warmup, threads, connections, path);
        }
        if (opts.containsKey("sse")) {
            sse(backends, Integer.parseInt(opts.get("sse")));
        }
        if (opts.containsKey("idle")) {
            idle(backends, Integer.parseInt(opts.get("idle")));
        }
    }

    /**
     * {@code --idle N}: N keep-alive client connections held open, idle, through each of the
     * {@code --idle-targets} (default nginx,lbkit-netty), each after one request (so each has been
     * through the whole request path); reports the proxy's RSS growth (with its workers) and, for
     * a JVM target, the heap in use after full collections, before and after, per connection. The
     * connections are then each asked one more request: the count that answered proves they
     * were held, not closed.
     */
    private void idle(int[] backends, int n) throws Exception {
        System.out.printf(Locale.ROOT, "%n%d idle keep-alive client connections%n%n", n);
        System.out.println("| target | connections held (answered a second request) | RSS growth | RSS per connection"
                + " | heap growth (after full GC) | heap per connection |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (String target : opts.getOrDefault("idle-targets", "nginx,lbkit-netty").split(",")) {
            int port = freePort();
            Process p = startTarget(target, port, backends);
            awaitHttp(port, "/");
            Wrk.run(2, 64, 5, "http://127.0.0.1:" + port + "/");
            Thread.sleep(2000);
            long heap0 = probe(p, "heap");
            long rss0 = ProcStats.rssKb(p.toHandle());
            IdleConnections held = IdleConnections.open(port, n);
            try {
                Thread.sleep(2000);
                long heap1 = probe(p, "heap");
                long rss1 = ProcStats.rssKb(p.toHandle());
                int answered = held.askAgain();
                double rssMiB = (rss1 - rss0) / 1024.0;
                System.out.printf(Locale.ROOT, "| %s | %d / %d (%d) | %.1f MiB | %.1f KiB | %s | %s |%n", target, held.opened(), n,
                        answered, rssMiB, (rss1 - rss0) / (double) n,
                        heap0 < 0 ? "–" : String.format(Locale.ROOT, "%.1f MiB", (heap1 - heap0) / 1048576.0),
                        heap0 < 0 ? "–" : String.format(Locale.ROOT, "%.2f KiB", (heap1 - heap0) / 1024.0 / n));
            } finally {
                held.close();
                stop(p);
            }
        }
    }


    private void sse(int[] backends, int streams) throws Exception {
        int events = Integer.parseInt(opts.getOrDefault("sse-events", "20"));
        int ms = Integer.parseInt(opts.getOrDefault("sse-ms", "500"));
        System.out.printf(Locale.ROOT, "%n%d concurrent SSE streams, %d events each, one every %d ms%n%n", streams, events, ms);
        System.out.println("| target | streams complete | events | first event p50 | p99 | max | longest gap | peak threads |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (String target : opts.getOrDefault("sse-targets", "nginx,lbkit").split(",")) {
            int port = freePort();
            Process p = switch (target) {
                case "nginx" -> startNginx(port, backends);
                case "jetty" -> start("jetty", javaCommand(PeerProxies.class.getName(), concat("jetty", port, backends)));
                case "lbkit" -> startLbkit(port, backends, "/e2e/lbkit-sse.yaml", "lbkit-sse.yaml", null);
                case "lbkit-netty" -> startTarget("lbkit-netty", port, backends);
                default -> throw new IllegalArgumentException("unknown SSE target " + target);
            };
            if (p == null) {
                System.out.println("| " + target + " | (skipped: no lb-server.jar) | | | | | | |");
                continue;
            }
            awaitHttp(port, "/");
            // warm-up (JIT, pools): a round of short streams, then the measured one
            for (int i = 0; i < 3; i++) {
                SseScale.run(port, Math.min(200, streams), 2, 50, new SseScale.ThreadPeak(p.pid()));
            }
            Wrk.run(2, 64, 3, "http://127.0.0.1:" + port + "/");
            SseScale.ThreadPeak threads = new SseScale.ThreadPeak(p.pid());
            SseScale.Result r = SseScale.run(port, streams, events, ms, threads);
            System.out.printf(Locale.ROOT, "| %s | %d / %d | %d / %d | %.1f ms | %.1f ms | %.1f ms | %.0f ms | %s |%n", target,
                    r.complete(), r.streams(), r.events(), streams * events, r.firstP50(), r.firstP99(), r.firstMax(),
                    r.gapMax(), target.equals("nginx") ? "(processes)" : Integer.toString(threads.peak()));
            System.out.printf(Locale.ROOT, "  (%s: %d of %d streams open at once at the peak; RSS at the peak %.0f MiB)%n", target,
                    r.peakOpen(), streams, threads.peakRssKb() / 1024.0);
            stop(p);
        }
    }

    private void throughput(List<String> targets, int[] backends, int duration, int warmup, int threads, int connections,
                            String path) throws Exception {
        System.out.printf(Locale.ROOT, "wrk -t%d -c%d -d%ds --latency, %d s warm-up, path %s, %d backends, %d cores%n%n",
                threads, connections, duration, warmup, path, backends.length,
                Runtime.getRuntime().availableProcessors());
        System.out.println("| target | requests/s | p50 | p90 | p99 | vs nginx req/s | vs nginx p99 | proxy CPU µs/req (kernel part; context switches per request) | backends CPU µs/req |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        Wrk.Result nginx = null;
        for (String target : targets) {
            int port = target.equals("direct") ? backends[0] : freePort();
            Process p = startTarget(target, port, backends);
            if (target.equals("lbkit") && p == null) {
                System.out.println("| lbkit | (skipped: no lb-server.jar; build it or pass --lbkit-jar) | | | | | |");
                continue;
            }
            awaitHttp(port, path);
            String url = "http://127.0.0.1:" + port + path;
            Wrk.run(threads, connections, warmup, url);
            long proxyCpu0 = p == null ? 0 : ProcStats.cpuTicks(p.toHandle());
            long proxySys0 = p == null ? 0 : ProcStats.sysTicks(p.toHandle());
            long proxySwitches0 = p == null ? 0 : ProcStats.contextSwitches(p.toHandle());
            long backendCpu0 = ProcStats.cpuTicks(backendsProcess.toHandle());
            Wrk.Result r = Wrk.parse(Wrk.run(threads, connections, duration, url));
            double proxyUs = p == null ? 0 : (ProcStats.cpuTicks(p.toHandle()) - proxyCpu0) * 10_000.0 / r.requests();
            double proxySysUs = p == null ? 0 : (ProcStats.sysTicks(p.toHandle()) - proxySys0) * 10_000.0 / r.requests();
            double proxySwitches = p == null ? 0 : (ProcStats.contextSwitches(p.toHandle()) - proxySwitches0) / (double) r.requests();
            double backendUs = (ProcStats.cpuTicks(backendsProcess.toHandle()) - backendCpu0) * 10_000.0 / r.requests();
            if (target.equals("nginx")) {
                nginx = r;
            }
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %s | %s | %s | %.0f |%n", target, r.rps(),
                    r.p50(), r.p90(), r.p99(),
                    nginx == null ? "" : String.format(Locale.ROOT, "%.2f×", r.rps() / nginx.rps()),
                    nginx == null ? "" : String.format(Locale.ROOT, "%.2f×", r.p99() / nginx.p99()),
                    p == null ? "–" : String.format(Locale.ROOT, "%.0f (sys %.0f; %.1f switches)", proxyUs, proxySysUs,
                            proxySwitches), backendUs);
            if (p != null) {
                stop(p);
            }
        }
    }

    private Process startTarget(String target, int port, int[] backends) throws IOException {
        int tilde = target.indexOf('~');
        if (tilde > 0) {
            // NAME~FLAG~FLAG: the JVM target NAME with extra JVM flags (A/B of a flag in one run)
            jvmFlags = List.of(target.substring(tilde + 1).split("~"));
            try {
                return startTarget(target.substring(0, tilde), port, backends);
            } finally {
                jvmFlags = List.of();
            }
        }
        return switch (target) {
            case "direct" -> null;
            case "nginx" -> startNginx(port, backends);
            case "jetty" -> start("jetty", javaCommand(PeerProxies.class.getName(), concat("jetty", port, backends)));
            case "smiley" -> start("smiley", javaCommand(PeerProxies.class.getName(), concat("smiley", port, backends)));
            case "jetty-core" -> start("jetty-core", javaCommand(PeerProxies.class.getName(),
                    concat("jetty-core", port, backends)));
            case "servlet-sync", "servlet-async" -> start(target, javaCommand(PeerProxies.class.getName(),
                    concat(target, port, backends)));
            case "servlet-netty" -> start(target, javaCommand(ServletNettyProxy.class.getName(),
                    concat(null, port, backends)));
            case "netty-floor-lbkit" -> {
                // the floor doing lbkit's per-request work (NettyFloorProxy's floor.lbkit)
                List<String> cmd = javaCommand(NettyFloorProxy.class.getName(), concat(null, port, backends));
                cmd.add(1, "-Dfloor.lbkit=true");
                yield start(target, cmd);
            }
            case "netty-floor" -> start("netty-floor", javaCommand(NettyFloorProxy.class.getName(),
                    concat(null, port, backends)));
            case "netty-tcp-floor" -> start(target, javaCommand(NettyTcpFloorProxy.class.getName(),
                    concat(null, port, backends)));
            case "lbkit-netty" -> start(target, javaCommand(NettyEngineProxy.class.getName(), concat(null, port, backends)));
            case "lbkit" -> startLbkit(port, backends, "/e2e/lbkit.yaml", "lbkit.yaml", opts.get("lbkit-config-template"));
            case "lbkit-servlet" -> startLbkit(port, backends, "/e2e/lbkit-servlet.yaml", "lbkit-servlet.yaml", null);
            case "lbkit-observed" -> startLbkit(port, backends, "/e2e/lbkit-observed.yaml", "lbkit-observed.yaml", null);
            case "lbkit-limited" -> startLbkit(port, backends, "/e2e/lbkit-limited.yaml", "lbkit-limited.yaml", null);
            default -> {
                if (target.startsWith("lbkit#")) {
                    // another build of lbkit serve (an A/B of two commits), with the bundled e2e/lbkit.yaml
                    String jar = target.substring("lbkit#".length());
                    yield startLbkit(port, backends, "/e2e/lbkit.yaml", "lbkit-" + Path.of(jar).getFileName() + ".yaml", null, jar);
                }
                if (target.startsWith("lbkit@")) {
                    // a variant: lbkit serve with another configuration template (A/B of a setting)
                    yield startLbkit(port, backends, null, null, target.substring("lbkit@".length()));
                }
                throw new IllegalArgumentException("unknown target " + target);
            }
        };
    }

    /**
     * {@code --interleave R}: every target runs at once (idle ones cost nothing); after a warm-up
     * each, R rounds measure every target for {@code --slice} seconds back to back, the order
     * rotating per round, so that the VM's drifting load falls on all alike. Ratios are taken
     * within a round (lbkit against each other target), then summarised as median and range.
     */
    private void interleaved(List<String> targets, int[] backends, int rounds, int slice, int warmup, int threads,
                             int connections, String path) throws Exception {
        System.out.printf(Locale.ROOT, "interleaved: %d rounds of wrk -t%d -c%d -d%ds --latency per target, %d s warm-up each,"
                + " path %s, %d backends, %d cores%n%n", rounds, threads, connections, slice, warmup, path, backends.length,
                Runtime.getRuntime().availableProcessors());
        List<String> urls = new ArrayList<>();
        List<Process> processes = new ArrayList<>();
        for (String target : targets) {
            int port = target.equals("direct") ? backends[0] : freePort();
            Process p = startTarget(target, port, backends);
            processes.add(p);
            if (target.startsWith("lbkit") && p == null) {
                throw new IllegalStateException("no lb-server.jar; build it or pass --lbkit-jar");
            }
            awaitHttp(port, path);
            urls.add("http://127.0.0.1:" + port + path);
            System.out.println(target + ": " + urls.get(urls.size() - 1));
        }
        System.out.println();
        for (String url : urls) {
            Wrk.run(threads, connections, warmup, url);
        }
        double[][] rps = new double[targets.size()][rounds];
        double[][] p99 = new double[targets.size()][rounds];
        double[][] cpu = new double[targets.size()][rounds];
        double[][] alloc = new double[targets.size()][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < targets.size(); k++) {
                int i = Math.floorMod(k + round, targets.size());
                Process p = processes.get(i);
                long cpu0 = p == null ? 0 : ProcStats.cpuTicks(p.toHandle());
                long alloc0 = p == null ? -1 : probe(p, "alloc");
                Wrk.Result r = Wrk.parse(Wrk.run(threads, connections, slice, urls.get(i)));
                long alloc1 = alloc0 < 0 ? -1 : probe(p, "alloc");
                rps[i][round] = r.rps();
                p99[i][round] = r.p99();
                cpu[i][round] = p == null ? Double.NaN : (ProcStats.cpuTicks(p.toHandle()) - cpu0) * 10_000.0 / r.requests();
                alloc[i][round] = alloc0 < 0 || alloc1 < 0 ? Double.NaN : (alloc1 - alloc0) / (double) r.requests();
            }
        }
        System.out.println("| target | requests/s median (min-max) | p99 median (min-max) | proxy CPU µs/request median (min-max) | bytes allocated/request median (min-max) |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (int i = 0; i < targets.size(); i++) {
            System.out.printf(Locale.ROOT, "| %s | %s | %s ms | %s | %s |%n", targets.get(i), summary(rps[i], "%.0f"),
                    summary(p99[i], "%.2f"), summary(cpu[i], "%.1f"),
                    Double.isNaN(alloc[i][0]) ? "–" : summary(alloc[i], "%.0f"));
        }
        int lbkit = targets.indexOf(opts.getOrDefault("base", targets.contains("lbkit") ? "lbkit" : "lbkit-netty"));
        if (lbkit >= 0) {
            System.out.println();
            System.out.println("| " + targets.get(lbkit) + " against | requests/s ratio, per round: median (min-max)"
                    + " | p99 ratio, per round | CPU per request ratio, per round |");
            System.out.println("|---|---:|---:|---:|");
            for (int i = 0; i < targets.size(); i++) {
                if (i == lbkit) {
                    continue;
                }
                double[] q = new double[rounds];
                double[] l = new double[rounds];
                double[] c = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    q[r] = rps[lbkit][r] / rps[i][r];
                    l[r] = p99[lbkit][r] / p99[i][r];
                    c[r] = cpu[lbkit][r] / cpu[i][r];
                }
                System.out.printf(Locale.ROOT, "| %s | %s× | %s× | %s× |%n", targets.get(i), summary(q, "%.2f"),
                        summary(l, "%.2f"), Double.isNaN(c[0]) ? "–" : summary(c, "%.2f"));
            }
        }
    }

    /**
     * Asks a target that runs {@link Probe} for a value ({@code alloc} or {@code heap}); -1 when the
     * target has no probe (nginx, lbkit serve) or it did not answer within 10 s.
     */
    private long probe(Process p, String command) throws Exception {
        Path log = logs.get(p);
        if (log == null || !PROBED.contains(nameOf(p))) {
            return -1;
        }
        int seq = ++probeSeq;
        p.getOutputStream().write((command + " " + seq + "\n").getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().flush();
        String tag = "probe " + seq + " " + command + " ";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1)) {
                if (line.startsWith(tag)) {
                    return Long.parseLong(line.substring(tag.length()).trim());
                }
            }
            Thread.sleep(20);
        }
        return -1;
    }

    /** The targets whose main installs {@link Probe}. */
    private static final java.util.Set<String> PROBED = java.util.Set.of("lbkit-netty", "netty-floor", "netty-floor-lbkit",
            "netty-tcp-floor",
            "jetty", "smiley", "jetty-core", "servlet-sync", "servlet-async");

    private String nameOf(Process p) {
        String f = logs.get(p).getFileName().toString();
        f = f.substring(0, f.length() - ".log".length());
        return f.indexOf('~') < 0 ? f : f.substring(0, f.indexOf('~'));
    }

    private static String summary(double[] v, String fmt) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        return String.format(Locale.ROOT, fmt + " (" + fmt + "-" + fmt + ")", median, s[0], s[s.length - 1]);
    }

    private Process startNginx(int port, int[] backends) throws IOException {
        StringBuilder servers = new StringBuilder();
        for (int b : backends) {
            servers.append("    server 127.0.0.1:").append(b).append(";\n");
        }
        String conf = """
                worker_processes auto;
                worker_rlimit_nofile 20000;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 19000; }
                http {
                  access_log off;
                  client_body_temp_path %1$s/body;
                  proxy_temp_path %1$s/proxy;
                  upstream backends {
                %2$s    keepalive 32;
                  }
                  server {
                    listen 127.0.0.1:%3$d;
                    location / {
                      proxy_pass http://backends;
                      proxy_http_version 1.1;
                      proxy_set_header Connection "";
                    }
                    location /sse {
                      proxy_pass http://backends;
                      proxy_http_version 1.1;
                      proxy_set_header Connection "";
                      proxy_buffering off;
                    }
                  }
                }
                """.formatted(work, servers, port);
        Path file = work.resolve("nginx.conf");
        Files.writeString(file, conf);
        return start("nginx", List.of(nginxBinary(), "-p", work.toString(), "-c", file.toString(), "-g", "daemon off;"));
    }

    /** {@code template}: a configuration file of the caller's, or null for the bundled {@code resource}. */
    private Process startLbkit(int port, int[] backends, String resource, String name, String template)
            throws IOException {
        return startLbkit(port, backends, resource, name, template, opts.getOrDefault("lbkit-jar", "lb-server/target/lb-server.jar"));
    }

    private Process startLbkit(int port, int[] backends, String resource, String name, String template, String jar)
            throws IOException {
        if (!Files.isRegularFile(Path.of(jar))) {
            return null;
        }
        String text;
        if (template == null) {
            try (var in = E2eHarness.class.getResourceAsStream(resource)) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } else {
            text = Files.readString(Path.of(template));
        }
        String conf = text.replace("{{port}}", Integer.toString(port)).replace("{{work}}", work.toString());
        for (int i = 0; i < backends.length; i++) {
            conf = conf.replace("{{backend" + i + "}}", Integer.toString(backends[i]));
        }
        Path file = work.resolve(template == null ? Path.of(name) : Path.of(template).getFileName());
        Files.writeString(file, conf);
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx1g", "-jar", jar, "serve", "--config", file.toString()));
        return start(template == null ? name.replace(".yaml", "") : "lbkit-" + Path.of(template).getFileName(), cmd);
    }

    private static String nginxBinary() {
        for (String p : new String[] {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"}) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return "nginx";
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private List<String> javaCommand(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx1g"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    private Process start(String name, List<String> cmd) throws IOException {
        if (!jvmFlags.isEmpty()) {
            name = name + "~" + children.size();
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(work.resolve(name + ".log").toFile()).start();
        children.add(p);
        logs.put(p, work.resolve(name + ".log"));
        return p;
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void stopAll() {
        for (Process p : children) {
            if (p.isAlive()) {
                // SIGTERM first: nginx's master then stops its workers (a SIGKILL would orphan them)
                p.destroy();
            }
        }
        for (Process p : children) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void awaitHttp(int port, String path) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
                last = new IllegalStateException("status " + r.statusCode());
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("nothing answered 200 on port " + port + " (logs in " + work + ")", last);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> ints(int[] values) {
        List<String> out = new ArrayList<>();
        for (int v : values) {
            out.add(Integer.toString(v));
        }
        return out;
    }

    private static List<String> concat(String kind, int port, int[] backends) {
        List<String> out = new ArrayList<>();
        if (kind != null) {
            out.add(kind);
        }
        out.add(Integer.toString(port));
        out.addAll(ints(backends));
        return out;
    }
}

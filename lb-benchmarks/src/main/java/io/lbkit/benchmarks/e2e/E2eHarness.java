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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * End-to-end load harness: the same backends, the same wrk client settings, one run, each proxy
 * measured in turn with nothing else of the harness active: backends direct, nginx, Jetty's
 * AsyncProxyServlet, MITRE's smiley-http-proxy-servlet, and lbkit {@code serve} (the jar from
 * {@code --lbkit-jar}, default {@code lb-proxy/target/lb-proxy.jar}; the configuration from
 * {@code --lbkit-config-template}, default the bundled {@code e2e/lbkit.yaml}, whose
 * {@code {{port}}} and {@code {{backendN}}} placeholders are filled in).
 *
 * <pre>
 * java -cp lb-benchmarks/target/benchmarks.jar io.lbkit.benchmarks.e2e.E2eHarness \
 *      [--duration 20] [--warmup 5] [--threads 2] [--connections 64] [--targets direct,nginx,jetty,smiley,lbkit]
 * </pre>
 * Needs {@code wrk} and {@code nginx} on PATH (Debian: {@code apt-get install wrk nginx-light}).
 * Prints one markdown table row per target.
 */
public final class E2eHarness {

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern PCT = Pattern.compile("^\\s+(50|75|90|99)%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);

    private final Map<String, String> opts;
    private final List<Process> children = new ArrayList<>();
    private final Path work;

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
        List<String> targets = List.of(opts.getOrDefault("targets", "direct,nginx,jetty,smiley,lbkit").split(","));

        int[] backends = {freePort(), freePort(), freePort()};
        start("backends", javaCommand(Backends.class.getName(), ints(backends)));
        for (int p : backends) {
            awaitHttp(p, "/");
        }
        System.out.printf(Locale.ROOT, "wrk -t%d -c%d -d%ds --latency, %d s warm-up, path %s, %d backends, %d cores%n%n",
                threads, connections, duration, warmup, path, backends.length,
                Runtime.getRuntime().availableProcessors());
        System.out.println("| target | requests/s | p50 | p90 | p99 | vs nginx req/s | vs nginx p99 |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        Result nginx = null;
        for (String target : targets) {
            int port = target.equals("direct") ? backends[0] : freePort();
            Process p = switch (target) {
                case "direct" -> null;
                case "nginx" -> startNginx(port, backends);
                case "jetty" -> start("jetty", javaCommand(PeerProxies.class.getName(), concat("jetty", port, backends)));
                case "smiley" -> start("smiley", javaCommand(PeerProxies.class.getName(), concat("smiley", port, backends)));
                case "lbkit" -> startLbkit(port, backends);
                default -> throw new IllegalArgumentException("unknown target " + target);
            };
            if (target.equals("lbkit") && p == null) {
                System.out.println("| lbkit | (skipped: no lb-proxy.jar; build it or pass --lbkit-jar) | | | | | |");
                continue;
            }
            awaitHttp(port, path);
            String url = "http://127.0.0.1:" + port + path;
            wrk(threads, connections, warmup, url);
            Result r = parse(wrk(threads, connections, duration, url));
            if (target.equals("nginx")) {
                nginx = r;
            }
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %s | %s |%n", target, r.rps,
                    r.p50, r.p90, r.p99,
                    nginx == null ? "" : String.format(Locale.ROOT, "%.2f×", r.rps / nginx.rps),
                    nginx == null ? "" : String.format(Locale.ROOT, "%.2f×", r.p99 / nginx.p99));
            if (p != null) {
                stop(p);
            }
        }
    }

    record Result(double rps, double p50, double p90, double p99) {
    }

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
        return new Result(rps, pct.getOrDefault("50", Double.NaN), pct.getOrDefault("90", Double.NaN),
                pct.getOrDefault("99", Double.NaN));
    }

    private String wrk(int threads, int connections, int seconds, String url) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency", url)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("wrk failed:\n" + out);
        }
        return out;
    }

    private Process startNginx(int port, int[] backends) throws IOException {
        StringBuilder servers = new StringBuilder();
        for (int b : backends) {
            servers.append("    server 127.0.0.1:").append(b).append(";\n");
        }
        String conf = """
                worker_processes auto;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 4096; }
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
                  }
                }
                """.formatted(work, servers, port);
        Path file = work.resolve("nginx.conf");
        Files.writeString(file, conf);
        return start("nginx", List.of(nginxBinary(), "-p", work.toString(), "-c", file.toString(), "-g", "daemon off;"));
    }

    private Process startLbkit(int port, int[] backends) throws IOException {
        String jar = opts.getOrDefault("lbkit-jar", "lb-proxy/target/lb-proxy.jar");
        if (!Files.isRegularFile(Path.of(jar))) {
            return null;
        }
        String template = opts.get("lbkit-config-template");
        String text;
        if (template == null) {
            try (var in = E2eHarness.class.getResourceAsStream("/e2e/lbkit.yaml")) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            template = "lbkit.yaml";
        } else {
            text = Files.readString(Path.of(template));
        }
        String conf = text.replace("{{port}}", Integer.toString(port));
        for (int i = 0; i < backends.length; i++) {
            conf = conf.replace("{{backend" + i + "}}", Integer.toString(backends[i]));
        }
        Path file = work.resolve(Path.of(template).getFileName());
        Files.writeString(file, conf);
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx1g", "-jar", jar, "serve", "--config", file.toString()));
        return start("lbkit", cmd);
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

    private static List<String> javaCommand(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx1g", "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    private Process start(String name, List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(work.resolve(name + ".log").toFile()).start();
        children.add(p);
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
                p.destroyForcibly();
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
        List<String> out = new ArrayList<>(List.of(kind, Integer.toString(port)));
        out.addAll(ints(backends));
        return out;
    }
}

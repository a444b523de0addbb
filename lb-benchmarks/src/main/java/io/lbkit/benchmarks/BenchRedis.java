package io.lbkit.benchmarks;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Redis a benchmark talks to: the one {@code -Dredis.url} names (nothing is flushed), else a
 * {@code redis-server} from the PATH started on a free loopback port without persistence and
 * stopped by {@link #close()}.
 */
final class BenchRedis implements AutoCloseable {

    private final String host;
    private final int port;
    private final Process process;
    private final Path dir;

    private BenchRedis(String host, int port, Process process, Path dir) {
        this.host = host;
        this.port = port;
        this.process = process;
        this.dir = dir;
    }

    /** The Redis of {@code -Dredis.url}, else one started for {@code who} (named in the error when none can be). */
    static BenchRedis open(String who) throws IOException, InterruptedException {
        String url = System.getProperty("redis.url");
        if (url != null && !url.isBlank()) {
            URI u = URI.create(url);
            return new BenchRedis(u.getHost(), u.getPort() < 0 ? 6379 : u.getPort(), null, null);
        }
        String bin = binary("redis-server");
        if (bin == null) {
            throw new IllegalStateException(who + " needs -Dredis.url=redis://host:port or redis-server on PATH"
                    + " (apt-get install redis-server)");
        }
        String host = "127.0.0.1";
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("lbkit-bench-redis-");
        Process p = new ProcessBuilder(bin, "--port", Integer.toString(port), "--bind", host, "--save", "",
                "--appendonly", "no", "--dir", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        BenchRedis r = new BenchRedis(host, port, p, dir);
        for (int i = 0; i < 200; i++) {
            if (r.cli("PING").contains("PONG")) {
                return r;
            }
            Thread.sleep(50);
        }
        r.close();
        throw new IllegalStateException("redis-server did not start");
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    String url() {
        return "redis://" + host + ":" + port;
    }

    /** A command through redis-cli; its output. */
    String cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(binary("redis-cli"), "-h", host, "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    static String binary(String name) {
        for (String d : (System.getenv("PATH") + ":/usr/bin:/usr/sbin:/usr/local/bin").split(":")) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }
}

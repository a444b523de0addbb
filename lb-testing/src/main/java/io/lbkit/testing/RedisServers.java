package io.lbkit.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Real Redis servers for tests (no mocks): {@code REDIS_URL} when set (standalone only, no
 * restart/pause), else {@code redis-server} from the PATH started on free loopback ports in temp
 * directories, else a Testcontainers {@code redis} container when a Docker engine answers.
 * Outside CI a missing server skips the test with a message saying what to install; under
 * {@code CI=true} it fails.
 *
 * <p>One class (about 570 lines), so that a test of any module reaches every topology through one
 * import; each topology is a nested class of its own ({@link ProcessServer}, {@link Sentinel},
 * {@link Cluster}, and the REDIS_URL and container servers).
 *
 * <p>In lb-testing (test support, like {@link NginxFixture}) so that every module's tests, and the
 * contract suite's, reach it without a test-jar:
 * <pre>{@code
 * try (RedisServers.Server redis = RedisServers.standalone()) {
 *     String url = redis.url();              // redis://127.0.0.1:port
 * }
 * }</pre>
 */
public final class RedisServers {

    private static final String INSTALL = "redis-server not found: install it (apt-get install redis-server)"
            + " or set REDIS_URL=redis://host:port";

    private RedisServers() {
    }

    /** Whether the local {@code redis-server} binary exists (for process-based topologies). */
    public static boolean hasRedisServerBinary() {
        return binary("redis-server") != null;
    }

    /** A standalone server: REDIS_URL, a local redis-server process, or a container. */
    public static Server standalone() {
        String url = System.getenv("REDIS_URL");
        if (url != null && !url.isBlank()) {
            return new ExternalServer(url);
        }
        if (hasRedisServerBinary()) {
            return ProcessServer.start(List.of());
        }
        Server container = ContainerServer.tryStart();
        if (container != null) {
            return container;
        }
        missing();
        throw new AssertionError("unreachable");
    }

    /** A standalone local process (restart/pause supported), with extra redis-server arguments. */
    public static ProcessServer process(String... extraArgs) {
        requireBinary();
        return ProcessServer.start(List.of(extraArgs));
    }

    /** A master, one replica and one sentinel (quorum 1, down-after 1 s) on loopback. */
    public static Sentinel sentinel() {
        requireBinary();
        return Sentinel.start();
    }

    /** A 3-master Redis Cluster on loopback (no replicas). */
    public static Cluster cluster() {
        requireBinary();
        return Cluster.start(3);
    }

    /** Skips (or under CI=true fails) unless redis-server exists. */
    public static void requireBinary() {
        if (!hasRedisServerBinary()) {
            missing();
        }
    }

    private static void missing() {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(INSTALL + " (CI=true: failing instead of skipping)");
        }
        Assumptions.abort(INSTALL);
    }

    static String binary(String name) {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>();
        if (path != null) {
            dirs.addAll(List.of(path.split(java.io.File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin"));
        for (String d : dirs) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    /** A free loopback port (bound and released; good enough on a test machine). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls {@code condition} every 20 ms until true or {@code timeoutMillis} pass. */
    public static boolean await(long timeoutMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // not yet
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Runs {@code redis-cli -h host -p port args...} and returns its trimmed output. */
    public static String cli(String host, int port, String... args) {
        String bin = binary("redis-cli");
        if (bin == null) {
            throw new IllegalStateException("redis-cli not found");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(bin);
        cmd.add("-h");
        cmd.add(host);
        cmd.add("-p");
        cmd.add(Integer.toString(port));
        cmd.addAll(List.of(args));
        return run(cmd, 30);
    }

    static String run(List<String> cmd, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + cmd.get(0));
            }
            return new String(out, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

    /** One Redis endpoint. */
    public interface Server extends AutoCloseable {
        String host();

        int port();

        /** {@code redis://host:port}. */
        default String url() {
            return "redis://" + host() + ":" + port();
        }

        /** A raw command through redis-cli (e.g. {@code cli("PTTL", key)}). */
        default String cli(String... args) {
            return RedisServers.cli(host(), port(), args);
        }

        @Override
        void close();
    }

    /** A server given by REDIS_URL: not started or stopped by the tests. */
    static final class ExternalServer implements Server {
        private final java.net.URI uri;

        ExternalServer(String url) {
            this.uri = java.net.URI.create(url);
        }

        @Override
        public String host() {
            return uri.getHost();
        }

        @Override
        public int port() {
            return uri.getPort() < 0 ? 6379 : uri.getPort();
        }

        @Override
        public String url() {
            return uri.toString();
        }

        @Override
        public void close() {
        }
    }

    /**
     * A redis-server process on 127.0.0.1 with its own temp dir and AOF (fsync always), so a
     * kill + restart keeps data and TTLs. Supports stop/start/restart and pause/resume
     * (SIGSTOP/SIGCONT).
     */
    public static final class ProcessServer implements Server {
        private final int port;
        private final Path dir;
        private final List<String> extra;
        private Process process;

        private ProcessServer(int port, Path dir, List<String> extra) {
            this.port = port;
            this.dir = dir;
            this.extra = extra;
        }

        static ProcessServer start(List<String> extra) {
            try {
                Path dir = Files.createTempDirectory("lbkit-redis-");
                ProcessServer s = new ProcessServer(freePort(), dir, extra);
                s.start();
                return s;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String host() {
            return "127.0.0.1";
        }

        @Override
        public int port() {
            return port;
        }

        public Path dir() {
            return dir;
        }

        /** Starts the process (again) on the same port and dir; waits until it answers PING. */
        public synchronized void start() {
            if (process != null && process.isAlive()) {
                return;
            }
            List<String> cmd = new ArrayList<>(List.of(binary("redis-server"),
                    "--port", Integer.toString(port), "--bind", "127.0.0.1", "--dir", dir.toString(),
                    "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                    "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning",
                    "--logfile", dir.resolve("redis-" + port + ".log").toString()));
            cmd.addAll(extra);
            try {
                process = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(dir.resolve("stdout-" + port + ".log").toFile()).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Process started = process;
            // a crashed or killed test JVM must not leave servers behind
            Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
            if (!await(20_000, () -> "PONG".equals(cli("PING")))) {
                throw new IllegalStateException("redis-server on port " + port + " did not start");
            }
        }

        /** Kills the process (SIGKILL) and waits until the port is closed. */
        public synchronized void kill() {
            if (process == null) {
                return;
            }
            resume();
            process.destroyForcibly();
            try {
                process.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            await(10_000, () -> !listening(port));
        }

        /** kill + start. */
        public void restart() {
            kill();
            start();
        }

        /** SIGSTOP: the server keeps its sockets open but answers nothing. */
        public synchronized void pause() {
            signal("STOP");
        }

        /** SIGCONT. */
        public synchronized void resume() {
            signal("CONT");
        }

        public long pid() {
            return process.pid();
        }

        private void signal(String sig) {
            if (process != null && process.isAlive()) {
                run(List.of("kill", "-" + sig, Long.toString(process.pid())), 10);
            }
        }

        @Override
        public synchronized void close() {
            kill();
            process = null;
            deleteTree(dir);
        }
    }

    /** A Testcontainers redis container (used only when no redis-server binary is present). */
    static final class ContainerServer implements Server {
        private final AutoCloseable container;
        private final String host;
        private final int port;

        private ContainerServer(AutoCloseable container, String host, int port) {
            this.container = container;
            this.host = host;
            this.port = port;
        }

        static Server tryStart() {
            try {
                if (!org.testcontainers.DockerClientFactory.instance().isDockerAvailable()) {
                    return null;
                }
                @SuppressWarnings({"resource", "rawtypes"})
                org.testcontainers.containers.GenericContainer c =
                        new org.testcontainers.containers.GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
                c.start();
                return new ContainerServer(c, c.getHost(), c.getMappedPort(6379));
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }

        @Override
        public String host() {
            return host;
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public void close() {
            try {
                container.close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    /** Master + replica + one sentinel (master name {@value #MASTER}). */
    public static final class Sentinel implements AutoCloseable {
        public static final String MASTER = "lbkitmaster";
        private final ProcessServer master;
        private final ProcessServer replica;
        private final int sentinelPort;
        private final Path sentinelDir;
        private Process sentinel;

        private Sentinel(ProcessServer master, ProcessServer replica, int sentinelPort, Path sentinelDir) {
            this.master = master;
            this.replica = replica;
            this.sentinelPort = sentinelPort;
            this.sentinelDir = sentinelDir;
        }

        static Sentinel start() {
            ProcessServer master = ProcessServer.start(List.of());
            ProcessServer replica = ProcessServer.start(List.of("--replicaof", "127.0.0.1",
                    Integer.toString(master.port())));
            try {
                int port = freePort();
                Path dir = Files.createTempDirectory("lbkit-sentinel-");
                Path conf = dir.resolve("sentinel.conf");
                Files.writeString(conf, String.join("\n",
                        "port " + port,
                        "bind 127.0.0.1",
                        "protected-mode no",
                        "dir " + dir,
                        "logfile " + dir.resolve("sentinel.log"),
                        "sentinel monitor " + MASTER + " 127.0.0.1 " + master.port() + " 1",
                        "sentinel down-after-milliseconds " + MASTER + " 1000",
                        "sentinel failover-timeout " + MASTER + " 5000",
                        "sentinel parallel-syncs " + MASTER + " 1", ""));
                Sentinel s = new Sentinel(master, replica, port, dir);
                s.sentinel = new ProcessBuilder(binary("redis-server"), conf.toString(), "--sentinel")
                        .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
                Process started = s.sentinel;
                Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
                boolean up = await(20_000, () -> cli("127.0.0.1", port, "SENTINEL", "replicas", MASTER)
                        .contains(Integer.toString(replica.port())))
                        && await(20_000, () -> replica.cli("INFO", "replication").contains("master_link_status:up"));
                if (!up) {
                    s.close();
                    throw new IllegalStateException("sentinel did not see the replica");
                }
                return s;
            } catch (IOException e) {
                master.close();
                replica.close();
                throw new UncheckedIOException(e);
            }
        }

        public ProcessServer master() {
            return master;
        }

        public ProcessServer replica() {
            return replica;
        }

        /** {@code 127.0.0.1:port} of the sentinel. */
        public String sentinelAddress() {
            return "127.0.0.1:" + sentinelPort;
        }

        /** The port the sentinel reports as the current master. */
        public int currentMasterPort() {
            String out = cli("127.0.0.1", sentinelPort, "SENTINEL", "get-master-addr-by-name", MASTER);
            String[] lines = out.split("\\s+");
            return Integer.parseInt(lines[lines.length - 1]);
        }

        @Override
        public void close() {
            if (sentinel != null) {
                sentinel.destroyForcibly();
                try {
                    sentinel.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            master.close();
            replica.close();
            deleteTree(sentinelDir);
        }
    }

    /** A Redis Cluster of masters created with {@code redis-cli --cluster create}. */
    public static final class Cluster implements AutoCloseable {
        private final List<ProcessServer> nodes;

        private Cluster(List<ProcessServer> nodes) {
            this.nodes = nodes;
        }

        static Cluster start(int masters) {
            List<ProcessServer> nodes = new ArrayList<>();
            try {
                for (int i = 0; i < masters; i++) {
                    nodes.add(ProcessServer.start(List.of("--cluster-enabled", "yes",
                            "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                            "--appendonly", "no")));
                }
                List<String> cmd = new ArrayList<>(List.of(binary("redis-cli"), "--cluster", "create"));
                nodes.forEach(n -> cmd.add("127.0.0.1:" + n.port()));
                cmd.add("--cluster-replicas");
                cmd.add("0");
                cmd.add("--cluster-yes");
                String out = run(cmd, 60);
                boolean ok = await(30_000, () -> nodes.stream()
                        .allMatch(n -> n.cli("CLUSTER", "INFO").contains("cluster_state:ok")));
                if (!ok) {
                    throw new IllegalStateException("cluster did not become ok: " + out);
                }
                return new Cluster(nodes);
            } catch (RuntimeException e) {
                nodes.forEach(ProcessServer::close);
                throw e;
            }
        }

        public List<ProcessServer> nodes() {
            return nodes;
        }

        /** {@code host:port} of every node. */
        public List<String> addresses() {
            return nodes.stream().map(n -> "127.0.0.1:" + n.port()).toList();
        }

        /** The node serving {@code key} (by CLUSTER KEYSLOT and CLUSTER NODES of the first node). */
        public ProcessServer nodeOf(String key) {
            int slot = Integer.parseInt(nodes.get(0).cli("CLUSTER", "KEYSLOT", key));
            for (String line : nodes.get(0).cli("CLUSTER", "NODES").split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length < 9 || !f[2].contains("master")) {
                    continue;
                }
                int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1, f[1].indexOf('@')));
                for (int i = 8; i < f.length; i++) {
                    String[] range = f[i].split("-");
                    if (range[0].startsWith("[")) {
                        continue;
                    }
                    int lo = Integer.parseInt(range[0]);
                    int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
                    if (slot >= lo && slot <= hi) {
                        return nodes.stream().filter(n -> n.port() == port).findFirst().orElseThrow();
                    }
                }
            }
            throw new IllegalStateException("no node serves slot " + slot);
        }

        @Override
        public void close() {
            nodes.forEach(ProcessServer::close);
        }
    }
}

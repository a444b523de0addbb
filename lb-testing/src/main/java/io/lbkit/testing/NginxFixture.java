package io.lbkit.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs a real nginx for differential tests: lbkit claims nginx semantics, and the proof is the
 * same answer from nginx itself for the same configuration and inputs.
 *
 * <pre>{@code
 * try (NginxFixture nginx = NginxFixture.start("""
 *         split_clients "${http_x_key}" $variant { 50% A; * B; }
 *         server {
 *             listen 127.0.0.1:{{port}};
 *             location / { return 200 "$variant"; }
 *         }
 *         """)) {
 *     NginxFixture.Response r = nginx.get("/", Map.of("X-Key", "user-1"));
 *     assertEquals("A", r.bodyText());
 * }
 * }</pre>
 *
 * <h2>What it does</h2>
 * <ul>
 *   <li>Finds the nginx binary: the {@code LBKIT_NGINX} environment variable, else {@code nginx}
 *       on the {@code PATH}, else {@code /usr/sbin/nginx}, {@code /usr/local/sbin/nginx},
 *       {@code /usr/local/nginx/sbin/nginx}. If there is none, the test is <b>skipped</b> (JUnit
 *       assumption) with "nginx not found: apt-get install nginx-light" — unless the environment
 *       variable {@code CI} is {@code true}, where a missing nginx <b>fails</b> the test, so a CI
 *       run cannot pass by skipping its differential tests.</li>
 *   <li>Writes a temporary directory with an {@code nginx.conf} that wraps the caller's
 *       {@code http {}} body: {@code daemon off; master_process off;}, pid file, error and access
 *       logs and every temp path ({@code client_body_temp_path}, {@code proxy_temp_path}, ...)
 *       inside that directory, so nginx runs as any user and leaves nothing behind.</li>
 *   <li>Replaces the placeholders {@code {{port}}} (= {@code {{port0}}}), {@code {{port1}}}, ...
 *       {@code {{port9}}} with free loopback ports (bind 127.0.0.1:0, read the port, close), starts
 *       {@code nginx -p DIR/ -c DIR/nginx.conf -e DIR/error.log}, and waits (at most 15 s) until
 *       every port accepts connections. If nginx exits or never listens, the start fails with the
 *       error log's contents; if a port was taken in the meantime, it retries with new ports.</li>
 *   <li>{@link #close()} stops nginx (SIGTERM, then SIGKILL after 5 s) and deletes the directory.</li>
 * </ul>
 *
 * <p>Requests go to 127.0.0.1 only. {@link #get} uses {@link HttpClient} (HTTP/1.1, keep-alive);
 * it sends header values as US-ASCII, so for arbitrary header bytes (UTF-8 keys) use
 * {@link #rawGet}, which writes the request on a plain socket.
 */
public final class NginxFixture implements AutoCloseable {

    private static final Pattern PORT_PLACEHOLDER = Pattern.compile("\\{\\{port([0-9]?)}}");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final Path dir;
    private final int[] ports;
    private final Process process;
    private final Thread shutdownHook;
    private final HttpClient http;

    private NginxFixture(Path dir, int[] ports, Process process) {
        this.dir = dir;
        this.ports = ports;
        this.process = process;
        this.shutdownHook = new Thread(process::destroyForcibly, "nginx-fixture-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(REQUEST_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(java.net.ProxySelector.of(null))
                .build();
    }

    /**
     * The nginx binary, or empty if there is none (see the class documentation for the search).
     */
    public static Optional<Path> findBinary() {
        String override = System.getenv("LBKIT_NGINX");
        if (override != null && !override.isBlank()) {
            Path p = Paths.get(override);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(java.io.File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    Path p = Paths.get(entry, "nginx");
                    if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                        return Optional.of(p);
                    }
                }
            }
        }
        for (String candidate : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")) {
            Path p = Paths.get(candidate);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * The nginx binary; if there is none, aborts the calling test (skipped), or fails it when the
     * environment variable {@code CI} is {@code true}.
     */
    public static Path requireBinary() {
        Optional<Path> binary = findBinary();
        if (binary.isPresent()) {
            return binary.get();
        }
        String message = "nginx not found: apt-get install nginx-light";
        if ("true".equals(System.getenv("CI"))) {
            return Assertions.fail(message + " (CI=true: the differential tests must run)");
        }
        return Assumptions.abort(message);
    }

    /**
     * Starts nginx with {@code httpBody} as the contents of its {@code http {}} block. Use
     * {@code {{port}}}, {@code {{port1}}}, ... {@code {{port9}}} where the listen ports go.
     */
    public static NginxFixture start(String httpBody) {
        Path binary = requireBinary();
        int portCount = 0;
        Matcher m = PORT_PLACEHOLDER.matcher(httpBody);
        while (m.find()) {
            int index = m.group(1).isEmpty() ? 0 : Integer.parseInt(m.group(1));
            portCount = Math.max(portCount, index + 1);
        }
        String lastLog = "";
        for (int attempt = 1; attempt <= 3; attempt++) {
            Path dir;
            try {
                dir = Files.createTempDirectory("lbkit-nginx-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int[] ports = freePorts(portCount);
            Process process = null;
            boolean started = false;
            try {
                Path conf = writeConfig(dir, substitutePorts(httpBody, ports));
                process = new ProcessBuilder(binary.toString(), "-p", dir + "/", "-c", conf.toString(),
                        "-e", dir.resolve("error.log").toString())
                        .directory(dir.toFile())
                        .redirectOutput(dir.resolve("stdout.log").toFile())
                        .redirectError(dir.resolve("stderr.log").toFile())
                        .start();
                if (awaitListening(process, ports)) {
                    started = true;
                    return new NginxFixture(dir, ports, process);
                }
                lastLog = logs(dir);
                if (!process.isAlive() && lastLog.contains("Address already in use")) {
                    continue; // a port was taken between our probe and nginx's bind: retry
                }
                return Assertions.fail("nginx did not start listening on 127.0.0.1:"
                        + Arrays.toString(ports) + " within " + START_TIMEOUT.toSeconds()
                        + " s (exit " + (process.isAlive() ? "none, still running" : process.exitValue())
                        + ")\n" + lastLog + "\n--- nginx.conf ---\n" + readQuietly(conf));
            } catch (IOException e) {
                throw new UncheckedIOException("could not start " + binary, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting nginx", e);
            } finally {
                if (!started) {
                    if (process != null) {
                        stop(process);
                    }
                    deleteQuietly(dir);
                }
            }
        }
        return Assertions.fail("nginx could not bind free ports in 3 attempts\n" + lastLog);
    }

    /** {@code count} distinct loopback ports that were free a moment ago. */
    public static int[] freePorts(int count) {
        int[] ports = new int[count];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket();
                held.add(s);
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0));
                ports[i] = s.getLocalPort();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
        return ports;
    }

    /** The first listen port ({@code {{port}}}). */
    public int port() {
        return port(0);
    }

    /** The listen port that replaced {@code {{port<i>}}}. */
    public int port(int i) {
        return ports[i];
    }

    /** The temporary prefix directory (nginx.conf, logs). */
    public Path directory() {
        return dir;
    }

    /** The contents of nginx's error log so far. */
    public String errorLog() {
        return readQuietly(dir.resolve("error.log"));
    }

    /** GET {@code path} from the first port with {@code headers} (ASCII values). */
    public Response get(String path, Map<String, String> headers) {
        return get(0, path, headers);
    }

    /**
     * GET {@code path} from port {@code portIndex} of 127.0.0.1 through {@link HttpClient}. Header
     * values must be ASCII (HttpClient sends other characters as {@code ?}); use {@link #rawGet}
     * for other bytes.
     */
    public Response get(int portIndex, String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(portIndex, path)).timeout(REQUEST_TIMEOUT).GET();
        headers.forEach(b::header);
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.headers().map(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + path + " failed\n" + errorLog(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * GET {@code path} from port {@code portIndex} of 127.0.0.1 on a plain socket
     * ({@code Connection: close}), sending each header value's bytes exactly as given (they must
     * not contain CR, LF or NUL). For inputs {@link HttpClient} cannot send, such as UTF-8 keys.
     */
    public Response rawGet(int portIndex, String path, Map<String, byte[]> headers) {
        if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new IllegalArgumentException("path must be an absolute ASCII path without spaces, got " + path);
        }
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.writeBytes(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port(portIndex)
                + "\r\nConnection: close\r\n").getBytes(StandardCharsets.US_ASCII));
        for (Map.Entry<String, byte[]> h : headers.entrySet()) {
            for (byte c : h.getValue()) {
                if (c == '\r' || c == '\n' || c == 0) {
                    throw new IllegalArgumentException("header " + h.getKey() + " contains CR, LF or NUL");
                }
            }
            req.writeBytes((h.getKey() + ": ").getBytes(StandardCharsets.US_ASCII));
            req.writeBytes(h.getValue());
            req.writeBytes(new byte[] {'\r', '\n'});
        }
        req.writeBytes(new byte[] {'\r', '\n'});
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port(portIndex)),
                    (int) REQUEST_TIMEOUT.toMillis());
            s.setSoTimeout((int) REQUEST_TIMEOUT.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(req.toByteArray());
            out.flush();
            InputStream in = s.getInputStream();
            return parseResponse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("raw GET " + path + " failed\n" + errorLog(), e);
        }
    }

    /** {@code http://127.0.0.1:<port>/path}. */
    public URI uri(int portIndex, String path) {
        return URI.create("http://127.0.0.1:" + port(portIndex) + path);
    }

    /** Stops nginx and deletes its directory. */
    @Override
    public void close() {
        stop(process);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // JVM already shutting down
        }
        deleteQuietly(dir);
    }

    /** A response: status, headers (a map whose lookups ignore the case of names), body bytes. */
    public record Response(int status, Map<String, List<String>> headers, byte[] body) {
        /** The body decoded as UTF-8. */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The first value of header {@code name} (any case), if present. */
        public Optional<String> header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
                    return Optional.of(e.getValue().get(0));
                }
            }
            return Optional.empty();
        }
    }

    // ----------------------------------------------------------------------------------------

    private static String substitutePorts(String body, int[] ports) {
        Matcher m = PORT_PLACEHOLDER.matcher(body);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int index = m.group(1).isEmpty() ? 0 : Integer.parseInt(m.group(1));
            m.appendReplacement(sb, Integer.toString(ports[index]));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static Path writeConfig(Path dir, String httpBody) throws IOException {
        for (String sub : List.of("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp", "logs")) {
            Files.createDirectories(dir.resolve(sub));
        }
        String d = dir.toString();
        String conf = "# generated by io.lbkit.testing.NginxFixture\n"
                + "daemon off;\n"
                + "master_process off;\n"
                + "worker_processes 1;\n"
                + "pid " + d + "/nginx.pid;\n"
                + "error_log " + d + "/error.log info;\n"
                + "events {\n    worker_connections 256;\n}\n"
                + "http {\n"
                + "    access_log " + d + "/access.log;\n"
                + "    client_body_temp_path " + d + "/client_body_temp;\n"
                + "    proxy_temp_path " + d + "/proxy_temp;\n"
                + "    fastcgi_temp_path " + d + "/fastcgi_temp;\n"
                + "    uwsgi_temp_path " + d + "/uwsgi_temp;\n"
                + "    scgi_temp_path " + d + "/scgi_temp;\n"
                + "    default_type text/plain;\n"
                + httpBody.indent(4)
                + "}\n";
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, conf, StandardCharsets.UTF_8);
        return file;
    }

    private static boolean awaitListening(Process process, int[] ports) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        for (int port : ports) {
            while (!accepts(port)) {
                if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                    return false;
                }
                Thread.sleep(20);
            }
        }
        return process.isAlive();
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void stop(Process process) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy(); // SIGTERM: nginx's fast shutdown
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String logs(Path dir) {
        return "--- error.log ---\n" + readQuietly(dir.resolve("error.log"))
                + "--- stderr ---\n" + readQuietly(dir.resolve("stderr.log"));
    }

    private static String readQuietly(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException | UncheckedIOException e) {
            return "(could not read " + file + ": " + e + ")";
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    static Response parseResponse(byte[] raw) {
        int headerEnd = indexOf(raw, new byte[] {'\r', '\n', '\r', '\n'}, 0);
        if (headerEnd < 0) {
            throw new IllegalStateException("incomplete HTTP response: "
                    + new String(raw, StandardCharsets.ISO_8859_1));
        }
        String[] lines = new String(raw, 0, headerEnd, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        int status = Integer.parseInt(statusLine[1]);
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(lines[i].substring(0, colon).trim(),
                        k -> new ArrayList<>()).add(lines[i].substring(colon + 1).trim());
            }
        }
        byte[] body = Arrays.copyOfRange(raw, headerEnd + 4, raw.length);
        List<String> te = headers.get("transfer-encoding");
        if (te != null && te.get(0).equalsIgnoreCase("chunked")) {
            body = dechunk(body);
        } else if (headers.containsKey("content-length")) {
            int len = Integer.parseInt(headers.get("content-length").get(0));
            body = Arrays.copyOf(body, Math.min(len, body.length));
        }
        return new Response(status, Collections.unmodifiableMap(headers), body);
    }

    private static byte[] dechunk(byte[] chunked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        while (pos < chunked.length) {
            int eol = indexOf(chunked, new byte[] {'\r', '\n'}, pos);
            String sizeText = new String(chunked, pos, eol - pos, StandardCharsets.US_ASCII);
            int semi = sizeText.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? sizeText : sizeText.substring(0, semi)).trim(), 16);
            if (size == 0) {
                break;
            }
            out.write(chunked, eol + 2, size);
            pos = eol + 2 + size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}

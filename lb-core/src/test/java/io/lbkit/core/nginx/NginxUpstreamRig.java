package io.lbkit.core.nginx;

import io.lbkit.testing.NginxFixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * The setup shared by the differential balancing tests: one nginx ({@link NginxFixture}: one
 * worker, so round-robin state is the state of one process) with {@code K} backends on
 * {@code 127.0.0.1:{{port1}}} … {@code {{portK}}}, each answering {@code 200}, and a front server
 * on {@code {{port}}} that proxies to {@code upstream u} and returns {@code $upstream_addr} (every
 * server tried for the request, comma-separated) in {@code X-Upstream}.
 *
 * <p>The front server trusts {@code X-Real-IP} from 127.0.0.1 (realip module), so a test chooses
 * the client address that {@code ip_hash} sees, and hashes {@code $http_x_key} when the upstream
 * says so. It also writes {@code $http_x_seq $upstream_addr} to its own access log;
 * {@link #assertEveryRequestLoggedOnce()} checks that nginx saw each request exactly once (no
 * client-side retry consumed a pick unseen).
 *
 * <p>lbkit endpoint ids are exactly the nginx {@code server} names ({@code 127.0.0.1:PORT}).
 */
final class NginxUpstreamRig implements AutoCloseable {

    static final int MAX_BACKENDS = 9;

    final NginxFixture nginx;
    final int backends;
    /** A server with nothing listening ("127.0.0.1:PORT"), or null; see {@link #startWithDeadServer}. */
    final String dead;
    /** The dead server's line comes right before backend {@code deadBefore}'s. */
    final int deadBefore;
    private int seq;

    private NginxUpstreamRig(NginxFixture nginx, int backends, String dead, int deadBefore) {
        this.nginx = nginx;
        this.backends = backends;
        this.dead = dead;
        this.deadBefore = deadBefore;
    }

    /**
     * Like {@link #start}, plus one server that refuses connections (a free loopback port with
     * nothing listening), configured as {@code server 127.0.0.1:PORT <deadParams>;} right before
     * backend {@code deadBefore}. Retries a few times if that port turns out to be in use.
     */
    static NginxUpstreamRig startWithDeadServer(int backends, String upstreamDirectives,
                                                IntFunction<String> serverLine, int deadBefore,
                                                String deadParams, String locationExtra) {
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = NginxFixture.freePorts(1)[0];
            String dead = "127.0.0.1:" + port;
            NginxUpstreamRig r = start(backends, upstreamDirectives,
                    i -> i == deadBefore
                            ? "server " + dead + " " + deadParams.strip() + ";\n    " + serverLine.apply(i)
                            : serverLine.apply(i),
                    locationExtra, dead, deadBefore);
            boolean clash = accepts(port);
            for (int i = 0; i <= backends; i++) {
                clash |= r.nginx.port(i) == port;
            }
            if (!clash) {
                return r;
            }
            r.close(); // something listens on the "dead" port after all: choose another
        }
        return fail("found no loopback port with nothing listening");
    }

    /** Every server in configuration order: the backends and, if any, the dead server. */
    List<String> configOrder() {
        List<String> out = servers();
        if (dead != null) {
            out.add(deadBefore - 1, dead);
        }
        return out;
    }

    /**
     * Starts nginx with {@code backends} backends and an {@code upstream u} made of
     * {@code upstreamDirectives} (a balancing directive such as {@code hash $http_x_key;}, or empty)
     * and the server lines {@code serverLine.apply(i)} for i = 1..backends; use
     * {@link #server(int)} in those lines for a backend's address. {@code locationExtra} goes into
     * the proxying location (default there: {@code proxy_next_upstream off;}).
     */
    static NginxUpstreamRig start(int backends, String upstreamDirectives, IntFunction<String> serverLine,
                                  String locationExtra) {
        return start(backends, upstreamDirectives, serverLine, locationExtra, null, 0);
    }

    private static NginxUpstreamRig start(int backends, String upstreamDirectives, IntFunction<String> serverLine,
                                          String locationExtra, String dead, int deadBefore) {
        if (backends < 1 || backends > MAX_BACKENDS) {
            throw new IllegalArgumentException("backends must be 1.." + MAX_BACKENDS + ", got " + backends);
        }
        StringBuilder conf = new StringBuilder();
        conf.append("log_format lbkit_picks '$http_x_seq $upstream_addr';\n\n");
        conf.append("upstream u {\n");
        if (!upstreamDirectives.isBlank()) {
            conf.append(upstreamDirectives.strip().indent(4));
        }
        for (int i = 1; i <= backends; i++) {
            conf.append("    ").append(serverLine.apply(i)).append('\n');
        }
        conf.append("}\n\n");
        for (int i = 1; i <= backends; i++) {
            conf.append("server {\n")
                    .append("    listen 127.0.0.1:{{port").append(i).append("}};\n")
                    .append("    access_log off;\n")
                    .append("    return 200 \"backend ").append(i).append("\\n\";\n")
                    .append("}\n");
        }
        conf.append("""

                server {
                    listen 127.0.0.1:{{port}};
                    access_log picks.log lbkit_picks;
                    keepalive_requests 1000000;
                    set_real_ip_from 127.0.0.1;
                    real_ip_header X-Real-IP;

                    location / {
                        proxy_pass http://u;
                        proxy_connect_timeout 2s;
                """);
        if (!locationExtra.contains("proxy_next_upstream ")) {
            conf.append("        proxy_next_upstream off;\n");
        }
        if (!locationExtra.isBlank()) {
            conf.append(locationExtra.strip().indent(8));
        }
        conf.append("""
                        add_header X-Upstream $upstream_addr always;
                    }
                }
                """);
        return new NginxUpstreamRig(NginxFixture.start(conf.toString()), backends, dead, deadBefore);
    }

    /** {@code server 127.0.0.1:{{port<i>}} <params>;}: a server line for backend i (1-based). */
    static String serverLine(int i, String params) {
        return "server 127.0.0.1:{{port" + i + "}}" + (params.isBlank() ? "" : " " + params.strip()) + ";";
    }

    /** Backend i's address as nginx names it in the config and in {@code $upstream_addr}. */
    String server(int i) {
        if (i < 1 || i > backends) {
            throw new IllegalArgumentException("backend index 1.." + backends + ", got " + i);
        }
        return "127.0.0.1:" + nginx.port(i);
    }

    /** Every backend address, in configuration order. */
    List<String> servers() {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= backends; i++) {
            out.add(server(i));
        }
        return out;
    }

    /**
     * An lbkit upstream with the same servers: ids = nginx server names, weights as given, the
     * servers at {@code downIndexes} (1-based) marked {@link EndpointState#DOWN}.
     */
    Upstream lbkit(String policy, int[] weights, int... downIndexes) {
        assertEquals(backends, weights.length, "one weight per backend");
        Upstream.Builder b = Upstream.builder("u").policy(BalancingPolicy.builder(policy).build());
        for (int i = 1; i <= backends; i++) {
            b.endpoint(Endpoint.parseBuilder(server(i)).weight(weights[i - 1]).build());
        }
        Upstream u = b.build();
        for (int d : downIndexes) {
            u.setState(server(d), EndpointState.DOWN);
        }
        return u;
    }

    /** nginx server lines for {@link #start}: {@code weight=w} and {@code down} where asked. */
    static IntFunction<String> weighted(int[] weights, int... downIndexes) {
        return i -> serverLine(i, "weight=" + weights[i - 1]
                + (Arrays.stream(downIndexes).anyMatch(d -> d == i) ? " down" : ""));
    }

    /**
     * One request through HttpClient with ASCII header values; returns nginx's
     * {@code $upstream_addr} as a list (one element per server tried).
     */
    List<String> pick(Map<String, String> headers) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put("X-Seq", Integer.toString(seq++));
        NginxFixture.Response r = nginx.get("/", h);
        return upstreamAddr(r);
    }

    /** One request on a raw socket, header values sent as the exact bytes given (UTF-8 keys). */
    List<String> rawPick(Map<String, byte[]> headers) {
        Map<String, byte[]> h = new LinkedHashMap<>(headers);
        h.put("X-Seq", Integer.toString(seq++).getBytes(StandardCharsets.US_ASCII));
        NginxFixture.Response r = nginx.rawGet(0, "/", h);
        return upstreamAddr(r);
    }

    private List<String> upstreamAddr(NginxFixture.Response r) {
        return r.header("X-Upstream")
                .map(v -> Arrays.asList(v.trim().split("\\s*,\\s*")))
                .orElseGet(() -> fail("no X-Upstream header in the response (status " + r.status() + ")\n"
                        + nginx.errorLog()));
    }

    /** How many requests {@link #pick} and {@link #rawPick} sent. */
    int requestsSent() {
        return seq;
    }

    /**
     * nginx's access log of the front server has exactly one line per request sent, in order:
     * no request was sent twice (a hidden client retry would have consumed a pick).
     */
    void assertEveryRequestLoggedOnce() {
        // nginx logs a request after it has sent the response: give the last lines a moment
        List<String> lines = readLog();
        for (int wait = 0; wait < 100 && lines.size() < seq; wait++) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            lines = readLog();
        }
        assertEquals(seq, lines.size(), "requests seen by nginx vs sent");
        for (int i = 0; i < lines.size(); i++) {
            String first = lines.get(i).split(" ", 2)[0];
            assertEquals(Integer.toString(i), first, "access log line " + (i + 1));
        }
    }

    private List<String> readLog() {
        try {
            return Files.readAllLines(nginx.directory().resolve("picks.log"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a TCP connect to 127.0.0.1:{@code port} succeeds (something is listening). */
    static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        nginx.close();
    }

    // ---- inputs ----

    /** A hash key: ASCII text, UTF-8 text (sent as raw bytes), a number, or none (no header). */
    record Key(String kind, String text) {
        static Key ascii(String s) { return new Key("ascii", s); }
        static Key utf8(String s) { return new Key("utf8", s); }
        static Key number(long n) { return new Key("number", Long.toString(n)); }
        static Key none() { return new Key("none", null); }

        @Override
        public String toString() {
            return kind + (text == null ? "" : " '" + text + "'");
        }
    }

    /** Printable ASCII, 1..32 characters, spaces only inside (nginx trims them at the ends). */
    static String asciiKey(Random r) {
        int len = 1 + r.nextInt(32);
        char[] c = new char[len];
        for (int i = 0; i < len; i++) {
            boolean inner = i > 0 && i < len - 1;
            c[i] = inner && r.nextInt(10) == 0 ? ' ' : (char) (0x21 + r.nextInt(94));
        }
        return new String(c);
    }

    /** 1..12 code points from ASCII letters, Latin, Greek, Cyrillic, CJK and emoji (4-byte UTF-8). */
    static String utf8Key(Random r) {
        int n = 1 + r.nextInt(12);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int cp = switch (r.nextInt(7)) {
                case 0 -> 'a' + r.nextInt(26);
                case 1 -> 0xC0 + r.nextInt(0x250 - 0xC0);
                case 2 -> 0x391 + r.nextInt(0x3C9 - 0x391);
                case 3 -> 0x410 + r.nextInt(0x44F - 0x410);
                case 4 -> 0x4E00 + r.nextInt(0x9FA5 - 0x4E00);
                case 5 -> 0x3041 + r.nextInt(0x3096 - 0x3041);
                default -> 0x1F600 + r.nextInt(0x50);
            };
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    /**
     * A shuffled mix of {@code ascii} random ASCII keys, {@code numbers} numeric keys (0, 1, 2, …
     * then random longs), {@code utf8} UTF-8 keys and {@code none} requests without a key.
     */
    static List<Key> keys(long seed, int ascii, int numbers, int utf8, int none) {
        Random r = new Random(seed);
        List<Key> keys = new ArrayList<>();
        for (int i = 0; i < ascii; i++) {
            keys.add(Key.ascii(asciiKey(r)));
        }
        for (int i = 0; i < numbers; i++) {
            keys.add(Key.number(i < numbers / 2 ? i : r.nextLong()));
        }
        for (int i = 0; i < utf8; i++) {
            keys.add(Key.utf8(utf8Key(r)));
        }
        for (int i = 0; i < none; i++) {
            keys.add(Key.none());
        }
        Collections.shuffle(keys, r);
        return keys;
    }

    /** nginx's pick for a request with hash key {@code k} in {@code X-Key}. */
    List<String> pick(Key k) {
        if (k.text() == null) {
            return pick(Map.of());
        }
        if (k.kind().equals("utf8")) {
            return rawPick(Map.of("X-Key", k.text().getBytes(StandardCharsets.UTF_8)));
        }
        return pick(Map.of("X-Key", k.text()));
    }

    /** lbkit's pick for {@code k} (completed at once); {@code "<none>"} when nothing was chosen. */
    static String lbkitPick(Upstream u, PickRequest req, Key k) {
        req.reset();
        setKey(req, k);
        return pickAndComplete(u, req);
    }

    /** Sets {@code k} as the hash key of {@code req} ({@code hashKey(long)} for numbers). */
    static void setKey(PickRequest req, Key k) {
        if (k.kind().equals("number")) {
            req.hashKey(Long.parseLong(k.text()));
        } else if (k.text() != null) {
            req.hashKey(k.text());
        }
    }

    /**
     * lbkit's attempts for one request the way a proxy makes them: pick; if the endpoint is
     * {@code dead}, complete with {@link Outcome#CONNECT_FAILURE}, mark it tried and pick again;
     * otherwise complete with 200. Returns the ids tried, like nginx's {@code $upstream_addr}.
     */
    static List<String> attempts(Upstream u, PickRequest req, String dead, int maxTries) {
        List<String> tried = new ArrayList<>();
        for (int attempt = 0; attempt < maxTries; attempt++) {
            Selection s = u.pick(req);
            if (!s.found()) {
                tried.add("<" + s.reason() + ">");
                break;
            }
            String id = s.endpoint().id();
            tried.add(id);
            if (!id.equals(dead)) {
                s.complete(200, 0L);
                break;
            }
            s.complete(Outcome.CONNECT_FAILURE, 0, 0L);
            req.markTried(s);
        }
        return tried;
    }

    /**
     * The retry scenario shared by the hash-family tests. Config order: backend 1 (weight 10,
     * down), the dead server (weight 1, {@code max_fails=0}), backend 2 (1), backend 3 (10, down),
     * backend 4 (1); {@code proxy_next_upstream error}. A request whose first pick is the dead
     * server is retried and continues the hash walk where it stopped; with the two heavy servers
     * down the walk is long, so the 20-try limit (then round robin) is reached both within one
     * pick and across the two picks of one request.
     */
    static <T> void compareRetries(String policy, String directive, List<T> inputs,
                                   java.util.function.BiFunction<NginxUpstreamRig, T, List<String>> nginxPick,
                                   java.util.function.BiConsumer<PickRequest, T> lbkitInput, String what) {
        int[] weights = {10, 1, 10, 1};
        try (NginxUpstreamRig rig = startWithDeadServer(weights.length, directive, weighted(weights, 1, 3), 2,
                "weight=1 max_fails=0", "proxy_next_upstream error;")) {
            Upstream.Builder b = Upstream.builder("u").policy(BalancingPolicy.builder(policy).build());
            for (String id : rig.configOrder()) {
                int w = id.equals(rig.dead) ? 1 : weights[rig.servers().indexOf(id)];
                b.endpoint(Endpoint.parseBuilder(id).weight(w).maxFails(id.equals(rig.dead) ? 0 : 1).build());
            }
            Upstream u = b.build();
            u.setState(rig.server(1), EndpointState.DOWN);
            u.setState(rig.server(3), EndpointState.DOWN);
            PickRequest req = PickRequest.create();
            Diff diff = new Diff(what);
            int retried = 0;
            for (T input : inputs) {
                List<String> nginx = nginxPick.apply(rig, input);
                req.reset();
                lbkitInput.accept(req, input);
                List<String> lbkit = attempts(u, req, rig.dead, 3);
                if (nginx.size() > 1) {
                    retried++;
                }
                diff.compare(String.valueOf(input), nginx, lbkit);
            }
            assertTrue(retried > inputs.size() / 20, "only " + retried + " requests were retried");
            diff.assertNone();
            rig.assertEveryRequestLoggedOnce();
        }
    }

    /** Picks, completes with 200 and returns the endpoint id, or {@code "<none>"}. */
    static String pickAndComplete(Upstream u, PickRequest req) {
        Selection s = u.pick(req);
        if (!s.found()) {
            return "<none>";
        }
        s.complete(200, 0L);
        return s.endpoint().id();
    }

    /** Collects differences and fails with the first few and the total. */
    static final class Diff {
        private final String what;
        private final List<String> shown = new ArrayList<>();
        private int compared;
        private int differences;

        Diff(String what) {
            this.what = what;
        }

        void compare(String input, Object nginx, Object lbkit) {
            compared++;
            if (!nginx.equals(lbkit)) {
                differences++;
                if (shown.size() < 15) {
                    shown.add("  #" + (compared - 1) + " " + input + ": nginx=" + nginx + " lbkit=" + lbkit);
                }
            }
        }

        int compared() {
            return compared;
        }

        void assertNone() {
            assertTrue(compared > 0, what + ": nothing compared");
            if (differences > 0) {
                fail(what + ": " + differences + " of " + compared + " picks differ from nginx\n"
                        + String.join("\n", shown));
            }
        }
    }
}

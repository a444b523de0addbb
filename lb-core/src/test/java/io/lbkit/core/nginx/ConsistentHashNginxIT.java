package io.lbkit.core.nginx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Upstream;
import io.lbkit.core.nginx.NginxUpstreamRig.Key;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * Differential test: lbkit's {@code consistent-hash} against nginx
 * {@code hash $http_x_key consistent;} (ketama, 160 points per weight unit). Keys as in
 * {@link HashNginxIT}: random ASCII, numbers, UTF-8, and no key (round robin).
 */
class ConsistentHashNginxIT {

    private static final int[] WEIGHTS = {1, 2, 3, 1, 5, 2, 1, 4};

    private static void compare(NginxUpstreamRig rig, Upstream u, List<Key> keys, Map<String, String> addrToId,
                                String what) {
        PickRequest req = PickRequest.create();
        NginxUpstreamRig.Diff diff = new NginxUpstreamRig.Diff(what);
        for (Key k : keys) {
            List<String> nginx = rig.pick(k).stream().map(a -> addrToId.getOrDefault(a, a)).toList();
            String lbkit = NginxUpstreamRig.lbkitPick(u, req, k);
            diff.compare(k.toString(), nginx, List.of(lbkit));
        }
        diff.assertNone();
        rig.assertEveryRequestLoggedOnce();
    }

    @Test
    void sameServerForEveryKey() {
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(WEIGHTS.length, "hash $http_x_key consistent;",
                NginxUpstreamRig.weighted(WEIGHTS), "")) {
            Upstream u = rig.lbkit("consistent-hash", WEIGHTS);
            compare(rig, u, NginxUpstreamRig.keys(11L, 1800, 500, 500, 60), Map.of(),
                    "hash consistent, 8 servers, weights 1,2,3,1,5,2,1,4");
        }
    }

    /** One server down: its keys walk on to the next point of another server. */
    @Test
    void sameServerWithOneServerDown() {
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(WEIGHTS.length, "hash $http_x_key consistent;",
                NginxUpstreamRig.weighted(WEIGHTS, 5), "")) {
            Upstream u = rig.lbkit("consistent-hash", WEIGHTS, 5);
            List<Key> keys = NginxUpstreamRig.keys(12L, 1500, 300, 400, 40);
            Ring ring = new Ring(rig.servers(), WEIGHTS);
            long walked = keys.stream().filter(k -> ring.tries(k, 5) > 0).count();
            assertTrue(walked > 200, "only " + walked + " keys walk past the down server");
            compare(rig, u, keys, Map.of(), "hash consistent, 8 servers, 5th down");
        }
    }

    /** Two heavy servers down: walks longer than 20 points fall back to round robin. */
    @Test
    void sameServerWhenTwentyTriesFallBackToRoundRobin() {
        int[] weights = {10, 1, 10, 1};
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(weights.length, "hash $http_x_key consistent;",
                NginxUpstreamRig.weighted(weights, 1, 3), "")) {
            Upstream u = rig.lbkit("consistent-hash", weights, 1, 3);
            List<Key> keys = NginxUpstreamRig.keys(13L, 1200, 200, 300, 30);
            Ring ring = new Ring(rig.servers(), weights);
            long fallbacks = keys.stream().filter(k -> ring.tries(k, 1, 3) > 20).count();
            assertTrue(fallbacks > 50, "only " + fallbacks + " keys exercise the round-robin fallback");
            compare(rig, u, keys, Map.of(), "hash consistent, weights 10,1,10,1, both 10s down");
        }
    }

    /** Retries: a key whose first pick refuses connections walks on along the ring. */
    @Test
    void retryWalksOnAlongTheRing() {
        NginxUpstreamRig.compareRetries("consistent-hash", "hash $http_x_key consistent;",
                NginxUpstreamRig.keys(15L, 2400, 300, 300, 0),
                NginxUpstreamRig::pick, (req, k) -> NginxUpstreamRig.setKey(req, k),
                "hash consistent with retries after connect failures");
    }

    /**
     * Server names that are not {@code ip:port}: no port ({@code 127.0.0.2}, {@code [::1]}: nginx
     * connects to port 80), an IPv6 address with a port, and a unix socket. nginx splits a name
     * into host and port only at a last colon followed by digits alone; {@code unix:} names have
     * no port part. Only one server really answers; the others refuse the connection
     * ({@code max_fails=0}, no retry), which does not matter: the pick is what is compared.
     */
    @Test
    void sameServerForServerNamesWithoutPort() {
        String unix = "unix:/nonexistent/lbkit-chash.sock";
        String directives = """
                hash $http_x_key consistent;
                server 127.0.0.2 weight=2 max_fails=0;
                server [::1] weight=3 max_fails=0;
                server %s max_fails=0;
                server [::1]:{{port1}} weight=2 max_fails=0;
                """.formatted(unix);
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(1, directives,
                i -> NginxUpstreamRig.serverLine(i, "weight=2"), "")) {
            String live = rig.server(1);
            String v6WithPort = "[::1]:" + rig.nginx.port(1);
            Map<String, Integer> weights = new LinkedHashMap<>();
            weights.put("127.0.0.2", 2);
            weights.put("[::1]", 3);
            weights.put(unix, 1);
            weights.put(v6WithPort, 2);
            weights.put(live, 2);
            Upstream.Builder b = Upstream.builder("u").policy(BalancingPolicy.consistentHash());
            weights.forEach((id, w) -> b.endpoint((id.startsWith("unix:") ? Endpoint.builder(id) : Endpoint.parseBuilder(id))
                    .weight(w).maxFails(id.equals(live) ? 1 : 0).build()));
            Upstream u = b.build();
            Map<String, String> addrToId = Map.of("127.0.0.2:80", "127.0.0.2", "[::1]:80", "[::1]");
            compare(rig, u, NginxUpstreamRig.keys(14L, 1000, 200, 200, 0), addrToId,
                    "hash consistent, server names without port, IPv6 and unix");
        }
    }

    /**
     * An independent model of nginx's ketama ring (java.util.zip.CRC32, stable sort, duplicates
     * dropped), used only to check that a test exercises the walk and the fallback.
     */
    static final class Ring {
        final long[] hash;
        final int[] server; // 1-based server index

        Ring(List<String> names, int[] weights) {
            List<long[]> points = new ArrayList<>();
            for (int s = 0; s < names.size(); s++) {
                String name = names.get(s);
                String host = name;
                String port = "";
                int colon = name.lastIndexOf(':');
                if (colon >= 0 && name.substring(colon + 1).chars().allMatch(Character::isDigit)) {
                    host = name.substring(0, colon);
                    port = name.substring(colon + 1);
                }
                byte[] base = (host + "\0" + port).getBytes(StandardCharsets.UTF_8);
                long prev = 0;
                for (int j = 0; j < weights[s] * 160; j++) {
                    CRC32 crc = new CRC32();
                    crc.update(base);
                    crc.update(new byte[] {(byte) prev, (byte) (prev >>> 8), (byte) (prev >>> 16), (byte) (prev >>> 24)});
                    prev = crc.getValue();
                    points.add(new long[] {prev, s + 1});
                }
            }
            points.sort(Comparator.comparingLong(p -> p[0]));
            List<long[]> unique = new ArrayList<>();
            for (long[] p : points) {
                if (unique.isEmpty() || unique.get(unique.size() - 1)[0] != p[0]) {
                    unique.add(p);
                }
            }
            hash = unique.stream().mapToLong(p -> p[0]).toArray();
            server = unique.stream().mapToInt(p -> (int) p[1]).toArray();
        }

        /** Points walked past before a server that is not down; 21 when nginx gives up. */
        int tries(Key k, int... down1) {
            if (k.text() == null) {
                return 0;
            }
            CRC32 crc = new CRC32();
            crc.update(k.text().getBytes(StandardCharsets.UTF_8));
            long h = crc.getValue();
            int p = 0;
            while (p < hash.length && hash[p] < h) {
                p++;
            }
            for (int t = 0; t <= 20; t++) {
                int s = server[(p + t) % hash.length];
                if (Arrays.stream(down1).noneMatch(d -> d == s)) {
                    return t;
                }
            }
            return 21;
        }
    }
}

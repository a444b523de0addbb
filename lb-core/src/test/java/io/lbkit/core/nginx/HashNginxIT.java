package io.lbkit.core.nginx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.PickRequest;
import io.lbkit.core.Upstream;
import io.lbkit.core.nginx.NginxUpstreamRig.Key;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * Differential test: lbkit's {@code hash} against nginx {@code hash $http_x_key;} (not
 * consistent). Keys (fixed seeds): random printable ASCII, decimal numbers (lbkit's
 * {@code hashKey(long)}), UTF-8 strings of up to four bytes per character (sent to nginx as raw
 * header bytes), and requests without a key, for which both fall back to round robin — interleaved,
 * so the fallback's round-robin state must also agree.
 */
class HashNginxIT {

    private static final int[] WEIGHTS = {2, 5, 1, 3, 1, 4};

    private static void compare(NginxUpstreamRig rig, Upstream u, List<Key> keys, String what) {
        PickRequest req = PickRequest.create();
        NginxUpstreamRig.Diff diff = new NginxUpstreamRig.Diff(what);
        for (Key k : keys) {
            List<String> nginx = rig.pick(k);
            String lbkit = NginxUpstreamRig.lbkitPick(u, req, k);
            diff.compare(k.toString(), nginx, List.of(lbkit));
        }
        diff.assertNone();
        rig.assertEveryRequestLoggedOnce();
    }

    @Test
    void sameServerForEveryKey() {
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(WEIGHTS.length, "hash $http_x_key;",
                NginxUpstreamRig.weighted(WEIGHTS), "")) {
            Upstream u = rig.lbkit("hash", WEIGHTS);
            compare(rig, u, NginxUpstreamRig.keys(1L, 1600, 500, 500, 100), "hash, weights 2,5,1,3,1,4");
        }
    }

    /**
     * One server down: its keys re-hash with the decimal try count as prefix
     * ({@code crc32("1" key)}, {@code crc32("2" key)}, …), added to the previous hash.
     */
    @Test
    void sameServerWithOneServerDown() {
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(WEIGHTS.length, "hash $http_x_key;",
                NginxUpstreamRig.weighted(WEIGHTS, 2), "")) {
            Upstream u = rig.lbkit("hash", WEIGHTS, 2);
            List<Key> keys = NginxUpstreamRig.keys(2L, 1300, 300, 400, 50);
            long rehashed = keys.stream().filter(k -> tries(k, WEIGHTS, 2) > 0).count();
            assertTrue(rehashed > 300, "only " + rehashed + " keys exercise the rehash path");
            compare(rig, u, keys, "hash, weights 2,5,1,3,1,4, 2nd down");
        }
    }

    /**
     * Two heavy servers down: many keys need more than 20 tries (two-digit prefixes, then the
     * round-robin fallback, whose state carries across requests).
     */
    @Test
    void sameServerWhenTwentyTriesFallBackToRoundRobin() {
        int[] weights = {10, 1, 10, 1};
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(weights.length, "hash $http_x_key;",
                NginxUpstreamRig.weighted(weights, 1, 3), "")) {
            Upstream u = rig.lbkit("hash", weights, 1, 3);
            List<Key> keys = NginxUpstreamRig.keys(3L, 1200, 200, 300, 30);
            long fallbacks = keys.stream().filter(k -> tries(k, weights, 1, 3) > 20).count();
            long twoDigit = keys.stream().filter(k -> tries(k, weights, 1, 3) >= 10).count();
            assertTrue(fallbacks > 100, "only " + fallbacks + " keys exercise the round-robin fallback");
            assertTrue(twoDigit > 150, "only " + twoDigit + " keys exercise two-digit rehash prefixes");
            compare(rig, u, keys, "hash, weights 10,1,10,1, both 10s down");
        }
    }

    /**
     * Retries: keys whose first pick is a server that refuses connections are retried; nginx
     * continues the rehash sequence (and its count of 20 tries) where the first pick stopped.
     */
    @Test
    void retryContinuesTheRehashSequence() {
        NginxUpstreamRig.compareRetries("hash", "hash $http_x_key;", NginxUpstreamRig.keys(4L, 2400, 300, 300, 0),
                NginxUpstreamRig::pick, (req, k) -> NginxUpstreamRig.setKey(req, k),
                "hash with retries after connect failures");
    }

    /**
     * An independent model of nginx's hash walk (java.util.zip.CRC32): how many re-hashes key
     * {@code k} needs before it lands on a server that is not down; 21 when nginx gives up.
     */
    static int tries(Key k, int[] weights, int... down1) {
        if (k.text() == null) {
            return 0;
        }
        byte[] key = k.text().getBytes(StandardCharsets.UTF_8);
        int total = Arrays.stream(weights).sum();
        long hash = 0;
        for (int rehash = 0; rehash <= 20; rehash++) {
            CRC32 crc = new CRC32();
            if (rehash > 0) {
                crc.update(Integer.toString(rehash).getBytes(StandardCharsets.US_ASCII));
            }
            crc.update(key);
            hash += (crc.getValue() >>> 16) & 0x7fff;
            long w = hash % total;
            int p = 0;
            while (w >= weights[p]) {
                w -= weights[p];
                p++;
            }
            int server = p + 1;
            if (Arrays.stream(down1).noneMatch(d -> d == server)) {
                return rehash;
            }
        }
        return 21;
    }
}

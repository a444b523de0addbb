package io.lbkit.core.split;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.testing.NginxFixture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential test: a real nginx's {@code split_clients} and lbkit's {@link TrafficSplit} must
 * put every key into the same part. nginx answers {@code "<variant>|<key as it saw it>"}, so the
 * test also checks that the key reached nginx byte for byte.
 */
class SplitClientsNginxIT {

    private static final String HTTP = """
            keepalive_requests 100000;
            split_clients "${http_x_key}" $variant {
                0.5%    A;
                12.5%   B;
                33.33%  C;
                *       D;
            }
            split_clients "${http_x_key}" $partial {
                10%     X;
                20.25%  Y;
                0.01%   Z;
            }
            server {
                listen 127.0.0.1:{{port0}};
                location / { return 200 "$variant|$http_x_key"; }
            }
            server {
                listen 127.0.0.1:{{port1}};
                location / { return 200 "$partial|$http_x_key"; }
            }
            """;

    private static final TrafficSplit<String> WITH_REST = TrafficSplit.<String>builder()
            .part("0.5%", "A").part("12.5%", "B").part("33.33%", "C").rest("D").build();

    private static final TrafficSplit<String> PARTIAL = TrafficSplit.<String>builder()
            .part("10%", "X").part("20.25%", "Y").part("0.01%", "Z").build();

    private static NginxFixture nginx;

    @BeforeAll
    static void startNginx() {
        nginx = NginxFixture.start(HTTP);
    }

    @AfterAll
    static void stopNginx() {
        if (nginx != null) {
            nginx.close();
        }
    }

    @Test
    void asciiKeysSplitLikeNginx() {
        List<String> keys = asciiKeys();
        assertTrue(keys.size() >= 3000, "keys: " + keys.size());
        compare(0, WITH_REST, keys, false, Set.of("A", "B", "C", "D"));
        compare(1, PARTIAL, keys, false, Set.of("X", "Y", "Z", ""));
    }

    @Test
    void utf8KeysSplitLikeNginx() {
        List<String> keys = utf8Keys();
        compare(0, WITH_REST, keys, true, Set.of("B", "C", "D"));
        compare(1, PARTIAL, keys, true, Set.of("X", "Y", ""));
    }

    @Test
    void missingHeaderIsTheEmptyKey() {
        NginxFixture.Response r0 = nginx.get(0, "/", Map.of());
        assertEquals(200, r0.status());
        assertEquals(WITH_REST.select(new byte[0]).orElse("") + "|", r0.bodyText());
        assertEquals("A|", r0.bodyText()); // hash 0 is below every cut point
        NginxFixture.Response r1 = nginx.rawGet(1, "/", Map.of());
        assertEquals("X|", r1.bodyText());
    }

    /**
     * Sends every key to the server on {@code port}, and checks that lbkit's split of the key
     * bytes nginx echoed gives nginx's variant. Collects all mismatches before failing.
     */
    private static void compare(int port, TrafficSplit<String> split, List<String> keys, boolean raw,
            Set<String> mustSee) {
        List<String> mismatches = new ArrayList<>();
        Map<String, Integer> seen = new TreeMap<>();
        for (String key : keys) {
            byte[] sent = key.getBytes(StandardCharsets.UTF_8);
            NginxFixture.Response r = raw
                    ? nginx.rawGet(port, "/", Map.of("X-Key", sent))
                    : nginx.get(port, "/", Map.of("X-Key", key));
            assertEquals(200, r.status(), "status for key '" + key + "'");
            byte[] body = r.body();
            int bar = indexOf(body, (byte) '|');
            assertTrue(bar >= 0, "body " + r.bodyText());
            String nginxVariant = new String(body, 0, bar, StandardCharsets.US_ASCII);
            byte[] echoed = Arrays.copyOfRange(body, bar + 1, body.length);
            assertArrayEquals(sent, echoed, "nginx saw a different key than '" + key + "'");
            String lbkitVariant = split.select(echoed).orElse("");
            seen.merge(nginxVariant, 1, Integer::sum);
            if (!lbkitVariant.equals(nginxVariant)) {
                mismatches.add(String.format("key '%s' (murmur2 %d): nginx '%s', lbkit '%s'", key,
                        Integer.toUnsignedLong(TrafficSplit.murmurHash2(echoed, 0, echoed.length)),
                        nginxVariant, lbkitVariant));
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + keys.size() + " keys differ on port "
                + port + ":\n" + String.join("\n", mismatches.subList(0, Math.min(20, mismatches.size()))));
        assertTrue(seen.keySet().containsAll(mustSee), "variants seen " + seen + ", expected at least " + mustSee);
    }

    /** A deterministic list of ASCII keys: random strings, numbers, addresses, near-cut keys. */
    static List<String> asciiKeys() {
        Set<String> keys = new LinkedHashSet<>();
        Random rnd = new Random(20240601L);
        while (keys.size() < 1800) {
            int len = 1 + rnd.nextInt(40);
            char[] c = new char[len];
            for (int i = 0; i < len; i++) {
                c[i] = (char) (0x21 + rnd.nextInt(0x7e - 0x21 + 1)); // printable, no space
            }
            if (len > 2 && rnd.nextInt(4) == 0) {
                c[1 + rnd.nextInt(len - 2)] = ' '; // inner spaces only: nginx trims the ends
            }
            keys.add(new String(c));
        }
        for (int i = 0; i < 600; i++) {
            keys.add(Integer.toString(i));
        }
        for (int i = 0; i < 400; i++) {
            keys.add("10." + rnd.nextInt(256) + "." + rnd.nextInt(256) + "." + rnd.nextInt(256));
            keys.add(String.format("2001:db8::%x:%x", rnd.nextInt(0x10000), rnd.nextInt(0x10000)));
        }
        keys.add("0");
        keys.add("-1");
        keys.add("a");
        keys.add("x".repeat(1000));
        // Keys whose hash lies within 2^16 of a cut point, found by search, so that the
        // integer arithmetic of the cut points is exercised where it matters.
        keys.addAll(nearCutKeys(WITH_REST, 6));
        keys.addAll(nearCutKeys(PARTIAL, 6));
        return new ArrayList<>(keys);
    }

    /** Keys with multi-byte UTF-8: Cyrillic, CJK, accents, emoji (4-byte), mixed. */
    static List<String> utf8Keys() {
        List<String> keys = new ArrayList<>(List.of("\u043a\u043b\u044e\u0447", "\u30ad\u30fc", "caf\u00e9",
                "\ud83d\udd11", "\u00fcber-\u20ac-\ud83d\ude00", "\u00e9", "\u4e2d\u6587\u952e"));
        Random rnd = new Random(99);
        int[][] ranges = {{0x00a0, 0x00ff}, {0x0400, 0x04ff}, {0x4e00, 0x9fff}, {0x1f300, 0x1f64f}, {0x21, 0x7e}};
        while (keys.size() < 400) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + rnd.nextInt(12);
            for (int i = 0; i < len; i++) {
                int[] r = ranges[rnd.nextInt(ranges.length)];
                sb.appendCodePoint(r[0] + rnd.nextInt(r[1] - r[0] + 1));
            }
            keys.add(sb.toString());
        }
        return keys;
    }

    /** For each cut point of {@code split}, {@code perCut} keys hashing within 2^16 of it. */
    static List<String> nearCutKeys(TrafficSplit<String> split, int perCut) {
        List<String> keys = new ArrayList<>();
        for (long cut : split.cutPoints()) {
            if (cut == 0) {
                continue;
            }
            int found = 0;
            for (long n = 0; found < perCut && n < 50_000_000L; n++) {
                String key = "near-" + cut + "-" + n;
                long h = Integer.toUnsignedLong(TrafficSplit.murmurHash2(key));
                if (Math.abs(h - cut) < 65536) {
                    keys.add(key);
                    found++;
                }
            }
        }
        return keys;
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }
}

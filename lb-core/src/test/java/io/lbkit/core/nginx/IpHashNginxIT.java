package io.lbkit.core.nginx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.PickRequest;
import io.lbkit.core.Upstream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Differential test: lbkit's {@code ip-hash} against nginx {@code ip_hash}. nginx sees the client
 * address through the realip module ({@code X-Real-IP} from 127.0.0.1 replaces the connection
 * address before the upstream module hashes it); lbkit gets the same address bytes.
 *
 * <p>Inputs (fixed seeds): thousands of IPv4 addresses with every octet random (nginx hashes the
 * first three), IPv6 addresses in full and compressed notation (all 16 bytes hashed), and
 * IPv4-mapped IPv6 addresses ({@code ::ffff:a.b.c.d}): nginx keeps those as IPv6 and hashes 16
 * bytes, so lbkit must be given the 16-byte form (Java's {@code InetAddress.getByName} would turn
 * them into 4-byte {@code Inet4Address}es, a different key).
 */
class IpHashNginxIT {

    private static final int[] WEIGHTS = {3, 1, 4, 1, 5, 2};

    /** A client address as sent in X-Real-IP and as given to lbkit. */
    record Client(String text, byte[] bytes) {
        @Override
        public String toString() {
            return text;
        }
    }

    static List<Client> clients(long seed, int v4, int v6, int mapped) {
        Random r = new Random(seed);
        List<Client> out = new ArrayList<>();
        out.add(v4("0.0.0.0"));
        // not 255.255.255.255: nginx's address parser returns INADDR_NONE for it, so realip ignores
        // the header and ip_hash sees 127.0.0.1; .254 has the same key (the first three octets)
        out.add(v4("255.255.255.254"));
        out.add(v4("10.0.0.1"));
        for (int i = 0; i < v4; i++) {
            byte[] b = new byte[4];
            r.nextBytes(b);
            if ((b[0] & b[1] & b[2] & b[3]) == (byte) 0xff) {
                b[3] = (byte) 0xfe;
            }
            out.add(new Client((b[0] & 255) + "." + (b[1] & 255) + "." + (b[2] & 255) + "." + (b[3] & 255), b));
        }
        for (int i = 0; i < v6; i++) {
            byte[] b = new byte[16];
            r.nextBytes(b);
            if (i % 4 == 3) {
                // compressed notation with a run of zeros: 2001:db8::xxxx:yyyy
                b = new byte[16];
                b[0] = 0x20;
                b[1] = 0x01;
                b[2] = 0x0d;
                b[3] = (byte) 0xb8;
                for (int j = 12; j < 16; j++) {
                    b[j] = (byte) r.nextInt(256);
                }
                String text = String.format("2001:db8::%x:%x", ((b[12] & 255) << 8) | (b[13] & 255),
                        ((b[14] & 255) << 8) | (b[15] & 255));
                out.add(new Client(text, b));
            } else {
                StringBuilder sb = new StringBuilder();
                for (int g = 0; g < 8; g++) {
                    if (g > 0) {
                        sb.append(':');
                    }
                    sb.append(Integer.toHexString(((b[2 * g] & 255) << 8) | (b[2 * g + 1] & 255)));
                }
                out.add(new Client(sb.toString(), b));
            }
        }
        out.add(v6("::1"));
        out.add(v6("::"));
        out.add(v6("fe80::1"));
        for (int i = 0; i < mapped; i++) {
            byte[] b = new byte[16];
            b[10] = (byte) 0xff;
            b[11] = (byte) 0xff;
            for (int j = 12; j < 16; j++) {
                b[j] = (byte) r.nextInt(255); // never ::ffff:255.255.255.255, see above
            }
            out.add(new Client("::ffff:" + (b[12] & 255) + "." + (b[13] & 255) + "." + (b[14] & 255) + "."
                    + (b[15] & 255), b));
        }
        Collections.shuffle(out, r);
        return out;
    }

    private static Client v4(String text) {
        return new Client(text, address(text));
    }

    private static Client v6(String text) {
        byte[] b = address(text);
        assertTrue(b.length == 16, text);
        return new Client(text, b);
    }

    private static byte[] address(String literal) {
        try {
            return InetAddress.getByName(literal).getAddress(); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    /** Whether nginx's ip_hash walk lands on down servers 21 times for this address. */
    static boolean needsMoreThan20Tries(byte[] addr, int[] weights, int... down1) {
        int total = java.util.Arrays.stream(weights).sum();
        int len = addr.length == 16 ? 16 : 3;
        int hash = 89;
        for (int tries = 0; tries <= 20; tries++) {
            for (int i = 0; i < len; i++) {
                hash = (hash * 113 + (addr[i] & 255)) % 6271;
            }
            int w = hash % total;
            int p = 0;
            while (w >= weights[p]) {
                w -= weights[p];
                p++;
            }
            int server = p + 1;
            if (java.util.Arrays.stream(down1).noneMatch(d -> d == server)) {
                return false;
            }
        }
        return true;
    }

    private static void compare(NginxUpstreamRig rig, Upstream u, List<Client> clients, String what) {
        PickRequest req = PickRequest.create();
        NginxUpstreamRig.Diff diff = new NginxUpstreamRig.Diff(what);
        for (Client c : clients) {
            List<String> nginx = rig.pick(Map.of("X-Real-IP", c.text()));
            String lbkit = NginxUpstreamRig.pickAndComplete(u, req.reset().clientAddress(c.bytes()));
            diff.compare(c.text(), nginx, List.of(lbkit));
        }
        diff.assertNone();
        rig.assertEveryRequestLoggedOnce();
    }

    @Test
    void sameServerForEveryClientAddress() {
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(WEIGHTS.length, "ip_hash;",
                NginxUpstreamRig.weighted(WEIGHTS), "")) {
            Upstream u = rig.lbkit("ip-hash", WEIGHTS);
            compare(rig, u, clients(20240601L, 2500, 500, 60), "ip_hash, weights 3,1,4,1,5,2");
        }
    }

    /** nginx {@code down} = lbkit {@code DOWN}: clients of the down server re-hash from where they were. */
    @Test
    void sameServerWithOneServerDown() {
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(WEIGHTS.length, "ip_hash;",
                NginxUpstreamRig.weighted(WEIGHTS, 5), "")) {
            Upstream u = rig.lbkit("ip-hash", WEIGHTS, 5);
            compare(rig, u, clients(7L, 2000, 400, 40), "ip_hash, weights 3,1,4,1,5,2, 5th down");
        }
    }

    /**
     * Retries: a client whose first pick refuses connections is retried; nginx continues hashing
     * from where the first pick stopped (and its count of 20 tries).
     */
    @Test
    void retryContinuesHashing() {
        NginxUpstreamRig.compareRetries("ip-hash", "ip_hash;", clients(5L, 2400, 500, 50),
                (rig, c) -> rig.pick(Map.of("X-Real-IP", c.text())),
                (req, c) -> req.clientAddress(c.bytes()),
                "ip_hash with retries after connect failures");
    }

    /**
     * Two light servers up, two heavy ones down: about one client in seven hashes onto down
     * servers 21 times in a row, and nginx falls back to round robin, whose state lives across
     * requests; lbkit's fallback must give the same sequence.
     */
    @Test
    void sameServerWhenTwentyTriesFallBackToRoundRobin() {
        int[] weights = {1, 10, 1, 10};
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(weights.length, "ip_hash;",
                NginxUpstreamRig.weighted(weights, 2, 4), "")) {
            Upstream u = rig.lbkit("ip-hash", weights, 2, 4);
            List<Client> clients = clients(99L, 1500, 300, 20);
            long fallbacks = clients.stream().filter(c -> needsMoreThan20Tries(c.bytes(), weights, 2, 4)).count();
            assertTrue(fallbacks > 100, "only " + fallbacks + " clients exercise the round-robin fallback");
            compare(rig, u, clients, "ip_hash, weights 1,10,1,10, both 10s down");
        }
    }
}

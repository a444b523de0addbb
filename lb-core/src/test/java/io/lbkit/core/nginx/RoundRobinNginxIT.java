package io.lbkit.core.nginx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Differential test: lbkit's {@code round-robin} against nginx's default balancing (smooth
 * weighted round robin) in a real nginx with one worker.
 *
 * <ul>
 *   <li>Steady state: the first N picks of a fresh nginx equal the first N picks of a fresh
 *       {@link Upstream}, pick for pick.</li>
 *   <li>Connect failures: one server is a loopback port with nothing listening
 *       ({@code proxy_next_upstream error}); every request's list of tried servers
 *       ({@code $upstream_addr}) equals lbkit's picks when the caller completes the failed attempt
 *       with {@link io.lbkit.core.Outcome#CONNECT_FAILURE}, marks it tried and picks again. This is deterministic:
 *       a refused loopback connect fails at once and identically every time, requests are
 *       sequential, and the test runs far below {@code fail_timeout=30s}, so the only inputs of
 *       nginx's choice are its smooth-WRR state, {@code fails} and {@code effective_weight} — the
 *       same inputs lbkit's picker has.</li>
 * </ul>
 */
class RoundRobinNginxIT {

    /** Weights as "5,1,1". */
    private static int[] parse(String weights) {
        return Arrays.stream(weights.split(",")).mapToInt(w -> Integer.parseInt(w.trim())).toArray();
    }

    @ParameterizedTest(name = "weights {0}")
    @ValueSource(strings = {"5,1,1", "3,7,1,4,10,2", "4,6,2,8", "1,1,1,1,1", "1,2,3,4,5,6,7,8,9"})
    void firstPicksOfAFreshNginxEqualLbkit(String weightList) {
        int[] weights = parse(weightList);
        int sum = Arrays.stream(weights).sum();
        int n = Math.min(1500, Math.max(700, sum * 20));
        try (NginxUpstreamRig rig = NginxUpstreamRig.start(weights.length, "",
                NginxUpstreamRig.weighted(weights), "")) {
            Upstream u = rig.lbkit("round-robin", weights);
            PickRequest req = PickRequest.create();
            NginxUpstreamRig.Diff diff = new NginxUpstreamRig.Diff("round robin " + weightList);
            StringBuilder nginxHead = new StringBuilder();
            for (int i = 0; i < n; i++) {
                List<String> nginx = rig.pick(Map.of());
                String lbkit = NginxUpstreamRig.pickAndComplete(u, req.reset());
                diff.compare("pick " + i, nginx, List.of(lbkit));
                if (i < 7) {
                    nginxHead.append((char) ('a' + rig.servers().indexOf(nginx.get(0))));
                }
            }
            diff.assertNone();
            rig.assertEveryRequestLoggedOnce();
            assertEquals(n, diff.compared());
            if (weightList.equals("5,1,1")) {
                assertEquals("aabacaa", nginxHead.toString(), "nginx's documented smooth sequence");
            }
        }
    }

    /**
     * One dead server (weight {@code deadWeight}, {@code max_fails=maxFails fail_timeout=30s})
     * between six live ones with weights 3,7,1,4,10,2; {@code proxy_next_upstream error}.
     * Cases: banned after the first failure; effective weight lowered by {@code weight/max_fails}
     * per failure and recovering by one per pick until the ban; never banned
     * ({@code max_fails=0}), so every request that lands on it is retried.
     */
    @ParameterizedTest(name = "dead server weight={0} max_fails={1}")
    @CsvSource({"4,1", "10,5", "6,3", "3,0"})
    void retriesAfterConnectFailuresEqualLbkit(int deadWeight, int maxFails) {
        int[] live = {3, 7, 1, 4, 10, 2};
        String params = " max_fails=" + maxFails + " fail_timeout=30s";
        try (NginxUpstreamRig r = NginxUpstreamRig.startWithDeadServer(live.length, "",
                i -> NginxUpstreamRig.serverLine(i, "weight=" + live[i - 1] + params), 4,
                "weight=" + deadWeight + params, "proxy_next_upstream error;")) {
            String deadId = r.dead;
            List<String> order = r.configOrder();
            Upstream.Builder b = Upstream.builder("u").policy(BalancingPolicy.roundRobin());
            for (String id : order) {
                int w = id.equals(deadId) ? deadWeight : live[r.servers().indexOf(id)];
                b.endpoint(Endpoint.parseBuilder(id).weight(w).maxFails(maxFails)
                        .failTimeout(Duration.ofSeconds(30)).build());
            }
            Upstream u = b.build();
            PickRequest req = PickRequest.create();
            NginxUpstreamRig.Diff diff = new NginxUpstreamRig.Diff(
                    "round robin with a dead server (weight " + deadWeight + ", max_fails " + maxFails + ")");
            long start = System.nanoTime();
            int n = 1000;
            int retried = 0;
            for (int i = 0; i < n; i++) {
                List<String> nginx = r.pick(Map.of());
                List<String> lbkit = NginxUpstreamRig.attempts(u, req.reset(), deadId, order.size());
                if (nginx.size() > 1) {
                    retried++;
                }
                diff.compare("request " + i, nginx, lbkit);
            }
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            assertTrue(seconds < 25, "the comparison assumes fail_timeout=30s never expires; it took " + seconds + " s");
            diff.assertNone();
            r.assertEveryRequestLoggedOnce();
            if (maxFails > 0) {
                assertEquals(maxFails, retried, "requests that hit the dead server before its ban: "
                        + summary(r, deadId));
            } else {
                assertTrue(retried >= n * deadWeight / (deadWeight + 27) / 2,
                        "the dead server was tried only " + retried + " times: " + summary(r, deadId));
            }
        }
    }

    private static String summary(NginxUpstreamRig r, String deadId) {
        return r.servers().stream().collect(Collectors.joining(", ", "[", "]")) + " dead " + deadId;
    }
}

package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.testing.NginxFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code limit_req} against nginx 1.22 for scripted bursts: each case is one location with one or
 * more {@code limit_req} (a rate, a burst, nodelay or delay=N), keyed by query parameters so that a
 * script can send requests of several keys and leave a key empty. nginx runs with
 * {@code limit_req_dry_run on}, so it neither delays nor refuses but decides and counts exactly as
 * it would, and reports the decision in {@code $limit_req_status} (PASSED, DELAYED_DRY_RUN,
 * REJECTED_DRY_RUN; empty when no limit applied). lbkit's {@link RateLimitChain} decides the same
 * sequence on a frozen clock. A script takes a few milliseconds at nginx, far less than any rate
 * here drains a request in; a run that took longer than half of that is repeated with new keys.
 */
class RateLimitChainNginxIT {

    /** One {@code limit_req}: {@code mode} is "" (delay 0), "nodelay" or "delay=N". */
    record Limit(String rate, int burst, String mode) {
        RateLimiter limiter(ManualTicker t) {
            RateLimiter.Builder b = RateLimiter.builder().rate(rate).burst(burst).ticker(t);
            if (mode.equals("nodelay")) {
                b.noDelay();
            } else if (mode.startsWith("delay=")) {
                b.delay(Integer.parseInt(mode.substring(6)));
            }
            return b.build();
        }

        /** The milliseconds in which this rate drains one request. */
        long drainMillis() {
            return 1_000_000L / Rate.parse(rate).milliRequestsPerSecond();
        }
    }

    /** A location's limits and the requests sent to it: each request lists the key of each limit ("" = none). */
    record Case(List<Limit> limits, List<String[]> requests) {
    }

    private static List<String[]> same(int n, String... keys) {
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(keys);
        }
        return out;
    }

    private static List<String[]> seq(String... perRequest) {
        List<String[]> out = new ArrayList<>();
        for (String r : perRequest) {
            out.add(r.split(",", -1));
        }
        return out;
    }

    static final List<Case> CASES = List.of(
            new Case(List.of(new Limit("1r/s", 0, "")), same(4, "a")),
            new Case(List.of(new Limit("1r/s", 5, "")), same(9, "a")),
            new Case(List.of(new Limit("1r/s", 5, "nodelay")), same(9, "a")),
            new Case(List.of(new Limit("2r/s", 4, "delay=2")), same(8, "a")),
            new Case(List.of(new Limit("60r/m", 3, "")), same(6, "a")),
            new Case(List.of(new Limit("5r/s", 12, "delay=8")), same(16, "a")),
            new Case(List.of(new Limit("10r/s", 5, "nodelay")), same(8, "a")),
            new Case(List.of(new Limit("30r/m", 2, "delay=1")), seq("a", "b", "a", "a", "b", "a", "", "b", "b")),
            // several limits: all apply, the first past its burst refuses and nothing is counted,
            // a key new to an earlier limit is counted there twice (lookup, then account), an empty key skips
            new Case(List.of(new Limit("1r/s", 1, ""), new Limit("2r/s", 3, "nodelay")),
                    seq("a,x", "a,x", "a,y", "b,x", ",x", "a,", "b,y", "b,y", "c,x", "c,x")),
            new Case(List.of(new Limit("2r/s", 2, "delay=1"), new Limit("1r/s", 4, ""), new Limit("5r/s", 0, "nodelay")),
                    seq("a,p,u", "a,p,v", "a,q,w", "b,p,", "b,p,u", ",,", "c,,z", "c,,z", "a,p,u", "d,r,s")),
            new Case(List.of(new Limit("1r/s", 3, "nodelay"), new Limit("1r/s", 0, "")),
                    seq("a,", "a,", "a,k", "a,k", "a,", "b,k")));

    @Test
    void everyScriptedBurstGetsNginxsDecisions() {
        StringBuilder conf = new StringBuilder();
        StringBuilder locations = new StringBuilder();
        for (int c = 0; c < CASES.size(); c++) {
            Case k = CASES.get(c);
            locations.append("    location /c").append(c).append(" {\n");
            for (int l = 0; l < k.limits().size(); l++) {
                Limit lim = k.limits().get(l);
                conf.append("limit_req_zone $arg_k").append(l).append(" zone=c").append(c).append('_').append(l)
                        .append(":1m rate=").append(lim.rate()).append(";\n");
                locations.append("        limit_req zone=c").append(c).append('_').append(l)
                        .append(lim.burst() == 0 ? "" : " burst=" + lim.burst()) // nginx refuses burst=0
                        .append(lim.mode().isEmpty() ? "" : " " + lim.mode()).append(";\n");
            }
            locations.append("        limit_req_dry_run on;\n        add_header X-LR \"[$limit_req_status]\" always;\n")
                    .append("        root html;\n    }\n");
        }
        conf.append("server {\n    listen 127.0.0.1:{{port}};\n").append(locations).append("}\n");
        try (NginxFixture nginx = NginxFixture.start(conf.toString())) {
            for (int c = 0; c < CASES.size(); c++) {
                runCase(nginx, c, CASES.get(c));
            }
        }
    }

    private static void runCase(NginxFixture nginx, int c, Case k) {
        long drain = k.limits().stream().mapToLong(Limit::drainMillis).min().orElseThrow();
        for (int attempt = 0; ; attempt++) {
            String prefix = "t" + attempt + "-";
            ManualTicker t = new ManualTicker(5_000_000_000L);
            RateLimiter[] limiters = k.limits().stream().map(l -> l.limiter(t)).toArray(RateLimiter[]::new);
            List<String> theirs = new ArrayList<>();
            List<String> ours = new ArrayList<>();
            long start = System.nanoTime();
            for (String[] keys : k.requests()) {
                StringBuilder q = new StringBuilder("/c" + c + "?");
                String[] ourKeys = new String[limiters.length];
                boolean any = false;
                for (int l = 0; l < limiters.length; l++) {
                    String key = l < keys.length ? keys[l] : "";
                    if (!key.isEmpty()) {
                        q.append("k").append(l).append('=').append(prefix).append(key).append('&');
                        ourKeys[l] = prefix + key;
                        any = true;
                    }
                }
                NginxFixture.Response r = nginx.get(q.toString(), Map.of());
                theirs.add(r.header("X-LR").orElse("(none)"));
                RateLimitChain.Outcome o = RateLimitChain.acquire(limiters, ourKeys);
                ours.add("[" + (!any ? "" : o.refused() ? "REJECTED_DRY_RUN" : o.delayMillis() > 0 ? "DELAYED_DRY_RUN"
                        : "PASSED") + "]");
            }
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            if (tookMillis * 2 > drain && attempt < 3) {
                continue; // the machine stalled long enough for nginx's real clock to drain: again, new keys
            }
            assertEquals(theirs, ours, "case " + c + " " + k.limits() + " (" + tookMillis + " ms)");
            return;
        }
    }
}

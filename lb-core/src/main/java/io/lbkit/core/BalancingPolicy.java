package io.lbkit.core;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How an {@link Upstream} chooses among its endpoints. Immutable configuration; the upstream turns
 * it into a lock-free picker for every membership snapshot.
 *
 * <p>Create one with a static factory ({@link #roundRobin()}, {@link #maglev()}, …) or by name with
 * {@link #builder(String)}. {@link #NAMES} lists every name. {@code docs/algorithms.md} describes
 * each policy, its nginx/HAProxy/Envoy equivalent, its cost and how many keys move when
 * membership changes.
 */
public abstract class BalancingPolicy {

    /** Every policy name accepted by {@link #builder(String)}. */
    public static final List<String> NAMES = List.of(
            "round-robin", "least-conn", "ip-hash", "hash", "consistent-hash", "random", "random-two",
            "least-request", "peak-ewma", "least-time", "maglev", "jump", "rendezvous", "first");

    /** Maglev's default lookup table size (Envoy's). */
    public static final int DEFAULT_MAGLEV_TABLE_SIZE = 65537;

    private final String name;

    BalancingPolicy(String name) {
        this.name = name;
    }

    /** The policy's name, as in {@link #NAMES}. */
    public final String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }

    abstract Picker newPicker(Candidates candidates);

    /** Whether the upstream must count requests in flight across all endpoints (bounded loads). */
    boolean tracksTotalInFlight() {
        return false;
    }

    /**
     * Whether the picker compares in-flight counts. When it does not, the upstream keeps them in
     * striped counters (one cell per contending thread), which scale across threads.
     */
    boolean readsInFlight() {
        return tracksTotalInFlight();
    }

    /** Whether completes must update nginx's least_time response-time average. */
    boolean needsResponseTime() {
        return false;
    }

    /** Whether completes must update the peak EWMA cost; {@code <= 0} when not. */
    double peakDecayNanos() {
        return 0;
    }


    // ---- factories ----

    /** nginx default: smooth weighted round robin, exact, O(1) per pick in steady state. */
    public static BalancingPolicy roundRobin() {
        return builder("round-robin").build();
    }

    /** nginx {@code least_conn}: fewest in-flight per weight, ties by smooth weighted round robin. */
    public static BalancingPolicy leastConn() {
        return builder("least-conn").build();
    }

    /** nginx {@code ip_hash}: first three octets of IPv4, all of IPv6. */
    public static BalancingPolicy ipHash() {
        return builder("ip-hash").build();
    }

    /** nginx {@code hash $key} (not consistent): Cache::Memcached-compatible. */
    public static BalancingPolicy hash() {
        return builder("hash").build();
    }

    /** nginx {@code hash $key consistent}: ketama, 160 points per weight unit. */
    public static BalancingPolicy consistentHash() {
        return builder("consistent-hash").build();
    }

    /** nginx {@code random}: weighted random. */
    public static BalancingPolicy random() {
        return builder("random").build();
    }

    /** nginx {@code random two least_conn}. */
    public static BalancingPolicy randomTwo() {
        return builder("random-two").build();
    }

    /** Envoy least request: power of two choices, {@code weight / (active+1)^bias} when weighted. */
    public static BalancingPolicy leastRequest() {
        return builder("least-request").build();
    }

    /** Finagle/Linkerd peak EWMA with power of two choices. */
    public static BalancingPolicy peakEwma() {
        return builder("peak-ewma").build();
    }

    /** nginx {@code least_time}: smallest response-time average × (1 + in flight) per weight. */
    public static BalancingPolicy leastTime() {
        return builder("least-time").build();
    }

    /** Maglev (Envoy) with a 65537-slot table. */
    public static BalancingPolicy maglev() {
        return builder("maglev").build();
    }

    /** Jump consistent hash (Lamping &amp; Veach), buckets in configuration order. */
    public static BalancingPolicy jump() {
        return builder("jump").build();
    }

    /** Weighted rendezvous (highest random weight) hashing. */
    public static BalancingPolicy rendezvous() {
        return builder("rendezvous").build();
    }

    /** HAProxy {@code first}: the first endpoint in configuration order with free capacity. */
    public static BalancingPolicy first() {
        return builder("first").build();
    }

    /** A builder for the policy called {@code name} (see {@link #NAMES}). */
    public static Builder builder(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (!NAMES.contains(n)) {
            throw new IllegalArgumentException("policy must be one of " + NAMES + ", got '" + name + "'");
        }
        return new Builder(n);
    }

    /**
     * Options of a policy. Each applies only to the policies named in its javadoc; setting it on
     * another policy is an error at {@link #build()}.
     */
    public static final class Builder {
        private final String name;
        private Integer tableSize;
        private Integer balanceFactor;
        private Integer choiceCount;
        private Double activeRequestBias;
        private Duration decay;
        private Duration defaultRtt;
        private Long seed;

        private Builder(String name) {
            this.name = name;
        }

        /** maglev: lookup table size, a prime (default 65537). */
        public Builder tableSize(int tableSize) { this.tableSize = tableSize; return this; }

        /**
         * Bounded loads (HAProxy {@code hash-balance-factor}, percent, 0 = off, else ≥ 100) for
         * consistent-hash, maglev, jump and rendezvous: no endpoint takes more than
         * {@code ceil(factor/100 × average)} requests in flight.
         */
        public Builder balanceFactor(int factor) { this.balanceFactor = factor; return this; }

        /** least-request, peak-ewma: how many random candidates to compare (2..10, default 2). */
        public Builder choiceCount(int count) { this.choiceCount = count; return this; }

        /** least-request: Envoy's active request bias (default 1.0). */
        public Builder activeRequestBias(double bias) { this.activeRequestBias = bias; return this; }

        /** peak-ewma: decay time constant (default 10 s). */
        public Builder decay(Duration decay) { this.decay = decay; return this; }

        /** peak-ewma: cost assumed before the first measurement (default 10 ms). */
        public Builder defaultRtt(Duration rtt) { this.defaultRtt = rtt; return this; }

        /**
         * random, random-two, least-request, peak-ewma: seed for reproducible simulations. Each
         * thread then draws the same sequence; without a seed, {@code ThreadLocalRandom} is used.
         */
        public Builder seed(long seed) { this.seed = seed; return this; }

        public BalancingPolicy build() {
            only(tableSize, "tableSize", "maglev");
            only(balanceFactor, "balanceFactor", "consistent-hash", "maglev", "jump", "rendezvous");
            only(choiceCount, "choiceCount", "least-request", "peak-ewma");
            only(activeRequestBias, "activeRequestBias", "least-request");
            only(decay, "decay", "peak-ewma");
            only(defaultRtt, "defaultRtt", "peak-ewma");
            only(seed, "seed", "random", "random-two", "least-request", "peak-ewma");
            int bf = balanceFactor == null ? 0 : balanceFactor;
            if (bf != 0 && bf < 100) {
                throw new IllegalArgumentException("balanceFactor must be 0 (off) or >= 100, got " + bf);
            }
            int choices = choiceCount == null ? 2 : choiceCount;
            if (choices < 2 || choices > 10) {
                throw new IllegalArgumentException("choiceCount must be 2..10, got " + choices);
            }
            double bias = activeRequestBias == null ? 1.0 : activeRequestBias;
            if (!(bias >= 0) || Double.isInfinite(bias)) {
                throw new IllegalArgumentException("activeRequestBias must be >= 0, got " + bias);
            }
            Rng rng = seed == null ? Rng.threadLocal() : Rng.seeded(seed);
            switch (name) {
                case "round-robin": return new RoundRobinPolicy();
                case "least-conn": return new LeastConnPolicy(false);
                case "least-time": return new LeastConnPolicy(true);
                case "ip-hash": return new IpHashPolicy();
                case "hash": return new HashPolicy();
                case "consistent-hash": return new KetamaPolicy(bf);
                case "random": return new RandomPolicy(rng, false);
                case "random-two": return new RandomPolicy(rng, true);
                case "least-request": return new LeastRequestPolicy(rng, choices, bias);
                case "peak-ewma": {
                    Duration d = decay == null ? Duration.ofSeconds(10) : decay;
                    Duration r = defaultRtt == null ? Duration.ofMillis(10) : defaultRtt;
                    if (d.isNegative() || d.isZero()) {
                        throw new IllegalArgumentException("decay must be > 0, got " + d);
                    }
                    if (r.isNegative()) {
                        throw new IllegalArgumentException("defaultRtt must be >= 0, got " + r);
                    }
                    return new PeakEwmaPolicy(rng, choices, d.toNanos(), r.toNanos());
                }
                case "maglev": {
                    int m = tableSize == null ? DEFAULT_MAGLEV_TABLE_SIZE : tableSize;
                    if (m < 3 || !isPrime(m)) {
                        throw new IllegalArgumentException("tableSize must be a prime >= 3, got " + m);
                    }
                    return new MaglevPolicy(m, bf);
                }
                case "jump": return new JumpPolicy(bf);
                case "rendezvous": return new RendezvousPolicy(bf);
                case "first": return new FirstPolicy();
                default: throw new AssertionError(name);
            }
        }

        private void only(Object value, String field, String... policies) {
            if (value != null && !List.of(policies).contains(name)) {
                throw new IllegalArgumentException(
                        field + " does not apply to policy '" + name + "' (only to " + List.of(policies) + ")");
            }
        }
    }

    static boolean isPrime(int m) {
        if (m < 2) {
            return false;
        }
        if (m % 2 == 0) {
            return m == 2;
        }
        for (int d = 3; (long) d * d <= m; d += 2) {
            if (m % d == 0) {
                return false;
            }
        }
        return true;
    }
}

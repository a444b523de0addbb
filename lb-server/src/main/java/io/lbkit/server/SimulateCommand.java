package io.lbkit.server;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.IpAddresses;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code simulate}: runs picks through an lb-core {@link Upstream} and prints the endpoint of each
 * pick, or a summary table (and, with {@code --remove}, how many keys move).
 */
final class SimulateCommand {

    static final String USAGE = "usage: java -jar lb-server.jar simulate --algorithm NAME --endpoint ID[=WEIGHT]..."
            + " (--requests N | --keys FILE) [--remove ID] [--balance-factor F] [--table-size M] [--seed S]"
            + " [--summary]";

    /** Policies that map a key (or client address) to an endpoint. */
    static final Set<String> HASH_POLICIES = Set.of("ip-hash", "hash", "consistent-hash", "maglev", "jump",
            "rendezvous");

    /** Which policy options apply where (mirrors {@link BalancingPolicy.Builder#build()}). */
    private static final Map<String, List<String>> APPLIES = Map.of(
            "--table-size", List.of("maglev"),
            "--balance-factor", List.of("consistent-hash", "maglev", "jump", "rendezvous"),
            "--seed", List.of("random", "random-two", "least-request", "peak-ewma"));

    /** Policies that weigh requests in flight or latency, which a sequential simulation never has. */
    private static final Set<String> LOAD_AWARE = Set.of("least-conn", "least-time", "random-two",
            "least-request", "peak-ewma");

    private static final Set<String> VALUED = Set.of("--algorithm", "--endpoint", "--requests", "--keys",
            "--remove", "--balance-factor", "--table-size", "--seed");
    private static final Set<String> REPEATABLE = Set.of("--endpoint");
    private static final Set<String> BOOLEANS = Set.of("--summary");

    private static final Pattern DECIMAL_LONG = Pattern.compile("[+-]?[0-9]{1,19}");

    private final String policyName;
    private final BalancingPolicy policy;
    private final List<Endpoint> endpoints;
    private final long requests;      // -1 with --keys
    private final KeysFile keys;      // null with --requests
    private final String remove;      // null without --remove
    private final boolean summary;
    private final boolean hashPolicy;

    private SimulateCommand(String policyName, BalancingPolicy policy, List<Endpoint> endpoints, long requests,
                            KeysFile keys, String remove, boolean summary) {
        this.policyName = policyName;
        this.policy = policy;
        this.endpoints = endpoints;
        this.requests = requests;
        this.keys = keys;
        this.remove = remove;
        this.summary = summary;
        this.hashPolicy = HASH_POLICIES.contains(policyName);
    }

    static int run(String[] args, PrintStream out) throws UsageException {
        return parse(args).execute(out);
    }

    static SimulateCommand parse(String[] args) throws UsageException {
        Args a = Args.parse(args, 1, USAGE, VALUED, REPEATABLE, BOOLEANS);

        String algorithm = a.get("--algorithm");
        if (algorithm == null) {
            throw new UsageException(USAGE, "missing --algorithm NAME (one of "
                    + String.join(", ", BalancingPolicy.NAMES) + ")");
        }
        String name = algorithm.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (!BalancingPolicy.NAMES.contains(name)) {
            throw new UsageException(USAGE, "unknown algorithm '" + algorithm + "' (one of "
                    + String.join(", ", BalancingPolicy.NAMES) + ")");
        }

        BalancingPolicy.Builder pb = BalancingPolicy.builder(name);
        for (Map.Entry<String, List<String>> e : APPLIES.entrySet()) {
            if (a.has(e.getKey()) && !e.getValue().contains(name)) {
                throw new UsageException(USAGE, e.getKey() + " does not apply to " + name + " (only to "
                        + String.join(", ", e.getValue()) + ")");
            }
        }
        if (a.has("--table-size")) {
            pb.tableSize(Args.parseInt(USAGE, "--table-size", a.get("--table-size"), 1));
        }
        if (a.has("--balance-factor")) {
            pb.balanceFactor(Args.parseInt(USAGE, "--balance-factor", a.get("--balance-factor"), 0));
        }
        if (a.has("--seed")) {
            pb.seed(Args.parseLong(USAGE, "--seed", a.get("--seed"), Long.MIN_VALUE));
        }
        BalancingPolicy policy;
        try {
            policy = pb.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(USAGE, "bad policy option: " + e.getMessage());
        }

        List<Endpoint> endpoints = parseEndpoints(a.all("--endpoint"));

        boolean hasRequests = a.has("--requests");
        boolean hasKeys = a.has("--keys");
        if (hasRequests && hasKeys) {
            throw new UsageException(USAGE, "give either --requests or --keys, not both");
        }
        if (!hasRequests && !hasKeys) {
            throw new UsageException(USAGE, "missing --requests N or --keys FILE");
        }
        long requests = hasRequests ? Args.parseLong(USAGE, "--requests", a.get("--requests"), 1) : -1;

        boolean summary = a.has("--summary");
        String remove = a.get("--remove");
        if (remove != null) {
            if (!HASH_POLICIES.contains(name)) {
                throw new UsageException(USAGE, "--remove does not apply to " + name
                        + ": it reports keys that move, so it needs a hashing policy ("
                        + String.join(", ", sortedHashPolicies()) + ")");
            }
            if (!summary) {
                throw new UsageException(USAGE, "--remove needs --summary (it reports how many keys move)");
            }
            boolean known = endpoints.stream().anyMatch(e -> e.id().equals(remove));
            if (!known) {
                throw new UsageException(USAGE, "--remove " + remove + ": no such endpoint (endpoints: "
                        + String.join(", ", endpoints.stream().map(Endpoint::id).toList()) + ")");
            }
            if (endpoints.size() == 1) {
                throw new UsageException(USAGE, "--remove " + remove + ": it is the only endpoint");
            }
        }

        // Read and validate the keys before printing anything.
        KeysFile keys = null;
        if (hasKeys) {
            keys = KeysFile.read(USAGE, a.get("--keys"));
            if (name.equals("ip-hash")) {
                for (int i = 0; i < keys.lines(); i++) {
                    if (IpAddresses.parse(keys.text(i)) == null) {
                        throw new UsageException(USAGE, "keys file '" + keys.name + "' line " + (i + 1) + ": '"
                                + printable(keys.text(i)) + "' is not an IP address literal"
                                + " (ip-hash reads client addresses; names are not resolved)");
                    }
                }
            }
        }
        return new SimulateCommand(name, policy, endpoints, requests, keys, remove, summary);
    }

    private static List<String> sortedHashPolicies() {
        List<String> l = new ArrayList<>();
        for (String n : BalancingPolicy.NAMES) {
            if (HASH_POLICIES.contains(n)) {
                l.add(n);
            }
        }
        return l;
    }

    static List<Endpoint> parseEndpoints(List<String> specs) throws UsageException {
        if (specs.isEmpty()) {
            throw new UsageException(USAGE, "missing --endpoint ID[=WEIGHT] (give at least one)");
        }
        List<Endpoint> list = new ArrayList<>();
        Map<String, Boolean> seen = new HashMap<>();
        for (String arg : specs) {
            for (String spec : arg.split(",", -1)) {
                String s = spec.trim();
                if (s.isEmpty()) {
                    throw new UsageException(USAGE, "empty endpoint in --endpoint '" + arg + "'");
                }
                String id = s;
                int weight = 1;
                int eq = s.lastIndexOf('=');
                if (eq >= 0) {
                    id = s.substring(0, eq).trim();
                    String w = s.substring(eq + 1).trim();
                    if (id.isEmpty()) {
                        throw new UsageException(USAGE, "empty endpoint id in --endpoint '" + s + "'");
                    }
                    if (!w.matches("[0-9]{1,9}") || Integer.parseInt(w) < 1) {
                        throw new UsageException(USAGE, "bad weight in --endpoint '" + s
                                + "': expected an integer >= 1, got '" + w + "'");
                    }
                    weight = Integer.parseInt(w);
                }
                if (seen.put(id, Boolean.TRUE) != null) {
                    throw new UsageException(USAGE, "duplicate endpoint '" + id + "'");
                }
                Endpoint e;
                try {
                    e = Endpoint.parseBuilder(id).weight(weight).build();
                } catch (IllegalArgumentException notHostPort) {
                    try {
                        // not host:port (e.g. "a:b"): a plain name is fine, the id is what is hashed
                        e = Endpoint.builder(id).weight(weight).build();
                    } catch (IllegalArgumentException bad) {
                        throw new UsageException(USAGE, "bad --endpoint '" + s + "': " + bad.getMessage());
                    }
                }
                list.add(e);
            }
        }
        return list;
    }

    // ------------------------------------------------------------------ running

    private Upstream upstream(List<Endpoint> members) {
        return Upstream.builder("simulate").policy(policy).endpoints(members).build();
    }

    /** How many picks this run makes. */
    private long count() {
        return keys != null ? keys.lines() : requests;
    }

    /** Loads pick {@code i}'s key (or client address) into {@code req}. */
    private void load(PickRequest req, long i) {
        req.reset();
        if (keys != null) {
            int line = (int) i;
            if (policyName.equals("ip-hash")) {
                req.clientAddress(IpAddresses.parse(keys.text(line)));
            } else if (policyName.equals("jump") && isDecimalLong(keys, line)) {
                req.hashKey(Long.parseLong(keys.text(line)));
            } else {
                req.hashKey(keys.data, keys.start(line), keys.length(line));
            }
        } else if (hashPolicy) {
            if (policyName.equals("ip-hash")) {
                req.clientAddress(generatedAddress(i));
            } else {
                req.hashKey("key-" + i);
            }
        }
    }

    /** The i-th generated ip-hash client: 10.0.0.1, 10.0.1.1, 10.0.2.1, … (one per /24). */
    static byte[] generatedAddress(long i) {
        int a = (int) (0x0A000001L + i * 256);
        return new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a};
    }

    private static boolean isDecimalLong(KeysFile keys, int line) {
        int len = keys.length(line);
        if (len == 0 || len > 20) {
            return false;
        }
        String t = keys.text(line);
        if (!DECIMAL_LONG.matcher(t).matches()) {
            return false;
        }
        try {
            Long.parseLong(t);
            return true;
        } catch (NumberFormatException overflow) {
            return false;
        }
    }

    private int execute(PrintStream out) {
        Upstream up = upstream(endpoints);
        PickRequest req = PickRequest.create();
        long n = count();
        if (!summary) {
            for (long i = 0; i < n; i++) {
                load(req, i);
                Selection s = up.pick(req);
                out.println(s.found() ? s.endpoint().id() : "-");
                s.complete(200, 0L);
            }
            return 0;
        }

        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < endpoints.size(); i++) {
            index.put(endpoints.get(i).id(), i);
        }
        long[] picks = new long[endpoints.size()];
        long none = 0;

        List<Endpoint> reduced = null;
        Upstream after = null;
        long[] picksAfter = null;
        long noneAfter = 0;
        long onRemoved = 0;
        long moved = 0;
        long movedElsewhere = 0;
        Map<String, Integer> reducedIndex = new LinkedHashMap<>();
        if (remove != null) {
            reduced = new ArrayList<>();
            for (Endpoint e : endpoints) {
                if (!e.id().equals(remove)) {
                    reducedIndex.put(e.id(), reduced.size());
                    reduced.add(e);
                }
            }
            after = upstream(reduced);
            picksAfter = new long[reduced.size()];
        }

        for (long i = 0; i < n; i++) {
            load(req, i);
            Selection s = up.pick(req);
            String before = null;
            if (s.found()) {
                before = s.endpoint().id();
                picks[index.get(before)]++;
            } else {
                none++;
            }
            s.complete(200, 0L);
            if (after != null) {
                Selection t = after.pick(req);
                String now = null;
                if (t.found()) {
                    now = t.endpoint().id();
                    picksAfter[reducedIndex.get(now)]++;
                } else {
                    noneAfter++;
                }
                t.complete(200, 0L);
                boolean wasOnRemoved = remove.equals(before);
                if (wasOnRemoved) {
                    onRemoved++;
                }
                if (before == null ? now != null : !before.equals(now)) {
                    moved++;
                    if (!wasOnRemoved) {
                        movedElsewhere++;
                    }
                }
            }
        }

        out.println(header(n));
        printTable(out, endpoints, picks, none, n);
        for (String note : notes()) {
            out.println(note);
        }
        if (after != null) {
            out.println();
            out.println("after removing " + remove + ":");
            printTable(out, reduced, picksAfter, noneAfter, n);
            out.println();
            String[] labels = {"keys moved:", "  that were on " + remove + ":", "  that were on other endpoints:"};
            int lw = 0;
            for (String l : labels) {
                lw = Math.max(lw, l.length());
            }
            String f = "%-" + lw + "s %" + Long.toString(n).length() + "d";
            out.println(String.format(Locale.ROOT, f + " of %d (%s)", labels[0], moved, n, percent(moved, n)));
            out.println(String.format(Locale.ROOT, f + " (%s; they had to move)", labels[1], onRemoved,
                    percent(onRemoved, n)));
            out.println(String.format(Locale.ROOT, f + " (%s)%s", labels[2], movedElsewhere,
                    percent(movedElsewhere, n), movedElsewhere == 0 ? "; no key moved that did not have to" : ""));
            if (policyName.equals("jump") && !endpoints.get(endpoints.size() - 1).id().equals(remove)) {
                out.println("note: jump numbers buckets by position: removing a bucket other than the last"
                        + " renumbers the ones after it, so their keys move too (remove the last bucket to"
                        + " see jump's minimal movement)");
            }
        }
        return 0;
    }

    private String header(long n) {
        StringBuilder sb = new StringBuilder("simulate ").append(policy.name()).append(": ")
                .append(endpoints.size()).append(endpoints.size() == 1 ? " endpoint, " : " endpoints, ");
        if (keys != null) {
            sb.append(n).append(n == 1 ? " key" : " keys").append(" from ").append(keys.name);
        } else {
            sb.append(n).append(n == 1 ? " request" : " requests");
            if (policyName.equals("ip-hash")) {
                sb.append(" from clients 10.0.0.1, 10.0.1.1, 10.0.2.1, ... (one per /24)");
            } else if (hashPolicy) {
                sb.append(n == 1 ? " with key key-0" : " with keys key-0 .. key-" + (n - 1));
            }
        }
        return sb.toString();
    }

    private List<String> notes() {
        List<String> notes = new ArrayList<>();
        if (policyName.equals("jump") && endpoints.stream().anyMatch(e -> e.weight() != 1)) {
            notes.add("note: jump ignores weights; every bucket expects 1/n of the keys");
        }
        if (policyName.equals("first")) {
            notes.add("note: first fills endpoints in order; each request completes before the next, so the"
                    + " first endpoint takes them all");
        }
        if (LOAD_AWARE.contains(policyName)) {
            notes.add("note: each request completes before the next is picked, so none is ever in flight; "
                    + policyName + " then decides by weight and ties alone, and shares may differ from"
                    + " weight/total");
        }
        if (!hashPolicy && keys != null) {
            notes.add("note: " + policyName + " does not hash keys; each line is one request");
        }
        return notes;
    }

    /** The share of picks each endpoint should get, as a fraction. */
    private double[] expected(List<Endpoint> members) {
        double[] exp = new double[members.size()];
        if (policyName.equals("jump")) {
            java.util.Arrays.fill(exp, 1.0 / members.size());
        } else if (policyName.equals("first")) {
            exp[0] = 1.0;
        } else {
            long total = 0;
            for (Endpoint e : members) {
                total += e.weight();
            }
            for (int i = 0; i < exp.length; i++) {
                exp[i] = (double) members.get(i).weight() / total;
            }
        }
        return exp;
    }

    private void printTable(PrintStream out, List<Endpoint> members, long[] picks, long none, long n) {
        double[] exp = expected(members);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"endpoint", "weight", "picks", "share", "expected"});
        long totalWeight = 0;
        for (int i = 0; i < members.size(); i++) {
            Endpoint e = members.get(i);
            totalWeight += e.weight();
            rows.add(new String[] {e.id(), Integer.toString(e.weight()), Long.toString(picks[i]),
                    percent(picks[i], n), percent(exp[i])});
        }
        if (none > 0) {
            rows.add(new String[] {"(no endpoint)", "", Long.toString(none), percent(none, n), ""});
        }
        rows.add(new String[] {"total", Long.toString(totalWeight), Long.toString(n),
                percent(n == 0 ? 0 : n, n), percent(1.0)});
        int[] width = new int[5];
        for (String[] r : rows) {
            for (int c = 0; c < 5; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            sb.append(r[0]).append(" ".repeat(width[0] - r[0].length()));
            for (int c = 1; c < 5; c++) {
                sb.append("  ").append(" ".repeat(width[c] - r[c].length())).append(r[c]);
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    static String percent(long part, long whole) {
        return whole == 0 ? "-" : percent((double) part / whole);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", fraction * 100);
    }

    /** Control characters replaced, and long lines shortened, for one-line error messages. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 60; i++) {
            char c = s.charAt(i);
            sb.append(Character.isISOControl(c) ? '?' : c);
        }
        if (sb.length() < s.length()) {
            sb.append("...");
        }
        return sb.toString();
    }
}

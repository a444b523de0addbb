#!/usr/bin/env python3
"""Turns JMH JSON results (-rf json) into the markdown tables of docs/benchmarks.md.

usage: tables.py results-t1.json [results-t2.json ...]
A result for the same benchmark, parameters and threads in a later file replaces an earlier one.
Ratios are given with the range their 99.9 % error bars allow, (low-high), so that a verdict near
a threshold can be read as certain or not.
"""
import json
import sys
from collections import OrderedDict

POLICIES = ["round-robin", "least-conn", "ip-hash", "hash", "consistent-hash", "random", "random-two",
            "least-request", "peak-ewma", "least-time", "maglev", "jump", "rendezvous", "first"]
SIZES = ["3", "100", "1000"]
PEERS = OrderedDict([
    ("dubboRoundRobin", "Dubbo RoundRobin"),
    ("dubboRandom", "Dubbo Random"),
    ("dubboLeastActive", "Dubbo LeastActive (+ RpcStatus begin/end)"),
    ("dubboShortestResponse", "Dubbo ShortestResponse (+ RpcStatus begin/end)"),
    ("dubboConsistentHash", "Dubbo ConsistentHash"),
    ("guavaConsistentHash", "Guava consistentHash + array read"),
    ("floorAtomicIndex", "floor: shared AtomicInteger % n"),
    ("floorThreadLocalRandom", "floor: ThreadLocalRandom.nextInt(n)"),
])
JUMP = OrderedDict([
    ("lbkitJumpFunction", "lbkit `JumpPolicy.jump(long, n)` (function only)"),
    ("guavaJumpFunction", "Guava `Hashing.consistentHash(long, n)` (function only)"),
    ("lbkitJumpArray", "lbkit `JumpPolicy.jump(long, n)` + array read"),
    ("lbkitJump", "lbkit jump, `hashKey(long)` + pick + complete"),
    ("guavaConsistentHash", "Guava `consistentHash(long, n)` + array read"),
    ("lbkitJumpByteKey", "lbkit jump, `hashKey(byte[8])` + pick + complete"),
    ("lbkitSetLongKeyOnly", "`PickRequest.hashKey(long)` alone"),
])
BLOCKS = OrderedDict([
    ("inFlightIncrementDecrement", "two atomic adds on one padded `int` (exact counter: pick + complete of load-aware policies)"),
    ("longAdderIncrementDecrement", "`LongAdder` increment + decrement, uncontended (striped counter of the other policies)"),
    ("systemNanoTime", "`System.nanoTime()`"),
    ("lbkitHash64", "lb-core `Hashing.hash64` over a ~15-byte key (8 bytes per step)"),
    ("crc32Jdk", "`java.util.zip.CRC32` over the same keys (`PickRequest.keyCrc32`)"),
    ("lbkitCrc32Table", "lb-core `Hashing.crc32`, table, byte by byte, same keys"),
    ("tlrNextInt", "`ThreadLocalRandom.nextInt(1000)`"),
    ("tlrNextLong", "`ThreadLocalRandom.nextLong()`"),
])
DUBBO_PAIRS = [
    ("dubboRoundRobin", "RoundRobin", [("round-robin", "round-robin")]),
    ("dubboRandom", "Random", [("random", "random")]),
    ("dubboLeastActive", "LeastActive", [("least-conn", "least-conn (same idea: full scan for the fewest active)"),
                                         ("least-request", "least-request (power of two choices)")]),
    ("dubboShortestResponse", "ShortestResponse", [("least-time", "least-time (same idea: full scan, response time × active)"),
                                                   ("peak-ewma", "peak-ewma (power of two choices)")]),
    ("dubboConsistentHash", "ConsistentHash", [("consistent-hash", "consistent-hash (ketama ring)"),
                                               ("maglev", "maglev"), ("jump", "jump")]),
]


def load(paths):
    rows = OrderedDict()
    for p in paths:
        with open(p) as f:
            for r in json.load(f):
                cls, method, params, t = key(r)
                rows[(cls, method, tuple(sorted(params.items())), t)] = r
    return list(rows.values())


def key(r):
    name = r["benchmark"].rsplit(".", 2)
    cls, method = name[-2], name[-1]
    params = r.get("params", {})
    return cls, method, params, r["threads"]


def ns(r):
    m = r["primaryMetric"]
    return m["score"], m["scoreError"]


def alloc(r):
    m = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
    return None if m is None else m["score"]


def fmt_ns(s):
    if s >= 100:
        return "%.0f" % s
    return "%.1f" % s


def fmt_b(b):
    if b is None:
        return "?"
    if b < 0.5:
        return "0"
    return "%.0f" % b


def cell(r):
    if r is None:
        return ""
    return "%s ns / %s B" % (fmt_ns(ns(r)[0]), fmt_b(alloc(r)))


def cell_err(r):
    if r is None:
        return ""
    s, e = ns(r)
    return "%s ± %s" % (fmt_ns(s), fmt_ns(e))


def ratio(a, b):
    """a/b as 'x.xx× (lo–hi)' from the error bars."""
    sa, ea = ns(a)
    sb, eb = ns(b)
    r = sa / sb
    lo = max(sa - ea, 0) / (sb + eb)
    hi = (sa + ea) / (sb - eb) if sb - eb > 0 else float("inf")
    return r, lo, hi


def fmt_ratio(t, digits=2):
    r, lo, hi = t
    f = "%%.%df" % digits
    return (f + "× (" + f + "–" + f + ")") % (r, lo, hi)


def fmt_big(t):
    r, lo, hi = t
    if r >= 10:
        return "%.0f× (%.0f–%.0f)" % (r, lo, hi)
    return "%.1f× (%.1f–%.1f)" % (r, lo, hi)


def main():
    rows = load(sys.argv[1:])
    pick, peers, jump, blocks = {}, {}, {}, {}
    threads_seen = set()
    for r in rows:
        cls, method, params, t = key(r)
        threads_seen.add(t)
        if cls == "PickBenchmark":
            pick[(params["policy"], params["endpoints"], params.get("weights", "mixed"), t)] = r
        elif cls == "PeerBenchmark":
            peers[(method, params["endpoints"], t)] = r
        elif cls == "JumpBenchmark":
            jump[(method, params["endpoints"], t)] = r
        elif cls == "BuildingBlocksBenchmark":
            blocks[(method, t)] = r
    threads = sorted(threads_seen)
    cols = [(t, n) for t in threads for n in SIZES
            if any(k[1] == n and k[3] == t for k in pick) or any(k[1] == n and k[2] == t for k in peers)]
    head = "| %s | " + " | ".join("%s ep, %dT" % (n, t) for t, n in cols) + " |"
    rule = "|---|" + "---:|" * len(cols)

    if pick:
        print("### lbkit pick + complete (mixed weights): ns/op and B/op\n")
        print(head % "policy")
        print(rule)
        for p in POLICIES:
            print("| %s | %s |" % (p, " | ".join(cell(pick.get((p, n, "mixed", t))) for t, n in cols)))
        print()
        print("Same, score ± 99.9 % error (ns/op):\n")
        print(head % "policy")
        print(rule)
        for p in POLICIES:
            print("| %s | %s |" % (p, " | ".join(cell_err(pick.get((p, n, "mixed", t))) for t, n in cols)))
        print()

        if 1 in threads and 2 in threads:
            print("### 2 threads against 1 thread, per operation (range from the error bars)\n")
            sizes = [n for n in SIZES if any(k[1] == n and k[3] == 2 for k in pick)]
            print("| policy | " + " | ".join("%s ep" % n for n in sizes) + " |")
            print("|---|" + "---:|" * len(sizes))
            for p in POLICIES:
                cells = []
                for n in sizes:
                    a, b = pick.get((p, n, "mixed", 2)), pick.get((p, n, "mixed", 1))
                    if a is None or b is None:
                        cells.append("")
                        continue
                    t = ratio(a, b)
                    s = fmt_ratio(t)
                    cells.append("**%s**" % s if t[0] > 2 else s)
                print("| %s | %s |" % (p, " | ".join(cells)))
            for m in ("floorAtomicIndex", "floorThreadLocalRandom"):
                cells = []
                for n in sizes:
                    a, b = peers.get((m, n, 2)), peers.get((m, n, 1))
                    cells.append("" if a is None or b is None else "*%s*" % fmt_ratio(ratio(a, b)))
                print("| *%s* | %s |" % (PEERS[m], " | ".join(cells)))
            print()

    eq = {k: v for k, v in pick.items() if k[2] == "equal"}
    if eq:
        print("### lbkit pick + complete (equal weights): ns/op, B/op\n")
        print("| policy | endpoints | threads | ns/op | B/op |")
        print("|---|---:|---:|---:|---:|")
        for k in sorted(eq, key=lambda k: (POLICIES.index(k[0]), int(k[1]), k[3])):
            r = eq[k]
            print("| %s | %s | %d | %s | %s |" % (k[0], k[1], k[3], cell_err(r), fmt_b(alloc(r))))
        print()

    if peers:
        print("### Peers: ns/op and B/op\n")
        print(head % "peer")
        print(rule)
        for m, label in PEERS.items():
            if any(k[0] == m for k in peers):
                print("| %s | %s |" % (label, " | ".join(cell(peers.get((m, n, t))) for t, n in cols)))
        print()
        print("Same, score ± 99.9 % error (ns/op):\n")
        print(head % "peer")
        print(rule)
        for m, label in PEERS.items():
            if any(k[0] == m for k in peers):
                print("| %s | %s |" % (label, " | ".join(cell_err(peers.get((m, n, t))) for t, n in cols)))
        print()

        if pick:
            print("### lbkit against its Dubbo counterpart, 100 endpoints (Dubbo ns/op ÷ lbkit ns/op)\n")
            print("| Dubbo | ns/op, 1T | lbkit counterpart | ns/op, 1T | lbkit faster by, 1T | lbkit faster by, 2T |")
            print("|---|---:|---|---:|---:|---:|")
            for m, dname, mates in DUBBO_PAIRS:
                d1 = peers.get((m, "100", 1))
                d2 = peers.get((m, "100", 2))
                for i, (p, label) in enumerate(mates):
                    l1 = pick.get((p, "100", "mixed", 1))
                    l2 = pick.get((p, "100", "mixed", 2))
                    print("| %s | %s | %s | %s | %s | %s |" % (
                        dname if i == 0 else "", fmt_ns(ns(d1)[0]) if (d1 and i == 0) else "", label,
                        fmt_ns(ns(l1)[0]) if l1 else "",
                        fmt_big(ratio(d1, l1)) if d1 and l1 else "",
                        fmt_big(ratio(d2, l2)) if d2 and l2 else ""))
            print()

    if jump:
        print("### Jump against Guava: ns/op and B/op\n")
        print(head % "benchmark")
        print(rule)
        for m, label in JUMP.items():
            print("| %s | %s |" % (label, " | ".join(cell(jump.get((m, n, t))) for t, n in cols)))
        print()
        print("Same, score ± 99.9 % error (ns/op):\n")
        print(head % "benchmark")
        print(rule)
        for m, label in JUMP.items():
            print("| %s | %s |" % (label, " | ".join(cell_err(jump.get((m, n, t))) for t, n in cols)))
        print()
        print("Ratios lbkit ÷ Guava (range from the error bars; target ≤ 1.2×):\n")
        print(head % "comparison")
        print(rule)
        for a, b, label in [("lbkitJumpFunction", "guavaJumpFunction", "function only: `JumpPolicy.jump` ÷ `consistentHash`"),
                            ("lbkitJumpArray", "guavaConsistentHash", "function + array read: `JumpPolicy.jump` ÷ `consistentHash`"),
                            ("lbkitJump", "guavaConsistentHash", "`hashKey(long)` + pick + complete ÷ `consistentHash` + array read"),
                            ("lbkitJumpByteKey", "guavaConsistentHash", "`hashKey(byte[8])` + pick + complete ÷ `consistentHash` + array read")]:
            cells = []
            for t, n in cols:
                ra, rb = jump.get((a, n, t)), jump.get((b, n, t))
                cells.append("" if ra is None or rb is None else fmt_ratio(ratio(ra, rb)))
            print("| %s | %s |" % (label, " | ".join(cells)))
        print()

    if blocks:
        print("### Building blocks (1 thread, throughput of independent repetitions)\n")
        print("| step | ns/op |")
        print("|---|---:|")
        for m, label in BLOCKS.items():
            r = blocks.get((m, 1))
            if r is not None:
                print("| %s | %s |" % (label, cell_err(r)))
        for (m, t), r in blocks.items():
            if m not in BLOCKS:
                print("| %s | %s |" % (m, cell_err(r)))
        print()

    if "--raw" in sys.argv:
        pass


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    raw = "--raw" in sys.argv
    sys.argv = [sys.argv[0]] + args
    main()
    if raw:
        print("### Raw (score ± 99.9% error)\n")
        print("| benchmark | params | threads | ns/op | ± | B/op |")
        print("|---|---|---:|---:|---:|---:|")
        for r in load(args):
            cls, method, params, t = key(r)
            s, e = ns(r)
            print("| %s.%s | %s | %d | %.2f | %.2f | %s |" % (
                cls, method, ",".join("%s=%s" % kv for kv in params.items()), t, s, e,
                "%.2f" % alloc(r) if alloc(r) is not None else "?"))

#!/usr/bin/env python3
"""Turns JMH JSON results (-rf json) into the markdown tables of docs/benchmarks.md.

usage: tables.py results-t1.json [results-t2.json ...]
A result for the same benchmark, parameters and threads in a later file replaces an earlier one.
"""
import json
import sys
from collections import OrderedDict

POLICIES = ["round-robin", "least-conn", "ip-hash", "hash", "consistent-hash", "random", "random-two",
            "least-request", "peak-ewma", "least-time", "maglev", "jump", "rendezvous", "first"]
SIZES = ["3", "100", "1000"]


def load(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            for r in json.load(f):
                rows.append(r)
    return rows


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


def fmt_ns(v):
    s, e = v
    if s >= 1000:
        return "%.0f" % s
    if s >= 100:
        return "%.0f" % s
    return "%.1f" % s


def fmt_b(b):
    if b is None:
        return "?"
    if b < 0.5:
        return "0"
    return "%.0f" % b


def main():
    rows = load(sys.argv[1:])
    pick = {}
    peers = {}
    jump = {}
    blocks = {}
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

    print("### lbkit pick + complete (mixed weights): ns/op, B/op\n")
    print("| policy | " + " | ".join("%s ep, %dT" % (n, t) for t, n in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for p in POLICIES:
        cells = []
        for t, n in cols:
            r = pick.get((p, n, "mixed", t))
            cells.append("" if r is None else "%s ns / %s B" % (fmt_ns(ns(r)), fmt_b(alloc(r))))
        print("| %s | %s |" % (p, " | ".join(cells)))
    print()

    eq = {k: v for k, v in pick.items() if k[2] == "equal"}
    if eq:
        print("### lbkit pick + complete (equal weights): ns/op, B/op\n")
        print("| policy | endpoints | threads | ns/op | B/op |")
        print("|---|---:|---:|---:|---:|")
        for k in sorted(eq, key=lambda k: (POLICIES.index(k[0]), int(k[1]), k[3])):
            r = eq[k]
            print("| %s | %s | %d | %s ± %.1f | %s |" % (k[0], k[1], k[3], fmt_ns(ns(r)), ns(r)[1], fmt_b(alloc(r))))
        print()

    print("### Peers: ns/op, B/op\n")
    methods = list(OrderedDict.fromkeys(k[0] for k in sorted(peers)))
    order = ["dubboRoundRobin", "dubboRandom", "dubboLeastActive", "dubboShortestResponse",
             "dubboConsistentHash", "guavaConsistentHash", "floorAtomicIndex", "floorThreadLocalRandom"]
    methods = [m for m in order if m in methods] + [m for m in methods if m not in order]
    print("| peer | " + " | ".join("%s ep, %dT" % (n, t) for t, n in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for m in methods:
        cells = []
        for t, n in cols:
            r = peers.get((m, n, t))
            cells.append("" if r is None else "%s ns / %s B" % (fmt_ns(ns(r)), fmt_b(alloc(r))))
        print("| %s | %s |" % (m, " | ".join(cells)))
    print()

    print("### Jump: ns/op, B/op\n")
    jm = ["lbkitJump", "guavaConsistentHash", "lbkitJumpByteKey", "lbkitSetLongKeyOnly"]
    print("| benchmark | " + " | ".join("%s ep, %dT" % (n, t) for t, n in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for m in jm:
        cells = []
        for t, n in cols:
            r = jump.get((m, n, t))
            cells.append("" if r is None else "%s ns / %s B" % (fmt_ns(ns(r)), fmt_b(alloc(r))))
        print("| %s | %s |" % (m, " | ".join(cells)))
    print()

    if blocks:
        print("### Building blocks: ns/op (throughput of independent repetitions)\n")
        print("| step | ns/op |")
        print("|---|---:|")
        for (m, t), r in blocks.items():
            print("| %s | %.1f ± %.1f |" % (m, ns(r)[0], ns(r)[1]))
        print()

    print("### Raw (score ± 99.9% error)\n")
    print("| benchmark | params | threads | ns/op | ± | B/op |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        cls, method, params, t = key(r)
        s, e = ns(r)
        print("| %s.%s | %s | %d | %.2f | %.2f | %s |" % (
            cls, method, ",".join("%s=%s" % kv for kv in params.items()), t, s, e,
            "%.2f" % alloc(r) if alloc(r) is not None else "?"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Hot methods of a JFR recording (JDK 17's jfr tool has no 'view hot-methods').

usage: jfr-hot.py recording.jfr [top]
Prints the methods most often on top of the stack (self) and anywhere on it (total), from the
jdk.ExecutionSample events; line numbers are kept for the top frame so a hot loop is located.
"""
import collections
import json
import subprocess
import sys


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    out = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ExecutionSample", path],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(out)["recording"]["events"]
    self_c = collections.Counter()
    self_line = collections.Counter()
    total_c = collections.Counter()
    n = 0
    for e in events:
        frames = e["values"]["stackTrace"]["frames"] if e["values"].get("stackTrace") else []
        if not frames:
            continue
        # only the benchmark thread
        names = []
        for f in frames:
            m = f["method"]
            names.append(m["type"]["name"] + "." + m["name"])
        if not any("jmh_generated" in x for x in names):
            continue
        n += 1
        f0 = frames[0]
        self_c[names[0]] += 1
        self_line["%s:%s" % (names[0], f0.get("lineNumber"))] += 1
        for x in set(names):
            total_c[x] += 1
    print("samples: %d" % n)
    print("\n-- self (top of stack)")
    for k, v in self_c.most_common(top):
        print("%5.1f%%  %s" % (100.0 * v / n, k))
    print("\n-- self by line")
    for k, v in self_line.most_common(top):
        print("%5.1f%%  %s" % (100.0 * v / n, k))
    print("\n-- total (anywhere on the stack)")
    for k, v in total_c.most_common(top + 10):
        print("%5.1f%%  %s" % (100.0 * v / n, k))


if __name__ == "__main__":
    main()

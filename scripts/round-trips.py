#!/usr/bin/env python3
"""How many round trips a run took, from the request log of scripts/fault-proxy.py --log.

Usage: scripts/round-trips.py LOG [--from S] [--to S] [--chain] [--in-flight STEP]

A request "follows" another when it arrived after the other was answered. The depth of a request is
one more than the deepest request it follows; the run's depth is its number of round trips: behind a
fixed latency L, a run cannot take less than depth x L. With --chain, prints one longest chain
(operation, arrival, answer), i.e. the requests that were serial. --from/--to keep the requests that
arrived in that window (seconds, as in the log), e.g. one command of several.

Also prints busy_s, the sum of the requests' durations (each request's latency plus the emulator's
time to answer it), and mean_in_flight = busy_s / span_s: against a fixed latency L at parallelism P
the run cannot take less than requests x L / P, and with the emulator's own time it cannot take less
than busy_s / P; mean_in_flight below P is time the client left lanes idle. With --in-flight STEP,
prints per STEP seconds the mean requests in flight and the operations that arrived then.
Standard library only.
"""

import argparse
import bisect
import json
from collections import Counter, defaultdict


def load(path, start, end):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if start <= r["start"] <= end:
                out.append(r)
    return sorted(out, key=lambda r: r["start"])


def depths(reqs):
    """Per request (sorted by arrival): its depth and the request it follows in a longest chain."""
    by_end = sorted(range(len(reqs)), key=lambda i: reqs[i]["end"])
    ends = [reqs[i]["end"] for i in by_end]
    best = []  # best[k]: (depth, index) of the deepest request among by_end[:k+1]
    depth, parent = [0] * len(reqs), [None] * len(reqs)
    done = 0  # requests of by_end whose depth is known and included in best
    for i, r in enumerate(reqs):
        # Every request answered before r arrived arrived before it too, so its depth is known.
        k = bisect.bisect_right(ends, r["start"])
        while done < k:
            j = by_end[done]
            prev = best[-1] if best else (0, None)
            best.append(max(prev, (depth[j], j), key=lambda t: t[0]))
            done += 1
        before = best[k - 1] if k else (0, None)
        depth[i], parent[i] = before[0] + 1, before[1]
    return depth, parent


def in_flight(reqs, step):
    """Per interval of `step` seconds from the first arrival: mean requests in flight, arrivals by op."""
    t0 = reqs[0]["start"]
    busy, arrived = defaultdict(float), defaultdict(Counter)
    for r in reqs:
        arrived[int((r["start"] - t0) / step)][r["op"]] += 1
        a, b = r["start"] - t0, r["end"] - t0
        while a < b:
            i = int(a / step)
            cut = min(b, (i + 1) * step)
            busy[i] += cut - a
            a = cut
    for i in range(max(busy) + 1 if busy else 0):
        ops = ", ".join(f"{op} {n}" for op, n in arrived[i].most_common(4))
        print(f"  {i * step:8.2f} s  in flight {busy[i] / step:6.1f}  {ops}")


def main():
    ap = argparse.ArgumentParser(description="Round trips of a run, from a fault-proxy request log.")
    ap.add_argument("log")
    ap.add_argument("--from", dest="start", type=float, default=0.0)
    ap.add_argument("--to", dest="end", type=float, default=float("inf"))
    ap.add_argument("--chain", action="store_true", help="print one longest chain of serial requests")
    ap.add_argument("--in-flight", type=float, default=0.0, metavar="STEP",
                    help="print the mean requests in flight per STEP seconds")
    args = ap.parse_args()
    reqs = load(args.log, args.start, args.end)
    if not reqs:
        print("requests: 0")
        return
    depth, parent = depths(reqs)
    span = max(r["end"] for r in reqs) - reqs[0]["start"]
    print(f"requests: {len(reqs)}")
    print(f"span_s: {span:.2f}")
    print(f"round_trips: {max(depth)}")
    busy = sum(r["end"] - r["start"] for r in reqs)
    print(f"busy_s: {busy:.2f}")
    print(f"mean_in_flight: {busy / span:.2f}" if span > 0 else "mean_in_flight: 0")
    print("operations: " + ", ".join(f"{op} {n}" for op, n in Counter(r["op"] for r in reqs).most_common()))
    if args.chain:
        i = max(range(len(reqs)), key=lambda j: depth[j])
        chain = []
        while i is not None:
            chain.append(reqs[i])
            i = parent[i]
        for r in reversed(chain):
            print(f"  {r['start']:9.3f} {r['end']:9.3f}  {r['service']} {r['op']} {r['key']}")
    if args.in_flight > 0:
        in_flight(reqs, args.in_flight)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where each hand-over on a run's critical path goes, from an OPSCTL_TRACE_ENGINE trace.

Usage: engine-trace.py PLAN TRACE   (PLAN: `opsctl explain <runbook>` output; TRACE: the file
OPSCTL_TRACE_ENGINE named, one or more runs, each after a `# run <id>` line).

For every run: the critical path from the steps' start/end marks (the plan's needs; `always` steps
after every regular step), then for each hand-over A -> B on it the time between the marks
  end A -> returned A -> queued A -> drained A -> [handed B to a parked thread | launch B on a new
  thread] -> thread B -> start B
and, per segment, how much of it the thread involved spent waiting for a CPU (schedstat's run-queue
wait; for a segment that ends on another thread, that thread's wait since its last mark before the
segment began, or since it began). Medians over the runs are printed per segment.
"""
import re
import statistics
import sys
from collections import defaultdict

plan, trace = sys.argv[1], sys.argv[2]

steps, always = [], False
for line in open(plan):
    if re.match(r"^(level \d+|always )", line):
        always = line.startswith("always")
    m = re.match(r"^  (\S+) \[[^\]]+\](?: ← (.*?))?(?:  \{.*\})?$", line.rstrip("\n"))
    if m:
        steps.append({"id": m.group(1), "needs": [n.strip() for n in (m.group(2) or "").split(",") if n.strip()],
                      "always": always})
regular = [s["id"] for s in steps if not s["always"]]
deps = {s["id"]: (regular if s["always"] else s["needs"]) for s in steps}

runs, current = [], None
for line in open(trace):
    if line.startswith("# run"):
        current = []
        runs.append(current)
        continue
    ns, event, step, tid, rq = line.split()
    current.append((int(ns), event, step, int(tid), int(rq)))

segments = defaultdict(lambda: defaultdict(list))   # edge -> segment -> [(ms, rq ms or None)]
walls, crits, gaps = [], [], []
for events in runs:
    first = {}
    for e in events:
        first.setdefault((e[1], e[2]), e)
    start = {s: e[0] for (ev, s), e in first.items() if ev == "start"}
    end = {s: e[0] for (ev, s), e in first.items() if ev == "end"}
    ran = [s["id"] for s in steps if s["id"] in start and s["id"] in end]
    if not ran:
        continue
    # The chain the run really took: from the last step to end, back through the need that ended last.
    chain, i = [], max(ran, key=lambda s: end[s])
    while i:
        chain.append(i)
        before = [d for d in deps[i] if d in end and end[d] <= start[i]]
        i = max(before, key=lambda d: end[d]) if before else None
    chain.reverse()
    t0 = min(start.values())
    busy = sum(end[s] - start[s] for s in chain)
    walls.append((end[chain[-1]] - t0) / 1e6)
    gaps.append((end[chain[-1]] - start[chain[0]] - busy) / 1e6)
    for a, b in zip(chain, chain[1:]):
        names = [("end", a), ("returned", a), ("queued", a), ("drained", a), ("handed", b), ("launch", b), ("thread", b), ("start", b)]
        marks = []
        for ev, s in names:
            e = first.get((ev, s))
            if e and (not marks or e[0] >= marks[-1][1][0]):
                marks.append((f"{ev} {'A' if s == a else 'B'}", e))
        for (n1, e1), (n2, e2) in zip(marks, marks[1:]):
            if e1[3] == e2[3]:
                rq = (e2[4] - e1[4]) / 1e6
            else:   # the other thread's wait since its last mark before the segment began (a new thread: since it began)
                earlier = [e for e in events if e[3] == e2[3] and e[0] <= e1[0]]
                rq = (e2[4] - (earlier[-1][4] if earlier else 0)) / 1e6
            segments[f"{a} -> {b}"][f"{n1} -> {n2}"].append(((e2[0] - e1[0]) / 1e6, rq))

print(f"{len(walls)} traced runs: median critical chain wall {statistics.median(walls):.2f} ms, "
      f"of which between its steps {statistics.median(gaps):.3f} ms")
for edge, parts in segments.items():
    print(f"  {edge} ({max(len(v) for v in parts.values())} runs)")
    for seg, values in parts.items():
        ms = statistics.median(v[0] for v in values)
        rq = f"{statistics.median(v[1] for v in values):.3f}"
        print(f"    {seg:<28} median {ms:7.3f} ms  (waiting for a CPU {rq} ms)")

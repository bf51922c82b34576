#!/usr/bin/env python3
"""Writes pino-style JSON lines with known ground truth for `opsctl logs analyze`.

    loggen.py --bytes 1G --out /tmp/opsctl-logs-1g.jsonl --truth /tmp/opsctl-logs-1g.truth.json

The truth file holds what opsctl must answer exactly: counts per level, error rate,
counts per 1-minute window, counts per error fingerprint (messages with their variable
parts replaced the way opsctl's fingerprinter does), per route, and the nearest-rank
latency quantiles of `duration_ms`. Deterministic for a given --seed.
"""
import argparse
import json
import random
import sys
from collections import Counter

LEVELS = [(10, 2), (20, 8), (30, 70), (40, 12), (50, 7), (60, 1)]
LEVEL_NAMES = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}
ROUTES = ["/api/checkout", "/api/users", "/api/invoices", "/webhooks/stripe", "/healthz", "/api/search"]
JOBS = ["reconcile", "replay", "export", "billing", "cleanup", "notify", "sync", "import"]
STEPS = ["fetch", "transform", "persist", "publish"]

# (template, fingerprint): {email} {uuid} {ip} {num} {hex} {str} are filled at random.
ERROR_TEMPLATES = [
    ("payment failed for customer {email}: card declined (code {num})",
     "payment failed for customer <email>: card declined (code <num>)"),
    ("webhook {uuid} delivery failed after {num} attempts", "webhook <uuid> delivery failed after <num> attempts"),
    ("db timeout after {num}ms on query {str}", "db timeout after <num>ms on query <str>"),
    ("upstream {ip} returned {num}", "upstream <ip> returned <num>"),
    ("invoice {hex} not found", "invoice <hex> not found"),
    ("signature mismatch for event {uuid}", "signature mismatch for event <uuid>"),
    ("rate limited by provider, retry in {num}s", "rate limited by provider, retry in <num>s"),
]
for job in JOBS:
    for step in STEPS:
        ERROR_TEMPLATES.append((f"job {job} failed at step {step}: exit status {{num}}",
                                f"job {job} failed at step {step}: exit status <num>"))
FATAL_TEMPLATES = [
    ("out of memory in worker {num}", "out of memory in worker <num>"),
    ("cannot connect to database at {ip}:{num}", "cannot connect to database at <ip>:<num>"),
]
INFO_TEMPLATES = ["request completed", "GET /api/users/{num} 200", "cache hit for key {str}", "job {job} done",
                  "listening on port {num}", "health check ok"]


def parse_size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower()
    return int(float(t[:-1]) * units[t[-1]]) if t[-1] in units else int(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", help="approximate output size (e.g. 1G)")
    ap.add_argument("--lines", type=int)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=int, default=1_767_225_600_000, help="epoch ms of the first line")
    ap.add_argument("--step-ms", type=int, default=37)
    ap.add_argument("--out", required=True)
    ap.add_argument("--truth", required=True)
    a = ap.parse_args()
    limit_bytes = parse_size(a.bytes) if a.bytes else None
    limit_lines = a.lines if a.lines else (None if limit_bytes else 10_000)
    rnd = random.Random(a.seed)
    level_pool = [lv for lv, w in LEVELS for _ in range(w)]
    # Zipf-ish weights so the top 20 is well defined.
    error_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(ERROR_TEMPLATES))]

    def fill(tpl):
        out = tpl
        while "{" in out:
            i = out.index("{")
            j = out.index("}", i)
            kind = out[i + 1:j]
            if kind == "num":
                v = str(rnd.randint(1, 99999))
            elif kind == "email":
                v = f"user{rnd.randint(1, 9999)}@example.com"
            elif kind == "uuid":
                v = "%08x-%04x-%04x-%04x-%012x" % (rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(16),
                                                   rnd.getrandbits(16), rnd.getrandbits(48))
            elif kind == "ip":
                v = ".".join(str(rnd.randint(1, 254)) for _ in range(4))
            elif kind == "hex":
                v = "%08x" % rnd.getrandbits(32) + "a1"  # always holds a digit and a letter
            elif kind == "str":
                v = "'%s'" % rnd.choice(["select 1", "users by id", "pending invoices", "x"])
            elif kind == "job":
                v = rnd.choice(JOBS)
            else:
                raise ValueError(kind)
            out = out[:i] + v + out[j + 1:]
        return out

    levels, windows, fingerprints, routes, route_errors, durations = Counter(), Counter(), Counter(), Counter(), Counter(), Counter()
    written = 0
    n = 0
    with open(a.out, "w", buffering=1 << 22) as f:
        while True:
            if limit_lines is not None and n >= limit_lines:
                break
            if limit_bytes is not None and written >= limit_bytes:
                break
            lv = rnd.choice(level_pool)
            t = a.start + n * a.step_ms
            route = rnd.choice(ROUTES)
            dur = int(rnd.lognormvariate(4.0, 1.0)) + 1
            if lv == 50:
                tpl, fp = rnd.choices(ERROR_TEMPLATES, weights=error_weights)[0]
                msg = fill(tpl)
                fingerprints[fp] += 1
            elif lv == 60:
                tpl, fp = rnd.choice(FATAL_TEMPLATES)
                msg = fill(tpl)
                fingerprints[fp] += 1
            else:
                msg = fill(rnd.choice(INFO_TEMPLATES))
            line = ('{"level":%d,"time":%d,"pid":4242,"hostname":"api-1","reqId":"%08x","route":"%s",'
                    '"duration_ms":%d,"msg":"%s"}\n') % (lv, t, rnd.getrandbits(32), route, dur, msg)
            f.write(line)
            written += len(line)
            n += 1
            levels[LEVEL_NAMES[lv]] += 1
            windows[t // 60000 * 60000] += 1
            routes[route] += 1
            if lv >= 50:
                route_errors[route] += 1
            durations[dur] += 1

    def quantile(pm):
        rank = max(1, (pm * n + 999) // 1000)
        seen = 0
        for v in sorted(durations):
            seen += durations[v]
            if seen >= rank:
                return v
        return 0

    errors = levels["error"] + levels["fatal"]
    truth = {
        "lines": n, "bytes": written, "levels": dict(levels), "errors": errors,
        "error_rate": errors / n * 100 if n else 0,
        "window_ms": 60000, "windows": {str(k): v for k, v in sorted(windows.items())},
        "fingerprints": dict(fingerprints.most_common()),
        "routes": {r: {"count": routes[r], "errors": route_errors[r]} for r in routes},
        "latency": {"field": "duration_ms", "count": n, "p50": quantile(500), "p95": quantile(950), "p99": quantile(990),
                    "min": min(durations) if n else 0, "max": max(durations) if n else 0},
    }
    with open(a.truth, "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)
    print(f"wrote {n} lines, {written} bytes to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Issue 17 target 6: `opsctl verify` runs its independent checks in parallel, so its wall time should
# be its critical path (+10 % at most). The critical path is computed, not hard-coded: the step list
# and needs come from the runbook verify runs, as `opsctl explain verify` resolves it (includes and
# for_each expanded; `always` steps run after every other step, so they follow all of them), each
# step weighted by its duration in the JSON report.
# Wall = the run's duration in the same report. RUNS runs (default 10); the median ratio counts.
# The same runbook at --parallel 1 is timed alongside for the speed-up.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
build_release churn-saver
start_sandbox
RUNS=${RUNS:-10}
ADMIN=$DATABASE_URL
PGOPTIONS='-c client_min_messages=warning' psql "$ADMIN" -qX -c "DROP DATABASE IF EXISTS opsctl_verify_bench WITH (FORCE)" -c "CREATE DATABASE opsctl_verify_bench" >/dev/null
export DATABASE_URL=$(printf '%s' "$ADMIN" | sed 's|/postgres?|/opsctl_verify_bench?|')
export WHOP_WEBHOOK_SECRET=bench-webhook-secret-0123456789
work=$(mktemp -d)
cat > "$work/opsctl.yaml" <<YAML
environments:
  local:
    base_url: http://127.0.0.1:18299
    webhook: { scheme: whop, secret_env: WHOP_WEBHOOK_SECRET }
    migrations: { dir: $ROOT/examples/churn-saver/migrations }
YAML
cd "$work"
"$OPSCTL" migrate apply --no-journal >/dev/null
PORT=18299 "${SERVICE_BIN:-$BUILD_DIR/release/churn-saver}" >/dev/null 2>&1 & service=$!
trap 'kill $service 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18299/api/health >/dev/null && break; sleep 0.1; done
# The runbook `opsctl verify` runs, as the binary resolves it ("runbook verify (<file>)"), and its
# plan: the steps and needs after `include:` and `for_each` are expanded (the YAML alone names
# included runbooks, not their steps).
"$OPSCTL" explain verify > "$work/plan.txt"
RUNBOOK=${RUNBOOK:-$(sed -n '1s/^runbook [^ ]* (\(.*\))$/\1/p' "$work/plan.txt")}
[ -f "$RUNBOOK" ] || { echo "cannot find the verify runbook ('$RUNBOOK')"; exit 1; }
out=$(mktemp)
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$out" \
  "$OPSCTL verify --no-journal --parallel 8 --format json" \
  "$OPSCTL verify --no-journal --parallel 1 --format json" >/dev/null
p=$(mean_of "$out" 0); s=$(mean_of "$out" 1)
for i in $(seq "$RUNS"); do "$OPSCTL" verify --no-journal --parallel 8 --format json > "$work/run$i.json" || true; done
# The same with the journal on (opsctl verify's default): the run row, the runbook lock and the step
# rows in the database must not delay the steps either.
"$OPSCTL" verify --parallel 8 --format json >/dev/null || true  # creates the journal schema
for i in $(seq "$RUNS"); do "$OPSCTL" verify --parallel 8 --format json > "$work/journal$i.json" || true; done
# TRACE=1: RUNS more runs with OPSCTL_TRACE_ENGINE, and where each hand-over on their critical path went
# (step end -> result queued -> next step prepared -> its thread running -> step start, with each
# thread's wait for a CPU). Diagnostics only: the figures below come from the untraced runs.
if [ -n "${TRACE:-}" ]; then
  for _ in $(seq "$RUNS"); do OPSCTL_TRACE_ENGINE="$work/trace.txt" "$OPSCTL" verify --no-journal --parallel 8 --format json >/dev/null || true; done
  python3 "$ROOT/Benchmarks/engine-trace.py" "$work/plan.txt" "$work/trace.txt"
fi
for set in run journal; do
python3 - "$RUNBOOK" "$p" "$s" "$set" "$work/plan.txt" "$work"/$set[0-9]*.json <<'PY'
import json, re, statistics, sys
from datetime import datetime
runbook, par, ser, label, plan, reports = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
journal = label == "journal"
# Plan lines: "  ID [kind] ← NEED, NEED  {flags}" under "level N" or "always (cleanup…)" headers.
steps, always = [], False
for line in open(plan):
    if re.match(r"^(level \d+|always )", line): always = line.startswith("always")
    m = re.match(r"^  (\S+) \[[^\]]+\](?: ← (.*?))?(?:  \{.*\})?$", line.rstrip("\n"))
    if m: steps.append({"id": m.group(1), "needs": [n.strip() for n in (m.group(2) or "").split(",") if n.strip()], "always": always})
ids = [s["id"] for s in steps]
regular = [s["id"] for s in steps if not s["always"]]
deps = {s["id"]: (regular if s["always"] else s["needs"]) for s in steps}
rows = []
for path in reports:
    r = json.load(open(path))
    dur = {x["id"]: x["duration_ms"] for x in r["results"]}
    finish, via = {}, {}
    def f(i):  # earliest finish if every step started the moment its needs finished
        if i not in finish:
            before = max(((f(d), d) for d in deps[i] if d in dur), default=(0.0, None))
            finish[i], via[i] = before[0] + dur.get(i, 0.0), before[1]
        return finish[i]
    end = max(ids, key=f) if dur else None
    chain, i = [], end
    while i: chain.append(i); i = via[i]
    # Where the wall beyond the critical path goes: before the first step starts, after the last one
    # ends, and the rest (between a step's end and its dependents' start, and the chain the run really
    # took being longer than the ideal one). Report times have millisecond resolution: read medians.
    t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000
    t0 = t(r["started_at"])
    starts = [t(x["started_at"]) - t0 for x in r["results"]]
    ends = [t(x["started_at"]) - t0 + x["duration_ms"] for x in r["results"]]
    before, after = (min(starts), r["duration_ms"] - max(ends)) if starts else (0.0, 0.0)
    rows.append((r["duration_ms"], finish[end], list(reversed(chain)), r["status"], before, after))
wall = statistics.median(x[0] for x in rows); crit = statistics.median(x[1] for x in rows)
ratios = sorted(x[0] / x[1] for x in rows)
med = statistics.median(ratios)
if not journal:
    print(f"verify, {len(ids)} steps from {runbook}: statuses {sorted(set(x[3] for x in rows))}")
    print(f"process wall (hyperfine, --no-journal): --parallel 8 {par*1000:.0f} ms, --parallel 1 {ser*1000:.0f} ms; speed-up {ser/par:.2f}x")
    print(f"critical path (last run): {' -> '.join(rows[-1][2])}")
print(f"{'journal on' if journal else '--no-journal'}: engine wall / critical path over {len(rows)} runs: median {med:.3f} "
      f"(min {ratios[0]:.3f}, max {ratios[-1]:.3f}); median wall {wall:.1f} ms, median critical path {crit:.1f} ms (target <= 1.10)")
before = statistics.median(x[4] for x in rows); after = statistics.median(x[5] for x in rows)
between = statistics.median(x[0] - x[1] - x[4] - x[5] for x in rows)
print(f"  beyond the critical path (medians): before the first step {before:.1f} ms, after the last step {after:.1f} ms, "
      f"between steps {between:.1f} ms")
name = "verify-critical-path-journal" if journal else "verify-critical-path"
print(f"RESULT name={name} opsctl={wall:.1f}ms baseline={crit:.1f}ms ratio={med:.2f} "
      f"target=<= 1.10x critical path met={'yes' if med <= 1.10 else 'no'}")
PY
done

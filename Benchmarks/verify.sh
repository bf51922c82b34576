#!/usr/bin/env bash
# Issue 6: `opsctl verify` runs its independent checks in parallel: wall time should be close to
# its critical path (the slowest chain of dependent checks, +10 %), against the same runbook run
# serially (--parallel 1) in the same benchmark. Release build, reference service on loopback.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
build_release churn-saver
start_sandbox
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
PORT=18299 "$BUILD_DIR/release/churn-saver" >/dev/null 2>&1 & service=$!
trap 'kill $service 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18299/api/health >/dev/null && break; sleep 0.1; done
out=$(mktemp)
hyperfine -N --warmup 2 --runs 10 --export-json "$out" \
  "$OPSCTL verify --no-journal --parallel 8 --format json" \
  "$OPSCTL verify --no-journal --parallel 1 --format json" >/dev/null
p=$(mean_of "$out" 0); s=$(mean_of "$out" 1)
"$OPSCTL" verify --no-journal --parallel 8 --format json > "$work/run.json"
python3 - "$work/run.json" "$p" "$s" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); par, ser = float(sys.argv[2]), float(sys.argv[3])
steps = {s["id"]: s for s in r["results"]}
# The critical path follows the runbook's needs: health -> send -> processed is the longest chain,
# and the cleanup (always) step runs after every other step by design.
chain = sum(steps[i]["duration_ms"] for i in ("health", "send-test-event", "test-event-processed", "remove-test-event") if i in steps)
slowest = max(s["duration_ms"] for s in r["results"])
total = sum(s["duration_ms"] for s in r["results"])
print(f"verify, 13 checks: parallel {par*1000:.0f} ms wall; serial (--parallel 1) {ser*1000:.0f} ms; speed-up {ser/par:.2f}x")
print(f"inside one parallel run: engine wall {r['duration_ms']:.0f} ms; slowest check {slowest:.0f} ms; "
      f"critical path (health -> send -> processed -> cleanup) {chain:.0f} ms; sum of all checks {total:.0f} ms")
print(f"engine wall / critical path: {r['duration_ms']/max(chain, slowest):.2f} (target <= 1.10)")
PY

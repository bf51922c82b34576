#!/usr/bin/env bash
# The demo: a sandbox Postgres, the reference Churn Saver service, and opsctl's main runbooks
# against them — predeploy, migrate, verify (green), a fault and verify failing with remediation,
# recovery, the nightly runbook for Prometheus, failed webhooks found and replayed, and the journal.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OPSCTL=${OPSCTL:-$ROOT/.build/debug/opsctl}
SERVICE=${SERVICE:-$ROOT/.build/debug/churn-saver}
PORT=18080
cd "$ROOT/examples/churn-saver"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# expect CODE PATTERN COMMAND...: runs COMMAND, shows its output, and stops the demo (exit 1) when its
# exit code is not CODE or no line of its output matches the extended regex PATTERN. The demo is also
# `make test`'s smoke test: a command that starts passing, failing or saying something else is caught.
expect() {
  local want=$1 pattern=$2 out status
  shift 2
  set +e; out=$("$@" 2>&1); status=$?; set -e
  printf '%s\n' "$out"
  if [ "$status" -ne "$want" ]; then
    echo "demo: FAILED: expected exit code $want, got $status from: $*" >&2; exit 1
  fi
  if ! grep -qE -- "$pattern" <<<"$out"; then
    echo "demo: FAILED: no line matching /$pattern/ in the output of: $*" >&2; exit 1
  fi
  if [ "$want" -ne 0 ]; then echo "(exit code $status, as expected)"; fi
}

# expect_file PATTERN FILE: the file a command wrote has a line matching PATTERN.
expect_file() {
  grep -E -- "$1" "$2" || { echo "demo: FAILED: no line matching /$1/ in $2" >&2; exit 1; }
}
# Stops the demo's service if it is still running (it may have exited already: nothing to stop then).
cleanup() {
  if [ -n "${service_pid:-}" ] && kill -0 "$service_pid" 2>/dev/null; then kill "$service_pid"; fi
}
trap cleanup EXIT

say "1. A throwaway Postgres: opsctl sandbox up"
eval "$("$OPSCTL" sandbox up)"
PGOPTIONS='-c client_min_messages=warning' psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS churn_saver_demo WITH (FORCE)" -c "CREATE DATABASE churn_saver_demo"
DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed 's|/postgres?|/churn_saver_demo?|')
export DATABASE_URL
echo "DATABASE_URL=$DATABASE_URL"

# Demo-only values, so the environment rules pass (a real deploy reads them from its secret store).
export NEXT_PUBLIC_WHOP_APP_ID=app_demo1234 WHOP_API_KEY=demo-api-key-4f9a8b7c6d5e \
       WHOP_WEBHOOK_SECRET=demo-webhook-secret-7e6d5c4b SCHEDULER_SECRET_KEY=demo-scheduler-key-1a2b3c4d \
       ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)

say "2. Start the reference service (churn-saver) on 127.0.0.1:$PORT"
PORT=$PORT "$SERVICE" > /tmp/churn-saver-demo.log 2>&1 & service_pid=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.1; done
if ! kill -0 "$service_pid" 2>/dev/null; then
  echo "churn-saver did not start (is port $PORT taken?):"; cat /tmp/churn-saver-demo.log; exit 1
fi
head -1 /tmp/churn-saver-demo.log

say "3. opsctl predeploy — is it safe to deploy? (the migrations are still pending)"
expect 0 'migration history clean .* 7 pending' "$OPSCTL" predeploy

say "4. opsctl run migrate — status, lint of what is pending, apply under a lock, verify the schema"
expect 0 'applied 7 migration\(s\): database at version 7' "$OPSCTL" run migrate --param dir=migrations

say "5. opsctl verify — health, schema version, a signed webhook round trip, 15-minute metrics"
expect 0 'signed test webhook accepted .* accepted with 200' "$OPSCTL" verify

say "6. Inject a fault (the service's database goes away) and verify again"
curl -s -X POST "http://127.0.0.1:$PORT/admin/faults" -d '{"db_down":true}' >/dev/null
# Exit 1, and every failure says what to do next.
expect 1 '/api/health/db .* status 503' "$OPSCTL" verify --no-roundtrip
curl -s -X DELETE "http://127.0.0.1:$PORT/admin/faults" >/dev/null
# The service kept its request log while the database was away and writes it every 200 ms.
sleep 1

say "7. Fault cleared: the endpoints recover, and the 15-minute error rate still shows the incident"
# Exit 1: the 5xx of the incident stay in the window until it passes.
expect 1 'needs attention: api-errors$' "$OPSCTL" verify
expect 1 '' "$OPSCTL" verify --format junit --output /tmp/opsctl-verify.xml
expect_file '<testcase classname="opsctl.verify" name="api-errors"' /tmp/opsctl-verify.xml >/dev/null
echo "the same run for CI: /tmp/opsctl-verify.xml ($(grep -c '<testcase' /tmp/opsctl-verify.xml) testcases, $(grep -c '<failure' /tmp/opsctl-verify.xml) failure)"

say "8. The nightly runbook, for Prometheus' textfile collector and for Nagios"
# The daily run fails on the incident's error rate too (exit 1); the file says so to Prometheus.
expect 1 '' "$OPSCTL" run daily --format prometheus --output /tmp/opsctl-daily.prom
expect_file '^opsctl_run_status\{runbook="daily",environment="local",status="fail"\} 1$' /tmp/opsctl-daily.prom
expect 0 '^OPSCTL OK - health@local' "$OPSCTL" health --format nagios

say "9. opsctl logs analyze — the runbooks' grep | sort | uniq -c pipelines in one pass"
# Exit 1: the 5 % error-rate threshold is crossed.
expect 1 '\[fail\] error_rate>5%:fail: error_rate = 7.85' \
  "$OPSCTL" logs analyze logs/api.log --by route --latency-field duration_ms --top 5 \
  --threshold 'error_rate>1%:warn' --threshold 'error_rate>5%:fail'

say "10. Emergency rollback, dry run: what would happen, nothing changed"
expect 0 'dry-run: would roll back 2 migration\(s\): 7, 6' "$OPSCTL" rollback --to 5 --dry-run

say "11. Webhooks failed during an incident: reconcile finds them, replay redelivers them re-signed, exactly once"
curl -s -X POST "http://127.0.0.1:$PORT/admin/faults" -d '{"processing_errors":true}' >/dev/null
for i in $(seq 1 12); do
  "$OPSCTL" webhook send --type payment_failed --id "evt_incident_$i" --data "membership_id=mem_incident_$i" \
    --data company_id=biz_demo --expect-status 500 --no-journal >/dev/null
done
curl -s -X DELETE "http://127.0.0.1:$PORT/admin/faults" >/dev/null
echo "(12 payment_failed events arrived while the handler was failing: stored, with their error)"
# The failed events are listed by type, with sample ids (a warning: exit 0 unless --strict).
expect 0 '12 events with errors \(payment_failed 12\); e.g. evt_incident_' "$OPSCTL" reconcile
expect 0 'dry-run: would replay 12 event\(s\) \(payment_failed 12\)' "$OPSCTL" replay --failed --dry-run
expect 0 '12/12 delivered events processed' "$OPSCTL" replay --failed --verify
expect 0 'dry-run: would replay 0 event\(s\)' "$OPSCTL" replay --failed --dry-run
echo "(the service's own /api/health stays unhealthy until these failures leave its 15-minute window)"

say "12. opsctl history — every run is journaled in the database (schema opsctl)"
expect 0 ' replay +local +ok ' "$OPSCTL" history --limit 10

say "Done. The sandbox keeps running; stop it with: $OPSCTL sandbox down"

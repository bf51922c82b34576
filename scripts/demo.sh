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
cleanup() { [ -n "${service_pid:-}" ] && kill "$service_pid" 2>/dev/null || true; }
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
"$OPSCTL" predeploy || true

say "4. opsctl run migrate — status, lint of what is pending, apply under a lock, verify the schema"
"$OPSCTL" run migrate --param dir=migrations

say "5. opsctl verify — health, schema version, a signed webhook round trip, 15-minute metrics"
"$OPSCTL" verify

say "6. Inject a fault (the service's database goes away) and verify again"
curl -s -X POST "http://127.0.0.1:$PORT/admin/faults" -d '{"db_down":true}' >/dev/null
"$OPSCTL" verify --no-roundtrip || echo "(exit code $? — every failure says what to do next)"
curl -s -X DELETE "http://127.0.0.1:$PORT/admin/faults" >/dev/null

say "7. Fault cleared: the endpoints recover, and the 15-minute error rate still shows the incident"
"$OPSCTL" verify || echo "(exit code $? — the 5xx of the incident stay in the window until it passes)"
"$OPSCTL" verify --format junit --output /tmp/opsctl-verify.xml || true
echo "the same run for CI: /tmp/opsctl-verify.xml ($(grep -c '<testcase' /tmp/opsctl-verify.xml) testcases)"

say "8. The nightly runbook, for Prometheus' textfile collector and for Nagios"
"$OPSCTL" run daily --format prometheus --output /tmp/opsctl-daily.prom || true
grep '^opsctl_run_status' /tmp/opsctl-daily.prom | head -5
"$OPSCTL" health --format nagios || true

say "9. opsctl logs analyze — the runbooks' grep | sort | uniq -c pipelines in one pass"
"$OPSCTL" logs analyze logs/api.log --by route --latency-field duration_ms --top 5 \
  --threshold 'error_rate>1%:warn' --threshold 'error_rate>5%:fail' || echo "(exit code $? — the 5 % error-rate threshold is crossed)"

say "10. Emergency rollback, dry run: what would happen, nothing changed"
"$OPSCTL" rollback --to 5 --dry-run

say "11. Webhooks failed during an incident: reconcile finds them, replay redelivers them re-signed, exactly once"
curl -s -X POST "http://127.0.0.1:$PORT/admin/faults" -d '{"processing_errors":true}' >/dev/null
for i in $(seq 1 12); do
  "$OPSCTL" webhook send --type payment_failed --id "evt_incident_$i" --data "membership_id=mem_incident_$i" \
    --data company_id=biz_demo --expect-status 500 --no-journal >/dev/null
done
curl -s -X DELETE "http://127.0.0.1:$PORT/admin/faults" >/dev/null
echo "(12 payment_failed events arrived while the handler was failing: stored, with their error)"
"$OPSCTL" reconcile || echo "(exit code $? — the failed events are listed by type, with sample ids)"
"$OPSCTL" replay --failed --dry-run
"$OPSCTL" replay --failed --verify
"$OPSCTL" replay --failed --dry-run
echo "(the service's own /api/health stays unhealthy until these failures leave its 15-minute window)"

say "12. opsctl history — every run is journaled in the database (schema opsctl)"
"$OPSCTL" history --limit 10

say "Done. The sandbox keeps running; stop it with: $OPSCTL sandbox down"

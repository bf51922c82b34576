#!/usr/bin/env bash
# Issue 8: replay 10,000 failed events to the reference service on loopback with `opsctl replay`,
# against (a) the runbooks' approach — a sequential loop of curl calls, each signed with
# openssl dgst (measured on CURL_SAMPLE events and scaled), and (b) the ceiling wrk measures for
# unsigned static POSTs to the same endpoint. Targets: >= 40x the curl loop, >= 50 % of wrk.
source "$(dirname "$0")/lib.sh"
need wrk wrk
EVENTS=${EVENTS:-10000}
CURL_SAMPLE=${CURL_SAMPLE:-1000}
CONCURRENCY=${CONCURRENCY:-64}
PORT=${PORT:-18199}
SECRET=bench_webhook_secret_0123456789abcdef
# OPSCTL_BIN / SERVICE_BIN: measure other builds of the two binaries (SKIP_BUILD=1 then).
OPSCTL=${OPSCTL_BIN:-$OPSCTL}
SERVICE=${SERVICE_BIN:-$BUILD_DIR/release/churn-saver}
build_release churn-saver
start_sandbox
ADMIN_URL=$DATABASE_URL
psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS opsctl_replay_bench" -c "CREATE DATABASE opsctl_replay_bench" >/dev/null 2>&1
DB_URL=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/opsctl_replay_bench')))" "$ADMIN_URL")
for f in $(ls "$ROOT"/examples/churn-saver/migrations/*.sql | grep -v '\.down\.sql$' | sort); do
  psql "$DB_URL" -qX -v ON_ERROR_STOP=1 -f "$f" >/dev/null
done

DATABASE_URL=$DB_URL WHOP_WEBHOOK_SECRET=$SECRET WEBHOOK_SCHEME=whop PORT=$PORT "$SERVICE" >/dev/null 2>&1 &
service=$!
work=$(mktemp -d)
trap 'kill $service 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/api/webhooks/whop"

reset_events() {
  PGOPTIONS="-c client_min_messages=warning" psql "$DB_URL" -qX >/dev/null <<SQL
TRUNCATE recovery_actions, recovery_cases, events;
DROP SCHEMA IF EXISTS opsctl CASCADE;
INSERT INTO events (whop_event_id, type, membership_id, payload, company_id, occurred_at, received_at, created_at, error)
SELECT 'evt_bench_' || i, 'payment_failed', 'mem_' || i,
       jsonb_build_object('id', 'evt_bench_' || i, 'type', 'payment_failed', 'created_at', 1764000000,
                          'data', jsonb_build_object('membership_id', 'mem_' || i, 'company_id', 'biz_bench', 'user_id', 'user_' || i)),
       'biz_bench', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour', 'upstream timeout'
  FROM generate_series(1, $1) AS i;
SQL
}
now() { date +%s.%N; }
# CPU seconds (user+sys) of processes: the service, and its pooled Postgres backends.
cpu_of() { for pid in "$@"; do awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null; done | awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {printf "%.3f", s / hz}'; }
service_backends() { psql "$DB_URL" -qtAX -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'churn-saver'"; }
processed() { psql "$DB_URL" -qtAX -c "SELECT count(*) FROM events WHERE processed"; }

# opsctl replay
reset_events "$EVENTS"
cat > "$work/opsctl.yaml" <<YAML
environments:
  bench:
    base_url: http://127.0.0.1:$PORT
    webhook: { scheme: whop, secret_env: WHOP_WEBHOOK_SECRET, path: /api/webhooks/whop }
YAML
service_cpu0=$(cpu_of "$service"); pg_cpu0=$(cpu_of $(service_backends))
t0=$(now)
(cd "$work" && DATABASE_URL=$DB_URL WHOP_WEBHOOK_SECRET=$SECRET /usr/bin/time -f "%U %S" -o "$work/opsctl.time" "$OPSCTL" replay --failed \
  --concurrency "$CONCURRENCY" --format json --output "$work/replay.json") || { echo "opsctl replay failed:"; cat "$work/replay.json"; exit 1; }
t1=$(now)
service_cpu=$(python3 -c "print($(cpu_of "$service") - $service_cpu0)")
pg_cpu=$(python3 -c "print($(cpu_of $(service_backends)) - $pg_cpu0)")
opsctl_cpu=$(awk '{print $1 + $2}' "$work/opsctl.time")
opsctl_s=$(python3 -c "print($t1 - $t0)")
echo "opsctl replay: $EVENTS events in $(python3 -c "print(f'{$opsctl_s:.2f}')") s ($(python3 -c "print(int($EVENTS / $opsctl_s))") events/s, concurrency $CONCURRENCY); processed: $(processed)"
per_event() { python3 -c "print(f'{$1 * 1e6 / $EVENTS:.0f} us')"; }
echo "CPU per event: opsctl $(per_event "$opsctl_cpu"), service $(per_event "$service_cpu"), Postgres (service's backends) $(per_event "$pg_cpu")"

# The runbooks' approach: one signed curl at a time (sampled).
reset_events "$CURL_SAMPLE"
psql "$DB_URL" -qtAX -c "SELECT payload::text FROM events ORDER BY whop_event_id" > "$work/bodies.jsonl"
t0=$(now)
while IFS= read -r body; do
  ts=$(date +%s)
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')
  curl -s -o /dev/null -X POST -H "Content-Type: application/json" -H "x-whop-signature: $sig" -H "x-whop-timestamp: $ts" \
    --data-binary "$body" "$URL"
done < "$work/bodies.jsonl"
t1=$(now)
curl_sample_s=$(python3 -c "print($t1 - $t0)")
curl_s=$(python3 -c "print($curl_sample_s * $EVENTS / $CURL_SAMPLE)")
echo "curl loop: $CURL_SAMPLE events in $(python3 -c "print(f'{$curl_sample_s:.2f}')") s (processed: $(processed)); scaled to $EVENTS: $(python3 -c "print(f'{$curl_s:.1f}')") s"

# wrk: unsigned static POSTs (answered 401 after the signature check) = the endpoint's ceiling.
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"id":"evt_static","type":"payment_failed","data":{"membership_id":"mem_static"}}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk_out=$(wrk -t2 -c"$CONCURRENCY" -d10s -s "$work/post.lua" "$URL")
wrk_rps=$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')
opsctl_rps=$(python3 -c "print($EVENTS / $opsctl_s)")
echo "wrk unsigned static POSTs: $wrk_rps requests/s (c=$CONCURRENCY)"
echo "ratio opsctl vs curl loop: $(ratio "$curl_s" "$opsctl_s")x faster (target >= 40)"
echo "ratio opsctl vs wrk ceiling: $(python3 -c "print(f'{100 * $opsctl_rps / $wrk_rps:.0f}')") % (target >= 50 %)"
# What the service's own database work allows on this machine, whatever the client: all cores on
# Postgres alone would process cores / (Postgres CPU per event) events per second.
cores=$(nproc)
echo "bound set by the service's database work alone: $(python3 -c "print(f'{$cores * $EVENTS / $pg_cpu:.0f}')") events/s on $cores cores = $(python3 -c "print(f'{100 * $cores * $EVENTS / $pg_cpu / $wrk_rps:.0f}')") % of wrk's ceiling"

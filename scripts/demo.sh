#!/usr/bin/env bash
# The demo: a sandbox Postgres, a local endpoint, and opsctl's runbooks against them.
set -euo pipefail
cd "$(dirname "$0")/.."
OPSCTL=${OPSCTL:-.build/debug/opsctl}
DEMO_PORT=${DEMO_PORT:-18081}
export NO_COLOR=${NO_COLOR:-}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() { [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

say "Start a throwaway Postgres (opsctl sandbox up)"
eval "$("$OPSCTL" sandbox up)"
echo "DATABASE_URL=$DATABASE_URL"

say "Start a local endpoint answering /api/health"
demo_dir=$(mktemp -d)
mkdir -p "$demo_dir/api"
echo '{"status":"healthy","checks":{"db":{"status":"healthy"}}}' > "$demo_dir/api/health"
python3 -m http.server "$DEMO_PORT" --bind 127.0.0.1 --directory "$demo_dir" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$DEMO_PORT/api/health" >/dev/null && break; sleep 0.1; done

say "opsctl health: the endpoint and the database"
"$OPSCTL" health --url "http://127.0.0.1:$DEMO_PORT/api/health" --expect status=healthy || true

say "The same report for Nagios and for Prometheus' textfile collector"
"$OPSCTL" health --url "http://127.0.0.1:$DEMO_PORT/api/health" --format nagios || true
"$OPSCTL" health --url "http://127.0.0.1:$DEMO_PORT/api/health" --format prometheus --output "$demo_dir/opsctl.prom" || true
head -n 6 "$demo_dir/opsctl.prom"

say "A failing endpoint: the report says what failed and what to do next"
"$OPSCTL" health --url "http://127.0.0.1:$DEMO_PORT/missing" --no-database || echo "(exit code $? — the deploy gate would stop here)"

say "opsctl explain: the plan of a runbook, nothing executed"
"$OPSCTL" explain health --param urls=http://127.0.0.1:$DEMO_PORT/api/health

say "opsctl history: every run is journaled in the database (schema opsctl)"
"$OPSCTL" history --limit 5

say "Done. Stop the sandbox with: $OPSCTL sandbox down"

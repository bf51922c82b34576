#!/usr/bin/env bash
# Issue 3: `opsctl health` against a local endpoint and the sandbox, side by side with the shell
# equivalent (curl -w + psql -c 'select 1'), in one hyperfine run. Target: opsctl no slower.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
build_release
start_sandbox
root=$(mktemp -d); mkdir -p "$root/api"; echo '{"status":"healthy"}' > "$root/api/health"
python3 -m http.server 18099 --bind 127.0.0.1 --directory "$root" >/dev/null 2>&1 & server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18099/api/health >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:18099/api/health
out=$(mktemp)
hyperfine -N --warmup 5 --runs 40 --export-json "$out" \
  "$OPSCTL health --url $url --expect status=healthy --no-journal --format json" \
  "bash -c 'curl -s -o /dev/null -w \"%{http_code} %{time_total}\" $url && psql \"$DATABASE_URL\" -qtAc \"select 1\"'" >/dev/null
o=$(mean_of "$out" 0); s=$(mean_of "$out" 1)
echo "opsctl health (7 checks: endpoint + 6 database checks): $(ms "$o")"
echo "curl + psql select 1 (2 checks):                     $(ms "$s")"
echo "ratio opsctl/shell: $(ratio "$o" "$s")x (target <= 1.00)"

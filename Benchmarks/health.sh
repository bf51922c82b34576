#!/usr/bin/env bash
# `opsctl health` against a local endpoint and the sandbox, side by side with the shell doing the
# same checks, in one hyperfine run:
#   opsctl health --url U --expect status=healthy --checks endpoint,database
#       the endpoint (HTTP 200, JSON status == healthy, latency) + the database reachable (version >= 14)
#   curl -sf U | jq -e '.status == "healthy"'  &&  psql -qtAc 'SHOW server_version_num'
# Target: opsctl no slower than the shell (ratio <= 1.00).
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
need jq jq
build_release
start_sandbox
root=$(mktemp -d); mkdir -p "$root/api"; echo '{"status":"healthy"}' > "$root/api/health"
python3 -m http.server 18099 --bind 127.0.0.1 --directory "$root" >/dev/null 2>&1 & server=$!
trap 'kill $server 2>/dev/null; rm -rf "$root"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18099/api/health >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:18099/api/health
"$OPSCTL" health --url $url --expect status=healthy --checks endpoint,database --no-journal --format json > "$root/check.json" \
  || { echo "opsctl health failed"; cat "$root/check.json"; exit 1; }
echo "opsctl runs: $(python3 -c "import json,sys; print(', '.join(r['id'] for r in json.load(open(sys.argv[1]))['results']))" "$root/check.json")"
out=$(mktemp)
hyperfine -N --warmup 5 --runs 40 --export-json "$out" \
  "$OPSCTL health --url $url --expect status=healthy --checks endpoint,database --no-journal --format json" \
  "bash -c 'curl -sf $url | jq -e \".status == \\\"healthy\\\"\" >/dev/null && psql \"$DATABASE_URL\" -qtAc \"SHOW server_version_num\"'" >/dev/null
o=$(mean_of "$out" 0); s=$(mean_of "$out" 1)
echo "opsctl health (endpoint + database reachable): $(ms "$o")"
echo "curl | jq + psql (the same two checks):        $(ms "$s")"
echo "ratio opsctl/shell: $(ratio "$o" "$s")x (target <= 1.00)"
result health "$(fmt "$(python3 -c "print($o*1000)")" 1)ms" "$(fmt "$(python3 -c "print($s*1000)")" 1)ms" "$(ratio "$o" "$s")" "<= 1.00x curl|jq + psql, same 2 checks" "$(met_if "$o <= $s")"

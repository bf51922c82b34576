#!/usr/bin/env bash
# Issue 17 target 5: start-up through real verbs (release build, Swift runtime linked statically).
#   opsctl kinds            the argument parser, the step-kind registry, printing      <= 15 ms
#   opsctl explain verify   + opsctl.yaml, the runbook library, YAML load, the plan    <= 15 ms
#   opsctl --version        answered before the parser runs                            <= 10 ms
# Baseline: /bin/true (the cost of any process start on this machine). Run in a scratch project
# with an opsctl.yaml so `explain` loads config like a real checkout.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
build_release
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/opsctl.yaml" <<'YAML'
environments:
  local:
    base_url: http://127.0.0.1:8080
YAML
cd "$dir"
"$OPSCTL" explain verify >/dev/null || { echo "opsctl explain verify failed"; "$OPSCTL" explain verify; exit 1; }
out=$(mktemp)
hyperfine -N --warmup 20 --runs 200 --export-json "$out" \
  "$OPSCTL kinds" "$OPSCTL explain verify" "$OPSCTL --version" "/bin/true" >/dev/null
k=$(mean_of "$out" 0); e=$(mean_of "$out" 1); v=$(mean_of "$out" 2); t=$(mean_of "$out" 3)
echo "opsctl kinds:          $(ms "$k") mean (target <= 15 ms)"
echo "opsctl explain verify: $(ms "$e") mean (target <= 15 ms)"
echo "opsctl --version:      $(ms "$v") mean (target <= 10 ms)"
echo "/bin/true:             $(ms "$t") mean"
# CPU (user+sys) per run: what start-up costs whatever else the machine runs; wall = CPU on a quiet machine.
python3 - "$out" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"  CPU user+sys {1000 * (r['user'] + r['system']):5.1f} ms   wall {1000 * r['mean']:6.1f} ms   {r['command'].split('/')[-1]}")
PY
# What the dynamic loader does before main: the shared libraries it maps and its own cycle count
# (libpq and libcurl are loaded with dlopen on first use, so neither is in this list).
echo "shared libraries mapped at start-up ($(ldd "$OPSCTL" | wc -l)): $(ldd "$OPSCTL" | awk '{print $1}' | tr '\n' ' ')"
# Package.swift links opsctl with lld and DT_RELR: its ~100k relative relocations packed into a few KB.
echo "  relocations: $(readelf -d "$OPSCTL" | grep -q "(RELR)" && echo "packed (DT_RELR, $(readelf -d "$OPSCTL" | awk '/RELRSZ/ {print $3}') bytes)" || echo "not packed (no DT_RELR)"), $(readelf -p .comment "$OPSCTL" 2>/dev/null | grep -o "Linker: LLD [0-9.]*" || echo "linked by GNU ld/gold")"
LD_DEBUG=statistics "$OPSCTL" --version 2>&1 >/dev/null | sed -n 's/^ *[0-9]*:[[:space:]]*//p' \
  | grep -E "total startup time|time needed for relocation|number of relocations:|time needed to load" | sed 's/^/  loader: /' || true
result startup-kinds "$(fmt "$(python3 -c "print($k*1000)")" 1)ms" "$(fmt "$(python3 -c "print($t*1000)")" 1)ms" "$(ratio "$k" "$t")" "<= 15 ms" "$(met_if "$k <= 0.015")"
result startup-explain "$(fmt "$(python3 -c "print($e*1000)")" 1)ms" "$(fmt "$(python3 -c "print($t*1000)")" 1)ms" "$(ratio "$e" "$t")" "<= 15 ms" "$(met_if "$e <= 0.015")"
result startup-version "$(fmt "$(python3 -c "print($v*1000)")" 1)ms" "$(fmt "$(python3 -c "print($t*1000)")" 1)ms" "$(ratio "$v" "$t")" "<= 10 ms" "$(met_if "$v <= 0.010")"

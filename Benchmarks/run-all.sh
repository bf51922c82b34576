#!/usr/bin/env bash
# `make bench`: builds the release binaries once, runs every Benchmarks/*.sh (lib.sh and this script
# aside), keeps each script's full output in .build-release/bench/<script>.log, and prints one table
# of the RESULT lines they end with (format: top of lib.sh). A script that prints none still gets a
# row, so a benchmark nobody converted yet is visible rather than silently missing.
# ONLY="startup engine" runs a subset; BENCH_MARKDOWN=1 prints the table as Markdown (README).
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
if [ -z "${SKIP_BUILD:-}${OPSCTL_BIN:-}" ]; then
  for product in opsctl churn-saver; do
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path .build-release --product "$product" >/dev/null) || exit 1
  done
fi
export SKIP_BUILD=1
logs="$ROOT/.build-release/bench"; mkdir -p "$logs"
results=$(mktemp)
for b in *.sh; do
  case "$b" in lib.sh|run-all.sh) continue ;; esac
  name=${b%.sh}
  if [ -n "${ONLY:-}" ] && ! [[ " $ONLY " == *" $name "* ]]; then continue; fi
  echo "=== $b (log: $logs/$name.log)"
  bash "$b" > "$logs/$name.log" 2>&1; status=$?
  grep -v '^RESULT ' "$logs/$name.log" | tail -n 12
  if grep -q '^RESULT ' "$logs/$name.log"; then
    grep '^RESULT ' "$logs/$name.log" | sed "s/^RESULT /RESULT script=$name /" >> "$results"
  else
    echo "RESULT script=$name name=$name opsctl=? baseline=? ratio=? target=(prints no RESULT line; exit $status) met=?" >> "$results"
  fi
  [ $status -eq 0 ] || echo "($b exited $status)"
done
# The scripts share one sandbox (lib.sh start_sandbox): stop it once they are all done.
"${OPSCTL_BIN:-$ROOT/.build-release/release/opsctl}" sandbox down --dir "${BENCH_SANDBOX_DIR:-/tmp/opsctl-bench-sandbox}" \
  --port "${BENCH_SANDBOX_PORT:-55439}" >/dev/null 2>&1 || true
echo
python3 - "$results" "${BENCH_MARKDOWN:-}" <<'PY'
import re, sys
rows = []
for line in open(sys.argv[1]):
    # key=value pairs; a value runs until the next " key=" (target may hold spaces).
    pairs = dict(re.findall(r'(\w+)=(.*?)(?= \w+=|$)', line[len("RESULT "):].rstrip("\n")))
    rows.append([pairs.get(k, "?") for k in ("script", "name", "opsctl", "baseline", "ratio", "target", "met")])
head = ["script", "name", "opsctl", "baseline", "ratio", "target", "met"]
if sys.argv[2]:
    print("| " + " | ".join(head) + " |"); print("|" + "---|" * len(head))
    for r in rows: print("| " + " | ".join(r) + " |")
else:
    w = [max(len(x) for x in col) for col in zip(head, *rows)]
    for r in [head] + rows: print("  ".join(x.ljust(n) for x, n in zip(r, w)).rstrip())
missed = [r[1] for r in rows if r[6] != "yes"]
print(f"\n{len(rows) - len(missed)}/{len(rows)} targets met" + (": not met or not reported: " + ", ".join(missed) if missed else ""))
PY

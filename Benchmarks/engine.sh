#!/usr/bin/env bash
# Issue 4: (a) 8 independent 1 s steps with --parallel 8 finish in <= 1.1 s wall;
# (b) engine overhead <= 1 ms per step, measured on 1,000 no-op steps (pause 0s) against a
# 1-step runbook, so process start-up is subtracted.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
build_release
dir=$(mktemp -d)
{
  echo "name: parallel8"; echo "steps:"
  for i in $(seq 8); do echo "  - { id: s$i, kind: pause, with: { duration: 1s } }"; done
} > "$dir/parallel.yaml"
{
  echo "name: serial8"; echo "steps:"
  for i in $(seq 8); do echo "  - { id: s$i, kind: pause, with: { duration: 1s }$( [ $i -gt 1 ] && echo ", needs: s$((i-1))" ) }"; done
} > "$dir/serial.yaml"
{ echo "name: noop1000"; echo "steps:"; for i in $(seq 1000); do echo "  - { id: s$i, kind: pause }"; done; } > "$dir/noop1000.yaml"
{ echo "name: noop1"; echo "steps:"; echo "  - { id: s1, kind: pause }"; } > "$dir/noop1.yaml"
out=$(mktemp)
hyperfine -N --warmup 1 --runs 5 --export-json "$out" \
  "$OPSCTL run $dir/parallel.yaml --parallel 8 --no-journal --format json" \
  "$OPSCTL run $dir/serial.yaml --no-journal --format json" >/dev/null
p=$(mean_of "$out" 0); s=$(mean_of "$out" 1)
echo "8 x 1 s steps, --parallel 8: $(ms "$p") wall (target <= 1100 ms); same steps chained: $(ms "$s"); speed-up $(ratio "$s" "$p")x"
hyperfine -N --warmup 2 --runs 10 --export-json "$out" \
  "$OPSCTL run $dir/noop1000.yaml --parallel 8 --no-journal --format json" \
  "$OPSCTL run $dir/noop1.yaml --no-journal --format json" >/dev/null
a=$(mean_of "$out" 0); b=$(mean_of "$out" 1)
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'1,000 no-op steps: {a*1000:.0f} ms; 1 step: {b*1000:.1f} ms; engine overhead {(a-b):.3f} ms per step (target <= 1 ms)')" "$a" "$b"

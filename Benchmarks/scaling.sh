#!/usr/bin/env bash
# Issue 12 item 8: the engine scales linearly. Runbooks of 1k, 2k, 4k and 10k no-op steps (pause 0s),
# the same steps chained (each needs the previous one and reads its status in `when:`), and a
# for_each step over 1k, 10k and 100k items; each time is compared with the linear
# extrapolation from its 1k run (target: ratio <= 2). Process start-up (a 1-step runbook) is
# subtracted first. Median of RUNS runs (default 3).
source "$(dirname "$0")/lib.sh"
build_release
RUNS=${RUNS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

noop() { { echo "name: noop$1"; echo "steps:"; for i in $(seq "$1"); do echo "  - { id: s$i, kind: pause }"; done; } > "$dir/noop$1.yaml"; }
chain() { { echo "name: chain$1"; echo "steps:"; echo "  - { id: s1, kind: pause }"
            for i in $(seq 2 "$1"); do echo "  - { id: s$i, kind: pause, needs: s$((i-1)), when: \"steps.s$((i-1)).status == 'ok'\" }"; done; } > "$dir/chain$1.yaml"; }
foreach() { python3 - "$1" "$dir/foreach$1.yaml" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write(f"name: foreach{n}\nsteps:\n  - id: item\n    kind: pause\n    for_each: [")
    f.write(", ".join(str(i) for i in range(n)))
    f.write("]\n")
PY
}

# median wall seconds of RUNS runs of a runbook (no journal, JSON report to /dev/null)
timed() { python3 - "$RUNS" "$OPSCTL" "$1" <<'PY'
import subprocess, sys, time
runs, opsctl, file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
times = []
for _ in range(runs):
    start = time.perf_counter()
    p = subprocess.run([opsctl, "run", file, "--no-journal", "--parallel", "8", "--format", "json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    times.append(time.perf_counter() - start)
    if p.returncode != 0:
        sys.exit(f"{file}: exit {p.returncode}: {p.stderr.decode()[-500:]}")
times.sort()
print(times[len(times) // 2])
PY
}

noop 1
base=$(timed "$dir/noop1.yaml")
echo "start-up (1 step): $(ms "$base")"

curve() { # label, generator, sizes...
  local label=$1 gen=$2; shift 2
  local first="" n t per
  for n in "$@"; do
    "$gen" "$n"
    t=$(timed "$dir/$gen$n.yaml")
    if [ -z "$first" ]; then first=$n; per=$(python3 -c "import sys; print((float(sys.argv[1]) - float(sys.argv[2])) / int(sys.argv[3]))" "$t" "$base" "$n"); fi
    python3 -c "
import sys
label, n, t, base, per, first = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
work = t - base
linear = per * n
ratio = work / linear if linear > 0 else float('nan')
verdict = 'ok' if ratio <= 2 else 'NOT LINEAR'
print(f'{label} {n:>7,}: {t*1000:9.0f} ms wall, {work*1e6/n:7.1f} us/step, linear from {first:,}: {linear*1000:9.0f} ms, ratio {ratio:4.2f} ({verdict})')
with open(sys.argv[7], 'a') as f: print(f'{n} {work*1000:.0f} {linear*1000:.0f} {ratio:.2f}', file=f)
" "$label" "$n" "$t" "$base" "$per" "$first" "$dir/ratios-$gen"
  done
}

curve "no-op steps      " noop 1000 2000 4000 10000
curve "chained steps    " chain 1000 2000 4000 10000
curve "for_each items   " foreach 1000 10000 100000

# One RESULT line per curve: its worst ratio to linear, with the largest size's times.
for gen in noop chain foreach; do
  read -r n work linear <<<"$(tail -n 1 "$dir/ratios-$gen" | cut -d' ' -f1-3)"
  worst=$(sort -k4 -g "$dir/ratios-$gen" | tail -n 1 | cut -d' ' -f4)
  met=$(python3 -c "import sys; print('yes' if float(sys.argv[1]) <= 2 else 'no')" "$worst")
  result "scaling-$gen" "${work}ms" "${linear}ms" "$worst" "<= 2x linear from 1k (worst size; times at $n)" "$met"
done

#!/usr/bin/env bash
# Issue 17 target 3: engine overhead per step, serial, journal on (Postgres sandbox):
#   (opsctl run of 200 no-op shell steps at --parallel 1  −  200 bare spawns of the same command) / 200
# Both sides spawn `/bin/sh -c true` 200 times; the difference is what opsctl adds per step
# (scheduling, supervision, reporting, the journal row) plus its start-up and journal set-up
# amortised over 200 steps. Target <= 1 ms per step. Rows also show --no-journal and --parallel 8,
# and (issue 4) 8 independent 1 s steps at --parallel 8 finishing in <= 1.1 s.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
build_release
start_sandbox
STEPS=${STEPS:-200}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
  echo "name: parallel8"; echo "steps:"
  for i in $(seq 8); do echo "  - { id: s$i, kind: pause, with: { duration: 1s } }"; done
} > "$dir/parallel.yaml"
{ echo "name: noop$STEPS"; echo "steps:"
  for i in $(seq "$STEPS"); do echo "  - { id: s$i, kind: shell, with: { command: 'true', readonly: true } }"; done; } > "$dir/noop.yaml"
cd "$dir"
out=$(mktemp)
# The bare spawn: what one no-op step's process costs without opsctl (hyperfine's own fork/exec/wait).
hyperfine -N --warmup 20 --runs 300 --export-json "$out" "/bin/sh -c true" >/dev/null
spawn=$(mean_of "$out" 0)
spawn_json=$(mktemp); cp "$out" "$spawn_json"
hyperfine -N --warmup 2 --runs 10 --export-json "$out" \
  "$OPSCTL run $dir/noop.yaml --parallel 1 --format json" \
  "$OPSCTL run $dir/noop.yaml --parallel 1 --no-journal --format json" \
  "$OPSCTL run $dir/noop.yaml --parallel 8 --format json" >/dev/null
serial=$(mean_of "$out" 0); nojournal=$(mean_of "$out" 1); par=$(mean_of "$out" 2)
per() { python3 -c "import sys; print(f'{(float(sys.argv[1]) - $STEPS * $spawn) / $STEPS * 1000:.3f}')" "$1"; }
o_serial=$(per "$serial"); o_nojournal=$(per "$nojournal")
echo "bare spawn of /bin/sh -c true: $(ms "$spawn"); $STEPS spawns: $(ms "$(python3 -c "print($STEPS * $spawn)")")"
echo "$STEPS no-op shell steps, --parallel 1, journal on:  $(ms "$serial") → overhead $o_serial ms/step (target <= 1 ms)"
echo "$STEPS no-op shell steps, --parallel 1, --no-journal: $(ms "$nojournal") → overhead $o_nojournal ms/step"
echo "$STEPS no-op shell steps, --parallel 8, journal on:  $(ms "$par") ($(python3 -c "print(f'{$par / $STEPS * 1000:.3f}')") ms/step wall)"
# CPU (user+sys, children included) per step beyond the spawn's: what the engine costs whatever
# else the machine runs (on a loaded machine the wall time above is mostly waiting for a core).
python3 - "$out" "$spawn_json" "$STEPS" <<'PY'
import json, sys
runs, spawn, n = json.load(open(sys.argv[1]))["results"], json.load(open(sys.argv[2]))["results"][0], int(sys.argv[3])
s = spawn["user"] + spawn["system"]
print(f"CPU: bare spawn {s*1000:.3f} ms; per step beyond it: " + ", ".join(
    f"{label} {((r['user'] + r['system']) - n * s) / n * 1000:.3f} ms" for label, r in zip(["journal on", "--no-journal", "--parallel 8"], runs)))
PY
hyperfine -N --warmup 1 --runs 5 --export-json "$out" "$OPSCTL run $dir/parallel.yaml --parallel 8 --no-journal --format json" >/dev/null
p8=$(mean_of "$out" 0)
echo "8 x 1 s pause steps, --parallel 8: $(ms "$p8") wall (target <= 1100 ms)"
result engine-serial "$(fmt "$(python3 -c "print($serial / $STEPS * 1000)")" 3)ms/step" "$(fmt "$(python3 -c "print($spawn * 1000)")" 3)ms/spawn" \
  "$(ratio "$serial" "$(python3 -c "print($STEPS * $spawn)")")" "overhead (opsctl - spawn) <= 1 ms/step, got ${o_serial} ms" "$(met_if "$o_serial <= 1.0")"
result engine-nojournal "$(fmt "$(python3 -c "print($nojournal / $STEPS * 1000)")" 3)ms/step" "$(fmt "$(python3 -c "print($spawn * 1000)")" 3)ms/spawn" \
  "$(ratio "$nojournal" "$(python3 -c "print($STEPS * $spawn)")")" "overhead <= 1 ms/step, got ${o_nojournal} ms" "$(met_if "$o_nojournal <= 1.0")"
result engine-parallel8 "$(fmt "$(python3 -c "print($par / $STEPS * 1000)")" 3)ms/step" "$(fmt "$(python3 -c "print($spawn * 1000)")" 3)ms/spawn" \
  "$(ratio "$par" "$(python3 -c "print($STEPS * $spawn)")")" "(information: --parallel 8 wall per step)" yes
result engine-8x1s "$(fmt "$(python3 -c "print($p8 * 1000)")" 0)ms" "1000ms" "$(ratio "$p8" 1)" "<= 1.10x (8 x 1 s steps in parallel)" "$(met_if "$p8 <= 1.1")"

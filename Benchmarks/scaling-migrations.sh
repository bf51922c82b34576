#!/usr/bin/env bash
# Issue 12 item 8 (migrations): `opsctl migrate lint` of one file of 1k/2k/5k/10k statements and
# `opsctl migrate apply` (the whole migrate runbook: status, lint, apply, verify) of one file of
# 1k/10k/200k statements must scale linearly: each size within 2x of the 1k time x (n / 1k).
# Before the fix lint took 1.8 s, 8.4 s, 45 s for 1k, 2k, 5k statements (quadratic).
# Prints the curve and the ratio to linear (1.00 = linear; target <= 2.00).
# LINT_SIZES / APPLY_SIZES override the sizes; SKIP_BUILD=1 reuses the release binary,
# OPSCTL_BIN=path uses another build.
source "$(dirname "$0")/lib.sh"
need psql postgresql-client
build_release
start_sandbox

LINT_SIZES=${LINT_SIZES:-"1000 2000 5000 10000"}
APPLY_SIZES=${APPLY_SIZES:-"1000 10000 200000"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sock=${BENCH_SANDBOX_DIR:-/tmp/opsctl-bench-sandbox}
export PGHOST=$sock PGPORT=${BENCH_SANDBOX_PORT:-55439} PGUSER=postgres

# One lint-clean migration of n statements: a new table every 1,000 statements, then columns, an index
# and rows for it (what a large data or schema migration looks like), and its down script.
generate() {
  local dir=$1 n=$2
  mkdir -p "$dir"
  python3 - "$dir" "$n" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(f"{d}/001_bulk.sql", "w") as up, open(f"{d}/001_bulk.down.sql", "w") as down:
    up.write("SET lock_timeout = '5s';\nSET statement_timeout = '5min';\n")
    i, table = 2, 0
    while i < n:
        if (i - 2) % 1000 == 0:
            table += 1
            up.write(f"CREATE TABLE bulk{table} (id bigint PRIMARY KEY, note text NOT NULL);\n")
            up.write(f"ALTER TABLE bulk{table} ADD COLUMN source text;\n")
            up.write(f"CREATE INDEX bulk{table}_note ON bulk{table} (note);\n")
            down.write(f"DROP TABLE bulk{table};\n")
            i += 3
        else:
            up.write(f"INSERT INTO bulk{table} (id, note) VALUES ({i}, 'row {i}');\n")
            i += 1
PY
}

seconds() { python3 -c 'import time; print(time.monotonic())'; }

# time_of LABEL COMMAND...: wall seconds of one run; a failing command stops the benchmark.
time_of() {
  local start end out
  out=$(mktemp)
  start=$(seconds)
  if ! "$@" >"$out" 2>&1; then echo "FAILED: $*" >&2; tail -20 "$out" >&2; exit 1; fi
  end=$(seconds)
  rm -f "$out"
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$start" "$end"
}

curve() {
  local what=$1 base_n=$2 base_t=$3 n=$4 t=$5
  python3 -c "
import sys
what, bn, bt, n, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
linear = bt * n / bn
r = t / linear
print(f'{what:6} {n:>7} statements: {t:8.2f} s   linear from {bn}: {linear:8.2f} s   ratio {r:.2f} ' + ('ok' if r <= 2 else 'SUPERLINEAR'))
with open(sys.argv[6], 'a') as f: print(f'{n} {t:.2f} {linear:.2f} {r:.2f}', file=f)
" "$what" "$base_n" "$base_t" "$n" "$t" "$work/ratios-$what"
}

echo "lint of one migration file (opsctl migrate lint --dir: statement and repository rules)"
base_n=; base_t=
for n in $LINT_SIZES; do
  generate "$work/lint$n" "$n"
  t=$(time_of "$OPSCTL" migrate lint --dir "$work/lint$n" --no-journal --format json)
  [ -n "$base_n" ] || { base_n=$n; base_t=$t; }
  curve lint "$base_n" "$base_t" "$n" "$t"
done

echo "apply of one migration file (opsctl migrate apply: status, lint, apply in one transaction, verify)"
base_n=; base_t=
for n in $APPLY_SIZES; do
  generate "$work/apply$n" "$n"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS scaling WITH (FORCE)" -c "CREATE DATABASE scaling"
  t=$(DATABASE_URL="postgresql://postgres@/scaling?host=$sock&port=$PGPORT" \
      time_of "$OPSCTL" migrate apply --dir "$work/apply$n" --no-journal --format json)
  [ -n "$base_n" ] || { base_n=$n; base_t=$t; }
  curve apply "$base_n" "$base_t" "$n" "$t"
done

# One RESULT line per curve: its worst ratio to linear, with the largest size's times.
for what in lint apply; do
  read -r n t linear <<<"$(tail -n 1 "$work/ratios-$what" | cut -d' ' -f1-3)"
  worst=$(sort -k4 -g "$work/ratios-$what" | tail -n 1 | cut -d' ' -f4)
  met=$(python3 -c "import sys; print('yes' if float(sys.argv[1]) <= 2 else 'no')" "$worst")
  result "scaling-$what" "${t}s" "${linear}s" "$worst" "<= 2x linear from 1k statements (worst size; times at $n)" "$met"
done

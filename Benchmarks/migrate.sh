#!/usr/bin/env bash
# Issue 17 target 2: `opsctl migrate apply` of 200 and 1,000 small two-statement migrations into a fresh
# database vs the same SQL piped through ONE psql session (target: opsctl <= 1.2x), every safety kept
# (advisory lock, checksums, history, one transaction per migration, verify, events). COMPARE_ALL=1 adds
# the older baselines (a `psql -f` per file, `sqitch deploy`); then `opsctl migrate lint --dir` over
# 1,000 files (target < 1 s). The database is dropped and re-created before every run (hyperfine --prepare);
# one more run of each prints its CPU split (client process, all of Postgres), which load does not inflate,
# and the sessions it opened.
#   Benchmarks/migrate.sh                 # 200 and 1,000 migrations, 5 runs each
#   SIZES="200" RUNS=3 Benchmarks/migrate.sh
# SKIP_BUILD=1 reuses .build-release/release/opsctl; BENCH_SANDBOX_DIR/BENCH_SANDBOX_PORT pick the sandbox.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
need psql postgresql-client
if [ -n "${COMPARE_ALL:-}" ]; then
  need sqitch sqitch
  perl -MDBD::Pg -e 1 2>/dev/null || need __dbd_pg_perl__ libdbd-pg-perl
fi
build_release
start_sandbox

SIZES=${SIZES:-${N:-"200 1000"}}
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# N small lint-clean migrations (the lint corpus deliberately holds findings, which would stop apply):
# odd versions create a table with an index, even ones add a column to it and insert a row; each file
# sets its lock and statement timeouts first, as the lint rules ask.
generate_clean() {
  local dir=$1 n=$2 i v p
  mkdir -p "$dir"
  for i in $(seq 1 "$n"); do
    v=$(printf '%04d' "$i")
    if [ $((i % 2)) -eq 1 ]; then
      printf "SET lock_timeout = '5s';\nSET statement_timeout = '5min';\nCREATE TABLE b%s (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    name text NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\nCREATE INDEX b%s_created ON b%s (created_at);\n" "$i" "$i" "$i" > "$dir/${v}_create_b$i.sql"
      printf 'DROP TABLE b%s;\n' "$i" > "$dir/${v}_create_b$i.down.sql"
    else
      p=$((i - 1))
      printf "SET lock_timeout = '5s';\nSET statement_timeout = '5min';\nALTER TABLE b%s ADD COLUMN note text;\nINSERT INTO b%s (name, note) VALUES ('seed', E'it''s %s');\n" "$p" "$p" "$i" > "$dir/${v}_note_b$p.sql"
      printf "SET lock_timeout = '5s';\nALTER TABLE b%s DROP COLUMN note; -- opsctl:ignore ban-drop-column\n" "$p" > "$dir/${v}_note_b$p.down.sql"
    fi
  done
}

# The sandbox listens on a unix socket: psql and sqitch (libpq underneath) find it through PG* variables.
sock=${BENCH_SANDBOX_DIR:-/tmp/opsctl-bench-sandbox}
port=${BENCH_SANDBOX_PORT:-55439}
export PGHOST=$sock PGPORT=$port PGUSER=postgres
db=migbench
url="postgresql://postgres@/$db?host=$sock&port=$port"
fresh="psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $db WITH (FORCE)' -c 'CREATE DATABASE $db'"
results=()
# CPU seconds of all of Postgres, user and system: the postmaster's reaped children (each run's backends
# exit) plus live ones. System time is mostly the kernel creating and removing relation files (ext4 inode
# allocation after many dropped databases), the same for both contenders; user time is Postgres' own work.
hz=$(getconf CLK_TCK)
postmaster=$(psql -X -qtA -d postgres -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" | xargs -r ps -o ppid= -p | tr -d ' ')
pg_cpu() { sleep 0.3  # let the postmaster reap the run's backends
           { awk '{print $14 + $16, $15 + $17}' "/proc/$postmaster/stat"
             # (a backend may exit between ps and awk: not an error of the benchmark)
             for pid in $(ps -o pid= --ppid "$postmaster"); do awk '{print $14, $15}' "/proc/$pid/stat" 2>/dev/null || true; done; } \
           | awk -v hz="$hz" '{u += $1; s += $2} END {printf "%.3f %.3f", u / hz, s / hz}'; }
# Sessions opened in the benchmark database so far (each costs the server a backend start); read from
# another database so the probe is not counted.
sessions() { psql -X -qtA -d postgres -c "SELECT coalesce((SELECT sessions FROM pg_stat_database WHERE datname = '$db'), 0)" || echo 0; }
# cpu_split NAME COMMAND: one more run into a fresh database, printing client and Postgres CPU seconds
# and how many sessions it opened.
cpu_split() {
  eval "$fresh"; local before after client opened
  before=$(pg_cpu); opened=$(sessions)
  /usr/bin/time -f "%U %S" -o "$work/cpu.time" sh -c "$2" >/dev/null
  after=$(pg_cpu); opened=$(( $(sessions) - opened ))
  client=$(awk '{print $1 + $2}' "$work/cpu.time")
  echo "  CPU, $1: client $(fmt "$client") s, Postgres $(python3 -c "
b, a = [float(x) for x in '$before'.split()], [float(x) for x in '$after'.split()]
print(f'{a[0] + a[1] - b[0] - b[1]:.2f} s (user {a[0] - b[0]:.2f}, system {a[1] - b[1]:.2f})')"); $opened session(s)"
}

for N in $SIZES; do
  mig="$work/migrations$N"
  generate_clean "$mig" "$N"
  # Every up file, in order, through one psql session that stops at the first error.
  cat > "$work/psql-session$N.sh" <<SESSION
#!/bin/sh
for f in "$mig"/*.sql; do case \$f in *.down.sql) ;; *) cat "\$f" ;; esac; done \\
  | psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null
SESSION
  chmod +x "$work/psql-session$N.sh"

  # Each contender must actually apply everything once before we time it.
  eval "$fresh"
  DATABASE_URL=$url "$OPSCTL" migrate apply --dir "$mig" --no-journal --format json >/dev/null || true
  applied=$(psql -X -tA -d $db -c "SELECT count(*) FROM opsctl.schema_migrations WHERE status = 'applied'")
  events=$(psql -X -tA -d $db -c "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action = 'apply'")
  [ "$applied" = "$N" ] && [ "$events" = "$N" ] || { echo "opsctl applied $applied of $N migrations ($events events)" >&2; exit 1; }
  eval "$fresh"
  "$work/psql-session$N.sh"
  tables=$(psql -X -tA -d $db -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
  [ "$tables" = "$(( (N + 1) / 2 ))" ] || { echo "the psql session created $tables tables" >&2; exit 1; }

  out="$work/apply$N.json"
  cmds=(-n "opsctl migrate apply" "DATABASE_URL='$url' $OPSCTL migrate apply --dir $mig --no-journal --format json >/dev/null"
        -n "one psql session" "$work/psql-session$N.sh")
  if [ -n "${COMPARE_ALL:-}" ]; then
    # psql on each up file (what a shell-script runner does), and a sqitch project of the same files.
    cat > "$work/psql-loop$N.sh" <<LOOP
#!/bin/sh
set -e
for f in "$mig"/*.sql; do
  case \$f in *.down.sql) continue ;; esac
  psql -X -q -v ON_ERROR_STOP=1 -d $db -f "\$f" >/dev/null
done
LOOP
    chmod +x "$work/psql-loop$N.sh"
    sq="$work/sqitch$N"
    mkdir -p "$sq/deploy" "$sq/revert" "$sq/verify"
    printf '[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n[user]\n\tname = bench\n\temail = bench@example.com\n' > "$sq/sqitch.conf"
    {
      printf '%%syntax-version=1.0.0\n%%project=migbench\n\n'
      for f in "$mig"/*.sql; do
        case $f in *.down.sql) continue ;; esac
        name=$(basename "$f" .sql)
        cp "$f" "$sq/deploy/$name.sql"
        cp "${f%.sql}.down.sql" "$sq/revert/$name.sql"
        echo "$name 2026-01-01T00:00:00Z bench <bench@example.com> # $name"
      done
    } > "$sq/sqitch.plan"
    cmds+=(-n "psql -f loop" "$work/psql-loop$N.sh" -n "sqitch deploy" "cd $sq && sqitch deploy --target db:pg:$db >/dev/null")
  fi
  hyperfine --runs "$RUNS" --prepare "$fresh" --export-json "$out" "${cmds[@]}" >/dev/null
  o=$(mean_of "$out" 0); s=$(mean_of "$out" 1)
  r=$(ratio "$o" "$s")
  echo "apply $N migrations into a fresh database (mean of $RUNS):"
  echo "  opsctl migrate apply: $(ms "$o")  (min $(python3 -c "import json; print(round(min(json.load(open('$out'))['results'][0]['times'])*1000, 1))") ms)"
  echo "  one psql session:     $(ms "$s")  (min $(python3 -c "import json; print(round(min(json.load(open('$out'))['results'][1]['times'])*1000, 1))") ms)"
  echo "  opsctl / psql session = ${r}x (target <= 1.2x)"
  if [ -n "${COMPARE_ALL:-}" ]; then
    echo "  psql -f loop:  $(ms "$(mean_of "$out" 2)")   opsctl / loop   = $(ratio "$o" "$(mean_of "$out" 2)")x"
    echo "  sqitch deploy: $(ms "$(mean_of "$out" 3)")   opsctl / sqitch = $(ratio "$o" "$(mean_of "$out" 3)")x"
  fi
  # Where opsctl's wall time goes (OPSCTL_PHASES=1 timeline of one more run into a fresh database):
  # the fixed cost before the first migration is sent and after the last is read back, which no
  # server work overlaps.
  eval "$fresh"
  DATABASE_URL=$url OPSCTL_PHASES=1 "$OPSCTL" migrate apply --dir "$mig" --no-journal --format json 2>"$work/phases" >/dev/null || true
  python3 - "$work/phases" <<'PHASES'
import sys
marks = {}
for line in open(sys.argv[1]):
    parts = line.split(None, 4)
    if len(parts) == 5 and parts[0] == "phase":
        marks.setdefault(parts[4].strip(), float(parts[1]))
first, last, end = marks.get("first migration sent"), marks.get("last migration read back"), marks.get("report written")
if first is not None and last is not None and end is not None:
    print(f"  timeline (one run): first migration sent at {first:.1f} ms after main(), last read back at {last:.1f} ms, "
          f"report written at {end:.1f} ms: {first + end - last:.1f} ms of fixed cost beside {last - first:.1f} ms of migrations")
PHASES
  # Wall time on a shared machine is mostly waiting for a core: say where the CPU went.
  cpu_split "opsctl migrate apply" "DATABASE_URL='$url' $OPSCTL migrate apply --dir $mig --no-journal --format json"
  cpu_split "one psql session" "$work/psql-session$N.sh"
  met=$(python3 -c "print('yes' if float('$r') <= 1.2 else 'no')")
  results+=("RESULT name=migrate-$N opsctl=$(python3 -c "print(f'{$o:.3f}')")s baseline=$(python3 -c "print(f'{$s:.3f}')")s ratio=$r target=<=1.2x-one-psql-session met=$met")
done

lint="$work/lint"
"$ROOT/Benchmarks/lint-corpus/generate.sh" "$lint" 1000 >/dev/null   # 1,000 migrations (+ their downs)
files=$(find "$lint" -name '*.sql' ! -name '*.down.sql' | wc -l); downs=$(find "$lint" -name '*.down.sql' | wc -l)
hyperfine -N -i --warmup 1 --runs "$RUNS" --export-json "$work/lint.json" \
  "$OPSCTL migrate lint --dir $lint --no-journal --format json" >/dev/null
l=$(mean_of "$work/lint.json" 0)
echo "lint $files migration files (+ $downs down scripts) with opsctl migrate lint --dir: $(ms "$l") (target < 1000 ms)"
for line in "${results[@]}"; do echo "$line"; done
echo "RESULT name=migrate-lint-1000 opsctl=$(python3 -c "print(f'{$l*1000:.0f}')")ms baseline=1000ms ratio=$(ratio "$l" 1) target=<1s met=$(python3 -c "print('yes' if $l < 1 else 'no')")"

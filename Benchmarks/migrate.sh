#!/usr/bin/env bash
# Issue 5: apply 200 small migrations into a fresh database with `opsctl migrate apply`, with `psql -f`
# on each file in a loop, and with `sqitch deploy` of the same SQL (targets: opsctl <= 1.2x the psql
# loop, <= 1.0x sqitch); then `opsctl migrate lint --dir` over 1,000 files (target < 1 s).
# The database is dropped and re-created before every run (hyperfine --prepare).
# SKIP_BUILD=1 reuses .build-release/release/opsctl.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
need sqitch sqitch
perl -MDBD::Pg -e 1 2>/dev/null || need __dbd_pg_perl__ libdbd-pg-perl
build_release
start_sandbox

N=${N:-200}
RUNS=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mig="$work/migrations"
# N small lint-clean migrations (the lint corpus deliberately holds findings, which would stop apply):
# odd versions create a table with an index, even ones add a column to it and insert a row.
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
generate_clean "$mig" "$N"

# The sandbox listens on a unix socket: psql and sqitch (libpq underneath) find it through PG* variables.
sock=/tmp/opsctl-bench-sandbox
export PGHOST=$sock PGPORT=55439 PGUSER=postgres
db=migbench
url="postgresql://postgres@/$db?host=$sock&port=55439"
fresh="psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $db WITH (FORCE)' -c 'CREATE DATABASE $db'"

# A sqitch project whose deploy scripts are the same files (reverts are the down scripts).
sq="$work/sqitch"
mkdir -p "$sq/deploy" "$sq/revert" "$sq/verify"
cat > "$sq/sqitch.conf" <<CONF
[core]
	engine = pg
	plan_file = sqitch.plan
	top_dir = .
[user]
	name = bench
	email = bench@example.com
CONF
{
  echo "%syntax-version=1.0.0"
  echo "%project=migbench"
  echo
  for f in "$mig"/*.sql; do
    case $f in *.down.sql) continue ;; esac
    name=$(basename "$f" .sql)
    cp "$f" "$sq/deploy/$name.sql"
    cp "${f%.sql}.down.sql" "$sq/revert/$name.sql"
    echo "$name 2026-01-01T00:00:00Z bench <bench@example.com> # $name"
  done
} > "$sq/sqitch.plan"

# psql on each up file, in order, stopping at the first error (what a shell-script runner does).
cat > "$work/psql-loop.sh" <<LOOP
#!/bin/sh
set -e
for f in "$mig"/*.sql; do
  case \$f in *.down.sql) continue ;; esac
  psql -X -q -v ON_ERROR_STOP=1 -d $db -f "\$f" >/dev/null
done
LOOP
chmod +x "$work/psql-loop.sh"

# Each tool must actually apply everything once before we time it.
eval "$fresh"
DATABASE_URL=$url "$OPSCTL" migrate apply --dir "$mig" --no-journal --format json >/dev/null || true
applied=$(psql -X -tA -d $db -c "SELECT count(*) FROM opsctl.schema_migrations WHERE status = 'applied'")
[ "$applied" = "$N" ] || { echo "opsctl applied $applied of $N migrations" >&2; exit 1; }
# (hyperfine stops at a non-zero exit: a psql loop or sqitch deploy that fails is not timed either.)

out="$work/apply.json"
hyperfine --runs "$RUNS" --prepare "$fresh" --export-json "$out" \
  -n "opsctl migrate apply" "DATABASE_URL='$url' $OPSCTL migrate apply --dir $mig --no-journal --format json >/dev/null" \
  -n "psql -f loop" "$work/psql-loop.sh" \
  -n "sqitch deploy" "cd $sq && sqitch deploy --target db:pg:$db >/dev/null" >/dev/null
o=$(mean_of "$out" 0); p=$(mean_of "$out" 1); s=$(mean_of "$out" 2)
echo "apply $N migrations into a fresh database (mean of $RUNS):"
echo "  opsctl migrate apply: $(ms "$o")"
echo "  psql -f loop:         $(ms "$p")"
echo "  sqitch deploy:        $(ms "$s")"
echo "  opsctl / psql loop = $(ratio "$o" "$p")x (target <= 1.2x)"
echo "  opsctl / sqitch    = $(ratio "$o" "$s")x (target <= 1.0x)"

lint="$work/lint"
"$ROOT/Benchmarks/lint-corpus/generate.sh" "$lint" 1000 >/dev/null   # 1,000 migrations (+ their downs)
files=$(find "$lint" -name '*.sql' ! -name '*.down.sql' | wc -l); downs=$(find "$lint" -name '*.down.sql' | wc -l)
hyperfine -N -i --warmup 1 --runs "$RUNS" --export-json "$out" \
  "$OPSCTL migrate lint --dir $lint --no-journal --format json" >/dev/null
l=$(mean_of "$out" 0)
echo "lint $files migration files (+ $downs down scripts) with opsctl migrate lint --dir: $(ms "$l") (target < 1000 ms)"

#!/usr/bin/env bash
# Issue 15: the Postgres health catalog in one opsctl process against check_postgres.pl running the
# same actions one process each (as Nagios runs it), in one hyperfine run. Target: opsctl >= 10x faster.
# Also prints the time of the whole database catalog (--database-only), which has checks
# check_postgres lacks (deadlock and growth deltas, invalid/unused/duplicate indexes, top statements...).
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
need check_postgres check-postgres
build_release
start_sandbox
dir=/tmp/opsctl-bench-sandbox; port=55439
# Something for the checks to look at: tables with rows, indexes, a sequence, statistics.
psql "$DATABASE_URL" -qX >/dev/null <<'SQL'
DROP TABLE IF EXISTS bench_events, bench_members;
CREATE TABLE bench_members (id serial PRIMARY KEY, email text UNIQUE, created_at timestamptz DEFAULT now());
CREATE TABLE bench_events (id bigserial PRIMARY KEY, member int REFERENCES bench_members, kind text, body text);
INSERT INTO bench_members (email) SELECT 'm' || g || '@example.com' FROM generate_series(1, 5000) g;
INSERT INTO bench_events (member, kind, body) SELECT 1 + g % 5000, 'payment', md5(g::text) FROM generate_series(1, 50000) g;
CREATE INDEX bench_events_member ON bench_events (member);
ANALYZE;
SQL

# opsctl step id        -> check_postgres action(s): the same question asked of the server
#   database            -> connection
#   connections         -> backends
#   long-transactions   -> txn_time
#   lock-waits          -> locks
#   idle-in-transaction -> txn_idle
#   database-size       -> database_size
#   xid-wraparound      -> txn_wraparound
#   table-bloat         -> bloat (tables and indexes in one action)
#   index-bloat         -> (bloat, above)
#   vacuum-age          -> last_vacuum, last_autovacuum (opsctl reads both in one check)
#   analyze-age         -> last_analyze, last_autoanalyze
#   replication-slots   -> replication_slots
#   sequences           -> sequence
#   cache-hit-tables    -> hitratio (one ratio for tables and indexes)
#   cache-hit-indexes   -> (hitratio, above)
ids=database,connections,long-transactions,lock-waits,idle-in-transaction,database-size,xid-wraparound,table-bloat,index-bloat,vacuum-age,analyze-age,replication-slots,sequences,cache-hit-tables,cache-hit-indexes
actions=(
  "connection"
  "backends --warning=80% --critical=95%"
  "txn_time --warning=5min --critical=30min"
  "locks --warning=1 --critical=5"
  "txn_idle --warning=5min --critical=30min"
  "database_size --warning=100GB --critical=200GB"
  "txn_wraparound --warning=1073741824 --critical=1610612736"
  "bloat --warning=50% --critical=75%"
  "last_vacuum --warning=3d --critical=7d"
  "last_autovacuum --warning=3d --critical=7d"
  "last_analyze --warning=3d --critical=7d"
  "last_autoanalyze --warning=3d --critical=7d"
  "replication_slots --warning=1GB --critical=10GB"
  "sequence --warning=75% --critical=90%"
  "hitratio --warning=95% --critical=90%"
)
script=$(mktemp)
{
  echo "#!/usr/bin/env bash"
  for a in "${actions[@]}"; do
    echo "check_postgres --action=$a --dbhost=$dir --dbport=$port --dbuser=postgres --dbname=postgres >/dev/null || true"
  done
} > "$script"
chmod +x "$script"
# Both sides must actually answer: show one run of each before timing.
"$OPSCTL" health --checks "$ids" --no-journal --format json | python3 -c '
import json, sys; r = json.load(sys.stdin)["results"]
print("opsctl: %d checks: %s" % (len(r), ", ".join(x["id"] + "=" + x["status"] for x in r)))'
for a in "${actions[@]}"; do
  printf 'check_postgres %-18s %s\n' "${a%% *}" "$(check_postgres --action=$a --dbhost=$dir --dbport=$port --dbuser=postgres --dbname=postgres | head -c 90)"
done
out=$(mktemp); full=$(mktemp)
hyperfine -N -i --warmup 3 --runs 20 --export-json "$out" \
  "$OPSCTL health --checks $ids --no-journal --format json" \
  "bash $script" >/dev/null
hyperfine -N -i --warmup 3 --runs 20 --export-json "$full" "$OPSCTL health --database-only --no-journal --format json" >/dev/null
o=$(mean_of "$out" 0); c=$(mean_of "$out" 1); f=$(mean_of "$full" 0)
n=$("$OPSCTL" health --database-only --no-journal --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))')
echo "opsctl health, 15 checks in one process:            $(ms "$o")"
echo "check_postgres, the same 15 actions (one process each): $(ms "$c")"
echo "ratio check_postgres/opsctl: $(ratio "$c" "$o")x (target >= 10)"
echo "opsctl health --database-only ($n checks):           $(ms "$f")"
result health-catalog "$(fmt "$(python3 -c "print($o*1000)")" 1)ms" "$(fmt "$(python3 -c "print($c*1000)")" 1)ms" \
  "$(ratio "$c" "$o")" ">= 10x faster than check_postgres, same 15 actions (ratio = check_postgres/opsctl)" "$(met_if "$c >= 10 * $o")"
rm -f "$script" "$out" "$full"

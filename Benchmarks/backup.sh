#!/usr/bin/env bash
# Issue 15: `opsctl backup create` + `opsctl backup verify` of a generated database, side by side with
# the same work by hand (pg_dump -Fc, then createdb + pg_restore -j2 + dropdb), in one run.
# Target: within 1.2x. opsctl's extra work is measured in: sha256 of the dump, the manifest's row
# counts in the dump's snapshot, the row-count/schema-version comparison after the restore.
#   SIZE_MB=1024 (default) database size to generate; RUNS=2 alternating runs of each side.
source "$(dirname "$0")/lib.sh"
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-2}
build_release
start_sandbox
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=bench_backup_${SIZE_MB}
admin_url=$DATABASE_URL
# The generated database: events (~600 B a row, two indexes) and a smaller table, sized to SIZE_MB.
if [ "$(psql "$admin_url" -qtAc "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  echo "generating a ${SIZE_MB} MB database ($db)…"
  psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
  url=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/'+sys.argv[2])))" "$admin_url" "$db")
  rows=$(( SIZE_MB * 1024 * 1024 / 700 ))
  psql "$url" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE events (id bigserial PRIMARY KEY, provider_id text NOT NULL, type text, payload jsonb NOT NULL,
                     processed boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO events (provider_id, type, payload, processed, created_at)
SELECT 'evt_' || g, 'payment.' || (g % 7), jsonb_build_object('id', g, 'body', repeat(md5(g::text), 14)),
       g % 3 = 0, now() - make_interval(secs => g)
  FROM generate_series(1, $rows) g;
CREATE INDEX ON events (created_at);
CREATE UNIQUE INDEX ON events (provider_id);
CREATE TABLE cases (id bigserial PRIMARY KEY, event_id bigint, note text);
INSERT INTO cases (event_id, note) SELECT g, md5(g::text) FROM generate_series(1, $rows / 10) g;
ANALYZE;
SQL
fi
url=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/'+sys.argv[2])))" "$admin_url" "$db")
size=$(psql "$url" -qtAc "SELECT pg_size_pretty(pg_database_size(current_database()))")
cat > "$work/opsctl.yaml" <<YAML
environments:
  bench: {}
service:
  events: { table: events, provider_id: provider_id, payload: payload, state: { column: processed, type: bool } }
backups:
  dir: backups
  count_tables: [cases]
YAML
now() { date +%s.%N; }
opsctl_times=(); hand_times=(); verify_times=(); restore_times=()
for i in $(seq "$RUNS"); do
  rm -rf "$work/backups" "$work/hand.dump"
  t0=$(now)
  (cd "$work" && DATABASE_URL=$url "$OPSCTL" backup create --no-journal --format json >/dev/null)
  t1=$(now)
  (cd "$work" && DATABASE_URL=$url "$OPSCTL" backup verify --no-journal --format json > "$work/verify.json")
  t2=$(now)
  grep -q '"status" : "ok"\|"status":"ok"' "$work/verify.json" || { echo "opsctl backup verify did not pass:"; cat "$work/verify.json"; exit 1; }
  pg_dump -Fc -f "$work/hand.dump" "$url"
  t3=$(now)
  psql "$admin_url" -qc "CREATE DATABASE bench_restore_by_hand" >/dev/null
  pg_restore -j2 --exit-on-error --no-owner -d "$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/bench_restore_by_hand')))" "$admin_url")" "$work/hand.dump"
  psql "$admin_url" -qc "DROP DATABASE bench_restore_by_hand" >/dev/null
  t4=$(now)
  opsctl_times+=("$(python3 -c "print($t2-$t0)")"); hand_times+=("$(python3 -c "print($t4-$t2)")")
  verify_times+=("$(python3 -c "print($t2-$t1)")"); restore_times+=("$(python3 -c "print($t4-$t3)")")
  echo "run $i: opsctl create $(python3 -c "print(f'{$t1-$t0:.1f}')") s + verify $(python3 -c "print(f'{$t2-$t1:.1f}')") s | by hand pg_dump $(python3 -c "print(f'{$t3-$t2:.1f}')") s + restore $(python3 -c "print(f'{$t4-$t3:.1f}')") s"
done
mean() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:]]; print(sum(v)/len(v))" "$@"; }
o=$(mean "${opsctl_times[@]}"); h=$(mean "${hand_times[@]}"); v=$(mean "${verify_times[@]}"); r=$(mean "${restore_times[@]}")
echo "database $db: $size, $RUNS run(s) each"
echo "opsctl backup create + verify:             $(python3 -c "print(f'{$o:.1f} s')")"
echo "pg_dump -Fc + createdb/pg_restore -j2/drop: $(python3 -c "print(f'{$h:.1f} s')")"
echo "opsctl backup verify alone:                 $(python3 -c "print(f'{$v:.1f} s')")  vs restore by hand $(python3 -c "print(f'{$r:.1f} s')")"
rc=$(ratio "$o" "$h"); rv=$(ratio "$v" "$r")
met() { python3 -c "import sys; print('yes' if float(sys.argv[1]) <= 1.2 else 'no')" "$1"; }
echo "RESULT name=backup-cycle opsctl=$(python3 -c "print(f'{$o:.1f}')")s baseline=$(python3 -c "print(f'{$h:.1f}')")s ratio=$rc target=<=1.2x met=$(met "$rc")"
echo "RESULT name=backup-verify opsctl=$(python3 -c "print(f'{$v:.1f}')")s baseline=$(python3 -c "print(f'{$r:.1f}')")s ratio=$rv target=<=1.2x met=$(met "$rv")"

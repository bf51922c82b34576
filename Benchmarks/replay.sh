#!/usr/bin/env bash
# Issue 17 target 4: `opsctl replay` against the service's own signed-intake ceiling.
#   ceiling: wrk at the same concurrency, a Lua script sending EVENTS valid, pre-signed, distinct
#            events (bodies and whop signatures generated before the run, checked against
#            `opsctl webhook sign`), each one stored and processed by the service;
#   floor:   opsctl's own HTTP layer alone (Benchmarks/replay-floor.c: Sources/CCurl over libcurl, the options and
#            headers `opsctl replay` sets) sending the stored events pre-signed, with no database work, no signing
#            and no Swift: the most any libcurl client could replay at (the design card has opsctl speak HTTP
#            through libcurl);
#   opsctl:  `opsctl replay --failed --concurrency C` of EVENTS stored failed events (read, claimed,
#            signed, sent, recorded).
# The run is CPU-bound on this machine's cores, shared by the client, the service and Postgres, so a client's CPU
# per event is taken from the service: throughput ~ cores / (client + service + Postgres CPU per event).
# ROUNDS (default 5) rounds of the three runs (wrk, floor, opsctl, wrk, ...): the machine drifts between runs (the
# ceiling alone moved 4,760-7,098 events/s within an hour), so each opsctl run is judged against the ceiling measured
# just before it and the RESULT is the median round (the round whose ratio is the median; its two rates are the ones
# printed). Prints the rates, the ratios (target >= 90 %; floor / ceiling and opsctl / floor as medians too) and the
# CPU each process spent per event (utime+stime from /proc: the service, all of Postgres — backends that exit
# are counted through the postmaster's reaped-children time — and opsctl or wrk), the machine's busy share and
# the service's context switches per event.
# The old curl baseline (a sequential loop of curl + openssl, four process spawns per event) is gone:
# it measured process start-up, 16 ms per event, and a complete run of 10,000 events would take
# ~3 minutes of this shared machine to say nothing about replay; the signed wrk ceiling is the bound, and the
# first round also times curl --parallel with the same events (what libcurl's own command line gets).
source "$(dirname "$0")/lib.sh"
need wrk wrk
EVENTS=${EVENTS:-10000}
ROUNDS=${ROUNDS:-5}
CONCURRENCY=${CONCURRENCY:-64}
PORT=${PORT:-18199}
SECRET=bench_webhook_secret_0123456789abcdef
# OPSCTL_BIN / SERVICE_BIN: measure other builds of the two binaries (SKIP_BUILD=1 then).
OPSCTL=${OPSCTL_BIN:-$OPSCTL}
SERVICE=${SERVICE_BIN:-$BUILD_DIR/release/churn-saver}
build_release churn-saver
start_sandbox
ADMIN_URL=$DATABASE_URL
DB_URL=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/opsctl_replay_bench')))" "$ADMIN_URL")
# PG_STATEMENTS=1 (diagnostic): opsctl's own statements during its replay, from pg_stat_statements, in µs
# of execution per event. The library must be preloaded: the bench sandbox (only it) is restarted with it,
# and restarted without it when the script ends (it costs a few % of every statement: judge ratios without).
pg_restart() { local pg_ctl; pg_ctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pg_ctl" -D "$SANDBOX_DIR/data" -l "$SANDBOX_DIR/server.log" -w restart >/dev/null
  else "$pg_ctl" -D "$SANDBOX_DIR/data" -l "$SANDBOX_DIR/server.log" -w restart >/dev/null; fi; }
SANDBOX_DIR=${BENCH_SANDBOX_DIR:-/tmp/opsctl-bench-sandbox}
if [ -n "${PG_STATEMENTS:-}" ]; then
  psql "$ADMIN_URL" -qX -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  pg_restart
fi
# Every measured run starts from a database created for it (CREATE DATABASE checkpoints first) with the
# service's migrations: a run must not inherit anything from the one before. With the tables only emptied
# between runs, a ceiling run after an opsctl run spent 250-300 us of Postgres per event instead of 170-180
# (one pooled session's batch function reading 4,700 buffers per call instead of 850), whatever was reset.
# Autovacuum is off for the service's own tables (opsctl's tables, created by each replay, keep it): a
# background vacuum of the service's tables lands in whichever timed run is under way when the launcher
# visits (24 against 38 us per event of "the rest" in two otherwise alike opsctl runs), so each run starts
# from tables vacuumed and analysed by reset_events instead.
fresh_database() {
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS opsctl_replay_bench WITH (FORCE)" -c "CREATE DATABASE opsctl_replay_bench" >/dev/null 2>&1
  for f in $(ls "$ROOT"/examples/churn-saver/migrations/*.sql | grep -v '\.down\.sql$' | sort); do
    psql "$DB_URL" -qX -v ON_ERROR_STOP=1 -f "$f" >/dev/null
  done
  [ -z "${PG_STATEMENTS:-}" ] || psql "$DB_URL" -qX -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  psql "$DB_URL" -qX -c "DO \$\$ DECLARE t regclass; BEGIN
    FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' LOOP
      EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', t);
    END LOOP; END \$\$" >/dev/null
}
fresh_database
postmaster=$(psql "$DB_URL" -qtAX -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" | xargs -r ps -o ppid= -p | tr -d ' ')

work=$(mktemp -d)
trap 'kill ${service:-} 2>/dev/null; rm -rf "$work"; [ -z "${PG_STATEMENTS:-}" ] || { psql "$ADMIN_URL" -qX -c "ALTER SYSTEM RESET shared_preload_libraries" >/dev/null; pg_restart; }' EXIT
# Every measured run gets its service started afresh on its fresh database (stopped before the database is
# dropped): no pooled session, no plan carried over from another run.
stop_service() {
  [ -n "${service:-}" ] || return 0
  kill "$service" 2>/dev/null; wait "$service" 2>/dev/null || true; service=
}
start_service() {
  DATABASE_URL=$DB_URL WHOP_WEBHOOK_SECRET=$SECRET WEBHOOK_SCHEME=whop PORT=$PORT "$SERVICE" >/dev/null 2>&1 &
  service=$!
  # Any answer will do (with stored failed events its health is 503, queue unhealthy).
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && return; sleep 0.05; done
  echo "the service did not answer /api/health on port $PORT"; exit 1
}
URL="http://127.0.0.1:$PORT/api/webhooks/whop"
hz=$(getconf CLK_TCK)

# A fresh database with $1 stored failed events (the ceiling's runs: none), analysed, and a checkpoint just
# made, so no timed checkpoint runs inside the measured run (the timer restarts with every checkpoint).
reset_events() {  # $1 failed events to store (0: none)
  stop_service
  fresh_database
  PGOPTIONS="-c client_min_messages=warning" psql "$DB_URL" -qX >/dev/null <<SQL
INSERT INTO events (whop_event_id, type, membership_id, payload, company_id, occurred_at, received_at, created_at, error)
SELECT 'evt_bench_' || i, 'payment_failed', 'mem_' || i,
       jsonb_build_object('id', 'evt_bench_' || i, 'type', 'payment_failed', 'created_at', 1764000000,
                          'data', jsonb_build_object('membership_id', 'mem_' || i, 'company_id', 'biz_bench', 'user_id', 'user_' || i)),
       'biz_bench', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour', 'upstream timeout'
  FROM generate_series(1, $1) AS i;
VACUUM ANALYZE events;
CHECKPOINT;
SQL
}
now() { date +%s.%N; }
# PERF_DIR=dir: a system-wide `perf record -g` of each measured run (wrk-new, wrk-stored, opsctl) for
# `perf report -i dir/NAME.data --comm ...` (slows every process a little; PERF_CALLGRAPH=dwarf PERF_FREQ=999 for
# call chains through libc and libcurl, which have no frame pointers).
perf_start() { [ -z "${PERF_DIR:-}" ] || [ -z "$1" ] || { perf record -a --call-graph "${PERF_CALLGRAPH:-fp}" -F "${PERF_FREQ:-4000}" -o "$PERF_DIR/$1.data" >/dev/null 2>&1 & perf_pid=$!; sleep 0.3; }; }
perf_stop() { [ -z "${perf_pid:-}" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=; }; }
# CPU seconds (utime+stime) of live processes
cpu_of() { for pid in "$@"; do awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null; done | awk -v hz="$hz" '{s += $1} END {printf "%.3f", s / hz}'; }
# All of Postgres: the postmaster with its reaped children (cutime+cstime), plus the live children.
pg_cpu() { { awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat"
             for pid in $(ps -o pid= --ppid "$postmaster"); do awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null; done; } \
           | awk -v hz="$hz" '{s += $1} END {printf "%.3f", s / hz}'; }
# The service's pooled sessions (live client backends of the bench database other than psql's and opsctl's;
# the pool opens them during each run, its service being new): their CPU apart from the rest of Postgres
# (opsctl's own sessions, which exit and are counted through the postmaster, the WAL writer, autovacuum).
service_backends() { psql "$DB_URL" -qtAX -c "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'psql%' AND application_name NOT LIKE 'opsctl%'" | tr '\n' ' '; }
# The service commits its events in groups (EventBatcher): one transaction per group, whose start is
# every event's processed_at, so the distinct processed_at of a run are its groups. Its cost per event
# falls as groups grow, so a client whose requests arrive differently costs it a different amount.
batches() { psql "$DB_URL" -qtAX -c "SELECT count(DISTINCT processed_at) FROM events WHERE processed"; }
processed() { psql "$DB_URL" -qtAX -c "SELECT count(*) FROM events WHERE processed"; }
# The whole machine: busy and idle jiffies from /proc/stat ("busy idle"), to tell a CPU-bound run from one that waits.
machine() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
# Context switches of a process's threads so far: "voluntary involuntary" (a thread that blocks; one the scheduler preempts).
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt/ {v += $2} /^nonvoluntary_ctxt/ {n += $2} END {print v + 0, n + 0}'; }
switch_delta() { python3 -c "v0, n0, v1, n1 = map(int, '$1 $2'.split()); print(f'the service switched {(v1 - v0) / $EVENTS:.2f} voluntary + {(n1 - n0) / $EVENTS:.2f} involuntary times per event')"; }
# TCP connections opened on this machine so far (active opens: each is a connect(), the client's or a Postgres client's).
tcp_opens() { awk '$1 == "Tcp:" && $2 ~ /^[0-9]+$/ {print $6}' /proc/net/snmp; }
# busy_share BEFORE AFTER: the share of the machine's CPU time busy between the two samples, and the cores' count.
busy_share() { python3 -c "import os; b0, i0, b1, i1 = map(int, '$1 $2'.split()); print(f'machine busy {100 * (b1 - b0) / max(1, b1 - b0 + i1 - i0):.0f} % of {os.cpu_count()} cores')"; }
per_event() { python3 -c "print(f'{$1 * 1e6 / $EVENTS:.0f} us')"; }
# A measured run's samples: run_starts just before its client starts, run_ends the moment the client exited.
# run_ends sets the CPU seconds the run cost the service, all of Postgres and the service's pooled sessions
# (service_s, postgres_s, sessions_s), and t1, m1, o1, c1 beside run_starts' t0, m0, o0, c0 (wall clock, machine,
# TCP opens, the service's context switches).
run_starts() {
  service_cpu0=$(cpu_of "$service"); pg_cpu0=$(pg_cpu); pooled_cpu0=$(cpu_of $(service_backends))
  m0=$(machine); o0=$(tcp_opens); c0=$(switches "$service"); t0=$(now)
}
run_ends() {
  t1=$(now); m1=$(machine); o1=$(tcp_opens); c1=$(switches "$service")
  service_s=$(python3 -c "print($(cpu_of "$service") - $service_cpu0)"); postgres_s=$(python3 -c "print($(pg_cpu) - $pg_cpu0)")
  sessions_s=$(python3 -c "print($(cpu_of $(service_backends)) - $pooled_cpu0)")
}
# The service's and Postgres's CPU per event of the last run, as every run's line gives them.
server_cpu() { echo "service $(per_event "$service_s"), Postgres $(per_event "$postgres_s") (the service's sessions $(per_event "$sessions_s"))"; }

# The ceiling's events, made once (every round starts from an empty events table): EVENTS distinct events plus a
# 25 % reserve, so no connection ever runs out and resends. Each wrk thread stops itself once the service has answered
# `processed` for its share of EVENTS and says so through a FIFO; once every thread has, wrk is stopped (SIGINT ends
# its sleep for -d), so wrk exits the moment EVENTS are processed and answered, as opsctl does.
python3 - "$(( EVENTS + EVENTS / 4 + CONCURRENCY ))" "$SECRET" "$work/signed.tsv" "$work/first.json" <<'PY'
import hmac, hashlib, json, sys, time
n, secret, out, first = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], sys.argv[4]
ts = str(int(time.time()))
with open(out, "w") as f:
    for i in range(1, n + 1):
        body = json.dumps({"id": f"evt_wrk_{i}", "type": "payment_failed", "created_at": 1764000000,
                           "data": {"membership_id": f"mem_wrk_{i}", "company_id": "biz_bench", "user_id": f"user_{i}"}},
                          separators=(",", ":"))
        if i == 1: open(first, "w").write(body)
        f.write(hmac.new(secret, body.encode(), hashlib.sha256).hexdigest() + "\t" + ts + "\t" + body + "\n")
PY
# The benchmark's signatures are opsctl's: sign the first body with `opsctl webhook sign` and compare.
ours=$(head -1 "$work/signed.tsv" | cut -f1)
theirs=$(WHOP_WEBHOOK_SECRET=$SECRET "$OPSCTL" webhook sign --payload "$work/first.json" --scheme whop --secret-env WHOP_WEBHOOK_SECRET 2>&1 \
         | grep -i 'x-whop-signature' | grep -oE '[0-9a-f]{64}' | head -1)
[ "$ours" = "$theirs" ] || { echo "signature mismatch: benchmark $ours, opsctl webhook sign '$theirs'"; exit 1; }
threads=2
# The client floor's driver (Benchmarks/replay-floor.c), built against opsctl's own libcurl layer.
need cc gcc
cc -O2 -o "$work/replay-floor" -I "$ROOT/Sources/CCurl/include" "$ROOT/Sources/CCurl/ccurl.c" "$ROOT/Benchmarks/replay-floor.c" -ldl -lpthread
cat > "$work/signed.lua" <<'LUA'
-- Each thread sends its share of the pre-signed events (line i goes to thread i % threads), each once, and
-- stops once the service has answered `processed` for its share of the EVENTS to process (the first thread
-- takes the remainder), writing its id to the FIFO the script reads; a thread that has sent all its lines before
-- that resends them (answered `duplicate`).
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args)
  local file, threads, path, events, extra = args[1], tonumber(args[2]), args[3], tonumber(args[4]), args[6]
  fifo = args[5]
  reqs, sent, processed = {}, 0, 0
  share = math.floor(events / threads) + ((id < events % threads) and 1 or 0)
  local i = 0
  for line in io.lines(file) do
    if i % threads == id then
      local sig, ts, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json", ["x-whop-signature"] = sig, ["x-whop-timestamp"] = ts }
      if extra == "as-opsctl" then  -- the other headers opsctl's requests carry (WRK_AS_OPSCTL=1)
        headers["User-Agent"] = "opsctl/0.1.0"; headers["Accept"] = "*/*"
        headers["Accept-Encoding"] = "deflate, gzip, br, zstd"; headers["X-Opsctl-Replay"] = "rp-20261130-062927-d095"
      end
      reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
    end
    i = i + 1
  end
end
function request()
  sent = sent + 1
  return reqs[(sent - 1) % #reqs + 1]
end
function response(status, headers, body)
  if status == 200 and body:find('"processed"', 1, true) then
    processed = processed + 1
    if processed == share then
      local f = io.open(fifo, "w"); f:write(id, "\n"); f:close()
      wrk.thread:stop()
    end
  end
end
function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d non2xx=%d errors=%d\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
mkfifo "$work/done.fifo"; exec 7<>"$work/done.fifo"   # read-write: the threads' opens never block
# run_wrk FILE: wrk sends the signed events of FILE until EVENTS are processed; sets wrk_s (process wall, start-up
# included, as opsctl's), wrk_cpu, wrk_requests, wrk_non2xx, wrk_errors and run_ends' figures.
run_wrk() {  # FILE PERF-NAME [as-opsctl]
  start_service
  perf_start "$2"
  run_starts
  /usr/bin/time -f "%U %S" -o "$work/wrk.time" wrk -t$threads -c"$CONCURRENCY" -d120s -s "$work/signed.lua" "$URL" \
    -- "$1" $threads /api/webhooks/whop "$EVENTS" "$work/done.fifo" "${3:-}" > "$work/wrk.out" 2>&1 &
  local timer=$! wrk_pid= _   # $timer is /usr/bin/time: wrk is its child (found now, not by a /proc scan at the end)
  while [ -z "$wrk_pid" ]; do wrk_pid=$(cat "/proc/$timer/task/$timer/children" 2>/dev/null) || break; done
  for _ in $(seq $threads); do read -r -t 120 -u 7 _ || break; done
  kill -INT $wrk_pid 2>/dev/null; wait $timer || true
  run_ends
  perf_stop
  local done_count; done_count=$(processed)
  [ "$done_count" -ge "$EVENTS" ] || { echo "wrk stopped with $done_count of $EVENTS events processed:"; cat "$work/wrk.out"; exit 1; }
  wrk_cpu=$(awk '{print $1 + $2}' "$work/wrk.time")
  read -r wrk_requests wrk_non2xx wrk_errors < <(awk '/^WRK/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); print a[2], b[2], c[2]}' "$work/wrk.out")
  wrk_s=$(python3 -c "print($t1 - $t0)")
  wrk_batches=$(batches)
}
# timeline T0 T1: when the first and the EVENTS-th event were processed (the service stamps processed_at with its
# transaction's start, on this machine's clock), in ms from T0, and T1 (when the run was seen to end).
timeline() { read -r first_done nth_done < <(psql "$DB_URL" -qtAX -F ' ' -c "SELECT extract(epoch FROM min(processed_at)),
    (SELECT extract(epoch FROM processed_at) FROM events WHERE processed ORDER BY processed_at OFFSET $EVENTS - 1 LIMIT 1) FROM events WHERE processed")
  python3 -c "print(f'first event processed at +{($first_done - $1) * 1000:.0f} ms, the {$EVENTS}th at +{($nth_done - $1) * 1000:.0f} ms, end at +{($2 - $1) * 1000:.0f} ms')"; }

# The stored failed events' bodies as stored (payload::text, the bytes opsctl replays), signed now (every run that
# sends them pre-signed signs them afresh: the service refuses stale timestamps) into stored.tsv.
sign_stored() {
  [ -s "$work/stored.txt" ] || psql "$DB_URL" -qtAX -c "SELECT payload::text FROM events ORDER BY occurred_at, whop_event_id" > "$work/stored.txt"
  python3 - "$SECRET" "$work/stored.txt" "$work/stored.tsv" <<'PY2'
import hmac, hashlib, sys, time
secret, src, out = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
ts = str(int(time.time()))
with open(out, "w") as f:
    for body in open(src):
        body = body.rstrip("\n")
        if body:
            f.write(hmac.new(secret, body.encode(), hashlib.sha256).hexdigest() + "\t" + ts + "\t" + body + "\n")
PY2
}

# 1b. Like for like (diagnostics, not the target's baseline, first round only): the very events opsctl replays below,
# stored failed events with their bodies as stored, signed the same way, sent by wrk and by curl --parallel. For the
# service these are redeliveries (INSERT ... ON CONFLICT finds the row, SELECT ... FOR UPDATE, UPDATE), which cost it and
# its Postgres a different amount per event than new events: this separates that from opsctl's own cost. Once a wrk
# thread has sent its share it resends (answered `duplicate`) until the last batch commits.
like_for_like() {
  reset_events "$EVENTS"
  sign_stored
  run_wrk "$work/stored.tsv" wrk-stored
  echo "wrk, the same stored events (redeliveries, diagnostic): $(fmt "$(python3 -c "print($EVENTS / $wrk_s)")" 0) events/s; CPU per event: wrk $(per_event "$wrk_cpu"), $(server_cpu); $wrk_batches groups (non-2xx $wrk_non2xx)"
  # curl --parallel, the same events once each at the same concurrency, timed from process start to exit like opsctl:
  # what an operator replaying with libcurl's own command line would get (its config is read at start-up).
  reset_events "$EVENTS"
  sign_stored
  python3 - "$work/stored.tsv" "$URL" "$work/curl.cfg" <<'PY3'
import sys
src, url, out = sys.argv[1:]
q = lambda v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
with open(out, "w") as f:
    for i, line in enumerate(open(src)):
        sig, ts, body = line.rstrip("\n").split("\t", 2)
        if i: f.write("next\n")
        f.write(f"url = {q(url)}\nheader = {q('Content-Type: application/json')}\nheader = {q('x-whop-signature: ' + sig)}\n"
                f"header = {q('x-whop-timestamp: ' + ts)}\ndata-binary = {q(body)}\noutput = /dev/null\n")
PY3
  start_service
  run_starts
  /usr/bin/time -f "%U %S" -o "$work/curl.time" curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$CONCURRENCY" -K "$work/curl.cfg" >/dev/null
  run_ends
  local curl_s curl_cpu; curl_s=$(python3 -c "print($t1 - $t0)"); curl_cpu=$(awk '{print $1 + $2}' "$work/curl.time")
  echo "curl --parallel, the same stored events (diagnostic): $(fmt "$(python3 -c "print($EVENTS / $curl_s)")" 0) events/s; CPU per event: curl $(per_event "$curl_cpu"), $(server_cpu); processed $(processed), $(batches) groups"
  if [ -n "${WRK_AS_OPSCTL:-}" ]; then  # (a) wrk with opsctl's request headers: does the service pay for them?
    reset_events "$EVENTS"
    sign_stored
    run_wrk "$work/stored.tsv" wrk-stored-headers as-opsctl
    echo "wrk, the same stored events with opsctl's headers (User-Agent, Accept, Accept-Encoding, X-Opsctl-Replay): $(fmt "$(python3 -c "print($EVENTS / $wrk_s)")" 0) events/s; CPU per event: wrk $(per_event "$wrk_cpu"), $(server_cpu); $wrk_batches groups (non-2xx $wrk_non2xx)"
  fi
}

# 1c. opsctl's HTTP floor, every round: Benchmarks/replay-floor.c drives opsctl's own HTTP layer (Sources/CCurl over
# libcurl's multi interface, the options and headers `opsctl replay` sets) with the same stored events pre-signed, and
# does nothing else: no database, no signing, no Swift. The design card has opsctl speak HTTP through libcurl, so no
# replay can beat this; opsctl / floor is the share of it left after reading, signing and durably recording every event.
# Sets floor_rate.
run_floor() {
  reset_events "$EVENTS"
  sign_stored
  start_service
  run_starts
  /usr/bin/time -f "%U %S" -o "$work/floor.time" "$work/replay-floor" "$work/stored.tsv" "$URL" "$CONCURRENCY" > "$work/floor.out" \
    || { echo "replay-floor failed:"; cat "$work/floor.out"; exit 1; }
  run_ends
  local floor_s floor_user floor_sys; floor_s=$(python3 -c "print($t1 - $t0)"); read -r floor_user floor_sys < "$work/floor.time"
  floor_rate=$(python3 -c "print($EVENTS / $floor_s)")
  echo "opsctl's HTTP floor (Sources/CCurl + libcurl alone, the same stored events pre-signed, no database): $(fmt "$floor_rate" 0) events/s; CPU per event: client $(per_event "$(python3 -c "print($floor_user + $floor_sys)")") (user $(per_event "$floor_user"), system $(per_event "$floor_sys")), $(server_cpu); processed $(processed), $(batches) groups; $(timeline "$t0" "$t1"); $(busy_share "$m0" "$m1"); $(switch_delta "$c0" "$c1")"
}

# 2. opsctl replay of the same number of stored failed events; sets opsctl_s, opsctl_rate.
cat > "$work/opsctl.yaml" <<YAML
environments:
  bench:
    base_url: http://127.0.0.1:$PORT
    webhook: { scheme: whop, secret_env: WHOP_WEBHOOK_SECRET, path: /api/webhooks/whop }
YAML
run_opsctl() {  # ROUND
  reset_events "$EVENTS"
  local statements=; [ -z "${PG_STATEMENTS:-}" ] || [ "$1" != 1 ] || statements=1
  [ -z "$statements" ] || psql "$DB_URL" -qtAX -c "SELECT pg_stat_statements_reset()" >/dev/null
  start_service
  [ "$1" != 1 ] || perf_start opsctl
  run_starts
  # TRACE=1: opsctl prints how full it kept its request slots and what its send thread waited for (OPSCTL_TRACE_REPLAY).
  (cd "$work" && DATABASE_URL=$DB_URL WHOP_WEBHOOK_SECRET=$SECRET OPSCTL_TRACE_REPLAY=${TRACE:+1} /usr/bin/time -f "%U %S" -o "$work/opsctl.time" "$OPSCTL" replay --failed \
    --concurrency "$CONCURRENCY" --format json --output "$work/replay.json") || { echo "opsctl replay failed:"; cat "$work/replay.json"; exit 1; }
  run_ends
  perf_stop
  read -r opsctl_user opsctl_sys < "$work/opsctl.time"
  opsctl_cpu=$(python3 -c "print($opsctl_user + $opsctl_sys)")
  opsctl_s=$(python3 -c "print($t1 - $t0)")
  opsctl_rate=$(python3 -c "print($EVENTS / $opsctl_s)")
  replayed=$(processed)
  opsctl_batches=$(batches)
  echo "opsctl replay: $EVENTS events in $(fmt "$opsctl_s") s = $(fmt "$opsctl_rate" 0) events/s (concurrency $CONCURRENCY, process wall incl. start-up); processed $replayed"
  echo "CPU per event (opsctl run): opsctl $(per_event "$opsctl_cpu") (user $(per_event "$opsctl_user"), system $(per_event "$opsctl_sys")), service $(per_event "$service_s"), Postgres $(per_event "$postgres_s") (the service's sessions $(per_event "$sessions_s"), the rest — opsctl's sessions, WAL writer, autovacuum — $(per_event "$(python3 -c "print($postgres_s - $sessions_s)")")); the service committed them in $opsctl_batches groups"
  if [ -n "$statements" ]; then  # opsctl's statements: those naming schema opsctl or a replay_id, its locks, DDL and settings
    echo "opsctl's statements during its replay (pg_stat_statements, execution time; the service's statements left out):"
    psql "$DB_URL" -qtAX -F ' | ' <<SQL
CREATE TEMP VIEW mine AS SELECT * FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query !~* 'pg_stat_statements'
   AND query ~* 'opsctl|replay_id|pg_advisory_lock|pg_try_advisory|pg_advisory_unlock|ANALYZE|REPEATABLE READ|statement_timeout|client_min_messages|application_name';
SELECT to_char(total_exec_time * 1000 / $EVENTS, 'FM9990.00') || ' us/event', to_char(total_exec_time, 'FM99990.0') || ' ms',
       calls || ' calls', left(regexp_replace(query, '\s+', ' ', 'g'), 120)
  FROM mine ORDER BY total_exec_time DESC LIMIT 15;
SELECT 'all of them: ' || to_char(sum(total_exec_time) * 1000 / $EVENTS, 'FM9990.00') || ' us/event, ' || sum(calls) || ' calls' FROM mine;
SQL
  fi
  echo "opsctl timeline: $(timeline "$t0" "$t1") (process exit); $(busy_share "$m0" "$m1"), $((o1 - o0)) TCP connections opened; $(switch_delta "$c0" "$c1")"
  [ "$replayed" = "$EVENTS" ] || { echo "only $replayed of $EVENTS replayed events were processed"; replay_complete=no; }
}

replay_complete=yes
rounds=()   # "ratio opsctl_rate wrk_rate floor_rate" per round
for round in $(seq "$ROUNDS"); do
  echo "--- round $round of $ROUNDS"
  # 1. The ceiling: wrk sending distinct, validly signed events on C connections until EVENTS are processed.
  reset_events 0
  run_wrk "$work/signed.tsv" "$([ "$round" = 1 ] && echo wrk-new)"
  wrk_rate=$(python3 -c "print($EVENTS / $wrk_s)")
  read -r wrk_user wrk_sys < "$work/wrk.time"
  echo "wrk ceiling: $EVENTS distinct signed events processed in $(fmt "$wrk_s") s = $(fmt "$wrk_rate" 0) events/s (c=$CONCURRENCY, $threads threads; wrk sent $wrk_requests before it was stopped, non-2xx $wrk_non2xx, socket errors $wrk_errors)"
  [ "${wrk_non2xx:-1}" = 0 ] || { echo "the ceiling run is not valid (rejected events):"; cat "$work/wrk.out"; exit 1; }
  echo "CPU per event (wrk run): wrk $(per_event "$wrk_cpu") (user $(per_event "$wrk_user"), system $(per_event "$wrk_sys")), $(server_cpu); the service committed them in $wrk_batches groups"
  echo "wrk timeline: $(timeline "$t0" "$t1") (process exit); $(busy_share "$m0" "$m1"), $((o1 - o0)) TCP connections opened; $(switch_delta "$c0" "$c1")"
  if [ "$round" = 1 ]; then saved_rate=$wrk_rate; like_for_like; wrk_rate=$saved_rate; fi
  run_floor
  run_opsctl "$round"
  r=$(python3 -c "print(f'{$opsctl_rate / $wrk_rate:.4f}')")
  echo "round $round: opsctl / signed ceiling: $(python3 -c "print(f'{100 * $r:.1f}')") %; HTTP floor / ceiling $(python3 -c "print(f'{100 * $floor_rate / $wrk_rate:.1f}')") %; opsctl / HTTP floor $(python3 -c "print(f'{100 * $opsctl_rate / $floor_rate:.1f}')") %"
  rounds+=("$r $opsctl_rate $wrk_rate $floor_rate")
done
# The median round (by ratio; with an even ROUNDS the lower of the two middle ones).
read -r median_ratio opsctl_rate wrk_rate floor_rate < <(printf '%s\n' "${rounds[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
echo "rounds (opsctl / ceiling): $(printf '%s\n' "${rounds[@]}" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1}'); median round: $(fmt "$opsctl_rate" 0) against $(fmt "$wrk_rate" 0) events/s = $(python3 -c "print(f'{100 * $median_ratio:.1f}')") % (target >= 90 %)"
# The floor's own medians, each over the rounds: how far libcurl alone gets against wrk, and opsctl against libcurl alone.
echo "rounds (HTTP floor / ceiling): $(printf '%s\n' "${rounds[@]}" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $4 / $3}'), median $(printf '%s\n' "${rounds[@]}" | awk '{print $4 / $3}' | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p" | xargs printf '%.2f'); rounds (opsctl / HTTP floor): $(printf '%s\n' "${rounds[@]}" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $2 / $4}'), median $(printf '%s\n' "${rounds[@]}" | awk '{print $2 / $4}' | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p" | xargs printf '%.2f')"
result replay-ceiling "$(fmt "$opsctl_rate" 0)ev/s" "$(fmt "$wrk_rate" 0)ev/s" "$(ratio "$opsctl_rate" "$wrk_rate")" \
  ">= 0.90x wrk signed ceiling (c=$CONCURRENCY, median of $ROUNDS rounds)" "$(met_if "$median_ratio >= 0.9 and '$replay_complete' == 'yes'")"

#!/usr/bin/env bash
# "Top 20 error messages with counts" on a generated 1 GB pino JSONL file:
# opsctl vs the normalising coreutils pipeline vs lnav. Prints times, ratios and peak RSS,
# and checks opsctl's answer (and the pipeline's) against the generator's ground truth.
#
#   Benchmarks/logs.sh                 # builds `opsctl` in release (static Swift runtime, .build-release)
#   OPSCTL=/path/to/bin Benchmarks/logs.sh   # any binary taking `logs analyze FILE --top 20 --format json`
#   SIZE=300M Benchmarks/logs.sh       # another corpus size (cached in /tmp per size)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-1G}
CORPUS=/tmp/opsctl-logs-$SIZE.jsonl
TRUTH=/tmp/opsctl-logs-$SIZE.truth.json
WORK=$(mktemp -d /tmp/opsctl-logs-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C

need() { command -v "$1" >/dev/null 2>&1; }
if ! need lnav; then
    echo "installing lnav (Debian package) ..." >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq lnav >/dev/null || { apt-get update -qq && apt-get install -y -qq lnav >/dev/null; }
    else sudo apt-get install -y -qq lnav >/dev/null; fi
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

# --- the binary under test ------------------------------------------------------------
if [ -z "${OPSCTL:-}" ]; then
    [ -n "${SKIP_BUILD:-}" ] || swift build -c release --static-swift-stdlib --scratch-path .build-release --product opsctl >&2
    OPSCTL=.build-release/release/opsctl
fi

# --- corpus (cached; regenerated when the generator changes) ---------------------------
STAMP=$(sha1sum Benchmarks/loggen/loggen.py | cut -c1-12)
if [ ! -s "$CORPUS" ] || [ ! -s "$TRUTH" ] || [ "$(cat "$CORPUS.stamp" 2>/dev/null)" != "$STAMP" ]; then
    echo "generating $SIZE corpus in $CORPUS (once) ..." >&2
    python3 Benchmarks/loggen/loggen.py --bytes "$SIZE" --out "$CORPUS" --truth "$TRUTH"
    echo "$STAMP" > "$CORPUS.stamp"
fi
BYTES=$(stat -L -c %s "$CORPUS")
cat "$CORPUS" > /dev/null   # warm the page cache: every contender reads from memory

# measure NAME OUTPUT CMD...: wall seconds and peak RSS (KB) from /usr/bin/time -v
measure() {
    local name=$1 out=$2; shift 2
    /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$out"
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$WORK/$name.time" > "$WORK/$name.secs"
    awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/$name.time" > "$WORK/$name.rss"
    awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$WORK/$name.time" > "$WORK/$name.cpu"
}

# 1. coreutils: the same normalisation as opsctl's fingerprints (quoted, uuid, email, ip, hex, numbers).
cat > "$WORK/pipeline.sh" <<'SH'
grep -E '"level":(50|60)' "$1" \
  | sed -E -e 's/.*"msg":"(([^"\\]|\\.)*)".*/\1/' \
           -e "s/'[^']*'/<str>/g" \
           -e 's/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/<uuid>/g' \
           -e 's/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+/<email>/g' \
           -e 's/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}/<ip>/g' \
           -e 's/\b([0-9a-f]*[0-9][0-9a-f]*[a-f]|[0-9a-f]*[a-f][0-9a-f]*[0-9])[0-9a-f]*\b/<hex>/g' \
           -e 's/[0-9]+/<num>/g' \
  | sort | uniq -c | sort -rn | head -20
SH
echo "coreutils pipeline ..." >&2
measure pipeline "$WORK/pipeline.out" sh "$WORK/pipeline.sh" "$CORPUS"

# 2. lnav, headless, with a pino format. lnav 0.11's regexp_replace() returns corrupted strings
#    when grouped, so lnav groups the raw messages: less work than the others (conservative ratio).
mkdir -p "$WORK/home/.lnav/formats/installed"
cat > "$WORK/home/.lnav/formats/installed/pino.json" <<'JSON'
{
  "$schema": "https://lnav.org/schemas/format-v1.schema.json",
  "pino_log": {
    "title": "pino JSON lines", "description": "pino-style JSON lines with numeric levels",
    "json": true, "file-pattern": "\\.jsonl$",
    "level-field": "level",
    "level": { "trace": "10", "debug": "20", "info": "30", "warning": "40", "error": "50", "fatal": "60" },
    "timestamp-field": "time", "timestamp-divisor": 1000,
    "value": {
      "level": { "kind": "integer" }, "time": { "kind": "integer" }, "pid": { "kind": "integer" },
      "hostname": { "kind": "string", "identifier": true }, "reqId": { "kind": "string", "identifier": true },
      "route": { "kind": "string", "identifier": true }, "duration_ms": { "kind": "integer" },
      "msg": { "kind": "string" }
    }
  }
}
JSON
LNAV_QUERY=";SELECT count(*) AS n, msg FROM pino_log WHERE log_level IN ('error', 'fatal') GROUP BY msg ORDER BY n DESC LIMIT 20"
echo "lnav ..." >&2
measure lnav "$WORK/lnav.out" env HOME="$WORK/home" lnav -n -c "$LNAV_QUERY" "$CORPUS"

# 3. opsctl
echo "opsctl ($OPSCTL) ..." >&2
measure opsctl "$WORK/opsctl.json" "$OPSCTL" logs analyze "$CORPUS" --top 20 --format json

# --- check the answers against the ground truth, print the figures -----------------------
python3 - "$WORK" "$TRUTH" "$BYTES" <<'PY'
import json, sys
work, truth_path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
truth = json.load(open(truth_path))
expected = sorted(truth["fingerprints"].items(), key=lambda kv: (-kv[1], kv[0]))[:20]
report = json.load(open(f"{work}/opsctl.json"))
got = [(f["fingerprint"], f["count"]) for f in report["top_fingerprints"]]
pipe = []
for line in open(f"{work}/pipeline.out"):
    n, _, msg = line.strip().partition(" ")
    pipe.append((msg, int(n)))
def same(a, b): return sorted(a) == sorted(b)
ok_opsctl = same(got, expected) and report["lines"] == truth["lines"] and report["errors"] == truth["errors"]
ok_pipe = same(pipe, expected)
lnav_rows = sum(1 for l in open(f"{work}/lnav.out") if l.strip()) - 1
t = {k: float(open(f"{work}/{k}.secs").read()) for k in ("pipeline", "lnav", "opsctl")}
rss = {k: int(open(f"{work}/{k}.rss").read()) for k in ("pipeline", "lnav", "opsctl")}
cpu = {k: float(open(f"{work}/{k}.cpu").read()) for k in ("pipeline", "lnav", "opsctl")}
mb = size / 1e6
print(f"\nTop 20 error messages, {size / 2**30:.2f} GiB, {truth['lines']:,} lines, {truth['errors']:,} errors")
print(f"{'':<22}{'seconds':>9}{'cpu s':>9}{'MB/s':>9}{'peak RSS':>12}  answer")
for k, label, ok in (("pipeline", "coreutils pipeline", ok_pipe), ("lnav", "lnav", lnav_rows == 20), ("opsctl", "opsctl", ok_opsctl)):
    note = ("= truth" if ok else "DIFFERS from truth") if k != "lnav" else f"{lnav_rows} rows (raw messages)"
    print(f"{label:<22}{t[k]:>9.2f}{cpu[k]:>9.2f}{mb / t[k]:>9.0f}{rss[k] / 1024:>9.1f} MB  {note}")
r_pipe, r_lnav = t["pipeline"] / t["opsctl"], t["lnav"] / t["opsctl"]
print(f"\nopsctl vs coreutils: {r_pipe:.1f}x wall, {cpu['pipeline'] / cpu['opsctl']:.1f}x cpu (target >= 3x)  {'PASS' if r_pipe >= 3 else 'FAIL'}")
print(f"opsctl vs lnav:      {r_lnav:.1f}x wall, {cpu['lnav'] / cpu['opsctl']:.1f}x cpu (target >= 2x)  {'PASS' if r_lnav >= 2 else 'FAIL'}")
print(f"load average during the run: {open('/proc/loadavg').read().split()[0]} on {__import__('os').cpu_count()} cores (wall times stretch under load)")
print(f"opsctl peak RSS:     {rss['opsctl'] / 1024:.1f} MB (target <= 64 MB)  {'PASS' if rss['opsctl'] <= 64 * 1024 else 'FAIL'}")
print(f"opsctl answer:       {'equals the ground truth' if ok_opsctl else 'DIFFERS from the ground truth'}")
sys.exit(0 if ok_opsctl and r_pipe >= 3 and r_lnav >= 2 and rss['opsctl'] <= 64 * 1024 else 1)
PY

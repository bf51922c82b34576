#!/usr/bin/env bash
# Issue 17 target 1: the on-call log question — levels, error rate, 1-minute windows, top 20 normalised
# error messages, per-route counts and exact p50/p95/p99 of duration_ms — over generated pino JSONL
# corpora (300 MB and 1 GB, read from the page cache): opsctl vs the normalising coreutils pipeline, in
# one run. Targets: >= 2 GB/s end to end, >= 12x the pipeline, peak RSS <= 64 MB, every answer equal to
# the generator's ground truth. Then `--since 15m` on a 1 GB time-ordered file whose last line is now:
# opsctl must find the bound by binary search instead of reading the file (bytes read are counted with
# strace, and must stay under 1 % of the file).
#
#   Benchmarks/logs.sh                  # builds `opsctl` in release (static Swift runtime, .build-release)
#   SKIP_BUILD=1 SIZES=300M RUNS=3 Benchmarks/logs.sh
#   COMPARE_ALL=1 Benchmarks/logs.sh    # adds lnav (raw messages grouped: less work than the others)
#   OPSCTL_BIN=/path/to/opsctl Benchmarks/logs.sh
source "$(dirname "$0")/lib.sh"
SIZES=${SIZES:-"300M 1G"}
RUNS=${RUNS:-3}
WORK=$(mktemp -d /tmp/opsctl-logs-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
[ -x /usr/bin/time ] || need __time__ time
need strace strace
[ -z "${COMPARE_ALL:-}" ] || need lnav lnav
build_release
cd "$ROOT"

corpus() { # SIZE -> generates /tmp/opsctl-logs-SIZE.jsonl (+ .truth.json) once per generator version
  local size=$1 c=/tmp/opsctl-logs-$1.jsonl t=/tmp/opsctl-logs-$1.truth.json stamp
  stamp=$(sha1sum Benchmarks/loggen/loggen.py | cut -c1-12)
  if [ ! -s "$c" ] || [ ! -s "$t" ] || [ "$(cat "$c.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "generating the $size corpus in $c (once) ..." >&2
    python3 Benchmarks/loggen/loggen.py --bytes "$size" --out "$c.tmp" --truth "$t" && mv "$c.tmp" "$c"
    echo "$stamp" > "$c.stamp"
  fi
}

# measure NAME CMD...: wall seconds, user+sys seconds and peak RSS (KB) from /usr/bin/time -v; stdout to NAME.out
measure() {
  local name=$1; shift
  /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.out"
  python3 - "$WORK/$name.time" > "$WORK/$name.figures" <<'PY'
import sys
f = {}
for line in open(sys.argv[1]):
    k, _, v = line.strip().partition(": ")
    f[k] = v
wall = 0.0
for part in f["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
    wall = wall * 60 + float(part)
print(wall, float(f["User time (seconds)"]) + float(f["System time (seconds)"]), int(f["Maximum resident set size (kbytes)"]))
PY
}

# The normalising pipeline: the same placeholders as opsctl's fingerprints (quoted, uuid, email, ip, hex, numbers).
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
mkdir -p "$WORK/home/.lnav/formats/installed"
cat > "$WORK/home/.lnav/formats/installed/pino.json" <<'JSON'
{ "$schema": "https://lnav.org/schemas/format-v1.schema.json",
  "pino_log": { "title": "pino JSON lines", "description": "pino-style JSON lines", "json": true, "file-pattern": "\\.jsonl$",
    "level-field": "level", "level": { "trace": "10", "debug": "20", "info": "30", "warning": "40", "error": "50", "fatal": "60" },
    "timestamp-field": "time", "timestamp-divisor": 1000,
    "value": { "level": { "kind": "integer" }, "time": { "kind": "integer" }, "pid": { "kind": "integer" },
      "hostname": { "kind": "string", "identifier": true }, "reqId": { "kind": "string", "identifier": true },
      "route": { "kind": "string", "identifier": true }, "duration_ms": { "kind": "integer" }, "msg": { "kind": "string" } } } }
JSON

results=()
for SIZE in $SIZES; do
  corpus "$SIZE"
  CORPUS=/tmp/opsctl-logs-$SIZE.jsonl TRUTH=/tmp/opsctl-logs-$SIZE.truth.json
  cat "$CORPUS" > /dev/null   # page cache: every contender reads from memory
  echo "[$SIZE] coreutils pipeline ..." >&2
  measure "pipeline-$SIZE" sh "$WORK/pipeline.sh" "$CORPUS"
  # The physical ceiling on this machine: reading the file from the page cache (cat) and one bare
  # newline pass over it (wc -l: read + a vectorised memchr), one core each.
  echo "[$SIZE] ceilings: cat, wc -l ..." >&2
  measure "cat-$SIZE" sh -c 'cat "$1" > /dev/null' sh "$CORPUS"
  measure "wc-$SIZE" wc -l "$CORPUS"
  if [ -n "${COMPARE_ALL:-}" ]; then
    echo "[$SIZE] lnav ..." >&2
    measure "lnav-$SIZE" env HOME="$WORK/home" lnav -n -c ";SELECT count(*) AS n, msg FROM pino_log WHERE log_level IN ('error', 'fatal') GROUP BY msg ORDER BY n DESC LIMIT 20" "$CORPUS"
  fi
  for r in $(seq 1 "$RUNS"); do
    echo "[$SIZE] opsctl run $r ..." >&2
    measure "opsctl-$SIZE-$r" "$OPSCTL" logs analyze "$CORPUS" --top 20 --window 1m --by route --latency-field duration_ms --format json
  done
  # One more run, traced (not in the figures): where the wall time goes. Only five syscalls are traced
  # (seccomp-filtered), each a mark: execve (start), the first clone3 (the first worker thread), the
  # munmap of the mapped corpus (the last segment scanned), the report's write, exit_group.
  echo "[$SIZE] opsctl timeline (strace) ..." >&2
  strace -f --seccomp-bpf -ttt -e trace=execve,clone3,munmap,write,exit_group -o "$WORK/timeline-$SIZE.txt" \
    "$OPSCTL" logs analyze "$CORPUS" --top 20 --window 1m --by route --latency-field duration_ms --format json > /dev/null
  python3 - "$WORK/timeline-$SIZE.txt" "$(stat -c %s "$CORPUS")" "$SIZE" <<'PY' >&2
import re, sys
marks = {}
for line in open(sys.argv[1]):
    m = re.match(r"\d+\s+([\d.]+) (\w+)\((.*)", line)
    if not m: continue
    t, call, args = float(m.group(1)), m.group(2), m.group(3)
    if call == "execve": marks.setdefault("start", t)
    elif call == "clone3": marks.setdefault("worker", t)
    elif call == "munmap" and re.match(r"0x[0-9a-f]+, (\d+)", args) and re.match(r"0x[0-9a-f]+, (\d+)", args).group(1) == sys.argv[2]:
        marks["scanned"] = t
    elif call == "write" and args.startswith("1,"): marks.setdefault("written", t)
    elif call == "exit_group": marks["exit"] = t
if all(k in marks for k in ("start", "worker", "scanned", "written", "exit")):
    ms = lambda a, b: (marks[b] - marks[a]) * 1000
    print(f"  timeline [{sys.argv[3]}]: start -> first worker {ms('start', 'worker'):.1f} ms, scan {ms('worker', 'scanned'):.1f} ms, "
          f"scan end -> report written {ms('scanned', 'written'):.1f} ms, -> exit {ms('written', 'exit'):.1f} ms "
          f"(total {ms('start', 'exit'):.1f} ms under strace; load {open('/proc/loadavg').read().split()[0]})")
else:
    print(f"  timeline [{sys.argv[3]}]: marks missing: {sorted(marks)}")
PY
  results+=("$(python3 - "$WORK" "$SIZE" "$TRUTH" "$RUNS" "${COMPARE_ALL:-}" <<'PY'
import json, os, sys
work, size, truth_path, runs, all_ = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
truth = json.load(open(truth_path))
nbytes = truth["bytes"]
def figures(name):
    w, c, r = open(f"{work}/{name}.figures").read().split()
    return float(w), float(c), int(r)
# --- opsctl's answers against the ground truth (every run) ---
def check(report):
    bad = []
    if report["lines"] != truth["lines"] or report["matched"] != truth["lines"]: bad.append("lines")
    if any(report["levels"].get(k, 0) != v for k, v in truth["levels"].items()): bad.append("levels")
    if report["errors"] != truth["errors"]: bad.append("errors")
    exp = sorted(truth["fingerprints"].items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    if sorted((f["fingerprint"], f["count"]) for f in report["top_fingerprints"]) != sorted(exp): bad.append("top 20")
    from datetime import datetime
    got_w = {}
    for w in report["windows"]:
        if w["count"]:
            t = datetime.fromisoformat(w["start"].replace("Z", "+00:00"))
            got_w[str(int(round(t.timestamp() * 1000)))] = w["count"]
    if got_w != truth["windows"] or report["window_seconds"] != 60: bad.append("windows")
    if {g["value"]: (g["count"], g["errors"]) for g in report["groups"]} != {k: (v["count"], v["errors"]) for k, v in truth["routes"].items()}: bad.append("routes")
    l, tl = report["latency"], truth["latency"]
    if not l["exact"] or any(l[k] != tl[k] for k in ("p50", "p95", "p99", "min", "max")) or l["count"] != tl["count"]: bad.append("latency")
    return bad
walls, cpus, rsss, bad = [], [], [], []
for r in range(1, runs + 1):
    w, c, m = figures(f"opsctl-{size}-{r}")
    walls.append(w); cpus.append(c); rsss.append(m)
    bad += check(json.load(open(f"{work}/opsctl-{size}-{r}.out")))
wall = sorted(walls)[len(walls) // 2]
pw, pc, pr = figures(f"pipeline-{size}")
pipe = []
for line in open(f"{work}/pipeline-{size}.out"):
    n, _, msg = line.strip().partition(" ")
    pipe.append((msg, int(n)))
exp = sorted(truth["fingerprints"].items(), key=lambda kv: (-kv[1], kv[0]))[:20]
pipe_ok = sorted(pipe) == sorted(exp)
gbs = nbytes / wall / 1e9
ratio = pw / wall
rss = max(rsss) / 1024
out = sys.stderr
print(f"\n[{size}] {nbytes / 1e9:.2f} GB, {truth['lines']:,} lines, {truth['errors']:,} errors; load average {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores", file=out)
print(f"  {'':<20}{'wall s':>8}{'cpu s':>8}{'GB/s':>7}{'RSS MB':>8}  answer", file=out)
print(f"  {'coreutils pipeline':<20}{pw:>8.2f}{pc:>8.2f}{nbytes / pw / 1e9:>7.2f}{pr / 1024:>8.1f}  top 20 {'= truth' if pipe_ok else 'DIFFERS'} (top 20 only)", file=out)
if all_:
    lw, lc, lr = figures(f"lnav-{size}")
    print(f"  {'lnav':<20}{lw:>8.2f}{lc:>8.2f}{nbytes / lw / 1e9:>7.2f}{lr / 1024:>8.1f}  raw messages", file=out)
for name, label in (("cat", "cat > /dev/null"), ("wc", "wc -l (1 core)")):
    cw, cc, cr = figures(f"{name}-{size}")
    print(f"  {label:<20}{cw:>8.2f}{cc:>8.2f}{nbytes / cw / 1e9:>7.2f}{cr / 1024:>8.1f}  physical ceiling", file=out)
for r in range(runs):
    print(f"  {'opsctl run ' + str(r + 1):<20}{walls[r]:>8.2f}{cpus[r]:>8.2f}{nbytes / walls[r] / 1e9:>7.2f}{rsss[r] / 1024:>8.1f}", file=out)
cpu = sorted(cpus)[len(cpus) // 2]
ww, wcpu, _ = figures(f"wc-{size}")
print(f"  opsctl (median): {gbs:.2f} GB/s wall, {nbytes / cpu / 1e9:.2f} GB per cpu-second; {ratio:.1f}x the pipeline; peak RSS {rss:.1f} MB; answers {'= truth' if not bad else 'DIFFER: ' + ', '.join(sorted(set(bad)))}", file=out)
print(f"  vs the ceiling: opsctl spends {cpu / max(wcpu, 1e-9):.1f}x the cpu of a bare newline pass (wc -l); "
      f"{os.cpu_count()} cores x wc -l would give {os.cpu_count() * nbytes / max(wcpu, 1e-9) / 1e9:.2f} GB/s", file=out)
met = gbs >= 2 and ratio >= 12 and rss <= 64 and not bad
print(f"RESULT name=logs-{size} opsctl={gbs:.2f}GB/s baseline={nbytes / pw / 1e9:.3f}GB/s ratio={ratio:.2f} target=>=2GB/s,>=12x,<=64MB,exact met={'yes' if met else 'no'} rss={rss:.1f}MB answers={'exact' if not bad else 'wrong'} cpu={cpu:.2f}s gb_per_cpu_s={nbytes / cpu / 1e9:.2f} load={open('/proc/loadavg').read().split()[0]}")
PY
)")
done

# --- --since 15m on a 1 GB time-ordered file ending now ---------------------------------------------
corpus 1G
SRC=/tmp/opsctl-logs-1G.jsonl
RECENT=$WORK/recent.jsonl
lines=$(python3 -c "import json; print(json.load(open('/tmp/opsctl-logs-1G.truth.json'))['lines'])")
now_ms=$(python3 -c "import time; print(int(time.time() * 1000))")
# The corpus's times step 37 ms from 1767225600000; shift them so the last line is now.
shift_ms=$(( now_ms - (1767225600000 + (lines - 1) * 37) ))
echo "[since] shifting the 1G corpus so its last line is now ..." >&2
awk -v d="$shift_ms" '{ i = index($0, "\"time\":"); printf "%s%.0f%s\n", substr($0, 1, i + 6), substr($0, i + 7, 13) + d, substr($0, i + 20) }' "$SRC" > "$RECENT"
size=$(stat -c %s "$RECENT")
before_ms=$(python3 -c "import time; print(int(time.time() * 1000))")
strace -f -e trace=read,pread64 -e signal=none -o "$WORK/strace.txt" "$OPSCTL" logs analyze "$RECENT" --since 15m --format json > "$WORK/since.json"
after_ms=$(python3 -c "import time; print(int(time.time() * 1000))")
measure since "$OPSCTL" logs analyze "$RECENT" --since 15m --format json
results+=("$(python3 - "$WORK" "$size" "$before_ms" "$after_ms" "$now_ms" <<'PY'
import json, re, sys
from datetime import datetime
work, size, before, after, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
report = json.load(open(f"{work}/since.json"))
# bytes read by every read/pread64 of the process (the binary's own loading included)
read = sum(int(m.group(1)) for m in re.finditer(r"= (\d+)$", open(f"{work}/strace.txt").read(), re.M))
first = int(round(datetime.fromisoformat(report["first_seen"].replace("Z", "+00:00")).timestamp() * 1000))
# Lines are 37 ms apart and the last one is at `last`: exactly the lines at or after the bound match.
expected = (last - first) // 37 + 1
ok = report["matched"] == expected and before - 900_000 <= first and first - 37 < after - 900_000
w, c, m = open(f"{work}/since.figures").read().split()
f = report["files"][0]
print(f"\n[since] --since 15m on {size / 1e9:.2f} GB: {float(w) * 1000:.0f} ms wall, {int(m) / 1024:.1f} MB RSS; {report['matched']:,} lines matched "
      f"({'= the lines of the last 15 minutes' if ok else 'WRONG: expected ' + str(expected)}); skipped {f['skipped_bytes']:,} bytes unread; "
      f"analysed {f['bytes']:,} + probed {f['probed_bytes']:,}; strace: {read:,} bytes read in all ({read / size * 100:.3f} % of the file)", file=sys.stderr)
# Mapped pages are not read(2) calls: count what the report says was analysed too, whichever is more.
touched = max(read, f["bytes"] + f["probed_bytes"])
print(f"RESULT name=logs-since-15m opsctl={touched / 1e6:.2f}MB baseline={size / 1e6:.0f}MB ratio={touched / size:.4f} target=reads<1%-of-file met={'yes' if ok and touched < size / 100 else 'no'} wall={float(w) * 1000:.0f}ms")
PY
)")
for line in "${results[@]}"; do echo "$line"; done

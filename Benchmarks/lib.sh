# Shared helpers for the benchmark scripts: release binary, sandbox, hyperfine, ratios.
#
# RESULT lines — every Benchmarks/*.sh ends by printing one line per measured target, and
# `make bench` (Benchmarks/run-all.sh) collects them from every script into one table:
#
#   RESULT name=<short-name> opsctl=<value><unit> baseline=<value><unit> ratio=<x.xx> target=<text> met=yes|no
#
# - name: short and unique across scripts (engine-serial, replay-ceiling, startup-kinds, …)
# - opsctl, baseline: the two measured figures, unit glued on (12.3ms, 3120ev/s, 2.41GB/s); a target
#   without a baseline prints baseline=- and ratio=-
# - ratio: opsctl/baseline as the target reads it (x.xx); target: free text, may hold spaces
#   (e.g. "<= 1.10x critical path"); met: yes or no. Keys in this order, values without '='.
# Print them with `result name opsctl baseline ratio target met` (below); `met_if` computes met.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Release build with the Swift runtime linked statically: start-up is dominated by dynamic loading.
BUILD_DIR="$ROOT/.build-release"
# OPSCTL_BIN points at another build (e.g. .build/release/opsctl) instead.
OPSCTL="${OPSCTL_BIN:-$BUILD_DIR/release/opsctl}"

need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }

build_release() {
  # One --product per invocation: SwiftPM builds only the last one when several are given.
  [ -n "${SKIP_BUILD:-}${OPSCTL_BIN:-}" ] || for product in opsctl "$@"; do
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path "$BUILD_DIR" --product "$product" >/dev/null)
  done
}

start_sandbox() {
  # BENCH_SANDBOX_DIR / BENCH_SANDBOX_PORT keep concurrent benchmark runs apart.
  eval "$("$OPSCTL" sandbox up --dir "${BENCH_SANDBOX_DIR:-/tmp/opsctl-bench-sandbox}" --port "${BENCH_SANDBOX_PORT:-55439}")"
  export DATABASE_URL
}

# mean seconds of a hyperfine JSON export
mean_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][${2:-0}]['mean'])" "$1"; }

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}')" "$1" "$2"; }
ms() { python3 -c "import sys; print(f'{float(sys.argv[1])*1000:.1f} ms')" "$1"; }

# result NAME OPSCTL BASELINE RATIO TARGET MET — one RESULT line (format above).
result() { echo "RESULT name=$1 opsctl=$2 baseline=$3 ratio=$4 target=$5 met=$6"; }
# met_if "<python expression>" → yes|no, e.g. met_if "$overhead <= 0.001"
met_if() { python3 -c "import sys; print('yes' if eval(sys.argv[1]) else 'no')" "$1"; }
# fmt VALUE [DIGITS] — a number with fixed digits
fmt() { python3 -c "import sys; print(f'{float(sys.argv[1]):.{int(sys.argv[2])}f}')" "$1" "${2:-2}"; }

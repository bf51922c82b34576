# Shared helpers for the benchmark scripts: release binary, sandbox, hyperfine, ratios.
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

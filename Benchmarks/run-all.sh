#!/usr/bin/env bash
# Runs every benchmark (release build) and prints each ratio.
set -uo pipefail
cd "$(dirname "$0")"
(cd .. && swift build -c release --static-swift-stdlib --scratch-path .build-release --product opsctl >/dev/null)
export SKIP_BUILD=1
for b in startup.sh health.sh engine.sh scaling.sh logs.sh migrate.sh scaling-migrations.sh replay.sh verify.sh backup.sh; do
  [ -x "$b" ] || [ -f "$b" ] || continue
  echo "=== $b"; bash "$b" || echo "($b failed)"
done

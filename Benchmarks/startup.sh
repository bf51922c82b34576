#!/usr/bin/env bash
# Issue 3: `opsctl --version` must take <= 20 ms (release build). Baseline: /bin/true.
source "$(dirname "$0")/lib.sh"
need hyperfine hyperfine
build_release
out=$(mktemp)
hyperfine -N --warmup 20 --runs 200 --export-json "$out" "$OPSCTL --version" "/bin/true" >/dev/null
v=$(mean_of "$out" 0); t=$(mean_of "$out" 1)
echo "opsctl --version: $(ms "$v") mean (target <= 20 ms); /bin/true: $(ms "$t"); ratio $(ratio "$v" "$t")x"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 0.020 else 1)" "$v" && echo "startup: PASS" || echo "startup: FAIL"

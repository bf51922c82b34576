#!/usr/bin/env bash
# Installs what opsctl's build, demo and tests need on a fresh Debian machine. Idempotent and
# quiet when everything is present; runs apt-get update once, only when something is missing.
set -euo pipefail

APT_PACKAGES=(libpq-dev libcurl4-openssl-dev libpg-query-dev libsimdjson-dev zlib1g-dev
              postgresql postgresql-client prometheus redis-server systemd python3 python3-pip perl curl openssl)
# `make bench` (install-deps.sh --bench): the load and timing tools the benchmarks compare with.
[ "${1:-}" = "--bench" ] && APT_PACKAGES+=(hyperfine wrk jq python3-yaml)
PIP_PACKAGES=(junitparser standardwebhooks stripe)   # Python modules; squawk-cli (a command) below

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "install-deps: not root and no sudo; install these by hand: ${APT_PACKAGES[*]}" >&2; exit 1; fi
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

pip_missing=()
for p in "${PIP_PACKAGES[@]}"; do
  python3 -c "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('${p//-/_}') else 1)" 2>/dev/null || pip_missing+=("$p")
done
if [ ${#pip_missing[@]} -gt 0 ]; then
  echo "install-deps: pip installing ${pip_missing[*]}"
  python3 -m pip install -q "${pip_missing[@]}" 2>/dev/null || python3 -m pip install -q --break-system-packages "${pip_missing[@]}"
fi

# squawk (PyPI squawk-cli: a Postgres migration linter shipped as a binary in the wheel): the test suite
# cross-checks our migration lint against it rule by rule. It is a command, not a Python module.
squawk_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
if ! command -v squawk >/dev/null 2>&1 && ! [ -x "$squawk_dir/squawk" ]; then
  echo "install-deps: pip installing squawk-cli"
  python3 -m pip install -q squawk-cli 2>/dev/null || python3 -m pip install -q --break-system-packages squawk-cli
  if ! command -v squawk >/dev/null 2>&1 && ! [ -x "$squawk_dir/squawk" ]; then
    echo "install-deps: squawk-cli installed but no squawk command found (looked on PATH and in $squawk_dir)" >&2; exit 1
  fi
fi

# The sandbox runs Postgres as the 'postgres' user when we are root; the postgresql package creates it.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "install-deps: the 'postgres' user is missing (reinstall postgresql-common)" >&2; exit 1
fi

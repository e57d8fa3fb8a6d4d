#!/usr/bin/env bash
# The one list of Debian 12 packages StreamGuard needs to build, test and benchmark.
# Installs whatever is missing (idempotent; fast when everything is present) and the npm
# packages the tests use (tests/package.json + lock file). Not root: prints the command to run.
set -euo pipefail

PKGS=(
    # build
    build-essential pkg-config clang
    # libraries
    librdkafka-dev librocksdb-dev libmicrohttpd-dev libcjson-dev libyaml-dev
    libzstd-dev libsnappy-dev zlib1g-dev liblz4-dev
    # what the static librocksdb.a links against (librocksdb-dev depends on them too)
    libgflags-dev libbz2-dev
    # test
    libcmocka-dev kcat python3 python3-sklearn python3-numpy
    # the zstd command line (compressed input tests; gzip is always there)
    zstd
    # the MPI batch driver (build/streamguard-mpi) and its tests
    openmpi-bin libopenmpi-dev
    # `promtool check metrics` validates the /metrics text format
    prometheus
    # serving layer: headless browser for the dashboard test, HTTP load generator for bench/,
    # curl for the e2e scripts (prometheus, above, also runs the dashboards' PromQL test)
    chromium wrk curl
    # ASan/UBSan/libFuzzer runtimes for clang
    libclang-rt-14-dev
)

missing=()
# Node.js: the machine image may ship its own node/npm; Debian's conflict with it, so only
# install Debian's when there is none.
if ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
        echo "deps.sh: run as root:  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 3
    fi
    echo "deps.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -o DPkg::Lock::Timeout=600 >&2
    apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2
fi

# npm packages for the independent readers/browsers used by the tests; reinstalled whenever
# the lock file changed since the last install.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/tests/package-lock.json" ] &&
    ! cmp -s "$here/tests/package-lock.json" "$here/tests/node_modules/.sg-installed-lock"; then
    (cd "$here/tests" && npm ci --no-audit --no-fund >&2 &&
        cp package-lock.json node_modules/.sg-installed-lock)
fi

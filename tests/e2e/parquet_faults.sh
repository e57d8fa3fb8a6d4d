#!/usr/bin/env bash
# e2e fault test of the Parquet writer's error paths: pq_gen runs under an LD_PRELOAD shim
# (tests/fault/fault_shim.c) that fills the "disk" after N bytes (short write, then ENOSPC or
# EIO), fails fsync or fails rename. Each run must exit 1 with a clear message, without a
# crash, sanitizer report or leak (ASan build), and leave nothing under the final name and
# no temporary file or directory behind. A run without faults must succeed (control).
set -euo pipefail
BUILD=${STREAMGUARD_BUILD:-build}
GEN="$PWD/$BUILD/tests/helpers/pq_gen"
[ -x "$GEN" ] || { echo "missing $GEN (make)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/fault/shim.sh
fault_shim "$tmp"

expect_fail() { # name msg_regex env... -- pq_gen args...
    local name=$1 re=$2; shift 2
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    rm -rf "$tmp/out" && mkdir "$tmp/out"
    set +e
    env "${envs[@]}" LD_PRELOAD="$shim" "$GEN" "$@" >"$tmp/log" 2>&1
    local rc=$?
    set -e
    if [ $rc -ne 1 ]; then echo "FAIL $name: exit $rc (want 1)"; cat "$tmp/log"; exit 1; fi
    if grep -q -i 'sanitizer\|runtime error' "$tmp/log"; then echo "FAIL $name: sanitizer"; cat "$tmp/log"; exit 1; fi
    if ! grep -Eq "$re" "$tmp/log"; then echo "FAIL $name: message"; cat "$tmp/log"; exit 1; fi
    local left
    left=$(find "$tmp/out" -mindepth 1 | wc -l)
    if [ "$left" -ne 0 ]; then echo "FAIL $name: files left:"; find "$tmp/out"; exit 1; fi
    echo "ok $name: $(head -n 1 "$tmp/log")"
}

# control: the shim with a limit larger than the file changes nothing
rm -rf "$tmp/out" && mkdir "$tmp/out"
FAULT_WRITE_LIMIT=100000000 LD_PRELOAD="$shim" "$GEN" big "$tmp/out/f.parquet" 200000 zstd
size=$(stat -c %s "$tmp/out/f.parquet")
[ "$size" -gt 1000 ] || { echo "control file too small"; exit 1; }
echo "ok control: $size bytes"

# 0/1: the writer cannot even write the magic (sg_pq_writer_new fails); from 4 on the status
# code must be SG_ERR_NOSPACE ("(no space left on device)" is its sg_strerror text).
for limit in 0 1; do
    expect_fail "ENOSPC after $limit bytes" 'No space left on device' \
        FAULT_WRITE_LIMIT=$limit -- big "$tmp/out/f.parquet" 200000 zstd
done
for limit in 4 5 100 4096 65536 $((size / 2)) $((size - 9)) $((size - 1)); do
    expect_fail "ENOSPC after $limit bytes" 'No space left on device \(no space left on device\)' \
        FAULT_WRITE_LIMIT=$limit -- big "$tmp/out/f.parquet" 200000 zstd
done
expect_fail "EIO after 70000 bytes" 'Input/output error \(input/output error\)' FAULT_WRITE_LIMIT=70000 FAULT_ERRNO=EIO \
    -- big "$tmp/out/f.parquet" 200000 snappy
expect_fail "fsync fails" 'fsync.*Input/output error' FAULT_FSYNC=1 \
    -- big "$tmp/out/f.parquet" 1000 uncompressed
expect_fail "rename fails" 'rename.*cross-device' FAULT_RENAME=1 \
    -- big "$tmp/out/f.parquet" 1000 zstd
# dataset: a full disk in the middle leaves neither DIR nor DIR.tmp-*
expect_fail "dataset ENOSPC" 'No space left on device' FAULT_WRITE_LIMIT=3000 \
    -- dataset "$tmp/out/ds" 1 300
echo "parquet_faults: ok"

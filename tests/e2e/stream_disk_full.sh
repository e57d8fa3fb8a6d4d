#!/usr/bin/env bash
# stream_disk_full.sh: the speed layer on a disk that fills up. `streamguard stream --input`
# runs under an LD_PRELOAD shim (tests/fault/fault_shim.c) that lets N bytes of file writes
# through, then makes write(2) fail with ENOSPC (or EIO). Each such run must exit 1 with a clear
# message - no abort, no sanitizer report or leak (ASan build) - and a restart with room must
# resume where the store stands: after several fills at different points, the final store is
# byte-identical (canonical dump) to a clean run's, and so is the dead-letter file (each
# restart cuts off the records of the batch that was not stored). A restart while the disk is
# still full fails at the open, as clearly.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. tests/fault/shim.sh
fault_shim "$T"
python3 tests/e2e/lib/gen_events.py --users 60 --events 30000 --seed 12 --invalid 0.02 \
    --dups 0.01 > "$T/in.ndjson"

run() { # run DB DLQ [env...]: one replay with --batch-size 500 (many batches)
    local db=$1 dlq=$2
    shift 2
    env "$@" "$BIN" stream --input "$T/in.ndjson" --db "$db" --dlq "$dlq" --metrics-listen off \
        --no-alerts --batch-size 500
}

run "$T/clean.db" "$T/clean.dlq" > /dev/null 2> "$T/clean.log"
"$BIN" stream --dump-store --db "$T/clean.db" > "$T/clean.dump"

# Fills at different points of the replay: early (the first WAL file), mid-way (during
# flushes), late; one with EIO instead of ENOSPC. Each run starts counting from 0 bytes, and
# a restart first recovers the WAL the failed run left, so the replay advances between fills.
fills=0
for spec in 300000:ENOSPC 2000000:ENOSPC 6000000:EIO 12000000:ENOSPC; do
    limit=${spec%%:*}
    errno=${spec##*:}
    rc=0
    run "$T/full.db" "$T/full.dlq" LD_PRELOAD="$shim" FAULT_WRITE_LIMIT="$limit" \
        FAULT_ERRNO="$errno" > "$T/out.json" 2> "$T/err.log" || rc=$?
    if grep -q -i 'sanitizer\|runtime error\|Assertion' "$T/err.log"; then
        echo "FAIL fill at $limit ($errno): crash"; cat "$T/err.log"; exit 1
    fi
    if [ "$rc" -eq 0 ]; then
        echo "fill at $limit bytes: the replay finished first"
        continue
    fi
    fills=$((fills + 1))
    [ "$rc" -eq 1 ] || { echo "FAIL fill at $limit ($errno): exit $rc, want 1"; cat "$T/err.log"; exit 1; }
    want='no space left on device'
    [ "$errno" = EIO ] && want='Input/output error|input/output error|I/O error|IO error'
    grep -Eq "$want" "$T/err.log" || { echo "FAIL fill at $limit: unclear message"; cat "$T/err.log"; exit 1; }
    echo "fill at $limit bytes ($errno): exit 1, $(tail -n 1 "$T/err.log")"
done
[ "$fills" -ge 3 ] || { echo "FAIL: only $fills of 4 runs met a full disk"; exit 1; }

# a restart while the disk is still full: the open (WAL recovery) fails, clearly, exit 1
rc=0
run "$T/full.db" "$T/full.dlq" LD_PRELOAD="$shim" FAULT_WRITE_LIMIT=0 > /dev/null 2> "$T/err.log" \
    || rc=$?
[ "$rc" -eq 1 ] && grep -q "No space left on device" "$T/err.log" \
    && ! grep -q -i 'sanitizer\|runtime error\|Assertion' "$T/err.log" \
    || { echo "FAIL restart on a full disk: exit $rc"; cat "$T/err.log"; exit 1; }
echo "restart on a full disk: exit 1, $(tail -n 1 "$T/err.log")"

run "$T/full.db" "$T/full.dlq" > /dev/null 2> "$T/last.log"
grep -q "resuming" "$T/last.log" || { echo "FAIL: the last run did not resume"; exit 1; }
"$BIN" stream --dump-store --db "$T/full.db" > "$T/full.dump"
cmp "$T/clean.dump" "$T/full.dump" || { echo "FAIL: store differs from the clean run"; exit 1; }
# the dead-letter file too: each restart cut off what the failed batch had written (a full
# disk can also stop a write in the middle of a record), so it equals the clean run's
[ -s "$T/clean.dlq" ]
cmp "$T/clean.dlq" "$T/full.dlq" || { echo "FAIL: dead-letter file differs from the clean run"; exit 1; }
echo "dead letters: $(wc -l < "$T/clean.dlq"), each once, as in the clean run"
echo "disk full: $fills fills, each exit 1 with a clear message; the final store equals a clean run"

#!/usr/bin/env bash
# e2e: the batch layer across MPI ranks (build/streamguard-mpi under mpirun) gives the same
# users, features, scores, labels, model, report and baselines as one `streamguard batch`
# process with the same seed (raw features bit for bit, scores within 1e-12; tests/mpi/
# compare.mjs reads both datasets with DuckDB), bit-identical results for -np 1, 2 and 4
# (also with --max-events, and from Kafka with the partitions divided among ranks), and a
# rank that dies or fails ends the job with a non-zero exit, no temp directory and the
# previous output untouched.
# Needs Open MPI (scripts/deps.sh) and node + tests/node_modules.
set -euo pipefail
BUILD=${STREAMGUARD_BUILD:-build}
SG=${STREAMGUARD_BIN:-$PWD/$BUILD/streamguard}
MPI_BIN="$PWD/$BUILD/streamguard-mpi"
[ -x "$MPI_BIN" ] || { echo "missing $MPI_BIN: install Open MPI (scripts/deps.sh), then make"; exit 1; }
[ -x "$BUILD/tests/mpi/test_mpi_prims" ] || { echo "missing $BUILD/tests/mpi/test_mpi_prims (make)"; exit 1; }
command -v mpirun >/dev/null || { echo "missing mpirun (scripts/deps.sh)"; exit 1; }
[ -d tests/node_modules/@duckdb/node-api ] || { echo "missing tests/node_modules: run scripts/deps.sh"; exit 1; }
tmp=$(mktemp -d)
broker_pid=
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
# Open MPI leaks by design at exit (its own allocations); only ours must be leak-free. Full
# unwinding and plugins kept loaded let the suppressions see the Open MPI frames.
export LSAN_OPTIONS="suppressions=$PWD/tests/mpi/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}:fast_unwind_on_malloc=0"
export OMPI_MCA_mca_base_component_disable_dlclose=1
# containers often forbid cross-memory attach (ptrace scope): use plain shared memory copies
export OMPI_MCA_btl_vader_single_copy_mechanism=none
run_mpi() { # NP ARGS...
    local np=$1
    shift
    mpirun --oversubscribe --allow-run-as-root -np "$np" "$MPI_BIN" batch -q "$@"
}
compare() { (cd tests && node mpi/compare.mjs "$@"); }
tree_sum() { (cd "$1" && find . -type f | sort | xargs md5sum); }

echo "== the collective primitives (order statistics, sums, row fetch) on 1 and 3 ranks"
for np in 1 3; do
    mpirun --oversubscribe --allow-run-as-root -np "$np" "$PWD/$BUILD/tests/mpi/test_mpi_prims"
done

echo "== input: generated events + invalid, blank and CRLF lines, 3 files + an empty one"
EVENTS=30000 NPS="1 2 4" FAULTS="1:write 1:read 0:fit 3:write 1:write:fail" KILLS="0 0.05 0.15"
if [ "$BUILD" = build-asan ]; then # every mpirun costs seconds under the sanitizers
    EVENTS=12000 NPS="1 4" FAULTS="1:write 0:fit 1:write:fail" KILLS="0.1"
fi
"$SG" generate -q -n "$EVENTS" -u 500 -a 0.05 -s 11 -o "$tmp/ev.ndjson"
awk 'BEGIN { srand(5) }
     { r = rand()
       if (r < 0.002) print "{\"not\":\"an event\"}"; else if (r < 0.003) print "garbage {"
       else if (r < 0.004) print "   "
       if (rand() < 0.01) printf "%s\r\n", $0; else print }' "$tmp/ev.ndjson" > "$tmp/all"
mkdir "$tmp/in"
lines=$(wc -l < "$tmp/all")
head -n $((lines / 3)) "$tmp/all" > "$tmp/in/a.ndjson"
sed -n "$((lines / 3 + 1))p" "$tmp/all" > "$tmp/in/b.ndjson"
tail -n +$((lines / 3 + 2)) "$tmp/all" | head -c -1 > "$tmp/in/c.ndjson" # no final newline
: > "$tmp/in/d.ndjson"
COMMON=(--seed 13 --trees 50 --set batch.max_invalid_ratio=0.05)

echo "== single process"
"$SG" batch -q -i "$tmp/in" -o "$tmp/single" -j 2 "${COMMON[@]}"

for np in $NPS; do
    echo "== mpirun -np $np (16 KiB pieces: many rounds, lines cut at every boundary)"
    run_mpi "$np" -i "$tmp/in" -o "$tmp/np$np" --chunk-kb 16 -j 1 "${COMMON[@]}"
    compare "$tmp/single" "$tmp/np$np"
    [ "$np" = 1 ] || compare "$tmp/np1" "$tmp/np$np" 0 # bit-identical across rank counts
done

echo "== over-long lines (2 MiB, and 9 MiB: skipped unread) are too_large, as in one process"
mkdir "$tmp/big"
{
    head -n 300 "$tmp/ev.ndjson"
    printf '{"x":"'; head -c $((2 << 20)) /dev/zero | tr '\0' a; printf '"}\n'
    sed -n 301,600p "$tmp/ev.ndjson"
    printf '{"y":"'; head -c $((9 << 20)) /dev/zero | tr '\0' b; printf '"}\n'
    sed -n 601,900p "$tmp/ev.ndjson"
} > "$tmp/big/a.ndjson"
"$SG" batch -q -i "$tmp/big" -o "$tmp/big1" "${COMMON[@]}"
run_mpi 3 -i "$tmp/big" -o "$tmp/big3" --chunk-kb 64 "${COMMON[@]}"
compare "$tmp/big1" "$tmp/big3"
grep -q '"too_large":{"count":2' "$tmp/big3/anomaly_report.json"

echo "== 3 users on 4 ranks: ranks without users, k clamped, ties between features"
"$SG" generate -q -n 200 -u 3 -s 4 -o "$tmp/few.ndjson"
"$SG" batch -q -i "$tmp/few.ndjson" -o "$tmp/few1" "${COMMON[@]}"
run_mpi 4 -i "$tmp/few.ndjson" -o "$tmp/few4" --chunk-kb 4 "${COMMON[@]}"
compare "$tmp/few1" "$tmp/few4"

if [ "$BUILD" != build-asan ]; then # the same code paths as above; time is short under ASan
echo "== the comparison does detect a different model (another seed must not pass)"
run_mpi 2 -i "$tmp/in" -o "$tmp/other" --chunk-kb 16 --seed 14 --trees 50 \
    --set batch.max_invalid_ratio=0.05
if compare "$tmp/single" "$tmp/other" 2>"$tmp/neg.log"; then
    echo "FAIL: a run with another seed compared equal"; exit 1
fi
grep -q FAIL "$tmp/neg.log"

echo "== --max-events: the same first N messages across ranks"
"$SG" batch -q -i "$tmp/in" -o "$tmp/capped1" -n 7777 "${COMMON[@]}"
run_mpi 3 -i "$tmp/in" -o "$tmp/capped3" -n 7777 --chunk-kb 8 "${COMMON[@]}"
CAPPED=1 compare "$tmp/capped1" "$tmp/capped3"
grep -q '"messages":7777' "$tmp/capped3/anomaly_report.json"
fi

echo "== --k auto: the sampled silhouette picks the same k from the same rows"
"$SG" batch -q -i "$tmp/in" -o "$tmp/auto1" --k auto "${COMMON[@]}"
run_mpi 3 -i "$tmp/in" -o "$tmp/auto3" --chunk-kb 64 --k auto "${COMMON[@]}"
compare "$tmp/auto1" "$tmp/auto3"

echo "== Kafka: the development broker's 4 partitions divided among 3 ranks"
"$SG" broker --partitions 4 --bootstrap-file "$tmp/boot" >/dev/null 2>"$tmp/broker.err" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$tmp/boot" ] && break; sleep 0.1; done
boot=$(cat "$tmp/boot")
"$SG" generate -q -n $((EVENTS / 3)) -u 300 -a 0.05 -s 12 --brokers "$boot"
timeout 60 "$SG" batch -q --brokers "$boot" -o "$tmp/k1" "${COMMON[@]}"
timeout 120 mpirun --oversubscribe --allow-run-as-root -np 3 "$MPI_BIN" batch -q \
    --brokers "$boot" -o "$tmp/k3" "${COMMON[@]}"
compare "$tmp/k1" "$tmp/k3"
echo "== Kafka from the configuration's kafka.bootstrap.servers (no --brokers)"
printf 'kafka:\n  "bootstrap.servers": "%s"\n' "$boot" >"$tmp/kafka.yaml"
timeout 120 mpirun --oversubscribe --allow-run-as-root -np 2 "$MPI_BIN" batch -q \
    -c "$tmp/kafka.yaml" -o "$tmp/kc2" "${COMMON[@]}"
compare "$tmp/k1" "$tmp/kc2"
echo "== Kafka with a group: every rank commits its partitions' offsets"
timeout 120 mpirun --oversubscribe --allow-run-as-root -np 2 "$MPI_BIN" batch -q \
    --brokers "$boot" --group g1 -o "$tmp/kg" "${COMMON[@]}"
set +e
timeout 120 mpirun --oversubscribe --allow-run-as-root -np 2 "$MPI_BIN" batch -q \
    --brokers "$boot" --group g1 -o "$tmp/kg2" "${COMMON[@]}" 2>"$tmp/kg2.err"; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "no valid events" "$tmp/kg2.err" # nothing new after the commit
kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true; broker_pid=
echo "== Kafka unreachable: exit 3 (a singleton, no mpirun)"
set +e
timeout 60 "$MPI_BIN" batch -q --brokers "$boot" -o "$tmp/kx" "${COMMON[@]}" 2>"$tmp/kx.err"
rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "unreachable broker: exit $rc, want 3"; cat "$tmp/kx.err"; exit 1; }
grep -q "no Kafka broker reachable" "$tmp/kx.err"
[ ! -e "$tmp/kx" ]

echo "== a rank that dies or fails: non-zero exit, previous output intact, no temp dir"
cp -a "$tmp/np4" "$tmp/prev"
before=$(tree_sum "$tmp/prev")
for fault in $FAULTS; do
    set +e
    STREAMGUARD_MPI_FAULT=$fault run_mpi 4 -i "$tmp/in" -o "$tmp/prev" --chunk-kb 16 \
        "${COMMON[@]}" > "$tmp/fault.log" 2>&1
    rc=$?
    set -e
    echo "fault $fault: exit $rc"
    [ "$rc" -ne 0 ] || { echo "FAIL: fault $fault exited 0"; cat "$tmp/fault.log"; exit 1; }
    grep -q "fault injection at" "$tmp/fault.log"
    [ "$(tree_sum "$tmp/prev")" = "$before" ] || { echo "FAIL: output changed ($fault)"; exit 1; }
    if ls -d "$tmp"/prev.tmp-* 2>/dev/null; then echo "FAIL: temp dir left ($fault)"; exit 1; fi
done
compare "$tmp/single" "$tmp/prev" # still the good output

echo "== kill -9 of one rank from outside, at a random moment after start-up"
# Not during MPI_Init: Open MPI's mpirun can hang when a process dies in its wire-up, which is
# the launcher's business, not ours. A rank that has its input open is past it.
for delay in $KILLS; do
    t0=$SECONDS
    set +e
    timeout -s KILL 120 mpirun --oversubscribe --allow-run-as-root -np 4 "$MPI_BIN" batch -q \
        -i "$tmp/in" -o "$tmp/prev" --chunk-kb 16 "${COMMON[@]}" > "$tmp/kill.log" 2>&1 &
    job=$!
    victim=
    for _ in $(seq 1000); do
        for pid in $(pgrep -f "$MPI_BIN batch -q -i $tmp/in -o $tmp/prev"); do
            ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$tmp/in/" && victim=$pid
        done
        [ -n "$victim" ] && break
        kill -0 "$job" 2>/dev/null || break
        sleep 0.01
    done
    sleep "$delay"
    [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
    wait "$job"; rc=$?
    set -e
    echo "kill ${delay}s after reading started (pid ${victim:-none}): exit $rc"
    [ $((SECONDS - t0)) -lt 100 ] || { echo "FAIL: the job hung after a rank died"; exit 1; }
    if ls -d "$tmp"/prev.tmp-* 2>/dev/null; then echo "FAIL: temp dir left (kill)"; exit 1; fi
    # Either the previous output, untouched, or - the kill came after rank 0's commit, or
    # the job finished first - a complete, correct new one; never anything in between.
    if [ "$(tree_sum "$tmp/prev")" != "$before" ]; then
        echo "(committed before the kill landed)"
        compare "$tmp/single" "$tmp/prev"
        before=$(tree_sum "$tmp/prev")
    elif [ "$rc" -eq 0 ]; then
        echo "FAIL: exit 0 without a new output"; exit 1
    fi
done

echo "== refusals"
set +e
"$MPI_BIN" batch -i "$tmp/in" -o "$tmp/x" --k 0 2>"$tmp/e1"; rc1=$?
gzip -k "$tmp/in/a.ndjson"
run_mpi 2 -i "$tmp/in/a.ndjson.gz" -o "$tmp/x" 2>"$tmp/e2"; rc2=$?
"$MPI_BIN" batch --bogus 2>"$tmp/e3"; rc3=$? # a singleton (no mpirun) works too
set -e
[ "$rc1" -eq 2 ] && grep -q "bad k" "$tmp/e1"
[ "$rc2" -ne 0 ] && grep -q "compressed files cannot be split" "$tmp/e2"
[ "$rc3" -ne 0 ] && grep -q "unknown option" "$tmp/e3"
printf 'log:\n  level: info\n' >"$tmp/nokafka.yaml"
set +e
"$MPI_BIN" batch -c "$tmp/nokafka.yaml" 2>"$tmp/e4"; rc4=$?
"$MPI_BIN" batch -i "$tmp/in" --chunk-kb 2 2>"$tmp/e5"; rc5=$?
set -e
[ "$rc4" -eq 2 ] && grep -q "no input" "$tmp/e4"
[ "$rc5" -eq 2 ] && grep -q "bad --chunk-kb" "$tmp/e5"
[ ! -e "$tmp/x" ]
"$MPI_BIN" batch --help | grep -q "chunk-kb"
echo "ok"

#!/usr/bin/env bash
# bench/stream_kafka.sh: the speed layer against the development broker (`streamguard broker`,
# librdkafka mock cluster, PARTS partitions): (1) consume throughput - N pre-produced events,
# messages/s over the busy span (first message to last batch written; the group join is not
# counted); (2) end-to-end latency (producer timestamp -> stored) while `generate` produces
# live at RATE events/s, p50/p99 from the stream's histogram, the p99 of the stream's own
# share (message received -> batch stored), and the CPU seconds each process used
# meanwhile; (3) the floor of (2): the same load read by a bare consumer
# (bench_kafka_floor: the stream's fetch settings, no processing, no store). Medians of REPS
# runs. The stream runs with its defaults (stream.batch_size 16000 since 2026-11-26 16:30
# UTC, 4000 before; this script used --batch-size 2000 until 04:30 UTC, when the default was
# 1000).
# PARTS is the topic's partition count (the development broker's default is 16). The mock
# broker scans a partition's retained message sets on every fetch, so its CPU grows with the
# partitions x producer batches it keeps: at 20K events/s with 16 partitions it needs ~0.8 of
# a core, with 4 ~0.35 (docs/BENCHMARKS.md).
# Usage: bench/stream_kafka.sh [N=150000] [RATE=20000] [REPS=3] [PARTS=16]   (N=0: skip (1))
# Environment: STREAM_ARGS - extra arguments for the stream in (1), e.g. "--set
# kafka.queued.min.messages=100000"; THROUGHPUT_ONLY=1 - only (1).
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
N=${1:-150000}
RATE=${2:-20000}
REPS=${3:-3}
PARTS=${4:-16}
T=$(mktemp -d)
cleanup() { [ -n "${BPID:-}" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-); load $(cut -d' ' -f1 /proc/loadavg); date $(date -u +%FT%TZ); $PARTS partitions"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

tput=()
for r in $(seq 1 "$([ "$N" -gt 0 ] && echo "$REPS" || echo 0)"); do # N=0: latency only
    "$BIN" broker -p "$PARTS" -f "$T/boot" > /dev/null 2>&1 & BPID=$!
    for _ in $(seq 1 50); do [ -s "$T/boot" ] && break; sleep 0.1; done
    B=$(cat "$T/boot")
    # the mock keeps ~5 MiB per partition: N is sized to stay below that
    "$BIN" generate -n "$N" -u 2000 -s "$r" -b "$B" -q
    # shellcheck disable=SC2086 # STREAM_ARGS is a list of words
    "$BIN" stream --brokers "$B" --db "$T/db$r" --metrics-listen off --no-alerts \
        --idle-exit 2s ${STREAM_ARGS:-} > "$T/tput$r.json" 2> /dev/null
    tput+=("$(field "$T/tput$r.json" messages_per_second)")
    kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=; rm -f "$T/boot"
done
[ "$N" -gt 0 ] && echo "consume from broker, full pipeline + RocksDB: $(printf '%s\n' "${tput[@]}" | median | cut -d. -f1) messages/s (runs: ${tput[*]}; target >= 150000)"
[ "${THROUGHPUT_ONLY:-0}" = 1 ] && exit 0

p50s=(); p99s=(); i99s=()
for r in $(seq 1 "$REPS"); do
    "$BIN" broker -p "$PARTS" -f "$T/boot" > /dev/null 2>&1 & BPID=$!
    for _ in $(seq 1 50); do [ -s "$T/boot" ] && break; sleep 0.1; done
    B=$(cat "$T/boot")
    # fetch.wait.max.ms=1: the development broker does not answer a waiting fetch when data
    # arrives, so the wait bounds the latency (default 10 ms)
    /usr/bin/time -f "%U %S" -o "$T/stime$r" "$BIN" stream --brokers "$B" --db "$T/lat$r" \
        --metrics-listen off --idle-exit 3s --set kafka.fetch.wait.max.ms=1 \
        > "$T/lat$r.json" 2> "$T/lat$r.log" &
    SPID=$!
    for _ in $(seq 1 200); do grep -q assigned "$T/lat$r.log" && break; sleep 0.1; done
    sleep 2 # the first fetches (offset lookups) happen after the assignment is logged
    printf 'kafka:\n  linger.ms: "1"\n' > "$T/lowlat.yaml"
    b0=$(awk '{print $14 + $15}' "/proc/$BPID/stat")
    /usr/bin/time -f "%U %S" -o "$T/gtime$r" "$BIN" generate -c "$T/lowlat.yaml" \
        -n $((RATE * 10)) -u 2000 -s "$r" --start now -r "$RATE" -b "$B" -q
    b1=$(awk '{print $14 + $15}' "/proc/$BPID/stat")
    wait "$SPID"
    # the three processes share the cores: their CPU says whether the machine kept up
    echo "  run $r: CPU-s over the 10 s of input: stream $(awk '{print $1 + $2}' "$T/stime$r")," \
        "generate $(awk '{print $1 + $2}' "$T/gtime$r"), broker $(echo "($b1 - $b0) / $(getconf CLK_TCK)" | bc -l | cut -c1-5)"
    p50s+=("$(field "$T/lat$r.json" e2e_p50_ms)")
    p99s+=("$(field "$T/lat$r.json" e2e_p99_ms)")
    i99s+=("$(field "$T/lat$r.json" in_stream_p99_ms)")
    kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=; rm -f "$T/boot"
done
echo "end-to-end at $RATE events/s (produce -> stored, incl. anomalies): p50 $(printf '%s\n' "${p50s[@]}" | median) ms, p99 $(printf '%s\n' "${p99s[@]}" | median) ms (runs p99: ${p99s[*]}; target p99 <= 5 ms)"
echo "  the stream's own share (message received -> its batch stored): p99 $(printf '%s\n' "${i99s[@]}" | median) ms (runs: ${i99s[*]})"

# (3) the floor: the same load consumed by a bare librdkafka consumer with the stream's fetch
# settings (build/bench/bench_kafka_floor: no processing, no store) - what the development
# broker, the generator and Kafka's fetch path alone give on this machine
FLOOR=${FLOOR_BIN:-$(dirname "$BIN")/bench/bench_kafka_floor}
if [ -x "$FLOOR" ]; then
    f50s=(); f99s=()
    for r in $(seq 1 "$REPS"); do
        "$BIN" broker -p "$PARTS" -f "$T/boot" > /dev/null 2>&1 & BPID=$!
        for _ in $(seq 1 50); do [ -s "$T/boot" ] && break; sleep 0.1; done
        B=$(cat "$T/boot")
        "$FLOOR" "$B" security-events 3 > "$T/floor$r.json" 2> "$T/floor$r.log" &
        FPID=$!
        for _ in $(seq 1 200); do grep -q assigned "$T/floor$r.log" && break; sleep 0.1; done
        sleep 2
        "$BIN" generate -c "$T/lowlat.yaml" -n $((RATE * 10)) -u 2000 -s "$r" --start now \
            -r "$RATE" -b "$B" -q
        wait "$FPID"
        f50s+=("$(field "$T/floor$r.json" e2e_p50_ms)")
        f99s+=("$(field "$T/floor$r.json" e2e_p99_ms)")
        kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=; rm -f "$T/boot"
    done
    echo "floor at $RATE events/s (produce -> consumed by a bare consumer, no processing, no store; ms resolution): p50 $(printf '%s\n' "${f50s[@]}" | median) ms, p99 $(printf '%s\n' "${f99s[@]}" | median) ms (runs p99: ${f99s[*]})"
fi

#!/usr/bin/env bash
# Benchmark of `streamguard generate`: 1M events to a file (median of RUNS runs) against a
# same-run baseline of writing the same bytes with cat, and 1M events into the development
# broker (median of KRUNS runs) against generating to /dev/null. Prints the machine and date.
# Usage: bench/bench_generate.sh [build-dir]   (env: EVENTS, RUNS, KRUNS, TMPDIR)
set -euo pipefail
BUILD=${1:-build}
BIN=$PWD/$BUILD/streamguard
EVENTS=${EVENTS:-1000000}
RUNS=${RUNS:-5}
KRUNS=${KRUNS:-3}
tmp=$(mktemp -d)
broker_pid=
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# timed CMD...: runs CMD, appends "wall cpu" seconds (cpu = user + sys of the process) to $T.
TIMEFORMAT='%R %U %S'
timed() {
    local out
    out=$({ time "$@" >/dev/null 2>&1; } 2>&1)
    echo "$out" | awk '{printf "%.3f %.3f\n", $1, $2 + $3}' >>"$T"
}
col() { cut -d' ' -f"$1" "$2"; }
median() { sort -g | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
rate() { awk -v n="$EVENTS" -v s="$1" 'BEGIN{printf "%.0f", n / s}'; }

echo "== bench_generate: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cpu(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $BIN generate -n $EVENTS -o FILE -q"

for _ in $(seq "$RUNS"); do
    T=$tmp/gen timed "$BIN" generate -n "$EVENTS" -o "$tmp/events.ndjson" -q
    T=$tmp/cat timed cp "$tmp/events.ndjson" "$tmp/copy.ndjson"
    T=$tmp/null timed "$BIN" generate -n "$EVENTS" -o /dev/null -q
    rm -f "$tmp/copy.ndjson"
done
bytes=$(stat -c %s "$tmp/events.ndjson")
g=$(col 1 "$tmp/gen" | median) gc=$(col 2 "$tmp/gen" | median)
c=$(col 1 "$tmp/cat" | median)
n=$(col 1 "$tmp/null" | median) nc=$(col 2 "$tmp/null" | median)
echo "file:      $EVENTS events, $((bytes / 1000000)) MB: median ${g} s wall = $(rate "$g") events/s, ${gc} s cpu (wall runs: $(col 1 "$tmp/gen" | tr '\n' ' '))"
echo "baseline:  cp of the same bytes: median ${c} s wall; generate to /dev/null: median ${n} s wall = $(rate "$n") events/s, ${nc} s cpu"
rm -f "$tmp/events.ndjson"

# Kafka: the same events into the development broker, with 1 and with 2 mock brokers (the
# producer compresses on one librdkafka thread per broker, so 2 brokers use both cores).
for nb in 1 2; do
    rm -f "$tmp/boot"
    "$BIN" broker --brokers $nb --partitions 16 --topics bench --bootstrap-file "$tmp/boot" >/dev/null 2>&1 &
    broker_pid=$!
    for _ in $(seq 100); do [ -s "$tmp/boot" ] && break; sleep 0.1; done
    boot=$(cat "$tmp/boot")
    echo "command: $BIN generate -n $EVENTS --brokers $boot --topic bench -q   (lz4, 16 partitions, $nb mock broker(s))"
    rm -f "$tmp/kafka"
    for _ in $(seq "$KRUNS"); do
        T=$tmp/kafka timed "$BIN" generate -n "$EVENTS" --brokers "$boot" --topic bench -q
    done
    k=$(col 1 "$tmp/kafka" | median) kc=$(col 2 "$tmp/kafka" | median)
    echo "kafka($nb): $EVENTS events delivered: median ${k} s wall = $(rate "$k") events/s, ${kc} s cpu in the producer (wall runs: $(col 1 "$tmp/kafka" | tr '\n' ' '))"
    kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
    broker_pid=
done
echo "baseline:  same generation to /dev/null: $(rate "$n") events/s"

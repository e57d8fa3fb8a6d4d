#!/usr/bin/env bash
# bench/stream_ab.sh: A/B of `streamguard stream --input` (replay with full persistence) between
# binaries, alternating runs so that both see the same machine load: wall clock, CPU seconds
# (user + sys, all threads), peak WAL (sum of the store's *.log files, sampled every 0.2 s) and
# the store's size after a reopen; medians and minimums per binary. It does not build anything:
# keep a copy of the baseline binary (e.g. cp build/streamguard /tmp/sg_base before a change).
# Usage: bench/stream_ab.sh [N=200000] [REPS=3] BIN... (default BIN: build/streamguard)
set -euo pipefail
N=${1:-200000}
REPS=${2:-3}
shift 2 2>/dev/null || shift $#
BINS=("$@")
[ ${#BINS[@]} -eq 0 ] && BINS=("${STREAMGUARD_BIN:-build/streamguard}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-); load $(cut -d' ' -f1 /proc/loadavg); date $(date -u +%FT%TZ)"
"${BINS[0]}" generate -n "$N" -u 2000 -s 5 -q -o "$T/in.ndjson"
echo "input: $N generated events (2,000 users, seed 5), $REPS alternating runs per binary"

run() { # run BIN DB -> "wall cpu walpeak_MiB store_MiB"
    local bin=$1 db=$2 peak=0 s
    /usr/bin/time -f "%e %U %S" -o "$T/time" "$bin" stream --input "$T/in.ndjson" --db "$db" \
        --metrics-listen off --no-alerts > /dev/null 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        s=$(cat "$db"/*.log 2>/dev/null | wc -c)
        [ "$s" -gt "$peak" ] && peak=$s
        sleep 0.2
    done
    wait "$pid"
    # reopening replays the WAL into SST files: the size a restarted stream starts from
    "$bin" stream --input "$T/in.ndjson" --db "$db" --metrics-listen off --no-alerts \
        > /dev/null 2>&1
    read -r w u sy < "$T/time"
    echo "$w $(echo "$u + $sy" | bc) $((peak / 1048576)) $(du -sm "$db" | cut -f1)"
    rm -rf "$db"
}

stat() { sort -g | awk '{a[NR]=$1} END {printf "median %s min %s", a[int((NR+1)/2)], a[1]}'; }
for r in $(seq 1 "$REPS"); do
    for i in "${!BINS[@]}"; do
        res=$(run "${BINS[$i]}" "$T/db")
        echo "run $r ${BINS[$i]}: wall/cpu/wal_peak_MiB/store_MiB $res (load $(cut -d' ' -f1 /proc/loadavg))"
        echo "$res" >> "$T/res$i"
    done
done
for i in "${!BINS[@]}"; do
    echo "${BINS[$i]}: wall s $(cut -d' ' -f1 "$T/res$i" | stat); CPU s $(cut -d' ' -f2 "$T/res$i" | stat);" \
        "events/CPU-s (median) $(cut -d' ' -f2 "$T/res$i" | sort -g | awk -v n="$N" '{a[NR]=$1} END {printf "%.0f", n / a[int((NR+1)/2)]}');" \
        "WAL peak MiB $(cut -d' ' -f3 "$T/res$i" | stat); store MiB $(cut -d' ' -f4 "$T/res$i" | stat)"
done

#!/usr/bin/env bash
# bench/bench_serve.sh: throughput and latency of `streamguard serve` under wrk (Debian wrk)
# on a store of EVENTS synthetic events (default 200000, 2000 users) written through sg_store,
# plus the store work per request of every list endpoint (X-StreamGuard-Scan: seeks, rows,
# RocksDB key comparisons) to show they are prefix/range scans, not full scans.
# Baselines in the same run: GET /health (HTTP only, no store) and sg_store_event_get
# in-process (build/bench/bench_serve_store). Prints the machine, the date, the load average
# and medians of REPS (default 3) runs of SECS (default 5) seconds.
# Usage: bench/bench_serve.sh [EVENTS]   (env: REPS, SECS, WRK_THREADS, WRK_CONNS)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${STREAMGUARD_BUILD:-build}
EVENTS=${1:-200000}
REPS=${REPS:-3}
SECS=${SECS:-5}
WT=${WRK_THREADS:-1}
WC=${WRK_CONNS:-16}
WC_LOW=${WRK_CONNS_LOW:-4}
command -v wrk >/dev/null || { echo "bench_serve: wrk not installed (scripts/deps.sh)" >&2; exit 3; }
make -s -j2 "$BUILD/streamguard" "$BUILD/bench/bench_serve_store" >/dev/null

work=$(mktemp -d /tmp/sg_bench_serve.XXXXXX)
spid=
cleanup() {
    if [ -n "$spid" ]; then kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== serving layer benchmark"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk: $WT thread(s), $WC connections (unless noted), ${SECS}s x $REPS runs per endpoint; server: 2 HTTP threads"

t0=$EPOCHREALTIME
"$BUILD/bench/bench_serve_store" --fill "$work" --events "$EVENTS" --users 2000
echo "store: $EVENTS events, 2000 users, $(du -sh "$work/db" | cut -f1) on disk (filled in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')s)"

"$BUILD/streamguard" serve --db "$work/db" --batch-dir "$work/batch" --listen 127.0.0.1:0 \
    >"$work/serve.out" 2>"$work/serve.err" &
spid=$!
for _ in $(seq 300); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
addr=$(grep -o 'http://[0-9.:]*' "$work/serve.out" | head -1)
[ -n "$addr" ] || { echo "bench_serve: serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run NAME PATH-or-@script [CONNS]: REPS wrk runs; prints median req/s, p50, p99 (ms), errors.
run() {
    local name=$1 target=$2 wc=${3:-$WC} rps=() p50=() p99=() errs=0 out
    for _ in $(seq "$REPS"); do
        if [[ $target == @* ]]; then
            out=$(SG_BENCH_IDS="$work/ids.txt" wrk -t"$WT" -c"$wc" -d"${SECS}s" --latency \
                -s "${target#@}" "$addr" 2>&1)
        else
            out=$(wrk -t"$WT" -c"$wc" -d"${SECS}s" --latency "$addr$target" 2>&1)
        fi
        rps+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
        p50+=("$(awk '$1=="50%" {v=$2; if (v ~ /us$/) v=v/1000; else if (v ~ /ms$/) v=v+0; else if (v ~ /s$/) v=v*1000; print v}' <<<"$out")")
        p99+=("$(awk '$1=="99%" {v=$2; if (v ~ /us$/) v=v/1000; else if (v ~ /ms$/) v=v+0; else if (v ~ /s$/) v=v*1000; print v}' <<<"$out")")
        errs=$((errs + $(awk '/Non-2xx/ {n+=$NF} /Socket errors/ {n+=1} END {print n+0}' <<<"$out")))
    done
    printf '%-38s median %8.0f req/s   p50 %6.3f ms   p99 %6.3f ms   (runs: %s req/s; errors %d)\n' \
        "$name" "$(printf '%s\n' "${rps[@]}" | median)" "$(printf '%s\n' "${p50[@]}" | median)" \
        "$(printf '%s\n' "${p99[@]}" | median)" "$(IFS=,; echo "${rps[*]}")" "$errs"
}

echo
echo "-- throughput (wrk, keep-alive)"
run "GET /health (baseline, no store)" /health
run "GET /api/events/{id} (random ids)" @bench/wrk_event_ids.lua
run "GET /api/events/{id}, $WC_LOW connections" @bench/wrk_event_ids.lua "$WC_LOW"
if [ "${QUICK:-0}" != 1 ]; then
    run "GET /api/users/{user}/events?limit=50" "/api/users/user00042/events?limit=50"
    run "GET /api/anomalies?limit=100" "/api/anomalies?limit=100"
    run "GET /api/events?limit=100" "/api/events?limit=100"
    run "GET /api/stats (cached)" /api/stats
fi

echo
echo "-- store work per request (X-StreamGuard-Scan) on $EVENTS events"
scan() {
    printf '%-62s %s\n' "$1" "$(curl -s -o /dev/null -D - "$addr$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-streamguard-scan" {print $2}')"
}
scan "/api/events/$(head -1 "$work/ids.txt")"
scan "/api/events?limit=100"
scan "/api/events?limit=1000"
scan "/api/events?type=dns_query&limit=100"
scan "/api/users/user00042/events?limit=50"
scan "/api/users/user00042/events?limit=1000"
scan "/api/anomalies?limit=100"
scan "/api/anomalies?severity=critical&limit=100"
scan "/api/users/user00042/anomalies?limit=100"
scan "/api/users/user00042"

echo
echo "-- baseline: the store alone, in-process"
"$BUILD/bench/bench_serve_store" --events 100000 | grep -v '^machine'

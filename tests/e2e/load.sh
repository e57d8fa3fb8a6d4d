#!/usr/bin/env bash
# load.sh: the API under wrk while the speed layer ingests paced traffic from the broker:
# GET /api/events/{id}, /api/anomalies and /api/stats rotate (tests/e2e/lib/wrk_mix.lua) for a
# few seconds. No non-2xx answer and no socket error; the consumer keeps going during the load
# (its events counter grows in every second of it) and catches up afterwards (lag 0, every
# produced event stored and served by /api/stats).
set -euo pipefail
. tests/e2e/lib/e2e.sh
command -v wrk >/dev/null || fail "wrk not installed (scripts/deps.sh)"

PRE=5000 LIVE=16000 RATE=2000 SECS=5 CONN=16
[ $ASAN = 1 ] && PRE=3000 LIVE=6000 RATE=1000 SECS=4 CONN=8

start_broker 4
"$BIN" generate -n $PRE -u 100 -s 31 -d 3 --start 2026-11-01T00:00:00Z -q -o "$T/pre.ndjson" -b "$BOOT"
cut -d'"' -f4 "$T/pre.ndjson" >"$T/ids"
bg stream "$BIN" stream -b "$BOOT" -d "$T/db" --metrics-listen 127.0.0.1:0 --set kafka.session.timeout.ms=6000
STREAM_PID=$BG_PID
wait_for 20 grep -q '(port ' "$T/stream.err"
MP=$(port_of "$T/stream.err")
events() { metric "$MP" streamguard_stream_events_total; }
events_ge() { [ "$(events)" -ge "$1" ]; }
wait_for 60 events_ge $PRE
bg serve "$BIN" serve -d "$T/db" -l 127.0.0.1:0 --threads 2
wait_for 20 grep -q 'listening on' "$T/serve.out"
API="http://127.0.0.1:$(port_of "$T/serve.out")"
wait_for 10 http "$API/api/events/$(head -n 1 "$T/ids")"

echo "== $LIVE live events at $RATE/s; wrk -c $CONN for $SECS s"
bg live "$BIN" generate -n $LIVE -u 100 -s 32 -d 1 --start 2026-11-04T00:00:00Z -r $RATE -q -b "$BOOT"
LIVE_PID=$BG_PID
sleep 1
SG_IDS="$T/ids" wrk -t 1 -c $CONN -d ${SECS}s --latency -s tests/e2e/lib/wrk_mix.lua "$API" \
    >"$T/wrk.txt" 2>&1 &
WRK_PID=$!
E2E_PIDS+=("$WRK_PID")
samples=()
for _ in $(seq $SECS); do
    samples+=("$(events)")
    sleep 1
done
wait "$WRK_PID" || fail "wrk failed: $(cat "$T/wrk.txt")"
samples+=("$(events)")
cat "$T/wrk.txt"
echo "stream events_total each second under load: ${samples[*]}"
grep -q 'Non-2xx' "$T/wrk.txt" && fail "non-2xx answers under load"
grep -q 'Socket errors' "$T/wrk.txt" && fail "socket errors under load"
reqs=$(awk '/requests in/ { print $1 }' "$T/wrk.txt")
[ "${reqs:-0}" -ge $((SECS * 50)) ] || fail "only ${reqs:-0} requests in $SECS s"
# the consumer never stalls: its counter grows in every second of the load
for i in $(seq 1 $SECS); do
    [ "${samples[$i]}" -gt "${samples[$((i - 1))]}" ] ||
        fail "stream made no progress in second $i of the load: ${samples[*]}"
done

wait "$LIVE_PID" || fail "generate failed"
TOTAL=$((PRE + LIVE))
wait_for 60 events_ge $TOTAL
lag_zero() { [ "$(metric "$MP" streamguard_stream_consumer_lag_messages)" -eq 0 ]; }
wait_for 20 lag_zero
[ "$(events)" -eq $TOTAL ] || fail "stream stored $(events) events, want $TOTAL"
python3 - "$API" $TOTAL <<'PY' || fail "/api/stats after the load"
import json, sys, time, urllib.request
for _ in range(60):  # serve refreshes its statistics every 2 s
    s = json.load(urllib.request.urlopen(sys.argv[1] + "/api/stats"))
    if s["events_total"] == int(sys.argv[2]):
        break
    time.sleep(0.25)
assert s["events_total"] == int(sys.argv[2]), s["events_total"]
PY
echo "after the load: lag 0, $TOTAL events stored and counted by /api/stats"
kill -TERM "$STREAM_PID"
wait "$STREAM_PID" || fail "stream did not stop cleanly"
echo "load: ok"

#!/usr/bin/env bash
# demo.sh: `streamguard demo` on a small data set: bad flags exit 2; a run prints the summary
# (dashboard URL, Parquet dataset, report), its API answers with the history's events and then
# live ones while it runs, it stops by itself (--duration) with exit 0 and leaves no process
# or port behind; a second demo in the same --dir is refused (exit 3, naming the running pid)
# without disturbing the first; a later demo reuses the directory cleanly.
set -euo pipefail
. tests/e2e/lib/e2e.sh

# --duration counts from the summary; the speed layer rejoins the group with the model within
# ~6 s (its session timeout), then live events flow
EVENTS=20000 USERS=200 DUR=22
[ $ASAN = 1 ] && EVENTS=8000 USERS=100 DUR=25

echo "== bad flags exit 2"
for args in "--users abc" "--bogus" "--duration -1" "--attack-users 2" "--dir"; do
    set +e
    # shellcheck disable=SC2086
    "$BIN" demo $args --dir "$T/never" >/dev/null 2>"$T/flag.err"
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "demo $args exited $rc, want 2"
    [ "$(wc -l <"$T/flag.err")" -eq 1 ] || fail "demo $args: not a one-line error: $(cat "$T/flag.err")"
done
[ ! -e "$T/never" ] || fail "a usage error created the directory"
"$BIN" demo --help | grep -q -- '--duration' || fail "demo --help"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
D="$T/demo"
# demo_run NAME SEED DURATION: a demo in the background on fresh free ports ($API, $MPORT);
# live rate 60/s for 200 users stays under the rate-spike floor of 20 events/min per user
demo_run() {
    API_PORT=$(free_port) MPORT=$(free_port)
    API="http://127.0.0.1:$API_PORT"
    bg "$1" "$BIN" demo --dir "$D" --users $USERS --events $EVENTS --days 2 --partitions 4 \
        --seed "$2" --live-rate 60 --duration "$3" --listen "127.0.0.1:$API_PORT" \
        --metrics-listen "127.0.0.1:$MPORT"
}
api_events() { http "$API/api/stats" | jget - 'j["events_total"]'; }

echo "== first demo"
demo_run d1 42 $DUR
D1=$BG_PID
wait_for 150 grep -q 'StreamGuard demo is running' "$T/d1.out"
grep -q "dashboard: *http://127.0.0.1:$API_PORT/" "$T/d1.out" || fail "no dashboard URL: $(cat "$T/d1.out")"
grep -q "Parquet dataset: *$D/batch/is_anomaly=\*/" "$T/d1.out" || fail "no dataset path"
grep -q "batch report: *$D/batch/anomaly_report.md" "$T/d1.out" || fail "no report path"
# /api/stats is rebuilt every 2 s: the whole history shows up within a few seconds
has_history() { [ "$(api_events)" -ge $EVENTS ]; }
wait_for 10 has_history
e1=$(api_events)
echo "API during the run: $e1 events"
http "$API/api/batch/report" | jget - 'j["totals"]["users"]' | grep -qx $USERS || fail "batch report via API"

echo "== a second demo in the same directory is refused"
set +e
"$BIN" demo --dir "$D" --users 10 --events 100 --duration 1 --listen 127.0.0.1:0 \
    --metrics-listen 127.0.0.1:0 >/dev/null 2>"$T/d2.err"
rc=$?
set -e
cat "$T/d2.err"
[ $rc -eq 3 ] || fail "second demo exited $rc, want 3"
grep -q "pid $D1" "$T/d2.err" || fail "the refusal does not name pid $D1"
[ -s "$D/batch/anomaly_report.json" ] || fail "the refused demo touched the running one's data"

echo "== live traffic reaches the API"
grow() { [ "$(api_events)" -gt "$e1" ]; }
wait_for $((DUR - 4)) grow
echo "API: $(api_events) events"
set +e
wait "$D1"
rc=$?
set -e
[ $rc -eq 0 ] || fail "demo exited $rc: $(tail -n 5 "$T/d1.err")"
grep -q 'stopping' "$T/d1.err" || fail "no stop message"
ls "$D"/batch/is_anomaly=0/*.parquet "$D"/batch/is_anomaly=1/*.parquet >/dev/null || fail "no dataset"
[ -s "$D/batch/model/model.json" ] && [ -s "$D/truth.jsonl" ] || fail "model or truth missing"
jget "$D/batch/anomaly_report.json" 'j["totals"]["messages"]' | grep -qx $EVENTS || fail "report totals"
curl -s --max-time 2 "$API/health" >/dev/null && fail "the API still answers after the demo"
curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" >/dev/null && fail "metrics still answer"
gen1=$(jget "$D/batch/anomaly_report.json" 'j["generated_at"]')
truth1=$(md5sum <"$D/truth.jsonl")

echo "== a later demo reuses the directory"
demo_run d3 7 3
D3=$BG_PID
set +e
wait "$D3"
rc=$?
set -e
[ $rc -eq 0 ] || fail "demo in the reused directory exited $rc: $(tail -n 5 "$T/d3.err")"
grep -q 'StreamGuard demo is running' "$T/d3.out" || fail "second run printed no summary"
[ "$(jget "$D/batch/anomaly_report.json" 'j["generated_at"]')" != "$gen1" ] || fail "report not rewritten"
[ "$(md5sum <"$D/truth.jsonl")" != "$truth1" ] || fail "truth of the old run kept (seed 7 vs 42)"
# the new store holds the new run only (the old one was replaced, not appended to)
"$BIN" stream --dump-store --db "$D/stream.db" >"$T/d3.dump"
n3=$(dump_count "$T/d3.dump" events)
echo "reused directory: store holds $n3 events of the new run"
[ "$n3" -ge $EVENTS ] && [ "$n3" -lt $((2 * EVENTS)) ] || fail "store has $n3 events"
echo "demo: ok"

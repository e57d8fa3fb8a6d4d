#!/usr/bin/env bash
# scale_out.sh: two `stream` processes in one consumer group (each with its own --db, as
# docs/ARCHITECTURE.md "State and scale-out" designs it) share the partitions while generated
# traffic arrives; one is killed with SIGKILL mid-way; the survivor takes its partitions over,
# rebuilds those users' state from the log, and its store ends byte-identical (canonical dump)
# to a single process that consumed the same topic alone. The killed process's store holds a
# consistent prefix: a subset of the reference's events.
set -euo pipefail
. tests/e2e/lib/e2e.sh

N=24000 RATE=4000 USERS=300
[ $ASAN = 1 ] && N=10000 RATE=1500 USERS=200
SOPTS=(--set kafka.session.timeout.ms=6000 --set kafka.heartbeat.interval.ms=500
    --metrics-listen 127.0.0.1:0 --batch-size 200)

start_broker 8

# stream_up NAME GROUP DB [ARGS]: a consumer in the background, its metrics port in $PORT_<NAME>
stream_up() {
    local name=$1 group=$2 db=$3
    shift 3
    bg "$name" "$BIN" stream -b "$BOOT" -g "$group" -d "$db" "${SOPTS[@]}" "$@"
    eval "PID_$name=$BG_PID"
    wait_for 20 grep -q '(port ' "$T/$name.err"
    eval "PORT_$name=$(port_of "$T/$name.err")"
}
assigned() { grep -c 'assigned security-events\[' "$T/$1.err" || true; }
revoked() { grep -c 'revoked security-events\[' "$T/$1.err" || true; }

echo "== two consumers join group g1"
stream_up A g1 "$T/a.db"
wait_for 30 sh -c "grep -q 'assigned security-events' '$T/A.err'"
stream_up B g1 "$T/b.db"
# B's join revokes A's eager assignment; both then hold a share
wait_for 40 sh -c "grep -q 'assigned security-events' '$T/B.err' && grep -q 'revoked' '$T/A.err'"
sleep 1
a_share=$(($(assigned A) - $(revoked A)))
b_share=$(assigned B)
echo "A holds $a_share partitions, B holds $b_share"
[ "$a_share" -ge 1 ] && [ "$b_share" -ge 1 ] && [ $((a_share + b_share)) -eq 8 ] ||
    fail "partitions not shared: A $a_share B $b_share"

echo "== $N events at $RATE/s; kill -9 of A mid-way"
bg gen "$BIN" generate -n $N -u $USERS -s 17 -d 3 --start 2026-11-01T00:00:00Z -r $RATE -q -b "$BOOT"
GEN_PID=$BG_PID
events_gt() { [ "$(metric "$1" streamguard_stream_events_total)" -gt "$2" ]; }
wait_for 30 events_gt "$PORT_A" $((N / 8))
a_events=$(metric "$PORT_A" streamguard_stream_events_total)
b_events=$(metric "$PORT_B" streamguard_stream_events_total)
kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null || true
echo "killed A after it stored ~$a_events events (B: $b_events)"
[ "$b_events" -gt 0 ] || fail "B consumed nothing while A was alive"
wait "$GEN_PID" || fail "generate failed"

# B gets A's partitions once A's session expires, and replays them from the log
wait_for 90 events_gt "$PORT_B" $((N - 1))
b_assigned=$(assigned B)
kill -TERM "$PID_B"
wait "$PID_B" || fail "B did not stop cleanly"
grep -q 'from offset -2 (beginning)' "$T/B.err" || fail "B did not rebuild a partition from the log"
[ "$b_assigned" -gt "$b_share" ] || fail "B was never assigned A's partitions"
echo "B summary: $(cat "$T/B.out")"
jget "$T/B.out" "j['events'] == $N and j['duplicates'] == 0" | grep -qx True ||
    fail "B did not store every event exactly once"

echo "== reference: one process alone in group ref"
"$BIN" stream -b "$BOOT" -g ref -d "$T/ref.db" --metrics-listen off --idle-exit 3s \
    --set kafka.session.timeout.ms=6000 >"$T/ref.json" 2>"$T/ref.err" || fail "reference run"
jget "$T/ref.json" "j['events']" | grep -qx $N || fail "reference stored $(cat "$T/ref.json")"
"$BIN" stream --dump-store --db "$T/ref.db" >"$T/ref.dump"
"$BIN" stream --dump-store --db "$T/b.db" >"$T/b.dump"
"$BIN" stream --dump-store --db "$T/a.db" >"$T/a.dump"
cmp "$T/ref.dump" "$T/b.dump" || {
    diff <(cut -f1 "$T/ref.dump" | uniq -c) <(cut -f1 "$T/b.dump" | uniq -c) || true
    fail "survivor's store differs from the single-process store"
}
echo "survivor's store == single-process store: $(wc -l <"$T/ref.dump") rows," \
    "$(dump_count "$T/ref.dump" events) events, $(dump_count "$T/ref.dump" users) users," \
    "$(dump_count "$T/ref.dump" anomalies) anomalies"
# the killed process's store: what it wrote is consistent with the reference
a_rows=$(dump_count "$T/a.dump" events)
[ "$a_rows" -gt 0 ] || fail "A's store is empty"
comm -23 <(grep '^events	' "$T/a.dump" | sort) <(grep '^events	' "$T/ref.dump" | sort) >"$T/extra"
[ ! -s "$T/extra" ] || fail "A's store holds events that differ from the reference"
echo "killed A's store: $a_rows events, all identical to the reference's"
echo "scale_out: ok"

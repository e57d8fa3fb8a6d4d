#!/usr/bin/env bash
# stream_topic_checks.sh: mistakes of producers and topics that the stream must make visible.
# (1) Producers must key events by user (a user's profile lives with its partition). Events keyed by another user, or not keyed at all, are still processed, but the
# stream counts them in streamguard_stream_key_mismatch_total{reason="other_key"|"unkeyed"}
# and logs them (rate-limited), so that the operator can fix the producer. Events keyed
# correctly count nothing. Messages are produced with kcat, an independent client.
# (2) A topic with more partitions than the consumer handles (ids >= 4096) stops the stream
# with a clear error instead of its messages being skipped without a trace. (3) A partition
# whose log restarts below the offset the store resumes from is named in a warning. (4) Messages
# deleted by retention before the group read them are named and counted.
set -euo pipefail
. tests/e2e/lib/e2e.sh
command -v kcat >/dev/null || fail "kcat not installed (scripts/deps.sh)"
start_broker 2
"$BIN" generate -n 30 -u 5 -s 4 -q -o "$T/ev.ndjson"
# 20 events keyed by their user, 6 keyed by another name, 4 without a key
python3 - "$T" <<'PY'
import json, sys
d = sys.argv[1]
lines = open(d + "/ev.ndjson").read().splitlines()
with open(d + "/keyed.txt", "w") as k, open(d + "/unkeyed.txt", "w") as u:
    for i, l in enumerate(lines):
        if i < 20:
            k.write(json.loads(l)["user"] + "\t" + l + "\n")
        elif i < 26:
            k.write("not-" + json.loads(l)["user"] + "\t" + l + "\n")
        else:
            u.write(l + "\n")
PY
kcat -P -b "$BOOT" -t security-events -K $'\t' -l "$T/keyed.txt"
kcat -P -b "$BOOT" -t security-events -l "$T/unkeyed.txt"
SOPTS=(--metrics-listen 127.0.0.1:0 --no-alerts --set kafka.session.timeout.ms=6000
    --set kafka.heartbeat.interval.ms=500)
stream_up s g1 "$T/db"
events_seen() { [ "$(metric "$PORT_s" streamguard_stream_events_total)" -eq 30 ]; }
wait_for 30 events_seen
m=$(curl -sS "http://127.0.0.1:$PORT_s/metrics")
other=$(echo "$m" | awk '$1 == "streamguard_stream_key_mismatch_total{reason=\"other_key\"}" {print $2}')
unkeyed=$(echo "$m" | awk '$1 == "streamguard_stream_key_mismatch_total{reason=\"unkeyed\"}" {print $2}')
[ "$other" = 6 ] && [ "$unkeyed" = 4 ] || fail "key mismatches: other_key '$other' (want 6), unkeyed '$unkeyed' (want 4)"
grep -q "warn  message security-events\[[0-9]\]@[0-9]*: key 'not-[a-z.]*' is not its user '[a-z.]*'" "$T/s.err" \
    || fail "no log line for a wrong key: $(grep warn "$T/s.err" | head -3)"
grep -q "warn  message security-events\[[0-9]\]@[0-9]*: no key (producers must key events by user" "$T/s.err" \
    || fail "no log line for a missing key: $(grep warn "$T/s.err" | head -3)"
kill -TERM "$PID_s"
wait "$PID_s" || fail "stream exited $?"
[ "$("$BIN" stream --dump-store --db "$T/db" | grep -c '^events	')" -eq 30 ] || fail "not all 30 events stored"
echo "keys: 6 wrongly keyed and 4 unkeyed of 30 events counted and logged; all 30 stored"

bg broker2 "$BIN" broker --partitions 4097 --bootstrap-file "$T/boot2"
wait_for 20 test -s "$T/boot2"
rc=0
"$BIN" stream -b "$(cat "$T/boot2")" -d "$T/db2" --metrics-listen off --no-alerts \
    --idle-exit 5s > /dev/null 2> "$T/many.err" || rc=$?
[ "$rc" -eq 2 ] || fail "4097 partitions: exit $rc, want 2 ($(tail -n 2 "$T/many.err"))"
grep -q "security-events\[4096\]: this build handles partition ids 0..4095" "$T/many.err" \
    || fail "4097 partitions: unclear message: $(tail -n 1 "$T/many.err")"
echo "partitions: $(tail -n 1 "$T/many.err")"

# (3) The topic deleted and created again (here: a new development broker) while a store
# holds offsets beyond its new end: Kafka resets the consumer to the earliest offset without an
# error; the stream says so for each partition, counts it, and reads the new log.
bg broker3 "$BIN" broker --partitions 4 --bootstrap-file "$T/boot3"
wait_for 20 test -s "$T/boot3"
"$BIN" generate -n 2000 -u 40 -s 5 -q -b "$(cat "$T/boot3")"
RUN=(--metrics-listen off --no-alerts --idle-exit 3s --set kafka.session.timeout.ms=6000)
"$BIN" stream -b "$(cat "$T/boot3")" -g g3 -d "$T/db3" "${RUN[@]}" > /dev/null 2> "$T/first.err" \
    || fail "first stream: exit $?"
! grep -q "log restarts\|deleted from the topic" "$T/first.err" || fail "false resume warning"
bg broker4 "$BIN" broker --partitions 4 --bootstrap-file "$T/boot4"
wait_for 20 test -s "$T/boot4"
"$BIN" generate -n 400 -u 40 -s 6 -q -b "$(cat "$T/boot4")"
"$BIN" stream -b "$(cat "$T/boot4")" -g g3 -d "$T/db3" "${RUN[@]}" > "$T/second.json" \
    2> "$T/second.err" || fail "second stream: exit $?"
n=$(grep -c "warn  security-events\[[0-3]\]: the partition's log restarts at offset 0, below the [0-9]* this store had read" "$T/second.err" || true)
[ "$n" -eq 4 ] || fail "rewind warnings: $n, want 4: $(grep warn "$T/second.err" | head -3)"
[ "$(jget "$T/second.json" "j['events']")" -eq 400 ] || fail "the new log was not read: $(cat "$T/second.json")"
echo "rewind: 4 partitions restarting below the stored offsets named, their 400 new events read"

# (4) Messages deleted by retention while the stream was down: the development broker keeps
# 5 MB per partition (librdkafka's mock cluster) and drops the oldest message sets beyond
# that, as Kafka's retention.bytes does. The stream reads 5000 events, stops; 15000 more are
# produced uncompressed (~9 MB), so the log's start moves past the stored offset; the restart
# resumes at the new start, logs the gap and counts exactly the deleted offsets
# (streamguard_stream_offsets_lost_total). Offsets skipped within the log (transaction
# markers) are no loss: tests/unit/test_speed.c, test_resume_lost.
bg broker5 "$BIN" broker --partitions 1 --bootstrap-file "$T/boot5"
wait_for 20 test -s "$T/boot5"
BOOT=$(cat "$T/boot5")
"$BIN" generate -n 5000 -u 50 -s 7 -q -o "$T/ret.ndjson"
python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["user"] + "\t" + l, end="")' "$T/ret.ndjson" > "$T/ret.kv"
kprod() { kcat -P -b "$BOOT" -t security-events -K $'\t' -l -X compression.codec=none "$T/ret.kv"; }
log_start() { kcat -Q -b "$BOOT" -t security-events:0:-2 | awk '{print $NF}'; }
kprod
"$BIN" stream -b "$BOOT" -g g5 -d "$T/db5" "${RUN[@]}" > "$T/ret1.json" 2> "$T/ret1.err" \
    || fail "retention: first stream: exit $?"
[ "$(jget "$T/ret1.json" "j['events']")" -eq 5000 ] || fail "retention: first run: $(cat "$T/ret1.json")"
! grep -q "deleted from the topic" "$T/ret1.err" || fail "retention: false warning"
kprod; kprod; kprod
start=$(log_start)
[ "$start" -gt 5000 ] || fail "the broker kept the whole log (start $start): the test needs more data"
stream_up r5 g5 "$T/db5"
wait_for 30 grep -q "deleted from the topic" "$T/r5.err"
lost=$(metric "$PORT_r5" streamguard_stream_offsets_lost_total)
[ "$lost" -eq $((start - 5000)) ] || fail "offsets lost: $lost, want $((start - 5000)) (log start $start)"
grep -q "warn  security-events\[0\]: resumed at offset $start, but the store had read up to 5000: the $lost messages from there to $start were deleted" "$T/r5.err" \
    || fail "retention: unclear warning: $(grep warn "$T/r5.err" | head -2)"
kill -TERM "$PID_r5"
wait "$PID_r5" || fail "retention: second stream: exit $?"
echo "retention: log start $start > stored 5000: $lost deleted offsets named and counted"

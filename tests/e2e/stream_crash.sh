#!/usr/bin/env bash
# stream_crash.sh: `streamguard stream --input` (the same pipeline as the Kafka path) killed
# with SIGKILL at 12 random points and restarted each time ends with a store byte-identical
# (canonical dump) to a clean run's, and with the same alerts and dead-letter files; SIGTERM
# finishes cleanly with exit 0; a storm of invalid lines all land in the dead-letter file with
# reasons while processing goes on; /metrics passes `promtool check metrics` and counts what
# happened.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 tests/e2e/lib/gen_events.py --users 60 --events 100000 --seed 11 --invalid 0.02 \
    --dups 0.01 > "$T/in.ndjson"

# clean reference, timed: the kill points below are fractions of its duration, so that they
# land inside the replay whatever the speed of the build (the ASan build is several times
# slower; with fixed delays a faster build finished before 10 kills)
t0=$(date +%s%N)
"$BIN" stream --input "$T/in.ndjson" --db "$T/clean.db" --metrics-listen off \
    --batch-size 200 --alerts-file "$T/clean.alerts" --dlq "$T/clean.dlq" > "$T/clean.json"
clean_ms=$((($(date +%s%N) - t0) / 1000000))
"$BIN" stream --dump-store --db "$T/clean.db" > "$T/clean.dump"

# kill -9 at random points until 12 runs were killed (a run that finished first - each
# restart resumes, so later runs have less to do - does not count), then run to the end.
# Each run lives a random 1/25 to 1/4 of the clean run (a restart first recovers the WAL
# the earlier runs left, so it progresses less than it lives).
RANDOM=4242
kills=0
lo=$((clean_ms / 25 + 1))
hi=$((clean_ms / 4 + 2))
echo "clean run: $clean_ms ms; kills after $lo-$hi ms"
for i in $(seq 1 40); do
    [ "$kills" -ge 12 ] && break
    "$BIN" stream --input "$T/in.ndjson" --db "$T/crash.db" --metrics-listen off \
        --batch-size 200 --alerts-file "$T/crash.alerts" --dlq "$T/crash.dlq" \
        --set log.level=info > /dev/null 2>>"$T/crash.log" &
    pid=$!
    sleep "$(awk -v ms=$((lo + RANDOM % (hi - lo + 1))) 'BEGIN { printf "%.3f", ms / 1000 }')"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null || true
done
"$BIN" stream --input "$T/in.ndjson" --db "$T/crash.db" --metrics-listen off \
    --batch-size 200 --alerts-file "$T/crash.alerts" --dlq "$T/crash.dlq" \
    --set log.level=info > /dev/null 2>>"$T/crash.log"
"$BIN" stream --dump-store --db "$T/crash.db" > "$T/crash.dump"
cmp "$T/clean.dump" "$T/crash.dump"
# the alerts and dead-letter files too: each record once, as in the clean run (a kill after a
# batch's records reached the file and before the batch was stored used to leave them twice)
[ -s "$T/clean.alerts" ] && [ -s "$T/clean.dlq" ]
cmp "$T/clean.alerts" "$T/crash.alerts"
cmp "$T/clean.dlq" "$T/crash.dlq"
echo "kill -9 loop: $kills kills, final store, alerts and dead letters identical to the clean run"
echo "  ($(grep -c "removed the last" "$T/crash.log" || true) restarts cut an unstored batch's records)"
# the kills really interrupted the replay (a later run resumed from a stored line)
[ "$kills" -ge 10 ]
grep -q "resuming" "$T/crash.log"

# the cut applies only to the file the store wrote: the same name holding another file (a new
# inode, longer than the stored length) is not cut
cp "$T/crash.alerts" "$T/other.alerts"
echo '{"kept":1}' >> "$T/other.alerts"
mv "$T/other.alerts" "$T/crash.alerts"
"$BIN" stream --input "$T/in.ndjson" --db "$T/crash.db" --metrics-listen off \
    --alerts-file "$T/crash.alerts" > /dev/null
tail -n 1 "$T/crash.alerts" | grep -q '"kept":1'
# and a run without --alerts-file forgets the stored length: the file may meanwhile hold
# records of batches that run stored, so a later run with it again must not cut them (the
# input grows between the runs; a replay resumes a file by its name and line number)
head -n 30000 "$T/in.ndjson" > "$T/grow.ndjson"
"$BIN" stream --input "$T/grow.ndjson" --db "$T/grow.db" --metrics-listen off \
    --alerts-file "$T/grow.alerts" > /dev/null 2>> "$T/grow.log"
echo '{"kept":2}' >> "$T/grow.alerts"
sed -n 30001,60000p "$T/in.ndjson" >> "$T/grow.ndjson"
"$BIN" stream --input "$T/grow.ndjson" --db "$T/grow.db" --metrics-listen off > /dev/null 2>> "$T/grow.log"
sed -n '60001,$p' "$T/in.ndjson" >> "$T/grow.ndjson"
"$BIN" stream --input "$T/grow.ndjson" --db "$T/grow.db" --metrics-listen off \
    --alerts-file "$T/grow.alerts" > /dev/null 2>> "$T/grow.log"
grep -q '"kept":2' "$T/grow.alerts"
tail -n 1 "$T/grow.alerts" | grep -q '"anomaly_id"\|"event_id"'

# the store agrees with the input: every valid distinct event is stored exactly once
events=$(grep -c '^events	' "$T/clean.dump")
expected=$(python3 - "$T/in.ndjson" <<'PY'
import json, sys
ids = set()
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except Exception:
        continue
    if isinstance(e, dict) and isinstance(e.get("timestamp"), int) and e["timestamp"] >= 0 \
            and e.get("event_type") in ("auth_attempt", "network_connection", "file_access",
                                         "process_execution", "dns_query") and e.get("user"):
        ids.add(e["event_id"])
print(len(ids))
PY
)
echo "events stored: $events, distinct valid in input: $expected"
[ "$events" -eq "$expected" ]

# invalid storm: 5000 bad lines between good ones; all in the DLQ with a reason; keeps going
python3 - "$T/in.ndjson" > "$T/storm.ndjson" <<'PY'
import sys
good = open(sys.argv[1]).read().splitlines()[:2000]
bad = ['{', '{"event_id":"x"}', '\xff\xfe', '[]', '{"event_id":"a b","timestamp":1,'
       '"event_type":"dns_query","user":"u","source_ip":"1.1.1.1"}']
for i in range(5000):
    print(bad[i % len(bad)])
    if i % 3 == 0 and good:
        print(good.pop())
for g in good:
    print(g)
PY
"$BIN" stream --input "$T/storm.ndjson" --db "$T/storm.db" --metrics-listen off \
    --dlq "$T/dlq.ndjson" > "$T/storm.json"
cat "$T/storm.json"
[ "$(wc -l < "$T/dlq.ndjson")" -ge 5000 ]
python3 - "$T/dlq.ndjson" "$T/storm.json" <<'PY'
import json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1])]
summary = json.load(open(sys.argv[2]))
assert all(r["reason"] and r["original_base64"] is not None for r in recs)
assert summary["invalid"] == len(recs), (summary, len(recs))
assert summary["events"] > 1900, summary
print("dlq reasons:", dict(collections.Counter(r["reason"] for r in recs)))
PY

# SIGTERM: finish the batch, write, exit 0; metrics endpoint validated by promtool
mkfifo "$T/fifo"
"$BIN" stream --input - --db "$T/term.db" --metrics-listen 127.0.0.1:0 \
    --set log.level=info < "$T/fifo" > "$T/term.json" 2> "$T/term.log" &
pid=$!
exec 3> "$T/fifo"
head -n 3000 "$T/in.ndjson" >&3
for _ in $(seq 1 100); do grep -q "port" "$T/term.log" && break; sleep 0.1; done
port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/term.log")
sleep 1
python3 - "$port" > "$T/metrics.txt" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode(), end="")
PY
if command -v promtool > /dev/null; then promtool check metrics < "$T/metrics.txt"; fi
grep -q 'streamguard_stream_processing_seconds_count' "$T/metrics.txt"
grep -q 'streamguard_store_size_bytes' "$T/metrics.txt"
grep -q '^streamguard_store_write_stall 0$' "$T/metrics.txt" # 3000 events: RocksDB keeps up
kill -TERM "$pid"
exec 3>&-
wait "$pid"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['events']+s['invalid']+s['duplicates']==3000, s" "$T/term.json"
# SIGHUP (the terminal went away) stops as cleanly
mkfifo "$T/fifo2"
"$BIN" stream --input - --db "$T/hup.db" --metrics-listen off < "$T/fifo2" > "$T/hup.json" \
    2> "$T/hup.log" &
pid=$!
exec 3> "$T/fifo2"
head -n 1000 "$T/in.ndjson" >&3
sleep 1
kill -HUP "$pid"
exec 3>&-
wait "$pid"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['events']+s['invalid']+s['duplicates']==1000, s" "$T/hup.json"
# no broker: exit code 3 (dependency unavailable) after a short wait, nothing half-done
rc=0
"$BIN" stream --brokers 127.0.0.1:1 --db "$T/nobroker.db" --metrics-listen off \
    --set kafka.linger.ms=5 > /dev/null 2> "$T/nobroker.log" || rc=$?
[ "$rc" -eq 3 ] && grep -q "no Kafka broker reachable" "$T/nobroker.log"
# librdkafka's own lines ("%3|...|FAIL|...") go through our log: none in its raw format; a
# producer property (linger.ms) ignored by the consumer is no warning (kafka.* goes to both)
if grep -q '^%[0-9]|\|warn .*CONFWARN' "$T/nobroker.log"; then
    echo "raw librdkafka lines or role warnings:"; grep '^%\|CONFWARN' "$T/nobroker.log" | head -3
    exit 1
fi
# usage errors: exit code 2
rc=0; "$BIN" stream --batch-size 0 --input "$T/in.ndjson" --db "$T/x.db" 2> /dev/null || rc=$?
[ "$rc" -eq 2 ]
rc=0; "$BIN" stream --dlq x.ndjson 2> /dev/null || rc=$?
[ "$rc" -eq 2 ]
echo "stream_crash: ok"

#!/usr/bin/env bash
# stream_model.sh: `stream --model DIR` with a model trained by `streamguard batch`: every new
# user is warm-started from its baseline (counted in the store), a missing model is a clean
# error, and a retrained model is picked up by a running stream without a restart.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN" generate -n 20000 -u 100 -s 3 -q -o "$T/ev.ndjson"
"$BIN" batch -i "$T/ev.ndjson" -o "$T/batch" > /dev/null 2>&1
test -s "$T/batch/model/baselines.ndjson"
stat_of() {  # stat_of DB NAME -> value
    "$BIN" stream --dump-store --db "$1" | awk -F'\t' '$1 == "stats"' | python3 -c '
import binascii, sys
for l in sys.stdin:
    _, k, v = l.rstrip("\n").split("\t")
    if binascii.unhexlify(k).decode() == sys.argv[1]:
        print(int(v, 16))' "$2"
}
"$BIN" stream --input "$T/ev.ndjson" --db "$T/db" --metrics-listen off --model "$T/batch/model" > /dev/null
users=$(stat_of "$T/db" users)
warm=$(stat_of "$T/db" users_warm_started)
echo "users $users, warm-started $warm"
[ "$users" -eq 100 ] && [ "$warm" -eq 100 ]
# without a model nobody is warm-started
"$BIN" stream --input "$T/ev.ndjson" --db "$T/db0" --metrics-listen off > /dev/null
[ -z "$(stat_of "$T/db0" users_warm_started)" ]
# a missing model fails cleanly
if "$BIN" stream --input "$T/ev.ndjson" --db "$T/db1" --metrics-listen off --model "$T/nope" 2> "$T/err"; then
    echo "expected a failure"; exit 1
fi
grep -q "model" "$T/err"
# hot reload: retrain into the same directory while a stream runs
mkfifo "$T/fifo"
"$BIN" stream --input - --db "$T/db2" --metrics-listen off --model "$T/batch/model" \
    --batch-size 10 < "$T/fifo" > /dev/null 2> "$T/run.log" &
pid=$!
exec 3> "$T/fifo"
head -n 100 "$T/ev.ndjson" >&3
sleep 1
"$BIN" batch -i "$T/ev.ndjson" -o "$T/batch" --set batch.seed=99 > /dev/null 2>&1
touch "$T/batch/model/model.json"
for i in $(seq 1 80); do
    sed -n "$((100 + i * 10)),$((109 + i * 10))p" "$T/ev.ndjson" >&3
    grep -q "model reloaded" "$T/run.log" && break
    sleep 0.1
done
exec 3>&-
wait "$pid"
grep -q "model reloaded" "$T/run.log"
echo "stream_model: ok"

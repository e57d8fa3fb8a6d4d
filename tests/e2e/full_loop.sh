#!/usr/bin/env bash
# full_loop.sh: the whole Lambda loop on the development broker, the way issue 7 describes it:
# broker -> generate --truth (+ duplicates and every invalid kind of the contract via kcat) ->
# stream (RocksDB) -> batch over the topic -> serve -> live traffic -> stream restarted with the
# batch --model. Asserts the counts at every stage (produced = stored + DLQ + duplicates, in the
# stream's summary, the store, the DLQ topic, the batch report and serve's /api/stats), the
# batch layer's user-level recall of the truth's attackers, and that the batch model raises the
# speed layer's scores of attack events (same live events replayed with and without --model).
set -euo pipefail
. tests/e2e/lib/e2e.sh
SPEC=${STREAMGUARD_SPEC_DIR:-}
for d in "$SPEC" ../shared/spec ../../shared/spec /work/shared/spec; do
    [ -n "$d" ] && [ -f "$d/examples/invalid.ndjson" ] && { SPEC=$d; break; }
done
[ -f "$SPEC/examples/invalid.ndjson" ] || fail "spec examples not found (STREAMGUARD_SPEC_DIR)"
command -v kcat >/dev/null || fail "kcat not installed (scripts/deps.sh)"

USERS=400 HIST=40000 LIVE=10000 DUPS=300
[ $ASAN = 1 ] && USERS=300 HIST=20000 LIVE=5000 DUPS=150
SEED=21
STREAM_OPTS=(--metrics-listen off --idle-exit 3s --set kafka.session.timeout.ms=6000)

start_broker 8
echo "== history: $HIST events of $USERS users (4% attacked), $DUPS duplicates, invalid examples"
"$BIN" generate -n $HIST -u $USERS -a 0.04 -d 3 -s $SEED --start 2026-11-01T00:00:00Z -q \
    -o "$T/hist.ndjson" -b "$BOOT" -t "$T/hist.truth"
[ "$(wc -l <"$T/hist.ndjson")" -eq $HIST ] || fail "generate wrote the wrong count"
# producer retries: the same messages again, keyed by user like the generator does
head -n $DUPS "$T/hist.ndjson" |
    python3 -c 'import json,sys; [print(json.loads(l)["user"] + "\t" + l, end="") for l in sys.stdin]' |
    kcat -P -b "$BOOT" -t security-events -K $'\t'
kcat -P -b "$BOOT" -t security-events -l "$SPEC/examples/invalid.ndjson"
BAD=$(wc -l <"$SPEC/examples/invalid.ndjson")
PRODUCED=$((HIST + DUPS + BAD))

echo "== speed layer over the topic"
"$BIN" stream -b "$BOOT" -d "$T/db" "${STREAM_OPTS[@]}" >"$T/s1.json" 2>"$T/s1.err" ||
    fail "stream exited $?: $(tail -n 5 "$T/s1.err")"
cat "$T/s1.json"
python3 - "$T/s1.json" $HIST $DUPS $BAD <<'PY' || fail "stream summary counts"
import json, sys
s = json.load(open(sys.argv[1]))
hist, dups, bad = map(int, sys.argv[2:])
assert (s["events"], s["duplicates"], s["invalid"]) == (hist, dups, bad), s
assert s["anomalies"] > 0, s
PY
"$BIN" stream --dump-store --db "$T/db" >"$T/d1.dump"
[ "$(dump_count "$T/d1.dump" events)" -eq $HIST ] || fail "store events $(dump_count "$T/d1.dump" events) != $HIST"
[ "$(dump_count "$T/d1.dump" users)" -eq $USERS ] || fail "store users"
[ "$(stat_of "$T/d1.dump" "invalid.*")" = "$BAD" ] || fail "store invalid counters: $(stat_of "$T/d1.dump" "invalid.*")"
[ "$(stat_of "$T/d1.dump" duplicates)" = "$DUPS" ] || fail "store duplicates counter"
kcat -C -b "$BOOT" -t security-events-dlq -e -q -f '%h\n' >"$T/dlq.headers"
[ "$(wc -l <"$T/dlq.headers")" -eq $BAD ] || fail "DLQ topic holds $(wc -l <"$T/dlq.headers") messages, want $BAD"
grep -c 'reason=' "$T/dlq.headers" | grep -qx $BAD || fail "a DLQ message has no reason header"
echo "produced $PRODUCED = stored $HIST + DLQ $BAD + duplicates $DUPS"

echo "== batch layer over the topic"
"$BIN" batch -b "$BOOT" -o "$T/batch" -q || fail "batch exited $?"
python3 - "$T/batch/anomaly_report.json" $PRODUCED $BAD $USERS <<'PY' || fail "batch report counts"
import json, sys
r = json.load(open(sys.argv[1]))["totals"]
produced, bad, users = map(int, sys.argv[2:])
assert r["messages"] == produced and r["invalid"] == bad and r["valid"] == produced - bad, r
assert r["users"] == users, r
PY

echo "== serving layer over both"
bg serve "$BIN" serve -d "$T/db" -b "$T/batch" -l 127.0.0.1:0
wait_for 20 grep -q 'listening on' "$T/serve.out"
API="http://127.0.0.1:$(port_of "$T/serve.out")"
wait_for 10 http "$API/health"
http "$API/api/stats" >"$T/stats1.json"
python3 - "$T/stats1.json" $HIST $DUPS $BAD $USERS <<'PY' || fail "/api/stats counts"
import json, sys
s = json.load(open(sys.argv[1]))
hist, dups, bad, users = map(int, sys.argv[2:])
assert s["events_total"] == hist and s["duplicates_total"] == dups, s
assert s["invalid_total"] == bad and sum(s["invalid_by_reason"].values()) == bad, s
assert s["users_total"] == users and sum(s["events_by_type"].values()) == hist, s
PY
http "$API/api/batch/users?anomalous=true&limit=1000" >"$T/flagged.json"
python3 - "$T/flagged.json" "$T/hist.truth" <<'PY' || fail "batch recall of the attackers"
import json, sys
f = json.load(open(sys.argv[1]))
flagged = {u["user"] for u in f["users"]}
assert len(flagged) == f["total"] > 0, (len(flagged), f["total"])
attackers = {json.loads(l)["user"] for l in open(sys.argv[2])}
hit = attackers & flagged
recall = len(hit) / len(attackers)
print("batch: %d users flagged, %d of %d attackers among them: user-level recall %.3f"
      % (len(flagged), len(hit), len(attackers), recall))
assert len(attackers) >= 8 and recall >= 0.9, sorted(attackers - flagged)
PY

echo "== live traffic, speed layer restarted with the batch model"
"$BIN" generate -n $LIVE -u $USERS -a 0.1 -d 1 -s $SEED --start 2026-11-04T00:00:00Z \
    --id-salt live -q -o "$T/live.ndjson" -b "$BOOT" -t "$T/live.truth"
"$BIN" stream -b "$BOOT" -d "$T/db" --model "$T/batch/model" "${STREAM_OPTS[@]}" \
    >"$T/s2.json" 2>"$T/s2.err" || fail "stream --model exited $?: $(tail -n 5 "$T/s2.err")"
cat "$T/s2.json"
# it resumed from the offsets in its store: only the live messages are new
jget "$T/s2.json" 'j["events"] == '$LIVE' and j["duplicates"] == 0 and j["invalid"] == 0' |
    grep -qx True || fail "restarted stream did not resume exactly after the history"
TOTAL=$((HIST + LIVE))
python3 - "$API" $TOTAL <<'PY' || fail "/api/stats after the live traffic"
import json, sys, time, urllib.request
for _ in range(60):  # serve refreshes its statistics every 2 s
    s = json.load(urllib.request.urlopen(sys.argv[1] + "/api/stats"))
    if s["events_total"] == int(sys.argv[2]):
        break
    time.sleep(0.25)
assert s["events_total"] == int(sys.argv[2]), s["events_total"]
PY
ID=$(tail -n 1 "$T/live.ndjson" | jget - 'j["event_id"]')
http "$API/api/events/$ID" | jget - 'j["event_id"]' | grep -qx "$ID" || fail "live event not served"
# the alerts topic carries every stored anomaly (at-least-once: a repeat is allowed, a loss not)
"$BIN" stream --dump-store --db "$T/db" >"$T/d2.dump"
kcat -C -b "$BOOT" -t security-anomalies -e -q -f '%k\t%s\n' >"$T/alerts.tsv"
python3 - "$T/alerts.tsv" "$T/d2.dump" "$T/s1.json" "$T/s2.json" <<'PY' || fail "alerts topic vs store"
import binascii, json, sys
alerts = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1])]
ids = set()
for key, val in alerts:
    a = json.loads(val)
    assert a["schema"] == "streamguard.anomaly.v1" and a["user"] == key and a["score"] >= 0.5, a
    ids.add(a["event_id"])
stored = set()
for l in open(sys.argv[2]):
    cf, k, v = l.rstrip("\n").split("\t")
    if cf == "anomalies":
        stored.add(binascii.unhexlify(k)[8:].decode())
runs = sum(json.load(open(p))["anomalies"] for p in sys.argv[3:])
assert ids == stored and len(stored) == runs, (len(ids), len(stored), runs)
print("alerts topic: %d messages, %d distinct anomalies = %d stored = %d in the run summaries"
      % (len(alerts), len(ids), len(stored), runs))
PY

echo "== live events replayed into fresh stores, without and with the model"
"$BIN" stream -i "$T/live.ndjson" -d "$T/r0" --metrics-listen off --alerts-file "$T/a0.ndjson" >/dev/null
"$BIN" stream -i "$T/live.ndjson" -d "$T/r1" --metrics-listen off --alerts-file "$T/a1.ndjson" \
    --model "$T/batch/model" >/dev/null
python3 - "$T/live.truth" "$T/a0.ndjson" "$T/a1.ndjson" <<'PY' || fail "the model does not raise attack scores"
import collections, json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
def alerts(p):  # event_id -> score; an event without an alert scored below 0.5 (counted as 0)
    return {a["event_id"]: a["score"] for a in map(json.loads, open(p))}
a0, a1 = alerts(sys.argv[2]), alerts(sys.argv[3])
by = collections.defaultdict(list)
for t in truth:
    by[t["scenario"]] += t["event_ids"]
ids = [e for t in truth for e in t["event_ids"]]
def stats(a, ev):
    return sum(a.get(e, 0) for e in ev) / len(ev), sum(e in a for e in ev)
for name, ev in sorted(by.items()) + [("all attack events", ids)]:
    (m0, n0), (m1, n1) = stats(a0, ev), stats(a1, ev)
    print("  %-20s %5d events: mean score %.3f -> %.3f, alerted %d -> %d" % (name, len(ev), m0, m1, n0, n1))
att = set(ids)
f0, f1 = sum(e not in att for e in a0), sum(e not in att for e in a1)
print("  alerts on non-attack events: %d -> %d" % (f0, f1))
(m0, n0), (m1, n1) = stats(a0, ids), stats(a1, ids)
assert m1 > m0 and n1 > n0, (m0, m1, n0, n1)
PY
echo "full_loop: ok"

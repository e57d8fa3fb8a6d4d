#!/usr/bin/env bash
# bad_input.sh: valid events mixed with every invalid kind of the contract (the spec's
# invalid.ndjson) plus random bytes, a 1.1 MiB message, deep nesting, invalid UTF-8, blank and
# non-object values (tests/e2e/lib/bad_messages.py), through both layers:
#  - stream over Kafka: every invalid message is on the DLQ topic with its reason in the
#    headers and its original bytes (cut to 512 KiB only for the over-sized one), counted by
#    reason in the store; every valid event is stored;
#  - stream --input --dlq FILE: the same, each line with the reason the contract gives it;
#  - batch (file and topic): the report counts invalid messages by reason; --max-invalid-ratio
#    fails loudly (exit 1, nothing written) and a mostly-garbage input fails.
set -euo pipefail
. tests/e2e/lib/e2e.sh
SPEC=${STREAMGUARD_SPEC_DIR:-}
for d in "$SPEC" ../shared/spec ../../shared/spec /work/shared/spec; do
    [ -n "$d" ] && [ -f "$d/examples/invalid.ndjson" ] && { SPEC=$d; break; }
done
[ -f "$SPEC/examples/invalid.ndjson" ] || fail "spec examples not found (STREAMGUARD_SPEC_DIR)"
command -v kcat >/dev/null || fail "kcat not installed (scripts/deps.sh)"

VALID=2000
python3 tests/e2e/lib/bad_messages.py "$T/bad" "$SPEC"
BAD=$(wc -l <"$T/bad/manifest")
"$BIN" generate -n $VALID -u 40 -s 3 -q -o "$T/valid.ndjson"
# the NDJSON mix: bad message i on line 2i+1, valid events between and after them
python3 - "$T/bad" "$T/valid.ndjson" >"$T/mix.ndjson" <<'PY'
import sys
d, v = sys.argv[1], open(sys.argv[2], "rb").read().split(b"\n")
names = [l.split("\t")[0] for l in open(d + "/manifest")]
out = sys.stdout.buffer
for i, n in enumerate(names):
    out.write(open(d + "/" + n, "rb").read() + b"\n" + v[i] + b"\n")
for l in v[len(names):]:
    if l:
        out.write(l + b"\n")
PY

echo "== stream --input: $VALID valid lines, $BAD bad ones"
"$BIN" stream -i "$T/mix.ndjson" -d "$T/replay.db" --metrics-listen off --dlq "$T/replay.dlq" \
    >"$T/replay.json" || fail "stream --input exited $?"
cat "$T/replay.json"
python3 - "$T/replay.json" "$T/replay.dlq" "$T/bad/manifest" $VALID <<'PY' || fail "replay dead letters"
import base64, collections, json, sys
s = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
man = [l.rstrip("\n").split("\t") for l in open(sys.argv[3])]
assert s["events"] == int(sys.argv[4]) and s["invalid"] == len(man) == len(recs), (s, len(recs))
by_line = {r["offset"]: r for r in recs}
for i, (name, kind, reason) in enumerate(man):
    r = by_line.get(2 * i + 1)
    assert r, "no dead letter for %s (line %d)" % (kind, 2 * i + 1)
    assert r["reason"] and r["message"], r
    assert reason == "*" or r["reason"] == reason, (kind, reason, r["reason"], r["message"])
    orig = open(sys.argv[3][:-8] + name, "rb").read()
    got = base64.b64decode(r["original_base64"])
    if r.get("truncated"):  # the reader keeps a 1 MiB + 1 prefix of an over-long line
        assert len(orig) > 1048577 and r["original_size"] == len(orig), (kind, r.get("original_size"))
        assert got == orig[:1048577], kind
    else:
        assert got == orig, kind
print("replay reasons:", dict(sorted(collections.Counter(r["reason"] for r in recs).items())))
PY
"$BIN" stream --dump-store --db "$T/replay.db" >"$T/replay.dump"
# without --dlq the invalid lines are still logged (rate-limited: the first one here), and
# the end of the run says how many were not kept
"$BIN" stream -i "$T/mix.ndjson" -d "$T/nodlq.db" --metrics-listen off >/dev/null 2>"$T/nodlq.err" \
    || fail "stream --input without --dlq exited $?"
grep -q "warn  invalid line 1 of $T/mix.ndjson: [a-z_]*: " "$T/nodlq.err" \
    || fail "no log line for invalid line 1: $(head -3 "$T/nodlq.err")"
grep -q "warn  $BAD invalid line(s) of $T/mix.ndjson were counted, not kept" "$T/nodlq.err" \
    || fail "no closing warning about $BAD invalid lines not kept: $(tail -3 "$T/nodlq.err")"
[ "$(dump_count "$T/replay.dump" events)" -eq $VALID ] || fail "replay stored $(dump_count "$T/replay.dump" events) events"
[ "$(stat_of "$T/replay.dump" 'invalid.*')" -eq "$BAD" ] || fail "replay store counters"

echo "== stream over Kafka"
start_broker 4
"$BIN" generate -n $VALID -u 40 -s 3 -q -b "$BOOT"
# each bad message keyed "bad:<file>" (generated events are keyed by user); kcat skips empty
# files, so the empty value goes through its key delimiter; plus a NULL value (tombstone)
while IFS=$'\t' read -r name _; do
    if [ -s "$T/bad/$name" ]; then
        kcat -P -b "$BOOT" -t security-events -k "bad:$name" -X message.max.bytes=4000000 "$T/bad/$name"
    else
        printf 'bad:%s\t\n' "$name" | kcat -P -b "$BOOT" -t security-events -K '\t'
    fi
done <"$T/bad/manifest"
printf 'bad:null\t\n' | kcat -P -Z -b "$BOOT" -t security-events -K '\t'
KBAD=$((BAD + 1))
"$BIN" stream -b "$BOOT" -d "$T/kafka.db" --metrics-listen off --idle-exit 3s \
    --set kafka.session.timeout.ms=6000 >"$T/kafka.json" 2>"$T/kafka.err" ||
    fail "stream exited $?: $(tail -n 3 "$T/kafka.err")"
cat "$T/kafka.json"
jget "$T/kafka.json" "j['events'] == $VALID and j['invalid'] == $KBAD" | grep -qx True ||
    fail "stream counted $(cat "$T/kafka.json")"
KC=(-b "$BOOT" -e -q -X fetch.message.max.bytes=4000000)
kcat -C "${KC[@]}" -t security-events -f '%p\t%o\t%S\t%k\n' >"$T/in.tsv"
kcat -C "${KC[@]}" -t security-events-dlq -f '%p\t%o\t%S\n' >"$T/dlq.sizes"
kcat -C "${KC[@]}" -t security-events-dlq -J >"$T/dlq.json"
"$BIN" stream --dump-store --db "$T/kafka.db" >"$T/kafka.dump"
[ "$(dump_count "$T/kafka.dump" events)" -eq $VALID ] || fail "Kafka run stored $(dump_count "$T/kafka.dump" events) events"
python3 - "$T/in.tsv" "$T/dlq.json" "$T/dlq.sizes" "$T/replay.dlq" "$T/kafka.dump" "$T/bad/manifest" <<'PY' || fail "DLQ topic"
import binascii, collections, json, sys
inp = [l.split("\t") for l in open(sys.argv[1], "rb").read().decode("latin-1").splitlines()]
bad = {(int(p), int(o)): (int(sz), k[4:]) for p, o, sz, k in inp if k.startswith("bad:")}
dlq = [json.loads(l) for l in open(sys.argv[2], errors="replace")]
sizes = {(int(p), int(o)): int(sz) for p, o, sz in (l.split("\t") for l in open(sys.argv[3]))}
replay = [json.loads(l)["reason"] for l in open(sys.argv[4])]  # in manifest order
man = {l.split("\t")[0]: (l.split("\t")[1], replay[i]) for i, l in enumerate(open(sys.argv[6]))}
man["null"] = ("NULL value", "invalid_json")
assert len(dlq) == len(sizes) == len(bad) == len(man), (len(dlq), len(sizes), len(bad), len(man))
seen = {}
for d in dlq:
    size = sizes[(d["partition"], d["offset"])]
    h = dict(zip(d["headers"][0::2], d["headers"][1::2]))
    assert h["source_topic"] == "security-events" and h["reason"] and h["message"], h
    key = (int(h["source_partition"]), int(h["source_offset"]))
    assert key in bad and key not in seen, key
    insize, name = bad[key]
    kind, want = man[name]
    assert h["reason"] == want, (kind, h["reason"], want)  # the reason the replay gave
    seen[key] = h["reason"]
    if h.get("truncated") == "true":
        assert want == "too_large" and int(h["original_size"]) == insize > size == 512 * 1024, h
    else:
        assert size == max(insize, 0), (kind, size, insize)
kafka = collections.Counter(seen.values())
store = collections.Counter()
for l in open(sys.argv[5]):
    cf, k, v = l.rstrip("\n").split("\t")
    k = binascii.unhexlify(k).decode() if cf == "stats" else ""
    if k.startswith("invalid."):
        store[k[8:]] = int(v, 16)
assert store == kafka, (store, kafka)
json.dump(kafka, open(sys.argv[2] + ".reasons", "w"))
print("DLQ topic: %d dead letters, one per invalid message, with the replay's reason: %s"
      % (len(dlq), dict(sorted(kafka.items()))))
PY

echo "== batch"
set +e
"$BIN" batch -i "$T/mix.ndjson" -o "$T/b1" -q 2>"$T/b1.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "batch over a 2.8%-invalid input exited $rc, want 1 (--max-invalid-ratio 0.01)"
grep -q 'max-invalid-ratio' "$T/b1.err" && grep -q 'too_large' "$T/b1.err" || fail "no reasons in: $(cat "$T/b1.err")"
[ ! -e "$T/b1" ] || fail "a failed batch wrote output"
"$BIN" batch -i "$T/mix.ndjson" -o "$T/b1" -q --max-invalid-ratio 0.05 || fail "batch with ratio 0.05"
"$BIN" batch -b "$BOOT" -o "$T/b2" -q --max-invalid-ratio 0.05 || fail "batch over the topic"
python3 - "$T/b1/anomaly_report.json" "$T/b2/anomaly_report.json" "$T/replay.dlq" $VALID "$T/dlq.json.reasons" <<'PY' || fail "batch report"
import collections, json, sys
want = collections.Counter(json.loads(l)["reason"] for l in open(sys.argv[3]))
valid = int(sys.argv[4])
for path, blanks in ((sys.argv[1], 2), (sys.argv[2], 0)):
    r = json.load(open(path))
    t, by = r["totals"], {k: v["count"] for k, v in r["invalid_by_reason"].items()}
    # the file: what the replay dead-lettered; the topic: what the stream dead-lettered
    w = want.copy() if blanks else collections.Counter(json.load(open(sys.argv[5])))
    if blanks:  # NDJSON: empty and all-blank lines are counted as blank lines, not messages
        w["invalid_json"] -= blanks
        assert t["blank_lines"] == blanks, t
    assert t["valid"] == valid and t["invalid"] == sum(w.values()) and by == +w, (path, t, by, w)
    assert all(v["first_error"] for v in r["invalid_by_reason"].values())
    print("batch %s: %d valid, %d invalid by reason, %d blank lines" % (
        "file " if blanks else "topic", t["valid"], t["invalid"], t.get("blank_lines", 0)))
PY
# mostly garbage: fails loudly whatever the ratio allowed below 1
head -c 200000 /dev/urandom | tr '\0' '\n' >"$T/garbage.ndjson"
head -n 50 "$T/valid.ndjson" >>"$T/garbage.ndjson"
set +e
"$BIN" batch -i "$T/garbage.ndjson" -o "$T/b3" -q --max-invalid-ratio 0.5 2>"$T/b3.err"
rc=$?
set -e
[ $rc -eq 1 ] && [ ! -e "$T/b3" ] || fail "garbage batch exited $rc (want 1, no output)"
grep -q 'invalid' "$T/b3.err" || fail "garbage batch said: $(cat "$T/b3.err")"
echo "garbage batch: $(head -n 1 "$T/b3.err")"
echo "bad_input: ok"

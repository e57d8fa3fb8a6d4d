#!/usr/bin/env bash
# scale_out.sh: two `stream` processes in one consumer group (each with its own --db, as
# docs/ARCHITECTURE.md "State and scale-out" designs it) share the partitions while generated
# traffic arrives; one is killed with SIGKILL mid-way; the survivor takes its partitions over,
# rebuilds those users' state from the log, and its store ends byte-identical (canonical dump)
# to a single process that consumed the same topic alone. The killed process's store holds a
# consistent prefix: a subset of the reference's events. Then both rejoin with their stores
# (resuming from their own stored offsets), a second wave arrives, and the two stores together
# equal a single-process run: every event/anomaly row of either is the reference's, together
# they hold all of them, and each user's profile and each partition's offset in the store of
# the process that owns the partition is the reference's.
set -euo pipefail
. tests/e2e/lib/e2e.sh

N=24000 N2=8000 RATE=4000 USERS=300
[ $ASAN = 1 ] && N=10000 N2=4000 RATE=1500 USERS=200
SOPTS=(--set kafka.session.timeout.ms=6000 --set kafka.heartbeat.interval.ms=500
    --metrics-listen 127.0.0.1:0 --batch-size 200)

start_broker 8

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

echo "== both rejoin with their stores, then a second wave of $N2 events"
stream_up A2 g1 "$T/a.db"
stream_up B2 g1 "$T/b.db"
holds() {  # holds NAME: partitions the process holds now, from its log
    echo $(($(grep -c 'assigned security-events\[' "$T/$1.err" || true) -
        $(grep -c 'revoked security-events\[' "$T/$1.err" || true)))
}
shared() { [ "$(holds A2)" -ge 1 ] && [ "$(holds B2)" -ge 1 ] && [ $(($(holds A2) + $(holds B2))) -eq 8 ]; }
wait_for 40 shared
sleep 1
shared || fail "partitions not shared after the rejoin: A $(holds A2) B $(holds B2)"
echo "A holds $(holds A2) partitions, B holds $(holds B2)"
"$BIN" generate -n $N2 -u $USERS -s 17 -d 1 --start 2026-11-04T00:00:00Z --id-salt wave2 \
    -r $RATE -q -b "$BOOT" || fail "generate (wave 2)"
both() { echo $(($(metric "$PORT_A2" streamguard_stream_events_total) + $(metric "$PORT_B2" streamguard_stream_events_total))); }
prev=-1
for _ in $(seq 60); do  # until neither consumer has stored anything for 3 s
    sleep 3
    cur=$(both)
    [ "$cur" -eq "$prev" ] && break
    prev=$cur
done
cp "$T/A2.err" "$T/A2.held"  # the assignments before the shutdown revokes everything
cp "$T/B2.err" "$T/B2.held"
shared || fail "a rebalance during the second wave: A $(holds A2) B $(holds B2)"
kill -TERM "$PID_A2" "$PID_B2"
wait "$PID_A2" || fail "A did not stop cleanly"
wait "$PID_B2" || fail "B did not stop cleanly"
"$BIN" stream -b "$BOOT" -g ref2 -d "$T/ref2.db" --metrics-listen off --idle-exit 3s \
    --set kafka.session.timeout.ms=6000 >"$T/ref2.json" 2>"$T/ref2.err" || fail "reference run 2"
jget "$T/ref2.json" "j['events']" | grep -qx $((N + N2)) || fail "reference 2 stored $(cat "$T/ref2.json")"
kcat -C -b "$BOOT" -t security-events -e -q -f '%p\t%k\n' | sort -u >"$T/user_part.tsv"
for x in a b ref2; do "$BIN" stream --dump-store --db "$T/$x.db" >"$T/$x.dump2"; done
python3 - "$T" <<'PY' || fail "stores after the rejoin"
import collections, re, sys
t = sys.argv[1]
def owned(name):  # the partitions a process holds at the end, replaying its log
    held, src = set(), {}
    for l in open("%s/%s.held" % (t, name)):
        m = re.search(r"(assigned|revoked) security-events\[(\d+)\]", l)
        if m:
            (held.add if m.group(1) == "assigned" else held.discard)(int(m.group(2)))
            if m.group(1) == "assigned":
                src[int(m.group(2))] = "store" if "(store)" in l else "beginning"
    print("%s resumed %s" % (name[0], {p: src[p] for p in sorted(held)}))
    return held
def load(x):
    d = collections.defaultdict(dict)
    for l in open("%s/%s.dump2" % (t, x)):
        cf, k, v = l.rstrip("\n").split("\t")
        d[cf][k] = v
    return d
a, b, ref = load("a"), load("b"), load("ref2")
own = {"a": owned("A2"), "b": owned("B2")}
assert own["a"] and own["b"] and own["a"] | own["b"] == set(range(8)) and not own["a"] & own["b"], own
part = {k.encode().hex(): int(p) for p, k in (l.rstrip("\n").split("\t") for l in open(t + "/user_part.tsv"))}
# events, anomalies and their indexes: every row of either store is the reference's row, and
# together they hold all of the reference's
for cf in ("events", "event_ids", "events_by_user", "anomalies", "anomalies_by_user"):
    ra, rb, rr = set(a[cf].items()), set(b[cf].items()), set(ref[cf].items())
    assert ra <= rr and rb <= rr and ra | rb == rr, (cf, len(ra - rr), len(rb - rr), len(rr - ra - rb))
# each user's profile, in the store of the process that owns the user's partition, is the
# reference's byte for byte
for u, v in ref["users"].items():
    owner = a if part[u] in own["a"] else b
    assert owner["users"].get(u) == v, ("profile differs", bytes.fromhex(u))
# and so is the next offset of each partition in its owner's store
for k, v in ref["offsets"].items():
    p = int(k[-8:], 16)
    owner = a if p in own["a"] else b
    assert owner["offsets"].get(k) == v, ("offset differs", p)
print("after the rejoin: union of both stores = reference (%d events, %d anomalies); %d profiles "
      "and 8 offsets equal in their owner's store" % (len(ref["events"]), len(ref["anomalies"]), len(ref["users"])))
PY
echo "scale_out: ok"

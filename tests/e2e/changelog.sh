#!/usr/bin/env bash
# changelog.sh: partition handover through the profile changelog (speed/sg_changelog.h,
# `stream --changelog`). Process A consumes a 4-partition topic while generated traffic
# arrives, publishing a snapshot of its partitions' profiles every second, and is killed with
# SIGKILL mid-way. B, with an empty store, takes the partitions over: it must restore every
# partition from the changelog (not replay it from the beginning), consume only what came
# after the snapshot, recognise re-sent copies of messages A consumed as duplicates, and end
# with every user profile and partition offset byte-identical to a single process that
# consumed the whole topic. Then B stops cleanly - its revoke publishes
# a last snapshot - and C, again with an empty store, restores everything and has nothing
# left to consume, with the same profiles; idle, it publishes each partition once. A's old
# store, rejoining, is behind the changelog: it restores too, instead of catching up. In a
# second group, X hands a share to Y, gets it back when Y leaves (restoring Y's snapshots and
# dropping the profiles it had cached), and ends with a single process's profiles. Chunk keys
# name the group and topic, and successive snapshots alternate key slots across processes.
# A reference run in another group, without the
# changelog, shows that the snapshots of one group are not restored by another; a changelog
# topic with another partition count than the input's is refused at start (exit 2).
set -euo pipefail
. tests/e2e/lib/e2e.sh

# traffic lasts ~6 s, so that A is killed while it flows; a second wave of N2 arrives while
# no process runs, so B always has something of its own to consume
N=12000 RATE=2000 USERS=200 N2=2000
[ $ASAN = 1 ] && N=6000 RATE=1000 USERS=150 N2=1000
SOPTS=(--set kafka.session.timeout.ms=6000 --set kafka.heartbeat.interval.ms=500
    --metrics-listen 127.0.0.1:0 --batch-size 200 --changelog --set stream.changelog_interval=1s)

start_broker 4

from_changelog() { grep -c 'assigned security-events\[.*(changelog)' "$T/$1.err" || true; }

echo "== A consumes $N events arriving at $RATE/s, publishing snapshots; kill -9 mid-way"
stream_up A g1 "$T/a.db"
wait_for 60 grep -q 'assigned security-events' "$T/A.err"
bg gen "$BIN" generate -n $N -u $USERS -s 23 -d 3 --start 2026-11-01T00:00:00Z -r $RATE -q -b "$BOOT"
GEN_PID=$BG_PID
progress() {
    [ "$(metric "$PORT_A" streamguard_stream_events_total)" -gt $((N / 3)) ] &&
        [ "$(metric "$PORT_A" streamguard_stream_changelog_snapshots_total)" -ge 8 ]
}
wait_for 60 progress
a_events=$(metric "$PORT_A" streamguard_stream_events_total)
kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null || true
echo "killed A after it stored ~$a_events events"
[ "$(from_changelog A)" -eq 0 ] || fail "A restored from an empty changelog"
wait "$GEN_PID" || fail "generate failed"
"$BIN" generate -n $N2 -u $USERS -s 23 -d 1 --start 2026-11-04T00:00:00Z --id-salt wave2 -q \
    -b "$BOOT" || fail "generate (wave 2)"
# a message that does not decode in each partition: B dead-letters it; C's restore, reading
# the input before the snapshots for event ids, skips and counts it
for p in 0 1 2 3; do
    printf 'garbage\tnot an event\n' | kcat -P -b "$BOOT" -t security-events -p $p -K '\t'
done
# duplicates (a producer's retry, say) of the first DUPS messages of each partition, all of
# them consumed by A before its snapshots: the new owner learns their ids from the messages
# before the snapshot (stream.changelog_dedup_messages) and must not count them again
DUPS=75
command -v kcat >/dev/null || fail "kcat not installed (scripts/deps.sh)"
for p in 0 1 2 3; do
    kcat -C -b "$BOOT" -t security-events -p $p -o beginning -c $DUPS -e -q -f '%k\t%s\n' |
        kcat -P -b "$BOOT" -t security-events -p $p -K '\t'
done

echo "== B, an empty store, takes over from the changelog"
# B's group join completes once A's session has expired; it stops 4 s after the last message
"$BIN" stream -b "$BOOT" -g g1 -d "$T/b.db" "${SOPTS[@]}" --metrics-listen off --idle-exit 4s \
    >"$T/B.out" 2>"$T/B.err" || fail "B failed: $(tail -3 "$T/B.err")"
grep 'restored\|assigned' "$T/B.err" | sed 's/^/    /'
[ "$(from_changelog B)" -eq 4 ] || fail "B did not restore all 4 partitions from the changelog"
[ "$(jget "$T/B.out" "j['duplicates']")" -eq $((4 * DUPS)) ] ||
    fail "B counted $(jget "$T/B.out" "j['duplicates']") duplicates, not the $((4 * DUPS)) re-sent messages"
b_events=$(jget "$T/B.out" "j['events']")
echo "B consumed $b_events events after the snapshots (A stored ~$a_events of the first $N)"
[ "$b_events" -ge "$N2" ] && [ "$b_events" -lt $((N + N2)) ] ||
    fail "B consumed $b_events events: expected only those after the snapshots"

echo "== reference: one process alone (group ref, no changelog)"
"$BIN" stream -b "$BOOT" -g ref -d "$T/ref.db" --metrics-listen off --idle-exit 3s \
    --set kafka.session.timeout.ms=6000 >"$T/ref.json" 2>"$T/ref.err" || fail "reference run"
jget "$T/ref.json" "j['events']" | grep -qx $((N + N2)) || fail "reference stored $(cat "$T/ref.json")"
jget "$T/ref.json" "j['duplicates']" | grep -qx $((4 * DUPS)) || fail "reference: $(cat "$T/ref.json")"
"$BIN" stream --dump-store --db "$T/ref.db" >"$T/ref.dump"
"$BIN" stream --dump-store --db "$T/b.db" >"$T/b.dump"
rows() { grep -E "^$1	" "$2" || true; }
# same_state REFDUMP DUMP WHO: the profiles and offsets of two stores are byte-identical
same_state() {
    cmp <(rows users "$1") <(rows users "$2") || fail "$3's profiles differ from the reference's"
    cmp <(rows offsets "$1") <(rows offsets "$2") || fail "$3's offsets differ from the reference's"
}
same_state "$T/ref.dump" "$T/b.dump" B
echo "B's profiles and offsets == the reference's ($(dump_count "$T/ref.dump" users) users)"
for cf in events anomalies; do
    comm -23 <(rows $cf "$T/b.dump" | sort) <(rows $cf "$T/ref.dump" | sort) >"$T/extra"
    [ ! -s "$T/extra" ] || fail "B's store holds $cf that differ from the reference's"
done
[ "$(dump_count "$T/b.dump" events)" -eq "$b_events" ] || fail "B's events rows != its count"

echo "== clean handover: C, an empty store, after B's clean stop"
stream_up C g1 "$T/c.db"
restored_all() { [ "$(from_changelog C)" -eq 4 ]; }
wait_for 60 restored_all
# one snapshot per partition (it was assigned), then none: nothing consumed since
sleep 3.5
[ "$(metric "$PORT_C" streamguard_stream_changelog_snapshots_total)" -eq 4 ] ||
    fail "C published $(metric "$PORT_C" streamguard_stream_changelog_snapshots_total) snapshots, not 4"
[ "$(metric "$PORT_C" streamguard_stream_changelog_restored_profiles_total)" -eq \
    "$(dump_count "$T/ref.dump" users)" ] || fail "C's restored profiles metric"
# every message before the snapshots (the whole topic: fewer than stream.changelog_dedup_messages)
[ "$(metric "$PORT_C" streamguard_stream_changelog_restored_event_ids_total)" -eq \
    $((N + N2 + 4 * DUPS)) ] || fail "C's restored event ids metric"
[ "$(metric "$PORT_C" streamguard_stream_changelog_undecodable_inputs_total)" -eq 4 ] ||
    fail "C's undecodable inputs metric"
kill -TERM "$PID_C"
wait "$PID_C" || fail "C did not stop cleanly"
jget "$T/C.out" "j['events']" | grep -qx 0 || fail "C consumed events after a clean handover"
"$BIN" stream --dump-store --db "$T/c.db" >"$T/c.dump"
same_state "$T/ref.dump" "$T/c.dump" C
echo "C restored every profile and offset, consumed nothing"

echo "== A's old store rejoins: the changelog is further than its offsets, so it restores"
"$BIN" stream -b "$BOOT" -g g1 -d "$T/a.db" "${SOPTS[@]}" --metrics-listen off --idle-exit 3s \
    >"$T/A2.out" 2>"$T/A2.err" || fail "A2 failed: $(tail -3 "$T/A2.err")"
[ "$(grep -c 'this store had an older one' "$T/A2.err")" -eq 4 ] ||
    fail "A's old store did not restore its 4 partitions from the newer snapshots"
jget "$T/A2.out" "j['events']" | grep -qx 0 || fail "A's old store consumed events after its restore"
"$BIN" stream --dump-store --db "$T/a.db" >"$T/a2.dump"
same_state "$T/ref.dump" "$T/a2.dump" "A's old store"
echo "A's old store restored every profile and offset, consumed nothing"
# every chunk key names its group, input topic, partition, slot and chunk; and each process
# wrote its first snapshot into the other slot than the one it restored from (C after B's
# last, A's old store after C's), whatever slot it used before: per partition, the last
# three snapshots of g1 alternate
CL=streamguard-profiles-changelog
kcat -C -b "$BOOT" -t $CL -o beginning -e -q -f '%k\n' >"$T/keys"
grep -qvE '^(g1|g2)/security-events/p[0-3]/s[01]/c[0-9]+$' "$T/keys" &&
    fail "changelog keys not in the group/topic/partition/slot/chunk form: $(grep -vE '^g' "$T/keys" | head -3)"
for p in 0 1 2 3; do
    slots=$(grep -E "^g1/security-events/p$p/s[01]/c0$" "$T/keys" | tail -3 | sed 's/.*s\(.\)\/c0$/\1/' | tr -d '\n')
    [ "$slots" = 010 ] || [ "$slots" = 101 ] ||
        fail "partition $p: the last three snapshots of g1 used slots $slots (want alternating)"
done

echo "== group g2: X alone, Y joins and takes a share, Y leaves, X gets it back"
# X caches the profiles of Y's share before Y takes it; when the share comes back, X's store
# is behind Y's last snapshot: X restores it and must drop its stale cached profiles
holds() { echo $(($(grep -c 'assigned security-events\[' "$T/$1.err" || true) -
    $(grep -c 'revoked security-events\[' "$T/$1.err" || true))); }
events_of() { metric "$1" streamguard_stream_events_total; }
stream_up X g2 "$T/x.db"
x_all() { [ "$(holds X)" -eq 4 ] && [ "$(events_of "$PORT_X")" -eq $((N + N2)) ]; }
wait_for 60 x_all
# X's restores read g1's snapshots in every partition, and ignored and counted them
[ "$(metric "$PORT_X" streamguard_stream_changelog_ignored_chunks_total)" -gt 0 ] ||
    fail "X did not count g1's chunks as ignored"
[ "$(from_changelog X)" -eq 0 ] || fail "X restored another group's snapshots"
stream_up Y g2 "$T/y.db"
shared() { [ "$(holds X)" -ge 1 ] && [ "$(holds Y)" -ge 1 ] && [ $(($(holds X) + $(holds Y))) -eq 4 ]; }
wait_for 60 shared
[ "$(from_changelog Y)" -eq "$(holds Y)" ] || fail "Y did not restore its share from X's snapshots"
echo "X holds $(holds X) partitions, Y $(holds Y) (restored from X's snapshots)"
N3=2000
"$BIN" generate -n $N3 -u $USERS -s 23 -d 1 --start 2026-11-05T00:00:00Z --id-salt wave3 -q \
    -b "$BOOT" || fail "generate (wave 3)"
wave3_in() { [ $(($(events_of "$PORT_X") + $(events_of "$PORT_Y"))) -eq $((N + N2 + N3)) ]; }
wait_for 60 wave3_in
y_share=$(holds Y)
kill -TERM "$PID_Y"
wait "$PID_Y" || fail "Y did not stop cleanly"
back() { [ "$(grep -c 'this store had an older one' "$T/X.err")" -eq "$y_share" ]; }
wait_for 60 back
echo "X restored Y's $y_share partitions from Y's last snapshots"
"$BIN" generate -n $N3 -u $USERS -s 23 -d 1 --start 2026-11-06T00:00:00Z --id-salt wave4 -q \
    -b "$BOOT" || fail "generate (wave 4)"
y_events=$(jget "$T/Y.out" "j['events']")
wave4_in() { [ $(($(events_of "$PORT_X") + y_events)) -eq $((N + N2 + 2 * N3)) ]; }
wait_for 60 wave4_in
kill -TERM "$PID_X"
wait "$PID_X" || fail "X did not stop cleanly"
"$BIN" stream -b "$BOOT" -g ref2 -d "$T/ref2.db" --metrics-listen off --idle-exit 3s \
    --set kafka.session.timeout.ms=6000 >"$T/ref2.json" 2>"$T/ref2.err" || fail "reference 2"
jget "$T/ref2.json" "j['events']" | grep -qx $((N + N2 + 2 * N3)) || fail "reference 2 stored $(cat "$T/ref2.json")"
"$BIN" stream --dump-store --db "$T/ref2.db" >"$T/ref2.dump"
"$BIN" stream --dump-store --db "$T/x.db" >"$T/x.dump"
same_state "$T/ref2.dump" "$T/x.dump" X
echo "X's profiles and offsets == a single process's"

echo "== another group does not restore g1's snapshots"
"$BIN" stream -b "$BOOT" -g other -d "$T/o.db" "${SOPTS[@]}" --metrics-listen off \
    --idle-exit 3s >"$T/O.out" 2>"$T/O.err" || fail "group 'other' failed"
[ "$(from_changelog O)" -eq 0 ] || fail "group 'other' restored g1's snapshots"
jget "$T/O.out" "j['events']" | grep -qx $((N + N2 + 2 * N3)) || fail "group 'other' did not replay the topic"

echo "== a changelog topic without the input topic's partition count is refused at start"
bg broker8 "$BIN" broker --partitions 8 --topics security-events --bootstrap-file "$T/boot8"
wait_for 20 test -s "$T/boot8"
rc=0
"$BIN" stream -b "$(cat "$T/boot8")" -d "$T/m.db" --metrics-listen off --idle-exit 2s \
    --changelog >/dev/null 2>"$T/M.err" || rc=$?
# the development broker auto-creates the missing changelog topic with its default 4
grep -q 'changelog topic streamguard-profiles-changelog has 4 partitions, the input topic security-events has 8' \
    "$T/M.err" && [ $rc -eq 2 ] || fail "mismatched changelog topic: exit $rc, $(tail -1 "$T/M.err")"
echo "PASS"

#!/usr/bin/env bash
# bench/changelog_takeover.sh: what a takeover costs with and without the profile changelog
# (speed/sg_changelog.h). On the development broker (PARTS partitions), N pre-produced events
# are consumed by process A with --changelog, which stops cleanly (its revoke publishes the
# last snapshot). Then, alternating, a fresh store takes all partitions over (1) with
# --changelog: it restores every partition - time from the log line that starts the
# assignment's restores to its last "assigned" line, plus the profiles and event ids
# restored - (2) the same without the
# event ids for de-duplication (stream.changelog_dedup_messages=0), and (3) without the
# changelog: it replays the whole log - the stream's busy seconds (first message to last
# batch stored). All report the wall time of the whole process (start to exit, incl. the
# group join and --idle-exit 2s). Medians of REPS runs each.
# Usage: bench/changelog_takeover.sh [N=150000] [REPS=3] [PARTS=16]
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
N=${1:-150000}
REPS=${2:-3}
PARTS=${3:-16}
T=$(mktemp -d)
cleanup() { [ -n "${BPID:-}" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-); load $(cut -d' ' -f1 /proc/loadavg); date $(date -u +%FT%TZ); $PARTS partitions, $N events, 2,000 users"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
ms_of() { # ms_of LOGLINE: the line's timestamp in ms since midnight
    sed -E 's/^[0-9-]+T([0-9]+):([0-9]+):([0-9.]+)Z.*/\1 \2 \3/' | awk '{printf "%.0f\n", ($1*3600+$2*60+$3)*1000}'
}
S=(--set kafka.session.timeout.ms=6000 --set kafka.heartbeat.interval.ms=500 --metrics-listen off
    --idle-exit 2s)

"$BIN" broker -p "$PARTS" -f "$T/boot" > /dev/null 2>&1 & BPID=$!
for _ in $(seq 1 50); do [ -s "$T/boot" ] && break; sleep 0.1; done
B=$(cat "$T/boot")
"$BIN" generate -n "$N" -u 2000 -s 7 -b "$B" -q
"$BIN" stream -b "$B" -g g -d "$T/a.db" "${S[@]}" --changelog > "$T/a.json" 2> "$T/a.err"
echo "A consumed $(field "$T/a.json" events) events and published its snapshots"

restore=(); rwall=(); nrestore=(); nrwall=(); replay=(); pwall=(); profiles=(); ids=()
# take_over NAME EXTRA...: a restoring takeover; sets R_MS (first restore to last assignment)
# and R_WALL (the process)
take_over() {
    local name=$1 t0
    shift
    t0=$(date +%s%N)
    "$BIN" stream -b "$B" -g g -d "$T/$name.db" "${S[@]}" --changelog "$@" > "$T/$name.json" 2> "$T/$name.err"
    R_WALL=$(( ($(date +%s%N) - t0) / 1000000 ))
    local first last
    first=$(grep -m1 'looking for their snapshots in the changelog' "$T/$name.err" | ms_of)
    last=$(grep 'assigned security-events' "$T/$name.err" | tail -1 | ms_of)
    R_MS=$((last - first))
    [ "$(field "$T/$name.json" events)" = 0 ] || echo "warning: $name consumed events after its restore"
}
for r in $(seq 1 "$REPS"); do
    take_over "r$r"
    restore+=("$R_MS"); rwall+=("$R_WALL")
    profiles+=("$(grep -o 'from changelog [^:]*: [0-9]* profiles' "$T/r$r.err" | awk '{s += $(NF-1)} END {print s}')")
    ids+=("$(grep -o 'the event ids of [0-9]* messages' "$T/r$r.err" | awk '{s += $5} END {print s}')")
    take_over "n$r" --set stream.changelog_dedup_messages=0
    nrestore+=("$R_MS"); nrwall+=("$R_WALL")
    t0=$(date +%s%N)
    "$BIN" stream -b "$B" -g "p$r" -d "$T/p$r.db" "${S[@]}" > "$T/p$r.json" 2> "$T/p$r.err"
    pwall+=("$(( ($(date +%s%N) - t0) / 1000000 ))")
    replay+=("$(field "$T/p$r.json" busy_seconds)")
    echo "run $r: restore ${restore[-1]} ms (${profiles[-1]} profiles, ${ids[-1]} event ids), process ${rwall[-1]} ms;" \
        "without the ids ${nrestore[-1]} ms, process ${nrwall[-1]} ms;" \
        "replay $(field "$T/p$r.json" events) events in ${replay[-1]} s, process ${pwall[-1]} ms"
done
echo "takeover of $PARTS partitions holding $N events: restore from the changelog" \
    "$(printf '%s\n' "${restore[@]}" | median) ms (median; process $(printf '%s\n' "${rwall[@]}" | median) ms);" \
    "without the event ids $(printf '%s\n' "${nrestore[@]}" | median) ms (median; process $(printf '%s\n' "${nrwall[@]}" | median) ms);" \
    "replay of the log $(printf '%s\n' "${replay[@]}" | median) s (median; process $(printf '%s\n' "${pwall[@]}" | median) ms)"

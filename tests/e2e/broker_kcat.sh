#!/usr/bin/env bash
# End to end: `streamguard broker` + `streamguard generate --brokers` + kcat (an independent
# Kafka client). kcat must see the topics, read back exactly the generated messages (keyed by
# user, same bytes as the file output of the same seed); CLI errors give the documented exit
# codes (2 usage, 3 broker unreachable) quickly; SIGTERM stops the broker cleanly.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
command -v kcat >/dev/null || { echo "kcat not installed (scripts/deps.sh)"; exit 1; }
tmp=$(mktemp -d)
broker_pid=
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" broker --partitions 8 --bootstrap-file "$tmp/boot" >"$tmp/broker.out" 2>"$tmp/broker.err" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$tmp/boot" ] && break; sleep 0.1; done
[ -s "$tmp/boot" ] || fail "broker wrote no bootstrap file"
boot=$(cat "$tmp/boot")
[[ "$boot" == 127.0.0.1:* ]] || fail "broker not on loopback: $boot"
grep -qx "$boot" "$tmp/broker.out" || fail "bootstrap address not printed on stdout"

# kcat sees the three default topics with 8 partitions each.
kcat -L -b "$boot" -m 5 >"$tmp/meta"
for t in security-events security-anomalies security-events-dlq; do
    grep -q "topic \"$t\" with 8 partitions" "$tmp/meta" || fail "topic $t missing: $(cat "$tmp/meta")"
done

N=20000
"$BIN" generate -n $N -u 150 --seed 9 --brokers "$boot" --truth "$tmp/truth.jsonl" -q \
    || fail "generate --brokers exited $?"
"$BIN" generate -n $N -u 150 --seed 9 -o "$tmp/file.ndjson" -q
[ "$(wc -l <"$tmp/file.ndjson")" -eq $N ] || fail "file output has the wrong count"
[ -s "$tmp/truth.jsonl" ] || fail "no truth written"

kcat -C -b "$boot" -t security-events -e -q -f '%k\t%s\n' >"$tmp/kcat.tsv"
[ "$(wc -l <"$tmp/kcat.tsv")" -eq $N ] || fail "kcat read $(wc -l <"$tmp/kcat.tsv") messages, want $N"
cut -f2- "$tmp/kcat.tsv" | sort >"$tmp/kcat.sorted"
sort "$tmp/file.ndjson" >"$tmp/file.sorted"
cmp -s "$tmp/kcat.sorted" "$tmp/file.sorted" || fail "kcat content differs from the file output"
python3 - "$tmp/kcat.tsv" <<'PY' || fail "a message key is not its user"
import json, sys
for line in open(sys.argv[1]):
    key, val = line.rstrip("\n").split("\t", 1)
    assert key == json.loads(val)["user"], (key, val[:80])
PY

# Defaults come from the configuration file; flags override it; a bad key is a usage error.
printf 'generate:\n  events: 1234\n  users: 7\n  seed: 3\n' >"$tmp/gen.yaml"
[ "$("$BIN" generate -c "$tmp/gen.yaml" -q | wc -l)" -eq 1234 ] || fail "generate.events from config"
[ "$("$BIN" generate -c "$tmp/gen.yaml" -q | python3 -c 'import json,sys; print(len({json.loads(l)["user"] for l in sys.stdin}))')" -le 7 ] \
    || fail "generate.users from config"
[ "$("$BIN" generate -c "$tmp/gen.yaml" -n 50 -q | wc -l)" -eq 50 ] || fail "--events does not override"
printf 'generate:\n  evnts: 3\n' >"$tmp/bad.yaml"
set +e; "$BIN" generate -c "$tmp/bad.yaml" >/dev/null 2>&1; rcb=$?; set -e
[ $rcb -eq 2 ] || fail "unknown config key exited $rcb, want 2"

# CLI errors: usage -> 2, unreachable broker -> 3 with a clear message, within a few seconds.
set +e
"$BIN" generate --events abc >/dev/null 2>"$tmp/e1"; rc1=$?
"$BIN" generate --no-such-flag >/dev/null 2>&1; rc2=$?
"$BIN" broker --partitions 0 >/dev/null 2>&1; rc3=$?
"$BIN" generate --start yesterday -n 1 >/dev/null 2>&1; rc4=$?
t0=$(date +%s)
"$BIN" generate -n 10 --brokers 127.0.0.1:1 >/dev/null 2>"$tmp/e5"; rc5=$?
t1=$(date +%s)
printf 'log:\n  level: debug\n' >"$tmp/debug.yaml"
"$BIN" generate -n 10 --brokers 127.0.0.1:1 -c "$tmp/debug.yaml" >/dev/null 2>"$tmp/e8"
"$BIN" generate --help >/dev/null; rc6=$?
"$BIN" broker --help >/dev/null; rc7=$?
set -e
[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ] && [ $rc4 -eq 2 ] \
    || fail "usage errors exited $rc1 $rc2 $rc3 $rc4, want 2"
[ "$(wc -l <"$tmp/e1")" -eq 1 ] || fail "usage error is not one line: $(cat "$tmp/e1")"
[ $rc5 -eq 3 ] || fail "unreachable broker exited $rc5, want 3"
grep -q "no Kafka broker reachable" "$tmp/e5" || fail "unclear message: $(cat "$tmp/e5")"
[ "$(wc -l <"$tmp/e5")" -eq 1 ] || fail "unreachable broker: more than our one line: $(cat "$tmp/e5")"
# librdkafka's lines go through our log, at debug level (log.level applies to generate too)
grep -q ' debug kafka streamguard#producer-[0-9]* FAIL: ' "$tmp/e8" \
    || fail "log.level=debug shows no librdkafka lines: $(head -3 "$tmp/e8")"
[ $((t1 - t0)) -le 10 ] || fail "unreachable broker took $((t1 - t0)) s"
[ $rc6 -eq 0 ] && [ $rc7 -eq 0 ] || fail "--help exited $rc6 $rc7"

# --rate paces: 300 events at 200/s take about 1.5 s.
t0=$EPOCHREALTIME
"$BIN" generate -n 300 --rate 200 --brokers "$boot" --topic paced -q || fail "paced generate failed"
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{print b - a}')
awk -v d="$dt" 'BEGIN{exit !(d >= 1.3 && d < 10)}' || fail "--rate 200 for 300 events took $dt s"
[ "$(kcat -C -b "$boot" -t paced -e -q | wc -l)" -eq 300 ] || fail "paced topic count"

# SIGINT stops a long paced run cleanly: exit 0, what was generated is complete lines, truth
# is written.
"$BIN" generate -n 100000 --rate 2000 -o "$tmp/int.ndjson" --truth "$tmp/int.truth" -q &
gen_pid=$!
# interrupt once it is writing (paced output is flushed every 100 ms), then a little later
for _ in $(seq 100); do [ -s "$tmp/int.ndjson" ] && break; sleep 0.1; done
sleep 0.5
kill -INT "$gen_pid"
wait "$gen_pid" || fail "interrupted generate exited $?"
lines=$(wc -l <"$tmp/int.ndjson")
[ "$lines" -gt 200 ] && [ "$lines" -lt 20000 ] || fail "interrupted run wrote $lines lines"
python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$tmp/int.ndjson" \
    || fail "interrupted output has a broken line"
[ -e "$tmp/int.truth" ] || fail "no truth after interrupt"

# A broker that dies mid-run: undelivered messages are counted, reported, exit 1.
"$BIN" broker --bootstrap-file "$tmp/boot2" >/dev/null 2>&1 &
doomed=$!
for _ in $(seq 100); do [ -s "$tmp/boot2" ] && break; sleep 0.1; done
printf 'kafka:\n  message.timeout.ms: 2000\n' >"$tmp/short.yaml"
"$BIN" generate -n 8000 --rate 4000 --brokers "$(cat "$tmp/boot2")" -c "$tmp/short.yaml" \
    >/dev/null 2>"$tmp/e6" &
gen_pid=$!
# kill the broker once generate is producing (its first progress line, after ~1 s)
for _ in $(seq 100); do grep -q "^generate: " "$tmp/e6" && break; sleep 0.1; done
kill -KILL "$doomed"
wait "$doomed" 2>/dev/null || true
set +e; wait "$gen_pid"; rc8=$?; set -e
[ $rc8 -eq 1 ] || fail "generate into a dead broker exited $rc8, want 1: $(cat "$tmp/e6")"
grep -q "messages were not delivered" "$tmp/e6" || fail "no delivery report: $(cat "$tmp/e6")"

# SIGTERM: clean exit, bootstrap file removed.
kill -TERM "$broker_pid"
wait "$broker_pid"; rc=$?
broker_pid=
[ $rc -eq 0 ] || fail "broker exited $rc on SIGTERM"
[ ! -e "$tmp/boot" ] || fail "bootstrap file left behind"
echo "ok: $N messages through broker, kcat matches file output; exit codes 2/3 as documented"

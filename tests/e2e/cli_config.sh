#!/usr/bin/env bash
# tests/e2e/cli_config.sh: the one config path every command shares (src/cli/cli_config.c) -
# file, then --set in order, then the flags that stand for keys (a flag wins whatever its
# position); bad --set, unknown keys and bad files exit 2 with the message (file:line).
# Checked through config, stream, serve, generate and broker; the keys themselves are unit-tested.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
work=$(mktemp -d /tmp/sg_e2e_cliconf.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { # expect WANT_RC ARGS...: runs the binary, keeps stdout/stderr in $work/out, err
    local want=$1 rc=0
    shift
    "$BIN" "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
    [ "$rc" -eq "$want" ] || fail "$* exited $rc, want $want: $(cat "$work/err")"
}
has_err() { grep -qF -- "$1" "$work/err" || fail "stderr lacks '$1': $(cat "$work/err")"; }

printf 'stream:\n  batch_size: 5\ngenerate:\n  events: 3\n' >"$work/good.yaml"
printf 'stream:\n  batch_size: 5\n  grup: "x"\n' >"$work/bad.yaml"

# config: file < --set, later --set wins, --defaults ignores both
expect 0 config dump -c "$work/good.yaml"
grep -q '^  batch_size: 5$' "$work/out" || fail "file value not applied"
expect 0 config dump -c "$work/good.yaml" --set stream.batch_size=7 --set stream.batch_size=9
grep -q '^  batch_size: 9$' "$work/out" || fail "last --set did not win: $(grep batch_size "$work/out")"
expect 2 config dump --set stream.batch_size
has_err "streamguard config: --set needs KEY=VALUE"
expect 2 config dump --set no.such.key=1
has_err "unknown configuration key 'no.such.key'"
expect 2 config dump --set stream.batch_size=0
has_err "stream.batch_size"

# every command reports a bad file with file:line and exit 2
for cmd in "config check" stream serve generate broker; do
    expect 2 $cmd -c "$work/bad.yaml"
    has_err "bad.yaml:3: unknown configuration key 'stream.grup'"
done

# stream: --db wins over --set stream.db on either side of it
"$BIN" generate -n 40 -u 4 -q -o "$work/ev.ndjson"
"$BIN" stream --input "$work/ev.ndjson" --db "$work/real.db" --metrics-listen off >/dev/null
expect 0 stream --dump-store --set stream.db="$work/none.db" --db "$work/real.db"
[ -s "$work/out" ] || fail "dump of the --db store is empty"
cp "$work/out" "$work/dump1"
expect 0 stream --dump-store --db "$work/real.db" --set stream.db="$work/none.db"
cmp -s "$work/out" "$work/dump1" || fail "flag position changed the result"
expect 3 stream --dump-store --set stream.db="$work/none.db"
has_err "none.db"
expect 2 stream --set x
has_err "streamguard stream: --set needs KEY=VALUE"
expect 2 stream --dump-store --db "$work/real.db" --set stream.retention=soon
has_err "stream.retention"

# serve: --set reaches the config, --token-file wins over it; both fail before binding
expect 2 serve --set serve.token_file="$work/missing1"
has_err "--token-file $work/missing1"
expect 2 serve --token-file "$work/missing2" --set serve.token_file="$work/missing1"
has_err "--token-file $work/missing2"
expect 2 serve --set novalue
has_err "streamguard serve: --set needs KEY=VALUE"

# generate: the file's generate.events, overridden by -n; bad values exit 2
expect 0 generate -c "$work/good.yaml" -q -o -
[ "$(wc -l <"$work/out")" -eq 3 ] || fail "generate.events from the file not applied"
expect 0 generate -c "$work/good.yaml" -n 4 -q -o -
[ "$(wc -l <"$work/out")" -eq 4 ] || fail "-n did not win over the file"
expect 2 generate -n abc
has_err "generate.events: expected an integer, got 'abc'"

# broker: flags go through the table's ranges
expect 2 broker -p 0
has_err "broker.partitions: 0 is outside 1..10000"
expect 2 broker -b 17
has_err "broker.brokers"
echo "cli_config: ok"

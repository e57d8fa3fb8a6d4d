#!/usr/bin/env bash
# tests/e2e/serve_cli.sh: `streamguard serve` as a process - --help, documented exit codes
# (2 usage/config, 3 port in use), the printed bound address on an ephemeral port, 503 then
# 200 on /health when the store appears after start, the token file, and a clean exit 0 on
# SIGTERM and SIGINT while clients are connected.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
BUILD=${STREAMGUARD_BUILD:-build}
work=$(mktemp -d /tmp/sg_e2e_serve.XXXXXX)
spid=
cleanup() {
    if [ -n "$spid" ]; then kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc CODE ARGS...
    local want=$1 rc=0
    shift
    "$BIN" serve "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
    [ "$rc" -eq "$want" ] || fail "serve $* exited $rc, want $want: $(cat "$work/err")"
}
start() { # start ARGS...: runs serve in the background, sets spid and ADDR
    "$BIN" serve "$@" >"$work/serve.out" 2>"$work/serve.err" &
    spid=$!
    for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
    ADDR=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out" | head -1)
    [ -n "$ADDR" ] || fail "serve did not print its address: $(cat "$work/serve.err")"
}
stop() { # stop SIGNAL: the process must exit 0 within 3 s
    local t0=$SECONDS rc=0
    kill -"$1" "$spid"
    wait "$spid" || rc=$?
    spid=
    [ "$rc" -eq 0 ] || fail "serve exited $rc on SIG$1"
    [ $((SECONDS - t0)) -le 3 ] || fail "serve took $((SECONDS - t0)) s to stop on SIG$1"
}

"$BIN" serve --help | grep -q -- "--token-file" || fail "--help does not describe --token-file"
expect_rc 2 --bogus
expect_rc 2 --listen nonsense
expect_rc 2 --listen 127.0.0.1:99999
expect_rc 2 --threads 0
expect_rc 2 --token-file "$work/missing-token"
printf 'short\n' >"$work/short"
expect_rc 2 --token-file "$work/short"
expect_rc 2 extra-argument
grep -q "streamguard serve:" "$work/err" || fail "usage errors are not one clear line"

# The store does not exist yet: /health says so, then the store appears and serve follows it.
start --db "$work/db" --batch-dir "$work/batch" --listen 127.0.0.1:0
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/health")
[ "$code" = 503 ] || fail "/health before the store exists: $code, want 503"
"$BUILD/bench/bench_serve_store" --fill "$work" --events 2000 --users 50
for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/health")
    [ "$code" = 200 ] && break
    sleep 0.1
done
[ "$code" = 200 ] || fail "serve did not pick up the store that appeared: /health $code"
id=$(head -1 "$work/ids.txt")
curl -sf "http://$ADDR/api/events/$id" | grep -q "\"event_id\":\"$id\"" || fail "event not served"

# Port in use: exit 3.
expect_rc 3 --db "$work/db" --listen "$ADDR"
# Slow clients connected (an idle keep-alive connection) do not block shutdown.
exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR#*:}"
stop TERM
exec 3>&-

# With a token file: required on the API, not on /health.
printf 'e2e-serve-token-%s\n' "$RANDOM" >"$work/token"
start --db "$work/db" --listen 127.0.0.1:0 --token-file "$work/token"
grep -q "token required" "$work/serve.out" || fail "startup line does not say a token is required"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/api/events/$id")" = 401 ] || fail "no 401 without token"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$work/token")" \
    "http://$ADDR/api/events/$id")" = 200 ] || fail "token refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/health")" = 200 ] || fail "/health needs no token"
stop INT
echo "serve CLI: help, exit codes 2/3, store appearing later, token, SIGTERM/SIGINT all fine"

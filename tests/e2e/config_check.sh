#!/usr/bin/env bash
# tests/e2e/config_check.sh: `streamguard config check` as an operator uses it before a
# deployment - a good file (with a kafka: section for TLS + SASL) passes, an unknown key fails
# with file:line, and librdkafka's validation of the kafka: section (unknown property, bad
# value) fails with exit 2 naming the property. Not a test of every key (unit tests do that).
set -euo pipefail
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
work=$(mktemp -d /tmp/sg_e2e_config.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { # check WANT_RC ARGS...: runs config check, keeps stderr in $work/err
    local want=$1 rc=0
    shift
    "$BIN" config check "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
    [ "$rc" -eq "$want" ] || fail "config check $* exited $rc, want $want: $(cat "$work/err")"
}

cat >"$work/prod.yaml" <<'YAML'
stream:
  retention: 30d
kafka:
  bootstrap.servers: "kafka1.example.com:9093"
  security.protocol: "SASL_SSL"
  sasl.mechanism: "SCRAM-SHA-512"
  sasl.username: "streamguard"
  sasl.password: "secret"
YAML
check 0 -c "$work/prod.yaml"
grep -qx "configuration ok" "$work/out" || fail "no 'configuration ok': $(cat "$work/out")"

printf 'stream:\n  grup: "x"\n' >"$work/bad.yaml"
check 2 -c "$work/bad.yaml"
grep -q "bad.yaml:2: unknown configuration key 'stream.grup'" "$work/err" || fail "$(cat "$work/err")"

check 2 -c "$work/prod.yaml" --set kafka.no.such.property=1
grep -q 'kafka property no.such.property=1: No such configuration property' "$work/err" ||
    fail "unknown kafka property not named: $(cat "$work/err")"

printf 'kafka:\n  security.protocol: "bogus"\n' >"$work/proto.yaml"
check 2 -c "$work/proto.yaml"
grep -q 'kafka property security.protocol=bogus: Invalid value' "$work/err" ||
    fail "bad kafka value not named: $(cat "$work/err")"

# dump still prints the file's kafka section (check did not alter the configuration)
"$BIN" config dump -c "$work/prod.yaml" | grep -q '"security.protocol": "SASL_SSL"' ||
    fail "dump lost the kafka section"
echo "config_check: ok"

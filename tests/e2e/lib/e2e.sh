# tests/e2e/lib/e2e.sh: helpers sourced by the whole-system scripts (full_loop, scale_out,
# changelog, bad_input, load, demo...): a temp dir, child processes killed on exit, the
# development broker, streams in the background, waiting for printed ports, small HTTP and
# store readers. Not a test by itself.
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
BUILD=${STREAMGUARD_BUILD:-build}
ASAN=0
[ "$BUILD" = build-asan ] && ASAN=1
T=$(mktemp -d)
E2E_PIDS=()

e2e_cleanup() {
    local p
    for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${E2E_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${E2E_KEEP:-0}" = 1 ]; then # debugging: keep the logs and stores
        echo "e2e: kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap e2e_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# bg NAME CMD...: runs CMD in the background (stdout NAME.out, stderr NAME.err in $T), remembers
# its pid for the cleanup, and sets $BG_PID.
bg() {
    local name=$1
    shift
    "$@" >"$T/$name.out" 2>"$T/$name.err" &
    BG_PID=$!
    E2E_PIDS+=("$BG_PID")
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails the test on timeout.
wait_for() {
    local end=$((SECONDS + $1))
    shift
    while [ $SECONDS -lt $end ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    "$@" >/dev/null 2>&1 && return 0
    fail "timed out waiting for: $*"
}

# start_broker PARTITIONS: sets $BOOT to the bootstrap address of a fresh development broker.
start_broker() {
    bg broker "$BIN" broker --partitions "$1" --bootstrap-file "$T/boot"
    wait_for 20 test -s "$T/boot"
    BOOT=$(cat "$T/boot")
}

# stream_up NAME GROUP DB [ARGS]: `stream` in consumer group GROUP on $BOOT, with the
# script's options array SOPTS (which must include --metrics-listen 127.0.0.1:0), in the
# background; its pid in $PID_<NAME>, its metrics port in $PORT_<NAME>.
stream_up() {
    local name=$1 group=$2 db=$3
    shift 3
    bg "$name" "$BIN" stream -b "$BOOT" -g "$group" -d "$db" "${SOPTS[@]}" "$@"
    eval "PID_$name=$BG_PID"
    wait_for 20 grep -q '(port ' "$T/$name.err"
    eval "PORT_$name=$(port_of "$T/$name.err")"
}

# port_of FILE: the port a process printed ("... (port N)" or "http://127.0.0.1:N/").
port_of() {
    sed -n -e 's/.*(port \([0-9][0-9]*\)).*/\1/p' -e 's|.*http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' \
        "$1" | head -n 1
}

# http URL: body on stdout; fails on a non-2xx status.
http() {
    curl -sS --fail --max-time 10 "$1"
}

# metric PORT NAME: the sum of a Prometheus series (all label sets) on 127.0.0.1:PORT/metrics.
metric() {
    curl -sS --max-time 5 "http://127.0.0.1:$1/metrics" |
        awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%d\n", s }'
}

# jget JSONFILE|- EXPR: evaluates a Python expression over the parsed JSON `j`.
jget() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1]) if sys.argv[1]!="-" else sys.stdin); print(eval(sys.argv[2]))' "$@"
}

# dump_count DUMPFILE CF: rows of one column family in a `stream --dump-store` dump.
dump_count() {
    awk -F'\t' -v cf="$2" '$1 == cf { n++ } END { print n + 0 }' "$1"
}

# stat_of DUMPFILE NAME: a counter of the store's stats CF, from a dump (empty when absent);
# NAME ending in '*' sums the counters with that prefix (e.g. 'invalid.*').
stat_of() {
    awk -F'\t' '$1 == "stats"' "$1" | python3 -c '
import binascii, sys
want, tot, seen = sys.argv[1], 0, False
for l in sys.stdin:
    _, k, v = l.rstrip("\n").split("\t")
    k = binascii.unhexlify(k).decode()
    if k == want or (want.endswith("*") and k.startswith(want[:-1])):
        tot, seen = tot + int(v, 16), True
if seen:
    print(tot)' "$2"
}

#!/usr/bin/env bash
# tests/run.sh: runs every test binary (unit, component) and every end-to-end script against
# the build in $STREAMGUARD_BUILD (build/ or build-asan/), and prints one closing line
# "tests: N passed, N failed". Each test's output goes to $BUILD/test-logs/<name>.log and is
# printed when it fails. Optional filter: tests/run.sh PATTERN (substring of the test name).
set -u
BUILD=${STREAMGUARD_BUILD:-build}
export STREAMGUARD_BUILD=$BUILD
export STREAMGUARD_BIN="$PWD/$BUILD/streamguard"
# LeakSanitizer must report leaks; abort on the first sanitizer error.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
filter=${1:-}
logs="$BUILD/test-logs"
mkdir -p "$logs"
passed=0
failed=0
failed_names=()

run_one() {
    local name=$1
    shift
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return
    local log="$logs/${name//\//_}.log"
    local t0=$EPOCHREALTIME
    # a hung test fails after STREAMGUARD_TEST_TIMEOUT seconds instead of eating CI's budget
    if timeout --kill-after=10 "${STREAMGUARD_TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        printf 'PASS %-45s %6.1fs\n' "$name" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        printf 'FAIL %-45s (log: %s)\n' "$name" "$log"
        tail -n 60 "$log" | sed 's/^/    | /'
    fi
}

for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/component/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue ;; esac
    run_one "${t#$BUILD/tests/}" "$t"
done
for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    run_one "${t#tests/}" bash "$t"
done

echo
if [ "$failed" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "suite $BUILD"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

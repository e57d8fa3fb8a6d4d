#!/usr/bin/env bash
# tests/fuzz/run.sh: runs each libFuzzer target given for $STREAMGUARD_FUZZ_SECONDS, starting
# from its seed corpus tests/fuzz/corpus/<name>/ (copied to a scratch dir so runs don't grow
# the committed corpus). Fails if any target finds a crash, leak or sanitizer error.
set -u
secs=${STREAMGUARD_FUZZ_SECONDS:-20}
passed=0
failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    seed="tests/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    [ -d "$seed" ] && cp -r "$seed/." "$work/"
    if "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="build-fuzz/$name-" "$work" >"build-fuzz/$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS fuzz $name ($(grep -c . "build-fuzz/$name.log") log lines, ${secs}s)"
    else
        failed=$((failed + 1))
        echo "FAIL fuzz $name"
        tail -n 40 "build-fuzz/$name.log" | sed 's/^/    | /'
    fi
    rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

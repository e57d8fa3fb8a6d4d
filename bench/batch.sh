#!/usr/bin/env bash
# bench/batch.sh: the batch layer's figures for docs/BENCHMARKS.md ("Batch layer").
#  1. speed: 1M events / 10K users NDJSON -> Parquet + report + model, wall/user/sys/peak RSS,
#     median of 3, with all cores and with 1 thread; baseline in the same run: `wc -l` over the
#     same file (the cost of just reading it) and the decode-only share from the report timings.
#  2. memory: peak RSS for (events, users) = (1M, 10K), (1M, 2K), (300K, 10K): it follows users.
#  3. quality: ROC AUC per scenario and precision at the contamination cut, per algorithm,
#     against the generator's truth (bench/batch_quality.mjs, DuckDB from tests/node_modules).
#  4. Isolation Forest alone: build/bench/bench_iforest (100K x 30, vs scikit-learn).
# Usage: bash bench/batch.sh   (after make; writes into bench/out/, which git ignores)
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
out=bench/out/batch
mkdir -p "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); date $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
gen() { # events users file
    [ -s "$3" ] || "$BIN" generate --events "$1" --users "$2" --attack-users 0.02 --seed 7 \
        -o "$3" --truth "${3%.ndjson}.truth.jsonl" -q
}
gen 1000000 10000 "$out/e1m_u10k.ndjson"
gen 1000000 2000 "$out/e1m_u2k.ndjson"
gen 300000 10000 "$out/e300k_u10k.ndjson"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # label threads input -> prints "wall user sys rss_kb"
    /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$BIN" batch -i "$3" -o "$out/res" -q -j "$2" \
        --seed 7
    cat "$out/time"
}
echo
echo "## speed: 1M events, 10K users ($(du -m "$out/e1m_u10k.ndjson" | cut -f1) MB NDJSON) -> finished Parquet + report + model"
for t in 0 1; do
    : >"$out/runs"
    for _ in 1 2 3; do run x $t "$out/e1m_u10k.ndjson" >>"$out/runs"; done
    label=$([ $t = 0 ] && echo "all $(nproc) cores" || echo "1 thread")
    printf '  batch, %-12s wall %ss (median of 3; runs: %s), user %ss, sys %ss, peak RSS %s MB\n' "$label" \
        "$(cut -d' ' -f1 "$out/runs" | median)" "$(cut -d' ' -f1 "$out/runs" | tr '\n' ' ' | sed 's/ $//')" \
        "$(cut -d' ' -f2 "$out/runs" | median)" "$(cut -d' ' -f3 "$out/runs" | median)" \
        "$(( $(cut -d' ' -f4 "$out/runs" | median) / 1024 ))"
done
python3 -c "
import json; t = json.load(open('$out/res/anomaly_report.json'))['timings_s']
print('  phases of the last run (s): ' + ', '.join('%s %.3f' % (k, v) for k, v in t.items()))"
: >"$out/runs"
for _ in 1 2 3; do /usr/bin/time -f "%e" -o "$out/time" wc -l "$out/e1m_u10k.ndjson" >/dev/null; cat "$out/time" >>"$out/runs"; done
echo "  baseline: wc -l over the same file: $(median <"$out/runs") s"

echo
echo "## memory: peak RSS follows users, not events (all cores)"
for f in e1m_u10k e1m_u2k e300k_u10k; do
    r=$(run x 0 "$out/$f.ndjson")
    echo "  $f: peak RSS $(( $(echo "$r" | cut -d' ' -f4) / 1024 )) MB (wall $(echo "$r" | cut -d' ' -f1) s)"
done

echo
echo "## quality: 1M events / 10K users / 2% attacked (seed 7), per algorithm"
if [ -d tests/node_modules/@duckdb ]; then
    for a in ensemble iforest kmeans; do
        "$BIN" batch -i "$out/e1m_u10k.ndjson" -o "$out/q-$a" -q --algorithm "$a" --seed 7
        echo
        echo "### --algorithm $a"
        node bench/batch_quality.mjs "$out/q-$a" "$out/e1m_u10k.truth.jsonl"
    done
else
    echo "  tests/node_modules missing (scripts/deps.sh): quality not measured"
fi

echo
echo "## Kafka batch read: 200K events (8 partitions, development broker) -> batch output"
"$BIN" broker --partitions 8 --bootstrap-file "$out/boot" >/dev/null 2>"$out/broker.err" &
bpid=$!
trap 'kill $bpid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/boot" ] && break; sleep 0.1; done
"$BIN" generate -n 200000 -u 2000 --seed 5 --brokers "$(cat "$out/boot")" -q
/usr/bin/time -f "%e %U %S %M" -o "$out/time" "$BIN" batch --brokers "$(cat "$out/boot")" -o "$out/kres" -q
read -r w u sy rss <"$out/time"
echo "  batch --brokers: wall ${w}s, user ${u}s, sys ${sy}s, peak RSS $((rss / 1024)) MB"
kill $bpid; wait $bpid 2>/dev/null || true

echo
echo "## Isolation Forest fit + score, 100K x 30"
build/bench/bench_iforest

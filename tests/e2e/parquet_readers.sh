#!/usr/bin/env bash
# e2e: Parquet files written by sg_parquet (via tests/helpers/pq_gen) are read back by two
# independent readers, DuckDB and hyparquet (tests/parquet/check.mjs), which compare every
# value, the schema annotations and the statistics: random schemas/data/options (seeded),
# 1.2M rows in 12 row groups per codec, and a Hive dataset written twice (atomic replace).
# Needs node + tests/node_modules (scripts/deps.sh runs `npm ci` in tests/).
set -euo pipefail
BUILD=${STREAMGUARD_BUILD:-build}
GEN="$PWD/$BUILD/tests/helpers/pq_gen"
SEED=${PQ_SEED:-20261125}
[ -x "$GEN" ] || { echo "missing $GEN (make)"; exit 1; }
[ -d tests/node_modules/@duckdb/node-api ] || { echo "missing tests/node_modules: run scripts/deps.sh"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { (cd tests && node parquet/check.mjs "$@"); }
ROWS=1200000
[ "$BUILD" = build-asan ] && ROWS=300000 # same paths, fewer rows under the sanitizers

echo "== random cases, seed $SEED"
mkdir "$tmp/random"
"$GEN" random "$tmp/random" "$SEED" 36
check random "$tmp/random" | tail -n 3

echo "== big: $ROWS rows per codec"
for codec in zstd snappy uncompressed; do
    "$GEN" big "$tmp/big-$codec.parquet" "$ROWS" "$codec"
    check big "$tmp/big-$codec.parquet" "$ROWS"
    rm -f "$tmp/big-$codec.parquet"
    n=$((ROWS / 4)); ROWS=$((n < 100000 ? 100000 : n))
done

echo "== zero rows and one row"
"$GEN" big "$tmp/zero.parquet" 0 zstd
"$GEN" big "$tmp/one.parquet" 1 snappy
check big "$tmp/zero.parquet" 0
check big "$tmp/one.parquet" 1

echo "== Hive dataset, then replaced by a second run"
"$GEN" dataset "$tmp/ds" 1 300
check dataset "$tmp/ds"
grep -q '"seed":"1"' "$tmp/ds/expected.json"
"$GEN" dataset "$tmp/ds" 2 200
check dataset "$tmp/ds"
grep -q '"seed":"2"' "$tmp/ds/expected.json"
[ -f "$tmp/ds/_SUCCESS" ] || { echo "no _SUCCESS"; exit 1; }
left=$(find "$tmp" -maxdepth 1 -name 'ds.tmp-*' | wc -l)
[ "$left" -eq 0 ] || { echo "temporary directories left: $left"; exit 1; }
parts=$(find "$tmp/ds" -name '*.parquet' | wc -l)
[ "$parts" -eq 4 ] || { echo "expected 4 part files after replace, found $parts"; exit 1; }
hidden=$(find "$tmp/ds" -name '.*' | wc -l)
[ "$hidden" -eq 0 ] || { echo "temporary files left in the dataset"; exit 1; }
echo "parquet_readers: ok"

#!/usr/bin/env bash
# bench/bench_parquet.sh: Parquet writer throughput, StreamGuard vs DuckDB's own writer
# (single-threaded) on the same data: ROWS rows x 30 DOUBLE + 1 STRING column, each codec,
# REPS runs, medians. Prints the machine and the date. Output files go to DIR (tmpfs by
# default, so the disk is not what is measured) and are removed afterwards.
#   bench/bench_parquet.sh [ROWS=10000000] [REPS=3] [DIR=/dev/shm]
# Needs: make (build/bench/bench_parquet), node + tests/node_modules (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
REPS=${2:-3}
DIR=${3:-/dev/shm}
make -s build/bench/bench_parquet >/dev/null
echo "== Parquet writer benchmark"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine inflates wall times; cpu_s is per process)"
echo "data:    $ROWS rows x 30 DOUBLE + 1 STRING (dictionary-friendly user ids), $REPS runs each, medians"
out=$(mktemp)
trap 'rm -f "$out" "$DIR"/bench_sg_*.parquet "$DIR"/bench_duckdb_*.parquet' EXIT
nice ./build/bench/bench_parquet --rows "$ROWS" --reps "$REPS" --dir "$DIR" | tee "$out"
input=$(sed -n 's/.*input_bytes=\([0-9]*\).*/\1/p' "$out")
(cd tests && nice node parquet/bench_duckdb.mjs "$DIR/bench_sg_uncompressed.parquet" "$DIR" "$REPS" "$input") | tee -a "$out"
echo
printf '%-13s %12s %12s %10s %10s %14s %12s\n' codec sg_MB/s duckdb_MB/s sg_cpu_s duck_cpu_s sg_rows/s sg/duckdb
for c in uncompressed snappy zstd; do
    sg=$(grep "^sg $c " "$out")
    dk=$(grep "^duckdb $c " "$out")
    get() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
    awk -v c="$c" -v a="$(get "$sg" mb_s)" -v b="$(get "$dk" mb_s)" -v ca="$(get "$sg" cpu_s)" \
        -v cb="$(get "$dk" cpu_s)" -v r="$(get "$sg" rows_s)" \
        'BEGIN{printf "%-13s %12.1f %12.1f %10.2f %10.2f %14.0f %11.2fx\n", c, a, b, ca, cb, r, a/b}'
done

#!/usr/bin/env bash
# bench/bench_mpi.sh: the figures of docs/BENCHMARKS.md "Batch layer under MPI".
#  1. events/s of `mpirun -np N build/streamguard-mpi batch` for N = 1, 2, 4 (wall time of the
#     whole job incl. MPI start-up; median of REPS runs), with the baseline measured in the
#     same run: the single-process `streamguard batch` on the same file (all cores and -j 1).
#  2. bytes each rank received per phase at N = 4 (STREAMGUARD_MPI_COMM_STATS), the inputs of
#     the scaling model in docs/BENCHMARKS.md.
# Usage: bash bench/bench_mpi.sh [EVENTS [USERS [REPS]]]   (defaults 500000 5000 5; after make;
# writes into bench/out/mpi/, which git ignores). On a 2-core machine -np 4 oversubscribes.
set -euo pipefail
EVENTS=${1:-500000} USERS=${2:-5000} REPS=${3:-5}
BIN=${STREAMGUARD_BIN:-build/streamguard}
MPI_BIN=${STREAMGUARD_MPI_BIN:-build/streamguard-mpi}
[ -x "$MPI_BIN" ] || { echo "missing $MPI_BIN (install Open MPI: scripts/deps.sh; make)"; exit 1; }
out=bench/out/mpi
mkdir -p "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(mpirun --version | head -1); date $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
in="$out/e${EVENTS}_u${USERS}.ndjson"
[ -s "$in" ] || "$BIN" generate --events "$EVENTS" --users "$USERS" --attack-users 0.02 --seed 7 \
    -o "$in" -q
echo "input: $EVENTS events, $USERS users, $(du -m "$in" | cut -f1) MB NDJSON"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # command... -> "wall cpu" seconds (cpu = user + sys of all processes)
    /usr/bin/time -f "%e %U %S" -o "$out/time" "$@" >/dev/null 2>"$out/err" ||
        { cat "$out/err"; exit 1; }
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$out/time"
}
report() { # label, then "wall cpu" lines on stdin
    local runs med cpu
    runs=$(cat)
    med=$(echo "$runs" | cut -d' ' -f1 | median)
    cpu=$(echo "$runs" | cut -d' ' -f2 | median)
    printf '  %-34s wall %6.3f s %9.0f events/s  cpu %6.3f s  (walls: %s)\n' "$1" "$med" \
        "$(awk -v e="$EVENTS" -v w="$med" 'BEGIN { print e / w }')" "$cpu" \
        "$(echo "$runs" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
}
# On a machine shared with other work, ranks waiting in a collective must yield the core
# (Open MPI spins otherwise unless oversubscribed); on dedicated nodes drop this.
MPIRUN=(mpirun --oversubscribe --allow-run-as-root --mca mpi_yield_when_idle 1)
echo
echo "## events/s (wall, incl. MPI start-up of ~0.3 s) and CPU seconds of all processes, median of $REPS"
for j in 0 1; do
    for _ in $(seq "$REPS"); do timed "$BIN" batch -q -i "$in" -o "$out/res" -j "$j"; done |
        report "baseline: streamguard batch -j $j"
done
echo "  (mpirun of /bin/true: $(timed "${MPIRUN[@]}" -np 2 /bin/true | cut -d' ' -f1) s wall)"
for np in 1 2 4; do
    for _ in $(seq "$REPS"); do
        timed "${MPIRUN[@]}" -np "$np" "$MPI_BIN" batch -q -i "$in" -o "$out/res_mpi"
    done | report "mpirun -np $np streamguard-mpi"
done

echo
echo "## bytes received per rank and phase at -np 4 (shuffle: bytes sent to other ranks)"
STREAMGUARD_MPI_COMM_STATS=1 "${MPIRUN[@]}" -np 4 "$MPI_BIN" batch -q -i "$in" \
    -o "$out/res_mpi" 2>&1 | grep '^comm ' | sort | sed 's/^/  /'
echo "  (input bytes: $(stat -c %s "$in"); users: $USERS; features: $(python3 -c \
    "import json,sys; print(len(json.load(open(sys.argv[1]))['features']))" \
    "$out/res_mpi/model/model.json"); trees 100, psi 256, k 5)"

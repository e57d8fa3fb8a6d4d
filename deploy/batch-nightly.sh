#!/usr/bin/env bash
# batch-nightly.sh: one production run of the batch layer with rollback. Runs `streamguard
# batch` into $SG_BATCH_ROOT/runs/<UTC time>, and only if it succeeds points the symlink
# $SG_BATCH_ROOT/current at it (atomically: rename of a new symlink), then deletes all but the
# newest $SG_KEEP runs. `serve --batch-dir ROOT/current` and `stream --model ROOT/current/model`
# pick the new run up by themselves. Rollback: deploy/batch-nightly.sh --rollback.
# Installed as /usr/local/bin/streamguard-batch-nightly by docs/OPERATIONS.md; used by
# deploy/systemd/streamguard-batch.service. Not a scheduler: cron or the timer runs it.
set -euo pipefail

SG_BIN=${SG_BIN:-/usr/local/bin/streamguard}
SG_CONFIG=${SG_CONFIG:-/etc/streamguard/streamguard.yaml}
SG_BATCH_ROOT=${SG_BATCH_ROOT:-/var/lib/streamguard/batch}
SG_KEEP=${SG_KEEP:-7}
SG_BROKERS=${SG_BROKERS:-}    # Kafka bootstrap servers; empty: read SG_INPUT instead
SG_INPUT=${SG_INPUT:-}        # NDJSON archive file or directory (when not reading Kafka)

runs="$SG_BATCH_ROOT/runs"
mkdir -p "$runs"

switch_to() { # $1: run directory name under runs/
    ln -sfn "runs/$1" "$SG_BATCH_ROOT/.current.new"
    mv -T "$SG_BATCH_ROOT/.current.new" "$SG_BATCH_ROOT/current"
    echo "batch-nightly: current -> runs/$1"
}

if [[ "${1:-}" == "--rollback" ]]; then
    now=$(readlink "$SG_BATCH_ROOT/current" 2>/dev/null || true)
    prev=""
    for d in $(ls -1 "$runs" | sort -r); do
        [[ "runs/$d" == "$now" ]] && continue
        [[ -f "$runs/$d/_SUCCESS" && "runs/$d" < "$now" ]] && { prev=$d; break; }
    done
    [[ -n "$prev" ]] || { echo "batch-nightly: no earlier complete run to roll back to" >&2; exit 1; }
    switch_to "$prev"
    exit 0
fi

run=$(date -u +%Y%m%dT%H%M%SZ)
if [[ -n "$SG_BROKERS" ]]; then
    src=(--brokers "$SG_BROKERS")
elif [[ -n "$SG_INPUT" ]]; then
    src=(--input "$SG_INPUT")
else
    src=() # kafka.bootstrap.servers of $SG_CONFIG (batch exits 2 when it has none either)
fi
# exit codes of streamguard batch pass through: 1 failure (also too many invalid events),
# 2 usage, 3 broker unreachable. On failure `current` keeps pointing at the previous run.
"$SG_BIN" batch --config "$SG_CONFIG" "${src[@]}" --output "$runs/$run" "$@"
switch_to "$run"
# prune: keep the newest SG_KEEP complete runs (and never the one `current` points at)
ls -1 "$runs" | sort -r | tail -n +"$((SG_KEEP + 1))" | while read -r d; do
    [[ "runs/$d" == "$(readlink "$SG_BATCH_ROOT/current")" ]] || rm -rf -- "${runs:?}/$d"
done

#!/usr/bin/env bash
# bench/stream_quality.sh: detection quality of the speed layer on generated traffic with
# labelled attacks (`streamguard generate --truth`): event-level recall on attack events (per
# scenario and overall) and false-positive rate on normal users' events after warm-up (a user's
# events after its 30th event and 24 h after its first - later than the detectors' own
# warm-up of 20 events / 12 h, so no profile is still learning). Runs the
# same pipeline as production (`stream --input`, alerts to a file). Several seeds, medians.
# With SG_QUALITY_MODEL=1 the stream runs with `--model`: a batch model trained on the first
# 70% of the events (a nightly run before the rest arrived) warm-starts users and scores their
# rolling features (docs/DETECTION.md, "Batch model score").
# Usage: bench/stream_quality.sh [EVENTS=300000] [USERS=1000] [SEEDS="1 2 3"]
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
N=${1:-300000}
U=${2:-1000}
SEEDS=${3:-"1 2 3"}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-); date $(date -u +%FT%TZ)"
echo "mode: $([ "${SG_QUALITY_MODEL:-0}" = 1 ] && echo "--model (batch trained on the first 70% of the events)" || echo "no model")"
for s in $SEEDS; do
    "$BIN" generate -n "$N" -u "$U" -s "$s" -q -o "$T/ev$s.ndjson" -t "$T/truth$s.jsonl"
    MODEL_ARGS=()
    if [ "${SG_QUALITY_MODEL:-0}" = 1 ]; then
        head -n $((N * 7 / 10)) "$T/ev$s.ndjson" > "$T/hist$s.ndjson"
        "$BIN" batch -i "$T/hist$s.ndjson" -o "$T/batch$s" -q > /dev/null
        MODEL_ARGS=(--model "$T/batch$s/model")
    fi
    "$BIN" stream --input "$T/ev$s.ndjson" --db "$T/db$s" --metrics-listen off "${MODEL_ARGS[@]}" \
        --alerts-file "$T/alerts$s.ndjson" > /dev/null
    python3 - "$T/ev$s.ndjson" "$T/truth$s.jsonl" "$T/alerts$s.ndjson" "$s" <<'PY' | tee -a "$T/rows"
import json, sys, collections, datetime
def ms(t):
    if isinstance(t, int):
        return t
    d = datetime.datetime.fromisoformat(t.replace("Z", "+00:00").replace("z", "+00:00"))
    return int(d.timestamp() * 1000)
ev_path, truth_path, alerts_path, seed = sys.argv[1:5]
truth = [json.loads(l) for l in open(truth_path)]
attack_ids = {}
for t in truth:
    for i in t["event_ids"]:
        attack_ids[i] = t["scenario"]
attacked_users = {t["user"] for t in truth}
flagged = {}
for l in open(alerts_path):
    a = json.loads(l)
    flagged[a["event_id"]] = a
first = {}
count = collections.Counter()
normal_total = normal_fp = 0
for l in open(ev_path):
    e = json.loads(l)
    u = e["user"]
    ts = ms(e["timestamp"])
    if u not in first:
        first[u] = ts
    count[u] += 1
    if u in attacked_users:
        continue
    if count[u] > 30 and ts - first[u] >= 86400000:
        normal_total += 1
        if e["event_id"] in flagged:
            normal_fp += 1
per = collections.defaultdict(lambda: [0, 0])
for i, sc in attack_ids.items():
    per[sc][1] += 1
    if i in flagged:
        per[sc][0] += 1
tp = sum(v[0] for v in per.values())
n = sum(v[1] for v in per.values())
detail = " ".join("%s=%.2f" % (k, v[0] / v[1]) for k, v in sorted(per.items()))
print("seed %s: recall %.3f (%d/%d)  FPR %.4f (%d/%d normal events after warm-up)  alerts %d  [%s]"
      % (seed, tp / max(n, 1), tp, n, normal_fp / max(normal_total, 1), normal_fp,
         normal_total, len(flagged), detail))
PY
done
python3 - "$T/rows" <<'PY'
import re, statistics, sys
rows = open(sys.argv[1]).read().splitlines()
rec = [float(re.search(r"recall ([0-9.]+)", r).group(1)) for r in rows]
fpr = [float(re.search(r"FPR ([0-9.]+)", r).group(1)) for r in rows]
print("median over seeds: recall %.3f (target >= 0.9), FPR %.4f (target <= 0.01)"
      % (statistics.median(rec), statistics.median(fpr)))
PY

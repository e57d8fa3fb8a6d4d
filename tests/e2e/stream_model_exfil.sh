#!/usr/bin/env bash
# stream_model_exfil.sh: a warm start from the batch model must not weaken the speed layer.
# History with attacks -> `streamguard batch` -> model; then live traffic of the same users with
# the data_exfiltration scenario (generator truth) replayed twice into fresh stores, without and
# with `--model`: with the model at least as many exfiltration events are alerted, and every
# ~300 MB upload alerted without the model is alerted with it, as a volume_spike.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN" generate -n 40000 -u 200 -a 0.05 -d 3 -s 21 --start 2026-11-01T00:00:00Z -q \
    -o "$T/hist.ndjson"
"$BIN" batch -i "$T/hist.ndjson" -o "$T/batch" -q > /dev/null
"$BIN" generate -n 10000 -u 200 -a 0.1 -d 1 -s 21 --start 2026-11-04T00:00:00Z --id-salt live \
    -q -o "$T/live.ndjson" -t "$T/live.truth"
"$BIN" stream -i "$T/live.ndjson" -d "$T/r0" --metrics-listen off --alerts-file "$T/a0.ndjson" \
    > /dev/null
"$BIN" stream -i "$T/live.ndjson" -d "$T/r1" --metrics-listen off --alerts-file "$T/a1.ndjson" \
    --model "$T/batch/model" > "$T/s1.json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["events"] == 10000' \
    "$T/s1.json"
python3 - "$T/live.ndjson" "$T/live.truth" "$T/a0.ndjson" "$T/a1.ndjson" <<'PY'
import json, sys
bytes_of = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event_type") == "network_connection":
        bytes_of[e["event_id"]] = e.get("network_details", {}).get("bytes_sent", 0)
truth = [json.loads(l) for l in open(sys.argv[2]) if '"data_exfiltration"' in l]
def alerts(p):
    return {a["event_id"]: a for a in map(json.loads, open(p))}
a0, a1 = alerts(sys.argv[3]), alerts(sys.argv[4])
ids = [e for t in truth for e in t["event_ids"]]
ups = [e for e in ids if bytes_of.get(e, 0) >= 100000000]
assert len(truth) >= 2 and len(ups) >= 6, (len(truth), len(ups))
n0, n1 = sum(e in a0 for e in ids), sum(e in a1 for e in ids)
u0, u1 = [e for e in ups if e in a0], [e for e in ups if e in a1]
print("exfiltration: %d users, %d events alerted %d -> %d with the model; uploads %d/%d -> %d/%d"
      % (len(truth), len(ids), n0, n1, len(u0), len(ups), len(u1), len(ups)))
assert n1 >= n0, "the model lost exfiltration alerts"
lost = [e for e in u0 if e not in a1 or "volume_spike" not in a1[e]["reasons"]]
assert not lost, "uploads alerted without the model but not with it: %s" % lost
PY
echo "stream_model_exfil: ok"

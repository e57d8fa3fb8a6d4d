#!/usr/bin/env bash
# stream_rolling.sh: the batch model's score of each user's rolling features in the speed
# layer (`stream --model`). On generated traffic with attacks, where some users' events arrive
# out of order: (1) attacked users score higher than normal ones (AUC), and every user's profile
# carries the score and counts every event of the window; (2) kill -9 at random points and
# restarts with a profile cache far smaller than the user count (every user is rebuilt from the
# store again and again) end with a store byte-identical to a clean run.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
T=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
"$BIN" generate -n 12000 -u 80 -a 0.08 -s 21 -q -o "$T/gen.ndjson" -t "$T/truth.jsonl"
"$BIN" batch -i "$T/gen.ndjson" -o "$T/batch" > /dev/null 2>&1
# users 0-2 (by first appearance): swap some of their consecutive events, so a later event
# arrives first (the rolling features fold in arrival order, and a rebuild from the store must
# restore that order, not the store's time order)
python3 - "$T/gen.ndjson" "$T/in.ndjson" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
by_user = {}
for i, l in enumerate(lines):
    by_user.setdefault(json.loads(l)["user"], []).append(i)
users = list(by_user)[:3]
for k, u in enumerate(users):
    idx = by_user[u]
    swaps = 8
    for s in range(swaps):
        a, b = idx[10 + 7 * s], idx[11 + 7 * s]
        lines[a], lines[b] = lines[b], lines[a]
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print(" ".join(users), file=open(sys.argv[2] + ".late_users", "w"))
PY

ARGS=(--input "$T/in.ndjson" --metrics-listen off --no-alerts --model "$T/batch/model")
"$BIN" stream "${ARGS[@]}" --db "$T/clean.db" --batch-size 300 > /dev/null
"$BIN" stream --dump-store --db "$T/clean.db" > "$T/clean.dump"

# (1) what the profiles say, through the serving layer's user endpoint
"$BIN" serve --db "$T/clean.db" --batch-dir "$T/batch" -l 127.0.0.1:0 > "$T/serve.out" 2>&1 &
SPID=$!
for _ in $(seq 1 100); do grep -q "listening" "$T/serve.out" && break; sleep 0.1; done
ADDR=$(grep -o '127\.0\.0\.1:[0-9]*' "$T/serve.out" | head -1)
python3 - "$ADDR" "$T/in.ndjson" "$T/truth.jsonl" <<'PY'
import collections, json, sys, urllib.parse, urllib.request
addr, ev_path, truth_path = sys.argv[1:4]
attacked = {json.loads(l)["user"] for l in open(truth_path)}
# the model was trained on this very input: its history starts with the first event, so every
# event is in the window
in_window = collections.Counter(json.loads(l)["user"] for l in open(ev_path))
users = sorted(in_window)
state = {}
for u in users:
    url = "http://%s/api/users/%s" % (addr, urllib.parse.quote(u, safe=""))
    state[u] = json.load(urllib.request.urlopen(url))["state"]
for u in users:
    assert state[u].get("rolling_events") == in_window[u], (u, state[u].get("rolling_events"), in_window[u])
scored = {u: s["model_score"] for u, s in state.items() if "model_score" in s}
assert len(scored) >= 0.9 * len(users), "only %d of %d users scored" % (len(scored), len(users))
assert all(0 <= v <= 1 for v in scored.values())
pos = [v for u, v in scored.items() if u in attacked]
neg = [v for u, v in scored.items() if u not in attacked]
assert pos and neg
auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
print("model score AUC attacked vs normal users: %.3f (%d attacked, %d normal)" % (auc, len(pos), len(neg)))
assert auc >= 0.8, auc
PY
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=

# (2) kill -9 at random points and restart each time, with a profile cache of 16 for 80 users
# and batches of 50 (users leave the cache and are rebuilt from the store all the time)
RANDOM=777
kills=0
for i in $(seq 1 30); do
    [ "$kills" -ge 6 ] && break
    "$BIN" stream "${ARGS[@]}" --db "$T/crash.db" --max-users 16 --batch-size 50 \
        > /dev/null 2>> "$T/crash.log" &
    pid=$!
    sleep "0.$(printf '%02d' $((RANDOM % 20 + 8)))"
    if kill -9 "$pid" 2> /dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2> /dev/null || true
done
"$BIN" stream "${ARGS[@]}" --db "$T/crash.db" --max-users 16 --batch-size 50 \
    > /dev/null 2>> "$T/crash.log"
"$BIN" stream --dump-store --db "$T/crash.db" > "$T/crash.dump"
cmp "$T/clean.dump" "$T/crash.dump"
[ "$kills" -ge 3 ] # a fast machine finishes before the later kills land
grep -q "resuming" "$T/crash.log"
echo "kill -9 loop ($kills kills) with a profile cache of 16: store identical to the clean run"
echo "stream_rolling: ok"

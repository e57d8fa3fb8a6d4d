#!/usr/bin/env bash
# tests/e2e/prometheus.sh: the shipped monitoring against a running pipeline. Starts the dev
# broker, loads it with generated events (plus a few invalid messages for the dead-letter
# panels), runs `stream` (Kafka mode, /metrics on a free port), `batch` over the topic when this
# build has it, `serve`, and live traffic; then a real Prometheus (Debian package) on loopback
# with deploy/prometheus.yml (targets and interval rewritten to the test's ports) scrapes both.
# Every PromQL expression in deploy/grafana/dashboards/*.json must return data, and every rule
# of deploy/prometheus-rules.yml must load and evaluate without error.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
for tool in prometheus curl python3 kcat; do
    command -v "$tool" >/dev/null || { echo "prometheus.sh: $tool not installed (scripts/deps.sh)"; exit 1; }
done
if ! "$BIN" stream --help >/dev/null 2>&1; then
    # The speed layer is another branch; until it is merged there is no pipeline to scrape.
    echo "SKIP: this build has no 'stream' command"
    exit 0
fi
work=$(mktemp -d /tmp/sg_e2e_prom.XXXXXX)
pids=()
cleanup() { # newest first: the broker goes last, so producers and the consumer stop cleanly
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.err; do echo "== $f"; tail -5 "$f"; done >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
T0=$SECONDS
step() { echo "[$((SECONDS - T0))s] $*"; }
wait_for() { for _ in $(seq 150); do eval "$1" && return 0; sleep 0.2; done; return 1; }

"$BIN" broker --partitions 4 --bootstrap-file "$work/boot" >"$work/broker.out" 2>"$work/broker.err" &
pids+=($!)
wait_for '[ -s "$work/boot" ]' || fail "broker did not start"
BOOT=$(cat "$work/boot")
step "broker up"
"$BIN" generate --events 15000 --users 200 --attack-users 0.05 --days 2 --seed 5 -q --brokers "$BOOT"
printf 'not json at all\n{"event_id":"x"}\n[1,2,3]\n' | kcat -P -b "$BOOT" -t security-events

SPORT=$(free_port)
"$BIN" stream --brokers "$BOOT" --db "$work/db" --metrics-listen "127.0.0.1:$SPORT" \
    >"$work/stream.out" 2>"$work/stream.err" &
pids+=($!)
wait_for 'curl -sf "http://127.0.0.1:$SPORT/metrics" >/dev/null' || fail "stream /metrics not up"
step "stream up"
if "$BIN" batch --help >/dev/null 2>&1; then
    "$BIN" batch --brokers "$BOOT" --topic security-events --output "$work/batch" \
        >"$work/batch.out" 2>"$work/batch.err" || fail "batch failed"
fi
"$BIN" serve --db "$work/db" --batch-dir "$work/batch" --listen 127.0.0.1:0 \
    >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
wait_for 'grep -q listening "$work/serve.out"' || fail "serve did not start"
step "batch done, serve up"
VADDR=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out" | head -1)
curl -s "http://$VADDR/api/events/no_such_event" >/dev/null # one 404 for the error panel
"$BIN" generate --events 1000000 --users 200 --seed 6 --start now --rate 300 -q \
    --brokers "$BOOT" >/dev/null 2>"$work/live.err" &
pids+=($!)

PPORT=$(free_port)
sed -e "s/127.0.0.1:9108/127.0.0.1:$SPORT/" -e "s/127.0.0.1:8080/$VADDR/" \
    -e 's/scrape_interval: 15s/scrape_interval: 1s/' -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' \
    deploy/prometheus.yml >"$work/prometheus.yml"
cp deploy/prometheus-rules.yml "$work/"
promtool check config "$work/prometheus.yml" >/dev/null || fail "rewritten config is invalid"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$PPORT" >"$work/prom.out" 2>"$work/prom.err" &
pids+=($!)
PROM="http://127.0.0.1:$PPORT"
wait_for 'curl -sf "$PROM/-/ready" >/dev/null' || fail "prometheus not ready"
up='[ "$(curl -s "$PROM/api/v1/query?query=sum(up)" | python3 -c "import json,sys; r=json.load(sys.stdin)[\"data\"][\"result\"]; print(int(float(r[0][\"value\"][1])) if r else 0)")" = 2 ]'
wait_for "$up" || fail "both targets should be up: $(curl -s "$PROM/api/v1/targets")"
step "prometheus scraping both targets"
sleep 5 # a few scrapes, so rate() has two samples

# serve follows the store while stream writes it: the stored-event count and rate grow.
stat() { curl -sf "http://$VADDR/api/stats" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['events_total'], d['rates']['events_per_s'])"; }
read -r n1 _ <<<"$(stat)"
sleep 4
read -r n2 r2 <<<"$(stat)"
[ "$n2" -gt "$n1" ] || fail "serve does not see the stream's new writes: events_total $n1 -> $n2"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$r2" || fail "events_per_s is $r2 during live traffic"
step "serve saw events_total $n1 -> $n2 ($r2 events/s) while stream wrote"

python3 - "$PROM" deploy/grafana/dashboards/*.json <<'EOF'
import json, sys, time, urllib.parse, urllib.request
prom, files = sys.argv[1], sys.argv[2:]
exprs = []
for f in files:
    def walk(panels):
        for p in panels:
            walk(p.get("panels", []))
            for t in p.get("targets", []):
                exprs.append((f.rsplit("/", 1)[-1], p["title"], t["expr"]))
    walk(json.load(open(f))["panels"])
assert exprs, "no expressions found"
def query(e):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": e})
    r = json.load(urllib.request.urlopen(url, timeout=10))
    assert r["status"] == "success", r
    return r["data"]["result"]
missing = []
deadline = time.time() + 40
for f, title, e in exprs:
    t0 = time.time()
    while True:
        res = query(e)
        if res or time.time() > deadline:
            break
        time.sleep(1)
    waited = f" (after {time.time() - t0:.0f}s)" if time.time() - t0 > 1 else ""
    print(f"{'ok ' if res else 'NO DATA'} {len(res):3d} series  [{title}] {e}{waited}")
    if not res:
        missing.append(e)
print(f"{len(exprs) - len(missing)} of {len(exprs)} expressions return data")
# the shipped alerting rules are loaded and evaluate without errors
rules = json.load(urllib.request.urlopen(prom + "/api/v1/rules", timeout=10))["data"]["groups"]
rules = [r for g in rules for r in g["rules"]]
bad = [r["name"] for r in rules if r.get("health") != "ok"]
print(f"{len(rules)} alerting rules loaded, {len(rules) - len(bad)} evaluate cleanly {bad or ''}")
sys.exit(1 if missing or bad or not rules else 0)
EOF

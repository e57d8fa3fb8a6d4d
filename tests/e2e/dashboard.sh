#!/usr/bin/env bash
# tests/e2e/dashboard.sh: the dashboard in headless Chromium against a running pipeline.
# Generated events go through the speed layer (`stream --input`) into a store and through the
# batch layer into an output directory (when those commands exist in this build; otherwise
# the store is filled by bench_serve_store and there is no batch run), `serve` runs with a
# token, and Chromium loads / (token and a drill-down user in the URL fragment). The test then
# checks that every number the page shows equals the API's answer (totals, severities, the
# recent anomalies in order, the batch's top users, the drill-down), and saves a screenshot to
# $BUILD/test-artifacts/dashboard.png.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
BUILD=${STREAMGUARD_BUILD:-build}
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || { echo "dashboard.sh: chromium is not installed (scripts/deps.sh)"; exit 1; }
art="$BUILD/test-artifacts"
mkdir -p "$art"
work=$(mktemp -d /tmp/sg_e2e_dash.XXXXXX)
spid=
cleanup() {
    if [ -n "$spid" ]; then kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---- the pipeline ---------------------------------------------------------------------------
"$BIN" generate --events 30000 --users 300 --attack-users 0.05 --days 3 --seed 11 --quiet \
    --out "$work/events.ndjson"
if "$BIN" stream --help >/dev/null 2>&1; then
    "$BIN" stream --input "$work/events.ndjson" --db "$work/db" >"$work/stream.log" 2>&1
    echo "pipeline: generate -> stream --input ($(wc -l <"$work/events.ndjson") events)"
else
    "$BUILD/bench/bench_serve_store" --fill "$work" --events 30000 --users 300
    echo "pipeline: no 'stream' command in this build; store filled by bench_serve_store"
fi
if "$BIN" batch --help >/dev/null 2>&1; then
    "$BIN" batch --input "$work/events.ndjson" --output "$work/batch" >"$work/batch.log" 2>&1
    echo "pipeline: batch -> $(ls "$work/batch" | tr '\n' ' ')"
fi
printf 'dashboard-e2e-token-%s\n' "$RANDOM$RANDOM" >"$work/token"
chmod 600 "$work/token"
TOKEN=$(cat "$work/token")
"$BIN" serve --db "$work/db" --batch-dir "$work/batch" --listen 127.0.0.1:0 \
    --token-file "$work/token" >"$work/serve.out" 2>"$work/serve.err" &
spid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
ADDR=$(grep -o 'http://[0-9.:]*' "$work/serve.out" | head -1)
[ -n "$ADDR" ] || { cat "$work/serve.err"; exit 1; }
api() { curl -sf -H "Authorization: Bearer $TOKEN" "$ADDR$1"; }
api /api/stats >"$work/stats.json"
api "/api/anomalies?limit=15" >"$work/recent.json"
api "/api/batch/users?anomalous=true&limit=10" >"$work/batch_users.json" || echo '{"users":[]}' >"$work/batch_users.json"
api /api/batch/report >"$work/report.json" || echo 'null' >"$work/report.json"
DUSER=$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["anomalies"]; print(a[0]["user"] if a else "")' "$work/recent.json")
[ -n "$DUSER" ] || { echo "no anomalies in the store: nothing to show"; exit 1; }
api "/api/users/$DUSER" >"$work/user.json"
api "/api/users/$DUSER/anomalies?limit=20" >"$work/user_anoms.json"

# ---- the browser ----------------------------------------------------------------------------
chrome() {
    local prof
    prof=$(mktemp -d "$work/chrome.XXXXXX")
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --virtual-time-budget=8000 --window-size=1400,2100 "$@" \
        2>>"$work/chrome.log"
}
URL="$ADDR/#token=$TOKEN&user=$DUSER"
chrome --dump-dom "$URL" >"$work/dom.html"
chrome --screenshot="$art/dashboard.png" "$URL" >/dev/null
[ -s "$art/dashboard.png" ] || { echo "no screenshot"; tail "$work/chrome.log"; exit 1; }
echo "screenshot: $art/dashboard.png ($(wc -c <"$art/dashboard.png") bytes)"

# ---- the page equals the API ----------------------------------------------------------------
python3 - "$work" <<'EOF'
import json, sys
from html.parser import HTMLParser

work = sys.argv[1]
load = lambda n: json.load(open(f"{work}/{n}"))
stats, recent, busers = load("stats.json"), load("recent.json"), load("batch_users.json")
report, user, uanoms = load("report.json"), load("user.json"), load("user_anoms.json")

class Dom(HTMLParser):
    """Collects data-value by id, bars by container, row attributes by table, text by id."""
    def __init__(self):
        super().__init__()
        self.by_id, self.text, self.bars, self.rows = {}, {}, {}, {}
        self.stack, self.cur_id, self.table = [], None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.by_id[a["id"]] = a
            self.cur_id = a["id"]
            self.text[a["id"]] = ""
        if tag == "table":
            self.table = a.get("id")
        if "data-key" in a:
            self.bars.setdefault(self.cur_bar, []).append((a["data-key"], int(a["data-value"])))
        if tag == "div" and a.get("class") == "bars":
            self.cur_bar = a["id"]
        if tag == "tr" and self.table and ("data-event-id" in a or "data-user" in a):
            self.rows.setdefault(self.table, []).append(a.get("data-event-id") or a.get("data-user"))
    def handle_data(self, d):
        if self.cur_id:
            self.text[self.cur_id] += d
    def handle_endtag(self, tag):
        self.cur_id = None

d = Dom()
d.cur_bar = None
d.feed(open(f"{work}/dom.html").read())
fails = []
def check(what, shown, want):
    ok = shown == want
    print(f"{'ok ' if ok else 'BAD'} {what}: page {shown!r} api {want!r}")
    if not ok:
        fails.append(what)

check("status", d.text.get("status"), "live")
for eid, key in [("events-total", "events_total"), ("anomalies-total", "anomalies_total"),
                 ("users-total", "users_total")]:
    check(eid, int(d.by_id[eid]["data-value"]), stats[key])
    check(eid + " text", d.text[eid].replace(",", ""), str(stats[key]))
sev = stats["anomalies_by_severity"]
check("by severity", d.bars.get("by-severity"),
      [(k, sev.get(k, 0)) for k in ("low", "medium", "high", "critical")])
reasons = sorted(stats["anomalies_by_reason"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
check("by reason", d.bars.get("by-reason", []), [(k, v) for k, v in reasons])
check("recent anomalies", d.rows.get("recent", []), [a["event_id"] for a in recent["anomalies"]])
check("batch top users", d.rows.get("batch-top", []), [u["user"] for u in busers["users"]])
if report:
    check("batch anomalous", int(d.by_id["batch-anomalous"]["data-value"]),
          report["totals"]["anomalous_users"])
check("drill-down user", d.text.get("u-name"), user["user"])
check("drill-down anomalies", int(d.by_id["u-anomalies"]["data-value"]),
      user["recent_anomalies"]["count"])
check("drill-down anomaly rows", d.rows.get("u-anoms", []), [a["event_id"] for a in uanoms["anomalies"]])
html = open(f"{work}/dom.html").read()
if user.get("state"):
    want = f'{user["state"]["events"]:,} events'
    check("drill-down profile events", want in html, True)
    for ip in user["state"]["ips"]["values"][:3]:
        check("drill-down known ip " + ip["value"], f'{ip["value"]} x{ip["count"]}' in html, True)
n_rows = html.count("<tr><td>")
print(f"drill-down table rows: {n_rows}")
if fails:
    sys.exit("dashboard differs from the API: " + ", ".join(fails))
EOF
echo "dashboard matches the API"

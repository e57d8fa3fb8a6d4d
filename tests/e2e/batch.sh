#!/usr/bin/env bash
# End to end: `streamguard generate` -> `streamguard batch` (files, stdin, .gz, Kafka via the
# development broker) -> checks the output: Parquet dataset (read back with DuckDB when
# tests/node_modules exists), report totals against the input, model files, determinism
# across thread counts; a kill -9 at many points during a run never leaves a broken output
# (the previous one stays); too many invalid events fail loudly; CLI exit codes.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-$PWD/build/streamguard}
PY=/usr/bin/python3
tmp=$(mktemp -d)
broker_pid=
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

N=30000
U=300
"$BIN" generate -n $N -u $U --attack-users 0.05 --seed 3 -o "$tmp/ev.ndjson" --truth "$tmp/truth.jsonl" -q
"$BIN" batch --input "$tmp/ev.ndjson" --output "$tmp/out" --seed 5 --threads 2 -q \
    || fail "batch exited $?"
for f in _SUCCESS anomaly_report.json anomaly_report.md model/model.json model/baselines.ndjson; do
    [ -s "$tmp/out/$f" ] || [ "$f" = _SUCCESS -a -e "$tmp/out/$f" ] || fail "missing $f"
done
ls "$tmp"/out/is_anomaly=0/*.parquet "$tmp"/out/is_anomaly=1/*.parquet >/dev/null || fail "no parquet parts"

# Report totals agree with the input and the truth file.
users=$($PY -c "import json,sys; print(len({json.loads(l)['user'] for l in open(sys.argv[1])}))" "$tmp/ev.ndjson")
$PY - "$tmp/out" $N "$users" "$tmp/truth.jsonl" <<'PY' || fail "report check"
import json, sys
out, n, users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(out + "/anomaly_report.json"))
t = r["totals"]
assert t["messages"] == n and t["valid"] == n and t["invalid"] == 0, t
assert t["users"] == users, (t["users"], users)
assert abs(t["anomalous_users"] - round(0.1 * users)) <= 2, t
assert r["algorithm"]["name"] == "ensemble" and r["algorithm"]["trees"] == 100, r["algorithm"]
assert r["algorithm"]["features"] >= 30
for k in ("read_decode_partition", "features", "iforest", "kmeans", "write"):
    assert r["timings_s"][k] >= 0, k
top = r["top_anomalies"]
assert len(top) == min(20, t["anomalous_users"])
scores = [a["anomaly_score"] for a in top]
assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
assert all(a["events"] > 0 and a["top_features"] for a in top)
# the attacked users dominate the top of the ranking (generator truth)
attacked = {json.loads(l)["user"] for l in open(sys.argv[4]) if l.strip()}
hits = sum(a["user"] in attacked for a in top[:10])
assert hits >= 7, ("attacked users among the top 10:", hits)
m = json.load(open(out + "/model/model.json"))
assert m["format"] == "streamguard-model" and m["version"] == 1
assert len(m["features"]) == r["algorithm"]["features"]
assert len(m["iforest"]["nodes"]) == 100 and m["kmeans"]["k"] == 5
bl = [json.loads(l) for l in open(out + "/model/baselines.ndjson")]
assert len(bl) == users and all(len(b["hour_share"]) == 24 for b in bl)
assert sum(r["flagged_by_top_feature"].values()) == t["anomalous_users"], r["flagged_by_top_feature"]
md = open(out + "/anomaly_report.md").read()
assert "# StreamGuard batch report" in md and top[0]["user"] in md
PY

# Parquet content through an independent reader (DuckDB), when the test npm packages exist.
if [ -d tests/node_modules/@duckdb ]; then
    cat >"$tmp/check.mjs" <<'JS'
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/tests/');
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
const [dir, users] = process.argv.slice(2);
const con = await (await DuckDBInstance.create()).connect();
const q = async (s) => (await con.runAndReadAll(s)).getRowObjects();
const src = `read_parquet('${dir}/*/*.parquet', hive_partitioning = true)`;
const rep = JSON.parse((await import('node:fs')).readFileSync(dir + '/anomaly_report.json'));
const [c] = await q(`select count(*)::int n, sum(is_anomaly::int)::int a,
  min(anomaly_score) lo, max(anomaly_score) hi, count(distinct "user")::int du,
  sum(events)::bigint ev, min(first_seen) fs from ${src}`);
const fail = (m) => { console.error('FAIL: ' + m); process.exit(1); };
if (c.n !== Number(users) || c.du !== c.n) fail(`rows ${c.n} distinct ${c.du} want ${users}`);
if (c.a !== rep.totals.anomalous_users) fail(`anomalous ${c.a} vs report ${rep.totals.anomalous_users}`);
if (!(c.lo >= 0 && c.hi <= 1)) fail(`anomaly_score out of [0,1]: ${c.lo}..${c.hi}`);
if (Number(c.ev) !== rep.totals.valid) fail(`sum(events) ${c.ev} != valid ${rep.totals.valid}`);
const cols = (await q(`describe select * from ${src}`)).map((r) => [r.column_name, r.column_type]);
const want = { user: 'VARCHAR', cluster: 'INTEGER', first_seen: 'TIMESTAMP', last_seen: 'TIMESTAMP',
  iforest_score: 'DOUBLE', kmeans_distance: 'DOUBLE', anomaly_score: 'DOUBLE', top_features: 'VARCHAR' };
for (const [k, t] of Object.entries(want))
  if (!cols.some(([n, ty]) => n === k && ty.startsWith(t))) fail(`column ${k} ${t} missing: ${JSON.stringify(cols)}`);
if (cols.length < 30 + 7) fail(`only ${cols.length} columns`);
// flagged users score at least as high as every unflagged one
const [o] = await q(`select min(anomaly_score) filter (where is_anomaly = 1) f,
  max(anomaly_score) filter (where is_anomaly = 0) u from ${src}`);
if (!(o.f >= o.u)) fail(`flagged min ${o.f} < unflagged max ${o.u}`);
// every flagged user says why: "feature:+z,..." naming real feature columns
const why = await q(`select top_features t from ${src} where is_anomaly = 1`);
for (const { t } of why) {
  const parts = t.split(',');
  if (!parts.length || parts.length > 3) fail(`top_features '${t}'`);
  for (const p of parts) {
    const [name, z] = p.split(':');
    if (!cols.some(([n]) => n === name) || !isFinite(Number(z))) fail(`top_features item '${p}'`);
  }
}
const kv = await q(`select decode(key) k, decode(value) v from parquet_kv_metadata('${dir}/is_anomaly=1/*.parquet')`);
const keys = kv.map((r) => r.k);
for (const k of ['streamguard.version', 'streamguard.config', 'streamguard.seed', 'streamguard.features'])
  if (!keys.includes(k)) fail(`kv metadata ${k} missing: ${keys}`);
const feats = JSON.parse(kv.find((r) => r.k === 'streamguard.features').v);
if (feats.features.length !== cols.length - 9) fail('feature definitions do not match the columns');
if (kv.find((r) => r.k === 'streamguard.seed').v !== '5') fail('seed metadata');
JS
    node "$tmp/check.mjs" "$tmp/out" "$users" || fail "DuckDB check"
else
    echo "tests/node_modules missing: Parquet content not read back (run scripts/deps.sh)"
fi

# Same result for another thread count, and from stdin (scores, features, model quantiles).
"$BIN" batch --input - --output "$tmp/out1" --seed 5 --threads 1 -q <"$tmp/ev.ndjson" || fail "stdin batch"
gzip -c "$tmp/ev.ndjson" >"$tmp/ev.ndjson.gz"
"$BIN" batch -i "$tmp/ev.ndjson.gz" -o "$tmp/outgz" --seed 5 -j 3 -q || fail "gz batch"
"$BIN" batch -i - -o "$tmp/outgz2" --seed 5 -q <"$tmp/ev.ndjson.gz" || fail "gzip on stdin"
cmp "$tmp/outgz/model/baselines.ndjson" "$tmp/outgz2/model/baselines.ndjson" || fail "gzip stdin differs"
$PY - "$tmp/out" "$tmp/out1" "$tmp/outgz" <<'PY' || fail "results differ across thread counts / inputs"
import json, sys
def key(d):
    m = json.load(open(d + "/model/model.json"))
    r = json.load(open(d + "/anomaly_report.json"))
    return (m["quantiles"], m["threshold"], m["scaler"], m["iforest"], m["kmeans"],
            [(a["user"], a["anomaly_score"]) for a in r["top_anomalies"]],
            open(d + "/model/baselines.ndjson").read())
a, b, c = (key(d) for d in sys.argv[1:])
assert a == b, "threads 2 vs 1 (stdin) differ"
assert a == c, "plain vs gz (3 threads) differ"
PY

# kill -9 at many points of a run: the output directory always holds one complete output.
big=$tmp/big.ndjson
"$BIN" generate -n 300000 -u 3000 --seed 4 -o "$big" -q
marker=$($PY -c "import json;print(json.load(open('$tmp/out/anomaly_report.json'))['totals']['messages'])")
for delay in 0.05 0.2 0.4 0.6 0.8 1.0 1.2 1.5 2.0; do
    "$BIN" batch -i "$big" -o "$tmp/out" -q --seed 5 & pid=$!
    sleep $delay
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    [ -e "$tmp/out/_SUCCESS" ] || fail "no _SUCCESS after kill at ${delay}s"
    n=$($PY -c "import json;print(json.load(open('$tmp/out/anomaly_report.json'))['totals']['messages'])") \
        || fail "report unreadable after kill at ${delay}s"
    [ "$n" = "$marker" ] || [ "$n" = 300000 ] || fail "report of neither run after kill: $n"
    [ -s "$tmp/out/model/model.json" ] || fail "model missing after kill at ${delay}s"
done
# ... and certainly mid-write: the run holds its half-written output (Parquet parts written,
# model and report not yet) until it is killed.
before=$(cat "$tmp/out/anomaly_report.json")
rm -rf "$tmp"/out.tmp-*
STREAMGUARD_TEST_HOLD_WRITE_MS=30000 "$BIN" batch -i "$tmp/ev.ndjson" -o "$tmp/out" -q --seed 9 & pid=$!
for _ in $(seq 300); do compgen -G "$tmp/out.tmp-*/is_anomaly=1/*.parquet" >/dev/null && break; sleep 0.1; done
compgen -G "$tmp/out.tmp-*/is_anomaly=1/*.parquet" >/dev/null || fail "never saw the half-written output"
kill -9 $pid
wait $pid 2>/dev/null || true
[ "$(cat "$tmp/out/anomaly_report.json")" = "$before" ] || fail "kill -9 mid-write changed the output"
[ -e "$tmp/out/_SUCCESS" ] && [ -s "$tmp/out/model/model.json" ] || fail "output damaged by kill -9"
"$BIN" batch -i "$tmp/ev.ndjson" -o "$tmp/out" -q --seed 9 || fail "run after a killed run"

# Too many invalid events: exit 1, reasons on stderr, previous output untouched.
before=$(cat "$tmp/out/anomaly_report.json")
{ head -100 "$tmp/ev.ndjson"; for _ in $(seq 20); do echo 'garbage'; echo '{"event_id":"x"}'; done; } >"$tmp/bad.ndjson"
set +e
"$BIN" batch -i "$tmp/bad.ndjson" -o "$tmp/out" -q 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "invalid ratio: exit $rc, want 1"
grep -q 'invalid_json' "$tmp/err" && grep -q 'missing_field' "$tmp/err" || fail "reasons not listed: $(cat "$tmp/err")"
[ "$(cat "$tmp/out/anomaly_report.json")" = "$before" ] || fail "output changed by a failed run"
# ... and accepted (and reported) under a looser ratio
"$BIN" batch -i "$tmp/bad.ndjson" -o "$tmp/outbad" --max-invalid-ratio 0.5 -q || fail "looser ratio"
$PY -c "
import json; r = json.load(open('$tmp/outbad/anomaly_report.json'))
assert r['totals']['invalid'] == 40 and r['invalid_by_reason']['invalid_json']['count'] == 20, r['totals']
assert r['invalid_by_reason']['missing_field']['first_at_message'] == 102, r['invalid_by_reason']" || fail "bad report"

# Kafka: the development broker, generate --brokers, batch --brokers reads it all and stops.
"$BIN" broker --partitions 4 --bootstrap-file "$tmp/boot" >/dev/null 2>"$tmp/broker.err" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$tmp/boot" ] && break; sleep 0.1; done
[ -s "$tmp/boot" ] || fail "broker did not start"
boot=$(cat "$tmp/boot")
"$BIN" generate -n $N -u $U --attack-users 0.05 --seed 3 --brokers "$boot" -q || fail "generate --brokers"
timeout 60 "$BIN" batch --brokers "$boot" --output "$tmp/outk" --seed 5 -q || fail "batch --brokers exited $?"
timeout 60 "$BIN" batch --brokers "$boot" --output "$tmp/outk2" --max-events 1000 -q || fail "max-events"
# without --brokers (and --input) the broker comes from the configuration, as for `stream`
printf 'kafka:\n  "bootstrap.servers": "%s"\n' "$boot" >"$tmp/kafka.yaml"
timeout 60 "$BIN" batch -c "$tmp/kafka.yaml" --output "$tmp/outkc" --seed 5 -q \
    || fail "batch with kafka.bootstrap.servers from the config exited $?"
cmp "$tmp/outk/model/baselines.ndjson" "$tmp/outkc/model/baselines.ndjson" \
    || fail "config-brokers run differs from the --brokers run"
grep -q "\"input\":\"kafka topic security-events at $boot\"" "$tmp/outkc/anomaly_report.json" \
    || fail "input of the config-brokers run not reported"
$PY - "$tmp/out1" "$tmp/outk" "$tmp/outk2" <<'PY' || fail "kafka run differs from the file run"
import json, sys
f, k, k2 = (json.load(open(d + "/anomaly_report.json")) for d in sys.argv[1:])
assert k["totals"]["valid"] == f["totals"]["valid"] and k["totals"]["users"] == f["totals"]["users"], k["totals"]
bf = open(sys.argv[1] + "/model/baselines.ndjson").read()
bk = open(sys.argv[2] + "/model/baselines.ndjson").read()
assert bf == bk, "per-user state differs (Kafka keyed by user keeps per-user order)"
assert k2["totals"]["messages"] == 1000, k2["totals"]
PY
# --group: starts from the group's committed offsets and commits after writing the output.
timeout 60 "$BIN" batch --brokers "$boot" --group g1 -o "$tmp/outg1" -q || fail "group run 1"
set +e
timeout 60 "$BIN" batch --brokers "$boot" --group g1 -o "$tmp/outg2" -q 2>"$tmp/eg"; rcg=$?
set -e
[ $rcg -eq 1 ] && grep -q 'no valid events' "$tmp/eg" || fail "group run 2 should find nothing new ($rcg)"
"$BIN" generate -n 5000 -u 50 --seed 8 --brokers "$boot" -q || fail "generate more"
timeout 60 "$BIN" batch --brokers "$boot" --group g1 -o "$tmp/outg3" -q || fail "group run 3"
$PY -c "
import json
a = json.load(open('$tmp/outg1/anomaly_report.json'))['totals']['messages']
b = json.load(open('$tmp/outg3/anomaly_report.json'))['totals']['messages']
assert (a, b) == ($N, 5000), (a, b)" || fail "group offsets"
set +e
timeout 60 "$BIN" batch --brokers "$boot" --topic no-such-topic -o "$tmp/x" -q 2>"$tmp/e"; rc=$?
kill "$broker_pid"; wait "$broker_pid" 2>/dev/null; broker_pid=
t0=$(date +%s)
timeout 60 "$BIN" batch --brokers 127.0.0.1:1 -o "$tmp/x" -q 2>"$tmp/e2"; rc2=$?
t1=$(date +%s)
timeout 60 "$BIN" batch --brokers 127.0.0.1:1 -o "$tmp/x" -q --set log.level=debug 2>"$tmp/e3"
set -e
[ $rc -eq 1 ] || fail "missing topic: exit $rc ($(cat "$tmp/e"))"
[ $rc2 -eq 3 ] || fail "unreachable broker: exit $rc2, want 3 ($(cat "$tmp/e2"))"
# librdkafka's own lines ("%3|...|FAIL|...") go through our log: none in its raw format
! grep -q '^%[0-9]|' "$tmp/e2" || fail "raw librdkafka log lines: $(grep '^%' "$tmp/e2" | head -2)"
# ... at debug level, which log.level shows (it applies to every command, not only stream/serve)
[ "$(wc -l <"$tmp/e2")" -eq 1 ] || fail "unreachable broker: more than our one line: $(cat "$tmp/e2")"
grep -q ' debug kafka streamguard#consumer-[0-9]* FAIL: ' "$tmp/e3" \
    || fail "log.level=debug shows no librdkafka lines: $(head -3 "$tmp/e3")"
[ $((t1 - t0)) -le 30 ] || fail "unreachable broker took $((t1 - t0)) s"

# A user name chosen by an attacker (failed logins carry any name) stays text in the Markdown
# report: rendered by an independent renderer (markdown-it, GitHub-style tables), the cell is
# exactly the name - no link, no HTML, no extra column.
"$BIN" generate -n 4000 -u 40 -a 0 -s 8 -q -o "$tmp/md.ndjson"
python3 - "$tmp/md.ndjson" <<'PY'
import json, sys
u = "[click](http://evil.example)<b>x|y`z www.evil.example"
with open(sys.argv[1], "a") as f:
    for i in range(150):
        f.write(json.dumps({"event_id": f"evil{i}", "timestamp": f"2026-11-0{1 + i % 6}T{i % 24:02d}:00:00Z",
                            "event_type": "auth_attempt", "user": u, "status": "failed",
                            "source_ip": f"203.0.{i % 250}.{i * 7 % 250 + 1}"}) + "\n")
PY
"$BIN" batch -i "$tmp/md.ndjson" -o "$tmp/mdout" -q --contamination 0.5
if [ -d tests/node_modules/markdown-it ]; then
    cat >"$tmp/md.mjs" <<'JS'
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/tests/package.json');
const md = require('markdown-it')({ linkify: true });
const fs = require('node:fs');
const html = md.render(fs.readFileSync(process.argv[2], 'utf8'));
const name = '[click](http://evil.example)<b>x|y`z www.evil.example';
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const rows = html.split('<tr>').filter((r) => r.includes('click'));
if (rows.length !== 1) throw new Error('the name is in ' + rows.length + ' table rows');
if (!rows[0].includes('<td><code>' + esc(name) + '</code></td>')) throw new Error('cell: ' + rows[0]);
if (/<a |<b>/.test(html)) throw new Error('the name became markup');
console.log('markdown: the hostile name renders as one code cell, no link, no HTML');
JS
    node "$tmp/md.mjs" "$tmp/mdout/anomaly_report.md" || fail "hostile user name in the Markdown report"
else
    grep -qF '| ``[click](http://evil.example)<b>x\|y`z www.evil.example`` |' "$tmp/mdout/anomaly_report.md" \
        || fail "hostile user name not a code span: $(grep click "$tmp/mdout/anomaly_report.md")"
fi

# CLI: --help 0, usage errors 2, missing input file 1.
"$BIN" batch --help | grep -q -- '--contamination' || fail "--help"
set +e
"$BIN" batch --bogus >/dev/null 2>&1; r1=$?
"$BIN" batch -i "$tmp/ev.ndjson" --algorithm dbscan >/dev/null 2>&1; r2=$?
"$BIN" batch -i "$tmp/ev.ndjson" --contamination 0.9 >/dev/null 2>&1; r3=$?
printf 'log:\n  level: info\n' >"$tmp/nokafka.yaml" # no input and no broker anywhere
"$BIN" batch -c "$tmp/nokafka.yaml" 2>"$tmp/e4"; r4=$?
grep -q "no input" "$tmp/e4" || fail "no-input message: $(cat "$tmp/e4")"
"$BIN" batch --chunk-kb 8 -i "$tmp/ev.ndjson" >/dev/null 2>&1; r7=$? # an MPI-only option
"$BIN" batch -i "$tmp/nope.ndjson" -o "$tmp/x" >/dev/null 2>&1; r5=$?
"$BIN" batch -i "$tmp/ev.ndjson" -k zero >/dev/null 2>&1; r6=$?
set -e
[ "$r1 $r2 $r3 $r4 $r5 $r6 $r7" = "2 2 2 2 1 2 2" ] || fail "exit codes: $r1 $r2 $r3 $r4 $r5 $r6 $r7"
echo "batch e2e ok"

// tests/mpi/compare.mjs: compares two `streamguard batch` outputs (a single-process run and
// an MPI run) through DuckDB: the same users in the same partitions, raw features and
// timestamps bit for bit, scores/distances within a relative tolerance, the same clusters
// and labels; and the models (scaler, forest, centroids, quantiles, threshold), the report
// totals and the baselines. Exits 1 with a precise message on the first difference.
//
//   node mpi/compare.mjs EXPECTED_DIR ACTUAL_DIR [TOL]     (TOL default 1e-12)
// With CAPPED=1 (a --max-events run) the report's bytes and blank_lines are not compared:
// they count what was read, and both readers read past the cap by their buffer sizes.
import { readFileSync, existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [, , A, B, tolArg] = process.argv;
const TOL = tolArg ? Number(tolArg) : 1e-12;
let checks = 0, maxRel = 0;
function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}
function close(a, b, what) {
  checks++;
  if (typeof a !== 'number' || typeof b !== 'number') fail(`${what}: not numbers: ${a} ${b}`);
  if (Object.is(a, b)) return;
  const rel = Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
  if (!(rel <= TOL)) fail(`${what}: ${a} vs ${b} (relative difference ${rel} > ${TOL})`);
  if (rel > maxRel) maxRel = rel;
}
function same(a, b, what) {
  checks++;
  const x = typeof a === 'bigint' ? a.toString() : JSON.stringify(a);
  const y = typeof b === 'bigint' ? b.toString() : JSON.stringify(b);
  if (x !== y) fail(`${what}: ${x} vs ${y}`);
}

async function rows(conn, dir) {
  const r = await conn.runAndReadAll(
    `SELECT * FROM read_parquet('${dir}/*/*.parquet', hive_partitioning = true) ORDER BY "user"`);
  return { cols: r.columnNames(), rows: r.getRows() };
}

const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
const a = await rows(conn, A), b = await rows(conn, B);
same(a.cols, b.cols, 'columns');
same(a.rows.length, b.rows.length, 'row count');
if (a.rows.length === 0) fail('no rows');
const scoreCols = new Set(['iforest_score', 'kmeans_distance', 'anomaly_score']);
for (let i = 0; i < a.rows.length; i++) {
  const ra = a.rows[i], rb = b.rows[i];
  for (let j = 0; j < a.cols.length; j++) {
    const c = a.cols[j], what = `row ${i} (${ra[0]}) column ${c}`;
    if (scoreCols.has(c)) close(ra[j], rb[j], what);
    else same(typeof ra[j] === 'object' && ra[j] !== null ? String(ra[j]) : ra[j],
              typeof rb[j] === 'object' && rb[j] !== null ? String(rb[j]) : rb[j], what);
  }
}

const ma = JSON.parse(readFileSync(`${A}/model/model.json`, 'utf8'));
const mb = JSON.parse(readFileSync(`${B}/model/model.json`, 'utf8'));
same(ma.feature_hash, mb.feature_hash, 'model feature_hash');
close(ma.threshold, mb.threshold, 'model threshold');
for (const k of ['mean', 'std'])
  ma.scaler[k].forEach((v, j) => close(v, mb.scaler[k][j], `scaler ${k}[${j}]`));
same(ma.kmeans.k, mb.kmeans.k, 'kmeans k');
same(ma.kmeans.sizes, mb.kmeans.sizes, 'kmeans cluster sizes');
ma.kmeans.centroids.forEach((c, i) =>
  c.forEach((v, j) => close(v, mb.kmeans.centroids[i][j], `centroid ${i}[${j}]`)));
for (const q of ['iforest', 'kmeans'])
  ma.quantiles[q].forEach((v, i) => close(v, mb.quantiles[q][i], `quantile ${q}[${i}]`));
same(ma.iforest.nodes.length, mb.iforest.nodes.length, 'trees');
ma.iforest.nodes.forEach((t, ti) => {
  same(t.length, mb.iforest.nodes[ti].length, `tree ${ti} size`);
  t.forEach((nd, k) => {
    const o = mb.iforest.nodes[ti][k];
    same([nd[0], nd[1]], [o[0], o[1]], `tree ${ti} node ${k} structure`);
    close(nd[2], o[2], `tree ${ti} node ${k} split`);
  });
});

const ra = JSON.parse(readFileSync(`${A}/anomaly_report.json`, 'utf8'));
const rb = JSON.parse(readFileSync(`${B}/anomaly_report.json`, 'utf8'));
const totals = ['messages', 'valid', 'invalid', 'users', 'anomalous_users'];
if (process.env.CAPPED !== '1') totals.push('bytes', 'blank_lines');
for (const k of totals)
  same(ra.totals[k], rb.totals[k], `report totals.${k}`);
same(ra.invalid_by_reason, rb.invalid_by_reason, 'report invalid_by_reason');
same(ra.flagged_by_top_feature, rb.flagged_by_top_feature, 'report flagged_by_top_feature');
same(ra.top_anomalies.map((x) => x.user), rb.top_anomalies.map((x) => x.user), 'report top users');
ra.top_anomalies.forEach((x, i) => {
  const y = rb.top_anomalies[i];
  close(x.anomaly_score, y.anomaly_score, `top ${i} score`);
  same(x.events, y.events, `top ${i} events`);
  same(x.top_features.map((f) => f.name), y.top_features.map((f) => f.name), `top ${i} features`);
});

const lines = (d) => readFileSync(`${d}/model/baselines.ndjson`, 'utf8').split('\n').filter(Boolean).sort();
const la = lines(A), lb = lines(B);
same(la.length, lb.length, 'baseline count');
la.forEach((l, i) => same(l, lb[i], `baseline line ${i}`));
if (!existsSync(`${B}/_SUCCESS`)) fail('no _SUCCESS');

console.log(`ok: ${a.rows.length} users, ${checks} checks, largest relative score/model ` +
            `difference ${maxRel.toExponential(2)}`);

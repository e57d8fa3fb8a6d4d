// bench/batch_quality.mjs: user-level detection quality of a `streamguard batch` output against
// the generator's truth file: ROC AUC of iforest_score, kmeans_distance and anomaly_score,
// overall and per attack scenario (positives = that scenario's users, negatives = users never
// attacked), and precision/recall at the contamination cut (is_anomaly). Reads the Parquet
// dataset with DuckDB (tests/node_modules). Prints a Markdown table.
//   node bench/batch_quality.mjs OUTPUT_DIR TRUTH.jsonl
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(pathToFileURL(process.cwd() + '/tests/'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const [dir, truthPath] = process.argv.slice(2);
const truth = new Map();
for (const line of readFileSync(truthPath, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const t = JSON.parse(line);
  if (!truth.has(t.user)) truth.set(t.user, new Set());
  truth.get(t.user).add(t.scenario);
}
const inst = await DuckDBInstance.create();
const con = await inst.connect();
const res = await con.runAndReadAll(
  `select "user", iforest_score, kmeans_distance, anomaly_score, is_anomaly
   from read_parquet('${dir}/*/*.parquet', hive_partitioning = true)`);
const rows = res.getRowObjects().map((r) => ({
  user: r.user, iforest: r.iforest_score, kmeans: r.kmeans_distance, score: r.anomaly_score,
  flagged: Number(r.is_anomaly) === 1,
}));

// ROC AUC by the rank-sum (Mann-Whitney) formula with average ranks for ties.
function auc(pos, neg, key) {
  const all = pos.map((r) => [r[key], 1]).concat(neg.map((r) => [r[key], 0]));
  all.sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1][0] === all[i][0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k][1]) rankSum += avg;
    i = j + 1;
  }
  const p = pos.length, n = neg.length;
  return (rankSum - (p * (p + 1)) / 2) / (p * n);
}

const neg = rows.filter((r) => !truth.has(r.user));
const scenarios = [...new Set([...truth.values()].flatMap((s) => [...s]))].sort();
const groups = [['all attacked', rows.filter((r) => truth.has(r.user))]].concat(
  scenarios.map((s) => [s, rows.filter((r) => truth.get(r.user)?.has(s))]));
console.log(`users ${rows.length}, attacked ${truth.size}, flagged ${rows.filter((r) => r.flagged).length}\n`);
console.log('| scenario | users | AUC iforest | AUC kmeans | AUC anomaly_score | recall at cut |');
console.log('|---|---|---|---|---|---|');
for (const [name, pos] of groups) {
  if (!pos.length) continue;
  const rec = pos.filter((r) => r.flagged).length / pos.length;
  console.log(`| ${name} | ${pos.length} | ${auc(pos, neg, 'iforest').toFixed(4)} | ` +
    `${auc(pos, neg, 'kmeans').toFixed(4)} | ${auc(pos, neg, 'score').toFixed(4)} | ${rec.toFixed(3)} |`);
}
const flagged = rows.filter((r) => r.flagged);
const tp = flagged.filter((r) => truth.has(r.user)).length;
console.log(`\nprecision at the contamination cut: ${(tp / Math.max(1, flagged.length)).toFixed(4)} ` +
  `(${tp} of ${flagged.length} flagged users are attacked; best possible ` +
  `${Math.min(1, truth.size / Math.max(1, flagged.length)).toFixed(4)})`);

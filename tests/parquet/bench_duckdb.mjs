// tests/parquet/bench_duckdb.mjs: the reference run of bench/bench_parquet.sh - DuckDB's own
// Parquet writer, single-threaded (SET threads=1), writing the same rows as bench_parquet:
// the table is loaded (untimed) from bench_parquet's uncompressed output, then
// `COPY t TO ... (FORMAT PARQUET, COMPRESSION c)` is timed REPS times per codec.
//   node bench_duckdb.mjs SOURCE.parquet OUTDIR REPS INPUT_BYTES [codec...]
// Prints lines in bench_parquet's format with the prefix "duckdb".
import { statSync, unlinkSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [src, outdir, repsArg, inputArg, ...codecsArg] = process.argv.slice(2);
const reps = Number(repsArg), input = Number(inputArg);
const codecs = codecsArg.length ? codecsArg : ['uncompressed', 'snappy', 'zstd'];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${src}')`);
const rows = Number((await con.runAndReadAll('SELECT count(*)::BIGINT AS n FROM t')).getRowObjectsJS()[0].n);
await con.run('SET threads = 1');
await con.run('SET preserve_insertion_order = true');
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const codec of codecs) {
  const out = `${outdir}/bench_duckdb_${codec}.parquet`;
  const wall = [], cpu = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await con.run(`COPY t TO '${out}' (FORMAT PARQUET, COMPRESSION ${codec})`);
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const med = median(wall);
  const bytes = statSync(out).size;
  console.log(`duckdb ${codec} rows=${rows} median_s=${med.toFixed(3)} cpu_s=${median(cpu).toFixed(3)} ` +
    `mb_s=${(input / 1e6 / med).toFixed(1)} rows_s=${Math.round(rows / med)} bytes=${bytes}`);
  unlinkSync(out);
}

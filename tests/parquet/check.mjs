// tests/parquet/check.mjs: reads Parquet files written by StreamGuard (tests/helpers/pq_gen)
// with two independent readers, DuckDB (@duckdb/node-api) and hyparquet, and compares every
// value with the JSON sidecar; checks schema annotations (parquet_schema), per-row-group
// statistics, counts and codec (parquet_metadata) against values computed here, and
// key/value metadata. Exits 1 on the first mismatch with a precise message.
//
//   node check.mjs random DIR          every DIR/case-K.json + case-K.parquet
//   node check.mjs big FILE ROWS       formula columns of `pq_gen big`
//   node check.mjs dataset DIR         Hive dataset of `pq_gen dataset` (DIR/expected.json)
import { readFileSync, readdirSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

let checks = 0;
function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}
function eq(got, want, what) {
  checks++;
  if (!same(got, want)) fail(`${what}: got ${show(got)}, want ${show(want)}`);
}
function show(v) {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x));
}
function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return Object.is(a, b);
  }
  return a === b;
}

// ---- expected values --------------------------------------------------------------------
const f64 = new DataView(new ArrayBuffer(8));
function decode(type, v) {
  if (v === null) return null;
  switch (type) {
    case 'INT64':
    case 'TIMESTAMP_MS':
      return BigInt(v);
    case 'DOUBLE':
      f64.setBigUint64(0, BigInt('0x' + v));
      return f64.getFloat64(0);
    default:
      return v; // boolean, number, string
  }
}
const duckType = {
  BOOLEAN: 'BOOLEAN', INT8: 'TINYINT', INT16: 'SMALLINT', INT32: 'INTEGER', INT64: 'BIGINT',
  DOUBLE: 'DOUBLE', STRING: 'VARCHAR', TIMESTAMP_MS: 'TIMESTAMP WITH TIME ZONE',
};
const schemaWant = {
  BOOLEAN: ['BOOLEAN', null, null], INT8: ['INT32', 'INT_8', 'IntType'],
  INT16: ['INT32', 'INT_16', 'IntType'], INT32: ['INT32', 'INT_32', 'IntType'],
  INT64: ['INT64', 'INT_64', 'IntType'], DOUBLE: ['DOUBLE', null, null],
  STRING: ['BYTE_ARRAY', 'UTF8', 'StringType'],
  TIMESTAMP_MS: ['INT64', 'TIMESTAMP_MILLIS', 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=MilliSeconds()'],
};

// Independent statistics of a slice of non-null values, following the spec's rules.
const STAT_MAX = 64;
function utf8Cut(buf, max) {
  if (buf.length <= max) return buf.length;
  let k = max;
  while (k > 0 && (buf[k] & 0xc0) === 0x80) k--;
  return k;
}
function expectedStats(type, vals) {
  const nn = vals.filter((v) => v !== null && !(type === 'DOUBLE' && Number.isNaN(v)));
  if (nn.length === 0) return null;
  if (type === 'STRING') {
    const bufs = nn.map((s) => Buffer.from(s, 'utf8'));
    let mn = bufs[0], mx = bufs[0];
    for (const b of bufs) {
      if (Buffer.compare(b, mn) < 0) mn = b;
      if (Buffer.compare(b, mx) > 0) mx = b;
    }
    const minExact = mn.length <= STAT_MAX;
    const minOut = mn.subarray(0, utf8Cut(mn, STAT_MAX));
    let maxOut = Buffer.from(mx.subarray(0, utf8Cut(mx, STAT_MAX)));
    const maxExact = mx.length <= STAT_MAX;
    if (!maxExact) {
      let k = maxOut.length;
      while (k > 0 && maxOut[k - 1] >= 0x7f) k--;
      if (k === 0) return null;
      maxOut = Buffer.from(maxOut.subarray(0, k));
      maxOut[k - 1]++;
      // the bound must really bound: every value <= max
      if (bufs.some((b) => Buffer.compare(b, maxOut) > 0)) fail('max bound below a value');
    }
    return { min: minOut.toString('utf8'), max: maxOut.toString('utf8'), minExact, maxExact };
  }
  let mn = nn[0], mx = nn[0];
  for (const v of nn) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  if (type === 'DOUBLE') {
    if (mn === 0) mn = -0;
    if (mx === 0) mx = 0;
  }
  return { min: mn, max: mx, minExact: true, maxExact: true };
}

// ---- DuckDB -----------------------------------------------------------------------------
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
await con.run("SET TimeZone='UTC'");
async function rows(sql) {
  return (await con.runAndReadAll(sql)).getRowObjectsJS();
}
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const ident = (s) => `"${s.replaceAll('"', '""')}"`;

function selectList(cols) {
  return cols
    .map((c) => (c.type === 'TIMESTAMP_MS' ? `epoch_ms(${ident(c.name)})` : ident(c.name)))
    .join(', ');
}

function fromDuck(type, v) {
  if (v === null) return null;
  if (type === 'TIMESTAMP_MS' || type === 'INT64') return BigInt(v);
  return v;
}

async function checkSchema(file, exp) {
  const sch = await rows(`SELECT * FROM parquet_schema(${q(file)}) ORDER BY column_id`);
  eq(sch.length, exp.columns.length + 1, `${file}: schema elements`);
  exp.columns.forEach((c, i) => {
    const s = sch[i + 1];
    const [phys, conv, logical] = schemaWant[c.type];
    eq(s.name, c.name, `${file}: column ${i} name`);
    eq(s.type, phys, `${file}: ${c.name} physical type`);
    eq(s.converted_type, conv, `${file}: ${c.name} converted type`);
    eq(s.repetition_type, c.optional ? 'OPTIONAL' : 'REQUIRED', `${file}: ${c.name} repetition`);
    eq(s.duckdb_type, duckType[c.type], `${file}: ${c.name} duckdb type`);
    if (logical) eq((s.logical_type ?? '').startsWith(logical), true, `${file}: ${c.name} logical ${s.logical_type}`);
    else eq(s.logical_type, null, `${file}: ${c.name} logical type`);
  });
}

// Typed statistics via SQL casts (DuckDB renders them as strings).
async function duckStats(file, exp) {
  const cast = (t, e) =>
    t === 'TIMESTAMP_MS' ? `epoch_ms(TRY_CAST(${e} AS TIMESTAMPTZ))` : `TRY_CAST(${e} AS ${duckType[t]})`;
  const cases = (e) =>
    'CASE column_id ' +
    exp.columns.map((c, i) => `WHEN ${i} THEN ${cast(c.type, e)}::VARCHAR`).join(' ') + ' END';
  return rows(
    `SELECT row_group_id, row_group_num_rows, column_id, num_values, stats_null_count,
            stats_min_value, stats_max_value, ${cases('stats_min_value')} AS tmin,
            ${cases('stats_max_value')} AS tmax, min_is_exact, max_is_exact, compression,
            encodings, path_in_schema
     FROM parquet_metadata(${q(file)}) ORDER BY row_group_id, column_id`);
}

function parseStat(type, s) {
  if (s === null) return null;
  switch (type) {
    case 'INT64': case 'TIMESTAMP_MS': return BigInt(s);
    case 'INT8': case 'INT16': case 'INT32': return Number(s);
    case 'DOUBLE': return s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
    case 'BOOLEAN': return s === 'true';
    default: return s;
  }
}

async function checkStats(file, exp, vals) {
  const md = await duckStats(file, exp);
  const hyMeta = parquetMetadata(toArrayBuffer(file));
  const ncols = exp.columns.length;
  eq(md.length % ncols, 0, `${file}: metadata rows`);
  let start = 0;
  for (let r = 0; r < md.length; r += ncols) {
    const nrows = Number(md[r].row_group_num_rows);
    if (exp.row_group_bytes === 67108864 && r + ncols < md.length)
      eq(nrows, exp.row_group_rows, `${file}: rows in row group ${r / ncols}`);
    for (let c = 0; c < ncols; c++) {
      const m = md[r + c], col = exp.columns[c];
      const where = `${file} rg ${m.row_group_id} ${col.name}`;
      const slice = vals[c].slice(start, start + nrows);
      eq(m.path_in_schema, col.name, `${where}: path`);
      eq(Number(m.num_values), nrows, `${where}: num_values`);
      eq(Number(m.stats_null_count), slice.filter((v) => v === null).length, `${where}: null_count`);
      eq(m.compression, exp.codec, `${where}: codec`);
      const st = expectedStats(col.type, slice);
      if (st === null) {
        eq(m.stats_min_value, null, `${where}: min of no values`);
        eq(m.stats_max_value, null, `${where}: max of no values`);
        continue;
      }
      // DuckDB's parquet_metadata() shows no value for an infinite double statistic; those
      // are checked in hyparquet's decoding of the same footer instead.
      const hs = hyMeta.row_groups[Number(m.row_group_id)].columns[c].meta_data.statistics;
      const tmin = Math.abs(Number(st.min)) === Infinity && m.tmin === null ? hs.min_value : parseStat(col.type, m.tmin);
      const tmax = Math.abs(Number(st.max)) === Infinity && m.tmax === null ? hs.max_value : parseStat(col.type, m.tmax);
      eq(tmin, st.min, `${where}: min (${m.stats_min_value})`);
      eq(tmax, st.max, `${where}: max (${m.stats_max_value})`);
      eq(m.min_is_exact, st.minExact, `${where}: min exact`);
      eq(m.max_is_exact, st.maxExact, `${where}: max exact`);
    }
    start += nrows;
  }
  eq(start, exp.rows, `${file}: rows over all row groups`);
}

async function checkKv(file, want) {
  const kv = await rows(`SELECT key::VARCHAR AS k, value::VARCHAR AS v FROM parquet_kv_metadata(${q(file)})`);
  const got = Object.fromEntries(kv.map((e) => [e.k, e.v]));
  for (const [k, v] of Object.entries(want)) eq(got[k], v, `${file}: kv ${k}`);
}

// ---- hyparquet --------------------------------------------------------------------------
function toArrayBuffer(path) {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}
async function hyRows(path, columns) {
  return parquetReadObjects({
    file: toArrayBuffer(path),
    columns,
    compressors,
    parsers: { timestampFromMilliseconds: (v) => BigInt(v) },
  });
}
function fromHy(type, v) {
  if (v === null || v === undefined) return null;
  if (type === 'INT64' || type === 'TIMESTAMP_MS') return BigInt(v);
  return v;
}

// ---- modes ------------------------------------------------------------------------------
async function checkRandom(dir) {
  const cases = readdirSync(dir).filter((f) => /^case-\d+\.json$/.test(f));
  if (cases.length === 0) fail(`no cases in ${dir}`);
  for (const name of cases) {
    const exp = JSON.parse(readFileSync(`${dir}/${name}`, 'utf8'));
    const file = `${dir}/${exp.file}`;
    const vals = exp.columns.map((c) => c.values.map((v) => decode(c.type, v)));
    exp.columns.forEach((c, i) => eq(vals[i].length, exp.rows, `${file}: ${c.name} sidecar`));
    // DuckDB: values in file order
    const got = await rows(`SELECT ${selectList(exp.columns)} FROM read_parquet(${q(file)})`);
    eq(got.length, exp.rows, `${file}: DuckDB row count`);
    got.forEach((row, r) => {
      const vs = Object.values(row);
      exp.columns.forEach((c, i) =>
        eq(fromDuck(c.type, vs[i]), vals[i][r], `${file}: DuckDB row ${r} ${c.name}`));
    });
    await checkSchema(file, exp);
    await checkStats(file, exp, vals);
    await checkKv(file, { 'streamguard.seed': exp.seed, 'streamguard.case': 'random', empty: '' });
    // hyparquet
    const meta = parquetMetadata(toArrayBuffer(file));
    eq(meta.created_by.startsWith('streamguard version'), true, `${file}: created_by`);
    eq(Number(meta.num_rows), exp.rows, `${file}: hyparquet num_rows`);
    const hy = await hyRows(file);
    eq(hy.length, exp.rows, `${file}: hyparquet row count`);
    hy.forEach((row, r) => {
      exp.columns.forEach((c, i) =>
        eq(fromHy(c.type, row[c.name]), vals[i][r], `${file}: hyparquet row ${r} ${c.name}`));
    });
    console.log(`ok ${exp.file}: ${exp.rows} rows x ${exp.columns.length} cols, ${exp.codec}`);
  }
}

function bigExpected(i) {
  return {
    id: BigInt(i) * 7919n - 3n,
    x: i * 0.25 - 1000,
    s: i % 7 === 3 ? null : `k${i % 1000}`,
    flag: i % 3 === 0,
  };
}

async function checkBig(file, nrows) {
  const [r] = await rows(`
    SELECT count(*)::BIGINT AS n,
      count(*) FILTER (WHERE id <> file_row_number * 7919 - 3)::BIGINT AS bad_id,
      count(*) FILTER (WHERE x <> file_row_number * 0.25 - 1000)::BIGINT AS bad_x,
      count(*) FILTER (WHERE CASE WHEN file_row_number % 7 = 3 THEN s IS NOT NULL
                       ELSE s IS DISTINCT FROM 'k' || (file_row_number % 1000) END)::BIGINT AS bad_s,
      count(*) FILTER (WHERE flag <> (file_row_number % 3 = 0))::BIGINT AS bad_flag,
      count(DISTINCT file_row_number)::BIGINT AS distinct_rows
    FROM read_parquet(${q(file)}, file_row_number = true)`);
  eq(Number(r.n), nrows, 'big: DuckDB rows');
  eq(Number(r.distinct_rows), nrows, 'big: DuckDB row numbers');
  for (const k of ['bad_id', 'bad_x', 'bad_s', 'bad_flag']) eq(Number(r[k]), 0, `big: DuckDB ${k}`);
  const [m] = await rows(`SELECT count(DISTINCT row_group_id)::BIGINT AS rgs,
      min(stats_min_value) FILTER (WHERE path_in_schema = 'id') AS idmin
    FROM parquet_metadata(${q(file)})`);
  eq(Number(m.rgs), Math.ceil(nrows / 100000), 'big: row groups');
  const hy = await hyRows(file);
  eq(hy.length, nrows, 'big: hyparquet rows');
  for (let i = 0; i < nrows; i++) {
    const e = bigExpected(i), g = hy[i];
    if (g.id !== e.id || g.x !== e.x || (g.s ?? null) !== e.s || g.flag !== e.flag)
      fail(`big: hyparquet row ${i}: got ${show(g)}, want ${show(e)}`);
  }
  checks += nrows;
  console.log(`ok big ${file}: ${nrows} rows, ${m.rgs} row groups`);
}

async function checkDataset(dir) {
  const exp = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8'));
  const want = exp.rows
    .map((r) => ({ id: BigInt(r.id), user: r.user, score: decode('DOUBLE', r.score), is_anomaly: r.is_anomaly }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const got = await rows(`SELECT id, user, score, is_anomaly FROM read_parquet(${q(dir + '/*/*.parquet')},
      hive_partitioning = true) ORDER BY id`);
  eq(got.length, want.length, 'dataset: rows');
  got.forEach((g, i) => {
    const w = want[i];
    eq(g.id, w.id, `dataset row ${i} id`);
    eq(g.user, w.user, `dataset row ${i} user`);
    eq(g.score, w.score, `dataset row ${i} score`);
    eq(Number(g.is_anomaly), w.is_anomaly, `dataset row ${i} is_anomaly`);
  });
  const parts = await rows(`SELECT DISTINCT is_anomaly FROM read_parquet(${q(dir + '/*/*.parquet')},
      hive_partitioning = true) ORDER BY 1`);
  eq(parts.map((p) => Number(p.is_anomaly)).join(','), '0,1', 'dataset: partitions');
  console.log(`ok dataset ${dir}: ${got.length} rows, seed ${exp.seed}`);
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'random') await checkRandom(a);
else if (mode === 'big') await checkBig(a, Number(b));
else if (mode === 'dataset') await checkDataset(a);
else fail('usage: check.mjs random DIR | big FILE ROWS | dataset DIR');
console.log(`${checks} checks passed`);

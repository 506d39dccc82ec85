// Seeds Weir's store for bench/ui at the database level: about 1.5 minutes for 100,000 runs × 50 metrics and a
// 1,000,000-point metric, instead of the 13 minutes the bench's REST seeding takes.
//
//   npx tsx bench/ui/seed-direct.ts --data DIR [--runs 100000] [--metric-keys 50] [--points 1000000]
//   npx tsx bench/ui/bench.ts --data DIR --runs … --points …     # then reuses it (MLflow is seeded on the first run)
//
// Writes the rows the bench's REST seeding produces (one experiment `ui-bench` of N runs with K metrics and 3 params
// each, plus a run `history` with a P-point `loss` metric) straight into DIR/weir/data/weir.db, created by the tracking
// migrations (the server applies the rest when it starts), and records the ids in DIR/seeded.json. Run ids and
// series ids differ from a REST-seeded store; values, names, steps and timestamps are the same.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { trackingMigrations } from '../../apps/server/src/domains/tracking/index.ts';
import { migrate, openMetadataDb } from '../../apps/server/src/platform/db.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const DATA = arg('data', '');
if (!DATA) throw new Error('--data DIR is required');
const DIR = path.join(path.resolve(DATA), 'weir', 'data');
if (existsSync(path.join(DIR, 'weir.db'))) throw new Error(`${DIR} already holds a store: remove it or pick another --data`);
const RUNS = Number(arg('runs', '100000'));
const METRIC_KEYS = Number(arg('metric-keys', '50'));
const POINTS = Number(arg('points', '1000000'));
const BASE_TS = 1_700_000_000_000;
const LRS = ['0.1', '0.01', '0.001'];
const BATCH_SIZES = ['32', '64', '128', '256'];
const MODELS = ['mlp', 'cnn', 'gbdt', 'linear', 'rf'];

function runMetrics(i: number): [string, number][] {
  const out: [string, number][] = [
    ['acc', ((i * 7919) % 10007) / 10007],
    ['loss', ((i * 104729) % 10009) / 10009],
    ['f1', ((i * 1299709) % 10037) / 10037],
  ];
  for (let j = 3; j < METRIC_KEYS; j++) out.push([`m${String(j).padStart(2, '0')}`, ((i * 7919 + j * 104729) % 10007) / 10007]);
  // log-batch upserts the latest values in key order, which is the order series ids are handed out in.
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const store = openMetadataDb({ dataDir: DIR });
await migrate(store, trackingMigrations);
await store.close();

const db = new Database(path.join(DIR, 'weir.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
const started = Date.now();
const artifactRoot = `mlflow-artifacts:/`;
const expId = Number(
  db
    .prepare('insert into experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) values (?, ?, ?, ?, ?)')
    .run('ui-bench', `${artifactRoot}pending`, 'active', BASE_TS, BASE_TS).lastInsertRowid,
);
db.prepare('update experiments set artifact_location = ? where experiment_id = ?').run(`${artifactRoot}${expId}`, expId);
const insertRun = db.prepare(
  'insert into runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, deleted_time, lifecycle_stage, artifact_uri) values (?, ?, ?, ?, ?, ?, ?, null, ?, ?)',
);
const insertTag = db.prepare('insert into tags (run_uuid, key, value) values (?, ?, ?)');
const insertParam = db.prepare('insert into params (run_uuid, key, value) values (?, ?, ?)');
const insertLatest = db.prepare('insert into latest_metrics (run_uuid, key, timestamp, step, value, is_nan) values (?, ?, ?, 0, ?, 0)');
const insertMetric = db.prepare('insert into metrics (series_id, timestamp, step, value, is_nan) values (?, ?, ?, ?, 0)');

function addRun(name: string, start: number, status: string, end: number | null): string {
  const id = randomUUID().replace(/-/g, '');
  insertRun.run(id, expId, name, 'admin', status, start, end, 'active', `${artifactRoot}${expId}/${id}/artifacts`);
  insertTag.run(id, 'mlflow.runName', name);
  return id;
}

const historyRun = db.transaction(() => {
  const id = addRun('history', BASE_TS - 1, 'RUNNING', null);
  const last = POINTS - 1;
  const sid = Number(insertLatest.run(id, 'loss', BASE_TS + last, 1 / (1 + last / 1000)).lastInsertRowid);
  db.prepare('update latest_metrics set step = ? where series_id = ?').run(last, sid);
  for (let step = 0; step < POINTS; step++) insertMetric.run(sid, BASE_TS + step, step, 1 / (1 + step / 1000));
  return id;
})();

const seedRuns = db.transaction((from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const id = addRun(`r${i}`, BASE_TS + i, 'FINISHED', BASE_TS + i + 1000);
    insertParam.run(id, 'batch_size', BATCH_SIZES[i % 4]);
    insertParam.run(id, 'lr', LRS[i % 3]);
    insertParam.run(id, 'model', MODELS[i % 5]);
    for (const [key, value] of runMetrics(i)) {
      const sid = Number(insertLatest.run(id, key, BASE_TS + i, value).lastInsertRowid);
      insertMetric.run(sid, BASE_TS + i, 0, value);
    }
  }
});
for (let i = 0; i < RUNS; i += 5000) seedRuns(i, Math.min(RUNS, i + 5000));
db.close();
const manifest = path.join(path.resolve(DATA), 'seeded.json');
const seeded = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : { runs: RUNS, metricKeys: METRIC_KEYS, points: POINTS };
if (seeded.runs !== RUNS || seeded.metricKeys !== METRIC_KEYS || seeded.points !== POINTS) throw new Error(`${manifest} records other sizes`);
seeded.weir = { experimentId: String(expId), historyRun };
writeFileSync(manifest, `${JSON.stringify(seeded, null, 2)}\n`);
console.log(`[seed-direct] seeded ${DIR} in ${((Date.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(seeded.weir)}`);

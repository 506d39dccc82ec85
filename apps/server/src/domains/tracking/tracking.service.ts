import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { BulkColumn, BulkInserter, DialectName } from '../../platform/db.ts';
import { AppError, invalidParameter, notFound } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import { EXPERIMENT_OBJECT, type ExperimentAccess, readableExperiments, requireExperimentLevel } from './tracking.access.ts';
import { searchExperimentRows, searchLoggedModelRows, searchRunRows } from './tracking.search.ts';
import type { TrackingTables } from './tracking.tables.ts';
import {
  decodePageToken,
  encodePageToken,
  generateRunName,
  invalidValue,
  LIMITS,
  storedMetricValue,
  truncate,
  validateKey,
  validateMaxResults,
  validateRunId,
  wireMetricValue,
} from './tracking.validation.ts';

type Db = Kysely<TrackingTables>;
type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
type KV = { key: string; value?: string | undefined };

/** A metric point as the service receives it. */
export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step?: number | undefined;
  model_id?: string | undefined;
  dataset_name?: string | undefined;
  dataset_digest?: string | undefined;
}

const RUN_NAME_TAG = 'mlflow.runName';

/** The keyset position inside a history page token, when the token carries one. */
function decodeHistoryCursor(token: string | undefined): [number, number, number, number] | null {
  if (!token) return null;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { after?: unknown };
    const a = parsed.after;
    if (Array.isArray(a) && a.length === 4 && a.every((n) => typeof n === 'number' && Number.isFinite(n))) return a as [number, number, number, number];
  } catch {
    // decodePageToken reports malformed tokens
  }
  return null;
}
const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';
const ARTIFACT_SCHEME = 'mlflow-artifacts:';
const IN_CHUNK = 5000;
/** Rows per keyset read of a streamed history: small enough that a chunk is a few hundred KB of JSON. */
const HISTORY_CHUNK = 5000;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One stored point of a metric series. */
interface SeriesPoint {
  step: number;
  timestamp: number;
  value: number;
  is_nan: number;
}

/** A literal integer on both engines (better-sqlite3 binds JS numbers as REAL, which would make `/` divide exactly). */
const int = (v: number) => sql`cast(${v} as bigint)`;

/**
 * Brings `metric_steps` (the first point of each distinct step of a series, keyed by step) up to date with the
 * series' history, so the sampler can seek by step instead of sorting the whole series. Runs when a chart asks, not
 * when metrics are logged: logging stays one insert into `metrics`. `latest_metrics.stepped_through` says up to which
 * timestamp the step table holds the series; points are appended in timestamp order (the history's key), so catching
 * up reads only the points logged since. A write of a point at or before that timestamp clears it (see writeMetrics)
 * and the next chart rebuilds the series' steps.
 */
async function refreshSeriesSteps(db: Kysely<TrackingTables>, seriesId: number): Promise<void> {
  const state = async (q: Kysely<TrackingTables>) => {
    const row = await q.selectFrom('latest_metrics').select('stepped_through').where('series_id', '=', seriesId).executeTakeFirst();
    const newest = await sql<{ ts: number | null }>`select max(timestamp) as ts from metrics where series_id = ${seriesId}`.execute(q);
    const ts = newest.rows[0]?.ts;
    return { through: row?.stepped_through ?? null, newest: ts === null || ts === undefined ? null : Number(ts) };
  };
  const seen = await state(db);
  if (seen.newest === null || (seen.through !== null && Number(seen.through) >= seen.newest)) return;
  await db.transaction().execute(async (trx) => {
    // A write first: it takes SQLite's write lock, or the series' row lock on PostgreSQL, which metric writers take
    // too (their latest_metrics upsert), so no point lands between reading the state and recording it.
    await sql`update latest_metrics set stepped_through = stepped_through where series_id = ${seriesId}`.execute(trx);
    const now = await state(trx);
    if (now.newest === null || (now.through !== null && Number(now.through) >= now.newest)) return;
    if (now.through === null) await sql`delete from metric_steps where series_id = ${seriesId}`.execute(trx);
    // In history order the first point of a step is inserted first and later ones are ignored; points after the
    // recorded timestamp come after every point already in the table, so they never displace one.
    const after = now.through === null ? sql`` : sql` and timestamp > ${int(Number(now.through))}`;
    await sql`insert into metric_steps (series_id, step, timestamp, value, is_nan)
      select series_id, step, timestamp, value, is_nan from metrics where series_id = ${seriesId}${after} and timestamp <= ${int(now.newest)}
      order by timestamp, step, value, is_nan
      on conflict do nothing`.execute(trx);
    await sql`update latest_metrics set stepped_through = ${int(now.newest)} where series_id = ${seriesId}`.execute(trx);
  });
}

/**
 * At most `maxResults` points of one series for a chart: the step range is cut into `maxResults - 1` equal buckets,
 * each non-empty bucket gives its first point (lowest step), and the series' last point (highest step) is always kept.
 * A short series comes back whole. The history is keyed by timestamp, so the buckets are found in `metric_steps`
 * (kept up to date by {@link refreshSeriesSteps}): one index seek per bucket instead of a pass over every point.
 */
async function sampleSeries(
  db: Kysely<TrackingTables>,
  seriesId: number,
  maxResults: number,
  range: { from: number; to: number } | undefined,
): Promise<SeriesPoint[]> {
  const inRange = (column: string) =>
    sql<boolean>`${sql.ref(column)} = ${seriesId}${range ? sql` and step >= ${int(range.from)} and step <= ${int(range.to)}` : sql``}`;
  const few = await sql<{ n: number | string }>`
    select count(*) as n from (select 1 from metrics where ${inRange('series_id')} limit ${maxResults + 1}) p`.execute(db);
  const n = Number(few.rows[0]?.n ?? 0);
  if (n === 0) return [];
  if (n <= maxResults) {
    const all = await sql<SeriesPoint>`
      select step, timestamp, value, is_nan from metrics where ${inRange('series_id')} order by step, timestamp, value, is_nan`.execute(db);
    return all.rows.map((r) => ({ step: Number(r.step), timestamp: Number(r.timestamp), value: r.value, is_nan: Number(r.is_nan) }));
  }
  await refreshSeriesSteps(db, seriesId);
  // Two subqueries: SQLite answers a lone min() or max() with one seek, both in one select with a scan.
  const bounds = await sql<{ lo: number | null; hi: number | null }>`
    select (select min(step) from metric_steps where ${inRange('series_id')}) as lo, (select max(step) from metric_steps where ${inRange('series_id')}) as hi`.execute(
    db,
  );
  const { lo, hi } = bounds.rows[0] ?? { lo: null, hi: null };
  if (lo === null || hi === null) return [];
  const [low, high] = [Number(lo), Number(hi)];
  // The latest timestamp at that step first (a backwards walk of the history key that stops at the first match), then
  // a seek: one ORDER BY over all three columns makes SQLite sort every point of the series instead.
  const last = await sql<SeriesPoint>`
    select step, timestamp, value, is_nan from metrics
    where series_id = ${seriesId} and step = ${int(high)}
      and timestamp = (select max(timestamp) from metrics where series_id = ${seriesId} and step = ${int(high)})
    order by value desc, is_nan desc limit 1`.execute(db);
  const lastRow = last.rows[0] as SeriesPoint;
  const lastPoint = { step: Number(lastRow.step), timestamp: Number(lastRow.timestamp), value: lastRow.value, is_nan: Number(lastRow.is_nan) };
  if (maxResults === 1) return [lastPoint];
  const width = Math.max(1, Math.ceil((high - low + 1) / (maxResults - 1)));
  // One row per bucket start; each finds its bucket's lowest step with one seek in metric_steps' (series, step) key.
  // CROSS JOIN keeps the bucket list the outer loop on SQLite (otherwise it may scan the steps and probe each bucket).
  const firsts = await sql<SeriesPoint>`
    with recursive buckets(s) as (
      select ${int(low)} union all select s + ${int(width)} from buckets where s + ${int(width)} <= ${int(high)}
    ),
    firsts(step) as (
      select (select min(x.step) from metric_steps x where x.series_id = ${seriesId} and x.step >= buckets.s and x.step < buckets.s + ${int(width)}) from buckets
    )
    select m.step, m.timestamp, m.value, m.is_nan from firsts cross join metric_steps m
    where m.series_id = ${seriesId} and m.step = firsts.step
    order by m.step`.execute(db);
  const points = firsts.rows.map((r) => ({ step: Number(r.step), timestamp: Number(r.timestamp), value: r.value, is_nan: Number(r.is_nan) }));
  const tail = points[points.length - 1];
  if (!tail || tail.step !== lastPoint.step || tail.timestamp !== lastPoint.timestamp || tail.value !== lastPoint.value) points.push(lastPoint);
  return points;
}

function lifecycleStages(view: ViewType | undefined): string[] {
  if (view === 'DELETED_ONLY') return ['deleted'];
  if (view === 'ALL') return ['active', 'deleted'];
  return ['active'];
}

/** Tracking: MLflow experiments, runs, logging, history, inputs/outputs and logged models. */
export type TrackingService = ReturnType<typeof createTrackingService>;

const METRIC_COLUMNS: BulkColumn[] = [
  { name: 'series_id', pgType: 'integer' },
  { name: 'timestamp', pgType: 'bigint' },
  { name: 'step', pgType: 'bigint' },
  { name: 'value', pgType: 'float8' },
  { name: 'is_nan', pgType: 'smallint' },
];

/** Creates the tracking service; `access` decides experiment permissions, `bulkInsert` writes metric history. */
export function createTrackingService(deps: {
  db: Db;
  dialect: DialectName;
  bulkInsert: BulkInserter;
  access: ExperimentAccess;
  /** Where logged dataset inputs are published (lineage records table → run edges from them). */
  events?: Pick<EventBus, 'publish'>;
  now?: () => number;
}) {
  const { db, dialect, access, bulkInsert } = deps;
  const now = deps.now ?? Date.now;

  async function experimentRow(experimentId: string, q: Db = db) {
    const id = Number(experimentId);
    if (!/^\d{1,18}$/.test(experimentId) || !Number.isSafeInteger(id)) throw notFound(`No Experiment with id=${experimentId} exists`);
    const row = await q.selectFrom('experiments').selectAll().where('experiment_id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
    return row;
  }

  async function experimentTags(ids: number[]) {
    const map = new Map<number, { key: string; value: string }[]>();
    for (const part of chunks(ids, IN_CHUNK)) {
      const rows = await db.selectFrom('experiment_tags').selectAll().where('experiment_id', 'in', part).execute();
      for (const r of rows) {
        const list = map.get(r.experiment_id) ?? [];
        if (list.length === 0) map.set(r.experiment_id, list);
        list.push({ key: r.key, value: r.value });
      }
    }
    return map;
  }

  function experimentJson(row: Selectable<TrackingTables['experiments']>, tags: { key: string; value: string }[]) {
    return {
      experiment_id: String(row.experiment_id),
      name: row.name,
      artifact_location: row.artifact_location,
      lifecycle_stage: row.lifecycle_stage,
      last_update_time: row.last_update_time,
      creation_time: row.creation_time,
      tags,
    };
  }

  async function runRow(runId: string | undefined, q: Db = db) {
    if (!runId) throw invalidParameter("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.");
    const row = await q.selectFrom('runs').selectAll().where('run_uuid', '=', runId).executeTakeFirst();
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return row;
  }

  /** The id of a run's metric series, or undefined when the key was never logged. */
  async function seriesIdOf(runId: string, key: string): Promise<number | undefined> {
    const row = await db.selectFrom('latest_metrics').select('series_id').where('run_uuid', '=', runId).where('key', '=', key).executeTakeFirst();
    return row?.series_id;
  }

  function requireActiveRun(row: { run_uuid: string; lifecycle_stage: string }) {
    if (row.lifecycle_stage !== 'active') {
      throw invalidParameter(`The run ${row.run_uuid} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    }
  }

  function requireActiveExperiment(row: { experiment_id: number; lifecycle_stage: string }) {
    if (row.lifecycle_stage !== 'active') {
      throw invalidParameter(`The experiment ${row.experiment_id} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    }
  }

  /** Loads a run the caller may act on at `need`. */
  async function authorizedRun(principal: Principal, runId: string | undefined, need: 'CAN_READ' | 'CAN_EDIT' | 'CAN_MANAGE') {
    const row = await runRow(runId);
    await requireExperimentLevel(access, principal, String(row.experiment_id), need);
    return row;
  }

  async function hydrateRuns(rows: TrackingTables['runs'][]) {
    const ids = rows.map((r) => r.run_uuid);
    const tags = new Map<string, { key: string; value: string }[]>();
    const params = new Map<string, { key: string; value: string }[]>();
    const metrics = new Map<string, Record<string, unknown>[]>();
    const inputs = new Map<string, Record<string, unknown>[]>();
    const modelInputs = new Map<string, { model_id: string }[]>();
    const modelOutputs = new Map<string, { model_id: string; step: number }[]>();
    const push = <V>(m: Map<string, V[]>, k: string, v: V) => {
      const l = m.get(k);
      if (l) l.push(v);
      else m.set(k, [v]);
    };
    for (const part of chunks(ids, IN_CHUNK)) {
      if (part.length === 0) continue;
      const [tagRows, paramRows, metricRows, inputRows, ioRows] = await Promise.all([
        db.selectFrom('tags').selectAll().where('run_uuid', 'in', part).execute(),
        db.selectFrom('params').selectAll().where('run_uuid', 'in', part).execute(),
        db.selectFrom('latest_metrics').selectAll().where('run_uuid', 'in', part).execute(),
        db
          .selectFrom('run_inputs as i')
          .innerJoin('datasets as d', 'd.dataset_uuid', 'i.dataset_uuid')
          .select(['i.run_uuid', 'i.input_uuid', 'd.name', 'd.digest', 'd.source_type', 'd.source', 'd.schema', 'd.profile'])
          .where('i.run_uuid', 'in', part)
          .execute(),
        db.selectFrom('run_model_io').selectAll().where('run_uuid', 'in', part).execute(),
      ]);
      for (const r of tagRows) push(tags, r.run_uuid, { key: r.key, value: r.value });
      for (const r of paramRows) push(params, r.run_uuid, { key: r.key, value: r.value });
      for (const r of metricRows) {
        push(metrics, r.run_uuid, { key: r.key, value: wireMetricValue(r.value, r.is_nan), timestamp: r.timestamp, step: r.step });
      }
      const inputIds = inputRows.map((r) => r.input_uuid);
      const inputTags = new Map<string, { key: string; value: string }[]>();
      for (const ip of chunks(inputIds, IN_CHUNK)) {
        for (const t of await db.selectFrom('input_tags').selectAll().where('input_uuid', 'in', ip).execute()) {
          push(inputTags, t.input_uuid, { key: t.key, value: t.value });
        }
      }
      for (const r of inputRows) {
        const dataset: Record<string, unknown> = { name: r.name, digest: r.digest, source_type: r.source_type, source: r.source };
        if (r.schema !== null) dataset.schema = r.schema;
        if (r.profile !== null) dataset.profile = r.profile;
        push(inputs, r.run_uuid, { tags: inputTags.get(r.input_uuid) ?? [], dataset });
      }
      for (const r of ioRows) {
        if (r.direction === 'input') push(modelInputs, r.run_uuid, { model_id: r.model_id });
        else push(modelOutputs, r.run_uuid, { model_id: r.model_id, step: r.step });
      }
    }
    return rows.map((r) => {
      const info: Record<string, unknown> = {
        run_id: r.run_uuid,
        run_uuid: r.run_uuid,
        run_name: r.name,
        experiment_id: String(r.experiment_id),
        user_id: r.user_id,
        status: r.status,
        start_time: r.start_time,
        artifact_uri: r.artifact_uri,
        lifecycle_stage: r.lifecycle_stage,
      };
      if (r.end_time !== null) info.end_time = r.end_time;
      return {
        info,
        data: { metrics: metrics.get(r.run_uuid) ?? [], params: params.get(r.run_uuid) ?? [], tags: tags.get(r.run_uuid) ?? [] },
        inputs: { dataset_inputs: inputs.get(r.run_uuid) ?? [], model_inputs: modelInputs.get(r.run_uuid) ?? [] },
        outputs: { model_outputs: modelOutputs.get(r.run_uuid) ?? [] },
      };
    });
  }

  async function writeTags(q: Db, run: TrackingTables['runs'], tags: KV[]) {
    // Within one request the last value of a repeated key wins.
    const last = new Map<string, string>();
    for (const t of tags) last.set(t.key, truncate(t.value ?? '', LIMITS.runTagValue));
    if (last.size === 0) return;
    await q
      .insertInto('tags')
      .values([...last].map(([key, value]) => ({ run_uuid: run.run_uuid, key, value })))
      .onConflict((oc) => oc.columns(['run_uuid', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute();
    const name = last.get(RUN_NAME_TAG);
    if (name !== undefined && name !== run.name) {
      await q.updateTable('runs').set({ name }).where('run_uuid', '=', run.run_uuid).execute();
    }
  }

  async function writeParams(q: Db, runId: string, params: KV[]) {
    if (params.length === 0) return;
    const rows = params.map((p) => ({ run_uuid: runId, key: p.key, value: truncate(p.value ?? '', LIMITS.paramValue) }));
    await q
      .insertInto('params')
      .values(rows)
      .onConflict((oc) => oc.columns(['run_uuid', 'key']).doNothing())
      .execute();
    const stored = await q
      .selectFrom('params')
      .select(['key', 'value'])
      .where('run_uuid', '=', runId)
      .where(
        'key',
        'in',
        rows.map((r) => r.key),
      )
      .execute();
    const existing = new Map(stored.map((r) => [r.key, r.value]));
    const conflicts = rows.filter((r) => existing.get(r.key) !== r.value);
    if (conflicts.length === 1 && params.length === 1) {
      const c = conflicts[0] as (typeof rows)[number];
      throw invalidParameter(
        `Changing param values is not allowed. Param with key='${c.key}' was already logged with value='${existing.get(c.key)}' for run ID='${runId}'. Attempted logging new value '${c.value}'.`,
      );
    }
    if (conflicts.length > 0) {
      const logged = conflicts.map((c) => `Param(key='${c.key}', value='${existing.get(c.key)}')`).join(', ');
      throw invalidParameter(`Changing param values is not allowed. Params were already logged='[${logged}]' for run ID='${runId}'.`);
    }
  }

  async function writeMetrics(q: Db, run: TrackingTables['runs'], metrics: MetricPoint[]) {
    if (metrics.length === 0) return;
    const rows = metrics.map((m) => ({
      run_uuid: run.run_uuid,
      experiment_id: run.experiment_id,
      key: m.key,
      timestamp: m.timestamp,
      step: m.step ?? 0,
      ...storedMetricValue(m.value),
    }));
    // Latest value per key = max (step, timestamp, value); sorted keys keep concurrent upserts deadlock-free on PostgreSQL.
    const latest = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      const cur = latest.get(r.key);
      if (!cur || r.step > cur.step || (r.step === cur.step && (r.timestamp > cur.timestamp || (r.timestamp === cur.timestamp && r.value > cur.value)))) {
        latest.set(r.key, r);
      }
    }
    const latestRows = [...latest.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const part of chunks(latestRows, 2000)) {
      await q
        .insertInto('latest_metrics')
        .values(part)
        .onConflict((oc) =>
          oc
            .columns(['run_uuid', 'key'])
            .doUpdateSet({
              value: (eb) => eb.ref('excluded.value'),
              is_nan: (eb) => eb.ref('excluded.is_nan'),
              step: (eb) => eb.ref('excluded.step'),
              timestamp: (eb) => eb.ref('excluded.timestamp'),
            })
            .where(sql<boolean>`(excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`),
        )
        .execute();
    }
    // The upsert created any new series; their ids key the history rows.
    const series = await q
      .selectFrom('latest_metrics')
      .select(['series_id', 'key', 'stepped_through'])
      .where('run_uuid', '=', run.run_uuid)
      .where(
        'key',
        'in',
        latestRows.map((r) => r.key),
      )
      .execute();
    const seriesOf = new Map(series.map((r) => [r.key, r.series_id]));
    // A point at or before the timestamp a series' step table was built through would be missed by its catch-up (which
    // reads only later points): such a write makes the next chart rebuild that series' steps. Appends cost nothing.
    const throughOf = new Map(series.map((r) => [r.key, r.stepped_through]));
    const stale = new Set<number>();
    for (const r of rows) {
      const through = throughOf.get(r.key);
      if (through !== null && through !== undefined && r.timestamp <= Number(through)) stale.add(seriesOf.get(r.key) as number);
    }
    if (stale.size > 0)
      await q
        .updateTable('latest_metrics')
        .set({ stepped_through: null })
        .where('series_id', 'in', [...stale])
        .execute();
    // Exact duplicates are dropped by the primary key, as in MLflow.
    await bulkInsert(
      q,
      'metrics',
      METRIC_COLUMNS,
      rows.map((r) => [seriesOf.get(r.key), r.timestamp, r.step, r.value, r.is_nan]),
    );
    const modelRows = metrics
      .filter((m) => m.model_id)
      .map((m) => ({
        model_id: m.model_id as string,
        key: m.key,
        timestamp: m.timestamp,
        step: m.step ?? 0,
        ...storedMetricValue(m.value),
        run_id: run.run_uuid,
        dataset_name: m.dataset_name ?? '',
        dataset_digest: m.dataset_digest ?? '',
      }));
    for (const part of chunks(modelRows, 1000)) {
      await q
        .insertInto('logged_model_metrics')
        .values(part)
        .onConflict((oc) =>
          oc
            .columns(['model_id', 'key', 'step', 'timestamp', 'run_id', 'dataset_name', 'dataset_digest'])
            .doUpdateSet({ value: (eb) => eb.ref('excluded.value'), is_nan: (eb) => eb.ref('excluded.is_nan') }),
        )
        .execute();
    }
  }

  function validateMetric(m: MetricPoint, prefix: string) {
    validateKey(m.key, `${prefix}key`);
    if (m.timestamp < 0) throw invalidValue(`${prefix}timestamp`, m.timestamp, 'Timestamp must be non-negative');
  }

  const artifactRoot = (experimentId: number) => `${ARTIFACT_SCHEME}/${experimentId}`;

  function validateArtifactLocation(loc: string) {
    if (loc.startsWith('runs:')) throw invalidParameter(`Artifact location cannot be a runs:/ URI. Given: '${loc}'`);
    if (/[?#]/.test(loc)) throw invalidParameter(`'artifact_location' URL can't include fragments or params.`);
    if (loc.length > 2048) throw invalidParameter("'artifact_location' exceeds the maximum length of 2048 characters");
    if (loc.includes('\0')) throw invalidParameter('Invalid path');
  }

  function resolveArtifactLocation(loc: string): string {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(loc)) return loc;
    return path.resolve(loc);
  }

  return {
    /** Creates the Default experiment (id 0) on a fresh store. */
    async bootstrap() {
      const exists = await db.selectFrom('experiments').select('experiment_id').where('experiment_id', '=', 0).executeTakeFirst();
      if (exists) return;
      const t = now();
      await db
        .insertInto('experiments')
        .values({
          experiment_id: 0,
          name: 'Default',
          artifact_location: artifactRoot(0),
          lifecycle_stage: 'active',
          creation_time: t,
          last_update_time: t,
          owner_id: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    },

    async createExperiment(principal: Principal, input: { name: string; artifact_location?: string | undefined; tags?: KV[] | undefined }) {
      if (input.name.length > LIMITS.experimentName) {
        throw invalidParameter(`'name' exceeds the maximum length of ${LIMITS.experimentName} characters`);
      }
      if (input.artifact_location) validateArtifactLocation(input.artifact_location);
      for (const t of input.tags ?? []) {
        validateKey(t.key, 'key');
        if ((t.value ?? '').length > LIMITS.experimentTagValue)
          throw invalidParameter(`'value' exceeds the maximum length of ${LIMITS.experimentTagValue} characters`);
      }
      const t = now();
      const id = await db
        .transaction()
        .execute(async (trx) => {
          const dup = await trx.selectFrom('experiments').select('experiment_id').where('name', '=', input.name).executeTakeFirst();
          if (dup) throw new AppError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${input.name}) already exists.`);
          const row = await trx
            .insertInto('experiments')
            .values({ name: input.name, artifact_location: '', lifecycle_stage: 'active', creation_time: t, last_update_time: t, owner_id: principal.id })
            .returning('experiment_id')
            .executeTakeFirstOrThrow();
          const loc = input.artifact_location ? resolveArtifactLocation(input.artifact_location) : artifactRoot(row.experiment_id);
          await trx.updateTable('experiments').set({ artifact_location: loc }).where('experiment_id', '=', row.experiment_id).execute();
          const tags = new Map((input.tags ?? []).map((tg) => [tg.key, tg.value ?? '']));
          if (tags.size > 0) {
            await trx
              .insertInto('experiment_tags')
              .values([...tags].map(([key, value]) => ({ experiment_id: row.experiment_id, key, value })))
              .execute();
          }
          return row.experiment_id;
        })
        .catch((err: unknown) => {
          // A concurrent create of the same name loses on the unique index.
          if (err instanceof AppError) throw err;
          if (/unique|duplicate/i.test(String((err as Error)?.message)))
            throw new AppError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${input.name}) already exists.`);
          throw err;
        });
      if (!principal.isAdmin) await access.setObjectAcl(EXPERIMENT_OBJECT, String(id), [{ principalId: principal.id, level: 'CAN_MANAGE' }], false);
      return { experiment_id: String(id) };
    },

    async getExperiment(principal: Principal, experimentId: string) {
      const row = await experimentRow(experimentId);
      await requireExperimentLevel(access, principal, experimentId, 'CAN_READ');
      return { experiment: experimentJson(row, (await experimentTags([row.experiment_id])).get(row.experiment_id) ?? []) };
    },

    async getExperimentByName(principal: Principal, name: string) {
      const row = await db.selectFrom('experiments').selectAll().where('name', '=', name).executeTakeFirst();
      if (!row) throw notFound(`Could not find experiment with name '${name}'`);
      await requireExperimentLevel(access, principal, String(row.experiment_id), 'CAN_READ');
      return { experiment: experimentJson(row, (await experimentTags([row.experiment_id])).get(row.experiment_id) ?? []) };
    },

    async searchExperiments(
      principal: Principal,
      input: {
        max_results?: number | undefined;
        page_token?: string | undefined;
        filter?: string | undefined;
        order_by?: string[] | undefined;
        view_type?: ViewType | undefined;
      },
    ) {
      const maxResults = validateMaxResults(input.max_results, LIMITS.searchMax, 1000);
      const offset = decodePageToken(input.page_token);
      const readable = await readableExperiments(access, principal);
      const rows = await searchExperimentRows(db, dialect, {
        stages: lifecycleStages(input.view_type),
        filter: input.filter,
        orderBy: input.order_by,
        readable: readable ? [...readable].map(Number).filter(Number.isSafeInteger) : null,
        offset,
        limit: maxResults + 1,
      });
      const page = rows.slice(0, maxResults);
      const tags = await experimentTags(page.map((r) => r.experiment_id));
      const out: Record<string, unknown> = { experiments: page.map((r) => experimentJson(r, tags.get(r.experiment_id) ?? [])) };
      if (rows.length > maxResults) out.next_page_token = encodePageToken(offset + maxResults);
      return out;
    },

    async renameExperiment(principal: Principal, experimentId: string, newName: string) {
      const row = await experimentRow(experimentId);
      await requireExperimentLevel(access, principal, experimentId, 'CAN_MANAGE');
      if (row.lifecycle_stage !== 'active') throw new AppError('INVALID_STATE', 'Cannot rename a non-active experiment.');
      if (newName.length > LIMITS.experimentName) throw invalidParameter(`'new_name' exceeds the maximum length of ${LIMITS.experimentName} characters`);
      const dup = await db.selectFrom('experiments').select('experiment_id').where('name', '=', newName).executeTakeFirst();
      if (dup && dup.experiment_id !== row.experiment_id) throw new AppError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${newName}) already exists.`);
      await db.updateTable('experiments').set({ name: newName, last_update_time: now() }).where('experiment_id', '=', row.experiment_id).execute();
      return {};
    },

    async deleteExperiment(principal: Principal, experimentId: string) {
      const row = await experimentRow(experimentId);
      await requireExperimentLevel(access, principal, experimentId, 'CAN_MANAGE');
      if (row.lifecycle_stage !== 'active') throw notFound(`No Experiment with id=${experimentId} exists`);
      const t = now();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('experiments').set({ lifecycle_stage: 'deleted', last_update_time: t }).where('experiment_id', '=', row.experiment_id).execute();
        await trx
          .updateTable('runs')
          .set({ lifecycle_stage: 'deleted', deleted_time: t })
          .where('experiment_id', '=', row.experiment_id)
          .where('lifecycle_stage', '=', 'active')
          .execute();
      });
      return {};
    },

    async restoreExperiment(principal: Principal, experimentId: string) {
      const row = await experimentRow(experimentId);
      await requireExperimentLevel(access, principal, experimentId, 'CAN_MANAGE');
      if (row.lifecycle_stage !== 'deleted') throw notFound(`No Experiment with id=${experimentId} exists`);
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('experiments')
          .set({ lifecycle_stage: 'active', last_update_time: now() })
          .where('experiment_id', '=', row.experiment_id)
          .execute();
        await trx
          .updateTable('runs')
          .set({ lifecycle_stage: 'active', deleted_time: null })
          .where('experiment_id', '=', row.experiment_id)
          .where('lifecycle_stage', '=', 'deleted')
          .execute();
      });
      return {};
    },

    async setExperimentTag(principal: Principal, experimentId: string, key: string, value: string | undefined) {
      const row = await experimentRow(experimentId);
      await requireExperimentLevel(access, principal, experimentId, 'CAN_EDIT');
      requireActiveExperiment(row);
      validateKey(key);
      const v = value ?? '';
      if (v.length > LIMITS.experimentTagValue) throw invalidParameter(`'value' exceeds the maximum length of ${LIMITS.experimentTagValue} characters`);
      await db
        .insertInto('experiment_tags')
        .values({ experiment_id: row.experiment_id, key, value: v })
        .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value: v }))
        .execute();
      return {};
    },

    async deleteExperimentTag(principal: Principal, experimentId: string, key: string) {
      const row = await experimentRow(experimentId);
      await requireExperimentLevel(access, principal, experimentId, 'CAN_EDIT');
      requireActiveExperiment(row);
      const res = await db.deleteFrom('experiment_tags').where('experiment_id', '=', row.experiment_id).where('key', '=', key).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
      return {};
    },

    /** True when the experiment exists (for the permissions API). */
    async experimentExists(experimentId: string) {
      try {
        await experimentRow(experimentId);
        return true;
      } catch {
        return false;
      }
    },

    async createRun(
      principal: Principal,
      input: {
        experiment_id?: string | undefined;
        user_id?: string | undefined;
        run_name?: string | undefined;
        start_time?: number | undefined;
        tags?: KV[] | undefined;
      },
    ) {
      const experimentId = input.experiment_id || '0';
      const exp = await experimentRow(experimentId);
      await requireExperimentLevel(access, principal, experimentId, 'CAN_EDIT');
      requireActiveExperiment(exp);
      const tags = (input.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' }));
      for (const t of tags) validateKey(t.key);
      const tagName = [...tags].reverse().find((t) => t.key === RUN_NAME_TAG)?.value;
      if (input.run_name && tagName !== undefined && tagName !== input.run_name) {
        throw invalidParameter(
          `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.run_name}', mlflow.runName='${tagName}').`,
        );
      }
      const name = input.run_name || tagName || generateRunName();
      if (tagName === undefined || tagName !== name) tags.push({ key: RUN_NAME_TAG, value: name });
      const runId = randomUUID().replace(/-/g, '');
      const row: TrackingTables['runs'] = {
        run_uuid: runId,
        experiment_id: exp.experiment_id,
        name,
        user_id: input.user_id ?? principal.userName,
        status: 'RUNNING',
        start_time: input.start_time ?? now(),
        end_time: null,
        deleted_time: null,
        lifecycle_stage: 'active',
        artifact_uri: `${exp.artifact_location.replace(/\/+$/, '')}/${runId}/artifacts`,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('runs').values(row).execute();
        await writeTags(trx, row, tags);
      });
      const [run] = await hydrateRuns([row]);
      return { run };
    },

    async getRun(principal: Principal, runId: string | undefined) {
      const row = await authorizedRun(principal, runId, 'CAN_READ');
      const [run] = await hydrateRuns([row]);
      return { run };
    },

    async updateRun(
      principal: Principal,
      input: {
        run_id?: string | undefined;
        run_uuid?: string | undefined;
        status?: string | undefined;
        end_time?: number | undefined;
        run_name?: string | undefined;
      },
    ) {
      const row = await authorizedRun(principal, input.run_id || input.run_uuid, 'CAN_EDIT');
      requireActiveRun(row);
      const patch: Partial<TrackingTables['runs']> = {};
      if (input.status) patch.status = input.status;
      if (input.end_time !== undefined) patch.end_time = input.end_time;
      if (input.run_name) patch.name = input.run_name;
      await db.transaction().execute(async (trx) => {
        if (Object.keys(patch).length > 0) await trx.updateTable('runs').set(patch).where('run_uuid', '=', row.run_uuid).execute();
        if (input.run_name) await writeTags(trx, { ...row, name: input.run_name }, [{ key: RUN_NAME_TAG, value: input.run_name }]);
      });
      const [run] = await hydrateRuns([{ ...row, ...patch }]);
      return { run_info: run?.info };
    },

    async deleteRun(principal: Principal, runId: string | undefined) {
      const row = await authorizedRun(principal, runId, 'CAN_EDIT');
      await db.updateTable('runs').set({ lifecycle_stage: 'deleted', deleted_time: now() }).where('run_uuid', '=', row.run_uuid).execute();
      return {};
    },

    async restoreRun(principal: Principal, runId: string | undefined) {
      const row = await authorizedRun(principal, runId, 'CAN_EDIT');
      await db.updateTable('runs').set({ lifecycle_stage: 'active', deleted_time: null }).where('run_uuid', '=', row.run_uuid).execute();
      return {};
    },

    async searchRuns(
      principal: Principal,
      input: {
        experiment_ids?: string[] | undefined;
        filter?: string | undefined;
        run_view_type?: ViewType | undefined;
        max_results?: number | undefined;
        order_by?: string[] | undefined;
        page_token?: string | undefined;
      },
    ) {
      const maxResults = validateMaxResults(input.max_results, LIMITS.searchMax, 1000);
      const offset = decodePageToken(input.page_token);
      const readable = await readableExperiments(access, principal);
      const experimentIds = (input.experiment_ids ?? []).filter((id) => /^\d{1,18}$/.test(id) && (!readable || readable.has(id))).map(Number);
      if (experimentIds.length === 0) {
        // Still validate the filter so a bad one is reported whatever the experiments.
        await searchRunRows(db, dialect, { experimentIds: [-1], stages: ['active'], filter: input.filter, orderBy: input.order_by, offset: 0, limit: 1 });
        return { runs: [] };
      }
      const rows = await searchRunRows(db, dialect, {
        experimentIds,
        stages: lifecycleStages(input.run_view_type),
        filter: input.filter,
        orderBy: input.order_by,
        offset,
        limit: maxResults,
      });
      const out: Record<string, unknown> = { runs: await hydrateRuns(rows) };
      if (rows.length === maxResults) out.next_page_token = encodePageToken(offset + maxResults);
      return out;
    },

    async logMetric(principal: Principal, runId: string | undefined, metric: MetricPoint) {
      const row = await authorizedRun(principal, runId, 'CAN_EDIT');
      requireActiveRun(row);
      validateMetric(metric, '');
      await db.transaction().execute((trx) => writeMetrics(trx, row, [metric]));
      return {};
    },

    async logParam(principal: Principal, runId: string | undefined, key: string, value: string | undefined) {
      const row = await authorizedRun(principal, runId, 'CAN_EDIT');
      requireActiveRun(row);
      validateKey(key);
      await db.transaction().execute((trx) => writeParams(trx, row.run_uuid, [{ key, value }]));
      return {};
    },

    async setTag(principal: Principal, runId: string | undefined, key: string, value: string | undefined) {
      const row = await authorizedRun(principal, runId, 'CAN_EDIT');
      requireActiveRun(row);
      validateKey(key);
      await db.transaction().execute((trx) => writeTags(trx, row, [{ key, value }]));
      return {};
    },

    async deleteTag(principal: Principal, runId: string, key: string) {
      const row = await authorizedRun(principal, runId, 'CAN_EDIT');
      requireActiveRun(row);
      const res = await db.deleteFrom('tags').where('run_uuid', '=', row.run_uuid).where('key', '=', key).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`No tag with name: ${key} in run with id ${row.run_uuid}`);
      return {};
    },

    async logBatch(principal: Principal, input: { run_id: string; metrics?: MetricPoint[] | undefined; params?: KV[] | undefined; tags?: KV[] | undefined }) {
      const metrics = input.metrics ?? [];
      const params = input.params ?? [];
      const tags = input.tags ?? [];
      validateRunId(input.run_id);
      if (metrics.length > LIMITS.batchMetrics) {
        throw invalidParameter(
          `A batch logging request can contain at most ${LIMITS.batchMetrics} metrics. Got ${metrics.length} metrics. Please split up metrics across multiple requests and try again.`,
        );
      }
      if (params.length > LIMITS.batchParams) {
        throw invalidParameter(
          `A batch logging request can contain at most ${LIMITS.batchParams} params. Got ${params.length} params. Please split up params across multiple requests and try again.`,
        );
      }
      if (tags.length > LIMITS.batchTags) {
        throw invalidParameter(
          `A batch logging request can contain at most ${LIMITS.batchTags} tags. Got ${tags.length} tags. Please split up tags across multiple requests and try again.`,
        );
      }
      const total = metrics.length + params.length + tags.length;
      if (total > LIMITS.batchTotal) {
        throw invalidParameter(
          `A batch logging request can contain at most ${LIMITS.batchTotal} total entities (metrics, params, tags). Got ${total} entities. Please split up across multiple requests and try again.`,
        );
      }
      metrics.forEach((m, i) => {
        validateMetric(m, `metrics[${i}].`);
      });
      params.forEach((p, i) => {
        validateKey(p.key, `params[${i}].key`);
      });
      tags.forEach((t, i) => {
        validateKey(t.key, `tags[${i}].key`);
      });
      const seen = new Set<string>();
      const dups = new Set<string>();
      for (const p of params) (seen.has(p.key) ? dups : seen).add(p.key);
      if (dups.size > 0) {
        throw invalidParameter(
          `Duplicate parameter keys have been submitted: [${[...dups].map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
        );
      }
      const row = await authorizedRun(principal, input.run_id, 'CAN_EDIT');
      requireActiveRun(row);
      await db.transaction().execute(async (trx) => {
        await writeParams(trx, row.run_uuid, params);
        await writeMetrics(trx, row, metrics);
        await writeTags(trx, row, tags);
      });
      return {};
    },

    async logInputs(
      principal: Principal,
      input: {
        run_id: string;
        datasets?:
          | {
              tags?: KV[] | undefined;
              dataset: { name: string; digest: string; source_type: string; source: string; schema?: string | undefined; profile?: string | undefined };
            }[]
          | undefined;
        models?: { model_id: string }[] | undefined;
      },
    ) {
      const datasets = input.datasets ?? [];
      if (datasets.length > 1000) throw invalidParameter(`A batch logging request can contain at most 1000 datasets. Got ${datasets.length}.`);
      datasets.forEach(({ dataset: d, tags }, i) => {
        const check = (field: string, v: string | undefined, limit: number) => {
          if (v !== undefined && v.length > limit)
            throw invalidParameter(`'datasets[${i}].dataset.${field}' exceeds the maximum length of ${limit} characters`);
        };
        check('name', d.name, LIMITS.datasetName);
        check('digest', d.digest, LIMITS.datasetDigest);
        check('source', d.source, LIMITS.datasetSource);
        check('schema', d.schema, LIMITS.datasetSchema);
        check('profile', d.profile, LIMITS.datasetProfile);
        for (const t of tags ?? []) {
          if (t.key.length > LIMITS.inputTagKey)
            throw invalidParameter(`'datasets[${i}].tags.key' exceeds the maximum length of ${LIMITS.inputTagKey} characters`);
          if ((t.value ?? '').length > LIMITS.inputTagValue)
            throw invalidParameter(`'datasets[${i}].tags.value' exceeds the maximum length of ${LIMITS.inputTagValue} characters`);
        }
      });
      const row = await authorizedRun(principal, input.run_id, 'CAN_EDIT');
      requireActiveRun(row);
      await db.transaction().execute(async (trx) => {
        for (const { dataset: d, tags } of datasets) {
          await trx
            .insertInto('datasets')
            .values({
              dataset_uuid: randomUUID().replace(/-/g, ''),
              experiment_id: row.experiment_id,
              name: d.name,
              digest: d.digest,
              source_type: d.source_type,
              source: d.source,
              schema: d.schema ?? null,
              profile: d.profile ?? null,
            })
            .onConflict((oc) => oc.columns(['experiment_id', 'name', 'digest']).doNothing())
            .execute();
          const ds = await trx
            .selectFrom('datasets')
            .select('dataset_uuid')
            .where('experiment_id', '=', row.experiment_id)
            .where('name', '=', d.name)
            .where('digest', '=', d.digest)
            .executeTakeFirstOrThrow();
          const existing = await trx
            .selectFrom('run_inputs')
            .select('input_uuid')
            .where('run_uuid', '=', row.run_uuid)
            .where('dataset_uuid', '=', ds.dataset_uuid)
            .executeTakeFirst();
          if (existing) continue;
          const inputId = randomUUID().replace(/-/g, '');
          await trx.insertInto('run_inputs').values({ input_uuid: inputId, run_uuid: row.run_uuid, dataset_uuid: ds.dataset_uuid }).execute();
          const tagMap = new Map((tags ?? []).map((t) => [t.key, t.value ?? '']));
          if (tagMap.size > 0) {
            await trx
              .insertInto('input_tags')
              .values([...tagMap].map(([key, value]) => ({ input_uuid: inputId, key, value })))
              .execute();
          }
        }
        for (const m of input.models ?? []) {
          await trx
            .insertInto('run_model_io')
            .values({ run_uuid: row.run_uuid, model_id: m.model_id, direction: 'input', step: 0 })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
      });
      if (datasets.length > 0) {
        await deps.events?.publish('tracking.run.inputs_logged', {
          runId: row.run_uuid,
          experimentId: String(row.experiment_id),
          userName: principal.userName,
          datasets: datasets.map(({ dataset: d }) => ({ name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source })),
        });
      }
      return {};
    },

    async logOutputs(principal: Principal, input: { run_id: string; models: { model_id: string; step?: number | undefined }[] }) {
      const row = await authorizedRun(principal, input.run_id, 'CAN_EDIT');
      requireActiveRun(row);
      await db.transaction().execute(async (trx) => {
        for (const m of input.models) {
          await trx
            .insertInto('run_model_io')
            .values({ run_uuid: row.run_uuid, model_id: m.model_id, direction: 'output', step: m.step ?? 0 })
            .onConflict((oc) => oc.columns(['run_uuid', 'direction', 'model_id']).doUpdateSet({ step: m.step ?? 0 }))
            .execute();
        }
      });
      return {};
    },

    async logModelJson(principal: Principal, runId: string, modelJson: string) {
      const row = await authorizedRun(principal, runId, 'CAN_EDIT');
      requireActiveRun(row);
      let model: Record<string, unknown>;
      try {
        model = JSON.parse(modelJson) as Record<string, unknown>;
      } catch {
        throw invalidParameter(`Malformed model info. \n ${modelJson.slice(0, 200)} \n is not a valid JSON.`);
      }
      if (model === null || typeof model !== 'object' || Array.isArray(model))
        throw invalidParameter('Malformed model info: model_json must be a JSON object.');
      const missing = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'].filter((k) => !(k in model));
      if (missing.length > 0) throw invalidParameter(`Model json is missing mandatory fields: [${missing.map((k) => `'${k}'`).join(', ')}]`);
      await db.transaction().execute(async (trx) => {
        const cur = await trx
          .selectFrom('tags')
          .select('value')
          .where('run_uuid', '=', row.run_uuid)
          .where('key', '=', LOG_MODEL_HISTORY_TAG)
          .executeTakeFirst();
        let history: unknown[] = [];
        try {
          history = cur ? (JSON.parse(cur.value) as unknown[]) : [];
        } catch {
          history = [];
        }
        history.push(model);
        await trx
          .insertInto('tags')
          .values({ run_uuid: row.run_uuid, key: LOG_MODEL_HISTORY_TAG, value: JSON.stringify(history) })
          .onConflict((oc) => oc.columns(['run_uuid', 'key']).doUpdateSet({ value: JSON.stringify(history) }))
          .execute();
      });
      return {};
    },

    /** Metric history, paged when max_results is given; otherwise yields every point in keyset chunks. */
    async metricHistoryAccess(principal: Principal, runId: string | undefined) {
      return authorizedRun(principal, runId, 'CAN_READ');
    },

    async metricHistoryPage(runId: string, key: string, maxResults: number, pageToken: string | undefined) {
      const offset = decodePageToken(pageToken);
      // Tokens carry MLflow's {"offset": N} plus the last row seen, so deep pages are a keyset seek, not a scan of N rows.
      const after = decodeHistoryCursor(pageToken);
      const sid = await seriesIdOf(runId, key);
      if (sid === undefined) return { metrics: [] };
      let q = db.selectFrom('metrics').select(['timestamp', 'step', 'value', 'is_nan']).where('series_id', '=', sid);
      if (after) q = q.where(sql<boolean>`(timestamp, step, value, is_nan) > (${after[0]}, ${after[1]}, ${after[2]}, ${after[3]})`);
      let ordered = q
        .orderBy('timestamp')
        .orderBy('step')
        .orderBy('value')
        .orderBy('is_nan')
        .limit(maxResults + 1);
      if (!after && offset > 0) ordered = ordered.offset(offset);
      const rows = await ordered.execute();
      const pageRows = rows.slice(0, maxResults);
      const page = pageRows.map((r) => ({ key, value: wireMetricValue(r.value, r.is_nan), timestamp: r.timestamp, step: r.step }));
      const out: Record<string, unknown> = { metrics: page };
      const last = pageRows[pageRows.length - 1];
      if (rows.length > maxResults && last) {
        out.next_page_token = Buffer.from(
          JSON.stringify({ offset: offset + maxResults, after: [last.timestamp, last.step, last.value, last.is_nan] }),
        ).toString('base64');
      }
      return out;
    },

    async *metricHistoryStream(runId: string, key: string): AsyncGenerator<{ timestamp: number; step: number; value: number; is_nan: number }[]> {
      const sid = await seriesIdOf(runId, key);
      if (sid === undefined) return;
      let after: { timestamp: number; step: number; value: number; is_nan: number } | null = null;
      for (;;) {
        let q = db.selectFrom('metrics').select(['timestamp', 'step', 'value', 'is_nan']).where('series_id', '=', sid);
        if (after) {
          const a = after;
          q = q.where(sql<boolean>`(timestamp, step, value, is_nan) > (${a.timestamp}, ${a.step}, ${a.value}, ${a.is_nan})`);
        }
        const rows = await q.orderBy('timestamp').orderBy('step').orderBy('value').orderBy('is_nan').limit(HISTORY_CHUNK).execute();
        if (rows.length === 0) return;
        yield rows;
        if (rows.length < HISTORY_CHUNK) return;
        after = rows[rows.length - 1] ?? null;
      }
    },

    async metricHistoryBulkInterval(
      principal: Principal,
      input: {
        run_ids?: string[] | undefined;
        metric_key?: string | undefined;
        start_step?: number | undefined;
        end_step?: number | undefined;
        max_results?: number | undefined;
      },
    ) {
      const runIds = input.run_ids ?? [];
      if (runIds.length === 0) throw invalidParameter('GetMetricHistoryBulkInterval request must specify at least one run_id.');
      if (runIds.length > 100)
        throw invalidParameter(
          'GetMetricHistoryBulkInterval request cannot specify more than 100 run_ids. Received 101 run_ids.'.replace('101', String(runIds.length)),
        );
      if (!input.metric_key) throw invalidParameter('GetMetricHistoryBulkInterval request must specify a metric_key.');
      const maxResults = input.max_results ?? 2500;
      if (maxResults < 1 || maxResults > 2500) throw invalidParameter('max_results must be between 1 and 2500.');
      if ((input.start_step === undefined) !== (input.end_step === undefined)) {
        throw invalidParameter('If either start step or end step are specified, both must be specified.');
      }
      if (input.start_step !== undefined && input.end_step !== undefined && input.start_step > input.end_step) {
        throw invalidParameter(
          'end_step must be greater than start_step. Found start_step=S and end_step=E.'
            .replace('S', String(input.start_step))
            .replace('E', String(input.end_step)),
        );
      }
      const key = input.metric_key;
      const range = input.start_step !== undefined && input.end_step !== undefined ? { from: input.start_step, to: input.end_step } : undefined;
      const out: Record<string, unknown>[] = [];
      for (const runId of runIds) {
        await authorizedRun(principal, runId, 'CAN_READ');
        const sid = await seriesIdOf(runId, key);
        if (sid === undefined) continue;
        for (const r of await sampleSeries(db, sid, maxResults, range)) {
          out.push({ key, value: wireMetricValue(r.value, r.is_nan), timestamp: r.timestamp, step: r.step, run_id: runId });
        }
      }
      return { metrics: out };
    },

    async metricHistoryBulk(principal: Principal, input: { run_id?: string[] | undefined; metric_key?: string | undefined; max_results?: number | undefined }) {
      const runIds = input.run_id ?? [];
      if (runIds.length === 0) throw invalidParameter('GetMetricHistoryBulk request must specify at least one run_id.');
      if (runIds.length > 100) throw invalidParameter(`GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received ${runIds.length} run_ids.`);
      if (!input.metric_key) throw invalidParameter('GetMetricHistoryBulk request must specify a metric_key.');
      const maxResults = Math.min(input.max_results ?? 25_000, 25_000);
      const out: Record<string, unknown>[] = [];
      for (const runId of [...runIds].sort()) {
        await authorizedRun(principal, runId, 'CAN_READ');
        const sid = await seriesIdOf(runId, input.metric_key);
        if (sid === undefined) continue;
        const rows = await db
          .selectFrom('metrics')
          .select(['timestamp', 'step', 'value', 'is_nan'])
          .where('series_id', '=', sid)
          .orderBy('timestamp')
          .orderBy('step')
          .orderBy('value')
          .limit(maxResults - out.length)
          .execute();
        for (const r of rows)
          out.push({ key: input.metric_key, value: wireMetricValue(r.value, r.is_nan), timestamp: r.timestamp, step: r.step, run_id: runId });
        if (out.length >= maxResults) break;
      }
      return { metrics: out };
    },

    async searchDatasets(principal: Principal, experimentIds: string[]) {
      if (experimentIds.length === 0 || experimentIds.length > 20) {
        throw invalidParameter('SearchDatasets request must specify at least one experiment_id and at most 20 experiment_ids.'.replace('20', '20'));
      }
      for (const id of experimentIds) await requireExperimentLevel(access, principal, id, 'CAN_READ');
      const ids = experimentIds.filter((id) => /^\d{1,18}$/.test(id)).map(Number);
      if (ids.length === 0) return { dataset_summaries: [] };
      const rows = await db
        .selectFrom('datasets as d')
        .innerJoin('run_inputs as i', 'i.dataset_uuid', 'd.dataset_uuid')
        .leftJoin('input_tags as t', (j) => j.onRef('t.input_uuid', '=', 'i.input_uuid').on('t.key', '=', 'mlflow.data.context'))
        .select(['d.experiment_id', 'd.name', 'd.digest', 't.value as context'])
        .distinct()
        .where('d.experiment_id', 'in', ids)
        .execute();
      return {
        dataset_summaries: rows.map((r) => {
          const s: Record<string, unknown> = { experiment_id: String(r.experiment_id), name: r.name, digest: r.digest };
          if (r.context) s.context = r.context;
          return s;
        }),
      };
    },

    // ---- Logged models (MLflow 3) ----

    async createLoggedModel(
      principal: Principal,
      input: {
        experiment_id: string;
        name?: string | undefined;
        model_type?: string | undefined;
        source_run_id?: string | undefined;
        params?: KV[] | undefined;
        tags?: KV[] | undefined;
      },
    ) {
      const exp = await experimentRow(input.experiment_id);
      await requireExperimentLevel(access, principal, input.experiment_id, 'CAN_EDIT');
      requireActiveExperiment(exp);
      if (input.source_run_id) {
        const run = await runRow(input.source_run_id);
        if (run.experiment_id !== exp.experiment_id) throw invalidParameter(`Run ${input.source_run_id} does not belong to experiment ${input.experiment_id}.`);
      }
      const modelId = `m-${randomUUID().replace(/-/g, '')}`;
      const t = now();
      const row: TrackingTables['logged_models'] = {
        model_id: modelId,
        experiment_id: exp.experiment_id,
        name: input.name || generateRunName(),
        model_type: input.model_type ?? null,
        source_run_id: input.source_run_id ?? null,
        status: 'LOGGED_MODEL_PENDING',
        status_message: null,
        creation_timestamp: t,
        last_updated_timestamp: t,
        artifact_location: `${exp.artifact_location.replace(/\/+$/, '')}/models/${modelId}/artifacts`,
        lifecycle_stage: 'active',
        creator_id: principal.id,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('logged_models').values(row).execute();
        const params = new Map((input.params ?? []).map((p) => [p.key, p.value ?? '']));
        if (params.size)
          await trx
            .insertInto('logged_model_params')
            .values([...params].map(([key, value]) => ({ model_id: modelId, key, value })))
            .execute();
        const tags = new Map((input.tags ?? []).map((p) => [p.key, p.value ?? '']));
        if (tags.size)
          await trx
            .insertInto('logged_model_tags')
            .values([...tags].map(([key, value]) => ({ model_id: modelId, key, value })))
            .execute();
      });
      return { model: await this.loggedModelJson(row) };
    },

    async loggedModelRow(principal: Principal, modelId: string, need: 'CAN_READ' | 'CAN_EDIT', allowDeleted = false) {
      const row = await db.selectFrom('logged_models').selectAll().where('model_id', '=', modelId).executeTakeFirst();
      if (!row || (row.lifecycle_stage !== 'active' && !allowDeleted)) throw notFound(`Logged model with ID '${modelId}' not found.`);
      await requireExperimentLevel(access, principal, String(row.experiment_id), need);
      return row;
    },

    async loggedModelJson(row: TrackingTables['logged_models']) {
      const [tags, params, metrics] = await Promise.all([
        db.selectFrom('logged_model_tags').select(['key', 'value']).where('model_id', '=', row.model_id).execute(),
        db.selectFrom('logged_model_params').select(['key', 'value']).where('model_id', '=', row.model_id).execute(),
        db.selectFrom('logged_model_metrics').selectAll().where('model_id', '=', row.model_id).execute(),
      ]);
      const info: Record<string, unknown> = {
        model_id: row.model_id,
        experiment_id: String(row.experiment_id),
        name: row.name,
        creation_timestamp_ms: row.creation_timestamp,
        last_updated_timestamp_ms: row.last_updated_timestamp,
        artifact_uri: row.artifact_location,
        status: row.status,
        tags,
      };
      if (row.model_type) info.model_type = row.model_type;
      if (row.source_run_id) info.source_run_id = row.source_run_id;
      if (row.status_message) info.status_message = row.status_message;
      if (row.creator_id !== null) info.creator_id = row.creator_id;
      return {
        info,
        data: {
          params,
          metrics: metrics.map((m) => {
            const o: Record<string, unknown> = {
              key: m.key,
              value: wireMetricValue(m.value, m.is_nan),
              timestamp: m.timestamp,
              step: m.step,
              run_id: m.run_id,
              model_id: m.model_id,
            };
            if (m.dataset_name) o.dataset_name = m.dataset_name;
            if (m.dataset_digest) o.dataset_digest = m.dataset_digest;
            return o;
          }),
        },
      };
    },

    async getLoggedModel(principal: Principal, modelId: string, allowDeleted: boolean) {
      return { model: await this.loggedModelJson(await this.loggedModelRow(principal, modelId, 'CAN_READ', allowDeleted)) };
    },

    async finalizeLoggedModel(principal: Principal, modelId: string, status: string) {
      const row = await this.loggedModelRow(principal, modelId, 'CAN_EDIT');
      if (status === 'LOGGED_MODEL_PENDING')
        throw invalidParameter(`Invalid model status: ${status}. Expected LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`);
      const t = now();
      await db.updateTable('logged_models').set({ status, last_updated_timestamp: t }).where('model_id', '=', modelId).execute();
      return { model: await this.loggedModelJson({ ...row, status, last_updated_timestamp: t }) };
    },

    async deleteLoggedModel(principal: Principal, modelId: string) {
      await this.loggedModelRow(principal, modelId, 'CAN_EDIT');
      await db.updateTable('logged_models').set({ lifecycle_stage: 'deleted', last_updated_timestamp: now() }).where('model_id', '=', modelId).execute();
      return {};
    },

    async setLoggedModelTags(principal: Principal, modelId: string, tags: KV[]) {
      const row = await this.loggedModelRow(principal, modelId, 'CAN_EDIT');
      for (const t of tags) validateKey(t.key);
      const last = new Map(tags.map((t) => [t.key, t.value ?? '']));
      if (last.size) {
        await db
          .insertInto('logged_model_tags')
          .values([...last].map(([key, value]) => ({ model_id: modelId, key, value })))
          .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
          .execute();
      }
      return { model: await this.loggedModelJson(row) };
    },

    async deleteLoggedModelTag(principal: Principal, modelId: string, key: string) {
      await this.loggedModelRow(principal, modelId, 'CAN_EDIT');
      const res = await db.deleteFrom('logged_model_tags').where('model_id', '=', modelId).where('key', '=', key).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`No tag with key '${key}' found for logged model '${modelId}'.`);
      return {};
    },

    async logLoggedModelParams(principal: Principal, modelId: string, params: KV[]) {
      await this.loggedModelRow(principal, modelId, 'CAN_EDIT');
      for (const p of params) validateKey(p.key);
      const last = new Map(params.map((p) => [p.key, p.value ?? '']));
      if (last.size) {
        await db
          .insertInto('logged_model_params')
          .values([...last].map(([key, value]) => ({ model_id: modelId, key, value })))
          .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
          .execute();
      }
      return {};
    },

    async searchLoggedModels(
      principal: Principal,
      input: {
        experiment_ids?: string[] | undefined;
        filter?: string | undefined;
        max_results?: number | undefined;
        order_by?: { field_name: string; ascending?: boolean | undefined }[] | undefined;
        page_token?: string | undefined;
      },
    ) {
      const maxResults = validateMaxResults(input.max_results, 1000, 100);
      const offset = decodePageToken(input.page_token);
      const readable = await readableExperiments(access, principal);
      const ids = (input.experiment_ids ?? []).filter((id) => /^\d{1,18}$/.test(id) && (!readable || readable.has(id))).map(Number);
      if (ids.length === 0) return { models: [] };
      const rows = await searchLoggedModelRows(db, dialect, {
        experimentIds: ids,
        filter: input.filter,
        orderBy: input.order_by ?? [],
        offset,
        limit: maxResults + 1,
      });
      const out: Record<string, unknown> = { models: await Promise.all(rows.slice(0, maxResults).map((r) => this.loggedModelJson(r))) };
      if (rows.length > maxResults) out.next_page_token = encodePageToken(offset + maxResults);
      return out;
    },

    /** The artifact root of a run, for the artifact routes. */
    async runArtifactUri(principal: Principal, runId: string | undefined, need: 'CAN_READ' | 'CAN_EDIT') {
      const row = await authorizedRun(principal, runId, need);
      return row.artifact_uri;
    },

    /** Checks access for an artifact path of the proxy (`<exp>/<run>/artifacts/...` or `<exp>/models/<id>/...`). */
    async authorizeArtifactPath(principal: Principal, relPath: string, need: 'CAN_READ' | 'CAN_EDIT') {
      const first = relPath.split('/')[0] ?? '';
      if (!/^\d{1,18}$/.test(first)) {
        if (!principal.isAdmin) throw new AppError('PERMISSION_DENIED', 'Only admins may access artifacts outside an experiment.');
        return;
      }
      await experimentRow(first);
      await requireExperimentLevel(access, principal, first, need);
    },
  };
}

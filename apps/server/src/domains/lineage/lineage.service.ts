import { randomUUID } from 'node:crypto';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Insertable, Kysely } from 'kysely';
import { AppError, invalidParameter } from '../../platform/errors.ts';
import type { EventBus, SqlTableWritten, WeirEvents } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import type { LineageEdgesTable, LineageTables } from './lineage.tables.ts';
import { type ColumnRef, needsColumnLists, parseSelect, referencedTables, type TracedColumn, traceExpressions, traceQuery } from './lineage.trace.ts';

/** The kinds of entity lineage connects, as they prefix an entity id (`table:main.sales.orders`). */
export const ENTITY_KINDS = ['table', 'path', 'run', 'model_version', 'endpoint'] as const;
/** One of {@link ENTITY_KINDS}. */
export type EntityKind = (typeof ENTITY_KINDS)[number];

/**
 * What lineage asks the rest of Weir about who may see what. Each check answers for the caller; admins never reach it.
 * Satisfied in the composition root from the catalog/governance, tracking, registry and serving services.
 */
export interface LineageAccess {
  /** The subset of the given full table names the caller may see. */
  visibleTables(principal: Principal, fullNames: string[]): Promise<Set<string>>;
  /** The subset of the given volume full names (`c.s.v`) the caller may read. */
  visibleVolumes(principal: Principal, fullNames: string[]): Promise<Set<string>>;
  runVisible(principal: Principal, runId: string): Promise<boolean>;
  /** `fullName` is the registered model's three-level name. */
  modelVisible(principal: Principal, fullName: string): Promise<boolean>;
  endpointVisible(principal: Principal, name: string): Promise<boolean>;
}

/** A catalog table as lineage needs it: its type and column names (empty for a view). */
export interface TableFacts {
  type: string;
  columns: string[];
}

type EdgeRow = Insertable<LineageEdgesTable>;

const SQL_SOURCE_KINDS = new Set(['table', 'path']);
const MAX_DEPTH = 20;
const MAX_NODES = 2000;

/** Splits `kind:name` into its parts; throws INVALID_PARAMETER_VALUE on anything else. */
export function parseEntityId(id: string): { kind: EntityKind; name: string } {
  const at = id.indexOf(':');
  const kind = id.slice(0, Math.max(at, 0)) as EntityKind;
  const name = id.slice(at + 1);
  if (at <= 0 || !ENTITY_KINDS.includes(kind) || name === '')
    throw invalidParameter(`Invalid entity '${id.slice(0, 200)}': expected <type>:<name> with type one of ${ENTITY_KINDS.join(', ')}.`);
  const ok =
    kind === 'table'
      ? name.split('.').length === 3 && name.split('.').every((p) => p !== '')
      : kind === 'model_version'
        ? /^[^/]+\.[^/]+\.[^/]+\/\d{1,9}$/.test(name)
        : kind === 'path'
          ? name.startsWith('/Volumes/')
          : true;
  if (!ok) {
    const hint: Record<string, string> = {
      table: 'table:<catalog>.<schema>.<table>',
      model_version: 'model_version:<catalog>.<schema>.<model>/<version>',
      path: 'path:/Volumes/<catalog>/<schema>/<volume>/...',
    };
    throw invalidParameter(`Invalid entity '${id.slice(0, 200)}': expected ${hint[kind]}.`);
  }
  return { kind, name };
}

function tableSourceType(type: string): string {
  return type === 'VIEW' ? 'VIEW' : type === 'MATERIALIZED_VIEW' ? 'MATERIALIZED_VIEW' : type === 'STREAMING_TABLE' ? 'STREAMING_TABLE' : 'TABLE';
}

/** Databricks prints lineage timestamps as `yyyy-MM-dd HH:mm:ss.S` in UTC. */
function lineageTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The volume (`c.s.v`) a `/Volumes/c/s/v/...` path lies in. */
function volumeOfPath(p: string): string | null {
  const parts = p.split('/');
  return parts.length >= 5 && parts[2] && parts[3] && parts[4] ? `${parts[2]}.${parts[3]}.${parts[4]}` : null;
}

/** The Weir table name an MLflow dataset source points at, if it names one. */
export function datasetTable(sourceType: string, source: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    parsed = undefined;
  }
  let name: unknown;
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    name = o.delta_table_name ?? o.table_name ?? o.table_full_name ?? o.table;
  } else if (['delta', 'delta_table', 'uc_table', 'databricks-uc-table', 'table', 'spark'].includes(sourceType.toLowerCase())) {
    name = typeof parsed === 'string' ? parsed : source;
  }
  if (typeof name !== 'string') return null;
  const parts = name
    .trim()
    .split('.')
    .map((p) => p.replace(/^`(.*)`$/, '$1'));
  if (parts.some((p) => p === '' || /[\s/]/.test(p))) return null;
  if (parts.length === 1) return `main.default.${parts[0]}`;
  if (parts.length === 2) return `main.${parts[0]}.${parts[1]}`;
  return parts.length === 3 ? parts.join('.') : null;
}

/** Lineage: the edges recorded where data and models move, and the readers over them. */
export type LineageService = ReturnType<typeof createLineageService>;

/** Creates the lineage service; call `subscribe(events)` to record what the other domains publish. */
export function createLineageService(deps: {
  db: Kysely<LineageTables>;
  access: LineageAccess;
  /** A catalog table's type and columns, or null when it does not exist. */
  describeTable(fullName: string): Promise<TableFacts | null>;
  now?: () => number;
  log?: (message: string) => void;
}) {
  const { db, access } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  let parser: Promise<{ instance: DuckDBInstance; con: DuckDBConnection }> | null = null;
  let parsing: Promise<unknown> = Promise.resolve();

  /** Parses on one in-memory DuckDB connection, one statement at a time (a connection runs one query at once). */
  function parse(sql: string) {
    // The native library is loaded on first use, as the SQL engine does.
    parser ??= import('@duckdb/node-api')
      .then(({ DuckDBInstance }) => DuckDBInstance.create(':memory:'))
      .then(async (instance) => ({ instance, con: await instance.connect() }));
    const next = parsing.then(async () => parseSelect((await (parser as NonNullable<typeof parser>)).con, sql));
    parsing = next.catch(() => undefined);
    return next.catch(() => null);
  }

  async function insertEdges(rows: EdgeRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 200)
        await trx
          .insertInto('lineage_edges')
          .values(rows.slice(i, i + 200))
          .execute();
    });
  }

  /** Records an entity edge once: a repeated event (a restart re-applying a config) adds nothing. */
  async function recordOnce(row: EdgeRow): Promise<void> {
    const existing = await db
      .selectFrom('lineage_edges')
      .select('record_id')
      .where('source_id', '=', row.source_id)
      .where('target_id', '=', row.target_id)
      .where('kind', '=', row.kind)
      .where('source_column', 'is', null)
      .executeTakeFirst();
    if (!existing) await insertEdges([row]);
  }

  async function lookupAll(names: Iterable<string>): Promise<Map<string, TableFacts | null>> {
    const out = new Map<string, TableFacts | null>();
    for (const n of names) if (!out.has(n)) out.set(n, await deps.describeTable(n).catch(() => null));
    return out;
  }

  /** Column edges of one SQL write, as (source column, target column) pairs; empty when the statement cannot be traced. */
  async function columnEdges(e: SqlTableWritten, target: string): Promise<{ from: ColumnRef; to: string }[]> {
    const query = e.query ? await parse(e.query) : null;
    const assignmentTree = e.assignments?.length ? await parse(`SELECT ${e.assignments.map((a) => a.expression).join(', ')}`) : null;
    // Column lists cost a Delta log read each, so only what the trace will consult is looked up.
    const names = new Set<string>();
    if (e.operation === 'CREATE_TABLE_AS_SELECT' || e.operation === 'MERGE' || e.operation === 'UPDATE' || !e.targetColumns) names.add(target);
    if (query && needsColumnLists(query)) for (const t of referencedTables(query, e.defaults)) names.add(t);
    if (assignmentTree && needsColumnLists(assignmentTree)) for (const t of referencedTables(assignmentTree, e.defaults)) names.add(t);
    const facts = await lookupAll(names);
    const lookup = (n: string) => {
      const f = facts.get(n);
      return f && f.type !== 'VIEW' && f.columns.length > 0 ? f.columns : null;
    };
    const targetColumns = lookup(target) ?? [];
    // The target as a relation of the assignments; with unknown columns a reference is taken as the target's own.
    const targetScope = { table: target, columns: lookup(target) ? targetColumns.map((c) => ({ name: c, sources: [{ table: target, column: c }] })) : null };
    const out: { from: ColumnRef; to: string }[] = [];
    const traced: TracedColumn[] | null = query ? traceQuery(query, e.defaults, lookup) : null;
    if (e.operation === 'MERGE') {
      if (!traced || !e.mergeSource) return out;
      if (e.mergeSource.star) {
        for (const col of targetColumns) {
          const src = traced.find((c) => c.name.toLowerCase() === col.toLowerCase());
          for (const from of src?.sources ?? []) out.push({ from, to: col });
        }
      }
      if (assignmentTree && e.assignments) {
        const scopes = [
          { alias: e.mergeSource.alias, columns: traced },
          { alias: e.mergeSource.targetAlias, ...targetScope },
        ];
        const sources = traceExpressions(assignmentTree, e.defaults, lookup, scopes);
        e.assignments.forEach((a, i) => {
          for (const from of sources?.[i] ?? []) out.push({ from, to: a.column });
        });
      }
      return out;
    }
    if (e.operation === 'UPDATE') {
      if (!assignmentTree || !e.assignments) return out;
      const scopes = [{ alias: e.target.name, ...targetScope }];
      const sources = traceExpressions(assignmentTree, e.defaults, lookup, scopes);
      e.assignments.forEach((a, i) => {
        for (const from of sources?.[i] ?? []) out.push({ from, to: a.column });
      });
      return out;
    }
    if (!traced) return out;
    const to = e.targetColumns ?? targetColumns;
    if (to.length !== traced.length) return out;
    traced.forEach((c, i) => {
      for (const from of c.sources) out.push({ from, to: to[i] as string });
    });
    return out;
  }

  async function recordSqlWrite(e: SqlTableWritten): Promise<void> {
    const target = `${e.target.catalog}.${e.target.schema}.${e.target.name}`;
    const base = {
      event_id: randomUUID(),
      event_time: now(),
      target_id: `table:${target}`,
      target_type: 'TABLE',
      kind: 'sql',
      statement_id: e.statementId,
      detail: e.operation,
      created_by: e.userName,
    };
    const rows: EdgeRow[] = [];
    const types = new Map<string, string>();
    for (const r of e.reads) {
      const full = `${r.catalog}.${r.schema}.${r.name}`;
      if (types.has(full)) continue;
      types.set(full, tableSourceType(r.type));
      rows.push({ ...base, source_id: `table:${full}`, source_type: tableSourceType(r.type), source_column: null, target_column: null });
    }
    for (const p of new Set(e.paths ?? [])) rows.push({ ...base, source_id: `path:${p}`, source_type: 'PATH', source_column: null, target_column: null });
    let columns: { from: ColumnRef; to: string }[] = [];
    try {
      columns = await columnEdges(e, target);
    } catch (err) {
      // Column tracing is best effort: the table edges are what must never be missed.
      log(`lineage: column tracing of statement ${e.statementId} failed: ${(err as Error).message}`);
    }
    const seen = new Set<string>();
    for (const c of columns) {
      const key = `${c.from.table}\u0000${c.from.column}\u0000${c.to}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({
        ...base,
        source_id: `table:${c.from.table}`,
        source_type: types.get(c.from.table) ?? (c.from.table === target ? 'TABLE' : null),
        source_column: c.from.column,
        target_column: c.to,
      });
    }
    await insertEdges(rows);
  }

  async function recordRunInputs(e: WeirEvents['tracking.run.inputs_logged']): Promise<void> {
    for (const d of e.datasets) {
      const table = datasetTable(d.sourceType, d.source);
      if (!table) continue;
      const facts = await deps.describeTable(table).catch(() => null);
      if (!facts) continue;
      await recordOnce({
        event_id: randomUUID(),
        event_time: now(),
        source_id: `table:${table}`,
        source_type: tableSourceType(facts.type),
        target_id: `run:${e.runId}`,
        target_type: 'RUN',
        source_column: null,
        target_column: null,
        kind: 'dataset_input',
        statement_id: null,
        detail: d.name.slice(0, 1000),
        created_by: e.userName,
      });
    }
  }

  // ---- visibility ----

  /** The subset of entity ids the caller may see; an entity is hidden with every edge that touches it. */
  async function visibleIds(principal: Principal, ids: Iterable<string>): Promise<Set<string>> {
    const all = [...new Set(ids)];
    if (principal.isAdmin) return new Set(all);
    const byKind = new Map<EntityKind, string[]>();
    for (const id of all) {
      const { kind, name } = parseEntityId(id);
      const list = byKind.get(kind) ?? [];
      list.push(name);
      byKind.set(kind, list);
    }
    const out = new Set<string>();
    const tables = byKind.get('table') ?? [];
    if (tables.length) for (const t of await access.visibleTables(principal, tables)) out.add(`table:${t}`);
    const paths = byKind.get('path') ?? [];
    if (paths.length) {
      const volumes = await access.visibleVolumes(principal, [...new Set(paths.map(volumeOfPath).filter((v): v is string => v !== null))]);
      for (const p of paths) if (volumes.has(volumeOfPath(p) ?? '')) out.add(`path:${p}`);
    }
    for (const r of byKind.get('run') ?? []) if (await access.runVisible(principal, r).catch(() => false)) out.add(`run:${r}`);
    const models = new Map<string, boolean>();
    for (const mv of byKind.get('model_version') ?? []) {
      const model = mv.slice(0, mv.lastIndexOf('/'));
      if (!models.has(model)) models.set(model, await access.modelVisible(principal, model).catch(() => false));
      if (models.get(model)) out.add(`model_version:${mv}`);
    }
    for (const ep of byKind.get('endpoint') ?? []) if (await access.endpointVisible(principal, ep).catch(() => false)) out.add(`endpoint:${ep}`);
    return out;
  }

  function nodeJson(id: string, type: string | null) {
    const { kind, name } = parseEntityId(id);
    const node: Record<string, unknown> = { id, type: kind, name };
    if (kind === 'table') {
      const [c, s, t] = name.split('.');
      Object.assign(node, { catalog_name: c, schema_name: s, table_name: t, ...(type ? { table_type: type } : {}) });
    } else if (kind === 'model_version') {
      const slash = name.lastIndexOf('/');
      Object.assign(node, { model_name: name.slice(0, slash), version: Number(name.slice(slash + 1)) });
    } else if (kind === 'run') node.run_id = name;
    else if (kind === 'endpoint') node.endpoint_name = name;
    else if (kind === 'path') node.path = name;
    return node;
  }

  interface GroupedEdge {
    source_id: string;
    target_id: string;
    kind: string;
    source_type: string | null;
    target_type: string | null;
    first: number;
    last: number;
    count: number;
  }

  /** Entity-level edges touching any of the ids on the given side, one row per (source, target, kind). */
  async function edgesAt(side: 'source_id' | 'target_id', ids: string[]): Promise<GroupedEdge[]> {
    const out: GroupedEdge[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await db
        .selectFrom('lineage_edges')
        .select((eb) => [
          'source_id',
          'target_id',
          'kind',
          eb.fn.max('source_type').as('source_type'),
          eb.fn.max('target_type').as('target_type'),
          eb.fn.min('event_time').as('first'),
          eb.fn.max('event_time').as('last'),
          eb.fn.countAll().as('count'),
        ])
        .where(side, 'in', ids.slice(i, i + 500))
        .where('source_column', 'is', null)
        .groupBy(['source_id', 'target_id', 'kind'])
        .execute();
      for (const r of rows)
        out.push({
          ...r,
          source_type: r.source_type ?? null,
          target_type: r.target_type ?? null,
          first: Number(r.first),
          last: Number(r.last),
          count: Number(r.count),
        });
    }
    return out;
  }

  /**
   * The table's full name, or PERMISSION_DENIED when the caller may not see it. Visibility is decided first, so a
   * table that does not exist is refused like one the caller may not see; only those who could see it get 404.
   */
  async function visibleTable(principal: Principal, tableName: string): Promise<string> {
    const { name } = parseEntityId(`table:${tableName}`);
    if (!(await visibleIds(principal, [`table:${name}`])).has(`table:${name}`))
      throw new AppError('PERMISSION_DENIED', `User '${principal.userName}' may not see table '${name}'.`);
    const facts = await deps.describeTable(name).catch(() => null);
    const recorded = await db
      .selectFrom('lineage_edges')
      .select('record_id')
      .where((eb) => eb.or([eb('source_id', '=', `table:${name}`), eb('target_id', '=', `table:${name}`)]))
      .executeTakeFirst();
    if (!facts && !recorded) throw new AppError('RESOURCE_DOES_NOT_EXIST', `Table '${name}' does not exist.`);
    return name;
  }

  function tableInfo(full: string, type: string | null, last: number) {
    const [c, s, t] = full.split('.');
    return { name: t, catalog_name: c, schema_name: s, table_type: type ?? 'TABLE', lineage_timestamp: lineageTimestamp(last) };
  }

  return {
    /** Records what the other domains publish; lineage is written before the publisher answers its caller. */
    subscribe(events: Pick<EventBus, 'on'>): void {
      events.on('sql.table.written', (e) => recordSqlWrite(e));
      events.on('tracking.run.inputs_logged', (e) => recordRunInputs(e));
      events.on('registry.model_version.created', async (e) => {
        if (!e.runId || e.status === 'FAILED_REGISTRATION') return;
        await recordOnce({
          event_id: randomUUID(),
          event_time: now(),
          source_id: `run:${e.runId}`,
          source_type: 'RUN',
          target_id: `model_version:${e.catalog}.${e.schema}.${e.model}/${e.version}`,
          target_type: 'MODEL_VERSION',
          source_column: null,
          target_column: null,
          kind: 'registered_from_run',
          statement_id: null,
          detail: null,
          created_by: null,
        });
      });
      events.on('serving.endpoint.config_applied', async (e) => {
        for (const v of e.servedVersions) {
          await recordOnce({
            event_id: randomUUID(),
            event_time: now(),
            source_id: `model_version:${v.model}/${v.version}`,
            source_type: 'MODEL_VERSION',
            target_id: `endpoint:${e.endpoint}`,
            target_type: 'ENDPOINT',
            source_column: null,
            target_column: null,
            kind: 'serves',
            statement_id: null,
            detail: null,
            created_by: null,
          });
        }
        if (e.payloadTable) {
          await recordOnce({
            event_id: randomUUID(),
            event_time: now(),
            source_id: `endpoint:${e.endpoint}`,
            source_type: 'ENDPOINT',
            target_id: `table:${e.payloadTable}`,
            target_type: 'TABLE',
            source_column: null,
            target_column: null,
            kind: 'inference_table',
            statement_id: null,
            detail: null,
            created_by: null,
          });
        }
      });
    },

    recordSqlWrite,
    recordRunInputs,

    /** GET /api/weir/v1/lineage: the graph around one entity, up to `depth` hops in the given direction(s). */
    async graph(principal: Principal, input: { entity: string; direction?: 'upstream' | 'downstream' | 'both' | undefined; depth?: number | undefined }) {
      const root = parseEntityId(input.entity);
      const rootId = `${root.kind}:${root.name}`;
      const depth = input.depth ?? 1;
      if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) throw invalidParameter(`depth must be an integer from 1 to ${MAX_DEPTH}.`);
      const direction = input.direction ?? 'both';
      if (!(await visibleIds(principal, [rootId])).has(rootId))
        throw new AppError('PERMISSION_DENIED', `User '${principal.userName}' may not see ${root.kind} '${root.name}'.`);
      const nodes = new Map<string, string | null>([[rootId, null]]);
      const hidden = new Set<string>();
      const edges = new Map<string, GroupedEdge>();
      let truncated = false;
      for (const way of direction === 'both' ? (['upstream', 'downstream'] as const) : [direction]) {
        let frontier = [rootId];
        const reached = new Set([rootId]);
        for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
          const found = await edgesAt(way === 'upstream' ? 'target_id' : 'source_id', frontier);
          const fresh = [...new Set(found.map((e) => (way === 'upstream' ? e.source_id : e.target_id)))].filter((id) => !nodes.has(id) && !hidden.has(id));
          const visible = await visibleIds(principal, fresh);
          for (const id of fresh) if (!visible.has(id)) hidden.add(id);
          const next: string[] = [];
          for (const e of found) {
            const far = way === 'upstream' ? e.source_id : e.target_id;
            if (hidden.has(far)) continue;
            if (!nodes.has(far)) {
              if (nodes.size >= MAX_NODES) {
                truncated = true;
                continue;
              }
              nodes.set(far, null);
            }
            if (!reached.has(far)) {
              reached.add(far);
              next.push(far);
            }
            edges.set(`${e.source_id}\u0000${e.target_id}\u0000${e.kind}`, e);
          }
          frontier = next;
        }
      }
      for (const e of edges.values()) {
        if (e.source_type) nodes.set(e.source_id, nodes.get(e.source_id) ?? e.source_type);
        if (e.target_type) nodes.set(e.target_id, nodes.get(e.target_id) ?? e.target_type);
      }
      return {
        root: rootId,
        nodes: [...nodes].map(([id, type]) => nodeJson(id, type && parseEntityId(id).kind === 'table' ? type : null)),
        edges: [...edges.values()].map((e) => ({
          source: e.source_id,
          target: e.target_id,
          kind: e.kind,
          first_event_time: e.first,
          last_event_time: e.last,
          event_count: e.count,
        })),
        ...(truncated ? { truncated: true } : {}),
      };
    },

    /** GET /api/2.0/lineage-tracking/table-lineage in Databricks' shape: direct upstream and downstream tables and files. */
    async tableLineage(principal: Principal, input: { table_name: string; include_entity_lineage?: boolean | undefined }) {
      const name = await visibleTable(principal, input.table_name);
      const id = `table:${name}`;
      const [up, down] = await Promise.all([edgesAt('target_id', [id]), edgesAt('source_id', [id])]);
      const upstream = up.filter((e) => SQL_SOURCE_KINDS.has(parseEntityId(e.source_id).kind));
      const downstream = down.filter((e) => parseEntityId(e.target_id).kind === 'table' || (input.include_entity_lineage && e.kind === 'dataset_input'));
      const visible = await visibleIds(principal, [...upstream.map((e) => e.source_id), ...downstream.map((e) => e.target_id)]);
      const statements = async (source: string, target: string) => {
        if (!input.include_entity_lineage) return {};
        const rows = await db
          .selectFrom('lineage_edges')
          .select(['statement_id', 'event_time'])
          .where('source_id', '=', source)
          .where('target_id', '=', target)
          .where('source_column', 'is', null)
          .where('statement_id', 'is not', null)
          .orderBy('event_time', 'desc')
          .limit(20)
          .execute();
        return rows.length
          ? { queryInfos: rows.map((r) => ({ statement_id: r.statement_id, lineage_timestamp: lineageTimestamp(Number(r.event_time)) })) }
          : {};
      };
      const item = async (entity: string, e: GroupedEdge, type: string | null) => {
        const { kind, name: n } = parseEntityId(entity);
        if (kind === 'path')
          return {
            fileInfo: { path: n, has_permission: true, securable_type: 'VOLUME', securable_name: volumeOfPath(n), lineage_timestamp: lineageTimestamp(e.last) },
          };
        if (kind === 'run') return { mlflowRunInfo: { run_id: n, lineage_timestamp: lineageTimestamp(e.last) } };
        return { tableInfo: tableInfo(n, type, e.last), ...(await statements(e.source_id, e.target_id)) };
      };
      const merge = (list: GroupedEdge[], far: (e: GroupedEdge) => string) => {
        const byEntity = new Map<string, GroupedEdge>();
        for (const e of list) {
          const k = far(e);
          if (!visible.has(k)) continue;
          const prev = byEntity.get(k);
          if (!prev || prev.last < e.last) byEntity.set(k, e);
        }
        return [...byEntity.values()];
      };
      return {
        upstreams: await Promise.all(merge(upstream, (e) => e.source_id).map((e) => item(e.source_id, e, e.source_type))),
        downstreams: await Promise.all(merge(downstream, (e) => e.target_id).map((e) => item(e.target_id, e, e.target_type))),
      };
    },

    /** GET /api/2.0/lineage-tracking/column-lineage in Databricks' shape. */
    async columnLineage(principal: Principal, input: { table_name: string; column_name: string }) {
      const name = await visibleTable(principal, input.table_name);
      const id = `table:${name}`;
      const column = input.column_name.toLowerCase();
      const select = (side: 'source_id' | 'target_id') =>
        db
          .selectFrom('lineage_edges')
          .select((eb) => [
            'source_id',
            'target_id',
            'source_column',
            'target_column',
            eb.fn.max('source_type').as('source_type'),
            eb.fn.max('event_time').as('last'),
          ])
          .where(side, '=', id)
          .where('source_column', 'is not', null)
          .groupBy(['source_id', 'target_id', 'source_column', 'target_column'])
          .execute();
      const [up, down] = await Promise.all([select('target_id'), select('source_id')]);
      const ups = up.filter((r) => (r.target_column ?? '').toLowerCase() === column);
      const downs = down.filter((r) => (r.source_column ?? '').toLowerCase() === column);
      const visible = await visibleIds(principal, [...ups.map((r) => r.source_id), ...downs.map((r) => r.target_id)]);
      const col = (entity: string, columnName: string, type: string | null, last: number) => {
        const [c, s, t] = parseEntityId(entity).name.split('.');
        return { name: columnName, catalog_name: c, schema_name: s, table_name: t, table_type: type ?? 'TABLE', lineage_timestamp: lineageTimestamp(last) };
      };
      return {
        upstream_cols: ups
          .filter((r) => visible.has(r.source_id))
          .map((r) => col(r.source_id, r.source_column as string, r.source_type ?? null, Number(r.last))),
        downstream_cols: downs.filter((r) => visible.has(r.target_id)).map((r) => col(r.target_id, r.target_column as string, 'TABLE', Number(r.last))),
      };
    },

    /** Releases the parser's DuckDB instance. */
    close(): void {
      const p = parser;
      parser = null;
      void p?.then(({ con, instance }) => {
        con.closeSync();
        instance.closeSync();
      });
    },
  };
}

import { type Expression, type Kysely, type RawBuilder, type Selectable, type SqlBool, sql } from 'kysely';
import { binaryText, type DialectName, likeExpr } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import {
  type FilterClause,
  type OrderByClause,
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseLoggedModelFilter,
  parseRunFilter,
  parseRunOrderBy,
  SearchGrammarError,
} from './search-grammar.ts';
import type { TrackingTables } from './tracking.tables.ts';

type Db = Kysely<TrackingTables>;

function grammar<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SearchGrammarError) throw new AppError('INVALID_PARAMETER_VALUE', err.message);
    throw err;
  }
}

/** SQL comparison of a column against a clause's value. */
function compare(dialect: DialectName, column: RawBuilder<unknown>, input: FilterClause, binary = false): RawBuilder<SqlBool> {
  // MLflow parses `run_id = ('a')` as `=` with a list; it means IN.
  const clause: FilterClause =
    Array.isArray(input.value) && (input.comparator === '=' || input.comparator === '!=')
      ? { ...input, comparator: input.comparator === '=' ? 'IN' : 'NOT IN' }
      : input;
  const v = clause.value;
  // Byte-wise comparison for text only: PostgreSQL refuses a collation on numbers.
  const isText = typeof v === 'string' || Array.isArray(v);
  const col = binary && isText && dialect === 'postgres' ? sql`${column} collate "C"` : column;
  switch (clause.comparator) {
    case 'LIKE':
      return likeExpr(dialect, column, String(v), false) as RawBuilder<SqlBool>;
    case 'ILIKE':
      return likeExpr(dialect, column, String(v), true) as RawBuilder<SqlBool>;
    case 'IN':
    case 'NOT IN': {
      const list = Array.isArray(v) ? v : [String(v)];
      if (list.length === 0) return clause.comparator === 'IN' ? sql<SqlBool>`1 = 0` : sql<SqlBool>`1 = 1`;
      const items = sql.join(list.map((x) => sql`${x}`));
      return clause.comparator === 'IN' ? sql<SqlBool>`${col} in (${items})` : sql<SqlBool>`${col} not in (${items})`;
    }
    case 'IS NULL':
      return sql<SqlBool>`${column} is null`;
    case 'IS NOT NULL':
      return sql<SqlBool>`${column} is not null`;
    default:
      return sql<SqlBool>`${col} ${sql.raw(clause.comparator === '!=' ? '<>' : clause.comparator)} ${v}`;
  }
}

const RUN_ATTRIBUTE_COLUMNS: Record<string, string> = {
  run_id: 'r.run_uuid',
  run_name: 'r.name',
  status: 'r.status',
  user_id: 'r.user_id',
  artifact_uri: 'r.artifact_uri',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  lifecycle_stage: 'r.lifecycle_stage',
  experiment_id: 'r.experiment_id',
};

function runClause(dialect: DialectName, c: FilterClause): RawBuilder<SqlBool> {
  switch (c.type) {
    case 'metric': {
      if (c.comparator === 'IS NULL') return sql<SqlBool>`not exists (select 1 from latest_metrics m where m.run_uuid = r.run_uuid and m.key = ${c.key})`;
      const cond = compare(dialect, sql`m.value`, c);
      return sql<SqlBool>`exists (select 1 from latest_metrics m where m.run_uuid = r.run_uuid and m.key = ${c.key} and m.is_nan = 0 and ${cond})`;
    }
    case 'param':
    case 'tag': {
      const table = sql.raw(c.type === 'param' ? 'params' : 'tags');
      if (c.comparator === 'IS NULL') return sql<SqlBool>`not exists (select 1 from ${table} p where p.run_uuid = r.run_uuid and p.key = ${c.key})`;
      if (c.comparator === 'IS NOT NULL') return sql<SqlBool>`exists (select 1 from ${table} p where p.run_uuid = r.run_uuid and p.key = ${c.key})`;
      const cond = compare(dialect, sql`p.value`, c);
      return sql<SqlBool>`exists (select 1 from ${table} p where p.run_uuid = r.run_uuid and p.key = ${c.key} and ${cond})`;
    }
    case 'dataset': {
      if (c.key === 'context') {
        const cond = compare(dialect, sql`t.value`, c);
        return sql<SqlBool>`exists (select 1 from run_inputs i join input_tags t on t.input_uuid = i.input_uuid and t.key = 'mlflow.data.context' where i.run_uuid = r.run_uuid and ${cond})`;
      }
      const column = sql.raw(c.key === 'digest' ? 'd.digest' : 'd.name');
      const cond = compare(dialect, sql`${column}`, c);
      return sql<SqlBool>`exists (select 1 from run_inputs i join datasets d on d.dataset_uuid = i.dataset_uuid where i.run_uuid = r.run_uuid and ${cond})`;
    }
    default: {
      const column = RUN_ATTRIBUTE_COLUMNS[c.key];
      if (!column) throw new AppError('INVALID_PARAMETER_VALUE', `Invalid attribute key '${c.key}' specified.`);
      return compare(dialect, sql.ref(column), c, true);
    }
  }
}

/** Orders NULLs (runs without the key) last in both directions, NaN metrics just before them. */
function orderTerms(dialect: DialectName, ob: OrderByClause, index: number) {
  const dir = sql.raw(ob.ascending ? 'asc' : 'desc');
  if (ob.type === 'metric') {
    const a = sql.raw(`o${index}`);
    return {
      join: sql`left join latest_metrics ${a} on ${a}.run_uuid = r.run_uuid and ${a}.key = ${ob.key}`,
      order: [sql`(case when ${a}.value is null then 2 when ${a}.is_nan = 1 then 1 else 0 end) asc`, sql`${a}.value ${dir}`],
    };
  }
  if (ob.type === 'param' || ob.type === 'tag') {
    const a = sql.raw(`o${index}`);
    const table = sql.raw(ob.type === 'param' ? 'params' : 'tags');
    const value = dialect === 'postgres' ? sql`${a}.value collate "C"` : sql`${a}.value`;
    return {
      join: sql`left join ${table} ${a} on ${a}.run_uuid = r.run_uuid and ${a}.key = ${ob.key}`,
      order: [sql`(case when ${a}.value is null then 1 else 0 end) asc`, sql`${value} ${dir}`],
    };
  }
  const column = RUN_ATTRIBUTE_COLUMNS[ob.key];
  if (!column || ob.type === 'dataset') throw new AppError('INVALID_PARAMETER_VALUE', `Invalid order_by entity: ${ob.key}`);
  const ref = sql.ref(column);
  const value = dialect === 'postgres' && ['r.name', 'r.status', 'r.user_id', 'r.artifact_uri', 'r.run_uuid'].includes(column) ? sql`${ref} collate "C"` : ref;
  // Only end_time can be NULL; leaving the NULL test off the others lets the (experiment, start_time) index order them.
  if (column !== 'r.end_time') return { join: sql``, order: [sql`${value} ${dir}`] };
  return { join: sql``, order: [sql`(case when ${ref} is null then 1 else 0 end) asc`, sql`${value} ${dir}`] };
}

/** Runs matching an MLflow search (filter, order_by, page), as stored rows. */
export async function searchRunRows(
  db: Db,
  dialect: DialectName,
  opts: { experimentIds: number[]; stages: string[]; filter: string | undefined; orderBy: string[] | undefined; offset: number; limit: number },
): Promise<TrackingTables['runs'][]> {
  const clauses = grammar(() => parseRunFilter(opts.filter));
  const orderBy = grammar(() => parseRunOrderBy(opts.orderBy));
  const where: Expression<SqlBool>[] = [
    sql<SqlBool>`r.experiment_id in (${sql.join(opts.experimentIds.map((id) => sql`${id}`))})`,
    sql<SqlBool>`r.lifecycle_stage in (${sql.join(opts.stages.map((s) => sql`${s}`))})`,
    ...clauses.map((c) => runClause(dialect, c)),
  ];
  const runIdOrder = dialect === 'postgres' ? sql`r.run_uuid collate "C" asc` : sql`r.run_uuid asc`;
  const [head, ...rest] = orderBy;
  if (head?.type === 'metric') {
    const restTerms = rest.map((ob, i) => orderTerms(dialect, ob, i + 1));
    const restOrder = [...restTerms.flatMap((t) => t.order), sql`r.start_time desc`, runIdOrder];
    return metricOrderedRuns(db, { ...opts, key: head.key, ascending: head.ascending, where, joins: restTerms.map((t) => t.join), restOrder });
  }
  const terms = orderBy.map((ob, i) => orderTerms(dialect, ob, i));
  const order = [...terms.flatMap((t) => t.order), sql`r.start_time desc`, runIdOrder];
  const query = sql<TrackingTables['runs']>`select r.* from runs r ${sql.join(
    terms.map((t) => t.join),
    sql` `,
  )} where ${sql.join(where, sql` and `)} order by ${sql.join(order)} limit ${opts.limit} offset ${opts.offset}`;
  const result = await query.execute(db);
  return result.rows;
}

/**
 * Runs ordered by a metric first: those with a value (in value order), then those whose value is NaN, then those
 * without the key — the order of the general query, read one part after the other. The first part walks the
 * (experiment, key, is_nan, value) index from the best value and stops once the page is full, so sorting 100,000 runs
 * by a metric reads about a page of rows instead of every run's value. A later part is read only when the page reaches
 * past the earlier ones; a part's row count is needed only when the page starts beyond it.
 */
async function metricOrderedRuns(
  db: Db,
  opts: {
    experimentIds: number[];
    stages: string[];
    key: string;
    ascending: boolean;
    where: Expression<SqlBool>[];
    joins: RawBuilder<unknown>[];
    restOrder: RawBuilder<unknown>[];
    offset: number;
    limit: number;
  },
): Promise<TrackingTables['runs'][]> {
  const dir = sql.raw(opts.ascending ? 'asc' : 'desc');
  const experiments = sql.join(opts.experimentIds.map((id) => sql`${id}`));
  const where = sql.join(opts.where, sql` and `);
  const joins = sql.join(opts.joins, sql` `);
  const order = sql.join(opts.restOrder);
  // CROSS JOIN keeps latest_metrics the outer table on SQLite, so its index supplies the value order.
  const withKey = (isNan: number) => ({
    rows: (limit: number, offset: number) =>
      sql<TrackingTables['runs']>`select r.* from latest_metrics m0 cross join runs r ${joins}
        where m0.experiment_id in (${experiments}) and m0.key = ${opts.key} and m0.is_nan = ${isNan} and r.run_uuid = m0.run_uuid and ${where}
        order by m0.value ${dir}, ${order} limit ${limit} offset ${offset}`,
    count: sql<{ n: number | string }>`select count(*) as n from latest_metrics m0 cross join runs r
        where m0.experiment_id in (${experiments}) and m0.key = ${opts.key} and m0.is_nan = ${isNan} and r.run_uuid = m0.run_uuid and ${where}`,
  });
  const withoutKey = sql<SqlBool>`not exists (select 1 from latest_metrics m0 where m0.run_uuid = r.run_uuid and m0.key = ${opts.key})`;
  const parts = [
    withKey(0),
    withKey(1),
    {
      rows: (limit: number, offset: number) =>
        sql<TrackingTables['runs']>`select r.* from runs r ${joins} where ${where} and ${withoutKey} order by ${order} limit ${limit} offset ${offset}`,
      count: sql<{ n: number | string }>`select count(*) as n from runs r where ${where} and ${withoutKey}`,
    },
  ];
  const out: TrackingTables['runs'][] = [];
  let skip = opts.offset;
  for (const part of parts) {
    const need = opts.limit - out.length;
    if (need <= 0) break;
    const rows = (await part.rows(need, skip).execute(db)).rows;
    out.push(...rows);
    if (rows.length === need) break;
    // This part ended inside the page (the next part starts at its first row), or before it (skip its rows).
    skip = rows.length > 0 ? 0 : skip - Number((await part.count.execute(db)).rows[0]?.n ?? 0);
  }
  return out;
}

const EXPERIMENT_ATTRIBUTE_COLUMNS: Record<string, string> = {
  name: 'e.name',
  creation_time: 'e.creation_time',
  last_update_time: 'e.last_update_time',
  experiment_id: 'e.experiment_id',
};

/** Experiments matching an MLflow experiment search. */
export async function searchExperimentRows(
  db: Db,
  dialect: DialectName,
  opts: { stages: string[]; filter: string | undefined; orderBy: string[] | undefined; readable: number[] | null; offset: number; limit: number },
): Promise<Selectable<TrackingTables['experiments']>[]> {
  const clauses = grammar(() => parseExperimentFilter(opts.filter));
  const orderBy = grammar(() => parseExperimentOrderBy(opts.orderBy));
  const where: Expression<SqlBool>[] = [sql<SqlBool>`e.lifecycle_stage in (${sql.join(opts.stages.map((s) => sql`${s}`))})`];
  if (opts.readable) {
    where.push(opts.readable.length ? sql<SqlBool>`e.experiment_id in (${sql.join(opts.readable.map((id) => sql`${id}`))})` : sql<SqlBool>`1 = 0`);
  }
  for (const c of clauses) {
    if (c.type === 'tag') {
      if (c.comparator === 'IS NOT NULL') {
        where.push(sql<SqlBool>`exists (select 1 from experiment_tags t where t.experiment_id = e.experiment_id and t.key = ${c.key})`);
        continue;
      }
      if (c.comparator === 'IS NULL') {
        where.push(sql<SqlBool>`not exists (select 1 from experiment_tags t where t.experiment_id = e.experiment_id and t.key = ${c.key})`);
        continue;
      }
      const cond = compare(dialect, sql`t.value`, c);
      where.push(sql<SqlBool>`exists (select 1 from experiment_tags t where t.experiment_id = e.experiment_id and t.key = ${c.key} and ${cond})`);
      continue;
    }
    const column = EXPERIMENT_ATTRIBUTE_COLUMNS[c.key];
    if (!column) throw new AppError('INVALID_PARAMETER_VALUE', `Invalid attribute key '${c.key}' specified.`);
    where.push(compare(dialect, sql.ref(column), c, true));
  }
  const order = orderBy.map((ob) => {
    const column = EXPERIMENT_ATTRIBUTE_COLUMNS[ob.key];
    if (!column) throw new AppError('INVALID_PARAMETER_VALUE', `Invalid order_by clause '${ob.key}'.`);
    const ref = ob.key === 'name' ? binaryText(dialect, column) : sql.ref(column);
    return sql`${ref} ${sql.raw(ob.ascending ? 'asc' : 'desc')}`;
  });
  if (order.length === 0) order.push(sql`e.creation_time desc`);
  order.push(sql`e.experiment_id desc`);
  const result = await sql<Selectable<TrackingTables['experiments']>>`select e.* from experiments e where ${sql.join(where, sql` and `)} order by ${sql.join(
    order,
  )} limit ${opts.limit} offset ${opts.offset}`.execute(db);
  return result.rows;
}

const LOGGED_MODEL_COLUMNS: Record<string, string> = {
  name: 'lm.name',
  model_id: 'lm.model_id',
  model_type: 'lm.model_type',
  status: 'lm.status',
  source_run_id: 'lm.source_run_id',
  creation_timestamp: 'lm.creation_timestamp',
  creation_time: 'lm.creation_timestamp',
  last_updated_timestamp: 'lm.last_updated_timestamp',
  last_updated_time: 'lm.last_updated_timestamp',
};

/** Logged models matching a search. */
export async function searchLoggedModelRows(
  db: Db,
  dialect: DialectName,
  opts: {
    experimentIds: number[];
    filter: string | undefined;
    orderBy: { field_name: string; ascending?: boolean | undefined }[];
    offset: number;
    limit: number;
  },
): Promise<TrackingTables['logged_models'][]> {
  const clauses = grammar(() => parseLoggedModelFilter(opts.filter));
  const where: Expression<SqlBool>[] = [
    sql<SqlBool>`lm.experiment_id in (${sql.join(opts.experimentIds.map((id) => sql`${id}`))})`,
    sql<SqlBool>`lm.lifecycle_stage = 'active'`,
  ];
  for (const c of clauses) {
    if (c.type === 'metric') {
      const cond = compare(dialect, sql`mm.value`, c);
      where.push(
        sql<SqlBool>`exists (select 1 from logged_model_metrics mm where mm.model_id = lm.model_id and mm.key = ${c.key} and mm.is_nan = 0 and ${cond})`,
      );
    } else if (c.type === 'param' || c.type === 'tag') {
      const table = sql.raw(c.type === 'param' ? 'logged_model_params' : 'logged_model_tags');
      if (c.comparator === 'IS NULL') {
        where.push(sql<SqlBool>`not exists (select 1 from ${table} p where p.model_id = lm.model_id and p.key = ${c.key})`);
        continue;
      }
      if (c.comparator === 'IS NOT NULL') {
        where.push(sql<SqlBool>`exists (select 1 from ${table} p where p.model_id = lm.model_id and p.key = ${c.key})`);
        continue;
      }
      const cond = compare(dialect, sql`p.value`, c);
      where.push(sql<SqlBool>`exists (select 1 from ${table} p where p.model_id = lm.model_id and p.key = ${c.key} and ${cond})`);
    } else {
      const column = LOGGED_MODEL_COLUMNS[c.key];
      if (!column) throw new AppError('INVALID_PARAMETER_VALUE', `Invalid attribute key '${c.key}' specified.`);
      where.push(compare(dialect, sql.ref(column), c, true));
    }
  }
  const order = opts.orderBy.map((ob) => {
    const column = LOGGED_MODEL_COLUMNS[ob.field_name];
    if (!column) throw new AppError('INVALID_PARAMETER_VALUE', `Invalid order_by field name: ${ob.field_name}`);
    return sql`${sql.ref(column)} ${sql.raw(ob.ascending === false ? 'desc' : 'asc')}`;
  });
  order.push(sql`lm.creation_timestamp desc`, sql`lm.model_id asc`);
  const result = await sql<TrackingTables['logged_models']>`select lm.* from logged_models lm where ${sql.join(where, sql` and `)} order by ${sql.join(
    order,
  )} limit ${opts.limit} offset ${opts.offset}`.execute(db);
  return result.rows;
}

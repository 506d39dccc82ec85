import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { PermissionLevel } from '@weir/contracts';
import { type Kysely, type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import { binaryText, type DialectName, likeExpr } from '../../platform/db.ts';
import { AppError, invalidParameter, notFound } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import {
  parseModelVersionFilter,
  parseModelVersionOrderBy,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
  SearchGrammarError,
} from '../tracking/index.ts';
import type { ModelFacts } from './registry.mlmodel.ts';
import type { RegistryTables } from './registry.tables.ts';

type Db = Kysely<RegistryTables>;
type ModelRow = Selectable<RegistryTables['registered_models']>;
type VersionRow = Selectable<RegistryTables['model_versions']>;
type KV = { key: string; value?: string | undefined };

/** The permission object type of registered models (`/api/2.0/permissions/registered-models/{id}`). */
export const REGISTERED_MODEL_OBJECT = 'registered-models';

/** Where registered models may live: the catalog answers whether a schema exists and whether a name is free. */
export interface ModelNamespace {
  schemaExists(catalog: string, schema: string): Promise<boolean>;
  nameTaken(catalog: string, schema: string, name: string): Promise<boolean>;
}

/** The slice of identity the registry needs for per-model permissions. */
export interface ModelAccess {
  levelOn(principal: Principal, objectType: string, objectId: string): Promise<PermissionLevel | null>;
  readableObjectIds(principal: Principal, objectType: string): Promise<Set<string> | null>;
  setObjectAcl(objectType: string, objectId: string, entries: { principalId: number; level: PermissionLevel }[], replace: boolean): Promise<void>;
  dropObjectAcl(objectType: string, objectId: string): Promise<void>;
}

/**
 * Unity Catalog's view of registered models (governance satisfies it in app.ts): a model addressed by its three-level
 * name is read through catalog grants (USE CATALOG + USE SCHEMA + EXECUTE, or ownership), as in Databricks.
 */
export interface ModelGovernance {
  /** Whether the caller may read the model `c.s.m` and its versions. */
  mayRead(principal: Principal, fullName: string): Promise<boolean>;
  /** The full names among these the caller may see in a Unity Catalog listing (a grant on the model or ownership, plus USE on its containers). */
  visible(principal: Principal, fullNames: string[]): Promise<Set<string>>;
  /** Whether the caller may give the model away: its owner, an owner of a container, a holder of MANAGE, or an admin. */
  mayManage(principal: Principal, fullName: string): Promise<boolean>;
  /** The id of the user, group or service principal with this name; throws RESOURCE_DOES_NOT_EXIST (404) when none has it. */
  principalId(name: string): Promise<number>;
}

/** A model's place in the catalog. */
export interface ModelName {
  catalog: string;
  schema: string;
  name: string;
}

/** Canonical MLflow stages, by lower-case input. */
const STAGES: Record<string, string> = { none: 'None', staging: 'Staging', production: 'Production', archived: 'Archived' };
const ACTIVE_STAGES = ['Staging', 'Production'];
const PROMPT_TAG = 'mlflow.prompt.is_prompt';
const RANK: Record<PermissionLevel, number> = { CAN_READ: 1, CAN_EDIT: 2, CAN_MANAGE: 3 };
/** Looks a model up for a check the caller makes itself (an owner change decides by ownership and MANAGE). */
const SYSTEM_READER: Principal = { id: 0, userName: 'system', kind: 'user', isAdmin: true };
const MAX_TAG_KEY = 250;
const MAX_TAG_VALUE = 5000;

/** Page tokens are base64 JSON `{"offset": N}`, as MLflow's. */
function decodeOffset(token: string | undefined): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isSafeInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // refused below
  }
  throw invalidParameter(`Invalid page token, could not base64-decode or parse it: ${JSON.stringify(token.slice(0, 100))}`);
}

const encodeOffset = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64');

function maxResults(value: number | undefined, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (value < 1 || value > max)
    throw invalidParameter(`Invalid value ${value} for parameter 'max_results' supplied. It must be at most ${max}, and at least 1.`);
  return value;
}

function grammar<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SearchGrammarError) throw invalidParameter(err.message);
    throw err;
  }
}

/** Parses MLflow's string version number ("Parameter 'version' must be an integer, got 'x'."). */
export function parseVersion(version: string): number {
  if (!/^\s*\d{1,9}\s*$/.test(version)) throw invalidParameter(`Parameter 'version' must be an integer, got '${version}'.`);
  return Number(version);
}

/** Canonical stage name, case-insensitive; refuses anything else. */
export function canonicalStage(stage: string): string {
  const s = STAGES[stage.toLowerCase()];
  if (!s) throw invalidParameter(`Invalid Model Version stage: ${stage}. Value must be one of None, Staging, Production, Archived.`);
  return s;
}

/** Alias rules: `^[\w-]*$`, at most 255 characters, `latest` and `v<N>` reserved. */
export function validateAlias(alias: string): void {
  if (alias.length > 255) throw invalidParameter(`Registered model alias name '${alias.slice(0, 50)}...' exceeds the maximum length of 255 characters.`);
  if (!/^[\w-]*$/.test(alias)) {
    throw invalidParameter(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_) and hyphens (-).`);
  }
  if (alias.toLowerCase() === 'latest') throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  if (/^v\d+$/i.test(alias)) throw invalidParameter(`Version alias name '${alias}' is reserved.`);
}

function validateTag(key: string, value: string | undefined): void {
  if (key.length > MAX_TAG_KEY)
    throw invalidParameter(`Registered model tag key '${key.slice(0, 50)}...' exceeds the maximum length of ${MAX_TAG_KEY} characters.`);
  if ((value ?? '').length > MAX_TAG_VALUE) throw invalidParameter(`Tag value for key '${key}' exceeds the maximum length of ${MAX_TAG_VALUE} characters.`);
}

/** A model name must be usable as one directory name: no slashes, not `.` or `..`. */
function validateModelName(name: string): void {
  if (name.length > 512) throw invalidParameter('Registered model name exceeds the maximum length of 512 characters.');
  if (/[/\\]/.test(name) || name === '.' || name === '..' || name.trim() === '') {
    throw invalidParameter(`Invalid registered model name '${name}': names may not contain '/' or '\\' and may not be '.' or '..'.`);
  }
}

/** The registry: registered models, versions, tags, aliases and stages; one store for MLflow and Unity Catalog. */
export type RegistryService = ReturnType<typeof createRegistryService>;

/** Creates the registry service. `modelsRoot` is `<data-dir>/models`, where versions keep their files. */
export function createRegistryService(deps: {
  db: Db;
  dialect: DialectName;
  access: ModelAccess;
  namespace: ModelNamespace;
  events: EventBus;
  /** Catalog grants for three-level reads and owner changes; without it every check is the workspace ACL. */
  governance?: ModelGovernance;
  modelsRoot: string;
  defaultCatalog: string;
  defaultSchema: string;
  now?: () => number;
}) {
  const { db, dialect, access, namespace, events, modelsRoot, defaultCatalog, defaultSchema } = deps;
  const now = deps.now ?? Date.now;

  /** MLflow's flat names live in the default catalog and schema; `c.s.m` names are three-level. */
  function splitName(name: string): ModelName {
    const parts = name.split('.');
    if (parts.length === 3 && parts.every((p) => p !== '')) return { catalog: parts[0] as string, schema: parts[1] as string, name: parts[2] as string };
    return { catalog: defaultCatalog, schema: defaultSchema, name };
  }

  /** The name MLflow clients see: flat inside the default schema, three-level elsewhere. */
  function mlflowName(row: { catalog_name: string; schema_name: string; name: string }): string {
    return row.catalog_name === defaultCatalog && row.schema_name === defaultSchema ? row.name : `${row.catalog_name}.${row.schema_name}.${row.name}`;
  }

  const fullName = (row: { catalog_name: string; schema_name: string; name: string }) => `${row.catalog_name}.${row.schema_name}.${row.name}`;

  /** Directory of a version's files under the data dir. */
  function versionDir(row: { catalog_name: string; schema_name: string; name: string }, version: number): string {
    return path.join(modelsRoot, row.catalog_name, row.schema_name, row.name, String(version));
  }

  async function modelRowByParts(n: ModelName): Promise<ModelRow | undefined> {
    return db
      .selectFrom('registered_models')
      .selectAll()
      .where('catalog_name', '=', n.catalog)
      .where('schema_name', '=', n.schema)
      .where('name', '=', n.name)
      .executeTakeFirst();
  }

  async function requireLevel(principal: Principal, row: ModelRow, need: PermissionLevel): Promise<void> {
    if (principal.isAdmin) return;
    const have = await access.levelOn(principal, REGISTERED_MODEL_OBJECT, row.model_id);
    if (!have || RANK[have] < RANK[need]) {
      const verb = need === 'CAN_READ' ? 'read' : need === 'CAN_EDIT' ? 'edit' : 'manage';
      throw new AppError('PERMISSION_DENIED', `User '${principal.userName}' does not have permission to ${verb} registered model '${mlflowName(row)}'.`);
    }
  }

  /**
   * Reads of a model addressed by its three-level name are Unity Catalog's: USE CATALOG + USE SCHEMA + EXECUTE (or
   * ownership). A flat MLflow name keeps the workspace ACL, and so does every write.
   */
  async function requireAccess(principal: Principal, row: ModelRow, need: PermissionLevel, threeLevel: boolean): Promise<void> {
    if (principal.isAdmin) return;
    if (threeLevel && need === 'CAN_READ' && deps.governance) {
      if (await deps.governance.mayRead(principal, fullName(row))) return;
      throw new AppError('PERMISSION_DENIED', `User '${principal.userName}' does not have EXECUTE on Registered model '${fullName(row)}'.`);
    }
    await requireLevel(principal, row, need);
  }

  const isThreeLevel = (name: string) => {
    const parts = name.split('.');
    return parts.length === 3 && parts.every((p) => p !== '');
  };

  /** Loads a model by MLflow or three-level name and checks the caller's access to it. */
  async function authorizedModel(principal: Principal, name: string, need: PermissionLevel): Promise<ModelRow> {
    const row = await modelRowByParts(splitName(name));
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    await requireAccess(principal, row, need, isThreeLevel(name));
    return row;
  }

  /** A live (not deleted) version of a model, or undefined. */
  function findVersion(modelId: string, version: number): Promise<VersionRow | undefined> {
    return db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .where('deleted', '=', 0)
      .executeTakeFirst();
  }

  async function versionRow(model: ModelRow, version: number, displayName: string): Promise<VersionRow> {
    const row = await findVersion(model.model_id, version);
    if (!row) throw notFound(`Model Version (name=${displayName}, version=${version}) not found`);
    return row;
  }

  async function modelsJson(rows: ModelRow[]) {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.model_id);
    const [tags, aliases, latest] = await Promise.all([
      db.selectFrom('registered_model_tags').select(['model_id', 'key', 'value']).where('model_id', 'in', ids).execute(),
      db.selectFrom('registered_model_aliases').select(['model_id', 'alias', 'version']).where('model_id', 'in', ids).execute(),
      // Latest version per stage: the highest live version number in each (model, stage).
      db
        .selectFrom('model_versions as v')
        .selectAll('v')
        .where('v.model_id', 'in', ids)
        .where('v.deleted', '=', 0)
        .where(({ eb, selectFrom, not, exists }) =>
          not(
            exists(
              selectFrom('model_versions as w')
                .select('w.version')
                .whereRef('w.model_id', '=', 'v.model_id')
                .whereRef('w.current_stage', '=', 'v.current_stage')
                .where('w.deleted', '=', 0)
                .where('w.version', '>', eb.ref('v.version')),
            ),
          ),
        )
        .execute(),
    ]);
    const byModel = new Map(rows.map((r) => [r.model_id, r]));
    const latestJson = await versionsJson(latest, byModel);
    return rows.map((r) => {
      const out: Record<string, unknown> = {
        name: mlflowName(r),
        creation_timestamp: Number(r.created_at),
        last_updated_timestamp: Number(r.updated_at),
        user_id: r.created_by,
        id: r.model_id,
      };
      if (r.description !== null) out.description = r.description;
      const lv = latestJson.filter((v) => v.model_id === r.model_id).sort((a, b) => Number(a.json.version) - Number(b.json.version));
      out.latest_versions = lv.map((v) => v.json);
      out.tags = tags.filter((t) => t.model_id === r.model_id).map((t) => ({ key: t.key, value: t.value }));
      out.aliases = aliases
        .filter((a) => a.model_id === r.model_id)
        .sort((a, b) => (a.alias < b.alias ? -1 : 1))
        .map((a) => ({ alias: a.alias, version: String(a.version) }));
      return out;
    });
  }

  async function versionsJson(rows: VersionRow[], models: Map<string, ModelRow>) {
    if (rows.length === 0) return [];
    const modelIds = [...new Set(rows.map((r) => r.model_id))];
    const [tags, aliases] = await Promise.all([
      db.selectFrom('model_version_tags').selectAll().where('model_id', 'in', modelIds).execute(),
      db.selectFrom('registered_model_aliases').selectAll().where('model_id', 'in', modelIds).execute(),
    ]);
    const tagsOf = new Map<string, { key: string; value: string }[]>();
    for (const t of tags) {
      const k = `${t.model_id}/${t.version}`;
      const list = tagsOf.get(k) ?? [];
      if (list.length === 0) tagsOf.set(k, list);
      list.push({ key: t.key, value: t.value });
    }
    return rows.map((v) => {
      const m = models.get(v.model_id) as ModelRow;
      const json: Record<string, unknown> = {
        name: mlflowName(m),
        version: String(v.version),
        creation_timestamp: Number(v.created_at),
        last_updated_timestamp: Number(v.updated_at),
        user_id: v.created_by,
        current_stage: v.current_stage,
        source: v.source,
        status: v.status,
        tags: tagsOf.get(`${v.model_id}/${v.version}`) ?? [],
        aliases: aliases
          .filter((a) => a.model_id === v.model_id && Number(a.version) === Number(v.version))
          .map((a) => a.alias)
          .sort(),
      };
      if (v.description !== null) json.description = v.description;
      if (v.run_id) json.run_id = v.run_id;
      if (v.run_link) json.run_link = v.run_link;
      if (v.status_message) json.status_message = v.status_message;
      if (v.logged_model_id) json.model_id = v.logged_model_id;
      return { model_id: v.model_id, json };
    });
  }

  async function versionJson(model: ModelRow, v: VersionRow) {
    const [out] = await versionsJson([v], new Map([[model.model_id, model]]));
    return out?.json as Record<string, unknown>;
  }

  async function touchModel(modelId: string, principal: Principal, q: Db = db) {
    await q.updateTable('registered_models').set({ updated_at: now(), updated_by: principal.userName }).where('model_id', '=', modelId).execute();
  }

  /**
   * Prompts are registered models tagged `mlflow.prompt.is_prompt=true`. Plain models lack the tag, so clauses on it are
   * not tag matches: they select prompts (`= 'true'`, `!= 'false'`) or, by default, everything else.
   */
  function splitPromptClauses<C extends { type: string; key: string; comparator: string; value: unknown }>(clauses: C[]): { rest: C[]; prompts: boolean } {
    let prompts = false;
    const rest: C[] = [];
    for (const c of clauses) {
      if (c.type === 'tag' && c.key === PROMPT_TAG) {
        const v = String(c.value).toLowerCase();
        if ((c.comparator === '=' && v === 'true') || (c.comparator === '!=' && v === 'false')) prompts = true;
      } else rest.push(c);
    }
    return { rest, prompts };
  }

  /** Keeps only prompts, or only plain models, of the models aliased `alias`. */
  function promptCondition(alias: string, prompts: boolean) {
    const isPrompt = sql<boolean>`exists (select 1 from registered_model_tags p where p.model_id = ${sql.ref(`${alias}.model_id`)} and p.key = ${PROMPT_TAG} and p.value = 'true')`;
    return prompts ? isPrompt : sql<boolean>`not ${isPrompt}`;
  }

  /** Applies registered-model filter clauses to a query over `registered_models as m`. */
  function applyModelFilter<Q extends SelectQueryBuilder<RegistryTables & { m: RegistryTables['registered_models'] }, 'm', object>>(
    q: Q,
    filter: string | undefined,
  ): Q {
    const { rest, prompts } = splitPromptClauses(grammar(() => parseRegisteredModelFilter(filter)));
    let out = q.where(promptCondition('m', prompts)) as Q;
    for (const c of rest) {
      if (c.type === 'attribute' && c.key === 'name') out = out.where(nameCondition('m', c.comparator, String(c.value))) as Q;
      else if (c.type === 'tag') {
        const cond = stringClause(sql.ref('t.value'), c.comparator, String(c.value));
        out = out.where(({ exists, selectFrom }) =>
          exists(selectFrom('registered_model_tags as t').select('t.key').whereRef('t.model_id', '=', 'm.model_id').where('t.key', '=', c.key).where(cond)),
        ) as Q;
      }
    }
    return out;
  }

  /**
   * A comparison on the MLflow name. Models in the default schema are compared on their own `name` column, which the
   * (catalog, schema, name) index serves (GLOB prefixes included); others on their three-level name.
   */
  function nameCondition(alias: string, comparator: string, value: string) {
    const c = sql.ref(`${alias}.catalog_name`);
    const sc = sql.ref(`${alias}.schema_name`);
    const inDefault = sql<boolean>`${c} = ${defaultCatalog} and ${sc} = ${defaultSchema}`;
    const onName = stringClause(sql.ref(`${alias}.name`), comparator, value);
    const onFull = stringClause(sql<string>`${c} || '.' || ${sc} || '.' || ${sql.ref(`${alias}.name`)}`, comparator, value);
    return sql<boolean>`((${inDefault} and ${onName}) or (not (${inDefault}) and ${onFull}))`;
  }

  function displayNameExpr(alias: string) {
    const c = sql.ref(`${alias}.catalog_name`);
    const s = sql.ref(`${alias}.schema_name`);
    const n = sql.ref(`${alias}.name`);
    return sql<string>`(case when ${c} = ${defaultCatalog} and ${s} = ${defaultSchema} then ${n} else ${c} || '.' || ${s} || '.' || ${n} end)`;
  }

  function stringClause(col: ReturnType<typeof sql.ref> | ReturnType<typeof displayNameExpr>, comparator: string, value: string) {
    switch (comparator) {
      case '=':
        return sql<boolean>`${col} = ${value}`;
      case '!=':
        return sql<boolean>`${col} <> ${value}`;
      case 'LIKE':
        return likeExpr(dialect, sql`${col}`, value, false);
      case 'ILIKE':
        return likeExpr(dialect, sql`${col}`, value, true);
      default:
        throw invalidParameter(`Invalid comparator '${comparator}'.`);
    }
  }

  function numberClause(col: ReturnType<typeof sql.ref>, comparator: string, value: number) {
    const ops: Record<string, string> = { '=': '=', '!=': '<>', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };
    const op = ops[comparator];
    if (!op) throw invalidParameter(`Invalid comparator '${comparator}'.`);
    return sql<boolean>`${col} ${sql.raw(op)} ${value}`;
  }

  async function readableFilter(principal: Principal): Promise<string[] | null> {
    const ids = await access.readableObjectIds(principal, REGISTERED_MODEL_OBJECT);
    return ids === null ? null : [...ids];
  }

  /** Creates the row, its tags and the creator's CAN_MANAGE; refuses taken names and missing schemas. */
  async function insertModel(principal: Principal, n: ModelName, description: string | undefined, tags: KV[]): Promise<ModelRow> {
    validateModelName(n.name);
    for (const t of tags) validateTag(t.key, t.value);
    const display = mlflowName({ catalog_name: n.catalog, schema_name: n.schema, name: n.name });
    if (await modelRowByParts(n)) throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${display}) already exists.`);
    if (!(await namespace.schemaExists(n.catalog, n.schema))) throw notFound(`Schema '${n.catalog}.${n.schema}' does not exist.`);
    if (await namespace.nameTaken(n.catalog, n.schema, n.name)) {
      throw new AppError('RESOURCE_ALREADY_EXISTS', `An object named '${n.catalog}.${n.schema}.${n.name}' already exists in the catalog.`);
    }
    const t = now();
    // Read before the row is written: only grants older than the model can be a lost cascade's leftovers.
    const since = Date.now();
    const row: ModelRow = {
      model_id: randomUUID(),
      catalog_name: n.catalog,
      schema_name: n.schema,
      name: n.name,
      description: description ?? null,
      owner: principal.userName,
      owner_id: principal.id,
      created_at: t,
      created_by: principal.userName,
      updated_at: t,
      updated_by: principal.userName,
      last_version: 0,
    };
    try {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('registered_models').values(row).execute();
        const last = new Map(tags.map((x) => [x.key, x.value ?? '']));
        if (last.size) {
          await trx
            .insertInto('registered_model_tags')
            .values([...last].map(([key, value]) => ({ model_id: row.model_id, key, value })))
            .execute();
        }
      });
    } catch (err) {
      // A concurrent create of the same name loses on the unique constraint.
      if (await modelRowByParts(n)) throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${display}) already exists.`);
      throw err;
    }
    if (principal.id > 0) await access.setObjectAcl(REGISTERED_MODEL_OBJECT, row.model_id, [{ principalId: principal.id, level: 'CAN_MANAGE' }], false);
    await events.publish('catalog.securable.created', { type: 'registered_model', fullName: fullName(row), since });
    return row;
  }

  async function deleteModelRow(row: ModelRow): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('model_version_tags').where('model_id', '=', row.model_id).execute();
      await trx.deleteFrom('model_versions').where('model_id', '=', row.model_id).execute();
      await trx.deleteFrom('registered_model_aliases').where('model_id', '=', row.model_id).execute();
      await trx.deleteFrom('registered_model_tags').where('model_id', '=', row.model_id).execute();
      await trx.deleteFrom('registered_models').where('model_id', '=', row.model_id).execute();
    });
    await access.dropObjectAcl(REGISTERED_MODEL_OBJECT, row.model_id);
    await fsp.rm(path.join(modelsRoot, row.catalog_name, row.schema_name, row.name), { recursive: true, force: true });
  }

  async function setAlias(principal: Principal, model: ModelRow, alias: string, version: number, display: string) {
    validateAlias(alias);
    await versionRow(model, version, display);
    const previous = await db
      .selectFrom('registered_model_aliases')
      .select('version')
      .where('model_id', '=', model.model_id)
      .where('alias', '=', alias)
      .executeTakeFirst();
    await db
      .insertInto('registered_model_aliases')
      .values({ model_id: model.model_id, alias, version })
      .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version }))
      .execute();
    await touchModel(model.model_id, principal);
    events.emit('registry.alias.moved', {
      catalog: model.catalog_name,
      schema: model.schema_name,
      model: model.name,
      alias,
      version,
      previousVersion: previous ? Number(previous.version) : null,
    });
  }

  async function deleteAlias(principal: Principal, model: ModelRow, alias: string) {
    const previous = await db
      .selectFrom('registered_model_aliases')
      .select('version')
      .where('model_id', '=', model.model_id)
      .where('alias', '=', alias)
      .executeTakeFirst();
    if (!previous) throw notFound(`Registered model alias ${alias} not found.`);
    await db.deleteFrom('registered_model_aliases').where('model_id', '=', model.model_id).where('alias', '=', alias).execute();
    await touchModel(model.model_id, principal);
    events.emit('registry.alias.moved', {
      catalog: model.catalog_name,
      schema: model.schema_name,
      model: model.name,
      alias,
      version: null,
      previousVersion: Number(previous.version),
    });
  }

  async function softDeleteVersion(principal: Principal, model: ModelRow, v: VersionRow): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('model_versions')
        .set({ deleted: 1, current_stage: 'Deleted_Internal', updated_at: now(), updated_by: principal.userName, description: null, run_link: null })
        .where('model_id', '=', model.model_id)
        .where('version', '=', v.version)
        .execute();
      await trx.deleteFrom('model_version_tags').where('model_id', '=', model.model_id).where('version', '=', v.version).execute();
      await trx.deleteFrom('registered_model_aliases').where('model_id', '=', model.model_id).where('version', '=', v.version).execute();
      await touchModel(model.model_id, principal, trx);
    });
    await fsp.rm(versionDir(model, v.version), { recursive: true, force: true });
  }

  return {
    splitName,
    mlflowName,
    fullName,
    versionDir,

    // ---- registered models (MLflow) ----

    async createRegisteredModel(principal: Principal, input: { name: string; description?: string | undefined; tags?: KV[] | undefined }) {
      const row = await insertModel(principal, splitName(input.name), input.description, input.tags ?? []);
      const [json] = await modelsJson([row]);
      return { registered_model: json };
    },

    async getRegisteredModel(principal: Principal, name: string) {
      const row = await authorizedModel(principal, name, 'CAN_READ');
      const [json] = await modelsJson([row]);
      return { registered_model: json };
    },

    async renameRegisteredModel(principal: Principal, name: string, newName: string) {
      const row = await authorizedModel(principal, name, 'CAN_EDIT');
      const target = splitName(newName);
      validateModelName(target.name);
      if (target.catalog === row.catalog_name && target.schema === row.schema_name && target.name === row.name) {
        const [same] = await modelsJson([row]);
        return { registered_model: same };
      }
      if (await modelRowByParts(target)) throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
      if (!(await namespace.schemaExists(target.catalog, target.schema))) throw notFound(`Schema '${target.catalog}.${target.schema}' does not exist.`);
      if (await namespace.nameTaken(target.catalog, target.schema, target.name)) {
        throw new AppError('RESOURCE_ALREADY_EXISTS', `An object named '${target.catalog}.${target.schema}.${target.name}' already exists in the catalog.`);
      }
      const from = path.join(modelsRoot, row.catalog_name, row.schema_name, row.name);
      const to = path.join(modelsRoot, target.catalog, target.schema, target.name);
      const hadFiles = await fsp
        .stat(from)
        .then(() => true)
        .catch(() => false);
      // Files move first so that a failed move leaves the model as it was; the row follows.
      if (hadFiles) {
        await fsp.mkdir(path.dirname(to), { recursive: true });
        await fsp.rename(from, to);
      }
      try {
        await db
          .updateTable('registered_models')
          .set({ catalog_name: target.catalog, schema_name: target.schema, name: target.name, updated_at: now(), updated_by: principal.userName })
          .where('model_id', '=', row.model_id)
          .execute();
      } catch (err) {
        if (hadFiles) await fsp.rename(to, from);
        if (await modelRowByParts(target)) throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
        throw err;
      }
      await events.publish('catalog.securable.renamed', {
        type: 'registered_model',
        fullName: fullName(row),
        newFullName: `${target.catalog}.${target.schema}.${target.name}`,
      });
      const [json] = await modelsJson([(await modelRowByParts(target)) as ModelRow]);
      return { registered_model: json };
    },

    async updateRegisteredModel(principal: Principal, name: string, description: string | undefined) {
      const row = await authorizedModel(principal, name, 'CAN_EDIT');
      await db
        .updateTable('registered_models')
        .set({ description: description ?? null, updated_at: now(), updated_by: principal.userName })
        .where('model_id', '=', row.model_id)
        .execute();
      const [json] = await modelsJson([{ ...row, description: description ?? null }]);
      return { registered_model: json };
    },

    async deleteRegisteredModel(principal: Principal, name: string) {
      const row = await authorizedModel(principal, name, 'CAN_MANAGE');
      await deleteModelRow(row);
      await events.publish('catalog.securable.dropped', { type: 'registered_model', fullName: fullName(row) });
      return {};
    },

    async searchRegisteredModels(
      principal: Principal,
      input: { filter?: string | undefined; max_results?: number | undefined; order_by?: string[] | undefined; page_token?: string | undefined },
    ) {
      const limit = maxResults(input.max_results, 1000, 100);
      const offset = decodeOffset(input.page_token);
      const order = grammar(() => parseRegisteredModelOrderBy(input.order_by));
      let q = db.selectFrom('registered_models as m').selectAll('m');
      q = applyModelFilter(q, input.filter);
      const readable = await readableFilter(principal);
      if (readable !== null) {
        if (readable.length === 0) return { registered_models: [] };
        q = q.where('m.model_id', 'in', readable);
      }
      let hasName = false;
      for (const o of order) {
        const dir = o.ascending ? 'asc' : 'desc';
        if (o.key === 'name') {
          hasName = true;
          q = q.orderBy(binaryText(dialect, 'm.name'), dir);
        } else q = q.orderBy(o.key === 'creation_timestamp' ? 'm.created_at' : 'm.updated_at', dir);
      }
      if (!hasName) q = q.orderBy(binaryText(dialect, 'm.name'), 'asc');
      const rows = (await q
        .orderBy('m.model_id')
        .limit(limit + 1)
        .offset(offset)
        .execute()) as ModelRow[];
      const out: Record<string, unknown> = { registered_models: await modelsJson(rows.slice(0, limit)) };
      if (rows.length > limit) out.next_page_token = encodeOffset(offset + limit);
      return out;
    },

    async getLatestVersions(principal: Principal, name: string, stages: string[] | undefined) {
      const model = await authorizedModel(principal, name, 'CAN_READ');
      const wanted = stages && stages.length > 0 ? stages.map(canonicalStage) : Object.values(STAGES);
      const [json] = await modelsJson([model]);
      const latest = (json?.latest_versions ?? []) as Record<string, unknown>[];
      return { model_versions: latest.filter((v) => wanted.includes(String(v.current_stage))) };
    },

    async setRegisteredModelTag(principal: Principal, name: string, key: string, value: string | undefined) {
      const row = await authorizedModel(principal, name, 'CAN_EDIT');
      validateTag(key, value);
      await db
        .insertInto('registered_model_tags')
        .values({ model_id: row.model_id, key, value: value ?? '' })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: value ?? '' }))
        .execute();
      await touchModel(row.model_id, principal);
      return {};
    },

    async deleteRegisteredModelTag(principal: Principal, name: string, key: string) {
      const row = await authorizedModel(principal, name, 'CAN_EDIT');
      const res = await db.deleteFrom('registered_model_tags').where('model_id', '=', row.model_id).where('key', '=', key).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`Registered model tag with key '${key}' not found for model '${name}'.`);
      await touchModel(row.model_id, principal);
      return {};
    },

    async setRegisteredModelAlias(principal: Principal, name: string, alias: string, version: string) {
      const row = await authorizedModel(principal, name, 'CAN_EDIT');
      await setAlias(principal, row, alias, parseVersion(version), name);
      return {};
    },

    async deleteRegisteredModelAlias(principal: Principal, name: string, alias: string) {
      const row = await authorizedModel(principal, name, 'CAN_EDIT');
      await deleteAlias(principal, row, alias);
      return {};
    },

    async getModelVersionByAlias(principal: Principal, name: string, alias: string) {
      const model = await authorizedModel(principal, name, 'CAN_READ');
      const a = await db
        .selectFrom('registered_model_aliases')
        .select('version')
        .where('model_id', '=', model.model_id)
        .where('alias', '=', alias)
        .executeTakeFirst();
      if (!a) throw notFound(`Registered model alias ${alias} not found.`);
      const v = await versionRow(model, Number(a.version), name);
      return { model_version: await versionJson(model, v) };
    },

    // ---- model versions (MLflow) ----

    /** Loads a model the caller may add versions to. */
    async modelForNewVersion(principal: Principal, name: string): Promise<ModelRow> {
      return authorizedModel(principal, name, 'CAN_EDIT');
    },

    /** Gives the next version number (never reused) and records the version as PENDING_REGISTRATION. */
    async insertPendingVersion(
      principal: Principal,
      model: ModelRow,
      input: {
        source: string;
        runId: string | null;
        runLink?: string | undefined;
        description?: string | undefined;
        loggedModelId: string | null;
        tags: KV[];
      },
    ): Promise<VersionRow> {
      for (const t of input.tags) validateTag(t.key, t.value);
      return db.transaction().execute(async (trx) => {
        const bumped = await trx
          .updateTable('registered_models')
          .set((eb) => ({ last_version: eb('last_version', '+', 1), updated_at: now(), updated_by: principal.userName }))
          .where('model_id', '=', model.model_id)
          .returning('last_version')
          .executeTakeFirstOrThrow();
        const t = now();
        const row: VersionRow = {
          id: randomUUID(),
          model_id: model.model_id,
          version: Number(bumped.last_version),
          created_at: t,
          created_by: principal.userName,
          updated_at: t,
          updated_by: principal.userName,
          current_stage: 'None',
          description: input.description ?? null,
          source: input.source,
          run_id: input.runId,
          run_link: input.runLink ?? null,
          logged_model_id: input.loggedModelId,
          status: 'PENDING_REGISTRATION',
          status_message: null,
          storage_location: null,
          model_meta: null,
          servable: 0,
          not_servable_reason: null,
          deleted: 0,
        };
        await trx.insertInto('model_versions').values(row).execute();
        const last = new Map(input.tags.map((x) => [x.key, x.value ?? '']));
        if (last.size) {
          await trx
            .insertInto('model_version_tags')
            .values([...last].map(([key, value]) => ({ model_id: model.model_id, version: row.version, key, value })))
            .execute();
        }
        return row;
      });
    },

    /** Records how registration ended: READY with the model's facts, or FAILED_REGISTRATION with the reason. */
    async finishVersion(
      model: ModelRow,
      version: VersionRow,
      outcome: {
        status: 'READY' | 'FAILED_REGISTRATION' | 'PENDING_REGISTRATION';
        message: string | null;
        externalLocation: string | null;
        facts: ModelFacts | null;
      },
    ): Promise<VersionRow> {
      const patch = {
        status: outcome.status,
        status_message: outcome.message,
        storage_location: outcome.externalLocation,
        model_meta: outcome.facts ? JSON.stringify(outcome.facts) : null,
        servable: outcome.facts?.servable ? 1 : 0,
        not_servable_reason: outcome.facts?.notServableReason ?? (outcome.status === 'READY' ? null : outcome.message),
        updated_at: now(),
      };
      await db.updateTable('model_versions').set(patch).where('model_id', '=', model.model_id).where('version', '=', version.version).execute();
      const row = { ...version, ...patch };
      // Awaited so subscribers' records (lineage run → version) are durable before registration answers.
      await events.publish('registry.model_version.created', {
        catalog: model.catalog_name,
        schema: model.schema_name,
        model: model.name,
        version: row.version,
        status: row.status,
        runId: row.run_id,
        servable: row.servable === 1,
      });
      return row;
    },

    versionJson,

    /** A live version the caller may act on at `need`. */
    async authorizedVersion(principal: Principal, name: string, version: string, need: PermissionLevel) {
      const model = await authorizedModel(principal, name, need);
      const v = await versionRow(model, parseVersion(version), name);
      return { model, version: v };
    },

    async getModelVersion(principal: Principal, name: string, version: string) {
      const { model, version: v } = await this.authorizedVersion(principal, name, version, 'CAN_READ');
      return { model_version: await versionJson(model, v) };
    },

    async updateModelVersion(principal: Principal, name: string, version: string, description: string | undefined) {
      const { model, version: v } = await this.authorizedVersion(principal, name, version, 'CAN_EDIT');
      const t = now();
      await db
        .updateTable('model_versions')
        .set({ description: description ?? null, updated_at: t, updated_by: principal.userName })
        .where('model_id', '=', model.model_id)
        .where('version', '=', v.version)
        .execute();
      return { model_version: await versionJson(model, { ...v, description: description ?? null, updated_at: t }) };
    },

    async deleteModelVersion(principal: Principal, name: string, version: string) {
      const { model, version: v } = await this.authorizedVersion(principal, name, version, 'CAN_EDIT');
      await softDeleteVersion(principal, model, v);
      return {};
    },

    async transitionStage(principal: Principal, name: string, version: string, stage: string, archiveExisting: boolean) {
      const { model, version: v } = await this.authorizedVersion(principal, name, version, 'CAN_EDIT');
      const target = canonicalStage(stage);
      if (archiveExisting && !ACTIVE_STAGES.includes(target)) {
        throw invalidParameter(
          `Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are Staging, Production`,
        );
      }
      const t = now();
      await db.transaction().execute(async (trx) => {
        if (archiveExisting) {
          await trx
            .updateTable('model_versions')
            .set({ current_stage: 'Archived', updated_at: t, updated_by: principal.userName })
            .where('model_id', '=', model.model_id)
            .where('deleted', '=', 0)
            .where('current_stage', '=', target)
            .where('version', '<>', v.version)
            .execute();
        }
        await trx
          .updateTable('model_versions')
          .set({ current_stage: target, updated_at: t, updated_by: principal.userName })
          .where('model_id', '=', model.model_id)
          .where('version', '=', v.version)
          .execute();
        await touchModel(model.model_id, principal, trx);
      });
      return { model_version: await versionJson(model, { ...v, current_stage: target, updated_at: t }) };
    },

    async searchModelVersions(
      principal: Principal,
      input: { filter?: string | undefined; max_results?: number | undefined; order_by?: string[] | undefined; page_token?: string | undefined },
    ) {
      const limit = maxResults(input.max_results, 200_000, 10_000);
      const offset = decodeOffset(input.page_token);
      const { rest: clauses, prompts } = splitPromptClauses(grammar(() => parseModelVersionFilter(input.filter)));
      const order = grammar(() => parseModelVersionOrderBy(input.order_by));
      let q = db
        .selectFrom('model_versions as v')
        .innerJoin('registered_models as m', 'm.model_id', 'v.model_id')
        .selectAll('v')
        .where('v.deleted', '=', 0)
        .where(promptCondition('m', prompts));
      for (const c of clauses) {
        if (c.type === 'tag') {
          const cond = stringClause(sql.ref('t.value'), c.comparator, String(c.value));
          q = q.where(({ exists, selectFrom }) =>
            exists(
              selectFrom('model_version_tags as t')
                .select('t.key')
                .whereRef('t.model_id', '=', 'v.model_id')
                .whereRef('t.version', '=', 'v.version')
                .where('t.key', '=', c.key)
                .where(cond),
            ),
          );
        } else if (c.key === 'name' && c.comparator === '=') {
          // Exact names resolve to their catalog columns, which the unique index serves.
          const n = splitName(String(c.value));
          q = q.where('m.catalog_name', '=', n.catalog).where('m.schema_name', '=', n.schema).where('m.name', '=', n.name);
        } else if (c.key === 'name') {
          // Matched over the models first (thousands of rows), then their versions through the primary key.
          const cond = nameCondition('n', c.comparator, String(c.value));
          q = q.where('v.model_id', 'in', (eb) => eb.selectFrom('registered_models as n').select('n.model_id').where(cond));
        } else if (c.key === 'version_number') q = q.where(numberClause(sql.ref('v.version'), c.comparator, Number(c.value)));
        else if (c.key === 'run_id' && c.comparator === 'IN') {
          const ids = c.value as string[];
          q = ids.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('v.run_id', 'in', ids);
        } else if (c.key === 'run_id') q = q.where(stringClause(sql.ref('v.run_id'), c.comparator, String(c.value)));
        else if (c.key === 'source_path') q = q.where(stringClause(sql.ref('v.source'), c.comparator, String(c.value)));
        else if (c.key === 'creation_timestamp') q = q.where(numberClause(sql.ref('v.created_at'), c.comparator, Number(c.value)));
        else if (c.key === 'last_updated_timestamp') q = q.where(numberClause(sql.ref('v.updated_at'), c.comparator, Number(c.value)));
        else throw invalidParameter(`Invalid attribute key '${c.key}' specified.`);
      }
      const readable = await readableFilter(principal);
      if (readable !== null) {
        if (readable.length === 0) return { model_versions: [] };
        q = q.where('v.model_id', 'in', readable);
      }
      const keys = new Set<string>();
      for (const o of order) {
        const dir = o.ascending ? 'asc' : 'desc';
        keys.add(o.key);
        if (o.key === 'name') q = q.orderBy(displayNameExpr('m'), dir);
        else if (o.key === 'version_number') q = q.orderBy('v.version', dir);
        else q = q.orderBy(o.key === 'creation_timestamp' ? 'v.created_at' : 'v.updated_at', dir);
      }
      if (!keys.has('name')) q = q.orderBy(displayNameExpr('m'), 'asc');
      if (!keys.has('version_number')) q = q.orderBy('v.version', 'desc');
      const rows = (await q
        .orderBy('v.model_id')
        .limit(limit + 1)
        .offset(offset)
        .execute()) as VersionRow[];
      const page = rows.slice(0, limit);
      const modelIds = [...new Set(page.map((r) => r.model_id))];
      const models = modelIds.length ? await db.selectFrom('registered_models').selectAll().where('model_id', 'in', modelIds).execute() : [];
      const json = await versionsJson(page, new Map(models.map((m) => [m.model_id, m])));
      const out: Record<string, unknown> = { model_versions: json.map((j) => j.json) };
      if (rows.length > limit) out.next_page_token = encodeOffset(offset + limit);
      return out;
    },

    async setModelVersionTag(principal: Principal, name: string, version: string, key: string, value: string | undefined) {
      const { model, version: v } = await this.authorizedVersion(principal, name, version, 'CAN_EDIT');
      validateTag(key, value);
      await db
        .insertInto('model_version_tags')
        .values({ model_id: model.model_id, version: v.version, key, value: value ?? '' })
        .onConflict((oc) => oc.columns(['model_id', 'version', 'key']).doUpdateSet({ value: value ?? '' }))
        .execute();
      return {};
    },

    async deleteModelVersionTag(principal: Principal, name: string, version: string, key: string) {
      const { model, version: v } = await this.authorizedVersion(principal, name, version, 'CAN_EDIT');
      const res = await db
        .deleteFrom('model_version_tags')
        .where('model_id', '=', model.model_id)
        .where('version', '=', v.version)
        .where('key', '=', key)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`Model version tag with key '${key}' not found for model '${name}' version ${v.version}.`);
      return {};
    },

    /** The model's place and version, for serving its files and the download URI. */
    async downloadTarget(principal: Principal, name: string, version: string) {
      const { model, version: v } = await this.authorizedVersion(principal, name, version, 'CAN_READ');
      return { model, version: v };
    },

    /** Checks read access to the files of `<catalog>/<schema>/<model>/<version>/...` and returns the version. */
    async authorizeFilePath(principal: Principal, relPath: string) {
      const [catalog, schema, name, version] = relPath.split('/');
      if (!catalog || !schema || !name || !version) throw new AppError('RESOURCE_DOES_NOT_EXIST', 'Model version files not found.');
      const model = await modelRowByParts({ catalog, schema, name });
      if (!model) throw new AppError('RESOURCE_DOES_NOT_EXIST', 'Model version files not found.');
      // Files of a model outside the default schema are what its three-level name reaches: catalog grants decide.
      await requireAccess(principal, model, 'CAN_READ', mlflowName(model) === fullName(model));
      return { model, version: await versionRow(model, parseVersion(version), mlflowName(model)) };
    },

    // ---- permissions, catalog hooks, lineage ----

    /** True when a registered model with this id exists (for the permissions API). */
    async modelIdExists(modelId: string): Promise<boolean> {
      return (await db.selectFrom('registered_models').select('model_id').where('model_id', '=', modelId).executeTakeFirst()) !== undefined;
    },

    /** How many models a schema holds (the catalog refuses a non-force schema delete while any exist). */
    async countModelsInSchema(catalog: string, schema: string): Promise<number> {
      const row = await db
        .selectFrom('registered_models')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('catalog_name', '=', catalog)
        .where('schema_name', '=', schema)
        .executeTakeFirstOrThrow();
      return Number((row as { n: number | string }).n);
    },

    /** True when the schema holds a model of this name (so tables and volumes keep out of its way). */
    async modelNameTaken(catalog: string, schema: string, name: string): Promise<boolean> {
      return (await modelRowByParts({ catalog, schema, name })) !== undefined;
    },

    /** Drops every model of a schema (a forced schema or catalog delete). */
    async dropModelsInSchema(catalog: string, schema: string): Promise<void> {
      const rows = await db.selectFrom('registered_models').selectAll().where('catalog_name', '=', catalog).where('schema_name', '=', schema).execute();
      for (const r of rows) await deleteModelRow(r);
    },

    // ---- Unity Catalog shapes over the same store ----

    /** Model row by three-level name with a level check (UC addresses models by full name only). */
    async ucModel(principal: Principal, full: string, need: PermissionLevel): Promise<ModelRow> {
      const parts = full.split('.');
      if (parts.length < 3 || parts.some((p) => p === ''))
        throw invalidParameter(`Invalid registered model full name '${full}': expected catalog.schema.model.`);
      const n = { catalog: parts[0] as string, schema: parts[1] as string, name: parts.slice(2).join('.') };
      const row = await modelRowByParts(n);
      if (!row) throw notFound(`Registered model '${full}' does not exist.`);
      await requireAccess(principal, row, need, true);
      return row;
    },

    async ucCreateModel(principal: Principal, input: { name: string; catalog_name: string; schema_name: string; comment?: string | undefined }) {
      if (!/^[a-zA-Z0-9_@-]{1,255}$/.test(input.name)) throw invalidParameter(`Invalid name '${input.name}': names may use letters, digits, _, @ and -.`);
      const row = await insertModel(principal, { catalog: input.catalog_name, schema: input.schema_name, name: input.name }, input.comment, []);
      return this.ucModelJson(row, false);
    },

    async ucModelJson(row: ModelRow, includeAliases: boolean) {
      const out: Record<string, unknown> = {
        name: row.name,
        catalog_name: row.catalog_name,
        schema_name: row.schema_name,
        full_name: fullName(row),
        storage_location: `file://${path.join(modelsRoot, row.catalog_name, row.schema_name, row.name)}`,
        owner: row.owner,
        created_at: Number(row.created_at),
        created_by: row.created_by,
        updated_at: Number(row.updated_at),
        updated_by: row.updated_by,
        id: row.model_id,
      };
      if (row.description !== null) out.comment = row.description;
      if (includeAliases) {
        const aliases = await db.selectFrom('registered_model_aliases').selectAll().where('model_id', '=', row.model_id).orderBy('alias').execute();
        out.aliases = aliases.map((a) => ({
          alias_name: a.alias,
          version_num: Number(a.version),
          catalog_name: row.catalog_name,
          schema_name: row.schema_name,
          model_name: row.name,
        }));
      }
      return out;
    },

    async ucListModels(
      principal: Principal,
      input: { catalog_name?: string | undefined; schema_name?: string | undefined; max_results?: number | undefined; page_token?: string | undefined },
    ) {
      if (input.max_results !== undefined && input.max_results < 0) throw invalidParameter('max_results must be zero or more.');
      const limit = input.max_results ? Math.min(input.max_results, 10_000) : 10_000;
      let q = db.selectFrom('registered_models').selectAll();
      if (input.catalog_name) q = q.where('catalog_name', '=', input.catalog_name);
      if (input.schema_name) q = q.where('schema_name', '=', input.schema_name);
      let readable = await readableFilter(principal);
      if (readable !== null && deps.governance) {
        // Models the caller reads through catalog grants (EXECUTE, ownership) are listed too, as Unity Catalog lists them.
        let names = db.selectFrom('registered_models').select(['model_id', 'catalog_name', 'schema_name', 'name']);
        if (input.catalog_name) names = names.where('catalog_name', '=', input.catalog_name);
        if (input.schema_name) names = names.where('schema_name', '=', input.schema_name);
        const rows = await names.execute();
        const seen = await deps.governance.visible(principal, rows.map(fullName));
        readable = [...new Set([...readable, ...rows.filter((r) => seen.has(fullName(r))).map((r) => r.model_id)])];
      }
      if (readable !== null) {
        if (readable.length === 0) return { registered_models: [] };
        q = q.where('model_id', 'in', readable);
      }
      // The page token is the last full name returned, as in Unity Catalog's name-ordered paging.
      if (input.page_token) {
        const [c = '', s = '', ...rest] = input.page_token.split('.');
        const n = rest.join('.');
        q = q.where((eb) =>
          eb.or([
            eb('catalog_name', '>', c),
            eb.and([eb('catalog_name', '=', c), eb('schema_name', '>', s)]),
            eb.and([eb('catalog_name', '=', c), eb('schema_name', '=', s), eb('name', '>', n)]),
          ]),
        );
      }
      const rows = await q
        .orderBy(binaryText(dialect, 'catalog_name'))
        .orderBy(binaryText(dialect, 'schema_name'))
        .orderBy(binaryText(dialect, 'name'))
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const out: Record<string, unknown> = { registered_models: await Promise.all(page.map((r) => this.ucModelJson(r, false))) };
      const last = page[page.length - 1];
      if (rows.length > limit && last) out.next_page_token = fullName(last);
      return out;
    },

    async ucUpdateModel(
      principal: Principal,
      full: string,
      input: { comment?: string | undefined; new_name?: string | undefined; owner?: string | undefined },
    ) {
      if (input.owner !== undefined) {
        // Giving a model away is the owner's (or a container owner's, a MANAGE holder's, an admin's) call, as in Unity Catalog.
        const target = await this.ucModel(SYSTEM_READER, full, 'CAN_READ');
        const may = principal.isAdmin || target.owner === principal.userName || ((await deps.governance?.mayManage(principal, fullName(target))) ?? false);
        if (!may) throw new AppError('PERMISSION_DENIED', `Only an owner, a holder of MANAGE or an admin may change the owner of '${fullName(target)}'.`);
        if (!deps.governance) throw invalidParameter('Owner changes need Unity Catalog governance, which this server was built without.');
        const ownerId = await deps.governance.principalId(input.owner);
        await db
          .updateTable('registered_models')
          .set({ owner: input.owner, owner_id: ownerId, updated_at: now(), updated_by: principal.userName })
          .where('model_id', '=', target.model_id)
          .execute();
        // The new owner manages the model in the MLflow view too (the workspace ACL decides MLflow writes).
        await access.setObjectAcl(REGISTERED_MODEL_OBJECT, target.model_id, [{ principalId: ownerId, level: 'CAN_MANAGE' }], false);
        if (input.comment === undefined && !input.new_name) return this.ucModelJson({ ...target, owner: input.owner, owner_id: ownerId }, false);
      }
      let row = await this.ucModel(principal, full, 'CAN_EDIT');
      if (input.comment !== undefined) {
        await db
          .updateTable('registered_models')
          .set({ description: input.comment, updated_at: now(), updated_by: principal.userName })
          .where('model_id', '=', row.model_id)
          .execute();
      }
      if (input.new_name && input.new_name !== row.name) {
        if (!/^[a-zA-Z0-9_@-]{1,255}$/.test(input.new_name)) throw invalidParameter(`Invalid name '${input.new_name}'.`);
        await this.renameRegisteredModel(principal, fullName(row), `${row.catalog_name}.${row.schema_name}.${input.new_name}`);
      }
      row = (await db.selectFrom('registered_models').selectAll().where('model_id', '=', row.model_id).executeTakeFirst()) as ModelRow;
      return this.ucModelJson(row, false);
    },

    async ucDeleteModel(principal: Principal, full: string, force: boolean) {
      const row = await this.ucModel(principal, full, 'CAN_MANAGE');
      if (!force) {
        const live = await db.selectFrom('model_versions').select('version').where('model_id', '=', row.model_id).where('deleted', '=', 0).executeTakeFirst();
        if (live) throw invalidParameter(`Registered model '${full}' still has versions; delete them first or pass force=true.`);
      }
      await deleteModelRow(row);
      await events.publish('catalog.securable.dropped', { type: 'registered_model', fullName: fullName(row) });
      return {};
    },

    async ucVersionJson(model: ModelRow, v: VersionRow) {
      const aliases = await db
        .selectFrom('registered_model_aliases')
        .select('alias')
        .where('model_id', '=', model.model_id)
        .where('version', '=', v.version)
        .orderBy('alias')
        .execute();
      const out: Record<string, unknown> = {
        model_name: model.name,
        catalog_name: model.catalog_name,
        schema_name: model.schema_name,
        version: Number(v.version),
        source: v.source,
        status: v.status,
        storage_location: v.storage_location ?? `file://${versionDir(model, v.version)}`,
        created_at: Number(v.created_at),
        created_by: v.created_by,
        updated_at: Number(v.updated_at),
        updated_by: v.updated_by,
        id: v.id,
        aliases: aliases.map((a) => ({ alias_name: a.alias, version_num: Number(v.version) })),
      };
      if (v.run_id) out.run_id = v.run_id;
      if (v.description !== null) out.comment = v.description;
      return out;
    },

    async ucVersion(principal: Principal, full: string, version: string, need: PermissionLevel) {
      const model = await this.ucModel(principal, full, need);
      const v = await versionRow(model, parseVersion(version), full);
      return { model, version: v };
    },

    async ucListVersions(principal: Principal, full: string, input: { max_results?: number | undefined; page_token?: string | undefined }) {
      const model = await this.ucModel(principal, full, 'CAN_READ');
      if (input.max_results !== undefined && input.max_results < 0) throw invalidParameter('max_results must be zero or more.');
      const limit = input.max_results ? Math.min(input.max_results, 10_000) : 10_000;
      let after = 0;
      if (input.page_token) {
        if (!/^\d{1,9}$/.test(input.page_token)) throw invalidParameter(`Invalid page token '${input.page_token.slice(0, 50)}'.`);
        after = Number(input.page_token);
      }
      const rows = await db
        .selectFrom('model_versions')
        .selectAll()
        .where('model_id', '=', model.model_id)
        .where('deleted', '=', 0)
        .where('version', '>', after)
        .orderBy('version')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const out: Record<string, unknown> = { model_versions: await Promise.all(page.map((v) => this.ucVersionJson(model, v))) };
      const last = page[page.length - 1];
      if (rows.length > limit && last) out.next_page_token = String(last.version);
      return out;
    },

    async ucUpdateVersion(principal: Principal, full: string, version: string, comment: string | undefined) {
      const { model, version: v } = await this.ucVersion(principal, full, version, 'CAN_EDIT');
      const t = now();
      if (comment !== undefined) {
        await db
          .updateTable('model_versions')
          .set({ description: comment, updated_at: t, updated_by: principal.userName })
          .where('model_id', '=', model.model_id)
          .where('version', '=', v.version)
          .execute();
      }
      return this.ucVersionJson(model, { ...v, description: comment ?? v.description, updated_at: t });
    },

    async ucDeleteVersion(principal: Principal, full: string, version: string) {
      const { model, version: v } = await this.ucVersion(principal, full, version, 'CAN_EDIT');
      await softDeleteVersion(principal, model, v);
      return {};
    },

    async ucFinalizeVersion(principal: Principal, full: string, version: string) {
      const { model, version: v } = await this.ucVersion(principal, full, version, 'CAN_EDIT');
      if (v.status === 'FAILED_REGISTRATION') throw invalidParameter(`Model version ${full}/${v.version} failed registration: ${v.status_message ?? ''}`);
      if (v.status !== 'READY') {
        const t = now();
        await db
          .updateTable('model_versions')
          .set({ status: 'READY', updated_at: t, updated_by: principal.userName })
          .where('model_id', '=', model.model_id)
          .where('version', '=', v.version)
          .execute();
        return this.ucVersionJson(model, { ...v, status: 'READY', updated_at: t });
      }
      return this.ucVersionJson(model, v);
    },

    async ucSetAlias(principal: Principal, full: string, alias: string, version: number | undefined) {
      const model = await this.ucModel(principal, full, 'CAN_EDIT');
      if (version === undefined) throw invalidParameter("Missing value for required parameter 'version_num'.");
      await setAlias(principal, model, alias, version, full);
      return { alias_name: alias, version_num: version, catalog_name: model.catalog_name, schema_name: model.schema_name, model_name: model.name };
    },

    async ucDeleteAlias(principal: Principal, full: string, alias: string) {
      const model = await this.ucModel(principal, full, 'CAN_EDIT');
      await deleteAlias(principal, model, alias);
      return {};
    },

    async ucGetAlias(principal: Principal, full: string, alias: string) {
      const model = await this.ucModel(principal, full, 'CAN_READ');
      const a = await db
        .selectFrom('registered_model_aliases')
        .select('version')
        .where('model_id', '=', model.model_id)
        .where('alias', '=', alias)
        .executeTakeFirst();
      if (!a) throw notFound(`Alias '${alias}' of registered model '${full}' does not exist.`);
      const v = await versionRow(model, Number(a.version), full);
      return this.ucVersionJson(model, v);
    },

    /** Version facts Weir read from the MLmodel file (flavors, signature, servability). */
    versionFacts(v: VersionRow): ModelFacts | null {
      return v.model_meta ? (JSON.parse(v.model_meta) as ModelFacts) : null;
    },

    // ---- serving: added for the serving domain (resolves what an endpoint serves, without a caller) ----

    /** A live version by model name and version or alias, with its files' directory and facts; null when either is missing. */
    async resolveServedVersion(
      name: string,
      ref: { version: number } | { alias: string },
    ): Promise<{ modelId: string; fullName: string; version: number; status: string; dir: string; facts: ModelFacts | null } | null> {
      const model = await modelRowByParts(splitName(name));
      if (!model) return null;
      let version: number;
      if ('alias' in ref) {
        const a = await db
          .selectFrom('registered_model_aliases')
          .select('version')
          .where('model_id', '=', model.model_id)
          .where('alias', '=', ref.alias)
          .executeTakeFirst();
        if (!a) return null;
        version = Number(a.version);
      } else version = ref.version;
      const v = await findVersion(model.model_id, version);
      if (!v) return null;
      return {
        modelId: model.model_id,
        fullName: fullName(model),
        version,
        status: v.status,
        dir: versionDir(model, version),
        facts: v.model_meta ? (JSON.parse(v.model_meta) as ModelFacts) : null,
      };
    },
  };
}

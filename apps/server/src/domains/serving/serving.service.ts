import { randomUUID } from 'node:crypto';
import type { PermissionLevel, serving } from '@weir/contracts';
import type { Kysely, Selectable } from 'kysely';
import { AppError, invalidParameter, notFound } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import type { ModelFacts } from '../registry/index.ts';
import type { InferenceCapture, PayloadTarget } from './serving.capture.ts';
import { createServingMetrics } from './serving.metrics.ts';
import type { LoadedModel, ModelRuntime } from './serving.runtime.ts';
import type { ScoringRequest } from './serving.scoring.ts';
import type { ServingTables } from './serving.tables.ts';

type Row = Selectable<ServingTables['serving_endpoints']>;

/** The permission object type of serving endpoints (`/api/2.0/permissions/serving-endpoints/{id}`). */
export const SERVING_ENDPOINT_OBJECT = 'serving-endpoints';

/**
 * Databricks' endpoint levels on the identity service's three: CAN_VIEW is CAN_READ, CAN_QUERY is CAN_EDIT, CAN_MANAGE
 * is CAN_MANAGE (the order is the same, so one rank check serves both).
 */
const ENDPOINT_LEVEL: Record<'CAN_VIEW' | 'CAN_QUERY' | 'CAN_MANAGE', PermissionLevel> = {
  CAN_VIEW: 'CAN_READ',
  CAN_QUERY: 'CAN_EDIT',
  CAN_MANAGE: 'CAN_MANAGE',
};
const RANK: Record<PermissionLevel, number> = { CAN_READ: 1, CAN_EDIT: 2, CAN_MANAGE: 3 };
const DISPLAY_LEVEL: Record<PermissionLevel, keyof typeof ENDPOINT_LEVEL> = { CAN_READ: 'CAN_VIEW', CAN_EDIT: 'CAN_QUERY', CAN_MANAGE: 'CAN_MANAGE' };

/** The levels `/api/2.0/permissions/serving-endpoints/{id}/permissionLevels` lists. */
const ENDPOINT_LEVEL_DESCRIPTIONS: { permission_level: keyof typeof ENDPOINT_LEVEL; description: string }[] = [
  { permission_level: 'CAN_VIEW', description: 'Can view the endpoint, its config and its state' },
  { permission_level: 'CAN_QUERY', description: 'Can view and query the endpoint' },
  { permission_level: 'CAN_MANAGE', description: 'Can view, query, update, delete and manage permissions of the endpoint' },
];

/** One entry of a permissions request, before its level is checked. */
export interface EndpointAclEntryInput {
  user_name?: string | undefined;
  group_name?: string | undefined;
  service_principal_name?: string | undefined;
  permission_level: string;
}

/** What serving needs from the registry: a version's files and facts by version or alias, and the caller's read check. */
export interface ServedModelSource {
  resolveServedVersion(
    name: string,
    ref: { version: number } | { alias: string },
  ): Promise<{ modelId: string; fullName: string; version: number; status: string; dir: string; facts: ModelFacts | null } | null>;
  /** Throws unless the caller may read the model (CAN_READ). */
  authorizeRead(principal: Principal, name: string): Promise<void>;
}

/** The slice of identity serving needs for endpoint permissions. */
export interface EndpointAccess {
  levelOn(principal: Principal, objectType: string, objectId: string): Promise<PermissionLevel | null>;
  readableObjectIds(principal: Principal, objectType: string): Promise<Set<string> | null>;
  setObjectAcl(objectType: string, objectId: string, entries: { principalId: number; level: PermissionLevel }[], replace: boolean): Promise<void>;
  dropObjectAcl(objectType: string, objectId: string): Promise<void>;
  objectAcl(objectType: string, objectId: string): Promise<{ principalId: number; level: PermissionLevel }[]>;
  principalNames(ids: number[]): Promise<Map<number, { name: string; kind: string }>>;
  principalIdByName(kind: 'user' | 'service_principal' | 'group', name: string): Promise<number>;
}

/** A served entity as stored: always named, and pointing at a version or an alias. */
interface StoredEntity {
  name: string;
  entity_name: string;
  entity_version?: string | undefined;
  entity_alias?: string | undefined;
  workload_size?: string | undefined;
  scale_to_zero_enabled?: boolean | undefined;
}

/** A config as stored and shown. */
interface StoredConfig {
  served_entities: StoredEntity[];
  traffic_config: { routes: { served_entity_name: string; traffic_percentage: number }[] };
  auto_capture_config?: Record<string, unknown> | undefined;
  config_version: number;
  start_time?: number | undefined;
}

/** One loaded served entity of a generation. */
interface LiveEntity {
  name: string;
  fullName: string;
  version: number;
  model: LoadedModel;
}

/** The set of entities one config loaded; traffic moves between generations atomically. */
interface Generation {
  config: StoredConfig;
  entities: LiveEntity[];
  /** Cumulative traffic bounds per entity, for one random draw per request. */
  routes: { upTo: number; entity: LiveEntity }[];
  inFlight: number;
  retired: boolean;
  drained: (() => void) | null;
  /** Where this generation's requests are captured (the endpoint's creator owns the table), worked out on first use. */
  capture?: PayloadTarget | null;
}

/** In-memory state of one endpoint. */
interface EndpointState {
  id: string;
  name: string;
  current: Generation | null;
  updating: boolean;
  updateFailed: boolean;
  /** Why the endpoint or its last update is not ready, per served entity name. */
  reasons: Map<string, string>;
  /** Updates of one endpoint run one after another. */
  chain: Promise<void>;
  /** The re-apply an alias move started; requests wait for it so none is answered by the version the alias left. */
  aliasSwitch: Promise<void> | null;
  deleted: boolean;
}

/** What a captured request carries besides its answer. */
interface CaptureContext {
  requestId: string;
  clientRequestId: string | null;
  body: string;
  /** True for a `text/csv` body (a Python worker is handed the body as it came). */
  csv?: boolean | undefined;
  owner: { id: number; userName: string };
}

/** A served entity's answer to one request. */
export interface ScoringResult {
  servedEntity: string;
  predictions: unknown;
  /** `{"predictions": ...}` as JSON text when it was already serialized (for the inference table), so it is not built twice. */
  json?: string;
}

/** An endpoint the caller may query, as `authorizeQuery` answers it; only `queryAuthorized` looks inside. */
export interface QueryableEndpoint {
  readonly __queryable: unique symbol;
}

/** The serving service: endpoints, their configs and state, and scoring. */
export type ServingService = ReturnType<typeof createServingService>;

/** Creates the serving service; call `start()` once to restore persisted endpoints. */
export function createServingService(deps: {
  db: Kysely<ServingTables>;
  models: ServedModelSource;
  access: EndpointAccess;
  runtime: ModelRuntime;
  events: EventBus;
  /** Inference tables; without it `auto_capture_config` is refused. */
  capture?: InferenceCapture;
  /** True when a catalog schema exists (inference tables are created in it). */
  schemaExists?: (catalog: string, schema: string) => Promise<boolean>;
  now?: () => number;
  log?: (message: string) => void;
}) {
  const { db, models, access, runtime, events } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const states = new Map<string, EndpointState>();
  const metrics = createServingMetrics();

  function stateOf(row: Row): EndpointState {
    let st = states.get(row.name);
    if (!st || st.id !== row.id) {
      st = {
        id: row.id,
        name: row.name,
        current: null,
        updating: false,
        updateFailed: false,
        reasons: new Map(),
        chain: Promise.resolve(),
        aliasSwitch: null,
        deleted: false,
      };
      states.set(row.name, st);
    }
    return st;
  }

  // Scoring looks its endpoint up on every request; the row is reused for a second so the hot path does not prepare and
  // run a query each time. A delete on this server drops it at once; one on another replica is seen within the second.
  const queryRows = new Map<string, { row: Row; until: number }>();
  const QUERY_ROW_TTL_MS = 1000;
  async function queryRowByName(name: string): Promise<Row> {
    const cached = queryRows.get(name);
    const t = Date.now();
    if (cached && cached.until > t) return cached.row;
    const row = await rowByName(name);
    if (queryRows.size > 10_000) queryRows.clear();
    queryRows.set(name, { row, until: t + QUERY_ROW_TTL_MS });
    return row;
  }

  async function rowByName(name: string): Promise<Row> {
    const row = await db.selectFrom('serving_endpoints').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw notFound(`Endpoint with name '${name}' does not exist.`);
    return row;
  }

  async function rowById(id: string): Promise<Row> {
    const row = await db.selectFrom('serving_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Serving endpoint with id '${id.slice(0, 100)}' does not exist.`);
    return row;
  }

  /** The Databricks permissions answer for an endpoint, in the endpoint's own level names. */
  async function aclJson(id: string) {
    const acl = await access.objectAcl(SERVING_ENDPOINT_OBJECT, id);
    const names = await access.principalNames(acl.map((e) => e.principalId));
    return {
      object_id: `/serving-endpoints/${id}`,
      object_type: 'serving-endpoint',
      access_control_list: acl.map((e) => {
        const p = names.get(e.principalId);
        const who =
          p?.kind === 'group'
            ? { group_name: p.name }
            : p?.kind === 'service_principal'
              ? { service_principal_name: p.name }
              : { user_name: p?.name ?? String(e.principalId) };
        return { ...who, all_permissions: [{ permission_level: DISPLAY_LEVEL[e.level], inherited: false }] };
      }),
    };
  }

  async function requireLevel(principal: Principal, row: Row, need: keyof typeof ENDPOINT_LEVEL): Promise<PermissionLevel> {
    if (principal.isAdmin) return 'CAN_MANAGE';
    const have = await access.levelOn(principal, SERVING_ENDPOINT_OBJECT, row.id);
    if (!have || RANK[have] < RANK[ENDPOINT_LEVEL[need]]) {
      throw new AppError('PERMISSION_DENIED', `User '${principal.userName}' does not have ${need} permission on serving endpoint '${row.name}'.`);
    }
    return have;
  }

  /** Checks a config and gives every entity its name; refuses what could never serve, before anything is stored. */
  async function normalizeConfig(principal: Principal, input: serving.EndpointCoreConfig, version: number): Promise<StoredConfig> {
    const given = [
      ...(input.served_entities ?? []),
      ...(input.served_models ?? []).map((m) => ({ ...m, entity_name: m.model_name ?? m.entity_name, entity_version: m.model_version ?? m.entity_version })),
    ];
    if (given.length === 0) throw invalidParameter('The endpoint config must have at least one served entity.');
    const entities: StoredEntity[] = [];
    for (const e of given) {
      if ((e.entity_version === undefined) === (e.entity_alias === undefined)) {
        throw invalidParameter(`Served entity '${e.entity_name}' must name exactly one of 'entity_version' or 'entity_alias'.`);
      }
      if (e.entity_version !== undefined && !/^\d{1,9}$/.test(e.entity_version)) {
        throw invalidParameter(`Served entity '${e.entity_name}': entity_version must be a version number, got '${e.entity_version}'.`);
      }
      const short = e.entity_name.split('.').pop() as string;
      const name = e.name ?? `${short}-${e.entity_version ?? e.entity_alias}`.slice(0, 63);
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw invalidParameter(`Served entity name '${name}' may only use letters, digits, '-', '_' and '.'.`);
      if (entities.some((x) => x.name === name)) throw invalidParameter(`Served entity name '${name}' is used more than once in the config.`);
      await models.authorizeRead(principal, e.entity_name);
      const ref = e.entity_alias !== undefined ? { alias: e.entity_alias } : { version: Number(e.entity_version) };
      const resolved = await models.resolveServedVersion(e.entity_name, ref);
      if (!resolved) {
        throw notFound(
          e.entity_alias !== undefined
            ? `Alias '${e.entity_alias}' of registered model '${e.entity_name}' does not exist.`
            : `Model version ${e.entity_version} of registered model '${e.entity_name}' does not exist.`,
        );
      }
      refuseUnservable(name, resolved);
      entities.push({
        name,
        entity_name: resolved.fullName,
        ...(e.entity_alias !== undefined ? { entity_alias: e.entity_alias } : { entity_version: String(resolved.version) }),
        ...(e.workload_size !== undefined ? { workload_size: e.workload_size } : {}),
        ...(e.scale_to_zero_enabled !== undefined ? { scale_to_zero_enabled: e.scale_to_zero_enabled } : {}),
      });
    }
    let routes: StoredConfig['traffic_config']['routes'];
    if (input.traffic_config) {
      routes = [];
      for (const r of input.traffic_config.routes) {
        const target = r.served_entity_name ?? r.served_model_name;
        if (!target) throw invalidParameter("Every traffic route must name a 'served_entity_name'.");
        if (!entities.some((e) => e.name === target)) throw invalidParameter(`Traffic route names '${target}', which is not a served entity of this config.`);
        if (routes.some((x) => x.served_entity_name === target)) throw invalidParameter(`Traffic route for '${target}' is given more than once.`);
        routes.push({ served_entity_name: target, traffic_percentage: r.traffic_percentage });
      }
      const sum = routes.reduce((a, r) => a + r.traffic_percentage, 0);
      if (sum !== 100) throw invalidParameter(`Traffic percentages must sum to 100, got ${sum}.`);
    } else if (entities.length === 1) {
      routes = [{ served_entity_name: (entities[0] as StoredEntity).name, traffic_percentage: 100 }];
    } else {
      throw invalidParameter('A config with more than one served entity needs a traffic_config whose routes sum to 100.');
    }
    const capture = input.auto_capture_config;
    if (capture?.enabled) {
      if (!deps.capture || !deps.schemaExists) throw invalidParameter('Inference tables are not available on this server.');
      if (!capture.catalog_name || !capture.schema_name || !capture.table_name_prefix) {
        throw invalidParameter('auto_capture_config needs catalog_name, schema_name and table_name_prefix when enabled.');
      }
      if (!/^[A-Za-z0-9_-]{1,200}$/.test(capture.table_name_prefix)) {
        throw invalidParameter(`Invalid table_name_prefix '${capture.table_name_prefix.slice(0, 80)}': use letters, digits, '_' or '-'.`);
      }
      if (!(await deps.schemaExists(capture.catalog_name, capture.schema_name))) {
        throw notFound(`Schema '${capture.catalog_name}.${capture.schema_name}' does not exist.`);
      }
    }
    return { served_entities: entities, traffic_config: { routes }, ...(capture ? { auto_capture_config: { ...capture } } : {}), config_version: version };
  }

  function refuseUnservable(name: string, v: { fullName: string; version: number; status: string; facts: ModelFacts | null }): void {
    if (v.status !== 'READY') throw invalidParameter(`Served entity '${name}': model version ${v.fullName}/${v.version} is ${v.status}, not READY.`);
    const why = runtime.unservableReason(v.facts);
    if (why) throw invalidParameter(`Served entity '${name}': model version ${v.fullName}/${v.version} cannot be served: ${why}`);
  }

  /** Resolves, loads and warms every entity of a config; on failure releases what it loaded and says why per entity. */
  async function loadGeneration(config: StoredConfig): Promise<{ generation: Generation | null; reasons: Map<string, string> }> {
    const entities: LiveEntity[] = [];
    const reasons = new Map<string, string>();
    for (const e of config.served_entities) {
      try {
        const ref = e.entity_alias !== undefined ? { alias: e.entity_alias } : { version: Number(e.entity_version) };
        const v = await models.resolveServedVersion(e.entity_name, ref);
        if (!v)
          throw new Error(
            e.entity_alias !== undefined
              ? `alias '${e.entity_alias}' of '${e.entity_name}' does not exist`
              : `version ${e.entity_version} of '${e.entity_name}' does not exist`,
          );
        try {
          refuseUnservable(e.name, v);
        } catch (err) {
          throw new Error((err as Error).message);
        }
        const model = await runtime.acquire(v.dir, v.facts as ModelFacts);
        entities.push({ name: e.name, fullName: v.fullName, version: v.version, model });
      } catch (err) {
        reasons.set(e.name, `Served entity '${e.name}' failed to load: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (reasons.size > 0) {
      for (const x of entities) runtime.release(x.model.key);
      return { generation: null, reasons };
    }
    let upTo = 0;
    const routes = config.traffic_config.routes
      .filter((r) => r.traffic_percentage > 0)
      .map((r) => {
        upTo += r.traffic_percentage;
        return { upTo, entity: entities.find((x) => x.name === r.served_entity_name) as LiveEntity };
      });
    return { generation: { config, entities, routes, inFlight: 0, retired: false, drained: null }, reasons };
  }

  /** Lets the old generation finish its requests, then unloads its sessions. */
  function retire(gen: Generation): void {
    gen.retired = true;
    const unload = () => {
      for (const e of gen.entities) runtime.release(e.model.key);
    };
    if (gen.inFlight === 0) unload();
    else gen.drained = unload;
  }

  /** Applies a config to a live endpoint: load and warm first, then switch traffic in one assignment, then drain the old. */
  function scheduleApply(st: EndpointState, config: StoredConfig, persist: boolean): Promise<void> {
    st.updating = true;
    const run = async () => {
      if (st.deleted) return;
      const { generation, reasons } = await loadGeneration(config);
      if (st.deleted) {
        if (generation) retire(generation);
        return;
      }
      if (!generation) {
        st.updating = false;
        st.updateFailed = true;
        st.reasons = reasons;
        if (persist) await db.updateTable('serving_endpoints').set({ pending_config: null }).where('id', '=', st.id).execute();
        log(`serving endpoint '${st.name}' update failed: ${[...reasons.values()].join('; ')}`);
        return;
      }
      if (persist) {
        await db
          .updateTable('serving_endpoints')
          .set({ config: JSON.stringify(config), pending_config: null, config_version: config.config_version, updated_at: now() })
          .where('id', '=', st.id)
          .execute();
      }
      const old = st.current;
      st.current = generation;
      st.updating = false;
      st.updateFailed = false;
      st.reasons = new Map();
      if (old) retire(old);
      // Lineage (model version → endpoint → payload table) is recorded once traffic has moved to the new versions.
      const payload = payloadTarget(config, { id: 0, userName: '' });
      await events.publish('serving.endpoint.config_applied', {
        endpointId: st.id,
        endpoint: st.name,
        servedVersions: generation.entities.map((e) => ({ model: e.fullName, version: e.version })),
        ...(payload ? { payloadTable: `${payload.catalog}.${payload.schema}.${payload.table}` } : {}),
      });
    };
    const next = st.chain.then(run, run).catch((err: unknown) => {
      st.updating = false;
      st.updateFailed = true;
      st.reasons = new Map([['*', `Config update failed: ${err instanceof Error ? err.message : String(err)}`]]);
    });
    st.chain = next;
    return next;
  }

  function entityJson(e: StoredEntity, gen: Generation | null, st: EndpointState, row: Row, pending: boolean) {
    const live = gen?.entities.find((x) => x.name === e.name);
    const reason = st.reasons.get(e.name);
    const deployment = pending
      ? st.updateFailed
        ? 'DEPLOYMENT_FAILED'
        : 'DEPLOYMENT_CREATING'
      : live
        ? 'DEPLOYMENT_READY'
        : reason
          ? 'DEPLOYMENT_FAILED'
          : 'DEPLOYMENT_CREATING';
    return {
      name: e.name,
      entity_name: e.entity_name,
      entity_version: live && !pending ? String(live.version) : e.entity_version,
      ...(e.entity_alias !== undefined ? { entity_alias: e.entity_alias } : {}),
      ...(e.workload_size !== undefined ? { workload_size: e.workload_size } : {}),
      ...(e.scale_to_zero_enabled !== undefined ? { scale_to_zero_enabled: e.scale_to_zero_enabled } : {}),
      creator: row.creator,
      creation_timestamp: Number(row.updated_at),
      state: {
        deployment,
        deployment_state_message: reason ?? (deployment === 'DEPLOYMENT_READY' ? 'Served entity is ready.' : 'Served entity is loading.'),
      },
    };
  }

  function configJson(config: StoredConfig, gen: Generation | null, st: EndpointState, row: Row, pending: boolean) {
    return {
      served_entities: config.served_entities.map((e) => entityJson(e, gen, st, row, pending)),
      traffic_config: config.traffic_config,
      ...(config.auto_capture_config ? { auto_capture_config: config.auto_capture_config } : {}),
      config_version: config.config_version,
      ...(pending && config.start_time !== undefined ? { start_time: config.start_time } : {}),
    };
  }

  function endpointJson(row: Row, level: PermissionLevel, detailed: boolean) {
    const st = stateOf(row);
    const active = st.current?.config ?? (row.config ? (JSON.parse(row.config) as StoredConfig) : null);
    const pending = row.pending_config ? (JSON.parse(row.pending_config) as StoredConfig) : null;
    const out: Record<string, unknown> = {
      name: row.name,
      id: row.id,
      creator: row.creator,
      creation_timestamp: Number(row.created_at),
      last_updated_timestamp: Number(row.updated_at),
      state: {
        ready: st.current ? 'READY' : 'NOT_READY',
        config_update: st.updating ? 'IN_PROGRESS' : st.updateFailed ? 'UPDATE_FAILED' : 'NOT_UPDATING',
      },
      tags: JSON.parse(row.tags) as unknown[],
      permission_level: DISPLAY_LEVEL[level],
    };
    if (row.description !== null) out.description = row.description;
    if (active) out.config = configJson(active, st.current, st, row, false);
    if (detailed && pending) out.pending_config = configJson(pending, st.current, st, row, true);
    if (st.reasons.size > 0) out.state_message = [...st.reasons.values()].join(' ');
    const target = active ? payloadTarget(active, { id: row.creator_id, userName: row.creator }) : null;
    if (target) {
      const full = `${target.catalog}.${target.schema}.${target.table}`;
      const failed = deps.capture?.lastError(full) ?? null;
      (out.state as Record<string, unknown>).payload_table = {
        name: full,
        status: failed ? 'FAILED' : 'ACTIVE',
        ...(failed ? { status_message: failed } : {}),
      };
    }
    return out;
  }

  /** The payload table of a config, when capture is on. */
  function payloadTarget(config: StoredConfig, owner: { id: number; userName: string }): PayloadTarget | null {
    const c = config.auto_capture_config as { enabled?: boolean; catalog_name?: string; schema_name?: string; table_name_prefix?: string } | undefined;
    if (!c?.enabled || !c.catalog_name || !c.schema_name || !c.table_name_prefix) return null;
    return { catalog: c.catalog_name, schema: c.schema_name, table: `${c.table_name_prefix}_payload`, owner };
  }

  /** Routes one request by the traffic split of the generation serving now. */
  async function score(st: EndpointState, decode: () => ScoringRequest, capture?: CaptureContext): Promise<ScoringResult> {
    if (st.aliasSwitch) await st.aliasSwitch;
    const gen = st.current;
    if (!gen) {
      metrics.start(st.name, '')(false);
      const why = st.reasons.size ? [...st.reasons.values()].join(' ') : 'The endpoint is still loading its served entities.';
      throw new AppError('TEMPORARILY_UNAVAILABLE', `Endpoint '${st.name}' is not ready: ${why}`);
    }
    const draw = Math.random() * 100;
    const route = gen.routes.find((r) => draw < r.upTo) ?? gen.routes[gen.routes.length - 1];
    if (!route) throw new AppError('TEMPORARILY_UNAVAILABLE', `Endpoint '${st.name}' routes no traffic: every route has 0 percent.`);
    gen.inFlight++;
    const finish = metrics.start(st.name, route.entity.name);
    const began = now();
    let ok = false;
    let response = '';
    let status = 200;
    try {
      const predictions = await route.entity.model.predict(decode(), capture ? { text: capture.body, csv: capture.csv === true } : undefined);
      ok = true;
      if (!capture) return { servedEntity: route.entity.name, predictions };
      response = JSON.stringify({ predictions });
      return { servedEntity: route.entity.name, predictions, json: response };
    } catch (err) {
      status = err instanceof AppError ? err.status : 500;
      response = JSON.stringify(err instanceof AppError ? { error_code: err.code, message: err.message } : { error_code: 'INTERNAL_ERROR' });
      throw err;
    } finally {
      finish(ok);
      if (capture && deps.capture && gen.capture === undefined) gen.capture = payloadTarget(gen.config, capture.owner);
      const target = capture && deps.capture ? gen.capture : null;
      if (target && capture) {
        deps.capture?.record(target, {
          client_request_id: capture.clientRequestId,
          databricks_request_id: capture.requestId,
          timestamp_ms: began,
          status_code: status,
          execution_time_ms: now() - began,
          request: capture.body,
          response,
          served_entity_name: route.entity.name,
          model_name: route.entity.fullName,
          model_version: String(route.entity.version),
        });
      }
      gen.inFlight--;
      if (gen.retired && gen.inFlight === 0 && gen.drained) {
        const unload = gen.drained;
        gen.drained = null;
        unload();
      }
    }
  }

  // An alias move re-applies the active config of every endpoint that follows that alias. The switch is started before
  // the registry answers the alias call (emit runs this synchronously), and requests wait for it, so every request that
  // arrives after the alias move has returned is answered by the version the alias now names.
  events.on('registry.alias.moved', (e) => {
    const full = `${e.catalog}.${e.schema}.${e.model}`;
    const switches: Promise<void>[] = [];
    for (const st of states.values()) {
      const config = st.current?.config;
      if (!config || st.deleted) continue;
      if (!config.served_entities.some((x) => x.entity_alias === e.alias && x.entity_name === full)) continue;
      const applied = scheduleApply(st, config, false);
      st.aliasSwitch = applied;
      void applied.finally(() => {
        if (st.aliasSwitch === applied) st.aliasSwitch = null;
      });
      switches.push(applied);
    }
    return Promise.all(switches).then(() => {});
  });

  return {
    /** Restores every persisted endpoint: its active config loads again, and an interrupted update is retried. */
    async start(): Promise<void> {
      const rows = await db.selectFrom('serving_endpoints').selectAll().execute();
      for (const row of rows) {
        const st = stateOf(row);
        if (row.config) void scheduleApply(st, JSON.parse(row.config) as StoredConfig, false);
        if (row.pending_config) void scheduleApply(st, JSON.parse(row.pending_config) as StoredConfig, true);
      }
    },

    /** Waits until every queued config update has finished (tests and graceful shutdown). */
    async settled(): Promise<void> {
      await Promise.all([...states.values()].map((s) => s.chain));
    },

    async create(
      principal: Principal,
      input: {
        name: string;
        config?: serving.EndpointCoreConfig | undefined;
        tags?: { key: string; value?: string | undefined }[] | undefined;
        description?: string | undefined;
      },
    ) {
      if (!/^[A-Za-z0-9_-]{1,63}$/.test(input.name)) {
        throw invalidParameter(`Invalid endpoint name '${input.name.slice(0, 80)}': use 1-63 letters, digits, '-' or '_'.`);
      }
      if (!input.config) throw invalidParameter("Missing value for required parameter 'config'.");
      const existing = await db.selectFrom('serving_endpoints').select('id').where('name', '=', input.name).executeTakeFirst();
      if (existing) throw new AppError('RESOURCE_ALREADY_EXISTS', `Endpoint with name '${input.name}' already exists.`);
      const t = now();
      const config = { ...(await normalizeConfig(principal, input.config, 1)), start_time: t };
      const row: Row = {
        id: randomUUID().replace(/-/g, ''),
        name: input.name,
        creator: principal.userName,
        creator_id: principal.id,
        created_at: t,
        updated_at: t,
        config: null,
        pending_config: JSON.stringify(config),
        config_version: 0,
        tags: JSON.stringify((input.tags ?? []).map((x) => ({ key: x.key, ...(x.value !== undefined ? { value: x.value } : {}) }))),
        description: input.description ?? null,
      };
      try {
        await db.insertInto('serving_endpoints').values(row).execute();
      } catch (err) {
        // Two creates of one name raced: the unique index decides.
        if (await db.selectFrom('serving_endpoints').select('id').where('name', '=', input.name).executeTakeFirst()) {
          throw new AppError('RESOURCE_ALREADY_EXISTS', `Endpoint with name '${input.name}' already exists.`);
        }
        throw err;
      }
      if (!principal.isAdmin) await access.setObjectAcl(SERVING_ENDPOINT_OBJECT, row.id, [{ principalId: principal.id, level: 'CAN_MANAGE' }], false);
      const st = stateOf(row);
      void scheduleApply(st, config, true);
      return endpointJson(row, 'CAN_MANAGE', true);
    },

    async get(principal: Principal, name: string) {
      const row = await rowByName(name);
      const level = await requireLevel(principal, row, 'CAN_VIEW');
      return endpointJson(row, level, true);
    },

    async list(principal: Principal) {
      const rows = await db.selectFrom('serving_endpoints').selectAll().orderBy('name').execute();
      const readable = await access.readableObjectIds(principal, SERVING_ENDPOINT_OBJECT);
      const out = [];
      for (const row of rows) {
        if (readable && !readable.has(row.id)) continue;
        const level = principal.isAdmin ? 'CAN_MANAGE' : ((await access.levelOn(principal, SERVING_ENDPOINT_OBJECT, row.id)) ?? 'CAN_READ');
        out.push(endpointJson(row, level, false));
      }
      return { endpoints: out };
    },

    async remove(principal: Principal, name: string) {
      const row = await rowByName(name);
      await requireLevel(principal, row, 'CAN_MANAGE');
      await db.deleteFrom('serving_endpoints').where('id', '=', row.id).execute();
      queryRows.delete(name);
      await access.dropObjectAcl(SERVING_ENDPOINT_OBJECT, row.id);
      metrics.drop(name);
      const st = states.get(name);
      if (st && st.id === row.id) {
        st.deleted = true;
        states.delete(name);
        if (st.current) retire(st.current);
        st.current = null;
      }
      return {};
    },

    async updateConfig(principal: Principal, name: string, input: serving.EndpointCoreConfig) {
      const row = await rowByName(name);
      await requireLevel(principal, row, 'CAN_MANAGE');
      const st = stateOf(row);
      if (st.updating) throw new AppError('RESOURCE_CONFLICT', `Endpoint '${name}' is already updating its config; wait until config_update is NOT_UPDATING.`);
      const active = row.config ? (JSON.parse(row.config) as StoredConfig) : null;
      const t = now();
      const version =
        Math.max(row.config_version, active?.config_version ?? 0, row.pending_config ? (JSON.parse(row.pending_config) as StoredConfig).config_version : 0) + 1;
      const merged: serving.EndpointCoreConfig = {
        ...input,
        ...(input.auto_capture_config === undefined && active?.auto_capture_config ? { auto_capture_config: active.auto_capture_config } : {}),
      };
      const config = { ...(await normalizeConfig(principal, merged, version)), start_time: t };
      await db
        .updateTable('serving_endpoints')
        .set({ pending_config: JSON.stringify(config), updated_at: t })
        .where('id', '=', row.id)
        .execute();
      void scheduleApply(st, config, true);
      return endpointJson({ ...row, pending_config: JSON.stringify(config), updated_at: t }, 'CAN_MANAGE', true);
    },

    /** Logs of a served entity: its load state and reasons (Weir has no container build). */
    async buildLogs(principal: Principal, name: string, entity: string) {
      const row = await rowByName(name);
      await requireLevel(principal, row, 'CAN_VIEW');
      const st = stateOf(row);
      const live = st.current?.entities.find((e) => e.name === entity);
      const known =
        live ||
        st.reasons.has(entity) ||
        (row.config ?? '').includes(`"name":${JSON.stringify(entity)}`) ||
        (row.pending_config ?? '').includes(`"name":${JSON.stringify(entity)}`);
      if (!known) throw notFound(`Served entity '${entity}' does not exist in endpoint '${name}'.`);
      const lines = [];
      if (live) {
        const how = live.model.engine === 'python' ? 'a Python worker (mlflow models serve)' : 'onnxruntime (in process)';
        lines.push(`Served entity '${entity}' serves ${live.fullName} version ${live.version} with ${how}.`);
      }
      const reason = st.reasons.get(entity);
      if (reason) lines.push(reason);
      if (!live && !reason) lines.push(`Served entity '${entity}' is loading.`);
      return { logs: `${lines.join('\n')}\n` };
    },

    /** Scores a request on the named endpoint (the caller needs CAN_QUERY); `decode` runs after routing so bad input counts against the entity. */
    async query(
      principal: Principal,
      name: string,
      decode: () => ScoringRequest,
      request?: { requestId: string; clientRequestId: string | null; body: string; csv?: boolean },
    ): Promise<ScoringResult> {
      return this.queryAuthorized(await this.authorizeQuery(principal, name), decode, request);
    },

    /** Scores on an endpoint whose query permission `authorizeQuery` already checked (one lookup per request, not two). */
    async queryAuthorized(
      endpoint: QueryableEndpoint,
      decode: () => ScoringRequest,
      request?: { requestId: string; clientRequestId: string | null; body: string; csv?: boolean },
    ): Promise<ScoringResult> {
      const { row } = endpoint as unknown as { row: Row };
      return score(stateOf(row), decode, request ? { ...request, owner: { id: row.creator_id, userName: row.creator } } : undefined);
    },

    /** The endpoint's access control list in its own level names (CAN_VIEW, CAN_QUERY, CAN_MANAGE); needs CAN_MANAGE. */
    async getPermissions(principal: Principal, id: string) {
      const row = await rowById(id);
      await requireLevel(principal, row, 'CAN_MANAGE');
      return aclJson(row.id);
    },

    /**
     * Sets (`replace`: PUT) or adds to (PATCH) the endpoint's access control list. Only the endpoint's own level names are
     * accepted; the generic CAN_READ / CAN_EDIT are refused so a grant never means something the caller did not write.
     */
    async setPermissions(principal: Principal, id: string, acl: EndpointAclEntryInput[], replace: boolean) {
      const row = await rowById(id);
      await requireLevel(principal, row, 'CAN_MANAGE');
      const entries: { principalId: number; level: PermissionLevel }[] = [];
      for (const ace of acl) {
        const level = ENDPOINT_LEVEL[ace.permission_level as keyof typeof ENDPOINT_LEVEL];
        if (!Object.hasOwn(ENDPOINT_LEVEL, ace.permission_level) || !level) {
          throw invalidParameter(
            `Permission level '${ace.permission_level.slice(0, 100)}' is not valid for serving endpoints; use one of CAN_VIEW, CAN_QUERY, CAN_MANAGE.`,
          );
        }
        const who = [ace.user_name, ace.group_name, ace.service_principal_name].filter((x) => x !== undefined);
        if (who.length !== 1) throw invalidParameter('Each access control entry needs exactly one of user_name, group_name or service_principal_name.');
        const principalId = ace.user_name
          ? await access.principalIdByName('user', ace.user_name)
          : ace.group_name
            ? await access.principalIdByName('group', ace.group_name)
            : await access.principalIdByName('service_principal', ace.service_principal_name as string);
        entries.push({ principalId, level });
      }
      await access.setObjectAcl(SERVING_ENDPOINT_OBJECT, row.id, entries, replace);
      return aclJson(row.id);
    },

    /** The permission levels serving endpoints support (any caller who can see the endpoint). */
    async permissionLevels(principal: Principal, id: string) {
      const row = await rowById(id);
      await requireLevel(principal, row, 'CAN_VIEW');
      return { permission_levels: ENDPOINT_LEVEL_DESCRIPTIONS };
    },

    /** Per-endpoint series for `/metrics`. */
    renderMetrics(): string {
      return metrics.render();
    },

    /** Checks that the endpoint exists and the caller may query it, before its body is read. */
    async authorizeQuery(principal: Principal, name: string): Promise<QueryableEndpoint> {
      const row = await queryRowByName(name);
      await requireLevel(principal, row, 'CAN_QUERY');
      return { row } as unknown as QueryableEndpoint;
    },

    /** True when an endpoint with this id exists (for the permissions API). */
    async endpointIdExists(id: string): Promise<boolean> {
      return (await db.selectFrom('serving_endpoints').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    },

    /** Unloads every session (graceful shutdown). */
    async stop(): Promise<void> {
      await this.settled();
      await deps.capture?.stop();
      for (const st of states.values()) {
        st.deleted = true;
        if (st.current) retire(st.current);
        st.current = null;
      }
      states.clear();
    },
  };
}

// The authorization matrix, generated from the route table: every route × {no token, disabled user, stranger, grantee
// through a nested group, owner, admin} answers what the route's declared requirement says. A route that declares no
// requirement, or has no example request below, fails the suite, so a new route is covered (or flagged) automatically.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthRequirement, RouteSpec } from '../../platform/http.ts';
import { sqlFunctionInfo, startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { linearOnnxModel } from '../serving/serving.onnx-fixture.ts';
import { routeKey } from './governance.route-requirements.ts';
import { makeGroup, makeUser, type TestUser } from './governance.test-helpers.ts';

type Who = 'none' | 'disabled' | 'stranger' | 'grantee' | 'owner' | 'admin';
const EVERYONE: Who[] = ['none', 'disabled', 'stranger', 'grantee', 'owner', 'admin'];

/** One request: `query` goes to the query string, `body` is sent as JSON (or as is when `raw`). */
interface Example {
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  raw?: string;
}

/** What the fixtures made, shared by the examples. */
interface Fixtures {
  s: TestServer;
  users: Record<Exclude<Who, 'none'>, TestUser>;
  experimentId: string;
  runId: string;
  modelName: string;
  loggedModelId: string;
  tableId: string;
  volumeId: string;
  tableLocation: string;
  endpointId: string;
  /** A fresh serving endpoint (over `mx_onnx` v1) owned by `owner` whose ACL gives the grantee's group CAN_MANAGE. */
  freshEndpoint(who: Who): Promise<{ name: string; id: string }>;
  /** A fresh MLflow registered model owned by `owner` whose ACL gives the grantee's group CAN_MANAGE. */
  freshModel(who: Who): Promise<string>;
  /** A fresh experiment (with a run) owned by `owner` whose ACL gives the grantee's group CAN_MANAGE. */
  freshExperiment(who: Who): Promise<{ experimentId: string; runId: string }>;
  /** A fresh object owned by `owner` and granted like the shared fixtures, for destructive calls. */
  fresh(kind: 'table' | 'volume' | 'function' | 'schema' | 'catalog' | 'ucModel' | 'user' | 'group' | 'servicePrincipal', who: Who): Promise<string>;
  /** A request as a given caller (fixtures made per caller, e.g. its own token or statement). */
  as(who: Who, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** A counter for names that must not repeat. */
  unique(prefix: string): string;
}

const UC = '/api/2.1/unity-catalog';
const COLUMNS = [{ name: 'id', type_text: 'bigint', type_name: 'LONG', position: 0 }];
const functionInfo = (name: string) => sqlFunctionInfo('mx', 's', name);

/** An MLmodel with an onnx flavor and a column signature a, b, c (doubles). */
const ONNX_MLMODEL = `artifact_path: model
flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
mlflow_version: 3.1.0
signature:
  inputs: '[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}, {"type": "double", "name": "c", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
  params: null
`;

/** Unity Catalog privileges the grantee's group holds on catalog `mx` (everything but MANAGE), as the fixtures grant them. */
const GRANTED_TO_GROUP = [
  'USE_CATALOG',
  'USE_SCHEMA',
  'BROWSE',
  'SELECT',
  'MODIFY',
  'EXECUTE',
  'READ_VOLUME',
  'WRITE_VOLUME',
  'CREATE_SCHEMA',
  'CREATE_TABLE',
  'CREATE_VOLUME',
  'CREATE_FUNCTION',
  'CREATE_MODEL',
];

/**
 * The example request of each route, keyed `METHOD canonical-path`. Destructive ones take a fresh object per caller.
 * Keep this next to the route table: the suite fails for a route without one.
 */
const EXAMPLES: Record<string, (f: Fixtures, who: Who) => Example | Promise<Example>> = {
  // ---- system and web (public) ----
  'GET /health': () => ({ path: '/health' }),
  'GET /version': () => ({ path: '/version' }),
  'GET /api/3.0/mlflow/server-info': () => ({ path: '/api/3.0/mlflow/server-info' }),
  'GET /metrics': () => ({ path: '/metrics' }),
  'GET /api/openapi.json': () => ({ path: '/api/openapi.json' }),
  'GET /': () => ({ path: '/' }),
  'POST /api/weir/v1/auth/logout': () => ({ path: '/api/weir/v1/auth/logout', body: {} }),
  'GET /api/weir/v1/auth/session': () => ({ path: '/api/weir/v1/auth/session' }),

  // ---- identity: the caller's own ----
  'POST /api/2.0/token/create': () => ({ path: '/api/2.0/token/create', body: { comment: 'matrix' } }),
  'GET /api/2.0/token/list': () => ({ path: '/api/2.0/token/list' }),
  'GET /api/2.0/preview/scim/v2/Me': () => ({ path: '/api/2.0/preview/scim/v2/Me' }),
  'GET /api/2.0/permissions/:object_type/:object_id/permissionLevels': (f) => ({
    path: `/api/2.0/permissions/experiments/${f.experimentId}/permissionLevels`,
  }),
  'GET /api/2.0/permissions/:object_type/:object_id': (f) => ({ path: `/api/2.0/permissions/experiments/${f.experimentId}` }),
  'PATCH /api/2.0/permissions/:object_type/:object_id': (f) => ({
    path: `/api/2.0/permissions/experiments/${f.experimentId}`,
    body: { access_control_list: [{ group_name: 'mx_group', permission_level: 'CAN_MANAGE' }] },
  }),
  'PUT /api/2.0/permissions/:object_type/:object_id': (f) => ({
    path: `/api/2.0/permissions/experiments/${f.experimentId}`,
    body: {
      access_control_list: [
        { group_name: 'mx_group', permission_level: 'CAN_MANAGE' },
        { user_name: 'mx-owner@example.com', permission_level: 'CAN_MANAGE' },
      ],
    },
  }),

  // ---- SCIM (admins) ----
  'GET /api/2.0/preview/scim/v2/Users': () => ({ path: '/api/2.0/preview/scim/v2/Users' }),
  'POST /api/2.0/preview/scim/v2/Users': (f) => ({ path: '/api/2.0/preview/scim/v2/Users', body: { userName: `${f.unique('u')}@example.com` } }),
  'GET /api/2.0/preview/scim/v2/Users/:id': (f) => ({ path: `/api/2.0/preview/scim/v2/Users/${f.users.owner.id}` }),
  'GET /api/2.0/preview/scim/v2/Groups': () => ({ path: '/api/2.0/preview/scim/v2/Groups' }),
  'POST /api/2.0/preview/scim/v2/Groups': (f) => ({ path: '/api/2.0/preview/scim/v2/Groups', body: { displayName: f.unique('g') } }),
  'GET /api/2.0/preview/scim/v2/ServicePrincipals': () => ({ path: '/api/2.0/preview/scim/v2/ServicePrincipals' }),
  'POST /api/2.0/preview/scim/v2/ServicePrincipals': (f) => ({ path: '/api/2.0/preview/scim/v2/ServicePrincipals', body: { displayName: f.unique('sp') } }),
  'GET /api/2.0/token-management/tokens': () => ({ path: '/api/2.0/token-management/tokens' }),

  // ---- Unity Catalog: catalogs, schemas, volumes, functions, tables ----
  [`POST ${UC}/catalogs`]: (f) => ({ path: `${UC}/catalogs`, body: { name: f.unique('cat') } }),
  [`GET ${UC}/catalogs`]: () => ({ path: `${UC}/catalogs` }),
  [`GET ${UC}/catalogs/:name`]: () => ({ path: `${UC}/catalogs/mx` }),
  [`PATCH ${UC}/catalogs/:name`]: () => ({ path: `${UC}/catalogs/mx`, body: { comment: 'matrix' } }),
  [`DELETE ${UC}/catalogs/:name`]: async (f, who) => ({ path: `${UC}/catalogs/${await f.fresh('catalog', who)}`, query: { force: 'true' } }),
  [`POST ${UC}/schemas`]: (f) => ({ path: `${UC}/schemas`, body: { name: f.unique('sch'), catalog_name: 'mx' } }),
  [`GET ${UC}/schemas`]: () => ({ path: `${UC}/schemas`, query: { catalog_name: 'mx' } }),
  [`GET ${UC}/schemas/:full_name`]: () => ({ path: `${UC}/schemas/mx.s` }),
  [`PATCH ${UC}/schemas/:full_name`]: () => ({ path: `${UC}/schemas/mx.s`, body: { comment: 'matrix' } }),
  [`DELETE ${UC}/schemas/:full_name`]: async (f, who) => ({ path: `${UC}/schemas/${await f.fresh('schema', who)}`, query: { force: 'true' } }),
  [`POST ${UC}/volumes`]: (f) => ({ path: `${UC}/volumes`, body: { name: f.unique('vol'), catalog_name: 'mx', schema_name: 's', volume_type: 'MANAGED' } }),
  [`GET ${UC}/volumes`]: () => ({ path: `${UC}/volumes`, query: { catalog_name: 'mx', schema_name: 's' } }),
  [`GET ${UC}/volumes/:name`]: () => ({ path: `${UC}/volumes/mx.s.v` }),
  [`PATCH ${UC}/volumes/:name`]: () => ({ path: `${UC}/volumes/mx.s.v`, body: { comment: 'matrix' } }),
  [`DELETE ${UC}/volumes/:name`]: async (f, who) => ({ path: `${UC}/volumes/${await f.fresh('volume', who)}` }),
  [`POST ${UC}/functions`]: (f) => ({ path: `${UC}/functions`, body: { function_info: functionInfo(f.unique('fn')) } }),
  [`GET ${UC}/functions`]: () => ({ path: `${UC}/functions`, query: { catalog_name: 'mx', schema_name: 's' } }),
  [`GET ${UC}/functions/:name`]: () => ({ path: `${UC}/functions/mx.s.f` }),
  [`DELETE ${UC}/functions/:name`]: async (f, who) => ({ path: `${UC}/functions/${await f.fresh('function', who)}` }),
  [`PATCH ${UC}/functions/:name`]: () => ({ path: `${UC}/functions/mx.s.f`, body: { owner: 'mx-owner@example.com' } }),
  [`POST ${UC}/tables`]: (f) => ({
    path: `${UC}/tables`,
    body: { name: f.unique('tbl'), catalog_name: 'mx', schema_name: 's', table_type: 'MANAGED', data_source_format: 'DELTA', columns: COLUMNS },
  }),
  [`GET ${UC}/tables`]: () => ({ path: `${UC}/tables`, query: { catalog_name: 'mx', schema_name: 's' } }),
  [`GET ${UC}/tables/:full_name`]: () => ({ path: `${UC}/tables/mx.s.t` }),
  [`DELETE ${UC}/tables/:full_name`]: async (f, who) => ({ path: `${UC}/tables/${await f.fresh('table', who)}` }),
  [`PATCH ${UC}/tables/:full_name`]: () => ({ path: `${UC}/tables/mx.s.t`, body: { owner: 'mx-owner@example.com' } }),

  // ---- grants ----
  [`GET ${UC}/permissions/:securable_type/:full_name`]: () => ({ path: `${UC}/permissions/table/mx.s.t` }),
  [`PATCH ${UC}/permissions/:securable_type/:full_name`]: () => ({
    path: `${UC}/permissions/table/mx.s.t`,
    body: { changes: [{ principal: 'mx_group', add: ['SELECT'] }] },
  }),
  [`GET ${UC}/effective-permissions/:securable_type/:full_name`]: () => ({ path: `${UC}/effective-permissions/table/mx.s.t` }),

  // ---- Files API ----
  'GET /api/2.0/fs/files/*': () => ({ path: '/api/2.0/fs/files/Volumes/mx/s/v/a.txt' }),
  'PUT /api/2.0/fs/files/*': (f) => ({ path: `/api/2.0/fs/files/Volumes/mx/s/v/${f.unique('up')}.txt`, raw: 'hello' }),
  'DELETE /api/2.0/fs/files/*': async (f) => {
    const name = f.unique('del');
    await f.s.call('PUT', `/api/2.0/fs/files/Volumes/mx/s/v/${name}.txt`, 'x', f.users.owner.token);
    return { path: `/api/2.0/fs/files/Volumes/mx/s/v/${name}.txt` };
  },
  'GET /api/2.0/fs/directories/*': () => ({ path: '/api/2.0/fs/directories/Volumes/mx/s/v/' }),
  'PUT /api/2.0/fs/directories/*': (f) => ({ path: `/api/2.0/fs/directories/Volumes/mx/s/v/${f.unique('dir')}` }),
  'DELETE /api/2.0/fs/directories/*': async (f) => {
    const name = f.unique('rmdir');
    await f.s.call('PUT', `/api/2.0/fs/directories/Volumes/mx/s/v/${name}`, undefined, f.users.owner.token);
    return { path: `/api/2.0/fs/directories/Volumes/mx/s/v/${name}` };
  },

  // ---- SQL ----
  'POST /api/2.0/sql/statements': () => ({ path: '/api/2.0/sql/statements', body: { statement: 'SELECT 1', wait_timeout: '30s' } }),

  // ---- lineage ----
  'GET /api/2.0/lineage-tracking/table-lineage': () => ({ path: '/api/2.0/lineage-tracking/table-lineage', query: { table_name: 'mx.s.t' } }),
  'GET /api/2.0/lineage-tracking/column-lineage': () => ({
    path: '/api/2.0/lineage-tracking/column-lineage',
    query: { table_name: 'mx.s.t', column_name: 'id' },
  }),
  'GET /api/weir/v1/lineage': () => ({ path: '/api/weir/v1/lineage', query: { entity: 'table:mx.s.t' } }),

  // ---- MLflow tracking (experiments, runs) ----
  'POST /api/2.0/mlflow/experiments/create': (f) => ({ path: '/api/2.0/mlflow/experiments/create', body: { name: f.unique('exp') } }),
  'POST /api/2.0/mlflow/experiments/search': () => ({ path: '/api/2.0/mlflow/experiments/search', body: { max_results: 10 } }),
  'GET /api/2.0/mlflow/experiments/search': () => ({ path: '/api/2.0/mlflow/experiments/search', query: { max_results: '10' } }),
  'GET /api/2.0/mlflow/experiments/list': () => ({ path: '/api/2.0/mlflow/experiments/list' }),
  'GET /api/2.0/mlflow/experiments/get': (f) => ({ path: '/api/2.0/mlflow/experiments/get', query: { experiment_id: f.experimentId } }),
  'GET /api/2.0/mlflow/experiments/get-by-name': () => ({ path: '/api/2.0/mlflow/experiments/get-by-name', query: { experiment_name: 'mx-exp' } }),
  'POST /api/2.0/mlflow/experiments/set-experiment-tag': (f) => ({
    path: '/api/2.0/mlflow/experiments/set-experiment-tag',
    body: { experiment_id: f.experimentId, key: 'k', value: 'v' },
  }),
  'POST /api/2.0/mlflow/runs/create': (f) => ({ path: '/api/2.0/mlflow/runs/create', body: { experiment_id: f.experimentId } }),
  'GET /api/2.0/mlflow/runs/get': (f) => ({ path: '/api/2.0/mlflow/runs/get', query: { run_id: f.runId } }),
  'POST /api/2.0/mlflow/runs/search': (f) => ({ path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [f.experimentId] } }),
  'POST /api/2.0/mlflow/runs/log-metric': (f) => ({
    path: '/api/2.0/mlflow/runs/log-metric',
    body: { run_id: f.runId, key: 'loss', value: 0.5, timestamp: 1_700_000_000_000, step: 1 },
  }),
  'POST /api/2.0/mlflow/runs/log-parameter': (f) => ({ path: '/api/2.0/mlflow/runs/log-parameter', body: { run_id: f.runId, key: f.unique('p'), value: '1' } }),
  'POST /api/2.0/mlflow/runs/set-tag': (f) => ({ path: '/api/2.0/mlflow/runs/set-tag', body: { run_id: f.runId, key: 't', value: 'v' } }),
  'POST /api/2.0/mlflow/runs/log-batch': (f) => ({
    path: '/api/2.0/mlflow/runs/log-batch',
    body: { run_id: f.runId, metrics: [{ key: 'acc', value: 0.9, timestamp: 1_700_000_000_000, step: 2 }] },
  }),
  'GET /api/2.0/mlflow/metrics/get-history': (f) => ({ path: '/api/2.0/mlflow/metrics/get-history', query: { run_id: f.runId, metric_key: 'loss' } }),

  // ---- MLflow registry ----
  'POST /api/2.0/mlflow/registered-models/create': (f) => ({ path: '/api/2.0/mlflow/registered-models/create', body: { name: f.unique('rm') } }),
  'GET /api/2.0/mlflow/registered-models/get': (f) => ({ path: '/api/2.0/mlflow/registered-models/get', query: { name: f.modelName } }),
  'GET /api/2.0/mlflow/registered-models/search': () => ({ path: '/api/2.0/mlflow/registered-models/search' }),
  'POST /api/2.0/mlflow/registered-models/search': () => ({ path: '/api/2.0/mlflow/registered-models/search', body: {} }),
  'GET /api/2.0/mlflow/registered-models/list': () => ({ path: '/api/2.0/mlflow/registered-models/list' }),
  'PATCH /api/2.0/mlflow/registered-models/update': (f) => ({
    path: '/api/2.0/mlflow/registered-models/update',
    body: { name: f.modelName, description: 'matrix' },
  }),
  'POST /api/2.0/mlflow/registered-models/set-tag': (f) => ({
    path: '/api/2.0/mlflow/registered-models/set-tag',
    body: { name: f.modelName, key: 'k', value: 'v' },
  }),
  'GET /api/2.0/mlflow/model-versions/search': () => ({ path: '/api/2.0/mlflow/model-versions/search' }),
  'POST /api/2.0/mlflow/model-versions/search': () => ({ path: '/api/2.0/mlflow/model-versions/search', body: {} }),

  // ---- Unity Catalog models ----
  [`POST ${UC}/models`]: (f) => ({ path: `${UC}/models`, body: { name: f.unique('ucm'), catalog_name: 'mx', schema_name: 's' } }),
  [`GET ${UC}/models`]: () => ({ path: `${UC}/models`, query: { catalog_name: 'mx', schema_name: 's' } }),
  [`GET ${UC}/models/:full_name`]: () => ({ path: `${UC}/models/mx.s.m` }),
  [`PATCH ${UC}/models/:full_name`]: () => ({ path: `${UC}/models/mx.s.m`, body: { comment: 'matrix' } }),
  [`DELETE ${UC}/models/:full_name`]: async (f, who) => ({ path: `${UC}/models/${await f.fresh('ucModel', who)}` }),
  [`GET ${UC}/models/:full_name/versions`]: () => ({ path: `${UC}/models/mx.s.m/versions` }),

  // ---- identity: destructive and per-caller ----
  'POST /api/2.0/token/delete': async (f, who) => {
    const mine = await f.as(who, 'POST', '/api/2.0/token/create', { comment: 'to delete' });
    return { path: '/api/2.0/token/delete', body: { token_id: mine.body?.token_info?.token_id ?? 'none' } };
  },
  'POST /api/weir/v1/auth/login': () => ({
    path: '/api/weir/v1/auth/login',
    body: { username: 'mx-owner@example.com', password: 'pw-mx-owner@example.com-0123456789' },
  }),
  'PATCH /api/2.0/preview/scim/v2/Users/:id': async (f, who) => ({
    path: `/api/2.0/preview/scim/v2/Users/${await f.fresh('user', who)}`,
    body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }] },
  }),
  'PUT /api/2.0/preview/scim/v2/Users/:id': async (f, who) => {
    const id = await f.fresh('user', who);
    const user = await f.as('admin', 'GET', `/api/2.0/preview/scim/v2/Users/${id}`);
    return { path: `/api/2.0/preview/scim/v2/Users/${id}`, body: { userName: user.body.userName, displayName: 'Put' } };
  },
  'DELETE /api/2.0/preview/scim/v2/Users/:id': async (f, who) => ({ path: `/api/2.0/preview/scim/v2/Users/${await f.fresh('user', who)}` }),
  'GET /api/2.0/preview/scim/v2/Groups/:id': async (f, who) => ({ path: `/api/2.0/preview/scim/v2/Groups/${await f.fresh('group', who)}` }),
  'PATCH /api/2.0/preview/scim/v2/Groups/:id': async (f, who) => ({
    path: `/api/2.0/preview/scim/v2/Groups/${await f.fresh('group', who)}`,
    body: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: [{ value: String(f.users.owner.id) }] }],
    },
  }),
  'PUT /api/2.0/preview/scim/v2/Groups/:id': async (f, who) => {
    const id = await f.fresh('group', who);
    const group = await f.as('admin', 'GET', `/api/2.0/preview/scim/v2/Groups/${id}`);
    return { path: `/api/2.0/preview/scim/v2/Groups/${id}`, body: { displayName: group.body.displayName } };
  },
  'DELETE /api/2.0/preview/scim/v2/Groups/:id': async (f, who) => ({ path: `/api/2.0/preview/scim/v2/Groups/${await f.fresh('group', who)}` }),
  'GET /api/2.0/preview/scim/v2/ServicePrincipals/:id': async (f, who) => ({
    path: `/api/2.0/preview/scim/v2/ServicePrincipals/${await f.fresh('servicePrincipal', who)}`,
  }),
  'PATCH /api/2.0/preview/scim/v2/ServicePrincipals/:id': async (f, who) => ({
    path: `/api/2.0/preview/scim/v2/ServicePrincipals/${await f.fresh('servicePrincipal', who)}`,
    body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }] },
  }),
  'PUT /api/2.0/preview/scim/v2/ServicePrincipals/:id': async (f, who) => {
    const id = await f.fresh('servicePrincipal', who);
    const sp = await f.as('admin', 'GET', `/api/2.0/preview/scim/v2/ServicePrincipals/${id}`);
    return { path: `/api/2.0/preview/scim/v2/ServicePrincipals/${id}`, body: { applicationId: sp.body.applicationId, displayName: 'Put' } };
  },
  'DELETE /api/2.0/preview/scim/v2/ServicePrincipals/:id': async (f, who) => ({
    path: `/api/2.0/preview/scim/v2/ServicePrincipals/${await f.fresh('servicePrincipal', who)}`,
  }),
  'POST /api/2.0/token-management/on-behalf-of/tokens': async (f, who) => {
    const id = await f.fresh('servicePrincipal', who);
    const sp = await f.as('admin', 'GET', `/api/2.0/preview/scim/v2/ServicePrincipals/${id}`);
    return { path: '/api/2.0/token-management/on-behalf-of/tokens', body: { application_id: sp.body.applicationId, lifetime_seconds: 3600 } };
  },
  'GET /api/2.0/token-management/tokens/:token_id': async (f) => {
    const t = await f.as('owner', 'POST', '/api/2.0/token/create', { comment: 'listed' });
    return { path: `/api/2.0/token-management/tokens/${t.body.token_info.token_id}` };
  },
  'DELETE /api/2.0/token-management/tokens/:token_id': async (f) => {
    const t = await f.as('owner', 'POST', '/api/2.0/token/create', { comment: 'revoked' });
    return { path: `/api/2.0/token-management/tokens/${t.body.token_info.token_id}` };
  },

  // ---- MLflow tracking: destructive and the rest ----
  'POST /api/2.0/mlflow/experiments/delete': async (f, who) => ({
    path: '/api/2.0/mlflow/experiments/delete',
    body: { experiment_id: (await f.freshExperiment(who)).experimentId },
  }),
  'POST /api/2.0/mlflow/experiments/restore': async (f, who) => {
    const { experimentId } = await f.freshExperiment(who);
    await f.as('owner', 'POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: experimentId });
    return { path: '/api/2.0/mlflow/experiments/restore', body: { experiment_id: experimentId } };
  },
  'POST /api/2.0/mlflow/experiments/update': async (f, who) => ({
    path: '/api/2.0/mlflow/experiments/update',
    body: { experiment_id: (await f.freshExperiment(who)).experimentId, new_name: f.unique('renamed') },
  }),
  'POST /api/2.0/mlflow/experiments/delete-experiment-tag': async (f, who) => {
    const { experimentId } = await f.freshExperiment(who);
    await f.as('owner', 'POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: experimentId, key: 'k', value: 'v' });
    return { path: '/api/2.0/mlflow/experiments/delete-experiment-tag', body: { experiment_id: experimentId, key: 'k' } };
  },
  'POST /api/2.0/mlflow/experiments/search-datasets': (f) => ({
    path: '/api/2.0/mlflow/experiments/search-datasets',
    body: { experiment_ids: [f.experimentId] },
  }),
  'POST /api/2.0/mlflow/runs/update': (f) => ({ path: '/api/2.0/mlflow/runs/update', body: { run_id: f.runId, run_name: 'matrix' } }),
  'POST /api/2.0/mlflow/runs/delete': async (f, who) => ({ path: '/api/2.0/mlflow/runs/delete', body: { run_id: (await f.freshExperiment(who)).runId } }),
  'POST /api/2.0/mlflow/runs/restore': async (f, who) => {
    const { runId } = await f.freshExperiment(who);
    await f.as('owner', 'POST', '/api/2.0/mlflow/runs/delete', { run_id: runId });
    return { path: '/api/2.0/mlflow/runs/restore', body: { run_id: runId } };
  },
  'POST /api/2.0/mlflow/runs/delete-tag': async (f, who) => {
    const { runId } = await f.freshExperiment(who);
    await f.as('owner', 'POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, key: 'k', value: 'v' });
    return { path: '/api/2.0/mlflow/runs/delete-tag', body: { run_id: runId, key: 'k' } };
  },
  'POST /api/2.0/mlflow/runs/log-inputs': (f) => ({
    path: '/api/2.0/mlflow/runs/log-inputs',
    body: { run_id: f.runId, datasets: [{ dataset: { name: 'd', digest: 'abc', source_type: 'local', source: '{}' } }] },
  }),
  'POST /api/2.0/mlflow/runs/outputs': (f) => ({ path: '/api/2.0/mlflow/runs/outputs', body: { run_id: f.runId, models: [{ model_id: f.loggedModelId }] } }),
  'POST /api/2.0/mlflow/runs/log-model': (f) => ({
    path: '/api/2.0/mlflow/runs/log-model',
    body: {
      run_id: f.runId,
      model_json: JSON.stringify({ run_id: f.runId, artifact_path: 'model', flavors: {}, utc_time_created: '2024-01-01 00:00:00.000000' }),
    },
  }),
  'GET /api/2.0/mlflow/metrics/get-history-bulk-interval': (f) => ({
    path: '/api/2.0/mlflow/metrics/get-history-bulk-interval',
    query: { run_ids: f.runId, metric_key: 'loss' },
  }),
  'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk': (f) => ({
    path: '/ajax-api/2.0/mlflow/metrics/get-history-bulk',
    query: { run_id: f.runId, metric_key: 'loss' },
  }),
  'GET /api/2.0/mlflow/artifacts/list': (f) => ({ path: '/api/2.0/mlflow/artifacts/list', query: { run_id: f.runId } }),
  'GET /get-artifact': (f) => ({ path: '/get-artifact', query: { run_id: f.runId, path: 'notes.txt' } }),
  'POST /ajax-api/2.0/mlflow/upload-artifact': (f) => ({
    path: '/ajax-api/2.0/mlflow/upload-artifact',
    query: { run_uuid: f.runId, path: `${f.unique('up')}.txt` },
    raw: 'x',
  }),
  'GET /api/2.0/mlflow-artifacts/artifacts': (f) => ({
    path: '/api/2.0/mlflow-artifacts/artifacts',
    query: { path: `${f.experimentId}/${f.runId}/artifacts` },
  }),
  'GET /api/2.0/mlflow-artifacts/artifacts/*': (f) => ({ path: `/api/2.0/mlflow-artifacts/artifacts/${f.experimentId}/${f.runId}/artifacts/notes.txt` }),
  'PUT /api/2.0/mlflow-artifacts/artifacts/*': (f) => ({
    path: `/api/2.0/mlflow-artifacts/artifacts/${f.experimentId}/${f.runId}/artifacts/${f.unique('put')}.txt`,
    raw: 'x',
  }),
  'DELETE /api/2.0/mlflow-artifacts/artifacts/*': async (f) => {
    const name = f.unique('gone');
    await f.s.call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${f.experimentId}/${f.runId}/artifacts/${name}.txt`, 'x', f.users.owner.token);
    return { path: `/api/2.0/mlflow-artifacts/artifacts/${f.experimentId}/${f.runId}/artifacts/${name}.txt` };
  },
  'POST /api/2.0/mlflow-artifacts/mpu/create/*': (f) => ({
    path: `/api/2.0/mlflow-artifacts/mpu/create/${f.experimentId}/${f.runId}/artifacts/big.bin`,
    body: { path: 'big.bin', num_parts: 1 },
  }),
  'POST /api/2.0/mlflow-artifacts/mpu/complete/*': (f) => ({
    path: `/api/2.0/mlflow-artifacts/mpu/complete/${f.experimentId}/${f.runId}/artifacts/big.bin`,
    body: { path: 'big.bin', upload_id: 'x', parts: [] },
  }),
  'POST /api/2.0/mlflow-artifacts/mpu/abort/*': (f) => ({
    path: `/api/2.0/mlflow-artifacts/mpu/abort/${f.experimentId}/${f.runId}/artifacts/big.bin`,
    body: { path: 'big.bin', upload_id: 'x' },
  }),
  'POST /api/2.0/mlflow/logged-models': (f) => ({ path: '/api/2.0/mlflow/logged-models', body: { experiment_id: f.experimentId, name: f.unique('lm') } }),
  'POST /api/2.0/mlflow/logged-models/search': (f) => ({ path: '/api/2.0/mlflow/logged-models/search', body: { experiment_ids: [f.experimentId] } }),
  'GET /api/2.0/mlflow/logged-models/:model_id': (f) => ({ path: `/api/2.0/mlflow/logged-models/${f.loggedModelId}` }),
  'PATCH /api/2.0/mlflow/logged-models/:model_id': (f) => ({
    path: `/api/2.0/mlflow/logged-models/${f.loggedModelId}`,
    body: { status: 'LOGGED_MODEL_READY' },
  }),
  'DELETE /api/2.0/mlflow/logged-models/:model_id': async (f, who) => {
    const { experimentId } = await f.freshExperiment(who);
    const lm = await f.as('owner', 'POST', '/api/2.0/mlflow/logged-models', { experiment_id: experimentId });
    return { path: `/api/2.0/mlflow/logged-models/${lm.body.model.info.model_id}` };
  },
  'PATCH /api/2.0/mlflow/logged-models/:model_id/tags': (f) => ({
    path: `/api/2.0/mlflow/logged-models/${f.loggedModelId}/tags`,
    body: { tags: [{ key: 'k', value: 'v' }] },
  }),
  'DELETE /api/2.0/mlflow/logged-models/:model_id/tags/:tag_key': async (f) => {
    await f.as('owner', 'PATCH', `/api/2.0/mlflow/logged-models/${f.loggedModelId}/tags`, { tags: [{ key: 'gone', value: 'v' }] });
    return { path: `/api/2.0/mlflow/logged-models/${f.loggedModelId}/tags/gone` };
  },
  'POST /api/2.0/mlflow/logged-models/:model_id/params': (f) => ({
    path: `/api/2.0/mlflow/logged-models/${f.loggedModelId}/params`,
    body: { params: [{ key: f.unique('p'), value: '1' }] },
  }),
  'GET /api/2.0/mlflow/logged-models/:model_id/artifacts/directories': (f) => ({
    path: `/api/2.0/mlflow/logged-models/${f.loggedModelId}/artifacts/directories`,
  }),
  'GET /ajax-api/2.0/mlflow/logged-models/:model_id/artifacts/files': (f) => ({
    path: `/ajax-api/2.0/mlflow/logged-models/${f.loggedModelId}/artifacts/files`,
    query: { artifact_file_path: 'MLmodel' },
  }),

  // ---- SQL statements (each caller's own) and temporary credentials ----
  'GET /api/2.0/sql/statements/:statement_id': async (f, who) => ({ path: `/api/2.0/sql/statements/${await statementOf(f, who)}` }),
  'GET /api/2.0/sql/statements/:statement_id/result/chunks/:chunk_index': async (f, who) => ({
    path: `/api/2.0/sql/statements/${await statementOf(f, who)}/result/chunks/0`,
  }),
  'POST /api/2.0/sql/statements/:statement_id/cancel': async (f, who) => ({ path: `/api/2.0/sql/statements/${await statementOf(f, who)}/cancel`, body: {} }),
  [`POST ${UC}/temporary-table-credentials`]: (f) => ({ path: `${UC}/temporary-table-credentials`, body: { table_id: f.tableId, operation: 'READ' } }),
  [`POST ${UC}/temporary-volume-credentials`]: (f) => ({
    path: `${UC}/temporary-volume-credentials`,
    body: { volume_id: f.volumeId, operation: 'READ_VOLUME' },
  }),
  [`POST ${UC}/temporary-path-credentials`]: (f) => ({ path: `${UC}/temporary-path-credentials`, body: { url: f.tableLocation, operation: 'PATH_READ' } }),

  // ---- MLflow registry: versions, aliases, tags, files ----
  'GET /api/2.0/mlflow/databricks/registered-models/get': (f) => ({ path: '/api/2.0/mlflow/databricks/registered-models/get', query: { name: f.modelName } }),
  'POST /api/2.0/mlflow/registered-models/rename': async (f, who) => {
    const name = await f.freshModel(who);
    return { path: '/api/2.0/mlflow/registered-models/rename', body: { name, new_name: `${name}_renamed` } };
  },
  'DELETE /api/2.0/mlflow/registered-models/delete': async (f, who) => ({
    path: '/api/2.0/mlflow/registered-models/delete',
    query: { name: await f.freshModel(who) },
  }),
  'POST /api/2.0/mlflow/registered-models/get-latest-versions': (f) => ({
    path: '/api/2.0/mlflow/registered-models/get-latest-versions',
    body: { name: f.modelName },
  }),
  'GET /api/2.0/mlflow/registered-models/get-latest-versions': (f) => ({
    path: '/api/2.0/mlflow/registered-models/get-latest-versions',
    query: { name: f.modelName },
  }),
  'DELETE /api/2.0/mlflow/registered-models/delete-tag': async (f) => {
    await f.as('owner', 'POST', '/api/2.0/mlflow/registered-models/set-tag', { name: f.modelName, key: 'gone', value: 'v' });
    return { path: '/api/2.0/mlflow/registered-models/delete-tag', query: { name: f.modelName, key: 'gone' } };
  },
  'POST /api/2.0/mlflow/registered-models/alias': (f) => ({
    path: '/api/2.0/mlflow/registered-models/alias',
    body: { name: f.modelName, alias: 'champ', version: '1' },
  }),
  'GET /api/2.0/mlflow/registered-models/alias': (f) => ({ path: '/api/2.0/mlflow/registered-models/alias', query: { name: f.modelName, alias: 'champ' } }),
  'DELETE /api/2.0/mlflow/registered-models/alias': async (f, who) => {
    const alias = f.unique(`a_${who}`);
    await f.as('owner', 'POST', '/api/2.0/mlflow/registered-models/alias', { name: f.modelName, alias, version: '1' });
    return { path: '/api/2.0/mlflow/registered-models/alias', query: { name: f.modelName, alias } };
  },
  'POST /api/2.0/mlflow/model-versions/create': (f) => ({
    path: '/api/2.0/mlflow/model-versions/create',
    body: { name: f.modelName, source: `runs:/${f.runId}/model`, run_id: f.runId },
  }),
  'GET /api/2.0/mlflow/model-versions/get': (f) => ({ path: '/api/2.0/mlflow/model-versions/get', query: { name: f.modelName, version: '1' } }),
  'PATCH /api/2.0/mlflow/model-versions/update': (f) => ({
    path: '/api/2.0/mlflow/model-versions/update',
    body: { name: f.modelName, version: '1', description: 'matrix' },
  }),
  'DELETE /api/2.0/mlflow/model-versions/delete': async (f) => {
    const v = await f.as('owner', 'POST', '/api/2.0/mlflow/model-versions/create', { name: f.modelName, source: `runs:/${f.runId}/model`, run_id: f.runId });
    return { path: '/api/2.0/mlflow/model-versions/delete', query: { name: f.modelName, version: String(v.body.model_version.version) } };
  },
  'POST /api/2.0/mlflow/model-versions/transition-stage': (f) => ({
    path: '/api/2.0/mlflow/model-versions/transition-stage',
    body: { name: f.modelName, version: '1', stage: 'Staging', archive_existing_versions: false },
  }),
  'POST /api/2.0/mlflow/databricks/model-versions/transition-stage': (f) => ({
    path: '/api/2.0/mlflow/databricks/model-versions/transition-stage',
    body: { name: f.modelName, version: '1', stage: 'Staging', archive_existing_versions: false },
  }),
  'GET /api/2.0/mlflow/model-versions/get-download-uri': (f) => ({
    path: '/api/2.0/mlflow/model-versions/get-download-uri',
    query: { name: f.modelName, version: '1' },
  }),
  'POST /api/2.0/mlflow/model-versions/set-tag': (f) => ({
    path: '/api/2.0/mlflow/model-versions/set-tag',
    body: { name: f.modelName, version: '1', key: 'k', value: 'v' },
  }),
  'DELETE /api/2.0/mlflow/model-versions/delete-tag': async (f) => {
    await f.as('owner', 'POST', '/api/2.0/mlflow/model-versions/set-tag', { name: f.modelName, version: '1', key: 'gone', value: 'v' });
    return { path: '/api/2.0/mlflow/model-versions/delete-tag', query: { name: f.modelName, version: '1', key: 'gone' } };
  },
  'GET /api/weir/v1/model-files/mlflow-artifacts/artifacts': (f) => ({
    path: '/api/weir/v1/model-files/mlflow-artifacts/artifacts',
    query: { path: `main/default/${f.modelName}/1` },
  }),
  'GET /api/weir/v1/model-files/mlflow-artifacts/artifacts/*': (f) => ({
    path: `/api/weir/v1/model-files/mlflow-artifacts/artifacts/main/default/${f.modelName}/1/MLmodel`,
  }),
  'GET /api/weir/v1/models/:name/versions/:version': (f) => ({ path: `/api/weir/v1/models/${f.modelName}/versions/1` }),
  'GET /model-versions/get-artifact': (f) => ({ path: '/model-versions/get-artifact', query: { name: f.modelName, version: '1', path: 'MLmodel' } }),
  'GET /api/weir/v1/models/:name/versions/:version/lineage': (f) => ({ path: `/api/weir/v1/models/${f.modelName}/versions/1/lineage` }),

  // ---- Unity Catalog model versions and aliases ----
  [`POST ${UC}/models/versions`]: (f) => ({
    path: `${UC}/models/versions`,
    body: { catalog_name: 'mx', schema_name: 's', model_name: 'm', source: `runs:/${f.runId}/model`, run_id: f.runId },
  }),
  [`GET ${UC}/models/:full_name/versions/:version`]: () => ({ path: `${UC}/models/mx.s.m/versions/1` }),
  [`PATCH ${UC}/models/:full_name/versions/:version`]: () => ({ path: `${UC}/models/mx.s.m/versions/1`, body: { comment: 'matrix' } }),
  [`DELETE ${UC}/models/:full_name/versions/:version`]: async (f) => {
    const v = await f.as('owner', 'POST', `${UC}/models/versions`, {
      catalog_name: 'mx',
      schema_name: 's',
      model_name: 'm',
      source: `runs:/${f.runId}/model`,
      run_id: f.runId,
    });
    return { path: `${UC}/models/mx.s.m/versions/${v.body.version}` };
  },
  [`PATCH ${UC}/models/:full_name/versions/:version/finalize`]: async (f) => {
    const v = await f.as('owner', 'POST', `${UC}/models/versions`, {
      catalog_name: 'mx',
      schema_name: 's',
      model_name: 'm',
      source: `runs:/${f.runId}/model`,
      run_id: f.runId,
    });
    return { path: `${UC}/models/mx.s.m/versions/${v.body.version}/finalize`, body: { full_name: 'mx.s.m', version: v.body.version } };
  },
  [`PUT ${UC}/models/:full_name/aliases/:alias`]: () => ({ path: `${UC}/models/mx.s.m/aliases/champ`, body: { version_num: 1 } }),
  [`GET ${UC}/models/:full_name/aliases/:alias`]: () => ({ path: `${UC}/models/mx.s.m/aliases/champ` }),
  [`DELETE ${UC}/models/:full_name/aliases/:alias`]: async (f, who) => {
    const alias = f.unique(`a_${who}`);
    await f.as('owner', 'PUT', `${UC}/models/mx.s.m/aliases/${alias}`, { version_num: 1 });
    return { path: `${UC}/models/mx.s.m/aliases/${alias}` };
  },
  'GET /api/2.0/sql/statements/:statement_id/result/chunks/:chunk_index/download': async (f) => {
    const st = await f.as('owner', 'POST', '/api/2.0/sql/statements', {
      statement: 'SELECT 1',
      wait_timeout: '30s',
      disposition: 'EXTERNAL_LINKS',
      format: 'ARROW_STREAM',
    });
    const link = new URL(st.body.result?.external_links?.[0]?.external_link ?? 'http://x/none');
    return { path: link.pathname, query: Object.fromEntries(link.searchParams) };
  },

  // ---- serving ----
  'POST /api/2.0/serving-endpoints': (f) => ({
    path: '/api/2.0/serving-endpoints',
    body: { name: f.unique('ep'), config: { served_entities: [{ entity_name: 'mx_onnx', entity_version: '1' }] } },
  }),
  'GET /api/2.0/serving-endpoints/:name': () => ({ path: '/api/2.0/serving-endpoints/mx-ep' }),
  'DELETE /api/2.0/serving-endpoints/:name': async (f, who) => ({ path: `/api/2.0/serving-endpoints/${(await f.freshEndpoint(who)).name}` }),
  'PUT /api/2.0/serving-endpoints/:name/config': async (f, who) => ({
    path: `/api/2.0/serving-endpoints/${(await f.freshEndpoint(who)).name}/config`,
    body: { served_entities: [{ entity_name: 'mx_onnx', entity_version: '1' }] },
  }),
  'GET /api/2.0/serving-endpoints/:name/served-models/:served_model_name/build-logs': () => ({
    path: '/api/2.0/serving-endpoints/mx-ep/served-models/mx_onnx-1/build-logs',
  }),
  'GET /api/2.0/permissions/serving-endpoints/:serving_endpoint_id': (f) => ({ path: `/api/2.0/permissions/serving-endpoints/${f.endpointId}` }),
  'PUT /api/2.0/permissions/serving-endpoints/:serving_endpoint_id': (f) => ({
    path: `/api/2.0/permissions/serving-endpoints/${f.endpointId}`,
    body: {
      access_control_list: [
        { group_name: 'mx_group', permission_level: 'CAN_MANAGE' },
        { user_name: 'mx-owner@example.com', permission_level: 'CAN_MANAGE' },
      ],
    },
  }),
  'PATCH /api/2.0/permissions/serving-endpoints/:serving_endpoint_id': (f) => ({
    path: `/api/2.0/permissions/serving-endpoints/${f.endpointId}`,
    body: { access_control_list: [{ group_name: 'mx_group', permission_level: 'CAN_MANAGE' }] },
  }),
  'GET /api/2.0/permissions/serving-endpoints/:serving_endpoint_id/permissionLevels': (f) => ({
    path: `/api/2.0/permissions/serving-endpoints/${f.endpointId}/permissionLevels`,
  }),
  'POST /serving-endpoints/:name/invocations': () => ({ path: '/serving-endpoints/mx-ep/invocations', body: { dataframe_records: [{ a: 1, b: 2, c: 3 }] } }),
  'GET /api/2.0/serving-endpoints': () => ({ path: '/api/2.0/serving-endpoints' }),
};

/** A statement of the caller's own (a 'none'/'disabled' caller gets someone else's id: refused before it matters). */
async function statementOf(f: Fixtures, who: Who): Promise<string> {
  const by = who === 'none' || who === 'disabled' ? 'owner' : who;
  const res = await f.as(by, 'POST', '/api/2.0/sql/statements', { statement: 'SELECT 1', wait_timeout: '30s' });
  return res.body.statement_id as string;
}

/** What each caller must get from a route with this requirement, given the fixtures' grants. */
function expected(requirement: AuthRequirement, example: Example, route: RouteSpec): Record<Who, 'ok' | 401 | 403> {
  const all = (v: 'ok' | 403) => ({ none: 401, disabled: 401, stranger: v, grantee: v, owner: v, admin: 'ok' }) as Record<Who, 'ok' | 401 | 403>;
  if (requirement === 'public') return { none: 'ok', disabled: 'ok', stranger: 'ok', grantee: 'ok', owner: 'ok', admin: 'ok' };
  if (requirement === 'admin') return all(403);
  if (requirement === 'authenticated') throw new Error(`${routeKey(route)} declares no requirement`);
  if ('scope' in requirement) return all('ok');
  const privileges =
    'uc' in requirement
      ? requirement.uc(inputOf(example, route)).map((c) => `${c.privilege}@${c.securable.type}`)
      : 'ucService' in requirement
        ? [requirement.ucService]
        : [];
  if ('uc' in requirement || 'ucService' in requirement) {
    // The owner owns catalog mx and everything in it, and was granted CREATE_CATALOG on the metastore by the admin.
    const granteeHolds = privileges.every((p) => GRANTED_TO_GROUP.includes(p.split('@')[0] as string) && !p.endsWith('@metastore'));
    return { none: 401, disabled: 401, stranger: 403, grantee: granteeHolds ? 'ok' : 403, owner: 'ok', admin: 'ok' };
  }
  // Workspace objects: the fixtures give the grantee's group CAN_MANAGE on the shared ones and each fresh one.
  return { none: 401, disabled: 401, stranger: 403, grantee: 'ok', owner: 'ok', admin: 'ok' };
}

/** The parsed input a `uc` requirement sees: path parameters, query and body, as the HTTP layer merges them. */
function inputOf(example: Example, route: RouteSpec): Record<string, unknown> {
  const template = route.paths[0] as string;
  const params: Record<string, string> = {};
  const t = template.split('/');
  const p = example.path.split('/');
  t.forEach((seg, i) => {
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(p[i] ?? '');
    if (seg === '*') params['*'] = p.slice(i).join('/');
  });
  return { ...(example.query ?? {}), ...((example.body as Record<string, unknown>) ?? {}), ...params };
}

describe.each(testBackends)('authorization matrix on $name', (backend) => {
  let s: TestServer;
  let f: Fixtures;

  beforeAll(async () => {
    s = await startTestServer(backend);
    const admin: TestUser = { id: 0, userName: 'admin', token: s.adminToken };
    const owner = await makeUser(s, 'mx-owner@example.com');
    const grantee = await makeUser(s, 'mx-grantee@example.com');
    const stranger = await makeUser(s, 'mx-stranger@example.com');
    const disabled = await makeUser(s, 'mx-disabled@example.com', { active: false });
    const inner = await makeGroup(s, 'mx_inner', [grantee.id]);
    await makeGroup(s, 'mx_group', [inner]);
    const call = async (user: TestUser, method: string, path: string, body?: unknown) => {
      const res = await s.call(method, path, body, user.token);
      if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${res.text.slice(0, 300)}`);
      return res.body;
    };
    await call(admin, 'PATCH', `${UC}/permissions/metastore/metastore`, { changes: [{ principal: owner.userName, add: ['CREATE_CATALOG'] }] });
    await call(owner, 'POST', `${UC}/catalogs`, { name: 'mx' });
    await call(owner, 'POST', `${UC}/schemas`, { name: 's', catalog_name: 'mx' });
    await call(owner, 'POST', `${UC}/tables`, {
      name: 't',
      catalog_name: 'mx',
      schema_name: 's',
      table_type: 'MANAGED',
      data_source_format: 'DELTA',
      columns: COLUMNS,
    });
    await call(owner, 'POST', `${UC}/volumes`, { name: 'v', catalog_name: 'mx', schema_name: 's', volume_type: 'MANAGED' });
    await call(owner, 'POST', `${UC}/functions`, { function_info: functionInfo('f') });
    await call(owner, 'POST', `${UC}/models`, { name: 'm', catalog_name: 'mx', schema_name: 's' });
    const put = await fetch(`${s.url}/api/2.0/fs/files/Volumes/mx/s/v/a.txt`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${owner.token}` },
      body: 'a',
    });
    expect(put.status).toBe(204);
    await call(owner, 'PATCH', `${UC}/permissions/catalog/mx`, { changes: [{ principal: 'mx_group', add: GRANTED_TO_GROUP }] });
    const experimentId = (await call(owner, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'mx-exp' })).experiment_id as string;
    const runId = (await call(owner, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId })).run.info.run_id as string;
    await call(owner, 'PATCH', `/api/2.0/permissions/experiments/${experimentId}`, {
      access_control_list: [{ group_name: 'mx_group', permission_level: 'CAN_MANAGE' }],
    });
    const modelName = 'mx_model';
    const model = await call(owner, 'POST', '/api/2.0/mlflow/registered-models/create', { name: modelName });
    const grantModel = async (id: string) =>
      call(owner, 'PATCH', `/api/2.0/permissions/registered-models/${id}`, {
        access_control_list: [{ group_name: 'mx_group', permission_level: 'CAN_MANAGE' }],
      });
    await grantModel(model.registered_model.id);
    await grantModel((await call(owner, 'GET', `${UC}/models/mx.s.m`)).id);
    let counter = 0;
    const unique = (prefix: string) => `${prefix}_${++counter}`;
    const users = { disabled, stranger, grantee, owner, admin };
    const loggedModel = await call(owner, 'POST', '/api/2.0/mlflow/logged-models', { experiment_id: experimentId, name: 'mx-lm' });
    const artifactPut = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/notes.txt`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${owner.token}` },
      body: 'notes',
    });
    expect(artifactPut.status).toBeLessThan(300);
    await call(owner, 'POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 1, timestamp: 1_700_000_000_000, step: 0 });
    for (const [file, body] of [
      [
        'model/MLmodel',
        'artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\nmlflow_version: 3.1.0\n',
      ],
      ['model/model.pkl', 'weights'],
    ]) {
      const put = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${owner.token}` },
        body,
      });
      expect(put.status).toBeLessThan(300);
    }
    await call(owner, 'POST', '/api/2.0/mlflow/model-versions/create', { name: modelName, source: `runs:/${runId}/model`, run_id: runId });
    await call(owner, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: modelName, alias: 'champ', version: '1' });
    await call(owner, 'POST', `${UC}/models/versions`, {
      catalog_name: 'mx',
      schema_name: 's',
      model_name: 'm',
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    await call(owner, 'PUT', `${UC}/models/mx.s.m/aliases/champ`, { version_num: 1 });
    const lmArtifact = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/models/${loggedModel.model.info.model_id}/artifacts/MLmodel`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${owner.token}` },
      body: 'artifact_path: model\n',
    });
    expect(lmArtifact.status).toBeLessThan(300);
    // An ONNX model (servable) and an endpoint over it, shared with the grantee's group.
    const onnxModel = await call(owner, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'mx_onnx' });
    await grantModel(onnxModel.registered_model.id);
    const onnxRun = (await call(owner, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId })).run.info.run_id as string;
    for (const [file, body] of [
      ['model/MLmodel', ONNX_MLMODEL],
      ['model/model.onnx', linearOnnxModel([1, 2, 3], 0.5)],
    ] as const) {
      const put = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${onnxRun}/artifacts/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${owner.token}` },
        body: typeof body === 'string' ? Buffer.from(body) : body,
      });
      expect(put.status).toBeLessThan(300);
    }
    await call(owner, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'mx_onnx', source: `runs:/${onnxRun}/model`, run_id: onnxRun });
    for (;;) {
      const v = await call(owner, 'GET', '/api/2.0/mlflow/model-versions/get', { name: 'mx_onnx', version: '1' });
      if (v.model_version.status !== 'PENDING_REGISTRATION') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const newEndpoint = async (name: string) => {
      const created = await call(owner, 'POST', '/api/2.0/serving-endpoints', {
        name,
        config: { served_entities: [{ entity_name: 'mx_onnx', entity_version: '1' }] },
      });
      for (;;) {
        const got = await call(owner, 'GET', `/api/2.0/serving-endpoints/${name}`);
        if (got.state.config_update !== 'IN_PROGRESS') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await call(owner, 'PATCH', `/api/2.0/permissions/serving-endpoints/${created.id}`, {
        access_control_list: [{ group_name: 'mx_group', permission_level: 'CAN_MANAGE' }],
      });
      return { name, id: created.id as string };
    };
    const endpoint = await newEndpoint('mx-ep');
    const table = await call(owner, 'GET', `${UC}/tables/mx.s.t`);
    const volume = await call(owner, 'GET', `${UC}/volumes/mx.s.v`);
    f = {
      s,
      users,
      experimentId,
      runId,
      modelName,
      loggedModelId: loggedModel.model.info.model_id,
      endpointId: endpoint.id,
      freshEndpoint: (who) => newEndpoint(unique(`ep_${who}`)),
      tableId: table.table_id,
      volumeId: volume.volume_id,
      tableLocation: table.storage_location,
      unique,
      async as(who, method, path, body) {
        const res = await s.call(method, path, body, who === 'none' ? null : users[who].token);
        return { status: res.status, body: res.body };
      },
      async freshModel(who) {
        const name = unique(`rm_${who}`);
        const created = await call(owner, 'POST', '/api/2.0/mlflow/registered-models/create', { name });
        await grantModel(created.registered_model.id);
        return name;
      },
      async freshExperiment(who) {
        const id = (await call(owner, 'POST', '/api/2.0/mlflow/experiments/create', { name: unique(`exp_${who}`) })).experiment_id as string;
        await call(owner, 'PATCH', `/api/2.0/permissions/experiments/${id}`, {
          access_control_list: [{ group_name: 'mx_group', permission_level: 'CAN_MANAGE' }],
        });
        const run = (await call(owner, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: id })).run.info.run_id as string;
        return { experimentId: id, runId: run };
      },
      async fresh(kind, who) {
        const name = unique(`${kind}_${who}`);
        switch (kind) {
          case 'user':
            return (await call(admin, 'POST', '/api/2.0/preview/scim/v2/Users', { userName: `${name}@example.com` })).id;
          case 'group':
            return (await call(admin, 'POST', '/api/2.0/preview/scim/v2/Groups', { displayName: name })).id;
          case 'servicePrincipal':
            return (await call(admin, 'POST', '/api/2.0/preview/scim/v2/ServicePrincipals', { displayName: name })).id;
          case 'catalog':
            await call(owner, 'POST', `${UC}/catalogs`, { name });
            await call(owner, 'PATCH', `${UC}/permissions/catalog/${name}`, { changes: [{ principal: 'mx_group', add: GRANTED_TO_GROUP }] });
            return name;
          case 'schema':
            await call(owner, 'POST', `${UC}/schemas`, { name, catalog_name: 'mx' });
            return `mx.${name}`;
          case 'table':
            await call(owner, 'POST', `${UC}/tables`, {
              name,
              catalog_name: 'mx',
              schema_name: 's',
              table_type: 'MANAGED',
              data_source_format: 'DELTA',
              columns: COLUMNS,
            });
            return `mx.s.${name}`;
          case 'volume':
            await call(owner, 'POST', `${UC}/volumes`, { name, catalog_name: 'mx', schema_name: 's', volume_type: 'MANAGED' });
            return `mx.s.${name}`;
          case 'function':
            await call(owner, 'POST', `${UC}/functions`, { function_info: functionInfo(name) });
            return `mx.s.${name}`;
          case 'ucModel': {
            const created = await call(owner, 'POST', `${UC}/models`, { name, catalog_name: 'mx', schema_name: 's' });
            await grantModel(created.id);
            return `mx.s.${name}`;
          }
        }
      },
    };
  });
  afterAll(async () => {
    await s?.close();
  });

  async function send(route: RouteSpec, example: Example, who: Who) {
    const headers: Record<string, string> = {};
    const token = who === 'none' ? undefined : f.users[who].token;
    if (token) headers.authorization = `Bearer ${token}`;
    let url = `${s.url}${example.path}`;
    if (example.query) url += `?${new URLSearchParams(example.query)}`;
    let body: string | undefined;
    if (example.raw !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = example.raw;
    } else if (example.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(example.body);
    }
    const res = await fetch(url, { method: route.method, headers, body });
    return { status: res.status, text: await res.text() };
  }

  it('every route declares a requirement', () => {
    const undeclared = s.weir.routes.filter((r) => r.auth === 'authenticated').map(routeKey);
    expect(undeclared).toEqual([]);
  });

  it('every route has an example request', () => {
    const missing = s.weir.routes.map(routeKey).filter((key) => !EXAMPLES[key]);
    expect(missing).toEqual([]);
  });

  it('answers every route with example as its requirement says, for every kind of caller', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of s.weir.routes) {
      const build = EXAMPLES[routeKey(route)];
      if (!build || route.auth === 'authenticated') continue;
      for (const who of EVERYONE) {
        const example = await build(f, who);
        const want = expected(route.auth, example, route)[who];
        const got = await send(route, example, who);
        checked++;
        // Multipart uploads answer 501 on local storage: past authorization, which is what this checks.
        const passed = got.status >= 200 && got.status < 300 ? true : routeKey(route).includes('/mpu/') && got.status === 501;
        const ok = want === 'ok' ? passed : got.status === want;
        if (!ok) failures.push(`${routeKey(route)} as ${who}: expected ${want}, got ${got.status} ${got.text.slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });
});

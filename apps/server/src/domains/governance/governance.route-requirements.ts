import type { AuthRequirement, RouteSpec, UcCheck } from '../../platform/http.ts';
import { createInSchema, onLeaf } from './governance.requirements.ts';

// The declared requirement of every route that its domain still registers as bare 'authenticated', keyed by
// `METHOD canonical-path`. Routes that declare their own requirement (catalog, tables, grants, lineage, SCIM, system)
// are not listed. The authorization matrix test (authorization.matrix.test.ts) fails on any route left undeclared.

const read = (workspace: 'experiments' | 'registered-models') => ({ workspace, level: 'CAN_READ' }) as const;
const edit = (workspace: 'experiments' | 'registered-models') => ({ workspace, level: 'CAN_EDIT' }) as const;
const manageWs = (workspace: 'experiments' | 'registered-models') => ({ workspace, level: 'CAN_MANAGE' }) as const;
const self = { scope: 'self' } as const;
const listing = { scope: 'filtered-list' } as const;
const create = { scope: 'create' } as const;

/** The volume a Files API path names (`Volumes/<c>/<s>/<v>/...`); a malformed path names none and matches no grant. */
function volumeOf(input: { '*': string }): string {
  const [root, c = '', s = '', v = ''] = input['*'].replace(/^\/+/, '').split('/');
  return root === 'Volumes' ? `${c}.${s}.${v}` : '';
}
const volumeRead = { uc: (i: { '*': string }): UcCheck[] => onLeaf('READ_VOLUME', 'volume', volumeOf(i)) };
const volumeWrite = { uc: (i: { '*': string }): UcCheck[] => onLeaf('WRITE_VOLUME', 'volume', volumeOf(i)) };

const UC = '/api/2.1/unity-catalog';
const modelRead = { uc: (i: { full_name: string }): UcCheck[] => onLeaf('EXECUTE', 'registered_model', i.full_name) };

/** Requirements by `METHOD path`. */
export const ROUTE_REQUIREMENTS: Record<string, AuthRequirement> = {
  // identity: the caller's own tokens and profile; workspace-object permissions need CAN_MANAGE on the object.
  'POST /api/2.0/token/create': self,
  'GET /api/2.0/token/list': self,
  'POST /api/2.0/token/delete': self,
  'GET /api/2.0/preview/scim/v2/Me': self,
  'GET /api/2.0/permissions/:object_type/:object_id': { workspace: 'input', level: 'CAN_MANAGE' },
  'PUT /api/2.0/permissions/:object_type/:object_id': { workspace: 'input', level: 'CAN_MANAGE' },
  'PATCH /api/2.0/permissions/:object_type/:object_id': { workspace: 'input', level: 'CAN_MANAGE' },
  'GET /api/2.0/permissions/:object_type/:object_id/permissionLevels': self,
  'GET /api/weir/v1/auth/session': self,

  // MLflow tracking: experiments carry CAN_READ/CAN_EDIT/CAN_MANAGE; runs and logged models inherit their experiment's.
  'POST /api/2.0/mlflow/experiments/create': create,
  'POST /api/2.0/mlflow/experiments/search': listing,
  'GET /api/2.0/mlflow/experiments/search': listing,
  'GET /api/2.0/mlflow/experiments/list': listing,
  'GET /api/2.0/mlflow/experiments/get': read('experiments'),
  'GET /api/2.0/mlflow/experiments/get-by-name': read('experiments'),
  'POST /api/2.0/mlflow/experiments/delete': manageWs('experiments'),
  'POST /api/2.0/mlflow/experiments/restore': manageWs('experiments'),
  'POST /api/2.0/mlflow/experiments/update': manageWs('experiments'),
  'POST /api/2.0/mlflow/experiments/set-experiment-tag': edit('experiments'),
  'POST /api/2.0/mlflow/experiments/delete-experiment-tag': edit('experiments'),
  'POST /api/2.0/mlflow/experiments/search-datasets': read('experiments'),
  'POST /api/2.0/mlflow/runs/create': edit('experiments'),
  'POST /api/2.0/mlflow/runs/update': edit('experiments'),
  'GET /api/2.0/mlflow/runs/get': read('experiments'),
  'POST /api/2.0/mlflow/runs/delete': edit('experiments'),
  'POST /api/2.0/mlflow/runs/restore': edit('experiments'),
  'POST /api/2.0/mlflow/runs/search': listing,
  'POST /api/2.0/mlflow/runs/log-metric': edit('experiments'),
  'POST /api/2.0/mlflow/runs/log-parameter': edit('experiments'),
  'POST /api/2.0/mlflow/runs/set-tag': edit('experiments'),
  'POST /api/2.0/mlflow/runs/delete-tag': edit('experiments'),
  'POST /api/2.0/mlflow/runs/log-batch': edit('experiments'),
  'POST /api/2.0/mlflow/runs/log-inputs': edit('experiments'),
  'POST /api/2.0/mlflow/runs/outputs': edit('experiments'),
  'POST /api/2.0/mlflow/runs/log-model': edit('experiments'),
  'GET /api/2.0/mlflow/metrics/get-history': read('experiments'),
  'GET /api/2.0/mlflow/metrics/get-history-bulk-interval': read('experiments'),
  'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk': read('experiments'),
  'GET /api/2.0/mlflow/artifacts/list': read('experiments'),
  'GET /get-artifact': read('experiments'),
  'POST /ajax-api/2.0/mlflow/upload-artifact': edit('experiments'),
  'GET /api/2.0/mlflow-artifacts/artifacts': read('experiments'),
  'GET /api/2.0/mlflow-artifacts/artifacts/*': read('experiments'),
  'PUT /api/2.0/mlflow-artifacts/artifacts/*': edit('experiments'),
  'DELETE /api/2.0/mlflow-artifacts/artifacts/*': edit('experiments'),
  // Multipart uploads are not offered on local storage: every caller gets 501 and nothing happens.
  'POST /api/2.0/mlflow-artifacts/mpu/create/*': self,
  'POST /api/2.0/mlflow-artifacts/mpu/complete/*': self,
  'POST /api/2.0/mlflow-artifacts/mpu/abort/*': self,
  'POST /api/2.0/mlflow/logged-models': edit('experiments'),
  'POST /api/2.0/mlflow/logged-models/search': listing,
  'GET /api/2.0/mlflow/logged-models/:model_id': read('experiments'),
  'PATCH /api/2.0/mlflow/logged-models/:model_id': edit('experiments'),
  'DELETE /api/2.0/mlflow/logged-models/:model_id': edit('experiments'),
  'PATCH /api/2.0/mlflow/logged-models/:model_id/tags': edit('experiments'),
  'DELETE /api/2.0/mlflow/logged-models/:model_id/tags/:tag_key': edit('experiments'),
  'POST /api/2.0/mlflow/logged-models/:model_id/params': edit('experiments'),
  'GET /api/2.0/mlflow/logged-models/:model_id/artifacts/directories': read('experiments'),
  'GET /ajax-api/2.0/mlflow/logged-models/:model_id/artifacts/files': read('experiments'),

  // MLflow registry: registered models carry workspace levels (the registry checks them).
  'POST /api/2.0/mlflow/registered-models/create': create,
  'GET /api/2.0/mlflow/registered-models/get': read('registered-models'),
  'GET /api/2.0/mlflow/databricks/registered-models/get': read('registered-models'),
  'POST /api/2.0/mlflow/registered-models/rename': manageWs('registered-models'),
  'PATCH /api/2.0/mlflow/registered-models/update': edit('registered-models'),
  'DELETE /api/2.0/mlflow/registered-models/delete': manageWs('registered-models'),
  'GET /api/2.0/mlflow/registered-models/search': listing,
  'POST /api/2.0/mlflow/registered-models/search': listing,
  'GET /api/2.0/mlflow/registered-models/list': listing,
  'POST /api/2.0/mlflow/registered-models/get-latest-versions': read('registered-models'),
  'GET /api/2.0/mlflow/registered-models/get-latest-versions': read('registered-models'),
  'POST /api/2.0/mlflow/registered-models/set-tag': edit('registered-models'),
  'DELETE /api/2.0/mlflow/registered-models/delete-tag': edit('registered-models'),
  'POST /api/2.0/mlflow/registered-models/alias': edit('registered-models'),
  'DELETE /api/2.0/mlflow/registered-models/alias': edit('registered-models'),
  'GET /api/2.0/mlflow/registered-models/alias': read('registered-models'),
  'POST /api/2.0/mlflow/model-versions/create': edit('registered-models'),
  'GET /api/2.0/mlflow/model-versions/get': read('registered-models'),
  'PATCH /api/2.0/mlflow/model-versions/update': edit('registered-models'),
  'DELETE /api/2.0/mlflow/model-versions/delete': manageWs('registered-models'),
  'POST /api/2.0/mlflow/model-versions/transition-stage': edit('registered-models'),
  'POST /api/2.0/mlflow/databricks/model-versions/transition-stage': edit('registered-models'),
  'GET /api/2.0/mlflow/model-versions/search': listing,
  'POST /api/2.0/mlflow/model-versions/search': listing,
  'GET /api/2.0/mlflow/model-versions/get-download-uri': read('registered-models'),
  'POST /api/2.0/mlflow/model-versions/set-tag': edit('registered-models'),
  'DELETE /api/2.0/mlflow/model-versions/delete-tag': edit('registered-models'),
  'GET /api/weir/v1/model-files/mlflow-artifacts/artifacts': read('registered-models'),
  'GET /api/weir/v1/model-files/mlflow-artifacts/artifacts/*': read('registered-models'),
  'GET /api/weir/v1/models/:name/versions/:version': read('registered-models'),
  'GET /model-versions/get-artifact': read('registered-models'),
  'GET /api/weir/v1/models/:name/versions/:version/lineage': read('registered-models'),

  // Unity Catalog models: creating needs CREATE_MODEL on the schema; reading a model, its versions and aliases needs
  // EXECUTE (with USE CATALOG / USE SCHEMA) as in Databricks; writes stay the registry's workspace check (an owner
  // change: the registry checks ownership or MANAGE).
  [`POST ${UC}/models`]: { uc: (i: { catalog_name: string; schema_name: string }) => createInSchema('CREATE_MODEL', i.catalog_name, i.schema_name) },
  [`GET ${UC}/models`]: listing,
  [`POST ${UC}/models/versions`]: edit('registered-models'),
  [`GET ${UC}/models/:full_name`]: modelRead,
  [`PATCH ${UC}/models/:full_name`]: edit('registered-models'),
  [`DELETE ${UC}/models/:full_name`]: manageWs('registered-models'),
  [`GET ${UC}/models/:full_name/versions`]: modelRead,
  [`GET ${UC}/models/:full_name/versions/:version`]: modelRead,
  [`PATCH ${UC}/models/:full_name/versions/:version`]: edit('registered-models'),
  [`DELETE ${UC}/models/:full_name/versions/:version`]: manageWs('registered-models'),
  [`PATCH ${UC}/models/:full_name/versions/:version/finalize`]: edit('registered-models'),
  [`PUT ${UC}/models/:full_name/aliases/:alias`]: edit('registered-models'),
  [`GET ${UC}/models/:full_name/aliases/:alias`]: modelRead,
  [`DELETE ${UC}/models/:full_name/aliases/:alias`]: edit('registered-models'),

  // Temporary credentials: the object is named by id or path, so the SQL domain resolves it and checks SELECT/MODIFY,
  // READ_VOLUME/WRITE_VOLUME itself.
  [`POST ${UC}/temporary-table-credentials`]: { ucService: 'SELECT' },
  [`POST ${UC}/temporary-volume-credentials`]: { ucService: 'READ_VOLUME' },
  [`POST ${UC}/temporary-path-credentials`]: { ucService: 'SELECT' },

  // SQL: a statement's tables are authorized by the SQL domain from its parse tree; statements are their caller's own.
  'POST /api/2.0/sql/statements': self,
  'GET /api/2.0/sql/statements/:statement_id': self,
  'GET /api/2.0/sql/statements/:statement_id/result/chunks/:chunk_index': self,
  'POST /api/2.0/sql/statements/:statement_id/cancel': self,

  // Files API over volumes.
  'PUT /api/2.0/fs/files/*': volumeWrite,
  'GET /api/2.0/fs/files/*': volumeRead,
  'DELETE /api/2.0/fs/files/*': volumeWrite,
  'GET /api/2.0/fs/directories/*': volumeRead,
  'PUT /api/2.0/fs/directories/*': volumeWrite,
  'DELETE /api/2.0/fs/directories/*': volumeWrite,

  // Serving endpoints: CAN_VIEW / CAN_QUERY / CAN_MANAGE, checked by the serving service.
  // Anyone may create an endpoint over a model version they can read (the creator then manages it).
  'POST /api/2.0/serving-endpoints': read('registered-models'),
  'GET /api/2.0/serving-endpoints': listing,
  'GET /api/2.0/serving-endpoints/:name': { workspace: 'serving-endpoints', level: 'CAN_VIEW' },
  'DELETE /api/2.0/serving-endpoints/:name': { workspace: 'serving-endpoints', level: 'CAN_MANAGE' },
  'PUT /api/2.0/serving-endpoints/:name/config': { workspace: 'serving-endpoints', level: 'CAN_MANAGE' },
  'GET /api/2.0/serving-endpoints/:name/served-models/:served_model_name/build-logs': { workspace: 'serving-endpoints', level: 'CAN_VIEW' },
  'GET /api/2.0/permissions/serving-endpoints/:serving_endpoint_id': { workspace: 'serving-endpoints', level: 'CAN_MANAGE' },
  'PUT /api/2.0/permissions/serving-endpoints/:serving_endpoint_id': { workspace: 'serving-endpoints', level: 'CAN_MANAGE' },
  'PATCH /api/2.0/permissions/serving-endpoints/:serving_endpoint_id': { workspace: 'serving-endpoints', level: 'CAN_MANAGE' },
  'GET /api/2.0/permissions/serving-endpoints/:serving_endpoint_id/permissionLevels': { workspace: 'serving-endpoints', level: 'CAN_VIEW' },
  'POST /serving-endpoints/:name/invocations': { workspace: 'serving-endpoints', level: 'CAN_QUERY' },
};

/** The key a route is declared under. */
export const routeKey = (route: Pick<RouteSpec, 'method' | 'paths'>): string => `${route.method} ${route.paths[0]}`;

/** Gives every route still registered as bare 'authenticated' its declared requirement from the table (others unchanged). */
export function declareRequirements(routes: RouteSpec[], table: Record<string, AuthRequirement> = ROUTE_REQUIREMENTS): RouteSpec[] {
  return routes.map((route) => {
    const declared = table[routeKey(route)];
    return route.auth === 'authenticated' && declared ? { ...route, auth: declared } : route;
  });
}

import type { IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  AUDIT_UNAVAILABLE_BODY,
  type AuditLog,
  auditMigrations,
  createAuditLog,
  createSystemTableReads,
  protectSystemCatalog,
} from './domains/governance/audit.ts';
import {
  createGovernanceService,
  createOwnerLookup,
  declareRequirements,
  type GovernanceTables,
  governanceMigrations,
  governanceRoutes,
  type Privilege,
  principalDirectoryFrom,
  type SecurableType,
} from './domains/governance/index.ts';
import { createIdentityService, type IdentityTables, identityMigrations, identityRoutes } from './domains/identity/index.ts';
import { createLineageService, createLineageSystemTables, type LineageTables, lineageMigrations, lineageRoutes } from './domains/lineage/index.ts';
import { createRegistryService, type RegistryTables, registryMigrations, registryRoutes } from './domains/registry/index.ts';
import {
  captureSettingsFromEnv,
  createInferenceCapture,
  createInvocationFastPath,
  createModelRuntime,
  createServingService,
  INVOCATIONS_PATH,
  type InvocationFastPath,
  interceptInvocations,
  onnxThreadsFromEnv,
  type ServingTables,
  servingMigrations,
  servingRoutes,
} from './domains/serving/index.ts';
import { createLakehouse, lakehouseMigrations } from './domains/sql/lakehouse.ts';
import { createArtifactStore, createTrackingService, type TrackingTables, trackingMigrations, trackingRoutes } from './domains/tracking/index.ts';
import { createWebSessionService, type WebTables, webMigrations, webSessionRoutes, webUiRoutes } from './domains/web/index.ts';
import { createModelVersionRegistration } from './flows/register-model-version.ts';
import type { ServerConfig } from './platform/config.ts';
import { type MetadataDb, migrate, openMetadataDb } from './platform/db.ts';
import { AppError } from './platform/errors.ts';
import { createEventBus } from './platform/events.ts';
import { buildOpenApi, defineRoute, type RouteSpec, registerRoutes, sendError } from './platform/http.ts';
import { createHttpMetrics } from './platform/metrics.ts';
import { WEIR_VERSION } from './version.ts';

/** A request's id: a valid incoming `x-request-id` is kept (so a caller can follow its request), else a new UUID. */
function requestIdFrom(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : crypto.randomUUID();
}

/** Reads owners on governance's behalf: it must see every object, whoever asks. */
const SYSTEM_PRINCIPAL = { id: 0, userName: 'system', kind: 'user' as const, isAdmin: true };

/** A built Weir server: the fastify app plus what tests and main need to reach. */
export interface WeirApp {
  app: FastifyInstance;
  routes: RouteSpec[];
  store: MetadataDb;
  /** The audit log: staging writer, compaction into `system.access.audit`. */
  audit: AuditLog;
  /** The scoring fast path in front of Fastify (null if the invocation route is not registered). */
  invocationFastPath: InvocationFastPath | null;
  /** Stops accepting requests, lets in-flight ones finish (at most `graceMs`, default 10 s), then closes the store. */
  close(graceMs?: number): Promise<void>;
}

/** Options for building the app beyond the config (tests pass a log stream). */
export interface BuildOptions {
  logStream?: NodeJS.WritableStream;
  announce?: (line: string) => void;
}

/** The one composition root: opens the store, runs migrations, creates every service and registers every route. */
export async function buildApp(config: ServerConfig, options: BuildOptions = {}): Promise<WeirApp> {
  const store = openMetadataDb({ dataDir: config.dataDir, metadataUrl: config.metadataUrl });
  await migrate(store, [
    ...identityMigrations,
    ...trackingMigrations,
    ...lakehouseMigrations,
    ...registryMigrations,
    ...webMigrations,
    ...servingMigrations,
    ...governanceMigrations,
    ...auditMigrations,
    ...lineageMigrations,
  ]);

  const identity = createIdentityService({ db: store.db as Kysely<IdentityTables> });
  await identity.bootstrap({
    adminToken: config.adminToken,
    dataDir: config.dataDir,
    announce: options.announce ?? ((line) => process.stdout.write(`${line}\n`)),
  });
  // In-process events: SQL writes, dataset inputs, registrations and endpoint switches reach lineage through them. A
  // failing subscriber never fails the publisher's request; it is logged.
  const events = createEventBus((name, err) => app.log.error({ err, event: name }, 'event subscriber failed'));
  const tracking = createTrackingService({
    db: store.db as Kysely<TrackingTables>,
    dialect: store.dialect,
    bulkInsert: store.bulkInsert,
    access: identity,
    events,
  });
  await tracking.bootstrap();
  const artifacts = createArtifactStore(path.join(config.dataDir, 'artifacts'));
  const modelsRoot = path.join(config.dataDir, 'models');

  // Catalog objects, Delta tables, volumes and SQL.
  // Unity Catalog grants and the one authorization decision; owners are read (at request time) from the catalog, tables
  // and registry built below.
  const governance = createGovernanceService({
    db: store.db as Kysely<GovernanceTables>,
    principals: principalDirectoryFrom(identity),
    owners: createOwnerLookup({
      catalogOwner: (c) => lakehouse.catalog.ownerOf('catalog', c),
      schemaOwners: (c, s) =>
        lakehouse.catalog.resolveSchema(c, s).then(
          (r) => ({ owner: r.owner, catalogOwner: r.catalogOwner }),
          () => undefined,
        ),
      leafOwner: (type, c, s, n) =>
        type === 'table'
          ? lakehouse.tables.resolveTable(c, s, n).then(
              (t) => t.owners[0],
              () => undefined,
            )
          : type === 'registered_model'
            ? registry.ucModel(SYSTEM_PRINCIPAL, `${c}.${s}.${n}`, 'CAN_READ').then(
                (m) => m.owner,
                () => undefined,
              )
            : lakehouse.catalog.ownerOf(type, `${c}.${s}.${n}`),
    }),
  });
  // Read rules of the system tables: audit and lineage register theirs, SQL checks them for each table it resolves.
  const systemReads = createSystemTableReads();
  const lakehouse = await createLakehouse({
    db: store.db,
    dialect: store.dialect,
    dataDir: config.dataDir,
    visibility: governance,
    authorizer: governance.authorizer,
    identity,
    grants: governance,
    events,
    readGuard: systemReads.check,
  });
  // Drops and renames (catalog, tables, SQL, registry) move or forget grants before they answer.
  governance.subscribe(events);
  // Every request's event is stored before its response is sent, then compacted into system.access.audit.
  const audit = await createAuditLog({
    store,
    catalog: lakehouse.catalog,
    tables: lakehouse.tables,
    systemReads,
    authorizer: governance.authorizer,
    retentionDays: config.auditRetentionDays,
    compactSeconds: config.auditCompactSeconds,
    onError: (err) => app.log.error({ err }, 'audit compaction failed'),
  });

  // Lineage: edges recorded from the events, read through the lineage APIs and system.access.table_lineage/column_lineage.
  const lineage = createLineageService({
    db: store.db as Kysely<LineageTables>,
    access: {
      visibleTables: (p, names) => governance.authorizer.visible(p, 'table', names),
      visibleVolumes: (p, names) => governance.authorizer.visible(p, 'volume', names),
      runVisible: (p, id) => tracking.getRun(p, id).then(() => true),
      modelVisible: (p, name) => registry.getRegisteredModel(p, name).then(() => true),
      endpointVisible: (p, name) => serving.get(p, name).then(() => true),
    },
    describeTable: (full) =>
      lakehouse.tables.getTable(full).then(
        (t) => ({ type: t.table_type, columns: t.columns.map((c) => c.name) }),
        () => null,
      ),
    log: (message) => app.log.warn(message),
  });
  lineage.subscribe(events);
  const lineageTables = await createLineageSystemTables({
    db: store.db as Kysely<LineageTables>,
    dialect: store.dialect,
    catalog: lakehouse.catalog,
    tables: lakehouse.tables,
    systemReads,
    authorizer: governance.authorizer,
    intervalMs: config.auditCompactSeconds * 1000,
    retentionDays: config.lineageRetentionDays,
    onError: (err) => app.log.error({ err }, 'lineage copy into system tables failed'),
  });

  // The model registry: MLflow and Unity Catalog views of one store; models are objects of the catalog.
  const registry = createRegistryService({
    db: store.db as Kysely<RegistryTables>,
    dialect: store.dialect,
    access: identity,
    namespace: {
      schemaExists: (c, s) => lakehouse.catalog.schemaExists(c, s),
      nameTaken: (c, s, n) => lakehouse.catalog.nameTaken(c, s, n),
    },
    events,
    governance: {
      mayRead: async (p, full) => {
        const [c = '', s = ''] = full.split('.');
        return (
          (await governance.authorize(p, 'USE_CATALOG', { type: 'catalog', fullName: c })) &&
          (await governance.authorize(p, 'USE_SCHEMA', { type: 'schema', fullName: `${c}.${s}` })) &&
          governance.authorize(p, 'EXECUTE', { type: 'registered_model', fullName: full })
        );
      },
      visible: (p, names) => governance.authorizer.visible(p, 'registered_model', names),
      mayManage: (p, full) => governance.mayManage(p, { type: 'registered_model', fullName: full }),
      principalId: (name) => governance.principalIdOf(name),
    },
    modelsRoot,
    defaultCatalog: config.defaultCatalog,
    defaultSchema: config.defaultSchema,
  });
  governance.registerOwnerWriter('registered_model', (caller, full, owner) => registry.ucUpdateModel(caller, full, { owner }));
  lakehouse.catalog.setRegistryHooks({
    countModelsInSchema: (c, s) => registry.countModelsInSchema(c, s),
    modelNameTaken: (c, s, n) => registry.modelNameTaken(c, s, n),
    dropModelsInSchema: (c, s) => registry.dropModelsInSchema(c, s),
  });
  const modelVersionRegistration = createModelVersionRegistration({ registry, tracking, artifactsRoot: artifacts.root, modelsRoot });

  // Web UI sessions (cookie + CSRF token).
  const webSessions = createWebSessionService({ db: store.db as Kysely<WebTables>, identity });

  // Model serving: endpoints over registry versions, in-process ONNX, inference tables in the lakehouse.
  const serving = createServingService({
    db: store.db as Kysely<ServingTables>,
    models: {
      resolveServedVersion: (name, ref) => registry.resolveServedVersion(name, ref),
      authorizeRead: async (principal, name) => {
        await registry.getRegisteredModel(principal, name);
      },
    },
    access: identity,
    // WEIR_PYTHON (set by `weir server --python`): a Python with mlflow serves versions that have no onnx flavor.
    runtime: createModelRuntime({ python: process.env.WEIR_PYTHON, onnxThreads: onnxThreadsFromEnv(process.env) }),
    events,
    capture: createInferenceCapture({
      ...captureSettingsFromEnv(process.env),
      tables: {
        locate: (c, s, t) =>
          lakehouse.tables.resolveTable(c, s, t).then(
            (r) => r.location,
            () => null,
          ),
        create: async (owner, c, s, t, fill) => {
          await lakehouse.tables.createManagedFrom(
            { id: owner.id, userName: owner.userName, kind: 'user', isAdmin: false },
            { catalog: c, schema: s, name: t },
            fill,
          );
        },
      },
    }),
    schemaExists: (c, s) => lakehouse.catalog.schemaExists(c, s),
  });
  await serving.start();

  const metrics = createHttpMetrics();
  metrics.addCollector(() => serving.renderMetrics());
  const app = Fastify({
    logger: {
      level: config.logLevel,
      stream: options.logStream ?? process.stdout,
      // Only method, path and id are logged: never headers, query strings or bodies, so tokens and passwords stay out.
      serializers: {
        req: (req) => ({ method: req.method, url: String(req.url).split('?')[0], id: req.id }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
      redact: ['req.headers.authorization', 'headers.authorization', 'password', 'token', 'token_value'],
    },
    genReqId: (req) => requestIdFrom(req.headers),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024 * 1024,
    routerOptions: { maxParamLength: 2000 },
    // One line per request is written in onResponse instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.removeAllContentTypeParsers();
  // Bodies are handed to routes as streams: JSON routes read them with a limit, artifact uploads stream to disk.
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload as Readable));
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  audit.install(app);
  // A response finished after shutdown began must close its keep-alive connection: the server only closes the
  // connections idle when close() starts, and one left idle afterwards would hold shutdown for the keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  // The request line is pino's JSON shape built by hand: through the logger (serializer, redaction) it cost a scoring
  // request more CPU than the model. It holds method, path (no query), id, status and time only: no secret can reach it.
  const logStream = options.logStream ?? process.stdout;
  const lineHost = `,"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())}`;
  const QUIETER_THAN_INFO = new Set(['warn', 'error', 'fatal', 'silent']);
  // Request lines are written together, at most 10 ms (or 64 KB) after the first of them: under load one write(2)
  // carries many requests' lines, where a write per event-loop turn cost a scoring request about 3 us. Only the log
  // waits (the audit event, not this line, is the durable record of a request); shutdown writes what is left.
  let pendingLines = '';
  const LOG_FLUSH_MS = 10;
  const LOG_FLUSH_CHARS = 64 * 1024;
  const flushLines = () => {
    const text = pendingLines;
    pendingLines = '';
    if (text) logStream.write(text);
  };
  // HTTP metrics and the request line of a finished request (Fastify's hook and the invocation fast path alike).
  const finished = (req: { method: string; route: string; id: string; url: string }, status: number, elapsedMs: number) => {
    metrics.observe(req.method, req.route, status, elapsedMs / 1000);
    if (QUIETER_THAN_INFO.has(app.log.level)) return;
    const id = JSON.stringify(req.id);
    const url = JSON.stringify(req.url.split('?')[0]);
    const ms = Math.round(elapsedMs * 10) / 10;
    if (pendingLines === '') setTimeout(flushLines, LOG_FLUSH_MS);
    pendingLines += `{"level":30,"time":${Date.now()}${lineHost},"reqId":${id},"req":{"method":${JSON.stringify(req.method)},"url":${url},"id":${id}},"status":${status},"ms":${ms},"msg":"request"}\n`;
    if (pendingLines.length > LOG_FLUSH_CHARS) flushLines();
  };
  app.addHook('onResponse', async (req, reply) => {
    finished({ method: req.method, route: req.routeOptions.url ?? 'unmatched', id: String(req.id), url: String(req.url) }, reply.statusCode, reply.elapsedTime);
  });
  app.setNotFoundHandler((req, reply) => {
    const body = req.body as Readable | undefined;
    if (body && typeof body.resume === 'function') body.resume();
    return sendError(reply, new AppError('ENDPOINT_NOT_FOUND', `No API found for '${req.method} ${String(req.url).split('?')[0]}'`));
  });
  app.setErrorHandler((err, req, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return sendError(reply, new AppError(status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST', err instanceof Error ? err.message : 'Bad request'));
    }
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, new AppError('INTERNAL_ERROR', 'Internal error. See the server log for details.'));
  });

  const routes: RouteSpec[] = [
    ...identityRoutes(identity, {
      experiments: { displayType: 'mlflowExperiment', exists: (id) => tracking.experimentExists(id) },
      'registered-models': { displayType: 'registeredModel', exists: (id) => registry.modelIdExists(id) },
      'serving-endpoints': { displayType: 'servingEndpoint', exists: (id) => serving.endpointIdExists(id) },
    }),
    ...trackingRoutes(tracking, artifacts),
    ...lakehouse.routes,
    ...governanceRoutes(governance),
    ...registryRoutes(registry, { registration: modelVersionRegistration, tracking, modelsRoot }),
    ...webSessionRoutes(webSessions),
    ...webUiRoutes({ distDir: process.env.WEIR_WEB_DIST ?? path.resolve(import.meta.dirname, '../../web/dist') }),
    ...servingRoutes(serving),
    ...lineageRoutes(lineage),
  ];
  const systemRoutes: RouteSpec[] = [
    defineRoute({
      method: 'GET',
      paths: ['/health'],
      summary: 'Liveness: answers OK',
      tag: 'system',
      auth: 'public',
      input: z.object({}),
      handler: (_i, { reply }) => reply.code(200).type('text/plain').send('OK'),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'GET',
      paths: ['/version'],
      summary: 'Server version',
      tag: 'system',
      auth: 'public',
      input: z.object({}),
      handler: (_i, { reply }) => reply.code(200).type('text/plain').send(WEIR_VERSION),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'GET',
      paths: ['/api/3.0/mlflow/server-info', '/ajax-api/3.0/mlflow/server-info'],
      summary: 'MLflow 3 server capabilities',
      tag: 'system',
      auth: 'public',
      input: z.object({}),
      handler: () => ({ store_type: 'SqlStore', workspaces_enabled: false }),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'GET',
      paths: ['/metrics'],
      summary: 'Prometheus metrics',
      tag: 'system',
      auth: 'public',
      input: z.object({}),
      handler: (_i, { reply }) => reply.code(200).type('text/plain; version=0.0.4').send(metrics.render()),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'GET',
      paths: ['/api/openapi.json'],
      summary: 'This OpenAPI document',
      tag: 'system',
      auth: 'public',
      input: z.object({}),
      handler: () => buildOpenApi(allRoutes, WEIR_VERSION),
    }) as unknown as RouteSpec,
  ];
  // Routes a domain still registers as bare 'authenticated' get their declared requirement from governance's table.
  const allRoutes = declareRequirements([...routes, ...systemRoutes]);
  // A request with an Authorization header is judged by it alone (Bearer/Basic as before); otherwise a web session cookie may authenticate it.
  const authenticate = (req: { headers: IncomingHttpHeaders; method: string }) =>
    req.headers.authorization ? identity.authenticate(req.headers.authorization) : webSessions.authenticate(req);
  const registeredRoutes = protectSystemCatalog(allRoutes);
  registerRoutes(app, registeredRoutes, authenticate, (principal, checks) =>
    governance.requireAll(
      principal,
      checks.map((c) => ({ privilege: c.privilege as Privilege, securable: { type: c.securable.type as SecurableType, fullName: c.securable.fullName } })),
    ),
  );
  await app.ready();
  // Scoring requests skip the generic route layer (docs/adr/0006-serving-fast-path.md); the route stays registered for
  // the OpenAPI document and for the requests the fast path leaves to Fastify.
  const invocationRoute = registeredRoutes.find((r) => r.method === 'POST' && r.paths[0] === INVOCATIONS_PATH);
  const fastPath = invocationRoute
    ? createInvocationFastPath({
        service: serving,
        route: invocationRoute,
        authenticate,
        requestId: requestIdFrom,
        audit: (req, status, body) => audit.record(req, status, body),
        auditFailureBody: AUDIT_UNAVAILABLE_BODY,
        finished,
        closing: () => closing,
        logError: (err, reqId, message) => app.log.error({ err, reqId }, message),
      })
    : null;
  if (fastPath) interceptInvocations(app.server, fastPath);
  audit.start();
  lineageTables.start();

  return {
    app,
    routes: allRoutes,
    store,
    audit,
    invocationFastPath: fastPath,
    async close(graceMs = 10_000) {
      // Connections still busy after the grace period are cut so a stuck client cannot hold shutdown forever.
      let cutOff = () => {};
      const graceOver = new Promise<void>((resolve) => {
        cutOff = resolve;
      });
      const force = setTimeout(() => {
        app.server.closeAllConnections();
        cutOff();
      }, graceMs);
      force.unref();
      try {
        await app.close();
        // The server closed once every connection had answered; a fast-path request whose connection the grace period
        // cut is waited for too (its event and capture row go in before the flush below), but no longer than the grace.
        await Promise.race([fastPath?.idle(), graceOver]);
      } finally {
        clearTimeout(force);
      }
      // In-flight requests have answered (their events are stored); what is staged moves into system.access.audit.
      await audit.close().catch((err) => app.log.error({ err }, 'final audit compaction failed'));
      await lineageTables.stop().catch((err) => app.log.error({ err }, 'final lineage copy failed'));
      flushLines();
      lineage.close();
      // Flushes captured inference rows before the store goes away.
      await serving.stop();
      lakehouse.sql.close();
      await store.close();
    },
  };
}

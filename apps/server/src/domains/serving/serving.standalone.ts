import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { defineRoute, type RouteSpec, registerRoutes, sendError } from '../../platform/http.ts';
import { readModelFacts } from '../registry/index.ts';
import { createStandaloneFastPath, interceptInvocations } from './serving.fast-path.ts';
import { type InvocationAnswer, readInvocation, SERVED_ENTITY_HEADER, SERVED_MODEL_NAME_HEADER } from './serving.invocation.ts';
import { createServingMetrics } from './serving.metrics.ts';
import { createModelRuntime, type LoadedModel, onnxThreadsFromEnv } from './serving.runtime.ts';
import { parseCsvScoringBody, parseJsonScoringBody } from './serving.scoring.ts';

/** How often `weir serve` asks the registry where the alias points, by default. */
export const DEFAULT_ALIAS_POLL_SECONDS = 10;

/** What `weir serve` needs: the model, where to listen, and the Weir server whose registry holds it. */
export interface StandaloneServingOptions {
  /** `models:/name@alias` (followed as it moves) or `models:/name/version`. */
  model: string;
  host: string;
  port: number;
  /** The Weir server's URL. */
  server: string;
  token: string | undefined;
  /** Seconds between alias checks (default 10). */
  pollSeconds?: number;
  /** Where downloaded versions are kept (default: a new temp directory, removed on stop). */
  cacheDir?: string;
  /** A Python with mlflow, for versions without an onnx flavor. */
  python?: string;
  log?: (line: string) => void;
}

/** A running standalone scoring server. */
export interface StandaloneServing {
  url: string;
  app: FastifyInstance;
  /** The version being served now. */
  version(): number;
  /** Checks the alias once now (the poll does this every period). */
  refresh(): Promise<void>;
  /** Scoring requests answered by the fast path so far. */
  taken(): number;
  stop(): Promise<void>;
}

/** Splits a `models:/` URI into the registered model name and a version or alias. */
export function parseModelUri(uri: string): { name: string; ref: { version: number } | { alias: string } } {
  const m = /^models:\/([^/@]+)(?:@([A-Za-z0-9_-]+)|\/(\d{1,9}))$/.exec(uri);
  if (!m) throw new Error(`--model must be models:/<name>@<alias> or models:/<name>/<version>, got '${uri}'.`);
  const name = m[1] as string;
  return { name, ref: m[2] !== undefined ? { alias: m[2] } : { version: Number(m[3]) } };
}

/** A small client of the Weir server's MLflow registry and artifact API. */
function registryClient(server: string, token: string | undefined) {
  const base = server.replace(/\/+$/, '');
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  async function getJson(url: string): Promise<Record<string, unknown>> {
    const res = await fetch(url, { headers });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url.replace(base, '')} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  }
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  return {
    async resolveVersion(name: string, ref: { version: number } | { alias: string }): Promise<number> {
      if ('version' in ref) return ref.version;
      const body = await getJson(`${base}/api/2.0/mlflow/registered-models/alias?${q({ name, alias: ref.alias })}`);
      return Number((body.model_version as { version: string }).version);
    },
    /** Downloads every file of a version through the MLflow artifact API into `dir`. */
    async download(name: string, version: number, dir: string): Promise<void> {
      const uri = String((await getJson(`${base}/api/2.0/mlflow/model-versions/get-download-uri?${q({ name, version: String(version) })}`)).artifact_uri);
      const at = uri.indexOf('/mlflow-artifacts/artifacts');
      if (!/^https?:\/\//.test(uri) || at < 0) throw new Error(`the registry gave a download URI Weir serve cannot read: ${uri}`);
      const listBase = uri.slice(0, at + '/mlflow-artifacts/artifacts'.length);
      const root = decodeURIComponent(uri.slice(at + '/mlflow-artifacts/artifacts'.length).replace(/^\/+/, ''));
      const walk = async (sub: string): Promise<void> => {
        const listed = await getJson(`${listBase}?${q({ path: sub ? `${root}/${sub}` : root })}`);
        for (const f of (listed.files ?? []) as { path: string; is_dir: boolean }[]) {
          const rel = sub ? `${sub}/${f.path}` : f.path;
          const target = path.resolve(dir, rel);
          if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`the registry listed a file outside the model: ${rel}`);
          if (f.is_dir) {
            await walk(rel);
            continue;
          }
          const res = await fetch(`${uri}/${rel.split('/').map(encodeURIComponent).join('/')}`, { headers });
          if (!res.ok) throw new Error(`downloading ${rel} answered ${res.status}`);
          await fsp.mkdir(path.dirname(target), { recursive: true });
          await fsp.writeFile(target, Buffer.from(await res.arrayBuffer()));
        }
      };
      await walk('');
    },
  };
}

/** One version loaded and taking traffic; it unloads when replaced and its last request is done. */
interface Live {
  version: number;
  entity: string;
  model: LoadedModel;
  inFlight: number;
  retired: boolean;
}

/**
 * Starts `weir serve`: only the scoring routes (`POST /invocations`, `/ping`, `/health`, `/metrics`) for one model pulled
 * from a Weir server's registry. With an alias, the registry is asked every `pollSeconds`; a move loads and warms the
 * new version, then switches traffic to it in one assignment, and the old version unloads once its requests are done.
 */
export async function startStandaloneServing(options: StandaloneServingOptions): Promise<StandaloneServing> {
  const { name, ref } = parseModelUri(options.model);
  const log = options.log ?? (() => {});
  const registry = registryClient(options.server, options.token);
  const runtime = createModelRuntime({ python: options.python, log, onnxThreads: onnxThreadsFromEnv(process.env) });
  const metrics = createServingMetrics();
  const ownCache = options.cacheDir === undefined;
  const cacheDir = options.cacheDir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'weir-serve-')));
  const short = name.split('.').pop() as string;
  let live: Live | null = null;
  let lastError: string | null = null;
  // Alias checks never overlap: a slow download is not started twice.
  let checking: Promise<void> = Promise.resolve();

  async function load(version: number): Promise<Live> {
    const dir = path.join(cacheDir, `${short}-${version}`);
    const complete = path.join(dir, '.weir-complete');
    const have = await fsp.stat(complete).then(
      () => true,
      () => false,
    );
    if (!have) {
      await fsp.rm(dir, { recursive: true, force: true });
      await fsp.mkdir(dir, { recursive: true });
      await registry.download(name, version, dir);
      await fsp.writeFile(complete, '');
    }
    const facts = await readModelFacts(dir);
    const why = runtime.unservableReason(facts);
    if (why) throw new Error(`${name} version ${version} cannot be served: ${why}`);
    const model = await runtime.acquire(dir, facts);
    return { version, entity: `${short}-${version}`, model, inFlight: 0, retired: false };
  }

  function retire(old: Live): void {
    old.retired = true;
    if (old.inFlight === 0) runtime.release(old.model.key);
  }

  async function check(): Promise<void> {
    const version = await registry.resolveVersion(name, ref);
    if (live && live.version === version) return;
    const next = await load(version);
    const old = live;
    live = next;
    log(`serving ${name} version ${version}${old ? ` (was ${old.version})` : ''}`);
    if (old) retire(old);
  }

  function refresh(): Promise<void> {
    checking = checking.then(check, check).then(
      () => {
        lastError = null;
      },
      (err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err);
        log(`alias check failed, still serving ${live ? `version ${live.version}` : 'nothing'}: ${lastError}`);
      },
    );
    return checking;
  }

  await refresh();
  if (!live) {
    if (ownCache) await fsp.rm(cacheDir, { recursive: true, force: true });
    throw new Error(`could not load ${options.model}: ${lastError}`);
  }

  /** Scores one request on the version serving now; throws AppError for refusals the generic error body carries. */
  async function score(contentType: string | undefined, stream: Readable | undefined): Promise<InvocationAnswer> {
    const body = await readInvocation(contentType, stream);
    if ('refused' in body) return body.refused;
    const current = live;
    if (!current) throw new AppError('TEMPORARILY_UNAVAILABLE', `No version of ${options.model} is loaded: ${lastError ?? 'loading'}.`);
    current.inFlight++;
    const finish = metrics.start(options.model, current.entity);
    let ok = false;
    try {
      const request = body.csv ? parseCsvScoringBody(body.text) : parseJsonScoringBody(body.text);
      const predictions = await current.model.predict(request, { text: body.text, csv: body.csv });
      ok = true;
      return { status: 200, body: JSON.stringify({ predictions }), servedEntity: current.entity };
    } finally {
      finish(ok);
      current.inFlight--;
      if (current.retired && current.inFlight === 0) runtime.release(current.model.key);
    }
  }

  const routes = [
    defineRoute({
      method: 'POST',
      paths: ['/invocations'],
      summary: 'Score with the served model (MLflow scoring protocol: JSON or CSV)',
      tag: 'serving',
      auth: 'public',
      input: z.object({}),
      body: 'raw',
      handler: async (_input, { reply, rawBody }) => {
        const answer = await score(reply.request.headers['content-type'], rawBody as Readable | undefined);
        if (answer.servedEntity !== null) {
          reply.header(SERVED_ENTITY_HEADER, answer.servedEntity);
          reply.header(SERVED_MODEL_NAME_HEADER, answer.servedEntity);
        }
        return reply.code(answer.status).type('application/json').send(answer.body);
      },
    }),
    defineRoute({
      method: 'GET',
      paths: ['/ping', '/health'],
      summary: 'Ready when a version is loaded',
      tag: 'system',
      auth: 'public',
      input: z.object({}),
      handler: (_i, { reply }) =>
        live ? reply.code(200).type('text/plain').send('OK') : sendError(reply, new AppError('TEMPORARILY_UNAVAILABLE', 'No model version is loaded.')),
    }),
    defineRoute({
      method: 'GET',
      paths: ['/metrics'],
      summary: 'Prometheus metrics of the served model',
      tag: 'system',
      auth: 'public',
      input: z.object({}),
      handler: (_i, { reply }) =>
        reply
          .code(200)
          .type('text/plain; version=0.0.4')
          .send(
            `# HELP weir_serve_model_version The model version being served.\n# TYPE weir_serve_model_version gauge\nweir_serve_model_version ${live?.version ?? 0}\n${metrics.render()}`,
          ),
    }),
  ] as unknown as RouteSpec[];

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload as Readable));
  app.setNotFoundHandler((req, reply) => {
    const body = req.body as Readable | undefined;
    if (body && typeof body.resume === 'function') body.resume();
    return sendError(reply, new AppError('ENDPOINT_NOT_FOUND', `No API found for '${req.method} ${String(req.url).split('?')[0]}'`));
  });
  registerRoutes(app, routes, async () => null);
  // Scoring requests skip Fastify here too (docs/adr/0006-serving-fast-path.md); the route above answers the rest.
  const fastPath = createStandaloneFastPath(score, () => !app.server.listening);
  await app.ready();
  interceptInvocations(app.server, fastPath);
  const url = await app.listen({ host: options.host, port: options.port });

  const period = (options.pollSeconds ?? DEFAULT_ALIAS_POLL_SECONDS) * 1000;
  const timer = 'alias' in ref ? setInterval(() => void refresh(), period) : null;
  timer?.unref();

  return {
    url,
    app,
    version: () => live?.version ?? 0,
    refresh,
    taken: () => fastPath.taken(),
    async stop() {
      if (timer) clearInterval(timer);
      await app.close();
      await fastPath.idle();
      await checking;
      if (live) retire(live);
      live = null;
      if (ownCache) await fsp.rm(cacheDir, { recursive: true, force: true });
    },
  };
}

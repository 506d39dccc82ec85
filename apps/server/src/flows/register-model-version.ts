// Registering a model version spans tracking (where the run's or logged model's files are) and the
// registry (which owns the version and, from now on, a copy of its files).
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { readModelFacts } from '../domains/registry/registry.mlmodel.ts';
import type { RegistryService } from '../domains/registry/registry.service.ts';
import { checkRelativePath, storePathOfUri, type TrackingService } from '../domains/tracking/index.ts';
import { AppError, invalidParameter } from '../platform/errors.ts';
import type { Principal } from '../platform/http.ts';

/** What a model version is created from, as MLflow's CreateModelVersion sends it. */
export interface ModelVersionSourceInput {
  name: string;
  source: string;
  run_id?: string | undefined;
  model_id?: string | undefined;
  tags?: { key: string; value?: string | undefined }[] | undefined;
  run_link?: string | undefined;
  description?: string | undefined;
}

/** Where the files come from once the source is validated. */
type FilePlan = { kind: 'copy'; from: string } | { kind: 'external' } | { kind: 'failed'; reason: string };

interface ResolvedSource {
  runId: string | null;
  loggedModelId: string | null;
  plan: FilePlan;
}

const INVALID_RELATIVE = (source: string) =>
  `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`;

const INVALID_LOCAL = (source: string) =>
  `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`;

const MISMATCH = (source: string, param: string) =>
  `Invalid model version source: '${source}'. The ${param} request parameter has to be specified and must match the ${param === 'run_id' ? 'run' : 'model'} the source refers to.`;

/** Splits a URI the way Python's urlparse does for what matters here: scheme, authority, path. */
function parseUri(source: string): { scheme: string; netloc: string; path: string } {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(source);
  if (!m || (m[1] as string).length === 1) return { scheme: '', netloc: '', path: source.split(/[?#]/)[0] ?? '' };
  let rest = (m[2] as string).split(/[?#]/)[0] ?? '';
  let netloc = '';
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    netloc = slash < 0 ? rest : rest.slice(0, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  return { scheme: (m[1] as string).toLowerCase(), netloc, path: rest };
}

/** Python's unquote_plus applied until stable, so `..%252f` cannot hide a traversal. */
function fullyUnquoted(source: string): string {
  let cur = source;
  for (let i = 0; i < 10; i++) {
    let next: string;
    try {
      next = decodeURIComponent(cur.replace(/\+/g, ' '));
    } catch {
      next = cur.replace(/\+/g, ' ');
    }
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

/** Refuses sources with `..`, NUL or a path that is not already absolute and normalized. */
function assertNoRelativeParts(source: string): void {
  const unquoted = fullyUnquoted(source);
  const sourcePath = parseUri(unquoted).path.replace(/\/+/g, '/').replace(/\/+$/, '');
  if (sourcePath.includes('\0') || unquoted.split('/').some((p) => p === '..')) throw invalidParameter(INVALID_RELATIVE(source));
  if (sourcePath === '') return;
  if (!sourcePath.startsWith('/') || path.posix.normalize(sourcePath) !== sourcePath) throw invalidParameter(INVALID_RELATIVE(source));
}

/** Registers model versions: validates the source, records the version, copies its files, reads its MLmodel. */
export type ModelVersionRegistration = ReturnType<typeof createModelVersionRegistration>;

/** Creates the registration flow over the registry, tracking and the two file roots. */
export function createModelVersionRegistration(deps: {
  registry: RegistryService;
  tracking: Pick<TrackingService, 'getRun' | 'getLoggedModel' | 'authorizeArtifactPath'>;
  artifactsRoot: string;
  modelsRoot: string;
}) {
  const { registry, tracking, artifactsRoot, modelsRoot } = deps;

  /** Absolute path inside the artifact store for a store-relative path. */
  function storePath(rel: string): string {
    const clean = checkRelativePath(rel);
    const full = path.join(artifactsRoot, clean);
    if (full !== artifactsRoot && !full.startsWith(artifactsRoot + path.sep)) throw invalidParameter('Invalid path');
    return full;
  }

  async function runArtifactUri(principal: Principal, runId: string): Promise<string> {
    const { run } = await tracking.getRun(principal, runId);
    return String((run as unknown as { info: { artifact_uri: string } }).info.artifact_uri);
  }

  async function loggedModel(principal: Principal, modelId: string): Promise<{ artifactUri: string; sourceRunId: string | null }> {
    const { model } = await tracking.getLoggedModel(principal, modelId, false);
    const info = model.info as { artifact_uri: string; source_run_id?: string };
    return { artifactUri: String(info.artifact_uri), sourceRunId: info.source_run_id ?? null };
  }

  /** Files under an artifact URI: copied when Weir stores them, left in place otherwise. */
  function planForUri(uri: string, sub: string): FilePlan {
    const base = storePathOfUri(uri);
    if (base === null) return { kind: 'external' };
    const rel = sub ? `${base}/${checkRelativePath(sub)}` : base;
    return { kind: 'copy', from: storePath(rel) };
  }

  async function resolveSource(principal: Principal, input: ModelVersionSourceInput): Promise<ResolvedSource> {
    const source = input.source;
    const givenRun = input.run_id || null;
    const givenModel = input.model_id || null;
    const uri = parseUri(source);
    const isLocal = uri.scheme === '' || (uri.scheme === 'file' && (uri.netloc === '' || uri.netloc === 'localhost'));
    if (uri.scheme === 'file' && !isLocal) throw invalidParameter(`${source} is not a valid remote uri. A file: source must name a path on this server.`);

    if (isLocal) {
      // Weir's runs keep artifacts in its own store (mlflow-artifacts:), so a local path can only be inside it.
      if (!givenRun) throw invalidParameter(INVALID_LOCAL(source));
      const runUri = await runArtifactUri(principal, givenRun);
      const localPath = path.resolve(uri.scheme === 'file' ? fullyUnquoted(uri.path) : source);
      const runBase = storePathOfUri(runUri);
      const runDir = runBase === null ? (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(runUri) ? null : path.resolve(runUri)) : storePath(runBase);
      if (!runDir || (localPath !== runDir && !localPath.startsWith(runDir + path.sep))) throw invalidParameter(INVALID_LOCAL(source));
      const inStore = localPath === artifactsRoot || localPath.startsWith(artifactsRoot + path.sep);
      return {
        runId: givenRun,
        loggedModelId: givenModel,
        plan: inStore ? { kind: 'copy', from: localPath } : { kind: 'failed', reason: 'Weir copies model files only from its own artifact store.' },
      };
    }

    assertNoRelativeParts(source);

    if (uri.scheme === 'runs') {
      if (uri.netloc) throw invalidParameter(MISMATCH(source, 'run_id'));
      const [runId = '', ...rest] = uri.path.replace(/^\/+/, '').split('/');
      if (!runId || (givenRun && givenRun !== runId)) throw invalidParameter(MISMATCH(source, 'run_id'));
      const runUri = await runArtifactUri(principal, runId);
      return { runId, loggedModelId: givenModel, plan: planForUri(runUri, rest.filter(Boolean).join('/')) };
    }

    if (uri.scheme === 'models') {
      if (uri.netloc) throw invalidParameter(MISMATCH(source, 'model_id'));
      const parts = uri.path.replace(/^\/+/, '').split('/').filter(Boolean);
      if (parts.length === 1 && /^m-[0-9a-f]{32}$/.test(parts[0] as string)) {
        const id = parts[0] as string;
        if (givenModel && givenModel !== id) throw invalidParameter(MISMATCH(source, 'model_id'));
        const lm = await loggedModel(principal, id);
        return { runId: givenRun ?? lm.sourceRunId, loggedModelId: id, plan: planForUri(lm.artifactUri, '') };
      }
      // models:/<name>/<version> or models:/<name>@<alias>: a copy of another registered version's files.
      const joined = parts.join('/');
      const at = parts.length === 1 ? joined.lastIndexOf('@') : -1;
      const name = at > 0 ? joined.slice(0, at) : parts[0];
      if (!name || (at < 0 && parts.length !== 2))
        throw invalidParameter(`Invalid model version source: '${source}'. Expected models:/<model_id>, models:/<name>/<version> or models:/<name>@<alias>.`);
      const ref =
        at > 0
          ? await registry.getModelVersionByAlias(principal, name, joined.slice(at + 1))
          : await registry.getModelVersion(principal, name, parts[1] as string);
      const version = String(ref.model_version.version);
      const { model, version: v } = await registry.authorizedVersion(principal, name, version, 'CAN_READ');
      const plan: FilePlan =
        v.status !== 'READY'
          ? { kind: 'failed', reason: `The source version is ${v.status}.` }
          : v.storage_location
            ? { kind: 'external' }
            : { kind: 'copy', from: registry.versionDir(model, v.version) };
      return { runId: givenRun ?? v.run_id, loggedModelId: givenModel ?? v.logged_model_id, plan };
    }

    let loggedModelId = givenModel;
    let runId = givenRun;
    if (givenModel) runId ??= (await loggedModel(principal, givenModel)).sourceRunId;

    if (uri.scheme === 'mlflow-artifacts') {
      const rel = storePathOfUri(source) ?? '';
      if (givenRun) {
        const runBase = storePathOfUri(await runArtifactUri(principal, givenRun));
        if (runBase === null || (rel !== runBase && !rel.startsWith(`${runBase}/`))) throw invalidParameter(MISMATCH(source, 'run_id'));
      }
      await tracking.authorizeArtifactPath(principal, rel, 'CAN_READ');
      return { runId, loggedModelId, plan: { kind: 'copy', from: storePath(rel) } };
    }

    loggedModelId ??= null;
    return { runId: runId ?? null, loggedModelId, plan: { kind: 'external' } };
  }

  /** Copies a file or directory into `dest` through a staging directory, so `dest` appears whole or not at all. */
  async function copyIn(from: string, dest: string): Promise<void> {
    const stat = await fsp.lstat(from).catch(() => null);
    if (!stat || stat.isSymbolicLink()) throw new AppError('RESOURCE_DOES_NOT_EXIST', 'No model files were found at the source.');
    const staging = path.join(modelsRoot, '.staging', randomUUID());
    await fsp.mkdir(path.dirname(staging), { recursive: true });
    try {
      if (stat.isDirectory()) {
        await fsp.cp(from, staging, {
          recursive: true,
          errorOnExist: true,
          force: false,
          // Only regular files and directories are copied: a link could point anywhere on the server.
          filter: async (src) => !(await fsp.lstat(src)).isSymbolicLink() && !path.basename(src).startsWith('.weir-upload-'),
        });
      } else {
        await fsp.mkdir(staging);
        await fsp.copyFile(from, path.join(staging, path.basename(from)));
      }
      await fsp.rm(dest, { recursive: true, force: true });
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.rename(staging, dest);
    } catch (err) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  return {
    /**
     * Creates a version: PENDING_REGISTRATION, then READY once its files are copied and its MLmodel read
     * (or FAILED_REGISTRATION with the reason, leaving no files). `finalStatus` PENDING_REGISTRATION keeps
     * Unity Catalog's create-then-finalize flow.
     */
    async register(principal: Principal, input: ModelVersionSourceInput, finalStatus: 'READY' | 'PENDING_REGISTRATION' = 'READY') {
      const model = await registry.modelForNewVersion(principal, input.name);
      const resolved = await resolveSource(principal, input);
      const pending = await registry.insertPendingVersion(principal, model, {
        source: input.source,
        runId: resolved.runId,
        runLink: input.run_link,
        description: input.description,
        loggedModelId: resolved.loggedModelId,
        tags: input.tags ?? [],
      });
      const plan = resolved.plan;
      if (plan.kind === 'external') {
        const version = await registry.finishVersion(model, pending, {
          status: finalStatus,
          message: null,
          externalLocation: input.source,
          facts: null,
        });
        return { model, version };
      }
      if (plan.kind === 'failed') {
        const version = await registry.finishVersion(model, pending, {
          status: 'FAILED_REGISTRATION',
          message: plan.reason,
          externalLocation: null,
          facts: null,
        });
        return { model, version };
      }
      const dest = registry.versionDir(model, pending.version);
      try {
        await copyIn(plan.from, dest);
      } catch (err) {
        const reason = err instanceof AppError ? err.message : `Copying the model files failed: ${err instanceof Error ? err.message : String(err)}`;
        const version = await registry.finishVersion(model, pending, { status: 'FAILED_REGISTRATION', message: reason, externalLocation: null, facts: null });
        return { model, version };
      }
      const facts = await readModelFacts(dest);
      const version = await registry.finishVersion(model, pending, { status: finalStatus, message: null, externalLocation: null, facts });
      return { model, version };
    },
  };
}

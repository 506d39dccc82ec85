import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { registry as contracts, ownership } from '@weir/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ModelVersionRegistration } from '../../flows/register-model-version.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { checkRelativePath, mlflowPaths, type TrackingService } from '../tracking/index.ts';
import type { RegistryService } from './registry.service.ts';

/** Path prefix under which Weir serves model version files with MLflow's artifact-proxy protocol. */
export const MODEL_FILES_PREFIX = '/api/weir/v1/model-files';
const PROXY = '/mlflow-artifacts/artifacts';

/** The download URI of a version's files: an http(s) artifact-proxy URI on this server, which MLflow clients download from. */
export function modelFilesUri(request: FastifyRequest, rel: string): string {
  const forwardedProto = request.headers['x-forwarded-proto'];
  const proto = typeof forwardedProto === 'string' && /^https?$/.test(forwardedProto) ? forwardedProto : request.protocol;
  return `${proto}://${request.host}${MODEL_FILES_PREFIX}${PROXY}/${rel}`;
}

/** Streams one model file as an attachment; 404 when it is absent or a directory. */
async function sendModelFile(reply: FastifyReply, full: string, rel: string) {
  const stat = await fsp.stat(full).catch(() => null);
  if (!stat?.isFile()) throw notFound(`Model file '${rel}' does not exist.`);
  const name = path.basename(full).replace(/["\\\r\n]/g, '_');
  return reply
    .code(200)
    .header('Content-Type', 'application/octet-stream')
    .header('Content-Length', String(stat.size))
    .header('Content-Disposition', `attachment; filename="${name}"`)
    .header('X-Content-Type-Options', 'nosniff')
    .send(fs.createReadStream(full));
}

/** Table names a dataset input points at, when its source says so (Delta / Unity Catalog sources carry `table_name`). */
function tablesOfDataset(source: string): string[] {
  try {
    const parsed = JSON.parse(source) as Record<string, unknown>;
    const name = parsed.table_name ?? parsed.table ?? parsed.full_name;
    return typeof name === 'string' && name ? [name] : [];
  } catch {
    return [];
  }
}

/** MLflow registry routes, the Unity Catalog models API, model files and version lineage. */
export function registryRoutes(
  svc: RegistryService,
  deps: { registration: ModelVersionRegistration; tracking: Pick<TrackingService, 'getRun'>; modelsRoot: string },
): RouteSpec[] {
  const { registration, tracking, modelsRoot } = deps;
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag' | 'auth'> & { tag?: string; auth?: RouteSpec['auth'] }) =>
    defineRoute({ ...spec, tag: spec.tag ?? 'mlflow-registry', auth: spec.auth ?? 'authenticated' }) as unknown as RouteSpec;
  const uc = '/api/2.1/unity-catalog';

  const filePath = (rel: string) => {
    const full = path.join(modelsRoot, rel);
    if (full !== modelsRoot && !full.startsWith(modelsRoot + path.sep)) throw new AppError('INVALID_PARAMETER_VALUE', 'Invalid path');
    return full;
  };

  return [
    // ---- registered models ----
    r({
      method: 'POST',
      paths: mlflowPaths('/registered-models/create'),
      summary: 'Create a registered model',
      input: contracts.CreateRegisteredModel,
      handler: (i, { principal }) => svc.createRegisteredModel(principal, i),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/registered-models/get'),
      summary: 'Get a registered model',
      input: contracts.RegisteredModelName,
      handler: (i, { principal }) => svc.getRegisteredModel(principal, i.name),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/databricks/registered-models/get'),
      summary: 'Get a registered model with its id and the caller’s permission level (Databricks SDK)',
      input: contracts.RegisteredModelName,
      async handler(i, { principal }) {
        const { registered_model } = await svc.getRegisteredModel(principal, i.name);
        return { registered_model_databricks: { ...registered_model, permission_level: principal.isAdmin ? 'CAN_MANAGE' : undefined } };
      },
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/registered-models/rename'),
      summary: 'Rename a registered model (its versions follow)',
      input: contracts.RenameRegisteredModel,
      handler: (i, { principal }) => svc.renameRegisteredModel(principal, i.name, i.new_name),
    }),
    r({
      method: 'PATCH',
      paths: mlflowPaths('/registered-models/update'),
      summary: 'Update a registered model’s description',
      input: contracts.UpdateRegisteredModel,
      handler: (i, { principal }) => svc.updateRegisteredModel(principal, i.name, i.description),
    }),
    r({
      method: 'DELETE',
      paths: mlflowPaths('/registered-models/delete'),
      summary: 'Delete a registered model, its versions and their files',
      input: contracts.RegisteredModelName,
      handler: (i, { principal }) => svc.deleteRegisteredModel(principal, i.name),
    }),
    ...(['GET', 'POST'] as const).map((method) =>
      r({
        method,
        paths: mlflowPaths('/registered-models/search'),
        summary: 'Search registered models',
        input: contracts.SearchRegisteredModels,
        handler: (i, { principal }) => svc.searchRegisteredModels(principal, i),
      }),
    ),
    r({
      method: 'GET',
      paths: mlflowPaths('/registered-models/list'),
      summary: 'List registered models (legacy, called by the Databricks SDK)',
      input: contracts.SearchRegisteredModels,
      handler: (i, { principal }) => svc.searchRegisteredModels(principal, i),
    }),
    ...(['POST', 'GET'] as const).map((method) =>
      r({
        method,
        paths: mlflowPaths('/registered-models/get-latest-versions'),
        summary: 'Latest version per stage',
        input: contracts.GetLatestVersions,
        handler: (i, { principal }) => svc.getLatestVersions(principal, i.name, i.stages),
      }),
    ),
    r({
      method: 'POST',
      paths: mlflowPaths('/registered-models/set-tag'),
      summary: 'Set a registered model tag',
      input: contracts.SetRegisteredModelTag,
      handler: (i, { principal }) => svc.setRegisteredModelTag(principal, i.name, i.key, i.value),
    }),
    r({
      method: 'DELETE',
      paths: mlflowPaths('/registered-models/delete-tag'),
      summary: 'Delete a registered model tag',
      input: contracts.DeleteRegisteredModelTag,
      handler: (i, { principal }) => svc.deleteRegisteredModelTag(principal, i.name, i.key),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/registered-models/alias'),
      summary: 'Point an alias at a version (moves it if set)',
      input: contracts.SetRegisteredModelAlias,
      handler: (i, { principal }) => svc.setRegisteredModelAlias(principal, i.name, i.alias, i.version),
    }),
    r({
      method: 'DELETE',
      paths: mlflowPaths('/registered-models/alias'),
      summary: 'Delete an alias',
      input: contracts.RegisteredModelAlias,
      handler: (i, { principal }) => svc.deleteRegisteredModelAlias(principal, i.name, i.alias),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/registered-models/alias'),
      summary: 'The version an alias points at',
      input: contracts.RegisteredModelAlias,
      handler: (i, { principal }) => svc.getModelVersionByAlias(principal, i.name, i.alias),
    }),
    // ---- model versions ----
    r({
      method: 'POST',
      paths: mlflowPaths('/model-versions/create'),
      summary: 'Register a model version (its files are copied into the registry)',
      input: contracts.CreateModelVersion,
      async handler(i, { principal }) {
        const { model, version } = await registration.register(principal, i);
        return { model_version: await svc.versionJson(model, version) };
      },
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/model-versions/get'),
      summary: 'Get a model version',
      input: contracts.ModelVersionRef,
      handler: (i, { principal }) => svc.getModelVersion(principal, i.name, i.version),
    }),
    r({
      method: 'PATCH',
      paths: mlflowPaths('/model-versions/update'),
      summary: 'Update a model version’s description',
      input: contracts.UpdateModelVersion,
      handler: (i, { principal }) => svc.updateModelVersion(principal, i.name, i.version, i.description),
    }),
    r({
      method: 'DELETE',
      paths: mlflowPaths('/model-versions/delete'),
      summary: 'Delete a model version (its number is never reused)',
      input: contracts.ModelVersionRef,
      handler: (i, { principal }) => svc.deleteModelVersion(principal, i.name, i.version),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/model-versions/transition-stage'),
      summary: 'Move a version to a stage',
      input: contracts.TransitionModelVersionStage,
      handler: (i, { principal }) => svc.transitionStage(principal, i.name, i.version, i.stage, i.archive_existing_versions ?? false),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/databricks/model-versions/transition-stage'),
      summary: 'Move a version to a stage (Databricks SDK)',
      input: contracts.TransitionModelVersionStage.extend({ comment: z.string().optional() }),
      async handler(i, { principal }) {
        const { model_version } = await svc.transitionStage(principal, i.name, i.version, i.stage, i.archive_existing_versions ?? false);
        return { model_version_databricks: model_version };
      },
    }),
    ...(['GET', 'POST'] as const).map((method) =>
      r({
        method,
        paths: mlflowPaths('/model-versions/search'),
        summary: 'Search model versions',
        input: contracts.SearchModelVersions,
        handler: (i, { principal }) => svc.searchModelVersions(principal, i),
      }),
    ),
    r({
      method: 'GET',
      paths: mlflowPaths('/model-versions/get-download-uri'),
      summary: 'Where a version’s files can be downloaded from',
      input: contracts.ModelVersionRef,
      async handler(i, { principal, request }) {
        const { model, version } = await svc.downloadTarget(principal, i.name, i.version);
        if (version.storage_location) return { artifact_uri: version.storage_location };
        return { artifact_uri: modelFilesUri(request, `${model.catalog_name}/${model.schema_name}/${model.name}/${version.version}`) };
      },
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/model-versions/set-tag'),
      summary: 'Set a model version tag',
      input: contracts.SetModelVersionTag,
      handler: (i, { principal }) => svc.setModelVersionTag(principal, i.name, i.version, i.key, i.value),
    }),
    r({
      method: 'DELETE',
      paths: mlflowPaths('/model-versions/delete-tag'),
      summary: 'Delete a model version tag',
      input: contracts.DeleteModelVersionTag,
      handler: (i, { principal }) => svc.deleteModelVersionTag(principal, i.name, i.version, i.key),
    }),
    // ---- model files, with the artifact proxy's list and download protocol ----
    r({
      method: 'GET',
      paths: [`${MODEL_FILES_PREFIX}${PROXY}`],
      summary: 'List a model version’s files (basenames, as the MLflow artifact proxy)',
      tag: 'model-files',
      input: z.object({ path: z.string().optional() }),
      async handler(i, { principal }) {
        const rel = checkRelativePath(i.path ?? '');
        await svc.authorizeFilePath(principal, rel);
        const dir = filePath(rel);
        const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
        const files: { path: string; is_dir: boolean; file_size?: number }[] = [];
        for (const e of entries) {
          if (e.isDirectory()) files.push({ path: e.name, is_dir: true });
          else if (e.isFile()) files.push({ path: e.name, is_dir: false, file_size: (await fsp.stat(path.join(dir, e.name))).size });
        }
        files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
        return { files };
      },
    }),
    r({
      method: 'GET',
      paths: [`${MODEL_FILES_PREFIX}${PROXY}/*`],
      summary: 'Download one file of a model version',
      tag: 'model-files',
      input: z.object({ '*': z.string() }),
      async handler(i, { principal, reply }) {
        const rel = checkRelativePath(i['*']);
        await svc.authorizeFilePath(principal, rel);
        return sendModelFile(reply, filePath(rel), rel);
      },
    }),
    // ---- Weir's own view of a version: the model format facts ----
    r({
      method: 'GET',
      paths: ['/api/weir/v1/models/:name/versions/:version'],
      summary: 'A version with what Weir read from its MLmodel: flavors, signature, input example, servability',
      tag: 'models',
      input: z.object({ name: z.string().min(1), version: z.string().min(1) }),
      async handler(i, { principal }) {
        const { model, version } = await svc.authorizedVersion(principal, i.name, i.version, 'CAN_READ');
        const facts = svc.versionFacts(version);
        return {
          model_version: await svc.versionJson(model, version),
          full_name: svc.fullName(model),
          files_owned: version.storage_location === null && version.status !== 'FAILED_REGISTRATION',
          flavors: facts?.flavors ?? [],
          flavor_config: facts?.flavorConfig ?? {},
          signature: facts?.signature ?? null,
          input_example: facts?.inputExample ?? null,
          requirements_file: facts?.requirementsFile ?? null,
          servable: version.servable === 1,
          not_servable_reason: version.not_servable_reason,
        };
      },
    }),
    r({
      method: 'GET',
      paths: ['/model-versions/get-artifact', '/ajax-api/2.0/mlflow/model-versions/get-artifact'],
      summary: 'Download one file of a model version (MLflow UI)',
      tag: 'model-files',
      input: z.object({ name: z.string().min(1), version: z.string().min(1), path: z.string().min(1) }),
      async handler(i, { principal, reply }) {
        const rel = checkRelativePath(i.path);
        const { model, version } = await svc.authorizedVersion(principal, i.name, i.version, 'CAN_READ');
        if (version.storage_location)
          throw new AppError('INVALID_PARAMETER_VALUE', `This version's files are at ${version.storage_location}, which Weir does not serve.`);
        return sendModelFile(reply, filePath(`${model.catalog_name}/${model.schema_name}/${model.name}/${version.version}/${rel}`), rel);
      },
    }),
    // ---- lineage ----
    r({
      method: 'GET',
      paths: ['/api/weir/v1/models/:name/versions/:version/lineage'],
      summary: 'A version’s lineage: its source run and the datasets (tables) that run was trained on',
      tag: 'lineage',
      input: z.object({ name: z.string().min(1), version: z.string().min(1) }),
      async handler(i, { principal }) {
        const { model, version } = await svc.authorizedVersion(principal, i.name, i.version, 'CAN_READ');
        const out: Record<string, unknown> = {
          model: { name: svc.mlflowName(model), full_name: svc.fullName(model), version: String(version.version) },
          source: version.source,
        };
        if (version.logged_model_id) out.logged_model_id = version.logged_model_id;
        if (!version.run_id) return { ...out, datasets: [], tables: [] };
        let run: { info: Record<string, unknown>; inputs?: { dataset_inputs?: { dataset: Record<string, string>; tags?: unknown[] }[] } };
        try {
          run = (await tracking.getRun(principal, version.run_id)).run as unknown as typeof run;
        } catch (err) {
          if (err instanceof AppError && err.code === 'RESOURCE_DOES_NOT_EXIST')
            return { ...out, run: { run_id: version.run_id, exists: false }, datasets: [], tables: [] };
          throw err;
        }
        const datasets = (run.inputs?.dataset_inputs ?? []).map((d) => ({
          name: d.dataset.name,
          digest: d.dataset.digest,
          source_type: d.dataset.source_type,
          source: d.dataset.source,
          tables: tablesOfDataset(d.dataset.source ?? ''),
        }));
        return {
          ...out,
          run: {
            run_id: run.info.run_id,
            run_name: run.info.run_name,
            experiment_id: run.info.experiment_id,
            status: run.info.status,
            lifecycle_stage: run.info.lifecycle_stage,
            exists: true,
          },
          datasets,
          tables: [...new Set(datasets.flatMap((d) => d.tables))],
        };
      },
    }),
    // ---- Unity Catalog models API over the same store ----
    r({
      method: 'POST',
      paths: [`${uc}/models`],
      summary: 'Create a registered model (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcCreateRegisteredModel,
      handler: (i, { principal }) => svc.ucCreateModel(principal, i),
    }),
    r({
      method: 'GET',
      paths: [`${uc}/models`],
      summary: 'List registered models (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcListRegisteredModels,
      handler: (i, { principal }) => svc.ucListModels(principal, i),
    }),
    r({
      method: 'POST',
      paths: [`${uc}/models/versions`],
      summary: 'Create a model version (Unity Catalog; finalize makes it READY)',
      tag: 'unity-catalog',
      input: contracts.UcCreateModelVersion,
      async handler(i, { principal }) {
        const { model, version } = await registration.register(
          principal,
          { name: `${i.catalog_name}.${i.schema_name}.${i.model_name}`, source: i.source, run_id: i.run_id, description: i.comment },
          'PENDING_REGISTRATION',
        );
        return svc.ucVersionJson(model, version);
      },
    }),
    r({
      method: 'GET',
      paths: [`${uc}/models/:full_name`],
      summary: 'Get a registered model (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelFullName,
      async handler(i, { principal }) {
        return svc.ucModelJson(await svc.ucModel(principal, i.full_name, 'CAN_READ'), i.include_aliases ?? false);
      },
    }),
    r({
      method: 'PATCH',
      paths: [`${uc}/models/:full_name`],
      summary: 'Update a registered model: comment, new name, owner (Unity Catalog)',
      tag: 'unity-catalog',
      input: ownership.UpdateRegisteredModel,
      handler: (i, { principal }) => svc.ucUpdateModel(principal, i.full_name, i),
    }),
    r({
      method: 'DELETE',
      paths: [`${uc}/models/:full_name`],
      summary: 'Delete a registered model (force deletes its versions too)',
      tag: 'unity-catalog',
      input: contracts.UcModelFullName,
      handler: (i, { principal }) => svc.ucDeleteModel(principal, i.full_name, i.force ?? false),
    }),
    r({
      method: 'GET',
      paths: [`${uc}/models/:full_name/versions`],
      summary: 'List model versions (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcListModelVersions,
      handler: (i, { principal }) => svc.ucListVersions(principal, i.full_name, i),
    }),
    r({
      method: 'GET',
      paths: [`${uc}/models/:full_name/versions/:version`],
      summary: 'Get a model version (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelVersionRef,
      async handler(i, { principal }) {
        const { model, version } = await svc.ucVersion(principal, i.full_name, i.version, 'CAN_READ');
        return svc.ucVersionJson(model, version);
      },
    }),
    r({
      method: 'PATCH',
      paths: [`${uc}/models/:full_name/versions/:version`],
      summary: 'Update a model version’s comment (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelVersionRef,
      handler: (i, { principal }) => svc.ucUpdateVersion(principal, i.full_name, i.version, i.comment),
    }),
    r({
      method: 'DELETE',
      paths: [`${uc}/models/:full_name/versions/:version`],
      summary: 'Delete a model version (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelVersionRef,
      handler: (i, { principal }) => svc.ucDeleteVersion(principal, i.full_name, i.version),
    }),
    r({
      method: 'PATCH',
      paths: [`${uc}/models/:full_name/versions/:version/finalize`],
      summary: 'Finalize a model version: READY (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelVersionRef,
      handler: (i, { principal }) => svc.ucFinalizeVersion(principal, i.full_name, i.version),
    }),
    r({
      method: 'PUT',
      paths: [`${uc}/models/:full_name/aliases/:alias`],
      summary: 'Point an alias at a version (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelAlias,
      handler: (i, { principal }) => svc.ucSetAlias(principal, i.full_name, i.alias, i.version_num),
    }),
    r({
      method: 'GET',
      paths: [`${uc}/models/:full_name/aliases/:alias`],
      summary: 'The version an alias points at (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelAlias,
      handler: (i, { principal }) => svc.ucGetAlias(principal, i.full_name, i.alias),
    }),
    r({
      method: 'DELETE',
      paths: [`${uc}/models/:full_name/aliases/:alias`],
      summary: 'Delete an alias (Unity Catalog)',
      tag: 'unity-catalog',
      input: contracts.UcModelAlias,
      handler: (i, { principal }) => svc.ucDeleteAlias(principal, i.full_name, i.alias),
    }),
  ];
}

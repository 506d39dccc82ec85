import { Readable } from 'node:stream';
import { mlflow } from '@weir/contracts';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AppError, invalidParameter } from '../../platform/errors.ts';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { type ArtifactStore, checkRelativePath, guessMime, storePathOfUri } from './tracking.artifacts.ts';
import type { TrackingService } from './tracking.service.ts';
import { LIMITS, wireMetricValue } from './tracking.validation.ts';

/** Both prefixes MLflow mounts every RPC at. */
export function mlflowPaths(p: string, version = '2.0'): string[] {
  return [`/api/${version}/mlflow${p}`, `/ajax-api/${version}/mlflow${p}`];
}

function sendFile(reply: FastifyReply, file: { stream: Readable; size: number; name: string }) {
  return reply
    .code(200)
    .header('Content-Type', guessMime(file.name))
    .header('Content-Length', String(file.size))
    .header('Content-Disposition', `attachment; filename="${file.name.replace(/["\\\r\n]/g, '_')}"`)
    .header('X-Content-Type-Options', 'nosniff')
    .send(file.stream);
}

const MPU_UNSUPPORTED = 'Multipart upload is not supported for the current artifact repository';

/** Every MLflow tracking route: experiments, runs, logging, history, artifacts, logged models. */
export function trackingRoutes(svc: TrackingService, artifacts: ArtifactStore): RouteSpec[] {
  const tag = 'mlflow-tracking';
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag' | 'auth'> & { auth?: RouteSpec['auth'] }) =>
    defineRoute({ ...spec, tag, auth: spec.auth ?? 'authenticated' }) as unknown as RouteSpec;

  /** Lists a run's artifacts with run-relative paths. */
  async function listRunArtifacts(artifactUri: string, sub: string | undefined) {
    const rel = sub ? checkRelativePath(sub) : '';
    const base = storePathOfUri(artifactUri);
    if (base === null) return { root_uri: artifactUri, files: [] };
    const files = await artifacts.list(rel ? `${base}/${rel}` : base, rel);
    return { root_uri: artifactUri, files };
  }

  const routes: RouteSpec[] = [
    // ---- experiments ----
    r({
      method: 'POST',
      paths: mlflowPaths('/experiments/create'),
      summary: 'Create an experiment',
      input: mlflow.CreateExperiment,
      handler: (i, { principal }) => svc.createExperiment(principal, i),
    }),
    ...(['POST', 'GET'] as const).map((method) =>
      r({
        method,
        paths: mlflowPaths('/experiments/search'),
        summary: 'Search experiments',
        input: mlflow.SearchExperiments,
        handler: (i, { principal }) => svc.searchExperiments(principal, i),
      }),
    ),
    r({
      method: 'GET',
      paths: mlflowPaths('/experiments/list'),
      summary: 'List experiments (legacy alias of search, called by the npm client and Databricks SDK)',
      input: mlflow.SearchExperiments,
      handler: (i, { principal }) => svc.searchExperiments(principal, i),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/experiments/get'),
      summary: 'Get an experiment',
      input: mlflow.ExperimentIdRequest,
      handler: (i, { principal }) => svc.getExperiment(principal, i.experiment_id),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/experiments/get-by-name'),
      summary: 'Get an experiment by name',
      input: mlflow.GetExperimentByName,
      handler: (i, { principal }) => svc.getExperimentByName(principal, i.experiment_name),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/experiments/delete'),
      summary: 'Delete an experiment (and mark its runs deleted)',
      input: mlflow.ExperimentIdRequest,
      handler: (i, { principal }) => svc.deleteExperiment(principal, i.experiment_id),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/experiments/restore'),
      summary: 'Restore a deleted experiment and its runs',
      input: mlflow.ExperimentIdRequest,
      handler: (i, { principal }) => svc.restoreExperiment(principal, i.experiment_id),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/experiments/update'),
      summary: 'Rename an experiment',
      input: mlflow.UpdateExperiment,
      handler: (i, { principal }) => svc.renameExperiment(principal, i.experiment_id, i.new_name),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/experiments/set-experiment-tag'),
      summary: 'Set an experiment tag',
      input: mlflow.SetExperimentTag,
      handler: (i, { principal }) => svc.setExperimentTag(principal, i.experiment_id, i.key, i.value),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/experiments/delete-experiment-tag'),
      summary: 'Delete an experiment tag',
      input: mlflow.DeleteExperimentTag,
      handler: (i, { principal }) => svc.deleteExperimentTag(principal, i.experiment_id, i.key),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/experiments/search-datasets'),
      summary: 'Dataset summaries of experiments (UI)',
      input: mlflow.SearchDatasets,
      handler: (i, { principal }) => svc.searchDatasets(principal, i.experiment_ids ?? []),
    }),
    // ---- runs ----
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/create'),
      summary: 'Create a run',
      input: mlflow.CreateRun,
      handler: (i, { principal }) => svc.createRun(principal, i),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/update'),
      summary: 'Update a run',
      input: mlflow.UpdateRun,
      handler: (i, { principal }) => svc.updateRun(principal, i),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/runs/get'),
      summary: 'Get a run',
      input: mlflow.RunIdRequest,
      handler: (i, { principal }) => svc.getRun(principal, i.run_id || i.run_uuid),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/delete'),
      summary: 'Delete a run',
      input: mlflow.RunIdRequest,
      handler: (i, { principal }) => svc.deleteRun(principal, i.run_id || i.run_uuid),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/restore'),
      summary: 'Restore a run',
      input: mlflow.RunIdRequest,
      handler: (i, { principal }) => svc.restoreRun(principal, i.run_id || i.run_uuid),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/search'),
      summary: 'Search runs',
      input: mlflow.SearchRuns,
      handler: (i, { principal }) => svc.searchRuns(principal, i),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/log-metric'),
      summary: 'Log a metric',
      input: mlflow.LogMetric,
      handler: (i, { principal }) => svc.logMetric(principal, i.run_id || i.run_uuid, i),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/log-parameter'),
      summary: 'Log a parameter',
      input: mlflow.LogParam,
      handler: (i, { principal }) => svc.logParam(principal, i.run_id || i.run_uuid, i.key, i.value),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/set-tag'),
      summary: 'Set a run tag',
      input: mlflow.SetTag,
      handler: (i, { principal }) => svc.setTag(principal, i.run_id || i.run_uuid, i.key, i.value),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/delete-tag'),
      summary: 'Delete a run tag',
      input: mlflow.DeleteTag,
      handler: (i, { principal }) => svc.deleteTag(principal, i.run_id, i.key),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/log-batch'),
      summary: 'Log metrics, params and tags in one call',
      input: mlflow.LogBatch,
      maxBodyBytes: LIMITS.batchBytes,
      handler: (i, { principal }) => svc.logBatch(principal, i),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/log-inputs'),
      summary: 'Log dataset and model inputs of a run',
      input: mlflow.LogInputs,
      handler: (i, { principal }) => svc.logInputs(principal, i),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/outputs'),
      summary: 'Log model outputs of a run',
      input: mlflow.LogOutputs,
      handler: (i, { principal }) => svc.logOutputs(principal, i),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/runs/log-model'),
      summary: 'Record a logged model on the run (MLflow 2.x)',
      input: mlflow.LogModel,
      handler: (i, { principal }) => svc.logModelJson(principal, i.run_id, i.model_json),
    }),
    // ---- metric history ----
    r({
      method: 'GET',
      paths: mlflowPaths('/metrics/get-history'),
      summary: 'Full history of one metric (streamed when unpaged)',
      input: mlflow.GetMetricHistory,
      async handler(i, { principal, reply }) {
        const run = await svc.metricHistoryAccess(principal, i.run_id || i.run_uuid);
        if (i.max_results !== undefined || i.page_token) {
          const max = i.max_results ?? 25_000;
          if (max < 1 || max > 1_000_000) throw invalidParameter(`Invalid value ${max} for parameter 'max_results' supplied.`);
          return svc.metricHistoryPage(run.run_uuid, i.metric_key, max, i.page_token);
        }
        const key = i.metric_key;
        const keyJson = JSON.stringify(key);
        const chunks = svc.metricHistoryStream(run.run_uuid, key);
        // Streamed in keyset chunks so a million-point history never sits in memory at once.
        async function* body() {
          yield '{"metrics":[';
          let first = true;
          for await (const rows of chunks) {
            const parts: string[] = [];
            for (const row of rows) {
              const v = wireMetricValue(row.value, row.is_nan);
              parts.push(`{"key":${keyJson},"value":${typeof v === 'string' ? '"NaN"' : v},"timestamp":${row.timestamp},"step":${row.step}}`);
            }
            yield Buffer.from(`${first ? '' : ','}${parts.join(',')}`);
            first = false;
          }
          yield ']}';
        }
        return reply
          .code(200)
          .type('application/json')
          .send(Readable.from(body(), { objectMode: false, highWaterMark: 1 << 20 }));
      },
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/metrics/get-history-bulk-interval'),
      summary: 'Sampled history of one metric across runs',
      input: mlflow.GetMetricHistoryBulkInterval,
      handler: (i, { principal }) => svc.metricHistoryBulkInterval(principal, i),
    }),
    r({
      method: 'GET',
      paths: ['/ajax-api/2.0/mlflow/metrics/get-history-bulk'],
      summary: 'History of one metric across runs (UI)',
      input: mlflow.GetMetricHistoryBulk,
      handler: (i, { principal }) => svc.metricHistoryBulk(principal, i),
    }),
    // ---- run artifacts ----
    r({
      method: 'GET',
      paths: mlflowPaths('/artifacts/list'),
      summary: "List a run's artifacts",
      input: mlflow.ListArtifacts,
      async handler(i, { principal }) {
        if (i.path !== undefined) checkRelativePath(i.path);
        const uri = await svc.runArtifactUri(principal, i.run_id || i.run_uuid, 'CAN_READ');
        return listRunArtifacts(uri, i.path);
      },
    }),
    r({
      method: 'GET',
      paths: ['/get-artifact', '/ajax-api/2.0/mlflow/get-artifact'],
      summary: 'Download one run artifact',
      input: z.object({ run_id: z.string().optional(), run_uuid: z.string().optional(), path: z.string().min(1) }),
      async handler(i, { principal, reply }) {
        const rel = checkRelativePath(i.path);
        const uri = await svc.runArtifactUri(principal, i.run_id || i.run_uuid, 'CAN_READ');
        const base = storePathOfUri(uri);
        if (base === null) throw new AppError('INVALID_PARAMETER_VALUE', `Run artifacts at ${uri} are not stored by this server.`);
        return sendFile(reply, await artifacts.open(`${base}/${rel}`));
      },
    }),
    r({
      method: 'POST',
      paths: ['/ajax-api/2.0/mlflow/upload-artifact'],
      summary: 'Upload one run artifact from the UI (at most 10 MB)',
      input: z.object({ run_uuid: z.string().optional(), path: z.string().optional() }),
      body: 'raw',
      async handler(i, { principal, rawBody, request }) {
        if (!i.run_uuid) throw invalidParameter('Request must specify run_uuid.');
        if (!i.path) throw invalidParameter('Request must specify path.');
        const rel = checkRelativePath(i.path);
        const length = Number(request.headers['content-length'] ?? 0);
        if (!rawBody || length === 0) throw invalidParameter('Request must specify data.');
        if (length > 10 * 1024 * 1024) throw invalidParameter('Artifact size is too large. Max size is 10MB.');
        const uri = await svc.runArtifactUri(principal, i.run_uuid, 'CAN_EDIT');
        const base = storePathOfUri(uri);
        if (base === null) throw new AppError('INVALID_PARAMETER_VALUE', `Run artifacts at ${uri} are not stored by this server.`);
        await artifacts.put(`${base}/${rel}`, rawBody);
        return {};
      },
    }),
    // ---- artifact proxy (mlflow-artifacts:) ----
    r({
      method: 'GET',
      paths: ['/api/2.0/mlflow-artifacts/artifacts', '/ajax-api/2.0/mlflow-artifacts/artifacts'],
      summary: 'List proxied artifacts (basenames)',
      input: mlflow.ListProxyArtifacts,
      async handler(i, { principal }) {
        const rel = checkRelativePath(i.path ?? '');
        await svc.authorizeArtifactPath(principal, rel, 'CAN_READ');
        return { files: await artifacts.list(rel, '') };
      },
    }),
    r({
      method: 'GET',
      paths: ['/api/2.0/mlflow-artifacts/artifacts/*', '/ajax-api/2.0/mlflow-artifacts/artifacts/*'],
      summary: 'Download a proxied artifact',
      input: z.object({ '*': z.string() }),
      async handler(i, { principal, reply }) {
        const rel = checkRelativePath(i['*']);
        await svc.authorizeArtifactPath(principal, rel, 'CAN_READ');
        return sendFile(reply, await artifacts.open(rel));
      },
    }),
    r({
      method: 'PUT',
      paths: ['/api/2.0/mlflow-artifacts/artifacts/*', '/ajax-api/2.0/mlflow-artifacts/artifacts/*'],
      summary: 'Upload a proxied artifact (raw body)',
      input: z.object({ '*': z.string() }),
      body: 'raw',
      async handler(i, { principal, rawBody }) {
        const rel = checkRelativePath(i['*']);
        if (!rel) throw invalidParameter('Invalid path');
        await svc.authorizeArtifactPath(principal, rel, 'CAN_EDIT');
        await artifacts.put(rel, rawBody);
        return {};
      },
    }),
    r({
      method: 'DELETE',
      paths: ['/api/2.0/mlflow-artifacts/artifacts/*', '/ajax-api/2.0/mlflow-artifacts/artifacts/*'],
      summary: 'Delete a proxied artifact',
      input: z.object({ '*': z.string() }),
      body: 'none',
      async handler(i, { principal }) {
        const rel = checkRelativePath(i['*']);
        if (!rel) throw invalidParameter('Invalid path');
        await svc.authorizeArtifactPath(principal, rel, 'CAN_EDIT');
        await artifacts.remove(rel);
        return {};
      },
    }),
    ...(['create', 'complete', 'abort'] as const).map((op) =>
      r({
        method: 'POST',
        paths: [`/api/2.0/mlflow-artifacts/mpu/${op}/*`, `/ajax-api/2.0/mlflow-artifacts/mpu/${op}/*`],
        summary: `Multipart upload ${op} (not supported: clients fall back to one PUT)`,
        input: z.object({ '*': z.string() }).passthrough(),
        handler() {
          throw new AppError('NOT_IMPLEMENTED', `${MPU_UNSUPPORTED}. Weir stores artifacts with single PUT uploads.`);
        },
      }),
    ),
    // ---- logged models (MLflow 3) ----
    r({
      method: 'POST',
      paths: mlflowPaths('/logged-models'),
      summary: 'Create a logged model',
      input: mlflow.CreateLoggedModel,
      handler: (i, { principal }) => svc.createLoggedModel(principal, i),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/logged-models/search'),
      summary: 'Search logged models',
      input: mlflow.SearchLoggedModels,
      handler: (i, { principal }) => svc.searchLoggedModels(principal, i),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/logged-models/:model_id'),
      summary: 'Get a logged model',
      input: z.object({ model_id: z.string().min(1), allow_deleted: z.boolean().optional() }),
      handler: (i, { principal }) => svc.getLoggedModel(principal, i.model_id, i.allow_deleted ?? false),
    }),
    r({
      method: 'PATCH',
      paths: mlflowPaths('/logged-models/:model_id'),
      summary: 'Finalize a logged model',
      input: mlflow.FinalizeLoggedModel.extend({ model_id: z.string().min(1) }),
      handler: (i, { principal }) => svc.finalizeLoggedModel(principal, i.model_id, i.status),
    }),
    r({
      method: 'DELETE',
      paths: mlflowPaths('/logged-models/:model_id'),
      summary: 'Delete a logged model',
      input: z.object({ model_id: z.string().min(1) }),
      handler: (i, { principal }) => svc.deleteLoggedModel(principal, i.model_id),
    }),
    r({
      method: 'PATCH',
      paths: mlflowPaths('/logged-models/:model_id/tags'),
      summary: 'Set logged model tags',
      input: mlflow.SetLoggedModelTags.extend({ model_id: z.string().min(1) }),
      handler: (i, { principal }) => svc.setLoggedModelTags(principal, i.model_id, i.tags ?? []),
    }),
    r({
      method: 'DELETE',
      paths: mlflowPaths('/logged-models/:model_id/tags/:tag_key'),
      summary: 'Delete a logged model tag',
      input: z.object({ model_id: z.string().min(1), tag_key: z.string().min(1) }),
      handler: (i, { principal }) => svc.deleteLoggedModelTag(principal, i.model_id, i.tag_key),
    }),
    r({
      method: 'POST',
      paths: mlflowPaths('/logged-models/:model_id/params'),
      summary: 'Log logged model params',
      input: mlflow.LogLoggedModelParams.extend({ model_id: z.string().min(1) }),
      handler: (i, { principal }) => svc.logLoggedModelParams(principal, i.model_id, i.params ?? []),
    }),
    r({
      method: 'GET',
      paths: mlflowPaths('/logged-models/:model_id/artifacts/directories'),
      summary: "List a logged model's artifacts",
      input: mlflow.ListLoggedModelArtifacts.extend({ model_id: z.string().min(1) }),
      async handler(i, { principal }) {
        const { model } = await svc.getLoggedModel(principal, i.model_id, false);
        const uri = String(model.info.artifact_uri);
        const sub = i.artifact_directory_path ? checkRelativePath(i.artifact_directory_path) : '';
        const base = storePathOfUri(uri);
        if (base === null) return { root_uri: uri, files: [] };
        return { root_uri: uri, files: await artifacts.list(sub ? `${base}/${sub}` : base, sub) };
      },
    }),
    r({
      method: 'GET',
      paths: ['/ajax-api/2.0/mlflow/logged-models/:model_id/artifacts/files'],
      summary: 'Download one file of a logged model (UI)',
      input: z.object({ model_id: z.string().min(1), artifact_file_path: z.string().min(1) }),
      async handler(i, { principal, reply }) {
        const rel = checkRelativePath(i.artifact_file_path);
        const { model } = await svc.getLoggedModel(principal, i.model_id, false);
        const base = storePathOfUri(String(model.info.artifact_uri));
        if (base === null) throw new AppError('INVALID_PARAMETER_VALUE', 'This logged model’s artifacts are not stored by this server.');
        return sendFile(reply, await artifacts.open(`${base}/${rel}`));
      },
    }),
  ];
  return routes;
}

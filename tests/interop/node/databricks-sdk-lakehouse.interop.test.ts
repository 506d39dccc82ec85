// @databricks/sdk-experimental (JS) WorkspaceClient against the server under test: the Unity Catalog
// services (catalogs, schemas, tables, volumes), statement execution, and both model registries.
import { WorkspaceClient } from '@databricks/sdk-experimental';
import { describe, expect, it } from 'vitest';
import { authHeaders, enabled, unique, WEIR_TOKEN, WEIR_URL } from './env.ts';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

/** A SQL-safe unique name (unique() carries dashes). */
const sqlName = (prefix: string): string => unique(prefix).replaceAll('-', '_');

describe.skipIf(!enabled)('@databricks/sdk-experimental 0.17.0 on the lakehouse APIs', () => {
  const w = new WorkspaceClient({ host: WEIR_URL, token: WEIR_TOKEN || 'unused', authType: 'pat', retryTimeoutSeconds: 30 });

  it('catalogs, schemas, tables and volumes list/get what SQL and the catalog API made', async () => {
    const catalog = sqlName('js_cat');
    const created = await w.catalogs.create({ name: catalog, comment: 'from node' });
    expect(created.name).toBe(catalog);
    await w.schemas.create({ name: 'zoo', catalog_name: catalog });
    const made = await w.statementExecution.executeStatement({
      warehouse_id: 'weir',
      wait_timeout: '30s',
      statement: `CREATE TABLE ${catalog}.zoo.animals AS SELECT * FROM (VALUES (1, 'otter'), (2, 'heron')) AS t(id, name)`,
    });
    expect(made.status?.state).toBe('SUCCEEDED');
    await w.volumes.create({ catalog_name: catalog, schema_name: 'zoo', name: 'photos', volume_type: 'MANAGED' });

    const catalogs = await collect(w.catalogs.list({}));
    expect(catalogs.map((c) => c.name)).toEqual(expect.arrayContaining(['main', catalog]));
    const gotCatalog = await w.catalogs.get({ name: catalog });
    expect(gotCatalog.comment).toBe('from node');

    expect((await collect(w.schemas.list({ catalog_name: catalog }))).map((s) => s.full_name)).toEqual([`${catalog}.zoo`]);
    expect((await w.schemas.get({ full_name: `${catalog}.zoo` })).catalog_name).toBe(catalog);

    const tables = await collect(w.tables.list({ catalog_name: catalog, schema_name: 'zoo' }));
    expect(tables.map((t) => t.full_name)).toEqual([`${catalog}.zoo.animals`]);
    const table = await w.tables.get({ full_name: `${catalog}.zoo.animals` });
    expect(table.table_type).toBe('MANAGED');
    expect(table.data_source_format).toBe('DELTA');
    expect((table.columns ?? []).map((c) => [c.name, c.position])).toEqual([
      ['id', 0],
      ['name', 1],
    ]);

    const volumes = await collect(w.volumes.list({ catalog_name: catalog, schema_name: 'zoo' }));
    expect(volumes.map((v) => v.full_name)).toEqual([`${catalog}.zoo.photos`]);
    const volume = await w.volumes.read({ name: `${catalog}.zoo.photos` });
    expect(volume.volume_type).toBe('MANAGED');
    expect(volume.volume_id).toBe(volumes[0]?.volume_id);

    await expect(w.tables.get({ full_name: `${catalog}.zoo.missing` })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('statementExecution.executeStatement with named parameters, then getStatement', async () => {
    const res = await w.statementExecution.executeStatement({
      warehouse_id: 'weir',
      wait_timeout: '30s',
      statement: 'SELECT range AS n, :label AS label FROM range(0, 10) WHERE range % :step = 0 ORDER BY n',
      parameters: [
        { name: 'label', value: 'every third', type: 'STRING' },
        { name: 'step', value: '3', type: 'INT' },
      ],
    });
    expect(res.status?.state).toBe('SUCCEEDED');
    expect(res.manifest?.schema?.columns?.map((c) => c.name)).toEqual(['n', 'label']);
    const expected = [0, 3, 6, 9].map((n) => [String(n), 'every third']);
    expect(res.result?.data_array).toEqual(expected);
    expect(res.manifest?.total_row_count).toBe(4);

    const again = await w.statementExecution.getStatement({ statement_id: res.statement_id ?? '' });
    expect(again.status?.state).toBe('SUCCEEDED');
    expect(again.result?.data_array).toEqual(expected);
  });

  it('modelRegistry, registeredModels and modelVersions show the same model', async () => {
    const name = sqlName('js_model');
    // a run with a model directory in its artifacts, uploaded through the MLflow artifact proxy
    const { experiment_id } = await w.experiments.createExperiment({ name: unique('js-registry') });
    const { run } = await w.experiments.createRun({ experiment_id: experiment_id ?? '' });
    const runId = run?.info?.run_id ?? '';
    const artifactUri = run?.info?.artifact_uri ?? '';
    expect(artifactUri).toMatch(/^mlflow-artifacts:\//);
    const storePath = artifactUri.replace(/^mlflow-artifacts:\/+/, '');
    const files: Record<string, string> = {
      MLmodel: 'artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n',
      'model.pkl': 'not really a pickle',
    };
    for (const [file, body] of Object.entries(files)) {
      const put = await fetch(`${WEIR_URL}/api/2.0/mlflow-artifacts/artifacts/${storePath}/model/${file}`, {
        method: 'PUT',
        headers: authHeaders(),
        body,
      });
      expect(put.status).toBe(200);
    }

    await w.modelRegistry.createModel({ name, description: 'made from node' });
    const created = await w.modelRegistry.createModelVersion({ name, source: `runs:/${runId}/model`, run_id: runId });
    expect(created.model_version?.version).toBe('1');

    const searched = await collect(w.modelRegistry.searchModels({ filter: `name = '${name}'` }));
    expect(searched.map((m) => [m.name, m.description])).toEqual([[name, 'made from node']]);
    expect((await collect(w.modelRegistry.listModels({}))).map((m) => m.name)).toContain(name);
    const versions = await collect(w.modelRegistry.searchModelVersions({ filter: `name = '${name}'` }));
    expect(versions.map((v) => [v.version, v.run_id, v.status])).toEqual([['1', runId, 'READY']]);

    const full = `main.default.${name}`;
    const registered = await collect(w.registeredModels.list({ catalog_name: 'main', schema_name: 'default' }));
    expect(registered.map((m) => m.full_name)).toContain(full);
    const model = await w.registeredModels.get({ full_name: full });
    expect([model.catalog_name, model.schema_name, model.name, model.comment]).toEqual(['main', 'default', name, 'made from node']);
    const ucVersions = await collect(w.modelVersions.list({ full_name: full }));
    expect(ucVersions.map((v) => [v.version, v.run_id])).toEqual([[1, runId]]);
    expect((await w.modelVersions.get({ full_name: full, version: 1 })).model_name).toBe(name);
  });
});

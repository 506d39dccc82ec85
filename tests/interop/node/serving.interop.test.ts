// @databricks/sdk-experimental (JS) WorkspaceClient.servingEndpoints against the server under test: an ONNX model
// registered through the MLflow API is deployed with `create(...).wait()`, queried in every scoring format, switched
// with `updateConfig(...).wait()`, and its permissions set and read in the endpoint's own level names (PUT: this SDK
// drops PATCH bodies, so PATCH is not used here).
import { WorkspaceClient } from '@databricks/sdk-experimental';
import { describe, expect, it } from 'vitest';
import { linearExpected, registerLinearVersion } from '../../../apps/server/src/domains/serving/serving.process-fixture.ts';
import { authHeaders, enabled, unique, WEIR_TOKEN, WEIR_URL } from './env.ts';

const W1 = [1, 2, 3];
const B1 = 0.5;
const W2 = [-1, 0, 4];
const B2 = 10;

describe.skipIf(!enabled || process.env.WEIR_INTEROP_TARGET === 'mlflow')('@databricks/sdk-experimental 0.17.0 servingEndpoints', () => {
  const w = new WorkspaceClient({ host: WEIR_URL, token: WEIR_TOKEN || 'unused', authType: 'pat', retryTimeoutSeconds: 60 });

  it('create / query in every format / updateConfig / permissions / delete', async () => {
    const model = unique('js-linear');
    expect(await registerLinearVersion(WEIR_URL, WEIR_TOKEN, model, W1, B1)).toBe(1);
    expect(await registerLinearVersion(WEIR_URL, WEIR_TOKEN, model, W2, B2)).toBe(2);
    const name = unique('js-ep').replace(/-/g, '_');

    const waiter = await w.servingEndpoints.create({
      name,
      config: { name, served_entities: [{ entity_name: model, entity_version: '1', workload_size: 'Small', scale_to_zero_enabled: false }] },
    });
    const ready = await waiter.wait();
    expect(ready.state?.ready).toBe('READY');
    expect(ready.state?.config_update).toBe('NOT_UPDATING');
    expect(ready.config?.served_entities?.[0]?.entity_version).toBe('1');

    const rows = [
      [1, 2, 3],
      [0.5, -1, 2],
    ];
    const want1 = linearExpected(W1, B1, rows);
    const split = await w.servingEndpoints.query({ name, dataframe_split: { columns: ['a', 'b', 'c'], data: rows } });
    expect(split.predictions).toEqual(want1);
    const records = await w.servingEndpoints.query({ name, dataframe_records: rows.map(([a, b, c]) => ({ a, b, c, ignored: 'extra' })) });
    expect(records.predictions).toEqual(want1);
    const columnar = await w.servingEndpoints.query({ name, inputs: { a: [1, 0.5], b: [2, -1], c: [3, 2] } });
    expect(columnar.predictions).toEqual(want1);

    const updating = await w.servingEndpoints.updateConfig({ name, served_entities: [{ entity_name: model, entity_version: '2' }] });
    const updated = await updating.wait();
    expect(updated.config?.served_entities?.[0]?.entity_version).toBe('2');
    expect(updated.config?.config_version).toBe(2);
    expect((await w.servingEndpoints.query({ name, dataframe_split: { columns: ['a', 'b', 'c'], data: rows } })).predictions).toEqual(
      linearExpected(W2, B2, rows),
    );

    // A missing column is refused naming it, in the Databricks error shape the SDK parses.
    await expect(w.servingEndpoints.query({ name, dataframe_records: [{ a: 1, b: 2 }] })).rejects.toThrow(/'c'/);
    await expect(w.servingEndpoints.query({ name: `${name}_missing`, inputs: [[1, 2, 3]] })).rejects.toThrow(/does not exist/);

    const got = await w.servingEndpoints.get({ name });
    const id = got.id ?? '';
    expect(id).not.toBe('');
    const user = `${unique('js-querier')}@example.com`;
    const scim = await fetch(`${WEIR_URL}/api/2.0/preview/scim/v2/Users`, {
      method: 'POST',
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ userName: user }),
    });
    expect(scim.status).toBe(201);
    const set = await w.servingEndpoints.setPermissions({
      serving_endpoint_id: id,
      access_control_list: [{ user_name: user, permission_level: 'CAN_QUERY' }],
    });
    expect(set.access_control_list?.find((a) => a.user_name === user)?.all_permissions?.[0]?.permission_level).toBe('CAN_QUERY');
    const read = await w.servingEndpoints.getPermissions({ serving_endpoint_id: id });
    expect(read.access_control_list?.find((a) => a.user_name === user)?.all_permissions?.[0]?.permission_level).toBe('CAN_QUERY');
    const levels = await w.servingEndpoints.getPermissionLevels({ serving_endpoint_id: id });
    expect(levels.permission_levels?.map((l) => l.permission_level)).toEqual(['CAN_VIEW', 'CAN_QUERY', 'CAN_MANAGE']);

    await w.servingEndpoints.delete({ name });
    await expect(w.servingEndpoints.get({ name })).rejects.toThrow(/does not exist/);
  });
});

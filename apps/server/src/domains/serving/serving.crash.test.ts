// kill -9 a real `weir server` that captures inference rows: what was committed survives, and what is lost is exactly the
// unflushed batch, never more than the batch size (WEIR_INFERENCE_FLUSH_ROWS) and never a committed row.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable } from '@weir/delta';
import { describe, expect, it } from 'vitest';
import { createTestPostgresDatabase, testBackends } from '../../testing/test-server.ts';
import { callJson, registerLinearVersion, startServerProcess, type WeirProcess } from './serving.process-fixture.ts';

const BATCH_ROWS = 100;
const SENT = 1250;

async function payloadRows(url: string, token: string): Promise<Record<string, unknown>[]> {
  const table = await callJson(url, token, 'GET', '/api/2.1/unity-catalog/tables/crash.logs.crash_ep_payload');
  if (table.status === 404) return [];
  expect(table.status).toBe(200);
  return (await openDeltaTable(String(table.body.storage_location).replace(/^file:\/\//, '')).snapshot()).readRows();
}

describe.each(testBackends)('inference tables after kill -9 on $name', (backend) => {
  it('keeps every committed batch and loses at most the unflushed one', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-serving-crash-'));
    const token = `dapi${randomBytes(16).toString('hex')}`;
    const database = backend.name === 'postgres' ? await createTestPostgresDatabase('weir_serving_crash') : null;
    // Batches of 100 rows, and a timer that never fires during the test, so the batch boundaries are known.
    const env = { WEIR_INFERENCE_FLUSH_ROWS: String(BATCH_ROWS), WEIR_INFERENCE_FLUSH_SECONDS: '3600' };
    let server: WeirProcess | null = null;
    try {
      server = await startServerProcess(dataDir, token, database?.url, env);
      const { url } = server;
      expect((await callJson(url, token, 'POST', '/api/2.1/unity-catalog/catalogs', { name: 'crash' })).status).toBe(200);
      expect((await callJson(url, token, 'POST', '/api/2.1/unity-catalog/schemas', { catalog_name: 'crash', name: 'logs' })).status).toBe(200);
      await registerLinearVersion(url, token, 'crash_model', [1, 1, 1], 0);
      const created = await callJson(url, token, 'POST', '/api/2.0/serving-endpoints', {
        name: 'crash_ep',
        config: {
          served_entities: [{ entity_name: 'crash_model', entity_version: '1' }],
          auto_capture_config: { catalog_name: 'crash', schema_name: 'logs', table_name_prefix: 'crash_ep', enabled: true },
        },
      });
      expect(created.status).toBe(200);
      for (;;) {
        const got = await callJson(url, token, 'GET', '/api/2.0/serving-endpoints/crash_ep');
        if (got.body.state.config_update !== 'IN_PROGRESS') {
          expect(got.body.state.ready).toBe('READY');
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }

      // One client, one request at a time: rows reach the buffer in the order they were acknowledged.
      const acked: string[] = [];
      for (let i = 0; i < SENT; i++) {
        const id = `req-${i}`;
        const res = await fetch(`${url}/serving-endpoints/crash_ep/invocations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ client_request_id: id, dataframe_records: [{ a: i, b: 0, c: 0 }] }),
        });
        const body = (await res.json()) as { predictions: number[] };
        expect(res.status).toBe(200);
        expect(body.predictions).toEqual([i]);
        acked.push(id);
      }
      // Every full batch of 100 is handed to the writer; wait until all of them are committed, then kill.
      const fullBatches = Math.floor(SENT / BATCH_ROWS) * BATCH_ROWS;
      let committed = 0;
      for (let i = 0; i < 600 && committed < fullBatches; i++) {
        committed = (await payloadRows(url, token)).length;
        if (committed < fullBatches) await new Promise((r) => setTimeout(r, 100));
      }
      expect(committed).toBe(fullBatches);
      await server.kill('SIGKILL');

      server = await startServerProcess(dataDir, token, database?.url, env);
      const rows = await payloadRows(server.url, token);
      const ids = rows.map((r) => String(r.client_request_id));
      // Nothing committed was lost and nothing was written twice: the table holds exactly the first full batches.
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(acked.slice(0, fullBatches).sort());
      // The loss is the unflushed tail, and the tail is smaller than one batch.
      const lost = acked.length - rows.length;
      expect(lost).toBe(SENT - fullBatches);
      expect(lost).toBeLessThan(BATCH_ROWS);
      for (const r of rows) {
        expect(Number(r.status_code)).toBe(200);
        expect(JSON.parse(String(r.response)).predictions).toEqual([Number(String(r.client_request_id).slice(4))]);
      }
    } finally {
      await server?.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    }
  }, 180_000);
});

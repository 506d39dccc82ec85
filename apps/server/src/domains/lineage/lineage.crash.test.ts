// kill -9 a real server while clients write tables with SQL and others read system.access.table_lineage (which copies
// the lineage store into Delta): after a restart every acknowledged statement's edge is there exactly once, and an
// endpoint whose config is re-applied at start-up does not gain a second edge.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestPostgresDatabase, testBackends } from '../../testing/test-server.ts';
import { callJson, registerLinearVersion, startServerProcess, type WeirProcess } from '../serving/serving.process-fixture.ts';

describe.each(testBackends)('lineage crash safety on $name', (backend) => {
  it('keeps every acknowledged SQL edge, once, after kill -9', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-lineage-crash-'));
    const token = `dapi${randomBytes(16).toString('hex')}`;
    const database = backend.name === 'postgres' ? await createTestPostgresDatabase('weir_lcrash') : null;
    // Copies into the system tables every second as well as on each read, so kills land in the middle of some.
    const env = { WEIR_AUDIT_COMPACT_SECONDS: '1' };
    let proc: WeirProcess = await startServerProcess(dataDir, token, database?.url, env);
    const sql = async (statement: string) => {
      const res = await callJson(proc.url, token, 'POST', '/api/2.0/sql/statements', { statement, wait_timeout: '50s' });
      return res.body as { statement_id: string; status: { state: string; error?: { message: string } }; result?: { data_array?: string[][] } };
    };
    try {
      for (const s of [
        'CREATE SCHEMA main.lc',
        'CREATE TABLE main.lc.src (id BIGINT, v DOUBLE)',
        'INSERT INTO main.lc.src VALUES (1, 1.5), (2, 2.5)',
        'CREATE TABLE main.lc.t0 (id BIGINT, v DOUBLE)',
        'CREATE TABLE main.lc.t1 (id BIGINT, v DOUBLE)',
        'CREATE TABLE main.lc.t2 (id BIGINT, v DOUBLE)',
      ]) {
        const r = await sql(s);
        expect(r.status.state, `${s}: ${r.status.error?.message}`).toBe('SUCCEEDED');
      }
      await registerLinearVersion(proc.url, token, 'main.lc.m', [1, 1, 1], 0);
      expect(
        (
          await callJson(proc.url, token, 'POST', '/api/2.0/serving-endpoints', {
            name: 'lc-ep',
            config: { served_entities: [{ entity_name: 'main.lc.m', entity_version: '1' }] },
          })
        ).status,
      ).toBe(200);
      const ready = async () => {
        for (;;) {
          const got = await callJson(proc.url, token, 'GET', '/api/2.0/serving-endpoints/lc-ep');
          if (got.body.state?.config_update !== 'IN_PROGRESS' && got.body.state?.ready === 'READY') return;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await ready();

      const acked: string[] = [];
      let stop = false;
      const writers = [0, 1, 2].map(async (i) => {
        while (!stop) {
          try {
            const r = await sql(`INSERT INTO main.lc.t${i} SELECT id, v * 2 FROM main.lc.src`);
            if (r.status.state === 'SUCCEEDED') acked.push(r.statement_id);
          } catch {
            return; // the server died under us
          }
        }
      });
      const reader = (async () => {
        while (!stop) {
          try {
            await sql('SELECT count(*) FROM system.access.table_lineage');
          } catch {
            return;
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 2500));
      await proc.kill('SIGKILL');
      stop = true;
      await Promise.all([...writers, reader]);
      expect(acked.length).toBeGreaterThan(3);

      proc = await startServerProcess(dataDir, token, database?.url, env);
      await ready();
      const rows = await sql(
        "SELECT statement_id, count(*) AS n, count(DISTINCT record_id) AS d FROM system.access.table_lineage WHERE source_table_full_name = 'main.lc.src' AND target_table_full_name LIKE 'main.lc.t%' GROUP BY statement_id",
      );
      expect(rows.status.state, rows.status.error?.message).toBe('SUCCEEDED');
      const byStatement = new Map((rows.result?.data_array ?? []).map((r) => [r[0], { n: r[1], d: r[2] }]));
      for (const id of acked) expect(byStatement.get(id), `statement ${id}`).toEqual({ n: '1', d: '1' });
      // Column edges came along with each acknowledged statement.
      const cols = await sql(
        `SELECT count(DISTINCT statement_id) FROM system.access.column_lineage WHERE source_column_name = 'v' AND target_column_name = 'v' AND statement_id IN (${acked.map((a) => `'${a}'`).join(', ')})`,
      );
      expect(cols.result?.data_array).toEqual([[String(acked.length)]]);
      const graph = await callJson(proc.url, token, 'GET', `/api/weir/v1/lineage?entity=${encodeURIComponent('endpoint:lc-ep')}&direction=upstream`);
      expect(graph.body.edges).toEqual([
        expect.objectContaining({ source: 'model_version:main.lc.m/1', target: 'endpoint:lc-ep', kind: 'serves', event_count: 1 }),
      ]);
    } finally {
      await proc.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    }
  }, 180_000);
});

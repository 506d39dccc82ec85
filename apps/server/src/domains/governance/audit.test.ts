import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { openDeltaTable } from '@weir/delta';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../platform/config.ts';
import { breakAuditStorage, startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { AUDIT_JOURNAL_APP_ID, AUDIT_TXN_APP_ID } from './audit.compaction.ts';
import type { AuditEvent } from './audit.events.ts';
import { actionNameOf, REDACTED, requestParamsOf, secretValuesOf, serviceNameOf } from './audit.events.ts';
import { type AuditTables, auditLineOf } from './audit.log.ts';
import { systemWriteRefusal } from './system-tables.ts';

describe('audit event naming and redaction', () => {
  it('derives stable action names from the method and canonical path', () => {
    expect(actionNameOf('POST', '/api/2.0/mlflow/runs/create')).toBe('createRun');
    expect(actionNameOf('POST', '/api/2.0/mlflow/runs/search')).toBe('searchRuns');
    expect(actionNameOf('POST', '/api/2.0/mlflow/runs/log-batch')).toBe('logBatch');
    expect(actionNameOf('GET', '/api/2.0/mlflow/registered-models/get')).toBe('getRegisteredModel');
    expect(actionNameOf('GET', '/api/2.1/unity-catalog/tables/:full_name')).toBe('getTable');
    expect(actionNameOf('GET', '/api/2.1/unity-catalog/tables')).toBe('listTables');
    expect(actionNameOf('POST', '/api/2.1/unity-catalog/catalogs')).toBe('createCatalog');
    expect(actionNameOf('DELETE', '/api/2.1/unity-catalog/schemas/:full_name')).toBe('deleteSchema');
    expect(actionNameOf('PATCH', '/api/2.1/unity-catalog/schemas/:full_name')).toBe('updateSchema');
    expect(actionNameOf('POST', '/api/2.0/sql/statements/:statement_id/cancel')).toBe('cancelStatement');
    expect(actionNameOf('POST', '/api/2.0/preview/scim/v2/Users')).toBe('createUser');
  });

  it('maps route tags and unmatched paths to Databricks service names', () => {
    expect(serviceNameOf('mlflow-tracking', '/api/2.0/mlflow/runs/create')).toBe('mlflowExperiment');
    expect(serviceNameOf('unity-catalog', '/api/2.1/unity-catalog/tables')).toBe('unityCatalog');
    expect(serviceNameOf('sql', '/api/2.0/sql/statements')).toBe('databrickssql');
    expect(serviceNameOf('feature-store', '/x')).toBe('featureStore');
    expect(serviceNameOf(undefined, '/api/2.1/unity-catalog/nope')).toBe('unityCatalog');
    expect(serviceNameOf(undefined, '/nowhere')).toBe('weir');
  });

  it('redacts secret-named fields at any depth and SCIM password operations, and cuts long values', () => {
    const params = {
      userName: 'ann@example.com',
      password: 'hunter2-secret',
      nested: { api_token: 'tok-123456', keep: 'visible' },
      Operations: [{ op: 'replace', path: 'password', value: 'scim-pass-1' }],
      big: 'x'.repeat(5000),
    };
    const secrets = secretValuesOf(params);
    expect([...secrets].sort()).toEqual(['hunter2-secret', 'scim-pass-1', 'tok-123456']);
    const out = requestParamsOf(params, secrets);
    expect(out.userName).toBe('ann@example.com');
    expect(out.password).toBe(REDACTED);
    expect(JSON.parse(out.nested as string)).toEqual({ api_token: REDACTED, keep: 'visible' });
    expect(out.Operations).toBe(JSON.stringify([{ op: 'replace', path: 'password', value: REDACTED }]));
    expect((out.big as string).startsWith('x'.repeat(1024))).toBe(true);
    expect((out.big as string).length).toBeLessThan(1100);
    expect(JSON.stringify(out)).not.toMatch(/hunter2|scim-pass|tok-123456/);
  });
});

describe('audit configuration', () => {
  it('reads the retention from the option or WEIR_AUDIT_RETENTION_DAYS (default 365) and refuses nonsense', () => {
    expect(resolveConfig({}, {}).auditRetentionDays).toBe(365);
    expect(resolveConfig({}, { WEIR_AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
    expect(resolveConfig({ auditRetentionDays: 7 }, { WEIR_AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(7);
    expect(() => resolveConfig({}, { WEIR_AUDIT_RETENTION_DAYS: 'forever' })).toThrow(/retention/);
    expect(() => resolveConfig({ auditRetentionDays: 0 }, {})).toThrow(/retention/);
    expect(resolveConfig({}, { WEIR_AUDIT_COMPACT_SECONDS: '0.5' }).auditCompactSeconds).toBe(0.5);
  });
});

describe('writes into the system catalog', () => {
  const sqlRoute = { method: 'POST' as const, paths: ['/api/2.0/sql/statements'] };
  const refused = (statement: string, catalog?: string) => systemWriteRefusal(sqlRoute, { statement, ...(catalog ? { catalog } : {}) }) !== null;

  it('refuses SQL that writes into system and allows SQL that only reads it', () => {
    expect(refused('DELETE FROM system.access.audit')).toBe(true);
    expect(refused('-- note\n drop table if exists `system`.access.audit')).toBe(true);
    expect(refused('UPDATE system . access . audit SET x = 1')).toBe(true);
    expect(refused('MERGE INTO "system".access.audit t USING s ON true WHEN MATCHED THEN DELETE')).toBe(true);
    expect(refused('CREATE SCHEMA mine', 'system')).toBe(true);
    expect(refused('CREATE TABLE access.x AS SELECT 1', 'system')).toBe(true);
    expect(refused('DROP CATALOG system')).toBe(true);
    expect(refused('SELECT * FROM system.access.audit')).toBe(false);
    expect(refused('INSERT INTO main.default.copy SELECT * FROM system.access.audit')).toBe(false);
    expect(refused('GRANT SELECT ON TABLE system.access.audit TO `analysts`')).toBe(false);
  });

  it('refuses Unity Catalog and Files API changes under system, not elsewhere', () => {
    const uc = (method: 'POST' | 'PATCH' | 'DELETE', path: string, input: Record<string, unknown>) =>
      systemWriteRefusal({ method, paths: [path] }, input) !== null;
    expect(uc('POST', '/api/2.1/unity-catalog/schemas', { name: 'x', catalog_name: 'SYSTEM' })).toBe(true);
    expect(uc('DELETE', '/api/2.1/unity-catalog/tables/:full_name', { full_name: 'system.access.audit' })).toBe(true);
    expect(uc('DELETE', '/api/2.1/unity-catalog/catalogs/:name', { name: 'system' })).toBe(true);
    expect(uc('POST', '/api/2.1/unity-catalog/volumes', { name: 'v', catalog_name: 'system', schema_name: 'access' })).toBe(true);
    expect(uc('DELETE', '/api/2.1/unity-catalog/volumes/:name', { name: 'system.access.v' })).toBe(true);
    expect(uc('PATCH', '/api/2.1/unity-catalog/permissions/:securable_type/:full_name', { full_name: 'system.access.audit' })).toBe(false);
    expect(uc('POST', '/api/2.1/unity-catalog/schemas', { name: 'system', catalog_name: 'main' })).toBe(false);
    expect(systemWriteRefusal({ method: 'PUT', paths: ['/api/2.0/fs/files/*'] }, { '*': 'Volumes/system/access/v/f.txt' })).not.toBeNull();
  });
});

interface Sent {
  id: string;
  status: number;
}

describe.each(testBackends)('audit log on $name', (backend) => {
  let s: TestServer;
  let userToken: string;
  const userPassword = `pw-${randomBytes(8).toString('hex')}`;
  const userName = `auditee-${randomBytes(4).toString('hex')}@example.com`;
  const scimPasswords: string[] = [];
  const badToken = `dapi${randomBytes(16).toString('hex')}`;
  const sent: Sent[] = [];
  let setupN = 0;
  let experimentId: string;
  let runId: string;

  /** A request with our own request id, so the test can account for every event. */
  async function req(
    prefix: string,
    method: string,
    apiPath: string,
    opts: { body?: string; token?: string | null } = {},
  ): Promise<{ status: number; body: any; id: string }> {
    const id = `${prefix}-${sent.length}-${randomBytes(3).toString('hex')}`;
    const headers: Record<string, string> = { 'x-request-id': id, 'user-agent': 'audit-test/1.0' };
    const token = opts.token === undefined ? s.adminToken : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (process.env.AUDIT_DEBUG) console.log('->', method, apiPath, id);
    const res = await fetch(`${s.url}${apiPath}`, { method, headers, body: opts.body });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    sent.push({ id, status: res.status });
    return { status: res.status, body, id };
  }

  async function auditQuery(statement: string, token: string | null = s.adminToken) {
    const r = await req('q', 'POST', '/api/2.0/sql/statements', { body: JSON.stringify({ statement, wait_timeout: '50s' }), token });
    expect(r.status).toBe(200);
    return r.body as { status: { state: string; error?: { error_code: string; message: string } }; result?: { data_array?: (string | null)[][] } };
  }

  beforeAll(async () => {
    s = await startTestServer(backend);
    const u = await req('setup', 'POST', '/api/2.0/preview/scim/v2/Users', { body: JSON.stringify({ userName, password: userPassword }) });
    expect(u.status).toBe(201);
    const basic = Buffer.from(`${userName}:${userPassword}`).toString('base64');
    const id = `setup-basic-${randomBytes(3).toString('hex')}`;
    const t = await fetch(`${s.url}/api/2.0/token/create`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json', 'x-request-id': id },
      body: '{}',
    });
    sent.push({ id, status: t.status });
    expect(t.status).toBe(200);
    userToken = ((await t.json()) as { token_value: string }).token_value;
    const e = await req('setup', 'POST', '/api/2.0/mlflow/experiments/create', { body: JSON.stringify({ name: 'audited' }) });
    experimentId = e.body.experiment_id;
    const r = await req('setup', 'POST', '/api/2.0/mlflow/runs/create', { body: JSON.stringify({ experiment_id: experimentId }) });
    runId = r.body.run.info.run_id;
    setupN = sent.length;
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it('records exactly the 1,000 requests of a mixed workload, refusals and errors included, queryable by SQL', async () => {
    const expected = new Map<string, { status: number; service: string; action: string; email: string | null }>();
    const job = async (i: number) => {
      const kind = i % 10;
      let r: { status: number; id: string };
      let service: string;
      let action: string;
      let email: string | null = 'admin';
      switch (kind) {
        case 0:
          r = await req('wl', 'POST', '/api/2.0/mlflow/runs/log-metric', {
            body: JSON.stringify({ run_id: runId, key: 'm', value: i, timestamp: 1, step: i }),
          });
          [service, action] = ['mlflowExperiment', 'logMetric'];
          expect(r.status).toBe(200);
          break;
        case 1:
          r = await req('wl', 'GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`);
          [service, action] = ['mlflowExperiment', 'getRun'];
          expect(r.status).toBe(200);
          break;
        case 2:
          r = await req('wl', 'POST', '/api/2.0/mlflow/experiments/search', { body: '{}', token: null });
          [service, action, email] = ['mlflowExperiment', 'searchExperiments', null];
          expect(r.status).toBe(401);
          break;
        case 3:
          r = await req('wl', 'GET', '/api/2.1/unity-catalog/catalogs', { token: badToken });
          [service, action, email] = ['unityCatalog', 'listCatalogs', null];
          expect(r.status).toBe(401);
          break;
        case 4:
          r = await req('wl', 'GET', '/api/2.0/preview/scim/v2/Users', { token: userToken });
          [service, action, email] = ['accounts', 'listUsers', userName];
          expect(r.status).toBe(403);
          break;
        case 5:
          r = await req('wl', 'GET', '/api/2.1/unity-catalog/tables/main.default.no_such_table');
          [service, action] = ['unityCatalog', 'getTable'];
          expect(r.status).toBe(404);
          break;
        case 6:
          r = await req('wl', 'GET', `/api/2.0/no/such/endpoint/${i}`);
          [service, action, email] = ['weir', 'unknownEndpoint', null];
          expect(r.status).toBe(404);
          break;
        case 7:
          r = await req('wl', 'POST', '/api/2.0/mlflow/runs/log-batch', { body: '{"run_id": ' });
          [service, action] = ['mlflowExperiment', 'logBatch'];
          expect(r.status).toBe(400);
          break;
        case 8: {
          const password = `scim-${randomBytes(8).toString('hex')}`;
          scimPasswords.push(password);
          r = await req('wl', 'POST', '/api/2.0/preview/scim/v2/Users', { body: JSON.stringify({ userName: `wl-${i}@example.com`, password }) });
          [service, action] = ['accounts', 'createUser'];
          expect(r.status).toBe(201);
          break;
        }
        default:
          r = await req('wl', 'POST', '/api/2.0/sql/statements', { body: JSON.stringify({ statement: 'SELECT 1', wait_timeout: 'soon' }) });
          [service, action] = ['databrickssql', 'createStatement'];
          expect(r.status).toBe(400);
      }
      expected.set(r.id, { status: r.status, service, action, email });
    };
    // Eight clients at a time, so events arrive concurrently and share group commits.
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < 1000; i = next++) await job(i);
      }),
    );
    expect(expected.size).toBe(1000);

    const before = sent.length;
    const body = await auditQuery(
      `SELECT request_id, response.status_code, service_name, action_name, user_identity.email FROM system.access.audit WHERE request_id LIKE 'wl-%'`,
    );
    expect(body.status.state).toBe('SUCCEEDED');
    const rows = body.result?.data_array ?? [];
    expect(rows.length).toBe(1000);
    for (const [id, status, service, action, email] of rows) {
      const want = expected.get(id as string);
      expect(want, `unexpected event ${id}`).toBeDefined();
      expect({ status: Number(status), service, action, email }).toEqual({
        status: want?.status,
        service: want?.service,
        action: want?.action,
        email: want?.email === 'admin' ? email : want?.email,
      });
      if (want?.email === 'admin') expect(email).not.toBeNull();
    }
    expect(new Set(rows.map((r) => r[0])).size).toBe(1000);

    // Every event in the table is one of this test's requests: setup, workload, and the audit query above — whose own
    // event is written when it answers, so it shows up in the next query, not in its own result.
    const all = await auditQuery('SELECT request_id FROM system.access.audit');
    const ids = (all.result?.data_array ?? []).map((r) => r[0] as string);
    expect(ids.length).toBe(before + 1);
    expect(new Set(ids)).toEqual(new Set(sent.slice(0, before + 1).map((x) => x.id)));
    expect(setupN).toBeGreaterThan(0);
  }, 300_000);

  it('keeps tokens and passwords out of every audit row and log line', async () => {
    const dump = await auditQuery('SELECT CAST(to_json(a) AS VARCHAR) FROM system.access.audit a');
    expect(dump.status.state).toBe('SUCCEEDED');
    const text = JSON.stringify(dump.result?.data_array ?? []);
    expect(text).toContain(REDACTED);
    const secrets = [s.adminToken, userToken, userPassword, badToken, ...scimPasswords];
    expect(scimPasswords.length).toBe(100);
    for (const secret of secrets) {
      expect(text.includes(secret), 'secret in audit table').toBe(false);
      expect(s.logs.join('').includes(secret), 'secret in server log').toBe(false);
    }
    // The events are there: a created user's row names them, with the password redacted.
    expect(text).toContain('wl-8@example.com');
  }, 120_000);

  it('lets only admins and SELECT grantees read system.access.audit, and nobody write into the system catalog', async () => {
    const denied = await auditQuery('SELECT count(*) FROM system.access.audit', userToken);
    expect(denied.status.state).toBe('FAILED');
    expect(denied.status.error?.error_code).toBe('PERMISSION_DENIED');
    const write = await req('w', 'POST', '/api/2.0/sql/statements', {
      body: JSON.stringify({ statement: 'DELETE FROM system.access.audit', wait_timeout: '30s' }),
    });
    expect(write.status).toBe(403);
    expect(write.body.error_code).toBe('PERMISSION_DENIED');
    const drop = await req('w', 'DELETE', '/api/2.1/unity-catalog/tables/system.access.audit');
    expect(drop.status).toBe(403);
    const dropCatalog = await req('w', 'DELETE', '/api/2.1/unity-catalog/catalogs/system?force=true');
    expect(dropCatalog.status).toBe(403);
    const schema = await req('w', 'POST', '/api/2.1/unity-catalog/schemas', { body: JSON.stringify({ name: 'mine', catalog_name: 'system' }) });
    expect(schema.status).toBe(403);
    // Still there and still readable by an admin.
    const still = await auditQuery('SELECT count(*) FROM system.access.audit');
    expect(still.status.state).toBe('SUCCEEDED');
    expect(Number(still.result?.data_array?.[0]?.[0])).toBeGreaterThan(0);
    // Granting is how admins share it: with USE on the way down and SELECT on the table, the user reads it.
    for (const [type, name, privilege] of [
      ['catalog', 'system', 'USE_CATALOG'],
      ['schema', 'system.access', 'USE_SCHEMA'],
      ['table', 'system.access.audit', 'SELECT'],
    ]) {
      const grant = await req('w', 'PATCH', `/api/2.1/unity-catalog/permissions/${type}/${name}`, {
        body: JSON.stringify({ changes: [{ principal: userName, add: [privilege] }] }),
      });
      expect(grant.status).toBe(200);
    }
    const granted = await auditQuery(`SELECT count(*) FROM system.access.audit WHERE request_id = '${write.id}'`, userToken);
    expect(granted.status.state).toBe('SUCCEEDED');
    expect(granted.result?.data_array?.[0]?.[0]).toBe('1');
  }, 120_000);

  it('recovers a compaction killed between its steps without losing or duplicating events', async () => {
    const db = s.weir.store.db as Kysely<AuditTables>;
    const event = (requestId: string): AuditEvent => ({
      event_id: `ev-${requestId}`,
      event_time: Date.now(),
      request_id: requestId,
      source_ip_address: '127.0.0.1',
      user_agent: null,
      user_name: 'admin',
      service_name: 'weir',
      action_name: 'recoveryCheck',
      request_params: '{}',
      status_code: 200,
      error_message: null,
    });
    const count = async (requestId: string) => {
      const r = await auditQuery(`SELECT count(*) FROM system.access.audit WHERE request_id = '${requestId}'`);
      expect(r.status.state).toBe('SUCCEEDED');
      return Number(r.result?.data_array?.[0]?.[0]);
    };
    // The staging table (PostgreSQL's path; on SQLite it holds only what an older Weir staged).
    // A: killed after the Delta commit of its batch, before the staged rows were deleted.
    const a = `crash-a-${randomBytes(4).toString('hex')}`;
    await db.insertInto('audit_events').values(event(a)).execute();
    await s.weir.audit.compactor.compact();
    expect(await count(a)).toBe(1);
    const committed = (await openDeltaTable(s.weir.audit.location).snapshot()).txns.get(AUDIT_TXN_APP_ID)?.version;
    expect(committed).toBeGreaterThan(0);
    await db
      .insertInto('audit_events')
      .values({ ...event(a), batch: committed as number })
      .execute();
    // B: killed after its rows were marked for the next batch, before that batch reached Delta.
    const b = `crash-b-${randomBytes(4).toString('hex')}`;
    await db
      .insertInto('audit_events')
      .values({ ...event(b), batch: (committed as number) + 1 })
      .execute();

    expect(await count(a)).toBe(1);
    expect(await count(b)).toBe(1);
    const left = await db.selectFrom('audit_events').select('request_id').where('request_id', 'in', [a, b]).execute();
    expect(left).toEqual([]);

    const journal = s.weir.audit.writer.journal;
    if (backend.name !== 'sqlite') {
      expect(journal).toBeNull();
      return;
    }
    // The SQLite journal. C: killed after the Delta commit of its file, before the file was deleted.
    if (!journal) throw new Error('the SQLite server has a journal');
    const c = `crash-c-${randomBytes(4).toString('hex')}`;
    await s.weir.audit.writer.append(event(c));
    await s.weir.audit.compactor.compact();
    expect(await count(c)).toBe(1);
    const journalDone = (await openDeltaTable(s.weir.audit.location).snapshot()).txns.get(AUDIT_JOURNAL_APP_ID)?.version as number;
    expect(journalDone).toBeGreaterThan(0);
    fs.writeFileSync(`${journal.base}.9000.v${journalDone}`, auditLineOf(event(c)));
    // D: killed after its file was assigned the next version, before that version reached Delta; E: the line the kill
    // cut short at the end of that file (never acknowledged).
    const d = `crash-d-${randomBytes(4).toString('hex')}`;
    const e = `crash-e-${randomBytes(4).toString('hex')}`;
    const cut = auditLineOf(event(e));
    fs.writeFileSync(`${journal.base}.9001.v${journalDone + 1}`, auditLineOf(event(d)) + cut.slice(0, cut.length - 30));

    expect(await count(c)).toBe(1);
    expect(await count(d)).toBe(1);
    expect(await count(e)).toBe(0);
    // (Each count is a SQL read of the table, which compacts: the version moves on with every one.)
    expect((await openDeltaTable(s.weir.audit.location).snapshot()).txns.get(AUDIT_JOURNAL_APP_ID)?.version).toBeGreaterThan(journalDone);
    expect(fs.existsSync(`${journal.base}.9000.v${journalDone}`)).toBe(false);
    expect(fs.existsSync(`${journal.base}.9001.v${journalDone + 1}`)).toBe(false);
  }, 120_000);

  it('does not acknowledge a request whose event cannot be stored (503), and recovers', async () => {
    const broken = await breakAuditStorage(s);
    let refused: { status: number; body: any; id: string };
    try {
      refused = await req('down', 'GET', '/version');
    } finally {
      await broken.restore();
    }
    expect(refused.status).toBe(503);
    expect(refused.body.error_code).toBe('TEMPORARILY_UNAVAILABLE');
    const ok = await req('up', 'GET', '/version');
    expect(ok.status).toBe(200);
    const r = await auditQuery(`SELECT count(*) FROM system.access.audit WHERE request_id IN ('${ok.id}', '${refused.id}')`);
    expect(r.result?.data_array?.[0]?.[0]).toBe('1');
  }, 120_000);

  it('deletes events older than the retention period from the Delta table', async () => {
    const day = 86_400_000;
    const now = Date.now();
    const old = { id: `old-${randomBytes(4).toString('hex')}`, time: now - 40 * day };
    await s.weir.audit.writer.append({
      event_id: `ev-${old.id}`,
      event_time: old.time,
      request_id: old.id,
      source_ip_address: '127.0.0.1',
      user_agent: null,
      user_name: 'admin',
      service_name: 'weir',
      action_name: 'oldAction',
      request_params: '{}',
      status_code: 200,
      error_message: null,
    });
    const count = async (where: string) => {
      const r = await auditQuery(`SELECT count(*) FROM system.access.audit WHERE ${where}`);
      expect(r.status.state).toBe('SUCCEEDED');
      return Number(r.result?.data_array?.[0]?.[0]);
    };
    expect(await count(`request_id = '${old.id}'`)).toBe(1);
    const recent = await count(`event_date >= DATE '${new Date(now - day).toISOString().slice(0, 10)}'`);
    expect(recent).toBeGreaterThan(1000);
    // Retention is 365 days: 40-day-old events stay until the clock says they are 365 days old.
    const result = await s.weir.audit.compactor.compact(now + 340 * day);
    expect(result.expired).toBe(1);
    expect(await count(`request_id = '${old.id}'`)).toBe(0);
    expect(await count(`event_date >= DATE '${new Date(now - day).toISOString().slice(0, 10)}'`)).toBeGreaterThanOrEqual(recent);
  }, 120_000);
});

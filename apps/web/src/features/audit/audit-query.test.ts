// The audit viewer's SQL, run on a real DuckDB over rows in system.access.audit's shape (Databricks' columns).
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditFilters, auditQuery, timestampLiteral } from './audit-query.ts';

const none: AuditFilters = { user: '', service: '', action: '', outcome: '', from: '', to: '', limit: 500 };

describe('audit query', () => {
  let instance: DuckDBInstance;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    // DuckDB reserves the name "system", so the same columns live in access.audit here.
    await con.run('CREATE SCHEMA access');
    await con.run(`CREATE TABLE access.audit (event_time TIMESTAMP, event_date DATE, source_ip_address VARCHAR,
      user_identity STRUCT(email VARCHAR, subject_name VARCHAR), service_name VARCHAR, action_name VARCHAR,
      request_params MAP(VARCHAR, VARCHAR), response STRUCT(status_code INTEGER, error_message VARCHAR, result VARCHAR))`);
    const row = (t: string, user: string, service: string, action: string, status: number, error: string | null) =>
      `(TIMESTAMP '${t}', DATE '${t.slice(0, 10)}', '10.0.0.1', {'email': '${user.replace(/'/g, "''")}', 'subject_name': NULL}, '${service}', '${action}',
        MAP {'name': 'x'}, {'status_code': ${status}, 'error_message': ${error === null ? 'NULL' : `'${error}'`}, 'result': NULL})`;
    await con.run(`INSERT INTO access.audit VALUES
      ${row('2026-11-01 10:00:00', 'grace@example.com', 'unityCatalog', 'createTable', 200, null)},
      ${row('2026-11-02 10:00:00', 'grace@example.com', 'unityCatalog', 'getTable', 403, 'denied')},
      ${row('2026-11-03 10:00:00', 'ada@example.com', 'mlflowModelRegistry', 'setRegisteredModelAlias', 200, null)},
      ${row('2026-11-04 10:00:00', "o'hara_100%", 'accounts', 'login', 401, 'bad password')}`);
    con.closeSync();
  });
  afterAll(() => instance?.closeSync());

  async function users(f: Partial<AuditFilters>): Promise<string[]> {
    const con = await instance.connect();
    try {
      const reader = await con.runAndReadAll(auditQuery({ ...none, ...f }, 'access.audit'));
      expect(reader.columnNames()).toEqual([
        'event_time',
        'user_name',
        'service_name',
        'action_name',
        'status_code',
        'error_message',
        'source_ip_address',
        'request_params',
      ]);
      return reader.getRowsJson().map((r) => `${r[1]}:${r[3]}`);
    } finally {
      con.closeSync();
    }
  }

  it('reads system.access.audit by default', () => {
    expect(auditQuery(none)).toMatch(/ FROM system\.access\.audit ORDER BY event_time DESC LIMIT 500$/);
  });

  it('lists newest first with no filters, and filters by user, service, action and outcome', async () => {
    expect(await users({})).toEqual([
      "o'hara_100%:login",
      'ada@example.com:setRegisteredModelAlias',
      'grace@example.com:getTable',
      'grace@example.com:createTable',
    ]);
    expect(await users({ user: 'GRACE' })).toEqual(['grace@example.com:getTable', 'grace@example.com:createTable']);
    expect(await users({ service: 'mlflowModelRegistry' })).toEqual(['ada@example.com:setRegisteredModelAlias']);
    expect(await users({ action: 'table' })).toEqual(['grace@example.com:getTable', 'grace@example.com:createTable']);
    expect(await users({ outcome: 'failure' })).toEqual(["o'hara_100%:login", 'grace@example.com:getTable']);
    expect(await users({ outcome: 'success', user: 'grace' })).toEqual(['grace@example.com:createTable']);
    expect(await users({ limit: 1 })).toEqual(["o'hara_100%:login"]);
  });

  it('keeps quotes and LIKE wildcards in user text literal', async () => {
    expect(await users({ user: "o'hara_100%" })).toEqual(["o'hara_100%:login"]);
    // '_' and '%' are wildcards in LIKE; escaped, "a_a" does not match "ada".
    expect(await users({ user: 'a_a' })).toEqual([]);
    expect(await users({ user: "'; DROP TABLE x; --" })).toEqual([]);
  });

  it('bounds the time range (inclusive from, exclusive until), read as local time', async () => {
    const from = timestampLiteral('2026-11-02T00:00');
    expect(from).toMatch(/^TIMESTAMP '2026-11-0[12] \d\d:\d\d:00\.000'$/);
    const local = (iso: string) => {
      const d = new Date(iso);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    };
    expect(await users({ from: local('2026-11-02T10:00:00Z'), to: local('2026-11-04T10:00:00Z') })).toEqual([
      'ada@example.com:setRegisteredModelAlias',
      'grace@example.com:getTable',
    ]);
    expect(timestampLiteral('yesterday-ish')).toBeUndefined();
  });
});

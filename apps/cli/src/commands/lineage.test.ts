import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '@weir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeir } from '../testing.ts';

describe('weir lineage', () => {
  let s: TestServer;
  let home: string;
  beforeAll(async () => {
    s = await startTestServer();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cli-lineage-'));
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const weir = (args: string[]) => runWeir(args, { HOME: home, WEIR_HOST: s.url, WEIR_TOKEN: s.adminToken });
  const sql = async (statement: string) => {
    const r = await s.call('POST', '/api/2.0/sql/statements', { statement, wait_timeout: '50s' });
    expect(r.body.status.state, r.text).toBe('SUCCEEDED');
  };

  it('prints the edges around a table and refuses a malformed entity', async () => {
    await sql('CREATE TABLE main.default.cli_src (id BIGINT)');
    await sql('CREATE TABLE main.default.cli_mid AS SELECT id FROM main.default.cli_src');
    await sql('CREATE TABLE main.default.cli_out AS SELECT id FROM main.default.cli_mid');
    const down = await weir(['lineage', 'table:main.default.cli_src', '--direction', 'downstream', '--depth', '2']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^table:main\.default\.cli_src\s+table:main\.default\.cli_mid\s+sql\s+\d{4}-/m);
    expect(down.stdout).toMatch(/^table:main\.default\.cli_mid\s+table:main\.default\.cli_out\s+sql\s+/m);
    const one = await weir(['lineage', 'table:main.default.cli_out', '--direction', 'upstream', '--json']);
    expect(JSON.parse(one.stdout).edges.map((e: { source: string }) => e.source)).toEqual(['table:main.default.cli_mid']);
    const bad = await weir(['lineage', 'cli_src']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('INVALID_PARAMETER_VALUE');
  });
});

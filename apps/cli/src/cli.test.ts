import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '@weir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeir } from './testing.ts';

describe('weir CLI', () => {
  let s: TestServer;
  let home: string;
  beforeAll(async () => {
    s = await startTestServer();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cli-home-'));
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const weir = (args: string[], env: Record<string, string> = {}) => runWeir(args, { HOME: home, WEIR_HOST: s.url, WEIR_TOKEN: s.adminToken, ...env });

  it('creates and lists experiments, searches runs with a filter (table and --json)', async () => {
    const created = await weir(['experiments', 'create', 'cli-exp']);
    expect(created.code).toBe(0);
    const id = /created experiment (\d+)/.exec(created.stdout)?.[1] as string;
    expect(id).toBeDefined();
    const list = await weir(['experiments', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+cli-exp\\s+active`, 'm'));
    for (const [name, loss] of [
      ['good', 0.1],
      ['bad', 0.9],
    ] as const) {
      const r = await s.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: id, run_name: name });
      await s.call('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: r.body.run.info.run_id, key: 'loss', value: loss, timestamp: 1 });
    }
    const table = await weir(['runs', 'search', '--experiment', 'cli-exp', '--filter', 'metrics.loss < 0.5']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('good');
    expect(table.stdout).not.toContain('bad');
    expect(table.stdout.split('\n')[0]).toMatch(/^RUN_ID\s+NAME\s+STATUS\s+START\s+loss/);
    const json = await weir(['runs', 'search', '--experiment', 'cli-exp', '--order-by', 'metrics.loss DESC', '--json']);
    const parsed = JSON.parse(json.stdout) as { runs: { info: { run_name: string } }[] };
    expect(parsed.runs.map((r) => r.info.run_name)).toEqual(['bad', 'good']);
  });

  it('creates, lists and revokes tokens', async () => {
    const created = await weir(['token', 'create', '--comment', 'from-cli', '--json']);
    const { token_value, token_info } = JSON.parse(created.stdout) as { token_value: string; token_info: { token_id: string } };
    const list = await weir(['token', 'list'], { WEIR_TOKEN: token_value });
    expect(list.stdout).toContain(token_info.token_id);
    expect(list.stdout).toContain('from-cli');
    expect((await weir(['token', 'revoke', token_info.token_id])).code).toBe(0);
    const after = await weir(['token', 'list'], { WEIR_TOKEN: token_value });
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('UNAUTHENTICATED');
  });

  it('reads a ~/.weirrc profile and exits non-zero with the server message on errors', async () => {
    fs.writeFileSync(path.join(home, '.weirrc'), `[staging]\nhost = ${s.url}\ntoken = ${s.adminToken}\n`);
    const ok = await weir(['experiments', 'list', '--profile', 'staging'], { WEIR_HOST: '', WEIR_TOKEN: '' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Default');
    const dup = await weir(['experiments', 'create', 'cli-exp']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('RESOURCE_ALREADY_EXISTS: Experiment(name=cli-exp) already exists.');
    const missing = await weir(['runs', 'search', '--experiment', 'no-such-experiment']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Could not find experiment with name 'no-such-experiment'");
  });
});

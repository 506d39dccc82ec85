import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '@weir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeir } from '../testing.ts';

describe('weir users|groups|service-principals', () => {
  let s: TestServer;
  let home: string;
  beforeAll(async () => {
    s = await startTestServer();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cli-identity-'));
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const weir = (args: string[]) => runWeir(args, { HOME: home, WEIR_HOST: s.url, WEIR_TOKEN: s.adminToken });

  let appId = '';

  it('creates users, groups and service principals and nests them; cycles are refused', async () => {
    expect((await weir(['users', 'create', 'cli-ana@example.com', '--display-name', 'Ana'])).code).toBe(0);
    expect((await weir(['groups', 'create', 'cli-team'])).code).toBe(0);
    expect((await weir(['groups', 'create', 'cli-org'])).code).toBe(0);
    const sp = await weir(['service-principals', 'create', 'cli-bot', '--json']);
    expect(sp.code, sp.stderr).toBe(0);
    appId = JSON.parse(sp.stdout).applicationId as string;
    expect(appId).toMatch(/^[0-9a-f-]{36}$/);

    for (const [group, member] of [
      ['cli-team', 'cli-ana@example.com'],
      ['cli-team', appId],
      ['cli-org', 'cli-team'],
    ]) {
      const res = await weir(['groups', 'add-member', group as string, member as string]);
      expect(res.code, res.stderr).toBe(0);
    }
    const groups = await weir(['groups', 'list', '--filter', 'displayName sw "cli-"']);
    expect(groups.stdout).toMatch(/cli-team\s+Ana,cli-bot\s+cli-org/);
    const users = await weir(['users', 'list', '--filter', 'userName eq "cli-ana@example.com"']);
    expect(users.stdout).toMatch(/cli-ana@example\.com\s+Ana\s+true\s+cli-team/);
    const cycle = await weir(['groups', 'add-member', 'cli-team', 'cli-org']);
    expect(cycle.code).toBe(1);
    expect(cycle.stderr).toContain('cycle');
  });

  it('mints a service principal token, removes members, deactivates and deletes', async () => {
    expect(appId).not.toBe('');

    const token = await weir(['service-principals', 'token', appId, '--lifetime-seconds', '600', '--comment', 'cli']);
    expect(token.code, token.stderr).toBe(0);
    const value = token.stdout.trim();
    expect(value).toMatch(/^dapi[0-9a-f]{40}$/);
    expect((await s.call('GET', '/api/2.0/preview/scim/v2/Me', undefined, value)).body.userName).toBe(appId);

    expect((await weir(['groups', 'remove-member', 'cli-team', appId])).code).toBe(0);
    expect((await weir(['groups', 'list', '--filter', 'displayName eq "cli-team"'])).stdout).not.toContain('cli-bot');

    expect((await weir(['users', 'deactivate', 'cli-ana@example.com'])).code).toBe(0);
    expect((await weir(['users', 'list', '--filter', 'userName eq "cli-ana@example.com"'])).stdout).toMatch(/Ana\s+false/);
    expect((await weir(['service-principals', 'delete', appId])).code).toBe(0);
    expect((await s.call('GET', '/api/2.0/preview/scim/v2/Me', undefined, value)).status).toBe(401);
    const missing = await weir(['users', 'delete', 'nobody@example.com']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nobody@example.com');
  });
});

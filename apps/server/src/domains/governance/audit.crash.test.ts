// kill -9 a real server while 8 clients send a mix of requests (and compaction runs every 200 ms): after a restart,
// every request that got a response is in system.access.audit, exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestPostgresDatabase, testBackends } from '../../testing/test-server.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const weirBin = path.join(repoRoot, 'apps/cli/bin/weir.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startServerProcess(dataDir: string, token: string, logFile: string, metadataUrl?: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const args = [weirBin, 'server', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir];
  if (metadataUrl) args.push('--metadata-url', metadataUrl);
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, WEIR_ADMIN_TOKEN: token, WEIR_LOG_LEVEL: 'info', WEIR_AUDIT_COMPACT_SECONDS: '0.2' },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`server exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
}

describe.each(testBackends)('audit log crash safety on $name', (backend) => {
  it('keeps the event of every answered request after kill -9, each once', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-audit-crash-'));
    const logFile = path.join(dataDir, 'server.log');
    const token = `dapi${randomBytes(16).toString('hex')}`;
    const database = backend.name === 'postgres' ? await createTestPostgresDatabase('weir_audit_crash') : null;
    const metadataUrl = database?.url;
    const json = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    let { child, url } = await startServerProcess(dataDir, token, logFile, metadataUrl);
    try {
      const exp = (await (
        await fetch(`${url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'crash' }) })
      ).json()) as { experiment_id: string };
      const run = (await (
        await fetch(`${url}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: json, body: JSON.stringify({ experiment_id: exp.experiment_id }) })
      ).json()) as { run: { info: { run_id: string } } };
      const runId = run.run.info.run_id;

      const answered: string[] = [];
      let stop = false;
      const clients = Array.from({ length: 8 }, async (_, c) => {
        for (let n = 0; !stop && n < 1_000_000; n++) {
          const id = `c${c}-${n}`;
          const kind = n % 3;
          try {
            const res =
              kind === 0
                ? await fetch(`${url}/api/2.0/mlflow/runs/log-metric`, {
                    method: 'POST',
                    headers: { ...json, 'x-request-id': id },
                    body: JSON.stringify({ run_id: runId, key: 'loss', value: n, timestamp: 1, step: n }),
                  })
                : kind === 1
                  ? await fetch(`${url}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: { 'x-request-id': id } })
                  : await fetch(`${url}/api/2.1/unity-catalog/tables/main.default.missing_${n}`, { headers: { ...json, 'x-request-id': id } });
            await res.arrayBuffer();
            answered.push(id);
          } catch {
            return; // the server died under us
          }
        }
      });
      await new Promise((r) => setTimeout(r, 2000));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(clients);
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
      expect(answered.length).toBeGreaterThan(16);

      ({ child, url } = await startServerProcess(dataDir, token, logFile, metadataUrl));
      const res = await fetch(`${url}/api/2.0/sql/statements`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ statement: "SELECT request_id FROM system.access.audit WHERE request_id LIKE 'c%-%'", wait_timeout: '50s' }),
      });
      const body = (await res.json()) as { status: { state: string }; result?: { data_array?: string[][] } };
      expect(body.status.state).toBe('SUCCEEDED');
      const ids = (body.result?.data_array ?? []).map((r) => r[0] as string);
      const stored = new Set(ids);
      expect(ids.length, 'no event is stored twice').toBe(stored.size);
      const missing = answered.filter((id) => !stored.has(id));
      expect(missing, 'answered requests missing from the audit log').toEqual([]);
      // No token reaches the log, whatever the server was doing when it died.
      expect(fs.readFileSync(logFile, 'utf8').includes(token)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    }
  }, 180_000);
});

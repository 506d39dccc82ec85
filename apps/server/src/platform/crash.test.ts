// kill -9 the server while 8 clients log batches: every batch that got a 200 is there after a restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestPostgresDatabase, testBackends } from '../testing/test-server.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
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

async function startProcess(dataDir: string, token: string, metadataUrl?: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const args = [weirBin, 'server', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir];
  if (metadataUrl) args.push('--metadata-url', metadataUrl);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, WEIR_ADMIN_TOKEN: token, WEIR_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${stderr}`);
}

describe.each(testBackends)('crash safety on $name', (backend) => {
  it('keeps every acknowledged log-batch after kill -9', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-crash-'));
    const token = `dapi${randomBytes(16).toString('hex')}`;
    const database = backend.name === 'postgres' ? await createTestPostgresDatabase('weir_crash') : null;
    const metadataUrl = database?.url;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    let { child, url } = await startProcess(dataDir, token, metadataUrl);
    try {
      const exp = (await (
        await fetch(`${url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers, body: JSON.stringify({ name: 'crash' }) })
      ).json()) as {
        experiment_id: string;
      };
      const runs: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = (await (
          await fetch(`${url}/api/2.0/mlflow/runs/create`, { method: 'POST', headers, body: JSON.stringify({ experiment_id: exp.experiment_id }) })
        ).json()) as {
          run: { info: { run_id: string } };
        };
        runs.push(r.run.info.run_id);
      }
      const acked = new Map<string, number[]>(runs.map((r) => [r, []]));
      let stop = false;
      const clients = runs.map(async (runId) => {
        for (let batch = 0; !stop && batch < 100_000; batch++) {
          const metrics = Array.from({ length: 100 }, (_, i) => ({ key: 'loss', value: batch + i / 100, timestamp: 1000 + batch, step: batch * 100 + i }));
          try {
            const res = await fetch(`${url}/api/2.0/mlflow/runs/log-batch`, { method: 'POST', headers, body: JSON.stringify({ run_id: runId, metrics }) });
            if (res.status === 200) acked.get(runId)?.push(batch);
            await res.arrayBuffer();
          } catch {
            return; // the server died under us
          }
        }
      });
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(clients);
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
      const total = [...acked.values()].reduce((n, b) => n + b.length, 0);
      expect(total).toBeGreaterThan(8);

      ({ child, url } = await startProcess(dataDir, token, metadataUrl));
      for (const runId of runs) {
        const res = await fetch(`${url}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`, { headers });
        const body = (await res.json()) as { metrics?: { step: number }[] };
        const steps = new Set((body.metrics ?? []).map((m) => m.step));
        for (const batch of acked.get(runId) ?? []) {
          for (let i = 0; i < 100; i++) expect(steps.has(batch * 100 + i), `run ${runId} batch ${batch} step ${i}`).toBe(true);
        }
      }
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    }
  });
});

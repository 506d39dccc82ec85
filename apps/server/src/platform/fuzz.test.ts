// Sends malformed bodies, wrong types, huge values and path tricks to every route in the route table:
// never a 5xx, the server stays up, and nothing is written.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestServer, type TestServer, testBackends } from '../testing/test-server.ts';
import type { RouteSpec } from './http.ts';

const PATH_TRICKS = ['..%2f..%2fetc%2fpasswd', '%2e%2e', '..', 'a%00b', '%2e%2e%2f%2e%2e%2fx', `${'x'.repeat(3000)}`];
const WILDCARD_TRICKS = ['../../etc/passwd', '%2e%2e/%2e%2e/x', '0/%2e%2e/%2e%2e/x', 'a/%00/b', '..%2f..%2fx', '/abs/path'];

function unwrap(t: z.ZodType): z.ZodType {
  let cur = t;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
  return cur;
}

/** A body whose every field has a type its schema refuses. */
function wrongTypes(route: RouteSpec, huge: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(route.input.shape)) {
    const inner = unwrap(field as z.ZodType);
    if (huge) out[key] = inner instanceof z.ZodArray ? Array.from({ length: 50_000 }, () => null) : Array.from({ length: 50_000 }, () => 7);
    else out[key] = inner instanceof z.ZodObject ? 7 : { nested: [1, { deeper: true }] };
  }
  return out;
}

function rawRequest(base: string, method: string, rawPath: string, token: string, body?: string) {
  const url = new URL(base);
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: rawPath,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out.sort();
}

describe.each(testBackends)('fuzzing every route on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function snapshot() {
    const counts: Record<string, number> = {};
    for (const table of [
      'principals',
      'tokens',
      'object_permissions',
      'experiments',
      'experiment_tags',
      'runs',
      'params',
      'tags',
      'metrics',
      'datasets',
      'run_inputs',
      'logged_models',
      'logged_model_tags',
      'logged_model_params',
    ]) {
      const row = await s.weir.store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number((row as { n: number | string }).n);
    }
    // Every request, refused or not, is audited: the audit log's journal (SQLite) and its compaction into
    // system.access.audit are the one expected write.
    const audit = `${s.weir.audit.location}${path.sep}`;
    return { counts, files: listFiles(s.dataDir).filter((f) => !/weir\.db(-wal|-shm|-audit-journal\.\d+(\.v\d+)?)?$/.test(f) && !f.startsWith(audit)) };
  }

  it('answers every malformed request with a 4xx JSON error and writes nothing', async () => {
    // A little real data so handlers that find something go further.
    const exp = (await s.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'fuzz-target' })).body.experiment_id;
    await s.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp });
    const before = await snapshot();
    const failures: string[] = [];
    let sent = 0;
    // Requests are built first and sent eight at a time: one by one, the route table outgrew the test's time limit.
    const requests: { method: string; url: string; body: string | undefined; template: string }[] = [];
    for (const route of s.weir.routes) {
      for (const template of route.paths) {
        const concretePaths =
          template.includes('*') || template.includes(':')
            ? (template.includes('*') ? WILDCARD_TRICKS : PATH_TRICKS).map((trick) => template.replace(/:[A-Za-z_]+/g, trick).replace('*', trick))
            : [template];
        const bodies =
          route.method === 'GET'
            ? [undefined]
            : [
                '{',
                '"double-encoded"',
                '[1,2,3]',
                'null',
                '{"a":',
                JSON.stringify(wrongTypes(route, false)),
                JSON.stringify(wrongTypes(route, true)),
                JSON.stringify({ experiment_id: '\u0000', run_id: '\u0000', name: '\u0000', key: '../\u0000' }),
              ];
        const queries = ['', '?run_id=..%2f..&path=..%2F..%2Fetc&experiment_id=%00&max_results=-1&view_type=bogus&filter=%27%27%27'];
        for (const p of concretePaths) {
          for (const q of queries) {
            for (const body of bodies) {
              if (route.method !== 'GET' && route.body === 'raw' && body !== undefined && !template.includes('*') && !template.includes('upload-artifact'))
                continue;
              requests.push({ method: route.method, url: `${p}${q}`, body, template });
            }
          }
        }
      }
    }
    let next = 0;
    const worker = async () => {
      for (let r = requests[next++]; r !== undefined; r = requests[next++]) {
        const res = await rawRequest(s.url, r.method, r.url, s.adminToken, r.body);
        sent++;
        const allowed501 = r.template.includes('/mpu/') && res.status === 501;
        if (res.status >= 500 && !allowed501)
          failures.push(`${r.method} ${r.url} body=${String(r.body).slice(0, 60)} -> ${res.status} ${res.text.slice(0, 200)}`);
        if (res.status >= 400 && !res.text.startsWith('{')) failures.push(`${r.method} ${r.url}: non-JSON error ${res.text.slice(0, 100)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(500);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    const after = await snapshot();
    expect(after.counts).toEqual(before.counts);
    expect(after.files).toEqual(before.files);
  }, 300_000);
});

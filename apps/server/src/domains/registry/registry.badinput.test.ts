// Malformed bodies, wrong types and path tricks to every registry route: 4xx JSON, never 5xx, and the registry's
// tables and model files stay exactly as they were (the platform fuzz test does not count the registry's tables).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const REGISTRY_TAGS = new Set(['mlflow-registry', 'unity-catalog', 'model-files', 'lineage', 'models']);
const PATH_TRICKS = ['..%2f..%2fetc%2fpasswd', '%2e%2e', 'a%00b', 'main.default.m%2f..'];
const WILDCARD_TRICKS = ['../../etc/passwd', '%2e%2e/%2e%2e/x', 'main/default/m/1/../../../../x', 'a/%00/b'];

function unwrap(t: z.ZodType): z.ZodType {
  let cur = t;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
  return cur;
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

describe.each(testBackends)('registry routes refuse bad input on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function snapshot() {
    const counts: Record<string, number> = {};
    for (const table of ['registered_models', 'registered_model_tags', 'registered_model_aliases', 'model_versions', 'model_version_tags']) {
      const row = await s.weir.store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number((row as { n: number | string }).n);
    }
    const models = await s.weir.store.db.selectFrom('registered_models').selectAll().orderBy('model_id').execute();
    const versions = await s.weir.store.db.selectFrom('model_versions').selectAll().orderBy('id').execute();
    return { counts, models, versions, files: listFiles(path.join(s.dataDir, 'models')) };
  }

  it('answers 4xx JSON and changes nothing', async () => {
    await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'target' });
    await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'target', source: 's3://bucket/model' });
    await s.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'target', alias: 'champion', version: '1' });
    const before = await snapshot();
    const failures: string[] = [];
    let sent = 0;
    const routes = s.weir.routes.filter((r) => REGISTRY_TAGS.has(r.tag));
    expect(routes.length).toBeGreaterThan(40);
    for (const route of routes) {
      for (const template of route.paths) {
        const paths = template.includes('*')
          ? WILDCARD_TRICKS.map((t) => template.replace('*', t))
          : template.includes(':')
            ? PATH_TRICKS.map((t) => template.replace(/:[A-Za-z_]+/g, t))
            : [template];
        const wrong: Record<string, unknown> = {};
        for (const [key, field] of Object.entries(route.input.shape)) wrong[key] = unwrap(field as z.ZodType) instanceof z.ZodObject ? 7 : { nested: [1] };
        const bodies =
          route.method === 'GET'
            ? [undefined]
            : [
                '{',
                '[1]',
                'null',
                JSON.stringify(wrong),
                JSON.stringify({ name: '../target', version: '../1', alias: 'latest', source: 'runs:/x/../../etc', full_name: 'a' }),
              ];
        for (const p of paths) {
          for (const q of ['', '?name=..%2Ftarget&version=..%2f&alias=latest&path=..%2F..&filter=%27%27%27&max_results=-1']) {
            for (const body of bodies) {
              const res = await fetch(`${s.url}${p}${q}`, {
                method: route.method,
                headers: { authorization: `Bearer ${s.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
                body,
              });
              const text = await res.text();
              sent++;
              if (res.status >= 500) failures.push(`${route.method} ${p}${q} ${String(body).slice(0, 60)} -> ${res.status} ${text.slice(0, 200)}`);
              if (res.status >= 400 && !text.startsWith('{')) failures.push(`${route.method} ${p}: non-JSON error ${text.slice(0, 100)}`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(300);
    expect(await snapshot()).toEqual(before);
  });
});

// The cost of one authorize() call alone, with 10,000 grants across 500 groups in the store: what the HTTP and SQL
// layers add per check on top of it is theirs. Run: npx tsx bench/governance/authorize-micro.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { createGovernanceService, type GovernanceTables, governanceMigrations } from '../../apps/server/src/domains/governance/index.ts';
import { migrate, openMetadataDb } from '../../apps/server/src/platform/db.ts';

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-bench-authz-'));
  const store = openMetadataDb({ dataDir });
  await migrate(store, governanceMigrations);
  const db = store.db as Kysely<GovernanceTables>;
  // Groups are ids 1000..1499; the analyst (id 1) is in 1000..1004.
  const rows = [];
  for (let g = 0; g < 500; g++)
    for (let k = 0; k < 20; k++) rows.push({ securable_type: 'table', full_name: `bench.wide.t${g * 20 + k}`, principal_id: 1000 + g, privilege: 'SELECT' });
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('uc_grants')
      .values(rows.slice(i, i + 500))
      .execute();
  await db
    .insertInto('uc_grants')
    .values([
      { securable_type: 'catalog', full_name: 'bench', principal_id: 1000, privilege: 'USE_CATALOG' },
      { securable_type: 'schema', full_name: 'bench.s', principal_id: 1001, privilege: 'USE_SCHEMA' },
      { securable_type: 'table', full_name: 'bench.s.points', principal_id: 1004, privilege: 'SELECT' },
    ])
    .execute();
  const groups = [1000, 1001, 1002, 1003, 1004];
  const gov = createGovernanceService({
    db,
    principals: {
      byName: async () => undefined,
      byIds: async (ids) => new Map(ids.map((id) => [id, { id, name: `g${id}`, kind: 'group' as const }])),
      groupsOf: async () => groups,
    },
    owners: { ownersOf: async () => ['admin', 'admin'] },
  });
  const analyst = { id: 1, userName: 'analyst@example.com', kind: 'user' as const, isAdmin: false };
  const checks = [
    { privilege: 'USE_CATALOG' as const, securable: { type: 'catalog' as const, fullName: 'bench' } },
    { privilege: 'USE_SCHEMA' as const, securable: { type: 'schema' as const, fullName: 'bench.s' } },
    { privilege: 'SELECT' as const, securable: { type: 'table' as const, fullName: 'bench.s.points' } },
  ];
  for (let i = 0; i < 2000; i++) for (const c of checks) await gov.authorize(analyst, c.privilege, c.securable);
  const n = 20_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) for (const c of checks) if (!(await gov.authorize(analyst, c.privilege, c.securable))) throw new Error('denied');
  const perCall = ((performance.now() - t) * 1000) / (n * checks.length);
  console.log(`authorize(): ${perCall.toFixed(2)} µs per call (granted through a group; 3 calls per point SELECT = ${(perCall * 3).toFixed(2)} µs)`);
  await store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
main();

// The audit writer alone, as a lone scoring request uses it: one event appended and awaited per event-loop turn, on a
// SQLite store in a temporary directory. Prints the wall time an append is awaited and the process CPU per event
// (on SQLite, journal writes; compaction is not included). ROOT is a Weir checkout (default: this one), so two trees can be compared.
//
//   npx tsx bench/serving/audit-writer.ts [ROOT]
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
const db = await import(path.join(root, 'apps/server/src/platform/db.ts'));
const log = await import(path.join(root, 'apps/server/src/domains/governance/audit.log.ts'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-audit-writer-'));
const store = db.openMetadataDb({ dataDir: dir });
await db.migrate(store, log.auditMigrations);
const writer = log.createAuditWriter(store);
const event = () => ({
  event_id: randomUUID(),
  event_time: Date.now(),
  request_id: randomUUID(),
  source_ip_address: '127.0.0.1',
  user_agent: 'node',
  user_name: 'admin',
  service_name: 'serving',
  action_name: 'invocationsServingEndpoint',
  request_params: '{"name":"bench"}',
  status_code: 200,
  error_message: null,
});
const turn = () => new Promise((r) => setImmediate(r));
for (let i = 0; i < 1000; i++) {
  await writer.append(event());
  await turn();
}
const N = 5000;
let awaited = 0n;
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  const t = process.hrtime.bigint();
  await writer.append(event());
  awaited += process.hrtime.bigint() - t;
  await turn();
}
await writer.drain();
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${root}: append awaited ${(Number(awaited) / 1e3 / N).toFixed(1)} us, CPU ${((cpu.user + cpu.system) / N).toFixed(1)} us per event\n`);
await store.close();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);

// Direction (c), Weir's side: appends `count` one-row commits ('weir', i) to a table Spark is appending
// to at the same time. Usage: npx tsx tests/interop/delta/weir-append.ts <table-dir> <count>
import { setTimeout as sleep } from 'node:timers/promises';
import { openDeltaTable } from '@weir/delta';

const [dir, count] = process.argv.slice(2);
if (!dir || !count) throw new Error('usage: weir-append.ts <table-dir> <count>');
const table = openDeltaTable(dir);
for (let i = 0; i < Number(count); i++) {
  await table.write(`SELECT 'weir' AS writer, ${i}::INTEGER AS seq`);
  // Spark's appends take a few hundred ms each; pausing a varying while spreads Weir's commits among them.
  await sleep(100 + ((i * 137) % 300));
}
console.log(`[weir-append] ${count} appends committed`);

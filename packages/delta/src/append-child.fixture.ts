// Test helper run as a child process: appends `count` single-row commits to the table at `dir`.
import { openDeltaTable } from './table.ts';

const [dir, worker, count] = process.argv.slice(2);
const table = openDeltaTable(String(dir));
for (let i = 0; i < Number(count); i++) {
  await table.write(`SELECT ${Number(worker)}::INTEGER AS worker, ${i}::INTEGER AS seq`);
}

// Test helper run as a child process and killed with SIGKILL at a random moment: it keeps committing
// batches (appends, with a delete and a checkpoint now and then) to the table at `dir` until killed.
// Batch b holds `rows` rows tagged b, and is written as version b, so the parent can check any prefix.
import { openDeltaTable } from './table.ts';

const [dir, rows] = process.argv.slice(2);
const table = openDeltaTable(String(dir));
process.stdout.write('ready\n');
for (;;) {
  const batch = (await table.version()) + 1;
  await table.write(`SELECT ${batch}::INTEGER AS batch, i::INTEGER AS i, repeat('x', 40) AS pad FROM range(${Number(rows)}) r(i)`);
}

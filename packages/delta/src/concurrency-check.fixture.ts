// Shared by the fast unit test and the full-size conformance run of the multi-process append check.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { openDeltaTable } from './table.ts';

const run = promisify(execFile);
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'append-child.fixture.ts');

/** Runs `workers` processes appending `appends` one-row commits each to a new table in `dir`, then checks the log and rows. */
export async function checkConcurrentAppends(dir: string, workers: number, appends: number): Promise<void> {
  await openDeltaTable(dir).create({
    schema: {
      type: 'struct',
      fields: [
        { name: 'worker', type: 'integer', nullable: false, metadata: {} },
        { name: 'seq', type: 'integer', nullable: false, metadata: {} },
      ],
    },
  });
  await Promise.all(Array.from({ length: workers }, (_, w) => run(process.execPath, ['--import', 'tsx', child, dir, String(w), String(appends)])));
  const commits = fs.readdirSync(path.join(dir, '_delta_log')).filter((f) => /^\d{20}\.json$/.test(f));
  expect(commits).toHaveLength(1 + workers * appends);
  const snap = await openDeltaTable(dir).snapshot();
  expect(snap.version).toBe(workers * appends);
  const got = (await snap.readRows({ orderBy: 'worker, seq' })).map((r) => `${r.worker}/${r.seq}`);
  const want = Array.from({ length: workers }, (_, w) => Array.from({ length: appends }, (_, i) => `${w}/${i}`)).flat();
  expect(got).toEqual(want);
  const lastCheckpoint = Math.floor((workers * appends) / 10) * 10;
  if (lastCheckpoint > 0) expect(fs.existsSync(path.join(dir, '_delta_log', `${String(lastCheckpoint).padStart(20, '0')}.checkpoint.parquet`))).toBe(true);
}

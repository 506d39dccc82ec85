// Shared by the fast unit test and the 20-round conformance run of the kill -9 check.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { openDeltaTable } from './table.ts';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-writer.fixture.ts');
const ROWS_PER_BATCH = 2000;

/** Starts the crash writer and SIGKILLs it `delayMs` after it has opened the table; resolves once it is dead. */
function runAndKill(dir: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(ROWS_PER_BATCH)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.stdout.once('data', () => setTimeout(() => proc.kill('SIGKILL'), delayMs));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`crash writer exited with ${code}: ${stderr}`))));
  });
}

/** Data files under the table directory, as keys relative to it (hidden and `_` paths excluded, as VACUUM does). */
function dataFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.parquet') && !f.split(path.sep).some((part) => part.startsWith('_') || part.startsWith('.')),
  );
}

/** Kills a committing writer `rounds` times at random moments; after each kill the table must open at its newest commit with every committed batch whole. Then VACUUM must remove the orphans. */
export async function checkKilledWriters(dir: string, rounds: number, maxDelayMs: number): Promise<void> {
  await openDeltaTable(dir).create({
    schema: {
      type: 'struct',
      fields: [
        { name: 'batch', type: 'integer', nullable: false, metadata: {} },
        { name: 'i', type: 'integer', nullable: false, metadata: {} },
        { name: 'pad', type: 'string', nullable: true, metadata: {} },
      ],
    },
    configuration: { 'delta.checkpointInterval': '3' },
  });
  const delays: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const delay = Math.floor(Math.random() * maxDelayMs);
    delays.push(delay);
    await runAndKill(dir, delay);
    const commits = fs
      .readdirSync(path.join(dir, '_delta_log'))
      .filter((f) => /^\d{20}\.json$/.test(f))
      .map((f) => Number(f.slice(0, 20)));
    const newest = Math.max(...commits);
    const snap = await openDeltaTable(dir).snapshot();
    expect(snap.version, `round ${round} (killed ${delay} ms in; delays so far ${delays})`).toBe(newest);
    const counts = await snap.readRows({ columns: ['batch'], orderBy: 'batch' });
    const perBatch = new Map<number, number>();
    for (const r of counts) perBatch.set(Number(r.batch), (perBatch.get(Number(r.batch)) ?? 0) + 1);
    // Version 0 is the create; batch v was committed as version v.
    expect([...perBatch.keys()], `round ${round}: batches present`).toEqual(Array.from({ length: newest }, (_, k) => k + 1));
    for (const [batch, n] of perBatch) expect(n, `round ${round}: rows of batch ${batch}`).toBe(ROWS_PER_BATCH);
  }
  const table = openDeltaTable(dir);
  const live = new Set((await table.snapshot()).files.map((f) => decodeURIComponent(f.path)));
  const orphans = dataFiles(dir).filter((f) => !live.has(f));
  await table.vacuum({ retentionHours: 0, force: true });
  expect(dataFiles(dir).sort()).toEqual([...live].sort());
  const after = await table.snapshot();
  expect(after.files).toHaveLength(live.size);
  expect(await after.readRows({ columns: ['batch'] })).toHaveLength(after.version * ROWS_PER_BATCH);
  console.log(`kill -9 check: ${rounds} kills at ${delays.join(', ')} ms; version ${after.version}; ${orphans.length} orphan file(s) vacuumed`);
}

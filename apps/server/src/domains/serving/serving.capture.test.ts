// Inference-table micro-batches against real Delta tables on disk: what a crash could lose is bounded by the batch size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable } from '@weir/delta';
import { afterAll, describe, expect, it } from 'vitest';
import { createInferenceCapture, type PayloadTables } from './serving.capture.ts';
import { startCaptureThread } from './serving.capture-thread.ts';

describe('inference capture batches', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-capture-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A table directory per name under the temp root; creation writes the first batch, as the tables domain does. */
  const tables: PayloadTables = {
    locate: async (c, s, t) => (fs.existsSync(path.join(root, c, s, t, '_delta_log')) ? path.join(root, c, s, t) : null),
    create: async (_owner, c, s, t, fill) => {
      const dir = path.join(root, c, s, t);
      fs.mkdirSync(dir, { recursive: true });
      await fill(dir);
    },
  };
  const target = { catalog: 'c', schema: 's', table: 'ep_payload', owner: { id: 1, userName: 'owner' } };
  const row = (i: number) => ({
    client_request_id: i % 2 ? `c${i}` : null,
    databricks_request_id: `r${i}`,
    timestamp_ms: Date.UTC(2026, 0, 2, 3, 4, 5) + i,
    status_code: 200,
    execution_time_ms: i,
    request: `{"inputs": [[${i}]], "quote": "it's"}`,
    response: `{"predictions": [${i}]}`,
    served_entity_name: 'm-1',
    model_name: 'c.s.m',
    model_version: '1',
  });
  const readIds = async () => {
    const dir = path.join(root, 'c', 's', 'ep_payload');
    if (!fs.existsSync(path.join(dir, '_delta_log'))) return [];
    const rows = await (await openDeltaTable(dir).snapshot()).readRows({ orderBy: 'timestamp_ms' });
    return rows.map((r) => r.databricks_request_id);
  };

  it('writes a batch as soon as maxRows wait, leaves fewer than maxRows in memory, and writes the rest on stop', async () => {
    const capture = createInferenceCapture({ tables, maxRows: 5, flushEveryMs: 3_600_000 });
    for (let i = 0; i < 12; i++) capture.record(target, row(i));
    // Two full batches were handed to the writer; only the two newest rows exist nowhere but memory (what a crash would lose).
    expect(capture.pending().get('c.s.ep_payload')).toBe(2);
    await capture.written();
    expect(capture.lastError('c.s.ep_payload')).toBeNull();
    const ids = await readIds();
    expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    await capture.stop();
    expect(await readIds()).toEqual(Array.from({ length: 12 }, (_, i) => `r${i}`));
    const dir = path.join(root, 'c', 's', 'ep_payload');
    const [first] = await (await openDeltaTable(dir).snapshot()).readRows({ orderBy: 'timestamp_ms' });
    expect(first?.request).toBe(`{"inputs": [[0]], "quote": "it's"}`);
    expect(first?.client_request_id).toBeNull();
    expect(String(first?.date instanceof Date ? first.date.toISOString().slice(0, 10) : first?.date)).toBe('2026-01-02');
    expect(capture.lastError('c.s.ep_payload')).toBeNull();
  });

  it('writes the same batches on the event loop when the capture thread is off', async () => {
    const t = { ...target, table: 'loop_payload' };
    const capture = createInferenceCapture({ tables, maxRows: 2, compactEveryBatches: 2, flushEveryMs: 3_600_000, writerThread: false });
    for (let i = 0; i < 7; i++) capture.record(t, row(i));
    await capture.stop();
    expect(capture.lastError('c.s.loop_payload')).toBeNull();
    const table = openDeltaTable(path.join(root, 'c', 's', 'loop_payload'));
    expect((await table.history()).map((h) => h.operation)).toEqual(['WRITE', 'OPTIMIZE', 'WRITE', 'WRITE', 'CREATE TABLE AS SELECT']);
    const rows = await (await table.snapshot()).readRows({ orderBy: 'timestamp_ms' });
    expect(rows.map((r) => r.databricks_request_id)).toEqual(Array.from({ length: 7 }, (_, i) => `r${i}`));
  });

  it('reports the batch a failed capture thread held, and writes the next ones on the event loop', async () => {
    const t = { ...target, table: 'fallback_payload' };
    const dir = path.join(root, 'c', 's', 'fallback_payload');
    const seed = createInferenceCapture({ tables, maxRows: 1, flushEveryMs: 3_600_000, writerThread: false });
    seed.record(t, row(0));
    await seed.stop();
    const logged: string[] = [];
    const thread = startCaptureThread((m) => logged.push(m), new URL('./serving.capture-thread.fixture.mjs', import.meta.url));
    const line = (i: number) => Buffer.from(`${JSON.stringify({ ...row(i), date: '2026-01-02', request: 'q', response: 'a' })}\n`);
    await expect(thread.append(dir, line(1), false)).rejects.toThrow(/capture thread stopped/);
    expect(logged.join('\n')).toMatch(/batches are written on the event loop/);
    await expect(thread.append(dir, line(2), false)).resolves.toEqual({ compactError: null });
    await thread.stop();
    const rows = await (await openDeltaTable(dir).snapshot()).readRows({ orderBy: 'timestamp_ms' });
    expect(rows.map((r) => r.databricks_request_id)).toEqual(['r0', 'r2']);
  });

  it("compacts a table's small files after every compactEveryBatches batches, keeping every row once", async () => {
    const t = { ...target, table: 'compacted_payload' };
    const dir = path.join(root, 'c', 's', 'compacted_payload');
    // One row per batch: the first batch creates the table, the next five are appends, and the fifth append compacts.
    const capture = createInferenceCapture({ tables, maxRows: 1, compactEveryBatches: 5, flushEveryMs: 3_600_000 });
    for (let i = 0; i < 12; i++) capture.record(t, row(i));
    await capture.stop();
    expect(capture.lastError('c.s.compacted_payload')).toBeNull();
    const table = openDeltaTable(dir);
    const history = await table.history();
    // Batches 2-6 are appends 1-5 (compaction), batches 7-11 appends 6-10 (compaction), batch 12 is left as it is.
    expect(history.filter((h) => h.operation === 'OPTIMIZE').map((h) => h.version)).toEqual([12, 6]);
    expect(history.filter((h) => h.operation === 'WRITE')).toHaveLength(11);
    const snapshot = await table.snapshot();
    expect(snapshot.files).toHaveLength(2);
    const rows = await snapshot.readRows({ orderBy: 'timestamp_ms' });
    expect(rows.map((r) => r.databricks_request_id)).toEqual(Array.from({ length: 12 }, (_, i) => `r${i}`));
  });

  it('logs a compaction that fails and goes on appending batches', async () => {
    const t = { ...target, table: 'broken_payload' };
    const dir = path.join(root, 'c', 's', 'broken_payload');
    const logged: string[] = [];
    const capture = createInferenceCapture({ tables, maxRows: 1, compactEveryBatches: 2, flushEveryMs: 3_600_000, log: (m) => logged.push(m) });
    capture.record(t, row(0));
    await capture.written();
    // The first batch's data file disappears, so the compaction that reads it after the second append fails.
    for (const f of (await openDeltaTable(dir).snapshot()).files) fs.rmSync(path.join(dir, f.path));
    for (let i = 1; i <= 3; i++) capture.record(t, row(i));
    await capture.stop();
    expect(logged.filter((m) => m.includes('small files could not be compacted'))).toHaveLength(1);
    expect(capture.lastError('c.s.broken_payload')).toBeNull();
    const history = await openDeltaTable(dir).history();
    expect(history.filter((h) => h.operation === 'OPTIMIZE')).toHaveLength(0);
    expect(history.filter((h) => h.operation === 'WRITE')).toHaveLength(3);
  });

  it('stores every string exactly as recorded (quotes, backslashes, control characters, non-ASCII, 100 kB) and types the columns', async () => {
    const awkward = [
      "it's",
      'a"b',
      'back\\slash \\u0041',
      'new\nline\r\ntab\t',
      '\u0001\u001f',
      'ünï€ 😀',
      '\u2028\u2029',
      '',
      'null',
      '123',
      'x'.repeat(100_000),
    ];
    const t = { ...target, table: 'awkward_payload' };
    const capture = createInferenceCapture({ tables, maxRows: 1000, flushEveryMs: 3_600_000 });
    for (const [i, text] of awkward.entries()) {
      capture.record(t, {
        ...row(i),
        client_request_id: i === 0 ? 'lone \ud800 surrogate' : i === 1 ? 'nul \u0000 inside' : text,
        request: text,
        response: `{"predictions": [${JSON.stringify(text)}]}`,
        served_entity_name: text,
      });
    }
    await capture.stop();
    expect(capture.lastError('c.s.awkward_payload')).toBeNull();
    const rows = await (await openDeltaTable(path.join(root, 'c', 's', 'awkward_payload')).snapshot()).readRows({ orderBy: 'timestamp_ms' });
    expect(rows.map((r) => r.request)).toEqual(awkward);
    expect(rows.map((r) => r.served_entity_name)).toEqual(awkward);
    expect(rows.map((r) => r.response)).toEqual(awkward.map((text) => `{"predictions": [${JSON.stringify(text)}]}`));
    // A lone surrogate cannot be stored as UTF-8: it becomes U+FFFD and the rest of the batch is kept.
    expect(rows.map((r) => r.client_request_id)).toEqual(['lone \ufffd surrogate', 'nul \u0000 inside', ...awkward.slice(2)]);
    expect(rows.map((r) => Number(r.timestamp_ms))).toEqual(awkward.map((_, i) => Date.UTC(2026, 0, 2, 3, 4, 5) + i));
    expect(rows.map((r) => Number(r.execution_time_ms))).toEqual(awkward.map((_, i) => i));
    expect(rows.every((r) => r.status_code === 200)).toBe(true);
  });
});

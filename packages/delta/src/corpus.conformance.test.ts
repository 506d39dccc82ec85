import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AddFile, canonicalPath } from './actions.ts';
import { DeltaLogError, DeltaNotFoundError, DeltaUnsupportedFeatureError } from './errors.ts';
import { LosslessNumber } from './json.ts';
import { listLog, replayLog } from './log.ts';
import { createLocalObjectStore } from './object-store.ts';
import { localFilePath } from './scan.ts';
import { fileStats } from './skipping.ts';
import { openDeltaTable, type Snapshot } from './table.ts';
import { rows, testConnection } from './test-helpers.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CORPUS = process.env.WEIR_DELTA_CORPUS ?? path.resolve(repoRoot, '../shared/data/delta');

function requireCorpus(): void {
  if (!fs.existsSync(path.join(CORPUS, 'INVENTORY.md')) || !fs.existsSync(path.join(CORPUS, 'dat'))) {
    throw new Error(`Delta test corpus not found at ${CORPUS} (expected INVENTORY.md and dat/). Set WEIR_DELTA_CORPUS to the shared/data/delta folder.`);
  }
}

const SUPPORTED_READER_FEATURES = ['timestampNtz', 'vacuumProtocolCheck'];

/** Tables whose own purpose is an error, with the error we must give (from the golden suite's intent). */
const EXPECTED_ERRORS: Record<string, RegExp> = {
  'golden/versions-not-contiguous': /not contiguous/,
  'golden/deltalog-state-reconstruction-without-metadata': /no metaData action/,
  'golden/deltalog-state-reconstruction-without-protocol': /no protocol action/,
  'golden/deltalog-state-reconstruction-from-checkpoint-missing-metadata': /no metaData action/,
  'golden/deltalog-state-reconstruction-from-checkpoint-missing-protocol': /no protocol action/,
  // A log-store test whose log has an add and a protocol but no metaData.
  'golden/data-reader-absolute-paths-escaped-chars': /no metaData action/,
  // Holds only a .crc file, no commit.
  'kernel-rs/crc-malformed': /not a Delta table/,
};

/** Log-replay test tables whose metaData has no schemaString: the log must replay, the snapshot is refused. */
const NO_SCHEMA = new Set([
  'golden/canonicalized-paths-normal-a',
  'golden/canonicalized-paths-normal-b',
  'golden/canonicalized-paths-special-a',
  'golden/canonicalized-paths-special-b',
  'golden/corrupted-last-checkpoint',
  'golden/update-deleted-directory',
  'golden/deltalog-commit-info',
]);

/** Tables whose data files are fake or were not copied into the corpus: only the log can be checked. */
const DATA_NOT_IN_CORPUS = new Set([
  'golden/checkpoint',
  'golden/delete-re-add-same-file-different-transactions',
  'golden/log-replay-special-characters-b',
  'delta-rs/checkpoint_with_partitions',
  'delta-rs/checkpoints',
  'delta-rs/checkpoints_vacuumed',
  'delta-rs/latest_not_checkpointed',
  'delta-rs/with_checkpoint_no_last_checkpoint',
  'kernel-rs/app-txn-with-last-updated',
  'kernel-rs/with_checkpoint_no_last_checkpoint',
]);

interface InventoryRow {
  id: string;
  protocol: string;
  lastVersion: string;
}

function readInventory(): InventoryRow[] {
  const text = fs.readFileSync(path.join(CORPUS, 'INVENTORY.md'), 'utf8');
  const out: InventoryRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !['golden', 'delta-rs', 'kernel-rs', 'dat'].includes(cells[1] as string)) continue;
    out.push({ id: `${cells[1]}/${cells[2]}`, protocol: cells[3] as string, lastVersion: cells[4] ?? '' });
  }
  return out;
}

type Expected = { kind: 'read' } | { kind: 'refuse'; features: string[] } | { kind: 'error'; pattern: RegExp } | { kind: 'no-schema' } | { kind: 'log-only' };

function expectedVerdict(row: InventoryRow): Expected {
  if (EXPECTED_ERRORS[row.id]) return { kind: 'error', pattern: EXPECTED_ERRORS[row.id] as RegExp };
  if (NO_SCHEMA.has(row.id)) return { kind: 'no-schema' };
  if (row.protocol.startsWith('(no _delta_log)')) return { kind: 'error', pattern: /not a Delta table/ };
  const m = /^(\d+)\/(\d+)(?:\s+R:(\S+))?/.exec(row.protocol);
  if (!m) throw new Error(`INVENTORY.md row ${row.id} has no protocol I can interpret: "${row.protocol}"`);
  const reader = Number(m[1]);
  const features = (m[3] ?? '').split(',').filter(Boolean);
  if (reader === 2) return { kind: 'refuse', features: ['columnMapping'] };
  if (reader > 3) return { kind: 'refuse', features: [`minReaderVersion ${reader}`] };
  const unsupported = features.filter((f) => !SUPPORTED_READER_FEATURES.includes(f));
  if (reader === 3 && unsupported.length > 0) return { kind: 'refuse', features: unsupported };
  if (DATA_NOT_IN_CORPUS.has(row.id)) return { kind: 'log-only' };
  return { kind: 'read' };
}

let con: DuckDBConnection;
const verdicts = new Map<string, string>();

beforeAll(async () => {
  requireCorpus();
  con = await testConnection();
});
afterAll(() => con?.closeSync());

/** Columns whose min/max stats are exact (no truncation): checked against the data we read. */
const EXACT_TYPES = new Set(['byte', 'short', 'integer', 'long', 'date']);

async function checkAgainstStats(snap: Snapshot): Promise<string> {
  const sql = await snap.scanSql({ connection: con });
  const count = Number((await rows(con, `SELECT count(*) AS n FROM (${sql})`))[0]?.n);
  const stats = snap.files.map((f) => fileStats(f));
  const numRecords = stats.map((s) => s?.numRecords);
  let checked = 'rows';
  if (numRecords.every((n) => n instanceof LosslessNumber)) {
    const sum = numRecords.reduce((a, n) => a + (n as LosslessNumber).toNumber(), 0);
    expect(count, 'row count vs sum of add.stats.numRecords').toBe(sum);
    checked = 'rows=stats';
  }
  // Sampled values: for exact-typed top-level data columns, the table's min/max/nullCount must equal what the stats say.
  const partition = new Set(snap.partitionColumns.map((c) => c.toLowerCase()));
  const columns = snap.schema.fields.filter((f) => typeof f.type === 'string' && EXACT_TYPES.has(f.type) && !partition.has(f.name.toLowerCase())).slice(0, 3);
  for (const col of columns) {
    const mins = stats.map((s) => (s?.minValues as Record<string, unknown> | undefined)?.[col.name]);
    const maxs = stats.map((s) => (s?.maxValues as Record<string, unknown> | undefined)?.[col.name]);
    const nulls = stats.map((s) => (s?.nullCount as Record<string, unknown> | undefined)?.[col.name]);
    if (stats.some((s) => !s) || nulls.some((n) => !(n instanceof LosslessNumber))) continue;
    const q = `"${col.name.replaceAll('"', '""')}"`;
    const actual = (await rows(con, `SELECT min(${q})::VARCHAR AS mn, max(${q})::VARCHAR AS mx, count(*) - count(${q}) AS nc FROM (${sql})`))[0] ?? {};
    expect(Number(actual.nc), `nullCount of ${col.name}`).toBe(nulls.reduce((a: number, n) => a + (n as LosslessNumber).toNumber(), 0));
    const present = (v: unknown[]) => v.filter((x) => x !== undefined && x !== null).map((x) => (x instanceof LosslessNumber ? x.text : String(x)));
    const mn = present(mins);
    const mx = present(maxs);
    if (
      mn.length !==
      snap.files.filter((_, i) => Number((nulls[i] as LosslessNumber).text) < Number((numRecords[i] as LosslessNumber | undefined)?.text ?? Infinity)).length
    )
      continue;
    if (mn.length === 0) continue;
    const sortKey = (v: string) => (col.type === 'date' ? v : BigInt(v));
    const lo = mn.reduce((a, b) => (sortKey(b) < sortKey(a) ? b : a));
    const hi = mx.reduce((a, b) => (sortKey(b) > sortKey(a) ? b : a));
    expect(actual.mn, `min of ${col.name}`).toBe(lo);
    expect(actual.mx, `max of ${col.name}`).toBe(hi);
    checked += `,${col.name}`;
  }
  return `read v${snap.version}: ${count} rows (${checked} checked)`;
}

describe('corpus: golden, delta-rs, kernel-rs tables', () => {
  const inventory = fs.existsSync(path.join(CORPUS, 'INVENTORY.md')) ? readInventory().filter((r) => !r.id.startsWith('dat/')) : [];

  it('the corpus is present and every table directory has an inventory row', () => {
    requireCorpus();
    const dirs = ['golden', 'delta-rs', 'kernel-rs'].flatMap((src) =>
      fs
        .readdirSync(path.join(CORPUS, src))
        .filter((n) => fs.statSync(path.join(CORPUS, src, n)).isDirectory())
        .map((n) => `${src}/${n}`),
    );
    expect(dirs.sort()).toEqual(inventory.map((r) => r.id).sort());
  });

  for (const row of inventory) {
    it(`${row.id}`, async () => {
      const expected = expectedVerdict(row);
      const dir = path.join(CORPUS, row.id);
      const table = openDeltaTable(dir, { connection: con });
      const outcome = await table.snapshot().then(
        (snap) => ({ snap, error: undefined }),
        (error: unknown) => ({ snap: undefined, error: error as Error }),
      );
      if (expected.kind === 'refuse') {
        expect(outcome.error, 'expected a refusal').toBeInstanceOf(DeltaUnsupportedFeatureError);
        const named = (outcome.error as DeltaUnsupportedFeatureError).features;
        for (const f of expected.features) expect(named, `refusal names ${f}`).toContain(f);
        verdicts.set(row.id, `refused: ${named.join(', ')}`);
        return;
      }
      if (expected.kind === 'error') {
        expect(outcome.error?.message ?? 'no error').toMatch(expected.pattern);
        expect(outcome.error).toSatisfy((e: unknown) => e instanceof DeltaLogError || e instanceof DeltaNotFoundError);
        verdicts.set(row.id, `error (expected): ${outcome.error?.message}`);
        return;
      }
      if (expected.kind === 'no-schema') {
        expect(outcome.error?.message ?? 'no error').toMatch(/schemaString/);
        const store = createLocalObjectStore(dir);
        const listing = await listLog(store);
        const state = await replayLog(con, store, listing);
        expect(state.version).toBe(listing.latest);
        verdicts.set(row.id, `log-only (metaData without schemaString): replayed to v${state.version}, ${state.files.size} files`);
        return;
      }
      if (outcome.error) throw outcome.error;
      const snap = outcome.snap as Snapshot;
      if (/^\d+$/.test(row.lastVersion)) expect(snap.version).toBeGreaterThanOrEqual(Number(row.lastVersion));
      const store = createLocalObjectStore(dir);
      const missing = snap.files.filter((f: AddFile) => !fs.existsSync(localFilePath(store, f)));
      if (expected.kind === 'log-only') {
        expect(missing.length, 'this table is listed as having data files absent from the corpus').toBeGreaterThan(0);
        verdicts.set(
          row.id,
          `log-only (data files not in corpus: ${missing.length}/${snap.files.length}, e.g. ${canonicalPath(missing[0]?.path ?? '')}): replayed to v${snap.version}`,
        );
        return;
      }
      expect(
        missing.map((f) => f.path),
        'every live data file exists',
      ).toEqual([]);
      verdicts.set(row.id, await checkAgainstStats(snap));
    });
  }

  it('verdict listing: every table has one', () => {
    const lines = inventory.map((r) => `${r.id.padEnd(72)} ${verdicts.get(r.id) ?? 'NO VERDICT (its test failed)'}`);
    console.log(`\nDelta corpus verdicts (${inventory.length} tables):\n${lines.join('\n')}`);
    expect(inventory.filter((r) => !verdicts.has(r.id)).map((r) => r.id)).toEqual([]);
  });
});

interface DatCase {
  name: string;
  expectedDir: string;
  version: number | undefined;
}

function datCases(): DatCase[] {
  const root = path.join(CORPUS, 'dat');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .sort()
    .flatMap((name) =>
      fs
        .readdirSync(path.join(root, name, 'expected'))
        .sort()
        .map((v) => ({ name, expectedDir: path.join(root, name, 'expected', v), version: v === 'latest' ? undefined : Number(v.slice(1)) })),
    );
}

describe('corpus: DAT reader acceptance cases', () => {
  const cases = datCases();

  it('has DAT cases', () => {
    requireCorpus();
    expect(cases.length).toBeGreaterThanOrEqual(19);
  });

  for (const c of cases) {
    it(`${c.name} @ ${c.version ?? 'latest'}`, async () => {
      const meta = JSON.parse(fs.readFileSync(path.join(c.expectedDir, 'table_version_metadata.json'), 'utf8'));
      const snap = await openDeltaTable(path.join(CORPUS, 'dat', c.name, 'delta'), { connection: con }).snapshot(
        c.version === undefined ? {} : { version: c.version },
      );
      expect(snap.version).toBe(meta.version);
      expect(snap.protocol.minReaderVersion).toBe(meta.min_reader_version);
      expect(snap.protocol.minWriterVersion).toBe(meta.min_writer_version);
      expect(snap.configuration).toEqual(meta.properties);
      const ours = await snap.scanSql({ connection: con });
      const content = path.join(c.expectedDir, 'table_content');
      const files = fs.readdirSync(content).filter((f) => f.endsWith('.parquet'));
      const oursCount = Number((await rows(con, `SELECT count(*) AS n FROM (${ours})`))[0]?.n);
      if (files.length === 0) {
        expect(oursCount).toBe(0);
        return;
      }
      const expectedSql = `SELECT * FROM read_parquet('${content}/*.parquet')`;
      const types = async (sql: string) =>
        new Map((await rows(con, `SELECT column_name AS n, column_type AS t FROM (DESCRIBE ${sql})`)).map((r) => [String(r.n), String(r.t)]));
      const ourTypes = await types(ours);
      const expTypes = await types(expectedSql);
      expect([...ourTypes.keys()].sort()).toEqual([...expTypes.keys()].sort());
      // Compare as text; expected files store timestamps as INT96 (naive UTC), ours are TIMESTAMPTZ.
      const norm = (name: string, type: string) => {
        const q = `"${name.replaceAll('"', '""')}"`;
        if (type === 'TIMESTAMP WITH TIME ZONE') return `strftime(timezone('UTC', ${q}), '%Y-%m-%d %H:%M:%S.%f') AS ${q}`;
        if (type === 'TIMESTAMP') return `strftime(${q}, '%Y-%m-%d %H:%M:%S.%f') AS ${q}`;
        return `CAST(${q} AS VARCHAR) AS ${q}`;
      };
      const names = [...expTypes.keys()].sort();
      const a = `SELECT ${names.map((n) => norm(n, ourTypes.get(n) as string)).join(', ')} FROM (${ours})`;
      const b = `SELECT ${names.map((n) => norm(n, expTypes.get(n) as string)).join(', ')} FROM (${expectedSql})`;
      const expCount = Number((await rows(con, `SELECT count(*) AS n FROM (${expectedSql})`))[0]?.n);
      expect(oursCount).toBe(expCount);
      expect(await rows(con, `(${a}) EXCEPT ALL (${b})`)).toEqual([]);
      expect(await rows(con, `(${b}) EXCEPT ALL (${a})`)).toEqual([]);
    });
  }
});

// Direction (b), Weir's side: reads every table delta-rs and Spark wrote (and the interleaved one) at
// each recorded version, by version and by a timestamp just after that commit, and compares the rows
// with what the writing peer itself read back. Exits 1 on any difference.
// Usage: npx tsx tests/interop/delta/weir-read.ts <peer-dir>
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDeltaTable, type Snapshot } from '@weir/delta';
import { type ColumnKind, canonicalSelect, sortedRows } from './canonical.ts';

interface PeerExpected {
  columns: ColumnKind[];
  versions: { version: number; after_ms?: number; rows: (string | null)[][] }[];
  checkpoints?: number[];
}

const peerDir = process.argv[2];
if (!peerDir) throw new Error('usage: weir-read.ts <peer-dir>');

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run(`SET TimeZone = 'UTC'`);
const failures: string[] = [];

function check(ok: boolean, what: string): void {
  console.log(`${ok ? '  ok   ' : '  FAIL '}${what}`);
  if (!ok) failures.push(what);
}

async function rowsOf(snap: Snapshot, columns: ColumnKind[]): Promise<(string | null)[][]> {
  const reader = await connection.runAndReadAll(canonicalSelect(await snap.scanSql({ connection }), columns));
  return reader.getRowsJS().map((r) => r.map((v) => (v === null ? null : String(v))));
}

function compare(columns: ColumnKind[], got: (string | null)[][], want: (string | null)[][], what: string): void {
  const g = sortedRows(columns, got);
  const w = sortedRows(columns, want);
  const gs = new Set(g);
  const ws = new Set(w);
  const same = g.length === w.length && g.every((r, i) => r === w[i]);
  check(
    same,
    same
      ? `${what}: ${g.length} rows identical`
      : `${what}: got ${g.length} rows, want ${w.length}; missing e.g. ${w.filter((r) => !gs.has(r)).slice(0, 3)}; unexpected e.g. ${g.filter((r) => !ws.has(r)).slice(0, 3)}`,
  );
}

const files = fs.readdirSync(peerDir).filter((f) => f.endsWith('.expected.json'));
check(files.length >= 3, `found ${files.length} peer-written tables`);
for (const file of files.sort()) {
  const name = file.slice(0, -'.expected.json'.length);
  const expected = JSON.parse(fs.readFileSync(path.join(peerDir, file), 'utf8')) as PeerExpected;
  const table = openDeltaTable(path.join(peerDir, name), { connection });
  const last = expected.versions.at(-1);
  if (!last) throw new Error(`${file} records no versions`);
  console.log(`(b) table ${name}: ${expected.versions.length} recorded versions, checkpoints ${JSON.stringify(expected.checkpoints ?? [])}`);

  const latest = await table.snapshot();
  check(latest.version === last.version, `${name}: Weir opens the latest version ${latest.version} (peer: ${last.version})`);
  compare(expected.columns, await rowsOf(latest, expected.columns), last.rows, `${name}@latest`);

  for (const v of expected.versions) {
    const byVersion = await table.snapshot({ version: v.version });
    compare(expected.columns, await rowsOf(byVersion, expected.columns), v.rows, `${name}@v${v.version}`);
    if (v.after_ms !== undefined) {
      const byTime = await table.snapshot({ timestamp: v.after_ms });
      check(byTime.version === v.version, `${name}: timestamp ${new Date(v.after_ms).toISOString()} resolves to v${byTime.version} (want v${v.version})`);
    }
  }
  const history = await table.history();
  check(
    history.map((h) => h.version).join() === Array.from({ length: last.version + 1 }, (_, i) => last.version - i).join(),
    `${name}: Weir's history lists versions ${last.version}..0`,
  );
}

instance.closeSync();
console.log(`weir-read: ${failures.length} failure(s)`);
process.exitCode = failures.length > 0 ? 1 : 0;

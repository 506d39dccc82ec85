// One cold snapshot open in a fresh process, for bench.ts: opens <warm-up-table> first (loading
// DuckDB's Parquet reader), then times opening the latest snapshot of <table> and prints milliseconds.
// Usage: npx tsx bench/delta/open-once.ts <warm-up-table> <table>
import { openDeltaTable } from '@weir/delta';

const [warmUp, table] = process.argv.slice(2);
if (!warmUp || !table) throw new Error('usage: open-once.ts <warm-up-table> <table>');
await openDeltaTable(warmUp).snapshot();
const t0 = performance.now();
const snap = await openDeltaTable(table).snapshot();
console.log(JSON.stringify({ ms: performance.now() - t0, version: snap.version }));

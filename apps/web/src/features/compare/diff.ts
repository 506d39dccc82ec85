import type { Run } from '../runs/types.ts';

/** One row of the compare table: a param or metric key and each run's value (undefined when not logged). */
export interface DiffRow {
  kind: 'param' | 'metric';
  key: string;
  values: (string | number | undefined)[];
  identical: boolean;
}

/** Builds the params/metrics comparison of runs; a row is identical when every run logged the same value. */
export function diffRuns(runs: readonly Run[]): DiffRow[] {
  const rows: DiffRow[] = [];
  const paramKeys = [...new Set(runs.flatMap((r) => (r.data.params ?? []).map((p) => p.key)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
  for (const key of paramKeys) {
    const values = runs.map((r) => r.data.params?.find((p) => p.key === key)?.value);
    rows.push({ kind: 'param', key, values, identical: values.every((v) => v === values[0]) });
  }
  for (const key of metricKeys) {
    const values = runs.map((r) => r.data.metrics?.find((m) => m.key === key)?.value);
    rows.push({ kind: 'metric', key, values, identical: values.every((v) => v === values[0]) });
  }
  return rows;
}

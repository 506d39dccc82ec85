/** A run as MLflow's REST API returns it. */
export interface Run {
  info: {
    run_id: string;
    run_name?: string;
    experiment_id: string;
    status?: string;
    start_time?: number;
    end_time?: number;
    lifecycle_stage?: string;
    artifact_uri?: string;
    user_id?: string;
  };
  data: {
    metrics?: { key: string; value: number; timestamp: number; step: number }[];
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
  };
  inputs?: {
    dataset_inputs?: {
      tags?: { key: string; value: string }[];
      dataset: { name: string; digest: string; source_type?: string; source?: string; schema?: string; profile?: string };
    }[];
  };
}

/** Where a runs-table column reads its value. */
export type ColumnKind = 'attribute' | 'metric' | 'param' | 'tag';

/** A runs-table column: an attribute, or one metric, param or tag key. */
export interface RunColumn {
  kind: ColumnKind;
  key: string;
}

/** A column's stable id, also used in the URL. */
export const columnId = (c: RunColumn): string => `${c.kind}:${c.key}`;

/** The header text of a column. */
export function columnLabel(c: RunColumn): string {
  if (c.kind === 'attribute') return ATTRIBUTE_LABELS[c.key] ?? c.key;
  return c.key;
}

const ATTRIBUTE_LABELS: Record<string, string> = { run_name: 'Run', start_time: 'Started', status: 'Status', user_id: 'User', duration: 'Duration' };

/** The value a run shows in a column. */
export function cellValue(run: Run, c: RunColumn): string | number | undefined {
  switch (c.kind) {
    case 'attribute':
      if (c.key === 'duration') return run.info.end_time && run.info.start_time ? run.info.end_time - run.info.start_time : undefined;
      return (run.info as unknown as Record<string, string | number | undefined>)[c.key];
    case 'metric':
      return run.data.metrics?.find((m) => m.key === c.key)?.value;
    case 'param':
      return run.data.params?.find((p) => p.key === c.key)?.value;
    case 'tag':
      return run.data.tags?.find((t) => t.key === c.key)?.value;
  }
}

/** The MLflow `order_by` clause that sorts by a column on the server. */
export function orderByClause(c: RunColumn, ascending: boolean): string {
  const dir = ascending ? 'ASC' : 'DESC';
  if (c.kind === 'attribute') return `attributes.${c.key === 'run_name' ? 'run_name' : c.key} ${dir}`;
  const prefix = c.kind === 'metric' ? 'metrics' : c.kind === 'param' ? 'params' : 'tags';
  return `${prefix}.\`${c.key}\` ${dir}`;
}

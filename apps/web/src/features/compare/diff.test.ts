import { describe, expect, it } from 'vitest';
import type { Run } from '../runs/types.ts';
import { diffRuns } from './diff.ts';

const run = (id: string, params: Record<string, string>, metrics: Record<string, number>): Run => ({
  info: { run_id: id, experiment_id: '1' },
  data: {
    params: Object.entries(params).map(([key, value]) => ({ key, value })),
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: 0, step: 0 })),
  },
});

describe('compare diff', () => {
  it('lists params then metrics, each marked identical only when every run has the same value', () => {
    const rows = diffRuns([run('a', { lr: '0.1', bs: '64' }, { loss: 0.5 }), run('b', { lr: '0.01', bs: '64' }, { loss: 0.5, acc: 0.9 })]);
    expect(rows).toEqual([
      { kind: 'param', key: 'bs', values: ['64', '64'], identical: true },
      { kind: 'param', key: 'lr', values: ['0.1', '0.01'], identical: false },
      { kind: 'metric', key: 'acc', values: [undefined, 0.9], identical: false },
      { kind: 'metric', key: 'loss', values: [0.5, 0.5], identical: true },
    ]);
  });
});

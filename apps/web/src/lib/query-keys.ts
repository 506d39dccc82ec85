/** Cache keys for server data; a prefix invalidates everything below it (e.g. after creating an experiment). */
export const queryKeys = {
  session: () => ['session'] as const,
  experiments: () => ['experiments'] as const,
  experiment: (id: string) => ['experiments', id] as const,
  runs: (experimentId: string, filter: string, orderBy: string) => ['runs', experimentId, filter, orderBy] as const,
  run: (runId: string) => ['run', runId] as const,
  artifacts: (runId: string, dir: string) => ['artifacts', runId, dir] as const,
  metricHistory: (runIds: readonly string[], key: string, mode: string) => ['metric-history', key, mode, ...runIds] as const,
  users: () => ['admin', 'users'] as const,
  tokens: () => ['tokens'] as const,
};

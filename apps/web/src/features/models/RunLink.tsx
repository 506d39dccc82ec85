import { type ReactNode, useEffect } from 'react';
import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { ErrorBox, Loading } from '../../shell/ui.tsx';

/** A link to a run's page; the run's experiment is looked up because run pages live under their experiment. */
export function RunLink({ runId, children }: { runId: string; children?: ReactNode }) {
  const q = useQuery(queryKeys.run(runId), () =>
    api().get<{ run: { info: { experiment_id: string; run_name?: string } } }>('/api/2.0/mlflow/runs/get', { run_id: runId }),
  );
  const info = q.data?.run.info;
  if (!info)
    return (
      <span>
        {children ?? runId}
        {q.error ? ' (run not readable)' : ''}
      </span>
    );
  return <Link href={`/experiments/${info.experiment_id}/runs/${runId}`}>{children ?? info.run_name ?? runId}</Link>;
}

/** `/runs/<id>`: finds the run's experiment and moves to the run's page (lineage nodes name runs by id alone). */
export function RunRedirect({ runId }: { runId: string }) {
  const q = useQuery(queryKeys.run(runId), () =>
    api().get<{ run: { info: { experiment_id: string; run_name?: string } } }>('/api/2.0/mlflow/runs/get', { run_id: runId }),
  );
  const experimentId = q.data?.run.info.experiment_id;
  useEffect(() => {
    if (experimentId) navigate(`/experiments/${experimentId}/runs/${runId}`, true);
  }, [experimentId, runId]);
  if (q.error) return <ErrorBox error={q.error} title="Could not open the run" />;
  return <Loading what="run" />;
}

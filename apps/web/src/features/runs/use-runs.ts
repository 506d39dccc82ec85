import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api.ts';
import type { Run } from './types.ts';

/** Rows fetched per request: enough to fill several screens, small enough to answer fast. */
export const PAGE_SIZE = 500;

/** Runs of one experiment loaded page by page from runs/search, with the server doing filtering and sorting. */
export function useRuns(experimentId: string, filter: string, orderBy: string) {
  const [runs, setRuns] = useState<Run[]>([]);
  const [nextToken, setNextToken] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const inFlight = useRef(false);

  const fetchPage = useCallback(
    async (token: string | undefined, gen: number) => {
      inFlight.current = true;
      setLoading(true);
      try {
        const page = await api().post<{ runs?: Run[]; next_page_token?: string }>('/api/2.0/mlflow/runs/search', {
          experiment_ids: [experimentId],
          filter,
          max_results: PAGE_SIZE,
          order_by: orderBy ? [orderBy] : [],
          ...(token ? { page_token: token } : {}),
        });
        if (gen !== generation.current) return;
        setRuns((prev) => (token ? [...prev, ...(page.runs ?? [])] : (page.runs ?? [])));
        setNextToken(page.next_page_token || undefined);
        setError(undefined);
      } catch (err) {
        if (gen === generation.current) setError(err);
      } finally {
        if (gen === generation.current) {
          inFlight.current = false;
          setLoading(false);
        }
      }
    },
    [experimentId, filter, orderBy],
  );

  useEffect(() => {
    generation.current++;
    setRuns([]);
    setNextToken(undefined);
    void fetchPage(undefined, generation.current);
  }, [fetchPage]);

  const loadMore = useCallback(() => {
    if (!nextToken || inFlight.current) return;
    void fetchPage(nextToken, generation.current);
  }, [nextToken, fetchPage]);

  const reload = useCallback(() => {
    generation.current++;
    void fetchPage(undefined, generation.current);
  }, [fetchPage]);

  return { runs, hasMore: nextToken !== undefined, loadMore, loading, error, reload };
}

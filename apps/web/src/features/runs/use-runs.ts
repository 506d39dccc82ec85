import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api.ts';
import type { Run } from './types.ts';

/** Rows fetched per request: enough to fill several screens, small enough to answer fast. */
export const PAGE_SIZE = 500;
/**
 * Rows of the first request after a new filter or sort: a screenful and then some. Each run carries every metric
 * (50 keys is 2 MB of JSON for 500 runs), so the table shows sooner from a small first answer; the rest of the first
 * PAGE_SIZE rows is fetched a moment later, unless scrolling asked for it first.
 */
export const FIRST_PAGE_SIZE = 100;
/**
 * How long the table stays as first shown before the rest of the first page is fetched: a sort or filter pressed right
 * away then waits on no prefetch (the server answers requests one after the other).
 */
const PREFETCH_DELAY_MS = 1000;

/** Runs of one experiment loaded page by page from runs/search, with the server doing filtering and sorting. */
export function useRuns(experimentId: string, filter: string, orderBy: string) {
  const [runs, setRuns] = useState<Run[]>([]);
  const [nextToken, setNextToken] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const inFlight = useRef(false);
  const next = useRef<string | undefined>(undefined);
  const prefetch = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  /** The scheduled fetch of the rest of the first page, while it waits. */
  const pending = useRef<(() => void) | undefined>(undefined);

  const fetchPage = useCallback(
    async (token: string | undefined, gen: number, size: number): Promise<void> => {
      inFlight.current = true;
      setLoading(true);
      try {
        const page = await api().post<{ runs?: Run[]; next_page_token?: string }>('/api/2.0/mlflow/runs/search', {
          experiment_ids: [experimentId],
          filter,
          max_results: size,
          order_by: orderBy ? [orderBy] : [],
          ...(token ? { page_token: token } : {}),
        });
        if (gen !== generation.current) return;
        setRuns((prev) => (token ? [...prev, ...(page.runs ?? [])] : (page.runs ?? [])));
        const following = page.next_page_token || undefined;
        next.current = following;
        setNextToken(following);
        setError(undefined);
        if (!token && following && size < PAGE_SIZE) {
          const fill = () => {
            pending.current = undefined;
            clearTimeout(prefetch.current);
            // Scrolling may have loaded past it meanwhile; a new filter or sort moved the generation.
            if (gen === generation.current && next.current === following && !inFlight.current) void fetchPage(following, gen, PAGE_SIZE - size);
          };
          pending.current = fill;
          prefetch.current = setTimeout(fill, PREFETCH_DELAY_MS);
        }
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
    next.current = undefined;
    pending.current = undefined;
    void fetchPage(undefined, generation.current, FIRST_PAGE_SIZE);
    return () => clearTimeout(prefetch.current);
  }, [fetchPage]);

  const loadMore = useCallback(() => {
    if (!nextToken || inFlight.current) return;
    void fetchPage(nextToken, generation.current, PAGE_SIZE);
  }, [nextToken, fetchPage]);

  /** Fetches the rest of the first page now rather than after the delay: views over the loaded rows (grouping) want it. */
  const completeFirstPage = useCallback(() => pending.current?.(), []);

  const reload = useCallback(() => {
    clearTimeout(prefetch.current);
    pending.current = undefined;
    generation.current++;
    void fetchPage(undefined, generation.current, FIRST_PAGE_SIZE);
  }, [fetchPage]);

  return { runs, hasMore: nextToken !== undefined, loadMore, completeFirstPage, loading, error, reload };
}

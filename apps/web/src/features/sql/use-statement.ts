import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api.ts';
import { fetchChunk, type RunOptions, runStatement, type StatementOutcome } from './statement.ts';

/** What a page sees of the statement it runs. */
export interface StatementState {
  /** 'idle' before the first run; otherwise the server's last reported state, or 'SUBMITTING'. */
  phase: string;
  outcome: StatementOutcome | undefined;
  error: unknown;
  /** Seconds since the statement was submitted, while it runs. */
  running: boolean;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  run(statement: string, options?: Omit<RunOptions, 'signal' | 'onState'>): Promise<void>;
  cancel(): void;
  /** Loads the next chunk of rows, if any (the grid calls it when scrolled near the end). */
  loadMore(): void;
}

/** Runs statements one at a time for a page: a new run cancels the previous one. */
export function useStatement(): StatementState {
  const [phase, setPhase] = useState('idle');
  const [outcome, setOutcome] = useState<StatementOutcome | undefined>();
  const [error, setError] = useState<unknown>();
  const [startedAt, setStartedAt] = useState<number | undefined>();
  const [finishedAt, setFinishedAt] = useState<number | undefined>();
  const controller = useRef<AbortController | undefined>(undefined);
  const loadingChunk = useRef(false);

  useEffect(() => () => controller.current?.abort(), []);

  const run = useCallback(async (statement: string, options: Omit<RunOptions, 'signal' | 'onState'> = {}) => {
    controller.current?.abort();
    const mine = new AbortController();
    controller.current = mine;
    setPhase('SUBMITTING');
    setError(undefined);
    setOutcome(undefined);
    setStartedAt(Date.now());
    setFinishedAt(undefined);
    try {
      const result = await runStatement(api(), statement, {
        ...options,
        signal: mine.signal,
        onState: (state) => {
          if (controller.current === mine) setPhase(state);
        },
      });
      if (controller.current !== mine) return;
      setOutcome(result);
      setPhase('SUCCEEDED');
    } catch (err) {
      if (controller.current !== mine) return;
      setError(err);
      setPhase((err as { errorCode?: string }).errorCode === 'CANCELED' ? 'CANCELED' : 'FAILED');
    } finally {
      if (controller.current === mine) setFinishedAt(Date.now());
    }
  }, []);

  const cancel = useCallback(() => controller.current?.abort(), []);

  const loadMore = useCallback(() => {
    if (!outcome || outcome.nextChunk === undefined || loadingChunk.current) return;
    loadingChunk.current = true;
    const from = outcome;
    fetchChunk(api(), from.statementId, from.nextChunk as number).then(
      (chunk) => {
        loadingChunk.current = false;
        setOutcome((o) => (o === from ? { ...o, rows: [...o.rows, ...(chunk.data_array ?? [])], nextChunk: chunk.next_chunk_index } : o));
      },
      (err: unknown) => {
        loadingChunk.current = false;
        setError(err);
      },
    );
  }, [outcome]);

  const running = phase === 'SUBMITTING' || phase === 'PENDING' || phase === 'RUNNING';
  return { phase, outcome, error, running, startedAt, finishedAt, run, cancel, loadMore };
}

import { useCallback, useEffect, useState } from 'react';

const cache = new Map<string, unknown>();
const listeners = new Set<(prefix: string) => void>();

/** Drops cached answers whose key starts with `prefix` and makes mounted queries on them load again. */
export function invalidate(prefix: readonly unknown[]): void {
  const p = JSON.stringify(prefix).slice(0, -1);
  for (const key of [...cache.keys()]) if (key.startsWith(p)) cache.delete(key);
  for (const listener of listeners) listener(p);
}

/** What a component sees of one server query. */
export interface QueryState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Loads `fetcher` for `key`, shows a cached answer at once, and reloads when the key is invalidated. */
export function useQuery<T>(key: readonly unknown[], fetcher: () => Promise<T>, enabled = true): QueryState<T> {
  const keyText = JSON.stringify(key);
  const [state, setState] = useState<{ key: string; data: T | undefined; error: unknown; loading: boolean }>(() => ({
    key: keyText,
    data: cache.get(keyText) as T | undefined,
    error: undefined,
    loading: enabled,
  }));
  const [generation, setGeneration] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key text stands for the fetcher's inputs
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    setState((s) => ({ key: keyText, data: s.key === keyText ? s.data : (cache.get(keyText) as T | undefined), error: undefined, loading: true }));
    fetcher().then(
      (data) => {
        cache.set(keyText, data);
        if (live) setState({ key: keyText, data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (live) setState({ key: keyText, data: undefined, error, loading: false });
      },
    );
    return () => {
      live = false;
    };
  }, [keyText, generation, enabled]);
  useEffect(() => {
    const listener = (prefix: string) => {
      if (keyText.startsWith(prefix)) setGeneration((g) => g + 1);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [keyText]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const current = state.key === keyText ? state : { data: cache.get(keyText) as T | undefined, error: undefined, loading: true };
  return { data: current.data, error: current.error, loading: current.loading, reload };
}

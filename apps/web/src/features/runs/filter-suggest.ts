/** Keys seen on the loaded runs, by the prefix the MLflow filter syntax gives them. */
export interface FilterKeys {
  metrics: readonly string[];
  params: readonly string[];
  tags: readonly string[];
}

/** One autocomplete choice: what to show and the text that replaces the word being typed. */
export interface Suggestion {
  label: string;
  insert: string;
}

const ATTRIBUTES = ['attributes.status', 'attributes.run_name', 'attributes.start_time', 'attributes.end_time', 'attributes.run_id'];

/** MLflow quotes keys that are not plain identifiers with backticks. */
function quoteKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(key) ? key : `\`${key.replace(/`/g, '')}\``;
}

/** The word under the cursor: from the last space, parenthesis or comparison before it. */
export function wordAt(text: string, cursor: number): { start: number; word: string } {
  let start = cursor;
  while (start > 0 && !/[\s()=<>!,]/.test(text[start - 1] as string)) start--;
  return { start, word: text.slice(start, cursor) };
}

/** Suggestions for the word at the cursor: `metrics.`/`params.`/`tags.` keys and run attributes. */
export function suggest(text: string, cursor: number, keys: FilterKeys, limit = 12): Suggestion[] {
  const { word } = wordAt(text, cursor);
  if (!word) return [];
  const lower = word.toLowerCase().replace(/`/g, '');
  // Backticks are how keys are written, not what users type to find them.
  const plain = (c: string) => c.toLowerCase().replace(/`/g, '');
  const all: string[] = [
    ...keys.metrics.map((k) => `metrics.${quoteKey(k)}`),
    ...keys.params.map((k) => `params.${quoteKey(k)}`),
    ...keys.tags.map((k) => `tags.${quoteKey(k)}`),
    ...ATTRIBUTES,
  ];
  const starts = all.filter((c) => plain(c).startsWith(lower) && c !== word);
  // A bare key name (`loss`) also finds `metrics.loss`, so users need not remember the prefix.
  const inside = all.filter((c) => !plain(c).startsWith(lower) && plain(c).split('.').slice(1).join('.').startsWith(lower));
  return [...starts, ...inside].slice(0, limit).map((c) => ({ label: c, insert: c }));
}

/** Replaces the word at the cursor with a suggestion; returns the new text and cursor. */
export function applySuggestion(text: string, cursor: number, suggestion: Suggestion): { text: string; cursor: number } {
  const { start } = wordAt(text, cursor);
  const next = `${text.slice(0, start)}${suggestion.insert} ${text.slice(cursor).replace(/^\s+/, '')}`;
  return { text: next, cursor: start + suggestion.insert.length + 1 };
}

/** Collects the metric, param and tag keys present on a page of runs (MLflow's run shape). */
export function keysOfRuns(runs: readonly RunLike[]): FilterKeys {
  const metrics = new Set<string>();
  const params = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    for (const m of run.data?.metrics ?? []) metrics.add(m.key);
    for (const p of run.data?.params ?? []) params.add(p.key);
    for (const t of run.data?.tags ?? []) if (!t.key.startsWith('mlflow.')) tags.add(t.key);
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return { metrics: sorted(metrics), params: sorted(params), tags: sorted(tags) };
}

/** The part of an MLflow run that key gathering reads. */
export interface RunLike {
  data?: { metrics?: { key: string }[]; params?: { key: string }[]; tags?: { key: string }[] };
}

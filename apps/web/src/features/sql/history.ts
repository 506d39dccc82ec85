const KEY = 'weir.sql.history';
const MAX = 50;

/** One statement the user ran, newest first in the history. */
export interface HistoryEntry {
  statement: string;
  at: number;
  state: string;
  rows?: number;
  ms?: number;
}

/** Adds an entry on top, dropping an older copy of the same text and keeping the newest `MAX`. */
export function addToHistory(list: readonly HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  return [entry, ...list.filter((e) => e.statement !== entry.statement)].slice(0, MAX);
}

/** The history kept in this browser (localStorage): statements can name private tables, so it never leaves the browser. */
export function loadHistory(): HistoryEntry[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as HistoryEntry[]).filter((e) => typeof e?.statement === 'string') : [];
  } catch {
    return [];
  }
}

/** Saves the history. */
export function saveHistory(list: readonly HistoryEntry[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // A full or disabled storage only loses the history, never the query.
  }
}

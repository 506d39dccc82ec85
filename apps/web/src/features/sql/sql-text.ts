/** A piece of SQL text with the class it is highlighted with. */
export interface SqlToken {
  text: string;
  kind: 'keyword' | 'string' | 'number' | 'comment' | 'identifier' | 'other';
}

const KEYWORDS = new Set(
  (
    'select from where group by order having limit offset join left right inner outer full cross on using as and or not in is null ' +
    'like ilike between case when then else end distinct union all except intersect with insert into values update set delete merge ' +
    'matched create table schema catalog volume view drop alter if exists replace describe history detail show tables schemas catalogs ' +
    'volumes asc desc true false cast version timestamp of partitioned tblproperties comment copy format_options files pattern over ' +
    'partition rows range unbounded preceding following current row count sum avg min max'
  ).split(' '),
);

/** Splits SQL into tokens for highlighting; concatenating the tokens gives back the text exactly. */
export function tokenizeSql(text: string): SqlToken[] {
  const out: SqlToken[] = [];
  const re =
    /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^']|'')*'?)|(`(?:[^`]|``)*`?|"(?:[^"]|"")*"?)|(\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)|(\s+|[^\sA-Za-z0-9_'"`-]+|-|\d+\w*)/gy;
  let m: RegExpExecArray | null = re.exec(text);
  while (m) {
    const [whole, comment, str, quoted, num, word] = m;
    if (comment) out.push({ text: whole, kind: 'comment' });
    else if (str) out.push({ text: whole, kind: 'string' });
    else if (quoted) out.push({ text: whole, kind: 'identifier' });
    else if (num) out.push({ text: whole, kind: 'number' });
    else if (word) out.push({ text: whole, kind: KEYWORDS.has(word.toLowerCase()) ? 'keyword' : 'identifier' });
    else out.push({ text: whole, kind: 'other' });
    if (re.lastIndex >= text.length) break;
    m = re.exec(text);
  }
  const covered = out.reduce((n, t) => n + t.text.length, 0);
  if (covered < text.length) out.push({ text: text.slice(covered), kind: 'other' });
  return out;
}

/** The dotted name being typed at `cursor`: its parent parts (`main.sales`) and the partial last part. */
export function nameAtCursor(text: string, cursor: number): { parents: string[]; partial: string; start: number } | null {
  const before = text.slice(0, cursor);
  const m = /((?:[A-Za-z_][A-Za-z0-9_]*\.){0,2})([A-Za-z_][A-Za-z0-9_]*)?$/.exec(before);
  if (!m) return null;
  const parents = (m[1] ?? '').split('.').filter(Boolean);
  const partial = m[2] ?? '';
  if (parents.length === 0 && partial.length === 0) return null;
  // Inside a string or comment there is nothing to complete.
  const last = tokenizeSql(before).at(-1);
  if (last && (last.kind === 'string' || last.kind === 'comment')) return null;
  return { parents, partial, start: cursor - partial.length };
}

/** Completion candidates: names under `parents` that start with `partial` (case-insensitive), closest first. */
export function completeName(names: readonly string[], partial: string, limit = 8): string[] {
  const p = partial.toLowerCase();
  return names
    .filter((n) => n.toLowerCase().startsWith(p) && n !== partial)
    .sort((a, b) => a.length - b.length || a.localeCompare(b))
    .slice(0, limit);
}

/** Splits a result into the rows to render for a scroll position (virtualized grid). */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 8): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last };
}

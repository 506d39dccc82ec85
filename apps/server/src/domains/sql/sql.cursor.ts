import { maskSql, sqlInvalid } from './sql.text.ts';

/** A hand parser over one statement: keywords are matched on the masked text, values read from the original. */
export class SqlCursor {
  readonly sql: string;
  readonly masked: string;
  pos = 0;

  constructor(sql: string) {
    this.sql = sql;
    this.masked = maskSql(sql);
  }

  /** Skips blanks (comments are blank in the masked text). */
  skip(): void {
    while (this.pos < this.masked.length && /\s/.test(this.masked[this.pos] as string)) this.pos++;
  }

  /** The next bare word, upper-cased ('' when none). */
  peekWord(): string {
    this.skip();
    return /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.masked.slice(this.pos))?.[0].toUpperCase() ?? '';
  }

  /** Consumes the words when they come next (each as a whole word), else leaves the position alone. */
  keyword(...words: string[]): boolean {
    const start = this.pos;
    for (const w of words) {
      if (this.peekWord() !== w) {
        this.pos = start;
        return false;
      }
      this.pos += w.length;
    }
    return true;
  }

  /** Like keyword, but a missing word is an error that says what was expected. */
  expect(...words: string[]): void {
    if (!this.keyword(...words)) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected ${words.join(' ')} near '${this.sql.slice(this.pos, this.pos + 40).trim()}'.`);
  }

  /** Consumes one punctuation character when it comes next. */
  punct(ch: string): boolean {
    this.skip();
    if (this.masked[this.pos] === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Reads a dotted name of plain or double-quoted parts. */
  name(): string[] {
    this.skip();
    const parts: string[] = [];
    for (;;) {
      this.skip();
      if (this.sql[this.pos] === '"') {
        const close = this.masked.indexOf('"', this.pos + 1);
        parts.push(this.sql.slice(this.pos + 1, close).replaceAll('""', '"'));
        this.pos = close + 1;
      } else {
        const m = /^[A-Za-z0-9_@-]+/.exec(this.masked.slice(this.pos));
        if (!m) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected a name near '${this.sql.slice(this.pos, this.pos + 40).trim()}'.`);
        parts.push(this.sql.slice(this.pos, this.pos + m[0].length));
        this.pos += m[0].length;
      }
      const save = this.pos;
      this.skip();
      if (this.masked[this.pos] === '.') {
        this.pos++;
        continue;
      }
      this.pos = save;
      return parts;
    }
  }

  /** Reads a single-quoted string literal. */
  string(): string {
    this.skip();
    if (this.sql[this.pos] !== "'") throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected a quoted string near '${this.sql.slice(this.pos, this.pos + 40).trim()}'.`);
    const close = this.masked.indexOf("'", this.pos + 1);
    const value = this.sql.slice(this.pos + 1, close).replaceAll("''", "'");
    this.pos = close + 1;
    return value;
  }

  /** Reads a number. */
  number(): number {
    this.skip();
    const m = /^\d+(\.\d+)?/.exec(this.masked.slice(this.pos));
    if (!m) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected a number near '${this.sql.slice(this.pos, this.pos + 40).trim()}'.`);
    this.pos += m[0].length;
    return Number(m[0]);
  }

  /** Reads a parenthesized group and returns its inner text (original spelling). */
  group(): string {
    this.skip();
    if (this.masked[this.pos] !== '(') throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected '(' near '${this.sql.slice(this.pos, this.pos + 40).trim()}'.`);
    let depth = 0;
    for (let i = this.pos; i < this.masked.length; i++) {
      if (this.masked[i] === '(') depth++;
      else if (this.masked[i] === ')') {
        depth--;
        if (depth === 0) {
          const inner = this.sql.slice(this.pos + 1, i);
          this.pos = i + 1;
          return inner;
        }
      }
    }
    throw sqlInvalid('[PARSE_SYNTAX_ERROR] Unbalanced parentheses.');
  }

  /** The rest of the statement. */
  rest(): string {
    const out = this.sql.slice(this.pos).trim();
    this.pos = this.sql.length;
    return out;
  }

  /** True when only blanks remain. */
  atEnd(): boolean {
    this.skip();
    return this.pos >= this.masked.length;
  }

  /** Refuses trailing text. */
  end(): void {
    if (!this.atEnd()) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Unexpected text '${this.sql.slice(this.pos, this.pos + 60).trim()}'.`);
  }

  /**
   * Position of the first top-level (outside parentheses) occurrence of any keyword sequence at or after `from`,
   * or -1. Used to cut clauses like `WHERE` or `WHEN`.
   */
  findTopLevel(from: number, pattern: RegExp): { index: number; length: number } | undefined {
    let depth = 0;
    for (let i = from; i < this.masked.length; i++) {
      const ch = this.masked[i];
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (depth === 0 && (i === 0 || /[\s)]/.test(this.masked[i - 1] as string))) {
        const m = pattern.exec(this.masked.slice(i));
        if (m && m.index === 0) return { index: i, length: m[0].length };
      }
    }
    return undefined;
  }
}

/** Splits text on commas outside parentheses, brackets and angle brackets (for column lists and assignments). */
export function splitTopLevel(text: string, options: { angles?: boolean } = {}): string[] {
  const separator = ',';
  const masked = maskSql(text);
  const out: string[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < masked.length; i++) {
    const ch = masked[i];
    if (ch === '(' || ch === '[' || (options.angles && ch === '<')) depth++;
    else if (ch === ')' || ch === ']' || (options.angles && ch === '>')) depth--;
    else if (ch === separator && depth === 0) {
      out.push(text.slice(last, i).trim());
      last = i + 1;
    }
  }
  const tail = text.slice(last).trim();
  if (tail) out.push(tail);
  return out;
}

/**
 * MLflow search grammar: filter strings and order_by clauses for runs, experiments,
 * registered models, model versions and logged models, with MLflow's semantics and
 * error message texts.
 *
 * MLflow parses these strings with `sqlparse` and then inspects the token tree
 * (`mlflow/utils/search_utils.py`); comparator checks happen later, in the store.
 * This module reproduces that pipeline without dependencies:
 *
 *   lex (sqlparse lexer rules) -> split statements on `;` -> group (the subset of
 *   sqlparse's grouping passes that can change the outcome of a filter) -> join
 *   `IN` / `NOT IN` / `IS [NOT] NULL` -> per-domain identifier / value rules ->
 *   per-domain comparator rules (the store checks).
 *
 * Everything is iterative and linear in the input length, so hostile input cannot
 * overflow the stack or hang. Any bad input yields a {@link SearchGrammarError}.
 *
 * Known, deliberate approximations of sqlparse (they only affect which 400 message
 * is produced for malformed input, never whether valid input parses):
 * - the keyword table is a subset of sqlparse's; an unknown SQL keyword used as a bare
 *   word is treated as a name;
 * - dollar-quoted literals and a few rarely relevant grouping passes (CASE, WHERE,
 *   typed literals, typecasts) are not modelled;
 * - Python-literal lists support strings, numbers, None/True/False and nested tuples.
 */

/** Kind of entity a clause addresses; `param` is MLflow's `parameter`. */
export type EntityType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

/** Canonical (upper-case) comparator of a clause. */
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

/** One AND-ed clause of a filter; keys are canonical (aliases resolved), values typed (number for numeric entities, list for IN, null for IS [NOT] NULL). */
export interface FilterClause {
  type: EntityType;
  key: string;
  comparator: Comparator;
  value: string | number | string[] | null;
}

/** One order_by term with aliases resolved. */
export interface OrderByClause {
  type: EntityType;
  key: string;
  ascending: boolean;
}

/** Invalid filter or order_by; `message` is MLflow's text, to be returned as 400 INVALID_PARAMETER_VALUE. */
export class SearchGrammarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchGrammarError';
  }
}

// ---------------------------------------------------------------------------------------
// Python-compatible rendering (MLflow interpolates Python reprs into its messages)
// ---------------------------------------------------------------------------------------

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python `repr()` of a str. */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0) ?? 0;
      if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else out += `\\U${cp.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/** Python repr of a set of str (Python's order is hash-dependent; sorted here for stability). */
function pySet(items: readonly string[]): string {
  return `{${[...items].sort().map(pyRepr).join(', ')}}`;
}

/** Python repr of a list of str. */
function pyList(items: readonly string[]): string {
  return `[${items.map(pyRepr).join(', ')}]`;
}

// ---------------------------------------------------------------------------------------
// Lexer (sqlparse.keywords.SQL_REGEX, hand-written so that it cannot backtrack)
// ---------------------------------------------------------------------------------------

type TT =
  | 'ws'
  | 'comment'
  | 'name'
  | 'builtin'
  | 'placeholder'
  | 'kw'
  | 'order'
  | 'dml'
  | 'str'
  | 'sym'
  | 'int'
  | 'float'
  | 'hex'
  | 'punct'
  | 'cmp'
  | 'op'
  | 'wild'
  | 'assign'
  | 'err';

interface Tok {
  readonly g: false;
  tt: TT;
  readonly s: number;
  readonly e: number;
  /** Upper-cased text (sqlparse's `normalized` for keywords). */
  readonly up: string;
}

type GCls = 'paren' | 'brackets' | 'ident' | 'cmp' | 'func' | 'oper' | 'idlist';

interface Grp {
  readonly g: true;
  readonly cls: GCls;
  readonly kids: Node[];
  s: number;
  e: number;
}

type Node = Tok | Grp;

const KEYWORDS = new Set(
  (
    'ALL AND ANY AS AVG BEGIN BETWEEN BY CASCADE CASE CAST CHECK COALESCE COLLATE COLUMN CONSTRAINT COUNT CROSS ' +
    'CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATA DATABASE DEFAULT DISTINCT DO EACH ELSE END ' +
    'ESCAPE EXCEPT EXISTS EXPLAIN FALSE FETCH FIRST FOR FOREIGN FROM FULL FUNCTION GLOBAL GRANT GROUP HAVING IF ' +
    'ILIKE IN INDEX INNER INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT LOCAL LOOP MAX MIN NATURAL NEXT NO ' +
    'NONE NOT NOTNULL NULL NULLIF OF OFFSET ON ONLY OR ORDER OUTER OVER PARTITION PRIMARY REFERENCES RETURN ' +
    'RETURNING RIGHT ROW ROWS SCHEMA SESSION SET SOME SOURCE SUM TABLE THEN TO TRIGGER TRUE TRUNCATE TYPE UNION ' +
    'UNIQUE UNKNOWN USER USING VALUES VERSION VIEW WHEN WHERE WHILE WINDOW'
  ).split(' '),
);
const ORDER_KEYWORDS = new Set(['ASC', 'DESC']);
const DML_KEYWORDS = new Set([
  'SELECT',
  'INSERT',
  'DELETE',
  'UPDATE',
  'UPSERT',
  'REPLACE',
  'MERGE',
  'COMMIT',
  'ROLLBACK',
  'START',
  'DROP',
  'CREATE',
  'ALTER',
  'WITH',
]);
const BUILTINS = new Set(
  (
    'ARRAY BIGINT BINARY BIT BLOB BOOLEAN CHAR CHARACTER DATE DEC DECIMAL FLOAT INT INT8 INTEGER INTERVAL LONG ' +
    'NUMBER NUMERIC REAL ROWID ROWLABEL ROWNUM SERIAL SERIAL8 SIGNED SMALLINT TEXT TIMESTAMP TINYINT UNSIGNED ' +
    'VARCHAR VARCHAR2 VARYING'
  ).split(' '),
);
/** Words lexed as keywords ahead of the name rules (`(CASE|IN|VALUES|USING|FROM|AS)\b`). */
const EARLY_KEYWORDS = new Set(['CASE', 'IN', 'VALUES', 'USING', 'FROM', 'AS']);

const WORD = /[\p{L}\p{N}_]/u;

/** Python `\s` (str.isspace). */
function isPySpace(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    (cp >= 0x1c && cp <= 0x20) ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** sqlparse's `[_A-ZÀ-Ü]` under IGNORECASE (without the underscore when `underscore` is false). */
function isLetterClass(cp: number, underscore: boolean): boolean {
  return (underscore && cp === 0x5f) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0xc0 && cp <= 0xdc) || (cp >= 0xe0 && cp <= 0xfc);
}

function isDigit(cp: number): boolean {
  return cp >= 0x30 && cp <= 0x39;
}

function isHexDigit(cp: number): boolean {
  return isDigit(cp) || (cp >= 0x41 && cp <= 0x46) || (cp >= 0x61 && cp <= 0x66);
}

class Lexer {
  private readonly n: number;
  private readonly lastBlockClose: number;
  readonly toks: Tok[] = [];

  constructor(private readonly src: string) {
    this.n = src.length;
    this.lastBlockClose = src.lastIndexOf('*/');
    this.run();
  }

  private cp(i: number): number {
    return i < this.n ? (this.src.codePointAt(i) ?? -1) : -1;
  }

  private width(i: number): number {
    const c = this.cp(i);
    return c > 0xffff ? 2 : 1;
  }

  private isWordAt(i: number): boolean {
    if (i >= this.n) return false;
    const c = this.cp(i);
    if (c < 0x80) return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
    return WORD.test(String.fromCodePoint(c));
  }

  private prevIsWord(i: number): boolean {
    if (i <= 0) return false;
    let j = i - 1;
    const low = this.src.charCodeAt(j);
    if (low >= 0xdc00 && low <= 0xdfff && j > 0) {
      const high = this.src.charCodeAt(j - 1);
      if (high >= 0xd800 && high <= 0xdbff) j -= 1;
    }
    return this.isWordAt(j);
  }

  /** End (exclusive) of the run of `\w` characters starting at `i`. */
  private wordEnd(i: number): number {
    let j = i;
    while (j < this.n && this.isWordAt(j)) j += this.width(j);
    return j;
  }

  /** End of `[$#\w]*` starting at `i`. */
  private wordEndExt(i: number): number {
    let j = i;
    for (;;) {
      if (j >= this.n) return j;
      const c = this.src[j];
      if (c === '$' || c === '#') j += 1;
      else if (this.isWordAt(j)) j += this.width(j);
      else return j;
    }
  }

  private skipSpaces(i: number): number {
    let j = i;
    while (j < this.n && isPySpace(this.cp(j))) j += this.width(j);
    return j;
  }

  private push(tt: TT, s: number, e: number): void {
    this.toks.push({ g: false, tt, s, e, up: this.src.slice(s, e).toUpperCase() });
  }

  /**
   * Closing index of a quoted literal opened at `i` (sqlparse: `q(qq|\\\\|\\q|[^q])*q`), or -1.
   * Emulates the regex engine's greedy-with-backtracking choice without exponential search.
   */
  private scanQuoted(i: number, q: string, backslash: boolean): number {
    const src = this.src;
    const pairs: number[] = [];
    const escapes: number[] = [];
    const order: boolean[] = []; // true = doubled quote, false = backslash escape
    let j = i + 1;
    while (j < this.n) {
      const c = src[j];
      if (c === q) {
        if (src[j + 1] === q) {
          pairs.push(j);
          order.push(true);
          j += 2;
          continue;
        }
        return j;
      }
      if (backslash && c === '\\' && (src[j + 1] === '\\' || src[j + 1] === q)) {
        escapes.push(j);
        order.push(false);
        j += 2;
        continue;
      }
      j += 1;
    }
    // Reached the end without a closing quote: backtrack to the latest choice point.
    while (order.length > 0) {
      const isPair = order.pop();
      if (isPair) return pairs.pop() ?? -1;
      const at = escapes.pop() ?? -1;
      if (at >= 0 && src[at + 1] === q) return at + 1;
    }
    return -1;
  }

  private run(): void {
    const src = this.src;
    const n = this.n;
    let i = 0;
    while (i < n) {
      const ch = src[i] ?? '';
      const next = src[i + 1] ?? '';
      const cp = this.cp(i);

      // Comments.
      if ((ch === '-' && next === '-') || (ch === '#' && next === ' ')) {
        let j = i + 2;
        while (j < n && src[j] !== '\n' && src[j] !== '\r') j++;
        if (j < n) j += src[j] === '\r' && src[j + 1] === '\n' ? 2 : 1;
        this.push('comment', i, j);
        i = j;
        continue;
      }
      if (ch === '/' && next === '*' && i + 2 <= this.lastBlockClose) {
        const close = src.indexOf('*/', i + 2);
        if (close >= 0) {
          this.push('comment', i, close + 2);
          i = close + 2;
          continue;
        }
      }
      // Whitespace (newlines included).
      if (isPySpace(cp)) {
        const j = this.skipSpaces(i);
        this.push('ws', i, j);
        i = j;
        continue;
      }
      if (ch === ':' && next === '=') {
        this.push('assign', i, i + 2);
        i += 2;
        continue;
      }
      if (ch === ':' && next === ':') {
        this.push('punct', i, i + 2);
        i += 2;
        continue;
      }
      if (ch === '*') {
        this.push('wild', i, i + 1);
        i += 1;
        continue;
      }
      if (ch === '`' || ch === '´') {
        const close = this.scanQuoted(i, ch, false);
        if (close >= 0) {
          this.push('name', i, close + 1);
          i = close + 1;
          continue;
        }
      }
      // Placeholders.
      if (ch === '?') {
        this.push('placeholder', i, i + 1);
        i += 1;
        continue;
      }
      if (ch === '%') {
        if (next === 's') {
          this.push('placeholder', i, i + 2);
          i += 2;
          continue;
        }
        if (next === '(') {
          const we = this.wordEnd(i + 2);
          if (we > i + 2 && src[we] === ')' && src[we + 1] === 's') {
            this.push('placeholder', i, we + 2);
            i = we + 2;
            continue;
          }
        }
      }
      if ((ch === '$' || ch === ':') && !this.prevIsWord(i) && this.isWordAt(i + 1)) {
        const we = this.wordEnd(i + 1);
        this.push('placeholder', i, we);
        i = we;
        continue;
      }
      // Words that start with a letter: early keywords and the name rules.
      if (this.isWordAt(i)) {
        const we = this.wordEnd(i);
        const word = src.slice(i, we).toUpperCase();
        if (EARLY_KEYWORDS.has(word)) {
          this.push('kw', i, we);
          i = we;
          continue;
        }
        if (isLetterClass(cp, false)) {
          const after = this.skipSpaces(we);
          if (src[after] === '.' || (i > 0 && src[i - 1] === '.') || src[we] === '(') {
            this.push('name', i, we);
            i = we;
            continue;
          }
        }
      }
      if ((ch === '@' || ch === '#') && i + 1 < n) {
        const start = ch === '#' && next === '#' ? i + 2 : i + 1;
        if (isLetterClass(this.cp(start), false)) {
          const we = this.wordEnd(start + this.width(start));
          if (we > start + this.width(start)) {
            this.push('name', i, we);
            i = we;
            continue;
          }
        }
      }
      // Numbers.
      if (isDigit(cp) || ((ch === '-' || ch === '.') && (isDigit(this.cp(i + 1)) || (ch === '-' && next === '.')))) {
        const num = this.number(i);
        if (num) {
          this.push(num.tt, i, num.end);
          i = num.end;
          continue;
        }
      }
      // Strings.
      if (ch === "'" || ch === '"') {
        const close = this.scanQuoted(i, ch, true);
        if (close >= 0) {
          this.push(ch === "'" ? 'str' : 'sym', i, close + 1);
          i = close + 1;
          continue;
        }
      }
      // [bracketed names] not preceded by a word character, `]` or `)`.
      if (ch === '[' && !this.prevIsWord(i) && src[i - 1] !== ']' && src[i - 1] !== ')') {
        let j = i + 1;
        while (j < n && src[j] !== ']' && src[j] !== '[') j++;
        if (j > i + 1 && src[j] === ']') {
          this.push('name', i, j + 1);
          i = j + 1;
          continue;
        }
      }
      // Multi-word keywords and word comparison operators.
      if (this.isWordAt(i)) {
        const we = this.wordEnd(i);
        const word = src.slice(i, we).toUpperCase();
        if (word === 'NOT' || word === 'ORDER' || word === 'GROUP') {
          const sp = this.skipSpaces(we);
          if (sp > we) {
            const we2 = this.wordEnd(sp);
            const word2 = src.slice(sp, we2).toUpperCase();
            if (word === 'NOT' && word2 === 'NULL') {
              this.push('kw', i, we2);
              i = we2;
              continue;
            }
            if (word === 'NOT' && (word2 === 'LIKE' || word2 === 'ILIKE' || word2 === 'RLIKE' || word2 === 'REGEXP')) {
              this.push('cmp', i, we2);
              i = we2;
              continue;
            }
            if (word !== 'NOT' && word2 === 'BY') {
              this.push('kw', i, we2);
              i = we2;
              continue;
            }
          }
        }
        if (word === 'LIKE' || word === 'ILIKE' || word === 'RLIKE' || word === 'REGEXP') {
          this.push('cmp', i, we);
          i = we;
          continue;
        }
        // Generic word: `\w[$#\w]*`, then a keyword lookup.
        const end = this.wordEndExt(we);
        const up = src.slice(i, end).toUpperCase();
        const tt: TT = KEYWORDS.has(up) ? 'kw' : ORDER_KEYWORDS.has(up) ? 'order' : DML_KEYWORDS.has(up) ? 'dml' : BUILTINS.has(up) ? 'builtin' : 'name';
        this.push(tt, i, end);
        i = end;
        continue;
      }
      if (';:()[],.'.includes(ch)) {
        this.push('punct', i, i + 1);
        i += 1;
        continue;
      }
      // JSON operators.
      if (ch === '-' && next === '>') {
        const len = src[i + 2] === '>' ? 3 : 2;
        this.push('op', i, i + len);
        i += len;
        continue;
      }
      if (ch === '#' && next === '>') {
        const len = src[i + 2] === '>' ? 3 : 2;
        this.push('op', i, i + len);
        i += len;
        continue;
      }
      if ((ch === '@' && next === '>') || (ch === '<' && next === '@') || (ch === '#' && next === '-')) {
        this.push('op', i, i + 2);
        i += 2;
        continue;
      }
      if (ch === '-') {
        this.push('op', i, i + 1);
        i += 1;
        continue;
      }
      if ('<>=~!'.includes(ch)) {
        let j = i;
        while (j < n && '<>=~!'.includes(src[j] ?? '')) j++;
        this.push('cmp', i, j);
        i = j;
        continue;
      }
      if ('+/@#%^&|'.includes(ch)) {
        let j = i;
        while (j < n && '+/@#%^&|-'.includes(src[j] ?? '')) j++;
        this.push('op', i, j);
        i = j;
        continue;
      }
      const w = this.width(i);
      this.push('err', i, i + w);
      i += w;
    }
  }

  /** sqlparse's hexadecimal / float / integer rules at `i`, or undefined when none matches. */
  private number(i: number): { tt: TT; end: number } | undefined {
    const src = this.src;
    let p = i;
    if (src[p] === '-') p++;
    // -?0x[\dA-F]+
    if (src[p] === '0' && (src[p + 1] === 'x' || src[p + 1] === 'X') && isHexDigit(this.cp(p + 2))) {
      let j = p + 2;
      while (isHexDigit(this.cp(j))) j++;
      return { tt: 'hex', end: j };
    }
    let d = p;
    while (isDigit(this.cp(d))) d++;
    const intDigits = d - p;
    // -?\d+(\.\d+)?E-?\d+
    if (intDigits > 0) {
      const tryExp = (from: number): number => {
        if (src[from] !== 'e' && src[from] !== 'E') return -1;
        let k = from + 1;
        if (src[k] === '-') k++;
        const ds = k;
        while (isDigit(this.cp(k))) k++;
        return k > ds ? k : -1;
      };
      if (src[d] === '.' && isDigit(this.cp(d + 1))) {
        let f = d + 1;
        while (isDigit(this.cp(f))) f++;
        const e1 = tryExp(f);
        if (e1 >= 0) return { tt: 'float', end: e1 };
      }
      const e2 = tryExp(d);
      if (e2 >= 0) return { tt: 'float', end: e2 };
    }
    // (?![_A-ZÀ-Ü])-?(\d+(\.\d*)|\.\d+)(?![_A-ZÀ-Ü])
    if (intDigits > 0 && src[d] === '.') {
      let f = d + 1;
      while (isDigit(this.cp(f))) f++;
      if (!isLetterClass(this.cp(f), true)) return { tt: 'float', end: f };
      if (f > d + 1) return { tt: 'float', end: f - 1 };
      return this.integer(p, d);
    }
    if (intDigits === 0 && src[p] === '.' && isDigit(this.cp(p + 1))) {
      let f = p + 1;
      while (isDigit(this.cp(f))) f++;
      if (!isLetterClass(this.cp(f), true)) return { tt: 'float', end: f };
      if (f > p + 2) return { tt: 'float', end: f - 1 };
      return undefined;
    }
    if (intDigits > 0) return this.integer(p, d);
    return undefined;
  }

  /** `-?\d+(?![_A-ZÀ-Ü])` over the digit run [p, d). */
  private integer(p: number, d: number): { tt: TT; end: number } | undefined {
    if (!isLetterClass(this.cp(d), true)) return { tt: 'int', end: d };
    if (d - p > 1) return { tt: 'int', end: d - 1 };
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Statement splitting and grouping (sqlparse.engine)
// ---------------------------------------------------------------------------------------

function isWs(n: Node): boolean {
  return !n.g && n.tt === 'ws';
}

function isGrp(n: Node | undefined, cls: GCls): n is Grp {
  return n?.g === true && n.cls === cls;
}

function tokIs(n: Node | undefined, a: TT, b?: TT, c?: TT, d?: TT, e?: TT, f?: TT): n is Tok {
  if (n === undefined || n.g) return false;
  const t = n.tt;
  return t === a || t === b || t === c || t === d || t === e || t === f;
}

function mkGroup(cls: GCls, kids: Node[]): Grp {
  const first = kids[0];
  const last = kids[kids.length - 1];
  return { g: true, cls, kids, s: first ? first.s : 0, e: last ? last.e : 0 };
}

/** sqlparse's StatementSplitter: token lists per `;`-terminated statement, whitespace-only ones dropped. */
function splitStatements(src: string, toks: Tok[]): Tok[][] {
  const out: Tok[][] = [];
  let cur: Tok[] = [];
  let level = 0;
  let consumeWs = false;
  for (const t of toks) {
    if (consumeWs && t.tt !== 'ws' && !(t.tt === 'comment' && !src.startsWith('/*', t.s))) {
      out.push(cur);
      cur = [];
      level = 0;
      consumeWs = false;
    }
    if (t.tt === 'punct' && t.up === '(') level += 1;
    else if (t.tt === 'punct' && t.up === ')') level -= 1;
    else if (t.tt === 'kw' && t.up === 'END') level -= 1;
    cur.push(t);
    if (level <= 0 && t.tt === 'punct' && t.up === ';') consumeWs = true;
  }
  if (cur.length > 0 && !cur.every((t) => t.tt === 'ws')) out.push(cur);
  return out;
}

/** sqlparse `_group_matching` for one bracket kind over one token list. */
function groupMatching(list: Node[], cls: GCls, open: string, close: string): Node[] {
  const out: Node[] = [];
  const opens: number[] = [];
  for (const t of list) {
    if (!t.g && t.tt === 'punct' && t.up === open) {
      opens.push(out.length);
      out.push(t);
    } else if (!t.g && t.tt === 'punct' && t.up === close) {
      const at = opens.pop();
      if (at === undefined) {
        out.push(t);
        continue;
      }
      const kids = out.splice(at);
      kids.push(t);
      out.push(mkGroup(cls, kids));
    } else out.push(t);
  }
  return out;
}

/** group_brackets then group_parenthesis (which also descends into square brackets). */
function groupBrackets(list: Node[]): Node[] {
  const top = groupMatching(list, 'brackets', '[', ']');
  const result = groupMatching(top, 'paren', '(', ')');
  const work: Grp[] = result.filter((n): n is Grp => isGrp(n, 'brackets'));
  while (work.length > 0) {
    const g = work.pop();
    if (!g) break;
    const regrouped = groupMatching(g.kids, 'paren', '(', ')');
    g.kids.length = 0;
    for (const k of regrouped) g.kids.push(k);
    for (const k of regrouped) if (isGrp(k, 'brackets')) work.push(k);
  }
  return result;
}

function nextNonWs(list: Node[], from: number): number {
  let i = from;
  while (i < list.length && isWs(list[i] as Node)) i++;
  return i;
}

interface GroupRule {
  cls: GCls;
  match(n: Node): boolean;
  validPrev(n: Node): boolean;
  validNext(n: Node | undefined): boolean;
  /** Whether the group extends over the next token (sqlparse's `post`). */
  takesNext(n: Node | undefined): boolean;
  extend: boolean;
}

/** sqlparse `_group` over the top-level list, including its "previous token" bookkeeping. */
function groupGeneric(list: Node[], rule: GroupRule): Node[] {
  const res: Node[] = [];
  let pidx = -1;
  let prev: Node | undefined;
  let i = 0;
  while (i < list.length) {
    const tok = list[i] as Node;
    if (isWs(tok)) {
      res.push(tok);
      i++;
      continue;
    }
    if (rule.match(tok)) {
      const ni = nextNonWs(list, i + 1);
      const next = list[ni];
      if (prev !== undefined && pidx >= 0 && rule.validPrev(prev) && rule.validNext(next)) {
        const takes = rule.takesNext(next);
        const to = takes ? ni : i;
        const head = res.splice(pidx);
        const tail = list.slice(i, to + 1);
        const first = head[0];
        let grp: Grp;
        if (rule.extend && isGrp(first, rule.cls)) {
          for (const k of head.slice(1)) first.kids.push(k);
          for (const k of tail) first.kids.push(k);
          first.e = (tail[tail.length - 1] as Node).e;
          grp = first;
        } else grp = mkGroup(rule.cls, [...head, ...tail]);
        res.push(grp);
        pidx = res.length - 1;
        prev = takes ? next : grp;
        i = to + 1;
        continue;
      }
    }
    pidx = res.length;
    prev = tok;
    res.push(tok);
    i++;
  }
  return res;
}

function groupFunctions(list: Node[]): Node[] {
  const res: Node[] = [];
  let i = 0;
  while (i < list.length) {
    const t = list[i] as Node;
    if (tokIs(t, 'name')) {
      const ni = nextNonWs(list, i + 1);
      if (isGrp(list[ni], 'paren')) {
        res.push(mkGroup('func', list.slice(i, ni + 1)));
        i = ni + 1;
        continue;
      }
    }
    res.push(t);
    i++;
  }
  return res;
}

const periodRule: GroupRule = {
  cls: 'ident',
  match: (n) => !n.g && ((n.tt === 'punct' && n.up === '.') || (n.tt === 'op' && (n.up === '->' || n.up === '->>'))),
  validPrev: (n) => isGrp(n, 'brackets') || isGrp(n, 'ident') || tokIs(n, 'name', 'sym'),
  validNext: () => true,
  takesNext: (n) => isGrp(n, 'brackets') || isGrp(n, 'func') || tokIs(n, 'name', 'sym', 'wild', 'str'),
  extend: true,
};

function groupIdentifiers(list: Node[]): Node[] {
  return list.map((n) => (tokIs(n, 'name', 'sym') ? mkGroup('ident', [n]) : n));
}

function groupOrder(list: Node[]): Node[] {
  const res: Node[] = [];
  for (const t of list) {
    if (tokIs(t, 'order')) {
      let p = res.length - 1;
      while (p >= 0 && isWs(res[p] as Node)) p--;
      const prev = res[p];
      if (p >= 0 && (isGrp(prev, 'ident') || tokIs(prev, 'int', 'float', 'hex'))) {
        const kids = res.splice(p);
        kids.push(t);
        res.push(mkGroup('ident', kids));
        continue;
      }
    }
    res.push(t);
  }
  return res;
}

function operandOk(n: Node | undefined): boolean {
  return tokIs(n, 'int', 'float', 'str', 'sym', 'name', 'placeholder');
}

const operatorRule: GroupRule = {
  cls: 'oper',
  match: (n) => tokIs(n, 'op', 'wild'),
  validPrev: (n) => valid(n),
  validNext: (n) => valid(n),
  takesNext: () => true,
  extend: false,
};

function valid(n: Node | undefined): boolean {
  return (
    isGrp(n, 'brackets') ||
    isGrp(n, 'paren') ||
    isGrp(n, 'func') ||
    isGrp(n, 'ident') ||
    isGrp(n, 'oper') ||
    operandOk(n) ||
    (tokIs(n, 'kw') && ['CURRENT_DATE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP'].includes(n.up))
  );
}

function comparisonOperand(n: Node | undefined): boolean {
  return isGrp(n, 'paren') || isGrp(n, 'func') || isGrp(n, 'ident') || isGrp(n, 'oper') || operandOk(n) || (tokIs(n, 'kw') && n.up === 'NULL');
}

const comparisonRule: GroupRule = {
  cls: 'cmp',
  match: (n) => tokIs(n, 'cmp'),
  validPrev: comparisonOperand,
  validNext: comparisonOperand,
  takesNext: () => true,
  extend: false,
};

function groupAliased(list: Node[]): Node[] {
  const res: Node[] = [];
  let i = 0;
  while (i < list.length) {
    const t = list[i] as Node;
    const aliasable = isGrp(t, 'paren') || isGrp(t, 'func') || isGrp(t, 'ident') || isGrp(t, 'oper') || isGrp(t, 'cmp') || tokIs(t, 'int', 'float', 'hex');
    if (aliasable) {
      const ni = nextNonWs(list, i + 1);
      const next = list[ni];
      if (isGrp(next, 'ident')) {
        if (isGrp(t, 'ident')) {
          for (const k of list.slice(i + 1, ni + 1)) t.kids.push(k);
          t.e = next.e;
          res.push(t);
        } else res.push(mkGroup('ident', list.slice(i, ni + 1)));
        i = ni + 1;
        continue;
      }
    }
    res.push(t);
    i++;
  }
  return res;
}

const identifierListRule: GroupRule = {
  cls: 'idlist',
  match: (n) => tokIs(n, 'punct') && n.up === ',',
  validPrev: (n) => listItem(n),
  validNext: (n) => listItem(n),
  takesNext: () => true,
  extend: true,
};

function listItem(n: Node | undefined): boolean {
  return isGrp(n, 'func') || isGrp(n, 'ident') || isGrp(n, 'cmp') || isGrp(n, 'idlist') || isGrp(n, 'oper') || operandOk(n) || tokIs(n, 'kw', 'wild');
}

/** The grouping passes of `sqlparse.engine.grouping.group` that matter here, in sqlparse's order. */
function groupStatement(toks: Tok[]): Node[] {
  let list: Node[] = groupBrackets(toks);
  list = groupFunctions(list);
  list = groupGeneric(list, periodRule);
  list = groupIdentifiers(list);
  list = groupOrder(list);
  list = groupGeneric(list, operatorRule);
  list = groupGeneric(list, comparisonRule);
  list = groupAliased(list);
  list = groupGeneric(list, identifierListRule);
  return list;
}

// ---------------------------------------------------------------------------------------
// Python literal lists (`ast.literal_eval` of an IN list)
// ---------------------------------------------------------------------------------------

type PyVal = { t: 'str'; v: string } | { t: 'other'; repr: string } | { t: 'tuple'; items: PyVal[] };

class PySyntaxError extends Error {}

function pyValRepr(v: PyVal): string {
  if (v.t === 'str') return pyRepr(v.v);
  if (v.t === 'other') return v.repr;
  const inner = v.items.map(pyValRepr).join(', ');
  return v.items.length === 1 ? `(${inner},)` : `(${inner})`;
}

/** A subset of Python's expression grammar: tuples, strings, numbers, None/True/False. */
class PyLiteral {
  private i = 0;
  private depth = 0;

  constructor(private readonly s: string) {}

  parse(): PyVal {
    this.skip();
    const v = this.expr();
    this.skip();
    if (this.i < this.s.length) throw new PySyntaxError();
    return v;
  }

  private skip(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') this.i++;
      else if (c === '\\' && (s[this.i + 1] === '\n' || s[this.i + 1] === '\r')) this.i += 2;
      else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else break;
    }
  }

  private expr(): PyVal {
    const s = this.s;
    const c = s[this.i];
    if (c === '(') {
      if (++this.depth > 200) throw new PySyntaxError();
      this.i++;
      this.skip();
      if (s[this.i] === ')') {
        this.i++;
        this.depth--;
        return { t: 'tuple', items: [] };
      }
      const items: PyVal[] = [this.exprSkip()];
      let comma = false;
      while (s[this.i] === ',') {
        comma = true;
        this.i++;
        this.skip();
        if (s[this.i] === ')') break;
        items.push(this.exprSkip());
      }
      if (s[this.i] !== ')') throw new PySyntaxError();
      this.i++;
      this.depth--;
      const only = items[0];
      return comma || only === undefined ? { t: 'tuple', items } : only;
    }
    if (c === '-' || c === '+') {
      this.i++;
      this.skip();
      const v = this.number();
      return { t: 'other', repr: c === '-' && v !== '0' ? `-${v}` : v };
    }
    if (c !== undefined && /[0-9.]/.test(c)) return { t: 'other', repr: this.number() };
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i, this.i + 64));
    if (m) {
      const word = m[0];
      if (word === 'None' || word === 'True' || word === 'False') {
        this.i += word.length;
        return { t: 'other', repr: word };
      }
      const prefix = word.toLowerCase();
      const quote = s[this.i + word.length];
      if ((prefix === 'u' || prefix === 'r') && (quote === "'" || quote === '"')) {
        this.i += word.length;
        return this.strings(prefix === 'r');
      }
      throw new PySyntaxError();
    }
    if (c === "'" || c === '"') return this.strings(false);
    throw new PySyntaxError();
  }

  private exprSkip(): PyVal {
    const v = this.expr();
    this.skip();
    return v;
  }

  private number(): string {
    const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/.exec(this.s.slice(this.i, this.i + 400));
    if (!m || m[0] === '' || m[0] === '.') throw new PySyntaxError();
    const text = m[0];
    this.i += text.length;
    if (/[jJ]/.test(this.s[this.i] ?? '')) throw new PySyntaxError();
    const clean = text.replaceAll('_', '');
    if (/^0[xXoObB]/.test(clean)) return BigInt(clean).toString();
    if (/^\d+$/.test(clean)) {
      if (clean.length > 1 && clean.startsWith('0') && /[1-9]/.test(clean)) throw new PySyntaxError();
      return BigInt(clean).toString();
    }
    const f = Number(clean);
    if (!Number.isFinite(f)) return f > 0 ? 'inf' : '-inf';
    return Number.isInteger(f) && Math.abs(f) < 1e16 ? `${f}.0` : String(f);
  }

  /** One or more adjacent string literals (implicit concatenation). */
  private strings(raw: boolean): PyVal {
    let v = this.string(raw);
    for (;;) {
      const save = this.i;
      this.skip();
      const c = this.s[this.i];
      if (c === "'" || c === '"') v += this.string(false);
      else if ((c === 'r' || c === 'R' || c === 'u' || c === 'U') && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '"')) {
        this.i++;
        v += this.string(c === 'r' || c === 'R');
      } else {
        this.i = save;
        return { t: 'str', v };
      }
    }
  }

  private string(raw: boolean): string {
    const s = this.s;
    const q = s[this.i] as string;
    const triple = s[this.i + 1] === q && s[this.i + 2] === q;
    this.i += triple ? 3 : 1;
    let out = '';
    for (;;) {
      if (this.i >= s.length) throw new PySyntaxError();
      const c = s[this.i] as string;
      if (c === q && (!triple || (s[this.i + 1] === q && s[this.i + 2] === q))) {
        this.i += triple ? 3 : 1;
        return out;
      }
      if (!triple && (c === '\n' || c === '\r')) throw new PySyntaxError();
      if (c === '\\') {
        const e = s[this.i + 1];
        if (e === undefined) throw new PySyntaxError();
        if (raw) {
          out += c + e;
          this.i += 2;
          continue;
        }
        this.i += 2;
        out += this.escape(e);
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private escape(e: string): string {
    const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '' };
    const hit = simple[e];
    if (hit !== undefined) return hit;
    const s = this.s;
    if (e === '\r') {
      if (s[this.i] === '\n') this.i++;
      return '';
    }
    if (e >= '0' && e <= '7') {
      let digits = e;
      while (digits.length < 3 && /[0-7]/.test(s[this.i] ?? '')) digits += s[this.i++];
      return String.fromCodePoint(Number.parseInt(digits, 8));
    }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (width > 0) {
      const hex = s.slice(this.i, this.i + width);
      if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) throw new PySyntaxError();
      const cp = Number.parseInt(hex, 16);
      if (cp > 0x10ffff) throw new PySyntaxError();
      this.i += width;
      return String.fromCodePoint(cp);
    }
    if (e === 'N') throw new PySyntaxError();
    return `\\${e}`;
  }
}

const MSG_EMPTY_LIST = 'While parsing a list in the query, expected a non-empty list of string values, but got empty list';
const MSG_ILL_FORMED = 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.';

/** `_parse_list_from_sql_token` + `_check_valid_identifier_list`. */
function parseList(text: string): string[] {
  let parsed: PyVal;
  try {
    parsed = new PyLiteral(text).parse();
  } catch (err) {
    if (err instanceof PySyntaxError) throw new SearchGrammarError(MSG_ILL_FORMED);
    throw err;
  }
  const tuple: PyVal = parsed.t === 'tuple' ? parsed : { t: 'tuple', items: [parsed] };
  if (tuple.items.length === 0) throw new SearchGrammarError(MSG_EMPTY_LIST);
  const strings: string[] = [];
  for (const item of tuple.items) {
    if (item.t !== 'str') {
      throw new SearchGrammarError(
        `While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${pyValRepr(tuple)}`,
      );
    }
    strings.push(item.v);
  }
  return strings;
}

/** Python `str.islower()`. */
function pyIsLower(s: string): boolean {
  return /[\p{Ll}]/u.test(s) && !/[\p{Lu}\p{Lt}]/u.test(s);
}

/** `_parse_run_ids`: MLflow keeps only list items that are lower-case (run ids are). */
function parseRunIds(text: string): string[] {
  return parseList(text).filter(pyIsLower);
}

// ---------------------------------------------------------------------------------------
// Shared filter pipeline
// ---------------------------------------------------------------------------------------

interface Cmp {
  left: Node;
  op: string;
  /** Undefined for the two-token `IS [NOT] NULL` form. */
  right: Node | undefined;
  /** Number of non-whitespace tokens (MLflow's `len(stripped_comparison)`). */
  size: number;
}

interface RawClause {
  type: string;
  key: string;
  comparator: string;
  value: RawValue;
}

type RawValue = { k: 'str'; v: string } | { k: 'num'; v: string } | { k: 'list'; v: string[] } | { k: 'null' };

class Source {
  constructor(readonly src: string) {}

  text(n: Node): string {
    return this.src.slice(n.s, n.e);
  }
}

/** `sqlparse.parse` + single-statement checks of `parse_search_filter`; returns the statement's grouped tokens. */
function parseStatement(filter: string): { ctx: Source; tokens: Node[] } {
  const lexer = new Lexer(filter);
  const statements = splitStatements(filter, lexer.toks);
  if (statements.length === 0) throw new SearchGrammarError(`Invalid filter '${filter}'. Could not be parsed.`);
  if (statements.length > 1) {
    throw new SearchGrammarError(`Search filter contained multiple expression ${pyRepr(filter)}. Provide AND-ed expression list.`);
  }
  return { ctx: new Source(filter), tokens: groupStatement(statements[0] as Tok[]) };
}

function isKw(n: Node | undefined, word: string): boolean {
  return tokIs(n, 'kw') && n.up.replace(/\s+/g, ' ') === word;
}

/** `_join_in_comparison_tokens` (plus MLflow 3.x's `IS NULL` / `IS NOT NULL` forms); whitespace is dropped. */
function joinComparisons(tokens: Node[], ctx: Source): (Node | Cmp)[] {
  const list = tokens.filter((t) => !isWs(t));
  const out: (Node | Cmp)[] = [];
  const n = list.length;
  let i = 0;
  while (i < n) {
    const first = list[i] as Node;
    if (n - i < 3) {
      for (const t of list.slice(i)) out.push(t);
      break;
    }
    if (!isGrp(first, 'ident')) {
      out.push(first);
      i++;
      continue;
    }
    const second = list[i + 1] as Node;
    const third = list[i + 2] as Node;
    if (isKw(second, 'IN') && isGrp(third, 'paren')) {
      out.push({ left: first, op: ctx.text(second), right: third, size: 3 });
      i += 3;
      continue;
    }
    if (isKw(second, 'IS') && (isKw(third, 'NULL') || isKw(third, 'NOT NULL'))) {
      out.push({ left: first, op: isKw(third, 'NULL') ? 'IS NULL' : 'IS NOT NULL', right: undefined, size: 2 });
      i += 3;
      continue;
    }
    const fourth = list[i + 3];
    if (fourth === undefined) {
      out.push(first, second, third);
      break;
    }
    if (isKw(second, 'NOT') && isKw(third, 'IN') && isGrp(fourth, 'paren')) {
      out.push({ left: first, op: 'NOT IN', right: fourth, size: 3 });
      i += 4;
      continue;
    }
    out.push(first, second, third, fourth);
    i += 4;
  }
  return out;
}

function isCmp(x: Node | Cmp): x is Cmp {
  return 'op' in x;
}

/** `_process_statement`: every top-level token must be a comparison or AND. */
function comparisons(filter: string, quoteInvalid: boolean): { ctx: Source; cmps: Cmp[] } {
  const { ctx, tokens } = parseStatement(filter);
  const joined = joinComparisons(tokens, ctx);
  const cmps: Cmp[] = [];
  const invalid: string[] = [];
  for (const t of joined) {
    if (isCmp(t)) cmps.push(t);
    else if (isGrp(t, 'cmp')) {
      const kids = t.kids.filter((k) => !isWs(k));
      const [left, op, right] = kids;
      if (left && op && right) cmps.push({ left, op: ctx.text(op), right, size: kids.length });
      else invalid.push(ctx.text(t));
    } else if (!isKw(t, 'AND')) invalid.push(ctx.text(t));
  }
  if (invalid.length > 0) {
    const list = quoteInvalid ? invalid.map((v) => `'${v}'`).join(', ') : invalid.join(', ');
    throw new SearchGrammarError(`Invalid clause(s) in filter string: ${list}`);
  }
  return { ctx, cmps };
}

/** `_validate_comparison` (MLflow 3.x accepts the two-token `IS [NOT] NULL` form). */
function validateComparison(c: Cmp, ctx: Source, allowIsNull: boolean): void {
  if (c.size === 2 && allowIsNull) {
    if (!isGrp(c.left, 'ident')) throw new SearchGrammarError(`Invalid comparison clause. Expected 'Identifier' found '${ctx.text(c.left)}'`);
    return;
  }
  if (c.size !== 3) throw new SearchGrammarError(`Invalid comparison clause. Expected 3 tokens found ${c.size}`);
  if (!isGrp(c.left, 'ident')) throw new SearchGrammarError(`Invalid comparison clause. Expected 'Identifier' found '${ctx.text(c.left)}'`);
}

function trimEnds(s: string): string {
  return s.slice(1, -1);
}

function isQuoted(s: string, q: string): boolean {
  return s.length >= 2 && s.startsWith(q) && s.endsWith(q);
}

function trimBackticks(s: string): string {
  return isQuoted(s, '`') ? trimEnds(s) : s;
}

/** `_strip_quotes`. */
function stripQuotes(s: string, expectQuoted: boolean): string {
  if (isQuoted(s, "'") || isQuoted(s, '"')) return trimEnds(s);
  if (expectQuoted) {
    throw new SearchGrammarError(
      `Parameter value is either not quoted or unidentified quote types used for string value ${s}. Use either single or double quotes.`,
    );
  }
  return s;
}

function isStringValue(n: Node): boolean {
  return tokIs(n, 'str') || isGrp(n, 'ident');
}

function isNumericValue(n: Node): boolean {
  return tokIs(n, 'int', 'float');
}

// ---------------------------------------------------------------------------------------
// Base `SearchUtils` rules (runs, logged models)
// ---------------------------------------------------------------------------------------

const METRIC = 'metric';
const PARAMETER = 'parameter';
const TAG = 'tag';
const ATTRIBUTE = 'attribute';
const DATASET = 'dataset';

const IDENTIFIERS = [METRIC, PARAMETER, TAG, ATTRIBUTE, DATASET];
const ENTITY_ALIASES: Record<string, string> = {
  metric: METRIC,
  metrics: METRIC,
  parameter: PARAMETER,
  parameters: PARAMETER,
  param: PARAMETER,
  params: PARAMETER,
  tag: TAG,
  tags: TAG,
  attribute: ATTRIBUTE,
  attr: ATTRIBUTE,
  attributes: ATTRIBUTE,
  run: ATTRIBUTE,
  dataset: DATASET,
  datasets: DATASET,
};
const DATASET_ATTRIBUTES = ['name', 'digest', 'context'];

const RUN_ATTRIBUTES = ['artifact_uri', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id'];
const RUN_SEARCH_KEYS = [...RUN_ATTRIBUTES, 'created', 'Created', 'run name', 'Run name', 'Run Name'];
const RUN_ORDER_BY_KEYS = [...RUN_ATTRIBUTES, 'created', 'Created'];
const RUN_NUMERIC_ATTRIBUTES = ['start_time', 'end_time', 'created', 'Created'];

const LOGGED_MODEL_NUMERIC_ATTRIBUTES = ['creation_timestamp', 'creation_time', 'last_updated_timestamp', 'last_updated_time'];
const LOGGED_MODEL_SEARCH_KEYS = ['name', 'model_id', 'model_type', 'status', 'source_run_id', ...LOGGED_MODEL_NUMERIC_ATTRIBUTES];

const METRIC_COMPARATORS = ['>', '>=', '!=', '=', '<', '<='];
const PARAM_COMPARATORS = ['!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'];
const TAG_COMPARATORS = PARAM_COMPARATORS;
const STRING_ATTRIBUTE_COMPARATORS = ['!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const NUMERIC_ATTRIBUTE_COMPARATORS = METRIC_COMPARATORS;
const DATASET_COMPARATORS = STRING_ATTRIBUTE_COMPARATORS;

function translateKeyAlias(key: string): string {
  if (key === 'created' || key === 'Created') return 'start_time';
  if (key === 'run name' || key === 'Run name' || key === 'Run Name') return 'run_name';
  return key;
}

/** `SearchUtils._valid_entity_type`. */
function validEntityType(entity: string): string {
  const e = trimBackticks(entity);
  const canonical = Object.hasOwn(ENTITY_ALIASES, e) ? ENTITY_ALIASES[e] : undefined;
  if (canonical === undefined) {
    throw new SearchGrammarError(`Invalid entity type '${e}'. Valid values are ${pyList(IDENTIFIERS)}`);
  }
  return canonical;
}

function splitIdentifier(identifier: string): [string | undefined, string] {
  const dot = identifier.indexOf('.');
  return dot < 0 ? [undefined, identifier] : [identifier.slice(0, dot), identifier.slice(dot + 1)];
}

/** `SearchUtils._get_identifier`. */
function baseIdentifier(identifier: string, validAttributes: readonly string[]): { type: string; key: string } {
  const [entity, rawKey] = splitIdentifier(identifier);
  const type = validEntityType(entity ?? ATTRIBUTE);
  const key = trimBackticks(stripQuotes(rawKey, false));
  if (type === ATTRIBUTE && !validAttributes.includes(key)) {
    throw new SearchGrammarError(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(validAttributes)}'`);
  }
  if (type === DATASET && !DATASET_ATTRIBUTES.includes(key)) {
    throw new SearchGrammarError(`Invalid dataset key '${key}' specified. Valid keys are '${pySet(DATASET_ATTRIBUTES)}'`);
  }
  return { type, key };
}

interface BaseConfig {
  searchKeys: readonly string[];
  numericAttributes: readonly string[];
  /** Logged models allow lists on any attribute; runs only on `run_id`. */
  anyAttributeList: boolean;
}

/** `SearchUtils._get_value`. */
function baseValue(type: string, key: string, token: Node, ctx: Source, config: BaseConfig): RawValue {
  const text = ctx.text(token);
  if (type === METRIC) {
    if (!isNumericValue(token)) throw new SearchGrammarError(`Expected numeric value type for metric. Found ${text}`);
    return { k: 'num', v: text };
  }
  if (type === PARAMETER || type === TAG) {
    if (isStringValue(token)) return { k: 'str', v: stripQuotes(text, true) };
    throw new SearchGrammarError(`Expected a quoted string value for ${type} (e.g. 'my-value'). Got value ${text}`);
  }
  if (type === ATTRIBUTE) {
    if (config.numericAttributes.includes(key)) {
      if (!isNumericValue(token)) throw new SearchGrammarError(`Expected numeric value type for numeric attribute: ${key}. Found ${text}`);
      return { k: 'num', v: text };
    }
    if (isStringValue(token)) return { k: 'str', v: stripQuotes(text, true) };
    if (isGrp(token, 'paren')) {
      if (!config.anyAttributeList && key !== 'run_id') {
        throw new SearchGrammarError("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
      }
      return { k: 'list', v: parseRunIds(text) };
    }
    throw new SearchGrammarError(`Expected a quoted string value for attributes. Got value ${text}`);
  }
  // dataset
  if (isStringValue(token)) return { k: 'str', v: stripQuotes(text, true) };
  if (isGrp(token, 'paren')) return { k: 'list', v: parseRunIds(text) };
  throw new SearchGrammarError(`Expected a quoted string value for dataset attributes. Got value ${text}`);
}

/** `SearchUtils.parse_search_filter` for runs-like domains. */
function baseParse(filter: string, config: BaseConfig): RawClause[] {
  const { ctx, cmps } = comparisons(filter, true);
  return cmps.map((c) => {
    validateComparison(c, ctx, true);
    const ident = baseIdentifier(ctx.text(c.left), config.searchKeys);
    if (c.right === undefined) {
      if (ident.type !== TAG && ident.type !== PARAMETER) {
        throw new SearchGrammarError(`IS NULL / IS NOT NULL is only supported for tags and params, not for '${ident.type}' '${ident.key}'`);
      }
      return { type: ident.type, key: ident.key, comparator: c.op, value: { k: 'null' } };
    }
    return { type: ident.type, key: ident.key, comparator: c.op, value: baseValue(ident.type, ident.key, c.right, ctx, config) };
  });
}

function checkComparator(comparator: string, allowed: readonly string[], message: string): void {
  if (!allowed.includes(comparator)) throw new SearchGrammarError(message);
}

/** `SearchUtils.is_metric` / `is_param` / `is_tag` / `is_dataset` / `is_*_attribute` comparator checks (the store calls them). */
function baseComparatorCheck(type: string, key: string, comparator: string, numericAttributes: readonly string[]): void {
  const c = comparator;
  if (type === ATTRIBUTE && !numericAttributes.includes(key)) {
    checkComparator(c, STRING_ATTRIBUTE_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(STRING_ATTRIBUTE_COMPARATORS)}'`);
  } else if (type === ATTRIBUTE) {
    checkComparator(c, NUMERIC_ATTRIBUTE_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(STRING_ATTRIBUTE_COMPARATORS)}`);
  } else if (type === DATASET) {
    checkComparator(c, DATASET_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(DATASET_COMPARATORS)}`);
  } else if (type === METRIC) {
    checkComparator(c, METRIC_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(METRIC_COMPARATORS)}`);
  } else if (type === PARAMETER) {
    checkComparator(c, PARAM_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(PARAM_COMPARATORS)}'`);
  } else if (type === TAG) {
    checkComparator(c, TAG_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(TAG_COMPARATORS)}`);
  }
}

function entityOf(type: string): EntityType {
  return type === PARAMETER ? 'param' : (type as EntityType);
}

function toNumber(v: string): number {
  return Number(v);
}

function finalValue(v: RawValue): FilterClause['value'] {
  switch (v.k) {
    case 'str':
      return v.v;
    case 'num':
      return toNumber(v.v);
    case 'list':
      return v.v;
    default:
      return null;
  }
}

/** Calls `fn`, converting any unexpected failure into MLflow's generic parse error. */
function guarded<T>(fn: () => T, fallback: () => string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SearchGrammarError) throw err;
    throw new SearchGrammarError(fallback());
  }
}

function filterInput(filter: unknown): string | undefined {
  if (filter === undefined || filter === null || filter === '') return undefined;
  if (typeof filter !== 'string') throw new SearchGrammarError(`Invalid filter '${String(filter)}'. Could not be parsed.`);
  return filter;
}

function runFilter(filter: string): FilterClause[] {
  const config: BaseConfig = { searchKeys: RUN_SEARCH_KEYS, numericAttributes: RUN_NUMERIC_ATTRIBUTES, anyAttributeList: false };
  const raw = baseParse(filter, config);
  return raw.map((r) => {
    const comparator = r.comparator.toUpperCase();
    const key = translateKeyAlias(r.key);
    baseComparatorCheck(r.type, key, comparator, RUN_NUMERIC_ATTRIBUTES);
    return { type: entityOf(r.type), key, comparator: comparator as Comparator, value: finalValue(r.value) };
  });
}

/** Parses a `search_runs` filter string (`metrics.acc > 0.9 AND params.lr = '0.1'`); empty or missing means no clauses. */
export function parseRunFilter(filter: string | undefined): FilterClause[] {
  const f = filterInput(filter);
  if (f === undefined) return [];
  return guarded(
    () => runFilter(f),
    () => `Error on parsing filter '${f}'`,
  );
}

function loggedModelFilter(filter: string): FilterClause[] {
  const config: BaseConfig = { searchKeys: LOGGED_MODEL_SEARCH_KEYS, numericAttributes: LOGGED_MODEL_NUMERIC_ATTRIBUTES, anyAttributeList: true };
  const raw = baseParse(filter, config);
  return raw.map((r) => {
    const comparator = r.comparator.toUpperCase();
    if (r.type === DATASET) throw new SearchGrammarError(`Invalid logged model search key '${r.key}'`);
    baseComparatorCheck(r.type, r.key, comparator, LOGGED_MODEL_NUMERIC_ATTRIBUTES);
    let key = r.key;
    if (r.type === ATTRIBUTE && key === 'creation_time') key = 'creation_timestamp';
    if (r.type === ATTRIBUTE && key === 'last_updated_time') key = 'last_updated_timestamp';
    return { type: entityOf(r.type), key, comparator: comparator as Comparator, value: finalValue(r.value) };
  });
}

/** Parses a `search_logged_models` filter string; `creation_time` / `last_updated_time` become `creation_timestamp` / `last_updated_timestamp`. */
export function parseLoggedModelFilter(filter: string | undefined): FilterClause[] {
  const f = filterInput(filter);
  if (f === undefined) return [];
  return guarded(
    () => loggedModelFilter(f),
    () => `Error on parsing filter '${f}'`,
  );
}

// ---------------------------------------------------------------------------------------
// Experiments (`SearchExperimentsUtils`)
// ---------------------------------------------------------------------------------------

const EXPERIMENT_SEARCH_KEYS = ['name', 'creation_time', 'last_update_time'];
const EXPERIMENT_ORDER_BY_KEYS = ['name', 'experiment_id', 'creation_time', 'last_update_time'];
const EXPERIMENT_NUMERIC_ATTRIBUTES = ['creation_time', 'last_update_time'];
const RESTRICTED_ENTITY_TYPES = "('attribute', 'tag', 'tags')";

/** `SearchExperimentsUtils._get_identifier` (also used for model-version order_by). */
function experimentIdentifier(identifier: string, validAttributes: readonly string[]): { type: string; key: string } {
  const [entity, rawKey] = splitIdentifier(identifier);
  let type = ATTRIBUTE;
  if (entity !== undefined) {
    if (entity !== 'attribute' && entity !== 'tag' && entity !== 'tags') {
      throw new SearchGrammarError(`Invalid entity type '${entity}'. Valid entity types are ${RESTRICTED_ENTITY_TYPES}`);
    }
    type = validEntityType(entity);
  }
  const key = trimBackticks(stripQuotes(rawKey, false));
  if (type === ATTRIBUTE && !validAttributes.includes(key)) {
    throw new SearchGrammarError(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(validAttributes)}'`);
  }
  return { type, key };
}

function experimentFilter(filter: string): FilterClause[] {
  const { ctx, cmps } = comparisons(filter, false);
  const config: BaseConfig = { searchKeys: EXPERIMENT_SEARCH_KEYS, numericAttributes: EXPERIMENT_NUMERIC_ATTRIBUTES, anyAttributeList: false };
  const raw: RawClause[] = cmps.map((c) => {
    validateComparison(c, ctx, true);
    const ident = experimentIdentifier(ctx.text(c.left), EXPERIMENT_SEARCH_KEYS);
    if (c.right === undefined) {
      if (ident.type !== TAG) throw new SearchGrammarError(`IS NULL / IS NOT NULL is only supported for tags, not for attribute '${ident.key}'`);
      return { type: ident.type, key: ident.key, comparator: c.op, value: { k: 'null' } };
    }
    return { type: ident.type, key: ident.key, comparator: c.op, value: baseValue(ident.type, ident.key, c.right, ctx, config) };
  });
  // The experiment store does not upper-case comparators: `like` is rejected.
  return raw.map((r) => {
    const c = r.comparator;
    if (r.type === ATTRIBUTE && !EXPERIMENT_NUMERIC_ATTRIBUTES.includes(r.key)) {
      checkComparator(c, STRING_ATTRIBUTE_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(STRING_ATTRIBUTE_COMPARATORS)}'`);
      checkComparator(c, ['=', '!=', 'LIKE', 'ILIKE'], `Invalid comparator for string attribute: ${c}`);
    } else if (r.type === ATTRIBUTE) {
      checkComparator(c, NUMERIC_ATTRIBUTE_COMPARATORS, `Invalid comparator '${c}' not one of '${pySet(STRING_ATTRIBUTE_COMPARATORS)}`);
    } else {
      checkComparator(c, ['=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'], `Invalid comparator for tag: ${c}`);
    }
    return { type: entityOf(r.type), key: r.key, comparator: c as Comparator, value: finalValue(r.value) };
  });
}

/** Parses a `search_experiments` filter string (`name LIKE 'a%' AND tags.team = 'x'`). */
export function parseExperimentFilter(filter: string | undefined): FilterClause[] {
  const f = filterInput(filter);
  if (f === undefined) return [];
  return guarded(
    () => experimentFilter(f),
    () => `Error on parsing filter '${f}'`,
  );
}

// ---------------------------------------------------------------------------------------
// Model registry (`SearchModelUtils`, `SearchModelVersionUtils`)
// ---------------------------------------------------------------------------------------

const REGISTERED_MODEL_SEARCH_KEYS = ['name'];
const MODEL_VERSION_SEARCH_KEYS = ['name', 'version_number', 'run_id', 'source_path'];
const MODEL_VERSION_NUMERIC_ATTRIBUTES = ['version_number', 'creation_timestamp', 'last_updated_timestamp'];
const MODEL_VERSION_ORDER_BY_KEYS = ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'];
const REGISTRY_STRING_COMPARATORS = ['=', '!=', 'LIKE', 'ILIKE'];

/** `_get_model_search_identifier` / `_get_model_version_search_identifier` (attribute keys are checked before quotes are stripped). */
function registryIdentifier(identifier: string, validAttributes: readonly string[]): { type: string; key: string } {
  const [entity, rawKey] = splitIdentifier(identifier);
  let type = ATTRIBUTE;
  if (entity !== undefined) {
    if (entity !== 'attribute' && entity !== 'tag' && entity !== 'tags') {
      throw new SearchGrammarError(`Invalid entity type '${entity}'. Valid entity types are ${RESTRICTED_ENTITY_TYPES}`);
    }
    type = entity === 'attribute' ? ATTRIBUTE : TAG;
  }
  if (type === ATTRIBUTE && !validAttributes.includes(rawKey)) {
    throw new SearchGrammarError(`Invalid attribute key '${rawKey}' specified. Valid keys are '${pySet(validAttributes)}'`);
  }
  return { type, key: trimBackticks(stripQuotes(rawKey, false)) };
}

function registryRaw(
  filter: string,
  validAttributes: readonly string[],
  value: (type: string, key: string, token: Node, ctx: Source) => RawValue,
): RawClause[] {
  const { ctx, cmps } = comparisons(filter, false);
  return cmps.map((c) => {
    validateComparison(c, ctx, false);
    const ident = registryIdentifier(ctx.text(c.left), validAttributes);
    return { type: ident.type, key: ident.key, comparator: c.op.toUpperCase(), value: value(ident.type, ident.key, c.right as Node, ctx) };
  });
}

function registryTagValue(type: string, token: Node, ctx: Source): RawValue {
  const text = ctx.text(token);
  if (isStringValue(token)) return { k: 'str', v: stripQuotes(text, true) };
  throw new SearchGrammarError(`Expected a quoted string value for ${type} (e.g. 'my-value'). Got value ${text}`);
}

const MSG_REGISTRY_ATTRIBUTE_VALUE = (text: string) => `Expected a quoted string value or a list of quoted string values for attributes. Got value ${text}`;

function registeredModelFilter(filter: string): FilterClause[] {
  const raw = registryRaw(filter, REGISTERED_MODEL_SEARCH_KEYS, (type, key, token, ctx) => {
    if (type === TAG) return registryTagValue(type, token, ctx);
    const text = ctx.text(token);
    if (isStringValue(token)) return { k: 'str', v: stripQuotes(text, true) };
    if (isGrp(token, 'paren')) {
      if (key !== 'run_id') throw new SearchGrammarError("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
      return { k: 'list', v: parseRunIds(text) };
    }
    throw new SearchGrammarError(MSG_REGISTRY_ATTRIBUTE_VALUE(text));
  });
  return raw.map((r) => {
    const c = r.comparator;
    if (r.type === ATTRIBUTE) checkComparator(c, REGISTRY_STRING_COMPARATORS, `Invalid comparator for attribute: ${c}`);
    else checkComparator(c, REGISTRY_STRING_COMPARATORS, `Invalid comparator for tag: ${c}`);
    return { type: entityOf(r.type), key: r.key, comparator: c as Comparator, value: finalValue(r.value) };
  });
}

/** Parses a `search_registered_models` filter string (`name LIKE 'fraud%'`, `tags.team = 'x'`). */
export function parseRegisteredModelFilter(filter: string | undefined): FilterClause[] {
  const f = filterInput(filter);
  if (f === undefined) return [];
  return guarded(
    () => registeredModelFilter(f),
    () => `Error on parsing filter '${f}'`,
  );
}

function modelVersionFilter(filter: string): FilterClause[] {
  const raw = registryRaw(filter, MODEL_VERSION_SEARCH_KEYS, (type, key, token, ctx) => {
    if (type === TAG) return registryTagValue(type, token, ctx);
    const text = ctx.text(token);
    if (isStringValue(token)) return { k: 'str', v: stripQuotes(text, true) };
    if (isGrp(token, 'paren')) {
      if (key !== 'run_id') throw new SearchGrammarError("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
      return { k: 'list', v: parseRunIds(text) };
    }
    if (isNumericValue(token)) {
      if (!MODEL_VERSION_NUMERIC_ATTRIBUTES.includes(key)) {
        throw new SearchGrammarError(`Only the '${pySet(MODEL_VERSION_NUMERIC_ATTRIBUTES)}' attributes support comparison with numeric values.`);
      }
      return { k: 'num', v: text };
    }
    throw new SearchGrammarError(MSG_REGISTRY_ATTRIBUTE_VALUE(text));
  });
  return raw.map((r) => {
    const c = r.comparator;
    let value = finalValue(r.value);
    if (r.type === ATTRIBUTE && MODEL_VERSION_NUMERIC_ATTRIBUTES.includes(r.key)) {
      checkComparator(c, NUMERIC_ATTRIBUTE_COMPARATORS, `Invalid comparator for attribute ${r.key}: ${c}`);
      if (typeof value === 'string' && /^[+-]?\d+$/.test(value)) value = Number(value);
    } else if (r.type === ATTRIBUTE) {
      if (!['!=', '=', 'LIKE', 'ILIKE', 'IN'].includes(c) || (c === 'IN' && r.key !== 'run_id')) {
        throw new SearchGrammarError(`Invalid comparator for attribute: ${c}`);
      }
    } else checkComparator(c, REGISTRY_STRING_COMPARATORS, `Invalid comparator for tag: ${c}`);
    return { type: entityOf(r.type), key: r.key, comparator: c as Comparator, value };
  });
}

/** Parses a `search_model_versions` filter string (`name = 'm' AND run_id IN ('a','b')`, `version_number > 1`). */
export function parseModelVersionFilter(filter: string | undefined): FilterClause[] {
  const f = filterInput(filter);
  if (f === undefined) return [];
  return guarded(
    () => modelVersionFilter(f),
    () => `Error on parsing filter '${f}'`,
  );
}

// ---------------------------------------------------------------------------------------
// order_by
// ---------------------------------------------------------------------------------------

/** Python `shlex.split` (posix, no comments); undefined when it would raise. */
function shlexSplit(s: string): string[] | undefined {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const close = s.indexOf("'", i + 1);
      if (close < 0) return undefined;
      cur += s.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= s.length) return undefined;
        const d = s[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '\\"$`\n'.includes(s[i + 1] as string)) {
          cur += s[i + 1];
          i += 2;
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= s.length) return undefined;
      cur += s[i + 1];
      inWord = true;
      i += 2;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** `_validate_order_by_and_generate_token` + `_parse_order_by_string`. */
function parseOrderByString(orderBy: string): { token: string; ascending: boolean } {
  const cannot = () => new SearchGrammarError(`Invalid order_by clause '${orderBy}'. Could not be parsed.`);
  const lexer = new Lexer(orderBy);
  const statements = splitStatements(orderBy, lexer.toks);
  if (statements.length !== 1) throw cannot();
  const tokens = groupStatement(statements[0] as Tok[]);
  const ctx = new Source(orderBy);
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  const isTimestamp = (n: Node | undefined) => tokIs(n, 'builtin') && ctx.text(n) === 'timestamp';
  let token: string;
  if (tokens.length === 1 && isGrp(first, 'ident')) token = ctx.text(first);
  else if (tokens.length === 1 && isTimestamp(first)) token = 'timestamp';
  else if (tokens.length > 1 && isTimestamp(first) && tokens.slice(1, -1).every(isWs) && tokIs(last, 'order')) {
    token = `timestamp ${ctx.text(last)}`;
  } else throw cannot();
  const words = shlexSplit(token.replaceAll('`', '"'));
  if (words === undefined || words.length > 2) throw cannot();
  let ascending = true;
  if (words.length === 2) {
    const direction = (words[1] as string).toLowerCase();
    if (direction !== 'asc' && direction !== 'desc') throw new SearchGrammarError(`Invalid ordering key in order_by clause '${orderBy}'.`);
    ascending = direction === 'asc';
    token = words[0] as string;
  }
  return { token, ascending };
}

function orderByInput(orderBy: unknown): string[] {
  if (orderBy === undefined || orderBy === null) return [];
  if (!Array.isArray(orderBy)) throw new SearchGrammarError(`Invalid order_by clause '${String(orderBy)}'. Could not be parsed.`);
  return orderBy.map((o) => {
    if (typeof o !== 'string') throw new SearchGrammarError(`Invalid order_by clause '${String(o)}'. Could not be parsed.`);
    return o;
  });
}

function duplicateError(list: string[]): SearchGrammarError {
  return new SearchGrammarError(`\`order_by\` contains duplicate fields: ${pyList(list)}`);
}

function orderByEach(orderBy: string[] | undefined, one: (clause: string, all: string[]) => OrderByClause, dedupe: boolean): OrderByClause[] {
  const list = orderByInput(orderBy);
  const out: OrderByClause[] = [];
  const seen = new Set<string>();
  for (const clause of list) {
    const parsed = guarded(
      () => one(clause, list),
      () => `Error on parsing order_by clause '${clause}'`,
    );
    const id = `${parsed.type}\u0000${parsed.key}`;
    if (dedupe && seen.has(id)) throw duplicateError(list);
    seen.add(id);
    out.push(parsed);
  }
  return out;
}

/** Parses `search_runs` order_by terms (`metrics.acc DESC`, `attributes.start_time`); duplicate fields are rejected. */
export function parseRunOrderBy(orderBy: string[] | undefined): OrderByClause[] {
  return orderByEach(
    orderBy,
    (clause) => {
      const { token, ascending } = parseOrderByString(clause);
      const ident = baseIdentifier(token.trim(), RUN_ORDER_BY_KEYS);
      if (ident.type === DATASET) throw new SearchGrammarError(`Invalid identifier type '${ident.type}'`);
      return { type: entityOf(ident.type), key: ident.type === ATTRIBUTE ? translateKeyAlias(ident.key) : ident.key, ascending };
    },
    true,
  );
}

/** Parses `search_experiments` order_by terms (name, experiment_id, creation_time, last_update_time). */
export function parseExperimentOrderBy(orderBy: string[] | undefined): OrderByClause[] {
  return orderByEach(
    orderBy,
    (clause) => {
      const { token, ascending } = parseOrderByString(clause);
      const ident = experimentIdentifier(token.trim(), EXPERIMENT_ORDER_BY_KEYS);
      if (ident.type !== ATTRIBUTE) throw new SearchGrammarError(`Invalid order_by entity: ${ident.type}`);
      return { type: 'attribute', key: ident.key, ascending };
    },
    false,
  );
}

const REGISTERED_MODEL_ORDER_BY_KEYS: Record<string, string> = {
  name: 'name',
  timestamp: 'last_updated_timestamp',
  last_updated_timestamp: 'last_updated_timestamp',
  creation_timestamp: 'creation_timestamp',
};

/** Parses `search_registered_models` order_by terms; `timestamp` is `last_updated_timestamp`. */
export function parseRegisteredModelOrderBy(orderBy: string[] | undefined): OrderByClause[] {
  return orderByEach(
    orderBy,
    (clause) => {
      const { token, ascending } = parseOrderByString(clause);
      const t = token.trim();
      const key = Object.hasOwn(REGISTERED_MODEL_ORDER_BY_KEYS, t) ? REGISTERED_MODEL_ORDER_BY_KEYS[t] : undefined;
      if (key === undefined) throw new SearchGrammarError(`Invalid order by key '${t}' specified. Valid keys are '${pySet(['name', 'timestamp'])}'`);
      return { type: 'attribute', key, ascending };
    },
    true,
  );
}

/** Parses `search_model_versions` order_by terms (name, version_number, creation_timestamp, last_updated_timestamp). */
export function parseModelVersionOrderBy(orderBy: string[] | undefined): OrderByClause[] {
  return orderByEach(
    orderBy,
    (clause) => {
      const { token, ascending } = parseOrderByString(clause);
      const ident = experimentIdentifier(token.trim(), MODEL_VERSION_ORDER_BY_KEYS);
      if (!MODEL_VERSION_ORDER_BY_KEYS.includes(ident.key)) {
        throw new SearchGrammarError(`Invalid order by key '${ident.key}' specified. Valid keys are ${pySet(MODEL_VERSION_ORDER_BY_KEYS)}`);
      }
      return { type: 'attribute', key: ident.key, ascending };
    },
    true,
  );
}

// ---------------------------------------------------------------------------------------
// LIKE evaluation
// ---------------------------------------------------------------------------------------

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * RegExp equivalent of SQL `LIKE` (`%` any run, `_` one character, no escape character,
 * case-sensitive unless `caseInsensitive`); built so that matching cannot backtrack
 * catastrophically.
 */
export function parseLikePattern(pattern: string, caseInsensitive: boolean): RegExp {
  const segment = (s: string) =>
    Array.from(s)
      .map((ch) => (ch === '_' ? '[\\s\\S]' : escapeRegExp(ch)))
      .join('');
  const parts = pattern.split('%');
  let source: string;
  if (parts.length === 1) source = `^${segment(pattern)}$`;
  else {
    const head = parts[0] ?? '';
    const tail = parts[parts.length - 1] ?? '';
    const middle = parts.slice(1, -1).filter((p) => p !== '');
    let body = `^${segment(head)}`;
    middle.forEach((m, index) => {
      // Atomic "skip to the first occurrence": a lookahead capture consumed by a backreference.
      body += `(?=([\\s\\S]*?${segment(m)}))\\${index + 1}`;
    });
    source = `${body}[\\s\\S]*${segment(tail)}$`;
  }
  return new RegExp(source, caseInsensitive ? 'iu' : 'u');
}

import { AppError } from '../../platform/errors.ts';

/** A SQL error the statement API reports as a FAILED statement (or a 400 when it cannot even be parsed). */
export class SqlError extends Error {
  readonly errorCode: string;
  constructor(errorCode: string, message: string) {
    super(message);
    this.name = 'SqlError';
    this.errorCode = errorCode;
  }
}

/** Shorthand for a refused or malformed statement. */
export const sqlInvalid = (message: string): SqlError => new SqlError('INVALID_PARAMETER_VALUE', message);

/**
 * The statement with string literals, quoted identifiers and comments blanked out, same length, so that
 * keyword searches never match inside user text while positions still point into the original.
 */
export function maskSql(sql: string): string {
  const out = sql.split('');
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      while (i < sql.length && sql[i] !== '\n') out[i++] = ' ';
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      for (; i < stop; i++) out[i] = sql[i] === '\n' ? '\n' : ' ';
    } else if (ch === "'" || ch === '"' || ch === '`') {
      const quote = ch;
      i++;
      while (i < sql.length) {
        if (sql[i] === quote) {
          if (sql[i + 1] === quote) {
            out[i] = '_';
            out[i + 1] = '_';
            i += 2;
            continue;
          }
          break;
        }
        out[i] = '_';
        i++;
      }
      if (i >= sql.length) throw sqlInvalid('Unterminated quoted text in the statement.');
      i++;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** Databricks quotes identifiers with backticks; DuckDB with double quotes. */
export function convertBackticks(sql: string, masked: string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    if (sql[i] === '`' && masked[i] === '`') out += '"';
    else if (masked[i] === '_' && sql[i] === '"' && isInsideBacktick(masked, i)) throw sqlInvalid('Backtick identifiers may not contain double quotes.');
    else out += sql[i];
  }
  return out;
}

function isInsideBacktick(masked: string, at: number): boolean {
  for (let j = at; j >= 0; j--) {
    if (masked[j] === '`') return true;
    if (masked[j] !== '_') return false;
  }
  return false;
}

/** A named parameter as the Statement Execution API sends it. */
export interface StatementParameter {
  name: string;
  value?: string | null | undefined;
  type?: string | undefined;
}

const PARAMETER_TYPES: Record<string, string> = {
  STRING: 'VARCHAR',
  INT: 'INTEGER',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  LONG: 'BIGINT',
  SMALLINT: 'SMALLINT',
  SHORT: 'SMALLINT',
  TINYINT: 'TINYINT',
  BYTE: 'TINYINT',
  DOUBLE: 'DOUBLE',
  FLOAT: 'FLOAT',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMPTZ',
  TIMESTAMP_NTZ: 'TIMESTAMP',
  BINARY: 'BLOB',
  VOID: 'VARCHAR',
};

/** Quotes text as a SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes a SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Replaces `:name` markers with typed literals (values never become SQL text of their own). */
export function substituteParameters(sql: string, parameters: StatementParameter[]): string {
  const byName = new Map<string, StatementParameter>();
  for (const p of parameters) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name)) throw sqlInvalid(`Invalid parameter name '${p.name}'.`);
    byName.set(p.name, p);
  }
  const masked = maskSql(sql);
  let out = '';
  let last = 0;
  const re = /(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g;
  for (let m = re.exec(masked); m; m = re.exec(masked)) {
    const name = m[1] as string;
    const p = byName.get(name);
    if (!p) throw new SqlError('UNBOUND_SQL_PARAMETER', `Found the unbound parameter: ${name}. Please fix the args and provide a mapping of the parameter.`);
    let literal: string;
    if (p.value === null || p.value === undefined) literal = 'NULL';
    else {
      const typeText = (p.type ?? 'STRING').trim().toUpperCase();
      const decimal = /^DECIMAL\(\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)$/.exec(typeText);
      const duckType = decimal ? `DECIMAL(${decimal[1]},${decimal[2]})` : PARAMETER_TYPES[typeText];
      if (!duckType) throw sqlInvalid(`Unsupported parameter type '${p.type}' for parameter '${name}'.`);
      literal = `CAST(${sqlString(p.value)} AS ${duckType})`;
    }
    out += sql.slice(last, m.index) + literal;
    last = m.index + m[0].length;
  }
  return out + sql.slice(last);
}

/** Strips trailing semicolons and refuses a second statement. */
export function singleStatement(sql: string): string {
  const masked = maskSql(sql);
  const trimmedEnd = masked.replace(/[\s;]+$/, '').length;
  const body = sql.slice(0, trimmedEnd);
  if (masked.slice(0, trimmedEnd).includes(';')) throw sqlInvalid('Only one SQL statement may be sent at a time.');
  if (!masked.slice(0, trimmedEnd).trim()) throw sqlInvalid('The statement is empty.');
  return body;
}

/** Keeps AppError-shaped failures out of statement results. */
export function toSqlError(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  if (err instanceof AppError) return new SqlError(err.code === 'RESOURCE_DOES_NOT_EXIST' ? 'NOT_FOUND' : err.code, err.message);
  const message = err instanceof Error ? err.message : String(err);
  return new SqlError('BAD_REQUEST', message);
}

import { AppError } from '../../platform/errors.ts';

/** A scoring request decoded from any of the MLflow formats: named columns of rows, or a raw tensor (nested lists). */
export type ScoringInput =
  | { kind: 'frame'; columns: string[]; rows: unknown[][] }
  | { kind: 'tensor'; value: unknown }
  | { kind: 'tensors'; value: Record<string, unknown> };

/** A decoded request: the model input plus `params`, if any. */
export interface ScoringRequest {
  input: ScoringInput;
  params: Record<string, unknown> | null;
}

/** One column of a column-based MLflow signature. */
export interface ColumnSpec {
  name: string;
  type: string;
  required: boolean;
}

const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
const bad = (message: string) => new AppError('BAD_REQUEST', message);
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Rows of objects become one frame; the columns are the keys in first-seen order (MLflow's pandas does the same). */
function recordsToFrame(records: unknown[], field: string): ScoringInput {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    if (!isRecord(r)) throw bad(`Invalid input: '${field}' must be a list of objects (one per row).`);
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  }
  const rows = records.map((r) => columns.map((c) => (r as Record<string, unknown>)[c] ?? null));
  return { kind: 'frame', columns, rows };
}

/** Decodes a JSON body in the MLflow scoring protocol (exactly one of the four input keys, optional `params`). */
export function parseJsonScoringBody(text: string): ScoringRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError('MALFORMED_REQUEST', 'Malformed JSON in request body.');
  }
  if (Array.isArray(body)) {
    throw bad(
      'The input must be a JSON dictionary with exactly one of the input fields {"dataframe_split", "dataframe_records", "instances", "inputs"}. ' +
        'Note that the scoring protocol has changed in MLflow 2.0: a bare list is no longer accepted.',
    );
  }
  if (!isRecord(body)) throw bad('The input must be a JSON dictionary.');
  const present = FORMATS.filter((f) => f in body);
  if (present.length !== 1) {
    throw bad(
      `The input must be a JSON dictionary with exactly one of the input fields {"dataframe_split", "dataframe_records", "instances", "inputs"}. Received: ${present.length ? present.join(', ') : 'none'}.`,
    );
  }
  const params = body.params;
  if (params !== undefined && params !== null && !isRecord(params)) throw bad("Invalid input: 'params' must be a JSON object.");
  const format = present[0] as (typeof FORMATS)[number];
  const value = body[format];
  let input: ScoringInput;
  switch (format) {
    case 'dataframe_split': {
      if (!isRecord(value)) throw bad("Invalid input: 'dataframe_split' must be an object with 'columns' and 'data'.");
      const { columns, data } = value;
      if (!Array.isArray(data)) throw bad("Invalid input: 'dataframe_split.data' must be a list of rows.");
      if (!data.every(Array.isArray)) throw bad("Invalid input: every row of 'dataframe_split.data' must be a list.");
      const width = (data[0] as unknown[] | undefined)?.length ?? 0;
      const cols = columns === undefined ? Array.from({ length: width }, (_, i) => String(i)) : columns;
      if (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string' || typeof c === 'number')) {
        throw bad("Invalid input: 'dataframe_split.columns' must be a list of column names.");
      }
      const names = cols.map(String);
      for (const [i, row] of (data as unknown[][]).entries()) {
        if (row.length !== names.length) throw bad(`Invalid input: row ${i} of 'dataframe_split.data' has ${row.length} values for ${names.length} columns.`);
      }
      input = { kind: 'frame', columns: names, rows: data as unknown[][] };
      break;
    }
    case 'dataframe_records':
      if (!Array.isArray(value)) throw bad("Invalid input: 'dataframe_records' must be a list of objects (one per row).");
      input = recordsToFrame(value, 'dataframe_records');
      break;
    case 'instances':
      if (!Array.isArray(value)) throw bad("Invalid input: 'instances' must be a list.");
      input = value.length > 0 && value.every(isRecord) ? recordsToFrame(value, 'instances') : { kind: 'tensor', value };
      break;
    default:
      if (isRecord(value)) input = { kind: 'tensors', value };
      else if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) input = recordsToFrame(value, 'inputs');
      else input = { kind: 'tensor', value };
  }
  return { input, params: isRecord(params) ? params : null };
}

/** Splits one CSV line, honouring double-quoted fields. */
function csvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Decodes a `text/csv` body: a header row, then rows; numbers are read as numbers, as pandas `read_csv` does. */
export function parseCsvScoringBody(text: string): ScoringRequest {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0];
  if (header === undefined) throw bad('The CSV body is empty: a header row is required.');
  const columns = csvLine(header);
  const rows = lines.slice(1).map((l, i) => {
    const cells = csvLine(l);
    if (cells.length !== columns.length) throw bad(`Invalid CSV: row ${i + 1} has ${cells.length} values for ${columns.length} columns.`);
    return cells.map((c) => (c.trim() !== '' && Number.isFinite(Number(c)) ? Number(c) : c === '' ? null : c));
  });
  return { input: { kind: 'frame', columns, rows }, params: null };
}

/** The column specs of a column-based signature, or null for tensor-based or absent signatures. */
export function columnSignature(inputs: unknown): ColumnSpec[] | null {
  if (!Array.isArray(inputs) || inputs.length === 0) return null;
  const specs: ColumnSpec[] = [];
  for (const s of inputs) {
    if (!isRecord(s) || s.type === 'tensor' || typeof s.type !== 'string') return null;
    if (typeof s.name !== 'string') return null;
    specs.push({ name: s.name, type: s.type, required: s.required !== false });
  }
  return specs;
}

function pythonTypeName(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'list' : 'dict';
}

function fits(type: string, v: unknown): boolean {
  switch (type) {
    case 'float':
    case 'double':
      return typeof v === 'number';
    case 'integer':
    case 'long':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
    case 'binary':
    case 'datetime':
      return typeof v === 'string';
    default:
      return true;
  }
}

/**
 * Checks a frame against a column signature as MLflow's schema enforcement does: a missing required column or a value of
 * the wrong type is refused naming the column; extra columns are dropped. Returns the rows in signature order.
 */
export function enforceColumns(input: ScoringInput, specs: ColumnSpec[]): { columns: string[]; rows: unknown[][] } {
  let frame: { columns: string[]; rows: unknown[][] };
  if (input.kind === 'frame') frame = input;
  else if (input.kind === 'tensors') {
    const columns = Object.keys(input.value);
    const lists = columns.map((c) => input.value[c]);
    if (!lists.every(Array.isArray)) throw bad("Invalid input: columnar 'inputs' must map each column to a list of values.");
    const n = (lists[0] as unknown[] | undefined)?.length ?? 0;
    if (!lists.every((l) => (l as unknown[]).length === n)) throw bad("Invalid input: every column of 'inputs' must have the same length.");
    frame = { columns, rows: Array.from({ length: n }, (_, i) => lists.map((l) => (l as unknown[])[i])) };
  } else {
    throw bad(`Failed to enforce schema: the model expects named columns (${specs.map((s) => s.name).join(', ')}), not a bare list.`);
  }
  const index = new Map(frame.columns.map((c, i) => [c, i]));
  const missing = specs.filter((s) => s.required && !index.has(s.name)).map((s) => `'${s.name}'`);
  if (missing.length) throw bad(`Failed to enforce schema of data with schema: Model is missing inputs [${missing.join(', ')}].`);
  const kept = specs.filter((s) => index.has(s.name));
  for (const s of kept) {
    const at = index.get(s.name) as number;
    for (const row of frame.rows) {
      const v = row[at];
      if (v === null || v === undefined) {
        if (s.required) throw bad(`Failed to enforce schema: column '${s.name}' has a missing value, and the signature requires it.`);
        continue;
      }
      if (!fits(s.type, v)) {
        throw bad(`Failed to enforce schema: incompatible input type for column '${s.name}': can not safely convert ${pythonTypeName(v)} to ${s.type}.`);
      }
    }
  }
  return { columns: kept.map((s) => s.name), rows: frame.rows.map((r) => kept.map((s) => r[index.get(s.name) as number])) };
}

/** Flattens a rectangular nested list of numbers into values and a shape; refuses ragged or non-numeric input. */
export function flattenTensor(value: unknown, what: string): { data: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const data: number[] = [];
  flattenInto(data, shape, value, 0, what);
  return { data, shape };
}

/** Appends the numbers of `v` (at `depth` of `shape`) to `data`; a module function, not a per-call closure. */
function flattenInto(data: number[], shape: readonly number[], v: unknown, depth: number, what: string): void {
  if (depth === shape.length) {
    if (typeof v === 'boolean') data.push(v ? 1 : 0);
    else if (typeof v === 'number') data.push(v);
    else throw bad(`Invalid input for ${what}: expected numbers, got ${pythonTypeName(v)}.`);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) throw bad(`Invalid input for ${what}: the nested lists are not rectangular.`);
  for (const x of v) flattenInto(data, shape, x, depth + 1, what);
}

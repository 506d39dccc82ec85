import { WeirApiError, type WeirClient } from '@weir/api-client';

/** A result column as the Statement Execution API describes it. */
export interface ResultColumn {
  name: string;
  type_name: string;
  type_text?: string;
  position?: number;
}

/** One chunk of rows (JSON_ARRAY format: every value a string or null). */
export interface ResultChunk {
  chunk_index: number;
  row_offset: number;
  row_count: number;
  data_array?: (string | null)[][];
  next_chunk_index?: number;
}

/** A statement's answer: GET/POST /api/2.0/sql/statements. */
export interface StatementResponse {
  statement_id: string;
  status: { state: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED'; error?: { error_code?: string; message?: string } };
  manifest?: {
    schema: { column_count: number; columns?: ResultColumn[] };
    total_chunk_count: number;
    chunks?: { chunk_index: number; row_offset: number; row_count: number }[];
    total_row_count: number;
    truncated?: boolean;
  };
  result?: ResultChunk;
}

/** A finished statement: its columns, the first chunk's rows and how to get the rest. */
export interface StatementOutcome {
  statementId: string;
  columns: ResultColumn[];
  rows: (string | null)[][];
  totalRows: number;
  truncated: boolean;
  /** The chunk to fetch next, or undefined when every row is in `rows`. */
  nextChunk: number | undefined;
}

/** What a caller can do while a statement runs. */
export interface RunOptions {
  /** Aborting cancels the statement on the server (POST .../cancel) and rejects with a CANCELED error. */
  signal?: AbortSignal;
  /** Called with every state the server reports (PENDING, RUNNING, ...) and the statement id once known. */
  onState?(state: string, statementId: string): void;
  /** How long the first request waits on the server before answering PENDING/RUNNING: '0s' or '5s'..'50s'. */
  waitTimeout?: string;
  /** Stops after this many rows (the server marks the result truncated). */
  rowLimit?: number;
  catalog?: string;
  schema?: string;
}

/** Delays between polls of a running statement: quick at first, then at most one a second. */
export function pollDelay(attempt: number): number {
  return Math.min(1000, 100 * 2 ** Math.min(attempt, 4));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Turns a finished statement response into an outcome, or throws the server's error for a failed or canceled one. */
export function outcomeOf(res: StatementResponse): StatementOutcome {
  const state = res.status.state;
  if (state === 'FAILED') {
    throw new WeirApiError(res.status.error?.error_code ?? 'FAILED', res.status.error?.message ?? 'The statement failed.', 400);
  }
  if (state === 'CANCELED' || state === 'CLOSED')
    throw new WeirApiError(state === 'CANCELED' ? 'CANCELED' : 'CLOSED', `The statement was ${state.toLowerCase()}.`, 400);
  const manifest = res.manifest;
  return {
    statementId: res.statement_id,
    columns: manifest?.schema.columns ?? [],
    rows: res.result?.data_array ?? [],
    totalRows: manifest?.total_row_count ?? 0,
    truncated: manifest?.truncated ?? false,
    nextChunk: res.result?.next_chunk_index,
  };
}

/**
 * Runs one SQL statement: submits it with a wait timeout, polls while it is PENDING or RUNNING, cancels it on the
 * server when `signal` aborts, and answers the first chunk of rows (fetch the rest with `fetchChunk`).
 */
export async function runStatement(client: WeirClient, statement: string, options: RunOptions = {}): Promise<StatementOutcome> {
  const { signal } = options;
  let res = await client.post<StatementResponse>('/api/2.0/sql/statements', {
    statement,
    warehouse_id: 'weir',
    wait_timeout: options.waitTimeout ?? '10s',
    on_wait_timeout: 'CONTINUE',
    format: 'JSON_ARRAY',
    disposition: 'INLINE',
    ...(options.rowLimit !== undefined ? { row_limit: options.rowLimit } : {}),
    ...(options.catalog ? { catalog: options.catalog } : {}),
    ...(options.schema ? { schema: options.schema } : {}),
  });
  const id = res.statement_id;
  options.onState?.(res.status.state, id);
  for (let attempt = 0; res.status.state === 'PENDING' || res.status.state === 'RUNNING'; attempt++) {
    if (signal?.aborted) {
      res = await client
        .post<StatementResponse>(`/api/2.0/sql/statements/${encodeURIComponent(id)}/cancel`, {})
        .then(() => client.get<StatementResponse>(`/api/2.0/sql/statements/${encodeURIComponent(id)}`));
      options.onState?.(res.status.state, id);
      // A statement that finished before the cancel arrived keeps its answer; anything else reads as canceled.
      if (res.status.state !== 'SUCCEEDED') throw new WeirApiError('CANCELED', 'The statement was canceled.', 400);
      break;
    }
    await sleep(pollDelay(attempt), signal);
    if (signal?.aborted) continue;
    res = await client.get<StatementResponse>(`/api/2.0/sql/statements/${encodeURIComponent(id)}`);
    options.onState?.(res.status.state, id);
  }
  return outcomeOf(res);
}

/** Fetches one further chunk of a finished statement's rows. */
export async function fetchChunk(client: WeirClient, statementId: string, chunkIndex: number): Promise<ResultChunk> {
  return client.get<ResultChunk>(`/api/2.0/sql/statements/${encodeURIComponent(statementId)}/result/chunks/${chunkIndex}`);
}

/** Quotes a name part for SQL (backticks, doubled inside), so names with dots or dashes stay one part. */
export function quoteIdent(part: string): string {
  return `\`${part.replace(/`/g, '``')}\``;
}

/** A SQL string literal with quotes doubled. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

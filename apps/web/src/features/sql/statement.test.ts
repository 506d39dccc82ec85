// The statement runner against a real Weir server (real DuckDB): waiting, polling, chunks, errors and cancel.
import { createWeirClient, WeirApiError } from '@weir/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../server/src/testing/test-server.ts';
import { fetchChunk, outcomeOf, pollDelay, quoteIdent, runStatement, sqlString } from './statement.ts';

describe('SQL statement runner on a real server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ name: 'sqlite' });
  });
  afterAll(async () => {
    await s?.close();
  });
  const client = () => createWeirClient({ host: s.url, token: s.adminToken });

  it('answers rows and columns, polling when the server answers before the statement ends', async () => {
    const states: string[] = [];
    const out = await runStatement(client(), 'SELECT range AS n, range * 2 AS twice FROM range(5) ORDER BY n', {
      waitTimeout: '0s',
      onState: (state) => states.push(state),
    });
    expect(out.columns.map((c) => [c.name, c.type_name])).toEqual([
      ['n', 'LONG'],
      ['twice', 'LONG'],
    ]);
    expect(out.rows).toEqual([
      ['0', '0'],
      ['1', '2'],
      ['2', '4'],
      ['3', '6'],
      ['4', '8'],
    ]);
    expect(out.totalRows).toBe(5);
    expect(out.nextChunk).toBeUndefined();
    expect(states.at(-1)).toBe('SUCCEEDED');
  });

  it("raises the server's error for a failing statement", async () => {
    const err = await runStatement(client(), 'SELECT * FROM main.nowhere.missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirApiError);
    expect((err as WeirApiError).message).toMatch(/missing/);
  });

  it('fetches further chunks of a result larger than one chunk', async () => {
    // 4 MB chunks: 120,000 rows of ~60 characters make more than one.
    const out = await runStatement(client(), "SELECT range AS n, repeat('x', 50) AS pad FROM range(120000) ORDER BY n", { waitTimeout: '50s' });
    expect(out.totalRows).toBe(120_000);
    expect(out.nextChunk).toBe(1);
    const rows = [...out.rows];
    let next = out.nextChunk;
    while (next !== undefined) {
      const chunk = await fetchChunk(client(), out.statementId, next);
      rows.push(...(chunk.data_array ?? []));
      next = chunk.next_chunk_index;
    }
    expect(rows).toHaveLength(120_000);
    expect(rows.map((r) => Number(r[0]))).toEqual(Array.from({ length: 120_000 }, (_, i) => i));
  });

  it('cancels a long statement on the server when the signal aborts', async () => {
    const controller = new AbortController();
    let id = '';
    const running = runStatement(client(), 'SELECT count(*) FROM range(4000000000) a, range(1000) b', {
      waitTimeout: '0s',
      signal: controller.signal,
      onState: (state, statementId) => {
        id = statementId;
        if (state === 'RUNNING' || state === 'PENDING') controller.abort();
      },
    });
    const err = await running.catch((e: unknown) => e);
    expect((err as WeirApiError).errorCode).toBe('CANCELED');
    const after = await s.call('GET', `/api/2.0/sql/statements/${id}`);
    expect(after.body.status.state).toBe('CANCELED');
  });

  it('reads failed and canceled responses as errors and quotes names and strings', () => {
    expect(() => outcomeOf({ statement_id: 'x', status: { state: 'FAILED', error: { error_code: 'BAD', message: 'no' } } })).toThrow('no');
    expect(() => outcomeOf({ statement_id: 'x', status: { state: 'CANCELED' } })).toThrow(/canceled/);
    expect(pollDelay(0)).toBe(100);
    expect(pollDelay(10)).toBe(1000);
    expect(quoteIdent('we`ird')).toBe('`we``ird`');
    expect(sqlString("o'k")).toBe("'o''k'");
  });
});

import { useEffect, useState } from 'react';
import { ErrorBox } from '../../shell/ui.tsx';
import { addToHistory, type HistoryEntry, loadHistory, saveHistory } from './history.ts';
import { ResultGrid } from './ResultGrid.tsx';
import { SqlEditor } from './SqlEditor.tsx';
import { useStatement } from './use-statement.ts';

/** Human words for the states a statement passes through. */
export function phaseText(phase: string, seconds: number): string {
  switch (phase) {
    case 'SUBMITTING':
      return 'Submitting…';
    case 'PENDING':
      return `Queued (${seconds.toFixed(1)} s)…`;
    case 'RUNNING':
      return `Running (${seconds.toFixed(1)} s)…`;
    case 'CANCELED':
      return 'Canceled.';
    default:
      return '';
  }
}

/** The SQL editor: write a statement, run or cancel it, page through the results, rerun from history. */
export function SqlPage({ initial }: { initial?: string }) {
  const [text, setText] = useState(initial || 'SHOW CATALOGS');
  const st = useStatement();
  const [history, setHistory] = useState<HistoryEntry[]>(() => loadHistory());
  const [now, setNow] = useState(Date.now());
  const [ran, setRan] = useState('');

  useEffect(() => {
    if (!st.running) return;
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, [st.running]);

  useEffect(() => {
    if (st.running || st.phase === 'idle' || !ran) return;
    const entry: HistoryEntry = {
      statement: ran,
      at: st.startedAt ?? Date.now(),
      state: st.phase,
      ...(st.outcome ? { rows: st.outcome.totalRows } : {}),
      ...(st.finishedAt && st.startedAt ? { ms: st.finishedAt - st.startedAt } : {}),
    };
    setHistory((h) => {
      const next = addToHistory(h, entry);
      saveHistory(next);
      return next;
    });
    setRan('');
  }, [st.running, st.phase, st.outcome, st.startedAt, st.finishedAt, ran]);

  function run() {
    if (!text.trim() || st.running) return;
    setRan(text);
    // '0s' answers at once with the statement id, so Cancel works from the first moment.
    void st.run(text, { waitTimeout: '0s' });
  }

  const seconds = st.startedAt ? ((st.running ? now : (st.finishedAt ?? now)) - st.startedAt) / 1000 : 0;
  const o = st.outcome;
  return (
    <main>
      <h1>SQL editor</h1>
      <SqlEditor label="SQL statement" value={text} onChange={setText} onRun={run} />
      <div className="toolbar">
        <button type="button" className="primary" onClick={run} disabled={st.running || !text.trim()}>
          Run
        </button>
        <button type="button" onClick={st.cancel} disabled={!st.running}>
          Cancel
        </button>
        <span aria-live="polite" className="muted">
          {phaseText(st.phase, seconds)}
          {o ? `${o.totalRows.toLocaleString()} row${o.totalRows === 1 ? '' : 's'} in ${seconds.toFixed(2)} s${o.truncated ? ' (truncated)' : ''}` : ''}
        </span>
      </div>
      <ErrorBox error={st.error} title={st.phase === 'CANCELED' ? 'Stopped' : 'The statement failed'} />
      {o && o.columns.length > 0 ? (
        <>
          <ResultGrid columns={o.columns} rows={o.rows} totalRows={o.totalRows} label="Statement results" onNearEnd={st.loadMore} />
          {o.rows.length < o.totalRows ? (
            <p className="muted">
              {o.rows.length.toLocaleString()} of {o.totalRows.toLocaleString()} rows loaded; scroll down for more.{' '}
              <button type="button" className="link" onClick={st.loadMore}>
                Load more now
              </button>
            </p>
          ) : null}
        </>
      ) : null}
      {o && o.columns.length === 0 ? <p className="notice">The statement succeeded and returned no rows.</p> : null}
      <section>
        <h2>History</h2>
        {history.length === 0 ? (
          <p className="muted">Statements you run appear here (kept in this browser only).</p>
        ) : (
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Statement</th>
                <th scope="col">Outcome</th>
                <th scope="col">When</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {history.slice(0, 20).map((h) => (
                <tr key={`${h.at}:${h.statement}`}>
                  <td className="wrap">
                    <code>{h.statement.length > 160 ? `${h.statement.slice(0, 160)}…` : h.statement}</code>
                  </td>
                  <td>
                    {h.state}
                    {h.rows !== undefined ? `, ${h.rows} rows` : ''}
                    {h.ms !== undefined ? `, ${(h.ms / 1000).toFixed(2)} s` : ''}
                  </td>
                  <td>{new Date(h.at).toLocaleString()}</td>
                  <td>
                    <button type="button" onClick={() => setText(h.statement)} aria-label={`Load statement into the editor: ${h.statement.slice(0, 60)}`}>
                      Load
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}

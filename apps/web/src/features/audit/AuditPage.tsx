import { useEffect, useId, useState } from 'react';
import { Link } from '../../lib/router.tsx';
import { Empty, ErrorBox, Loading } from '../../shell/ui.tsx';
import { ResultGrid } from '../sql/ResultGrid.tsx';
import { useStatement } from '../sql/use-statement.ts';
import { type AuditFilters, auditQuery } from './audit-query.ts';

const SERVICES = ['', 'accounts', 'databrickssql', 'filesystem', 'mlflowExperiment', 'mlflowModelRegistry', 'permissions', 'serving', 'unityCatalog', 'weir'];

/** The audit log viewer (admins): who did what, when, and how it ended, read with SQL from system.access.audit. */
export function AuditPage() {
  const id = useId();
  const [filters, setFilters] = useState<AuditFilters>({ user: '', service: '', action: '', outcome: '', from: '', to: '', limit: 500 });
  const st = useStatement();
  const sql = auditQuery(filters);
  const set = (patch: Partial<AuditFilters>) => setFilters((f) => ({ ...f, ...patch }));

  // biome-ignore lint/correctness/useExhaustiveDependencies: the first load only; later loads follow the form
  useEffect(() => {
    void st.run(sql);
  }, []);

  return (
    <main>
      <h1>Audit log</h1>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void st.run(sql);
        }}
      >
        <label htmlFor={`${id}-user`}>User</label>
        <input id={`${id}-user`} value={filters.user} onChange={(e) => set({ user: e.target.value })} placeholder="name contains" />
        <label htmlFor={`${id}-service`}>Service</label>
        <select id={`${id}-service`} value={filters.service} onChange={(e) => set({ service: e.target.value })}>
          {SERVICES.map((s) => (
            <option key={s} value={s}>
              {s || 'Any service'}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-action`}>Action</label>
        <input id={`${id}-action`} value={filters.action} onChange={(e) => set({ action: e.target.value })} placeholder="e.g. createTable" />
        <label htmlFor={`${id}-outcome`}>Outcome</label>
        <select id={`${id}-outcome`} value={filters.outcome} onChange={(e) => set({ outcome: e.target.value as AuditFilters['outcome'] })}>
          <option value="">Any outcome</option>
          <option value="success">Succeeded</option>
          <option value="failure">Refused or failed</option>
        </select>
        <label htmlFor={`${id}-from`}>From</label>
        <input id={`${id}-from`} type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
        <label htmlFor={`${id}-to`}>Until</label>
        <input id={`${id}-to`} type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
        <button type="submit" className="primary" disabled={st.running}>
          Apply filters
        </button>
      </form>
      <details>
        <summary>SQL used</summary>
        <pre className="file-text">{sql}</pre>
        <Link href={`/sql?${new URLSearchParams({ q: sql })}`}>Open in the SQL editor</Link>
      </details>
      {st.running ? <Loading what="audit events" /> : null}
      <ErrorBox error={st.error} title="Could not read the audit log" />
      {st.outcome && st.outcome.rows.length === 0 ? <Empty title="No events match">Widen the time range or clear a filter.</Empty> : null}
      {st.outcome && st.outcome.rows.length > 0 ? (
        <>
          <p className="muted" aria-live="polite">
            {st.outcome.totalRows.toLocaleString()} events{st.outcome.totalRows >= filters.limit ? ` (the newest ${filters.limit})` : ''}.
          </p>
          <ResultGrid columns={st.outcome.columns} rows={st.outcome.rows} totalRows={st.outcome.totalRows} label="Audit events" onNearEnd={st.loadMore} />
        </>
      ) : null}
    </main>
  );
}

import { useEffect, useState } from 'react';
import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';
import { LineageLink } from '../lineage/LineageLink.tsx';
import { ResultGrid } from '../sql/ResultGrid.tsx';
import { quoteIdent } from '../sql/statement.ts';
import { useStatement } from '../sql/use-statement.ts';
import { GrantsPanel } from './GrantsPanel.tsx';

/** A table as the UC API returns it. */
interface UcTable {
  name: string;
  catalog_name: string;
  schema_name: string;
  full_name?: string;
  table_type?: string;
  data_source_format?: string;
  columns?: { name: string; type_text?: string; type_name?: string; nullable?: boolean; comment?: string; partition_index?: number }[];
  storage_location?: string;
  comment?: string;
  owner?: string;
  properties?: Record<string, string>;
  created_at?: number;
  updated_at?: number;
}

type Tab = 'columns' | 'sample' | 'history' | 'grants';
const SAMPLE_ROWS = 100;

/** A table: schema, properties, sample rows (now or at a past version), DESCRIBE HISTORY, grants and lineage. */
export function TableDetail({ parts }: { parts: readonly [string, string, string] }) {
  const fullName = parts.join('.');
  const quoted = parts.map(quoteIdent).join('.');
  const table = useQuery(['uc', 'table', fullName], () => api().get<UcTable>(`/api/2.1/unity-catalog/tables/${encodeURIComponent(fullName)}`));
  const [tab, setTab] = useState<Tab>('columns');
  const [version, setVersion] = useState<string | undefined>();
  const sample = useStatement();
  const history = useStatement();

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the tab or the version viewed changes
  useEffect(() => {
    if (tab === 'sample') void sample.run(`SELECT * FROM ${quoted}${version !== undefined ? ` VERSION AS OF ${Number(version)}` : ''} LIMIT ${SAMPLE_ROWS}`);
    if (tab === 'history') void history.run(`DESCRIBE HISTORY ${quoted}`);
  }, [tab, version, quoted]);

  if (table.error) return <ErrorBox error={table.error} title={`Could not load table ${fullName}`} />;
  if (!table.data) return <Loading what="table" />;
  const t = table.data;
  const tabs: [Tab, string][] = [
    ['columns', 'Columns'],
    ['sample', 'Sample rows'],
    ['history', 'History'],
    ['grants', 'Grants'],
  ];
  return (
    <article>
      <h1>Table {fullName}</h1>
      <dl className="overview">
        <dt>Type</dt>
        <dd>
          {t.table_type} {t.data_source_format}
        </dd>
        <dt>Owner</dt>
        <dd>{t.owner ?? '—'}</dd>
        <dt>Created</dt>
        <dd>{formatTime(t.created_at)}</dd>
        <dt>Location</dt>
        <dd className="wrap">{t.storage_location ?? '—'}</dd>
        {t.comment ? (
          <>
            <dt>Comment</dt>
            <dd>{t.comment}</dd>
          </>
        ) : null}
      </dl>
      <p>
        <LineageLink entity={`table:${fullName}`} label={`Lineage of ${fullName}`} /> ·{' '}
        <Link href={`/sql?${new URLSearchParams({ q: `SELECT * FROM ${fullName} LIMIT 100` })}`}>Query in the SQL editor</Link>
      </p>
      <div className="tabs" role="tablist" aria-label="Table details">
        {tabs.map(([key, label]) => (
          <button key={key} type="button" role="tab" aria-selected={tab === key} onClick={() => setTab(key)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={tabs.find(([k]) => k === tab)?.[1]}>
        {tab === 'columns' ? (
          <>
            <table className="data">
              <caption className="sr-only">Columns of {fullName}</caption>
              <thead>
                <tr>
                  <th scope="col">Column</th>
                  <th scope="col">Type</th>
                  <th scope="col">Nullable</th>
                  <th scope="col">Partition</th>
                  <th scope="col">Comment</th>
                </tr>
              </thead>
              <tbody>
                {(t.columns ?? []).map((c) => (
                  <tr key={c.name}>
                    <th scope="row">{c.name}</th>
                    <td>{c.type_text ?? c.type_name}</td>
                    <td>{c.nullable === false ? 'no' : 'yes'}</td>
                    <td>{c.partition_index !== undefined ? `#${c.partition_index}` : ''}</td>
                    <td>{c.comment ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Properties</h2>
            {Object.keys(t.properties ?? {}).length === 0 ? (
              <p className="muted">No properties.</p>
            ) : (
              <dl className="overview">
                {Object.entries(t.properties ?? {}).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                  </div>
                ))}
              </dl>
            )}
          </>
        ) : null}
        {tab === 'sample' ? (
          <>
            <p>
              {version !== undefined ? (
                <>
                  Showing version {version} (time travel).{' '}
                  <button type="button" className="link" onClick={() => setVersion(undefined)}>
                    Show the current version
                  </button>
                </>
              ) : (
                `The first ${SAMPLE_ROWS} rows of the current version.`
              )}
            </p>
            {sample.running ? <Loading what="rows" /> : null}
            <ErrorBox error={sample.error} title="Could not read rows" />
            {sample.outcome ? (
              sample.outcome.rows.length === 0 ? (
                <p className="muted">The table has no rows{version !== undefined ? ' at this version' : ''}. Insert some with INSERT INTO in the SQL editor.</p>
              ) : (
                <ResultGrid columns={sample.outcome.columns} rows={sample.outcome.rows} totalRows={sample.outcome.totalRows} label={`Rows of ${fullName}`} />
              )
            ) : null}
          </>
        ) : null}
        {tab === 'history' ? (
          <>
            {history.running ? <Loading what="history" /> : null}
            <ErrorBox error={history.error} title="Could not read the history" />
            {history.outcome ? (
              <table className="data history">
                <caption className="sr-only">History of {fullName}</caption>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Time</th>
                    <th scope="col">Operation</th>
                    <th scope="col">Parameters</th>
                    <th scope="col">Metrics</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {history.outcome.rows.map((r) => (
                    <tr key={r[0] ?? ''}>
                      <th scope="row">{r[0]}</th>
                      <td>{r[1] ? new Date(r[1]).toLocaleString() : ''}</td>
                      <td>{r[2]}</td>
                      <td className="wrap">
                        <code>{r[3]}</code>
                      </td>
                      <td className="wrap">
                        <code>{r[4]}</code>
                      </td>
                      <td>
                        <button
                          type="button"
                          onClick={() => {
                            setVersion(r[0] ?? undefined);
                            setTab('sample');
                          }}
                          aria-label={`View rows at version ${r[0]}`}
                        >
                          View rows
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </>
        ) : null}
        {tab === 'grants' ? <GrantsPanel securableType="table" fullName={fullName} /> : null}
      </div>
    </article>
  );
}

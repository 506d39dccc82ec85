import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';
import { modelNameFilter, type RegisteredModel } from './types.ts';

/** The link to a model's page; names may hold dots and spaces, so they are path-encoded. */
export function modelHref(name: string, version?: string): string {
  return `/models/${encodeURIComponent(name)}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}`;
}

/** Registered models with a name search and the newest version and aliases of each. */
export function ModelsPage() {
  const id = useId();
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [pageToken, setPageToken] = useState<string | undefined>();
  const filter = modelNameFilter(applied);
  const query = useQuery(['models', filter ?? '', pageToken ?? ''], () =>
    api().get<{ registered_models?: RegisteredModel[]; next_page_token?: string }>('/api/2.0/mlflow/registered-models/search', {
      max_results: 100,
      order_by: ['name ASC'],
      filter,
      page_token: pageToken,
    }),
  );
  const models = query.data?.registered_models ?? [];
  return (
    <main>
      <h1>Models</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setPageToken(undefined);
          setApplied(search);
        }}
      >
        <label htmlFor={`${id}-search`}>Search models by name</label>
        <input id={`${id}-search`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={query.error} title="Could not load models" />
      {query.loading && !query.data ? <Loading what="models" /> : null}
      {query.data && models.length === 0 ? (
        <Empty title={applied ? `No model name contains “${applied}”` : 'No registered models yet'}>
          Register one from Python with mlflow.register_model("runs:/&lt;run id&gt;/model", "my_model").
        </Empty>
      ) : null}
      {models.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Latest version</th>
              <th scope="col">Aliases</th>
              <th scope="col">Last updated</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => {
              const latest = [...(m.latest_versions ?? [])].sort((a, b) => Number(b.version) - Number(a.version))[0];
              return (
                <tr key={m.name}>
                  <td>
                    <Link href={modelHref(m.name)}>{m.name}</Link>
                  </td>
                  <td>{latest ? <Link href={modelHref(m.name, latest.version)}>Version {latest.version}</Link> : '—'}</td>
                  <td>{(m.aliases ?? []).map((a) => `@${a.alias} → v${a.version}`).join(', ') || '—'}</td>
                  <td>{formatTime(m.last_updated_timestamp ?? m.creation_timestamp)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <div className="toolbar">
        {pageToken ? (
          <button type="button" onClick={() => setPageToken(undefined)}>
            First page
          </button>
        ) : null}
        {query.data?.next_page_token ? (
          <button type="button" onClick={() => setPageToken(query.data?.next_page_token)}>
            Next page
          </button>
        ) : null}
      </div>
    </main>
  );
}

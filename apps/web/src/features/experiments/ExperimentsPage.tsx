import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { invalidate, useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';

/** An experiment as MLflow returns it. */
export interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage?: string;
  last_update_time?: number;
  creation_time?: number;
}

async function allExperiments(): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api().post<{ experiments?: Experiment[]; next_page_token?: string }>('/api/2.0/mlflow/experiments/search', {
      max_results: 1000,
      order_by: ['last_update_time DESC'],
      ...(pageToken ? { page_token: pageToken } : {}),
    });
    out.push(...(page.experiments ?? []));
    pageToken = page.next_page_token || undefined;
  } while (pageToken && out.length < 20_000);
  return out;
}

/** The experiment list with a create form. */
export function ExperimentsPage() {
  const id = useId();
  const query = useQuery(queryKeys.experiments(), allExperiments);
  const [name, setName] = useState('');
  const [createError, setCreateError] = useState<unknown>();
  const [search, setSearch] = useState('');
  const shown = (query.data ?? []).filter((e) => e.name.toLowerCase().includes(search.toLowerCase()));

  async function create() {
    setCreateError(undefined);
    try {
      const answer = await api().post<{ experiment_id: string }>('/api/2.0/mlflow/experiments/create', { name: name.trim() });
      setName('');
      invalidate(queryKeys.experiments());
      navigate(`/experiments/${answer.experiment_id}`);
    } catch (err) {
      setCreateError(err);
    }
  }

  return (
    <main>
      <h1>Experiments</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label htmlFor={`${id}-name`}>New experiment name</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required />
        <button type="submit" className="primary">
          Create experiment
        </button>
      </form>
      <ErrorBox error={createError} title="Could not create the experiment" />
      <div className="inline-form">
        <label htmlFor={`${id}-search`}>Search experiments</label>
        <input id={`${id}-search`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      <ErrorBox error={query.error} title="Could not load experiments" />
      {query.loading && !query.data ? <Loading what="experiments" /> : null}
      {query.data && query.data.length === 0 ? (
        <Empty title="No experiments yet">Create one above, or from Python with mlflow.set_experiment("demo").</Empty>
      ) : null}
      {shown.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Last updated</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.experiment_id}>
                <td>
                  <Link href={`/experiments/${e.experiment_id}`}>{e.name}</Link>
                </td>
                <td>{e.experiment_id}</td>
                <td>{formatTime(e.last_update_time ?? e.creation_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </main>
  );
}

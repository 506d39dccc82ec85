import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { invalidate, useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';
import { modelHref } from './ModelsPage.tsx';
import { useModelEditRight } from './permissions.ts';
import { RunLink } from './RunLink.tsx';
import { aliasesByVersion, aliasProblem, type ModelVersion, type RegisteredModel } from './types.ts';

/** Loads every version of a model (the registry pages them), newest first. */
async function allVersions(name: string): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api().get<{ model_versions?: ModelVersion[]; next_page_token?: string }>('/api/2.0/mlflow/model-versions/search', {
      filter: `name='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
      max_results: 1000,
      page_token: pageToken,
    });
    out.push(...(page.model_versions ?? []));
    pageToken = page.next_page_token || undefined;
  } while (pageToken && out.length < 50_000);
  return out.sort((a, b) => Number(b.version) - Number(a.version));
}

/** Sets (moves) an alias after the user confirms; answers the server's error, if any. */
export async function promote(model: string, alias: string, version: string): Promise<void> {
  await api().post('/api/2.0/mlflow/registered-models/alias', { name: model, alias, version });
  invalidate(['model', model]);
  invalidate(['models']);
}

/** One registered model: description, aliases (set, move, delete), tags and every version. */
export function ModelDetailPage({ name }: { name: string }) {
  const id = useId();
  const model = useQuery(['model', name], () => api().get<{ registered_model: RegisteredModel }>('/api/2.0/mlflow/registered-models/get', { name }));
  const versions = useQuery(['model', name, 'versions'], () => allVersions(name));
  const right = useModelEditRight(model.data?.registered_model.id);
  const [alias, setAlias] = useState('');
  const [aliasVersion, setAliasVersion] = useState('');
  const [actionError, setActionError] = useState<unknown>();
  const [notice, setNotice] = useState('');

  if (model.error) return <ErrorBox error={model.error} title="Could not load the model" />;
  if (!model.data) return <Loading what="model" />;
  const m = model.data.registered_model;
  const byVersion = aliasesByVersion(m);
  const problem = alias ? aliasProblem(alias) : null;

  async function setAliasNow() {
    setActionError(undefined);
    setNotice('');
    const a = alias.trim();
    const current = (m.aliases ?? []).find((x) => x.alias === a);
    const question = current
      ? `Move alias @${a} of ${m.name} from version ${current.version} to version ${aliasVersion}? Anything that loads @${a} switches at once.`
      : `Point alias @${a} of ${m.name} at version ${aliasVersion}?`;
    if (!window.confirm(question)) return;
    try {
      await promote(m.name, a, aliasVersion);
      setNotice(`@${a} now points at version ${aliasVersion}.`);
      setAlias('');
    } catch (err) {
      setActionError(err);
    }
  }

  async function deleteAlias(a: string) {
    if (!window.confirm(`Delete alias @${a} of ${m.name}? Clients loading models:/${m.name}@${a} will fail.`)) return;
    setActionError(undefined);
    setNotice('');
    try {
      await api().request('DELETE', `/api/2.0/mlflow/registered-models/alias?${new URLSearchParams({ name: m.name, alias: a })}`);
      setNotice(`Deleted @${a}.`);
      invalidate(['model', m.name]);
    } catch (err) {
      setActionError(err);
    }
  }

  return (
    <main>
      <p>
        <Link href="/models">← All models</Link>
      </p>
      <h1>Model {m.name}</h1>
      <p>{m.description || <span className="muted">No description.</span>}</p>
      <dl className="overview">
        <dt>Created</dt>
        <dd>{formatTime(m.creation_timestamp)}</dd>
        <dt>Last updated</dt>
        <dd>{formatTime(m.last_updated_timestamp)}</dd>
        <dt>Your rights</dt>
        <dd>{right === 'yes' ? 'You can change this model.' : 'You can read this model; changes need CAN_EDIT, which the server checks.'}</dd>
      </dl>

      <section>
        <h2>Aliases</h2>
        {(m.aliases ?? []).length === 0 ? <p className="muted">No aliases. Set one below, e.g. “champion”, to promote a version.</p> : null}
        {(m.aliases ?? []).length > 0 ? (
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Alias</th>
                <th scope="col">Version</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(m.aliases ?? []).map((a) => (
                <tr key={a.alias}>
                  <th scope="row">@{a.alias}</th>
                  <td>
                    <Link href={modelHref(m.name, String(a.version))}>Version {a.version}</Link>
                  </td>
                  <td>
                    <button type="button" className="danger" onClick={() => void deleteAlias(a.alias)} aria-label={`Delete alias ${a.alias}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!problem) void setAliasNow();
          }}
        >
          <label htmlFor={`${id}-alias`}>Alias</label>
          <input
            id={`${id}-alias`}
            value={alias}
            onChange={(e) => setAlias(e.target.value)}
            required
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-alias-problem` : undefined}
          />
          <label htmlFor={`${id}-version`}>Version</label>
          <select id={`${id}-version`} value={aliasVersion} onChange={(e) => setAliasVersion(e.target.value)} required>
            <option value="">Choose…</option>
            {(versions.data ?? []).map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
          <button type="submit" className="primary" disabled={!!problem || !alias || !aliasVersion}>
            Set alias
          </button>
        </form>
        {problem ? (
          <p id={`${id}-alias-problem`} className="hint">
            {problem}
          </p>
        ) : null}
        <ErrorBox error={actionError} title="The server refused" />
        {notice ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
      </section>

      <section>
        <h2>Versions</h2>
        <ErrorBox error={versions.error} title="Could not load versions" />
        {versions.loading && !versions.data ? <Loading what="versions" /> : null}
        {versions.data && versions.data.length === 0 ? (
          <Empty title="No versions yet">Register one with mlflow.register_model or mlflow.&lt;flavor&gt;.log_model(..., registered_model_name=...).</Empty>
        ) : null}
        {versions.data && versions.data.length > 0 ? (
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Aliases</th>
                <th scope="col">Stage</th>
                <th scope="col">Status</th>
                <th scope="col">Source run</th>
                <th scope="col">Registered</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.map((v) => (
                <tr key={v.version}>
                  <td>
                    <Link href={modelHref(m.name, v.version)}>Version {v.version}</Link>
                  </td>
                  <td>{(byVersion.get(v.version) ?? []).map((a) => `@${a}`).join(', ')}</td>
                  <td>{v.current_stage ?? 'None'}</td>
                  <td>{v.status ?? ''}</td>
                  <td>{v.run_id ? <RunLink runId={v.run_id} /> : '—'}</td>
                  <td>{formatTime(v.creation_timestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>

      <section>
        <h2>Tags</h2>
        {(m.tags ?? []).length === 0 ? (
          <p className="muted">No tags.</p>
        ) : (
          <ul>
            {(m.tags ?? []).map((t) => (
              <li key={t.key}>
                <strong>{t.key}</strong>: {t.value}
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

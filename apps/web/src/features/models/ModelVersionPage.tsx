import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';
import { LineageLink } from '../lineage/LineageLink.tsx';
import { promote } from './ModelDetailPage.tsx';
import { modelHref } from './ModelsPage.tsx';
import { useModelEditRight } from './permissions.ts';
import { RunLink } from './RunLink.tsx';
import { aliasProblem, type ModelVersion, type RegisteredModel, signatureFields } from './types.ts';

/** What Weir read from a version's MLmodel (GET /api/weir/v1/models/{name}/versions/{version}). */
interface VersionFacts {
  model_version: ModelVersion;
  full_name: string;
  flavors: string[];
  signature: { inputs?: unknown; outputs?: unknown; params?: unknown } | null;
  input_example: Record<string, unknown> | null;
  servable: boolean;
  not_servable_reason: string | null;
}

/** A version's lineage as the registry reports it: the source run and the tables it trained on. */
interface VersionLineage {
  run?: { run_id: string; exists?: boolean };
  datasets: { name?: string; source_type?: string; tables?: string[] }[];
  tables?: string[];
}

function SignatureTable({ caption, spec }: { caption: string; spec: unknown }) {
  const fields = signatureFields(spec);
  if (fields.length === 0) return null;
  return (
    <table className="data">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Type</th>
          <th scope="col">Required</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f.name}>
            <th scope="row">{f.name}</th>
            <td>{f.type}</td>
            <td>{f.required ? 'yes' : 'no'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One model version: status, stage and aliases, source run, signature, flavors, lineage and promotion. */
export function ModelVersionPage({ name, version }: { name: string; version: string }) {
  const id = useId();
  const facts = useQuery(['model', name, 'version', version], () =>
    api().get<VersionFacts>(`/api/weir/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
  );
  const model = useQuery(['model', name], () => api().get<{ registered_model: RegisteredModel }>('/api/2.0/mlflow/registered-models/get', { name }));
  const lineage = useQuery(['model', name, 'version', version, 'lineage'], () =>
    api().get<VersionLineage>(`/api/weir/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/lineage`),
  );
  const right = useModelEditRight(model.data?.registered_model.id);
  const [alias, setAlias] = useState('champion');
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');

  if (facts.error) return <ErrorBox error={facts.error} title="Could not load the model version" />;
  if (!facts.data) return <Loading what="model version" />;
  const v = facts.data.model_version;
  const aliases = (model.data?.registered_model.aliases ?? []).filter((a) => String(a.version) === String(v.version)).map((a) => a.alias);
  const problem = aliasProblem(alias);

  async function promoteNow() {
    setError(undefined);
    setNotice('');
    const a = alias.trim();
    const current = (model.data?.registered_model.aliases ?? []).find((x) => x.alias === a);
    const from = current && String(current.version) !== String(v.version) ? ` (it points at version ${current.version} now)` : '';
    if (!window.confirm(`Promote version ${v.version} of ${name} to @${a}${from}? Anything that loads @${a} switches at once.`)) return;
    try {
      await promote(name, a, v.version);
      setNotice(`Version ${v.version} is now @${a}.`);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <main>
      <p>
        <Link href={modelHref(name)}>← Model {name}</Link>
      </p>
      <h1>
        {name} version {v.version}
      </h1>
      <dl className="overview">
        <dt>Full name</dt>
        <dd>{facts.data.full_name}</dd>
        <dt>Status</dt>
        <dd>
          {v.status}
          {v.status_message ? ` — ${v.status_message}` : ''}
        </dd>
        <dt>Stage</dt>
        <dd>{v.current_stage ?? 'None'}</dd>
        <dt>Aliases</dt>
        <dd>{aliases.length ? aliases.map((a) => `@${a}`).join(', ') : 'none'}</dd>
        <dt>Source run</dt>
        <dd>{v.run_id ? <RunLink runId={v.run_id} /> : '—'}</dd>
        <dt>Source</dt>
        <dd className="wrap">{v.source ?? '—'}</dd>
        <dt>Registered</dt>
        <dd>{formatTime(v.creation_timestamp)}</dd>
        <dt>Flavors</dt>
        <dd>{facts.data.flavors.join(', ') || '—'}</dd>
        <dt>Servable</dt>
        <dd>{facts.data.servable ? 'yes' : `no${facts.data.not_servable_reason ? ` — ${facts.data.not_servable_reason}` : ''}`}</dd>
      </dl>
      {v.description ? <p>{v.description}</p> : null}

      <section>
        <h2>Promote</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!problem) void promoteNow();
          }}
        >
          <label htmlFor={`${id}-alias`}>Alias to point at this version</label>
          <input id={`${id}-alias`} value={alias} onChange={(e) => setAlias(e.target.value)} required aria-invalid={problem ? true : undefined} />
          <button type="submit" className="primary" disabled={!!problem}>
            Promote to @{alias.trim() || '…'}
          </button>
        </form>
        {problem ? <p className="hint">{problem}</p> : null}
        {right === 'unknown' ? <p className="hint">Promoting needs CAN_EDIT on the model; the server checks it.</p> : null}
        <ErrorBox error={error} title="The server refused" />
        {notice ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
      </section>

      <section>
        <h2>Signature</h2>
        {facts.data.signature ? (
          <>
            <SignatureTable caption="Inputs" spec={facts.data.signature.inputs} />
            <SignatureTable caption="Outputs" spec={facts.data.signature.outputs} />
          </>
        ) : (
          <p className="muted">This version has no signature. Log the model with an input_example or signature to record one.</p>
        )}
      </section>

      <section>
        <h2>Lineage</h2>
        <ErrorBox error={lineage.error} title="Could not load lineage" />
        {lineage.data ? (
          <p>
            Trained on:{' '}
            {lineage.data.datasets.length === 0
              ? 'no datasets were logged by the source run.'
              : lineage.data.datasets.map((d) => `${d.name ?? 'dataset'}${d.tables?.length ? ` (${d.tables.join(', ')})` : ''}`).join('; ')}
          </p>
        ) : null}
        <p>
          <LineageLink entity={`model_version:${facts.data.full_name}/${v.version}`} label="Open the lineage graph" />
        </p>
      </section>
    </main>
  );
}

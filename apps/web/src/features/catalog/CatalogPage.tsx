import type { ReactNode } from 'react';
import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';
import { modelHref } from '../models/ModelsPage.tsx';
import { CatalogTree, listAll, schemaChildren } from './CatalogTree.tsx';
import { GrantsPanel } from './GrantsPanel.tsx';
import { catalogHref } from './names.ts';
import { TableDetail } from './TableDetail.tsx';
import { VolumeBrowser } from './VolumeBrowser.tsx';

const UC = '/api/2.1/unity-catalog';

function CatalogDetail({ name }: { name: string }) {
  const info = useQuery(['uc', 'catalog', name], () =>
    api().get<{ name: string; owner?: string; comment?: string; created_at?: number }>(`${UC}/catalogs/${encodeURIComponent(name)}`),
  );
  const schemas = useQuery(['uc', 'schemas', name], () => listAll<{ name: string; comment?: string }>(`${UC}/schemas`, 'schemas', { catalog_name: name }));
  return (
    <article>
      <h1>Catalog {name}</h1>
      <ErrorBox error={info.error} title="Could not load the catalog" />
      {info.data ? (
        <dl className="overview">
          <dt>Owner</dt>
          <dd>{info.data.owner ?? '—'}</dd>
          <dt>Created</dt>
          <dd>{formatTime(info.data.created_at)}</dd>
          {info.data.comment ? (
            <>
              <dt>Comment</dt>
              <dd>{info.data.comment}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      <h2>Schemas</h2>
      <ErrorBox error={schemas.error} title="Could not list schemas" />
      {schemas.data && schemas.data.length === 0 ? <Empty title="No schemas">Create one with CREATE SCHEMA {name}.my_schema in the SQL editor.</Empty> : null}
      <ul>
        {(schemas.data ?? []).map((s) => (
          <li key={s.name}>
            <Link href={catalogHref([name, s.name])}>{s.name}</Link>
            {s.comment ? <span className="muted"> — {s.comment}</span> : null}
          </li>
        ))}
      </ul>
      <GrantsPanel securableType="catalog" fullName={name} />
    </article>
  );
}

function SchemaDetail({ catalog, schema }: { catalog: string; schema: string }) {
  const children = useQuery(['uc', 'children', catalog, schema], () => schemaChildren(catalog, schema));
  const sections = [
    ['Tables', 'table', children.data?.tables],
    ['Volumes', 'volume', children.data?.volumes],
    ['Functions', 'function', children.data?.functions],
    ['Models', 'model', children.data?.models],
  ] as const;
  return (
    <article>
      <h1>
        Schema {catalog}.{schema}
      </h1>
      <ErrorBox error={children.error} title="Could not list the schema" />
      {children.loading && !children.data ? <Loading what="schema" /> : null}
      {sections.map(([label, kind, list]) => (
        <section key={kind}>
          <h2>{label}</h2>
          {list && list.length === 0 ? <p className="muted">No {label.toLowerCase()}.</p> : null}
          <ul>
            {(list ?? []).map((o) => (
              <li key={o.name}>
                <Link href={catalogHref([catalog, schema, o.name], kind)}>{o.name}</Link>
              </li>
            ))}
          </ul>
        </section>
      ))}
      <GrantsPanel securableType="schema" fullName={`${catalog}.${schema}`} />
    </article>
  );
}

function FunctionDetail({ fullName }: { fullName: string }) {
  const info = useQuery(['uc', 'function', fullName], () =>
    api().get<{
      full_name?: string;
      data_type?: string;
      full_data_type?: string;
      routine_body?: string;
      routine_definition?: string;
      external_language?: string;
      input_params?: { parameters?: { name: string; type_text?: string }[] };
      comment?: string;
      owner?: string;
    }>(`${UC}/functions/${encodeURIComponent(fullName)}`),
  );
  const f = info.data;
  return (
    <article>
      <h1>Function {fullName}</h1>
      <ErrorBox error={info.error} title="Could not load the function" />
      {f ? (
        <>
          <dl className="overview">
            <dt>Signature</dt>
            <dd>
              <code>
                {fullName}({(f.input_params?.parameters ?? []).map((p) => `${p.name} ${p.type_text ?? ''}`.trim()).join(', ')}) →{' '}
                {f.full_data_type ?? f.data_type}
              </code>
            </dd>
            <dt>Body</dt>
            <dd>
              {f.routine_body}
              {f.external_language ? ` (${f.external_language})` : ''}
            </dd>
            <dt>Owner</dt>
            <dd>{f.owner ?? '—'}</dd>
          </dl>
          {f.comment ? <p>{f.comment}</p> : null}
          {f.routine_definition ? <pre className="file-text">{f.routine_definition}</pre> : null}
        </>
      ) : null}
      <GrantsPanel securableType="function" fullName={fullName} />
    </article>
  );
}

/** The catalog explorer: the securable tree beside the selected catalog, schema, table, volume, function or model. */
export function CatalogPage({ parts, kind }: { parts: readonly string[]; kind: string | null }) {
  const [c, s, o] = parts;
  let detail: ReactNode;
  if (c === undefined)
    detail = (
      <Empty title="Choose a catalog">
        Pick a catalog, schema or table on the left. New here? Run CREATE CATALOG, CREATE SCHEMA and CREATE TABLE in the <Link href="/sql">SQL editor</Link>.
      </Empty>
    );
  else if (s === undefined) detail = <CatalogDetail name={c} />;
  else if (o === undefined) detail = <SchemaDetail catalog={c} schema={s} />;
  else if (kind === 'volume') detail = <VolumeBrowser key={parts.join('.')} parts={[c, s, o]} />;
  else if (kind === 'function') detail = <FunctionDetail fullName={`${c}.${s}.${o}`} />;
  else if (kind === 'model')
    detail = (
      <article>
        <h1>Model {`${c}.${s}.${o}`}</h1>
        <p>
          <Link href={modelHref(`${c}.${s}.${o}`)}>Open the model’s versions and aliases</Link>
        </p>
        <GrantsPanel securableType="registered_model" fullName={`${c}.${s}.${o}`} />
      </article>
    );
  else detail = <TableDetail key={parts.join('.')} parts={[c, s, o]} />;
  return (
    <main className="catalog-layout">
      <div className="catalog-side">
        <h2 className="tree-title">Catalog</h2>
        <CatalogTree current={parts} />
      </div>
      <div className="catalog-main">{detail}</div>
    </main>
  );
}

import { useState } from 'react';
import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { ErrorBox } from '../../shell/ui.tsx';
import { catalogHref } from './names.ts';

const UC = '/api/2.1/unity-catalog';

/** Lists a UC collection, following page tokens (catalogs and schemas are few; tables can be many). */
export async function listAll<T>(path: string, key: string, query: Record<string, string>): Promise<T[]> {
  const out: T[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api().get<Record<string, unknown>>(path, { ...query, max_results: 1000, page_token: pageToken });
    out.push(...((page[key] as T[] | undefined) ?? []));
    pageToken = (page.next_page_token as string | undefined) || undefined;
  } while (pageToken && out.length < 20_000);
  return out;
}

/** A schema's children of every kind the catalog holds. */
export async function schemaChildren(catalog: string, schema: string) {
  const q = { catalog_name: catalog, schema_name: schema };
  const [tables, volumes, functions, models] = await Promise.all([
    listAll<{ name: string; table_type?: string }>(`${UC}/tables`, 'tables', q),
    listAll<{ name: string; volume_type?: string }>(`${UC}/volumes`, 'volumes', q),
    listAll<{ name: string }>(`${UC}/functions`, 'functions', q),
    listAll<{ name: string; full_name?: string }>(`${UC}/models`, 'registered_models', q),
  ]);
  return { tables, volumes, functions, models };
}

function SchemaNode({ catalog, schema, current }: { catalog: string; schema: string; current: readonly string[] }) {
  const here = current[0] === catalog && current[1] === schema;
  const [open, setOpen] = useState(here);
  const children = useQuery(['uc', 'children', catalog, schema], () => schemaChildren(catalog, schema), open);
  const sections = [
    ['Tables', 'table', children.data?.tables],
    ['Volumes', 'volume', children.data?.volumes],
    ['Functions', 'function', children.data?.functions],
    ['Models', 'model', children.data?.models],
  ] as const;
  return (
    <li>
      <button
        type="button"
        className="tree-toggle"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        aria-label={`${open ? 'Collapse' : 'Expand'} schema ${catalog}.${schema}`}
      >
        {open ? '▾' : '▸'}
      </button>
      <Link href={catalogHref([catalog, schema])} aria-current={here && current.length === 2 ? 'page' : undefined}>
        {schema}
      </Link>
      {open ? (
        <>
          <ErrorBox error={children.error} title="Could not list" />
          {children.data ? (
            <ul>
              {sections.map(([label, kind, list]) =>
                list && list.length > 0 ? (
                  <li key={kind}>
                    <span className="muted">{label}</span>
                    <ul>
                      {list.map((o) => (
                        <li key={o.name}>
                          <Link href={catalogHref([catalog, schema, o.name], kind)} aria-current={here && current[2] === o.name ? 'page' : undefined}>
                            {o.name}
                          </Link>
                        </li>
                      ))}
                    </ul>
                  </li>
                ) : null,
              )}
              {sections.every(([, , list]) => !list || list.length === 0) ? <li className="muted">Empty schema</li> : null}
            </ul>
          ) : null}
        </>
      ) : null}
    </li>
  );
}

function CatalogNode({ name, current }: { name: string; current: readonly string[] }) {
  const here = current[0] === name;
  const [open, setOpen] = useState(here);
  const schemas = useQuery(['uc', 'schemas', name], () => listAll<{ name: string }>(`${UC}/schemas`, 'schemas', { catalog_name: name }), open);
  return (
    <li>
      <button
        type="button"
        className="tree-toggle"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        aria-label={`${open ? 'Collapse' : 'Expand'} catalog ${name}`}
      >
        {open ? '▾' : '▸'}
      </button>
      <Link href={catalogHref([name])} aria-current={here && current.length === 1 ? 'page' : undefined}>
        {name}
      </Link>
      {open ? (
        <>
          <ErrorBox error={schemas.error} title="Could not list schemas" />
          <ul>
            {(schemas.data ?? []).map((s) => (
              <SchemaNode key={s.name} catalog={name} schema={s.name} current={current} />
            ))}
          </ul>
        </>
      ) : null}
    </li>
  );
}

/** The securable tree: catalogs → schemas → tables, volumes, functions and models; branches load when opened. */
export function CatalogTree({ current }: { current: readonly string[] }) {
  const catalogs = useQuery(['uc', 'catalogs'], () => listAll<{ name: string }>(`${UC}/catalogs`, 'catalogs', {}));
  return (
    <nav aria-label="Catalog tree" className="catalog-tree tree">
      <ErrorBox error={catalogs.error} title="Could not list catalogs" />
      <ul>
        {(catalogs.data ?? []).map((c) => (
          <CatalogNode key={c.name} name={c.name} current={current} />
        ))}
      </ul>
      {catalogs.data && catalogs.data.length === 0 ? <p className="muted">No catalogs you can see. Create one with CREATE CATALOG in the SQL editor.</p> : null}
    </nav>
  );
}

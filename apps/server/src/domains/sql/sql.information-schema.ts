import type { CatalogService } from '../catalog/index.ts';
import { columnsOf, type TablesService } from '../tables/index.ts';
import { sqlInvalid, sqlString } from './sql.text.ts';

type Cell = string | number | boolean | null;

const VIEWS: Record<string, [string, string][]> = {
  catalogs: [
    ['catalog_name', 'VARCHAR'],
    ['catalog_owner', 'VARCHAR'],
    ['comment', 'VARCHAR'],
    ['created', 'TIMESTAMPTZ'],
    ['created_by', 'VARCHAR'],
    ['last_altered', 'TIMESTAMPTZ'],
    ['last_altered_by', 'VARCHAR'],
  ],
  schemata: [
    ['catalog_name', 'VARCHAR'],
    ['schema_name', 'VARCHAR'],
    ['schema_owner', 'VARCHAR'],
    ['comment', 'VARCHAR'],
    ['created', 'TIMESTAMPTZ'],
    ['created_by', 'VARCHAR'],
    ['last_altered', 'TIMESTAMPTZ'],
    ['last_altered_by', 'VARCHAR'],
  ],
  tables: [
    ['table_catalog', 'VARCHAR'],
    ['table_schema', 'VARCHAR'],
    ['table_name', 'VARCHAR'],
    ['table_type', 'VARCHAR'],
    ['is_insertable_into', 'VARCHAR'],
    ['table_owner', 'VARCHAR'],
    ['comment', 'VARCHAR'],
    ['created', 'TIMESTAMPTZ'],
    ['created_by', 'VARCHAR'],
    ['last_altered', 'TIMESTAMPTZ'],
    ['last_altered_by', 'VARCHAR'],
    ['data_source_format', 'VARCHAR'],
    ['storage_path', 'VARCHAR'],
  ],
  columns: [
    ['table_catalog', 'VARCHAR'],
    ['table_schema', 'VARCHAR'],
    ['table_name', 'VARCHAR'],
    ['column_name', 'VARCHAR'],
    ['ordinal_position', 'INTEGER'],
    ['is_nullable', 'VARCHAR'],
    ['full_data_type', 'VARCHAR'],
    ['data_type', 'VARCHAR'],
    ['numeric_precision', 'INTEGER'],
    ['numeric_scale', 'INTEGER'],
    ['partition_index', 'INTEGER'],
    ['comment', 'VARCHAR'],
  ],
  volumes: [
    ['volume_catalog', 'VARCHAR'],
    ['volume_schema', 'VARCHAR'],
    ['volume_name', 'VARCHAR'],
    ['volume_type', 'VARCHAR'],
    ['volume_owner', 'VARCHAR'],
    ['comment', 'VARCHAR'],
    ['storage_location', 'VARCHAR'],
    ['created', 'TIMESTAMPTZ'],
    ['created_by', 'VARCHAR'],
    ['last_altered', 'TIMESTAMPTZ'],
    ['last_altered_by', 'VARCHAR'],
  ],
};

function literal(v: Cell, type: string): string {
  if (v === null) return `NULL::${type}`;
  if (type === 'TIMESTAMPTZ') return `make_timestamp(${Number(v)}::BIGINT * 1000)::TIMESTAMPTZ`;
  if (type === 'INTEGER') return `${Number(v)}::INTEGER`;
  return `${sqlString(String(v))}::${type}`;
}

/** SQL for `<catalog>.information_schema.<view>` built from the catalog's metadata (`system` shows every catalog). */
export async function informationSchemaSql(
  ctx: { catalog: CatalogService; tables: TablesService },
  catalogName: string,
  view: string,
  visible?: (type: 'catalog' | 'schema' | 'table' | 'volume', fullNames: string[]) => Promise<Set<string>>,
): Promise<string> {
  const columns = VIEWS[view.toLowerCase()];
  if (!columns) throw sqlInvalid(`information_schema has no view '${view}' (known: ${Object.keys(VIEWS).join(', ')}).`);
  const inv = await ctx.catalog.inventory();
  const all = catalogName === 'system';
  if (!all && !inv.catalogs.some((c) => c.name === catalogName)) throw sqlInvalid(`Catalog '${catalogName}' does not exist.`);
  const keep = (c: string) => all || c === catalogName;
  let rows: Cell[][] = [];
  switch (view.toLowerCase()) {
    case 'catalogs':
      rows = inv.catalogs.filter((c) => keep(c.name)).map((c) => [c.name, c.owner, c.comment ?? null, c.created_at, c.created_by, c.updated_at, c.updated_by]);
      break;
    case 'schemata':
      rows = inv.schemas
        .filter((s) => keep(s.catalog_name))
        .map((s) => [s.catalog_name, s.name, s.owner, s.comment ?? null, s.created_at, s.created_by, s.updated_at, s.updated_by]);
      break;
    case 'volumes':
      rows = inv.volumes
        .filter((v) => keep(v.catalog_name))
        .map((v) => [
          v.catalog_name,
          v.schema_name,
          v.name,
          v.volume_type,
          v.owner,
          v.comment ?? null,
          v.storage_location,
          v.created_at,
          v.created_by,
          v.updated_at,
          v.updated_by,
        ]);
      break;
    default: {
      const schemaById = new Map(inv.schemas.map((s) => [s.schema_id, s]));
      for (const t of await ctx.tables.inventory()) {
        const s = schemaById.get(t.schemaId);
        if (!s || !keep(s.catalog_name)) continue;
        if (view.toLowerCase() === 'tables') {
          rows.push([
            s.catalog_name,
            s.name,
            t.row.name,
            t.row.table_type,
            t.row.table_type === 'VIEW' ? 'NO' : 'YES',
            t.row.owner,
            t.row.comment,
            t.row.created_at,
            t.row.created_by,
            t.row.updated_at,
            t.row.updated_by,
            t.row.data_source_format,
            t.row.storage_location ? `file://${t.row.storage_location}` : null,
          ]);
        } else {
          for (const c of columnsOf(t.stored.schema, t.stored.partitionColumns)) {
            rows.push([
              s.catalog_name,
              s.name,
              t.row.name,
              c.name,
              c.position,
              c.nullable ? 'YES' : 'NO',
              c.type_text,
              c.type_name,
              c.type_precision ?? null,
              c.type_scale ?? null,
              c.partition_index ?? null,
              c.comment ?? null,
            ]);
          }
        }
      }
    }
  }
  if (visible) rows = await keepVisible(rows, view.toLowerCase(), visible);
  const names = columns.map(([n]) => n).join(', ');
  if (rows.length === 0) return `SELECT ${columns.map(([n, t]) => `NULL::${t} AS ${n}`).join(', ')} WHERE false`;
  const values = rows.map((r) => `(${r.map((v, i) => literal(v, (columns[i] as [string, string])[1])).join(', ')})`).join(',\n');
  return `SELECT * FROM (VALUES ${values}) AS info(${names})`;
}

/** Keeps the rows of objects the caller may see (the first columns of every view are the object's name parts). */
async function keepVisible(
  rows: Cell[][],
  view: string,
  visible: (type: 'catalog' | 'schema' | 'table' | 'volume', fullNames: string[]) => Promise<Set<string>>,
): Promise<Cell[][]> {
  const [type, parts]: ['catalog' | 'schema' | 'table' | 'volume', number] =
    view === 'catalogs' ? ['catalog', 1] : view === 'schemata' ? ['schema', 2] : view === 'volumes' ? ['volume', 3] : ['table', 3];
  const nameOf = (r: Cell[]) => r.slice(0, parts).map(String).join('.');
  const allowed = await visible(type, [...new Set(rows.map(nameOf))]);
  return rows.filter((r) => allowed.has(nameOf(r)));
}

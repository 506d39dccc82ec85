import type { Privilege, Securable, SecurableType } from './governance.types.ts';

/** Every privilege Weir knows, in Databricks' spelling. */
export const PRIVILEGES: readonly Privilege[] = [
  'ALL_PRIVILEGES',
  'MANAGE',
  'BROWSE',
  'USE_CATALOG',
  'USE_SCHEMA',
  'SELECT',
  'MODIFY',
  'EXECUTE',
  'READ_VOLUME',
  'WRITE_VOLUME',
  'CREATE_CATALOG',
  'CREATE_SCHEMA',
  'CREATE_TABLE',
  'CREATE_VOLUME',
  'CREATE_FUNCTION',
  'CREATE_MODEL',
];

const LEAF_READ_WRITE: Privilege[] = ['SELECT', 'MODIFY', 'EXECUTE', 'READ_VOLUME', 'WRITE_VOLUME'];
const SCHEMA_CREATES: Privilege[] = ['CREATE_TABLE', 'CREATE_VOLUME', 'CREATE_FUNCTION', 'CREATE_MODEL'];

/**
 * Which privileges may be granted on which securable type, as Databricks allows them. A privilege granted on a
 * container applies to the matching children (SELECT on a catalog reaches every table in it).
 */
export const APPLICABLE: Record<SecurableType, ReadonlySet<Privilege>> = {
  metastore: new Set<Privilege>(['CREATE_CATALOG']),
  catalog: new Set<Privilege>(['ALL_PRIVILEGES', 'MANAGE', 'BROWSE', 'USE_CATALOG', 'USE_SCHEMA', 'CREATE_SCHEMA', ...SCHEMA_CREATES, ...LEAF_READ_WRITE]),
  schema: new Set<Privilege>(['ALL_PRIVILEGES', 'MANAGE', 'USE_SCHEMA', ...SCHEMA_CREATES, ...LEAF_READ_WRITE]),
  table: new Set<Privilege>(['ALL_PRIVILEGES', 'MANAGE', 'SELECT', 'MODIFY']),
  volume: new Set<Privilege>(['ALL_PRIVILEGES', 'MANAGE', 'READ_VOLUME', 'WRITE_VOLUME']),
  function: new Set<Privilege>(['ALL_PRIVILEGES', 'MANAGE', 'EXECUTE']),
  registered_model: new Set<Privilege>(['ALL_PRIVILEGES', 'MANAGE', 'EXECUTE']),
};

/** How a client spells privileges and securable types: OSS Unity Catalog uses spaces, Databricks underscores. */
export type Dialect = 'oss' | 'databricks';

/**
 * Tells the clients apart by User-Agent: the Databricks SDKs announce `databricks-sdk-*`; the OSS clients are
 * OpenAPI-generated (`OpenAPI-Generator/...`, `unitycatalog-*`) or Java's HTTP client. Anything else gets Databricks'
 * spelling, which Weir's own clients use.
 */
export function dialectOf(userAgent: string | undefined): Dialect {
  const ua = (userAgent ?? '').toLowerCase();
  if (ua.includes('databricks-sdk')) return 'databricks';
  if (ua.includes('openapi-generator') || ua.includes('unitycatalog') || ua.includes('java-http-client')) return 'oss';
  return 'databricks';
}

/** Reads a privilege in either spelling and any case; undefined when Weir does not know it. */
export function parsePrivilege(text: string): Privilege | undefined {
  const normalized = text
    .trim()
    .toUpperCase()
    .replace(/[\s_]+/g, '_');
  return (PRIVILEGES as readonly string[]).includes(normalized) ? (normalized as Privilege) : undefined;
}

/** A privilege in the caller's spelling. */
export function spellPrivilege(privilege: Privilege, dialect: Dialect): string {
  return dialect === 'oss' ? privilege.replace(/_/g, ' ') : privilege;
}

/** A securable type as the caller's client expects it (Databricks' SDK enums are upper case, OSS lower case). */
export function spellType(type: SecurableType, dialect: Dialect): string {
  if (dialect === 'oss') return type;
  // Databricks grants models under the FUNCTION securable type.
  return (type === 'registered_model' ? 'function' : type).toUpperCase();
}

/** Parses a `securable_type` path segment in any case; `function` may name a model (resolved later by what exists). */
export function parseSecurableType(text: string): SecurableType | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'model') return 'registered_model';
  return (Object.keys(APPLICABLE) as SecurableType[]).includes(t as SecurableType) ? (t as SecurableType) : undefined;
}

/** How many dotted parts a full name of this type has. */
export function nameDepth(type: SecurableType): number {
  if (type === 'metastore' || type === 'catalog') return 1;
  return type === 'schema' ? 2 : 3;
}

/** The securable and its containers, nearest first: table → schema → catalog → metastore. */
export function chainOf(securable: Securable): Securable[] {
  if (securable.type === 'metastore') return [securable];
  const parts = securable.fullName.split('.');
  const chain: Securable[] = [securable];
  if (nameDepth(securable.type) === 3) chain.push({ type: 'schema', fullName: `${parts[0]}.${parts[1]}` });
  if (securable.type !== 'catalog') chain.push({ type: 'catalog', fullName: parts[0] ?? '' });
  chain.push({ type: 'metastore', fullName: 'metastore' });
  return chain;
}

/** The key of a securable in maps and caches. */
export const securableKey = (s: Securable): string => `${s.type}\u0001${s.fullName}`;

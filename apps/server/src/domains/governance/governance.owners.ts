import type { OwnerLookup, PrincipalDirectory, PrincipalRef } from './governance.service.ts';
import type { Securable } from './governance.types.ts';

/** Narrow reads of the catalog, tables and registry that tell who owns what (wired in app.ts). */
export interface OwnerSources {
  catalogOwner(catalog: string): Promise<string | undefined>;
  schemaOwners(catalog: string, schema: string): Promise<{ owner: string; catalogOwner: string } | undefined>;
  /** The owner of a table, volume, function or registered model inside `catalog.schema`. */
  leafOwner(type: 'table' | 'volume' | 'function' | 'registered_model', catalog: string, schema: string, name: string): Promise<string | undefined>;
}

/** Builds the owner chain (object, schema, catalog) from the domains that keep each kind of object. */
export function createOwnerLookup(sources: OwnerSources): OwnerLookup {
  return {
    async ownersOf(securable: Securable) {
      const [c = '', s = '', ...rest] = securable.fullName.split('.');
      switch (securable.type) {
        case 'metastore':
          return [];
        case 'catalog': {
          if (s || rest.length > 0) return undefined;
          const owner = await sources.catalogOwner(c);
          return owner === undefined ? undefined : [owner];
        }
        case 'schema': {
          if (rest.length > 0) return undefined;
          const o = await sources.schemaOwners(c, s);
          return o ? [o.owner, o.catalogOwner] : undefined;
        }
        default: {
          if (rest.length !== 1) return undefined;
          const o = await sources.schemaOwners(c, s);
          if (!o) return undefined;
          const leaf = await sources.leafOwner(securable.type, c, s, rest[0] as string);
          return leaf === undefined ? undefined : [leaf, o.owner, o.catalogOwner];
        }
      }
    },
  };
}

/** What the principal directory is built from (identity's service satisfies it). */
export interface IdentityReads {
  /** A user, service principal (by application id) or group by the name grants use; null when none. */
  principalByName(name: string): Promise<{ id: number; kind: string; name: string } | null>;
  principalNames(ids: number[]): Promise<Map<number, { name: string; kind: string }>>;
  /** Every group the principal belongs to, transitively (identity keeps this closure cached and current). */
  groupsOf(principalId: number): Promise<number[]>;
}

const kindOf = (kind: string): PrincipalRef['kind'] => (kind === 'group' ? 'group' : kind === 'service_principal' ? 'service_principal' : 'user');

/** Adapts identity's reads to the directory grants need. */
export function principalDirectoryFrom(identity: IdentityReads): PrincipalDirectory {
  return {
    async byName(name) {
      const ref = await identity.principalByName(name);
      return ref ? { id: ref.id, name: ref.name, kind: kindOf(ref.kind) } : undefined;
    },
    async byIds(ids) {
      const out = new Map<number, PrincipalRef>();
      for (const [id, p] of await identity.principalNames(ids)) out.set(id, { id, name: p.name, kind: kindOf(p.kind) });
      return out;
    },
    groupsOf: (principalId) => identity.groupsOf(principalId),
  };
}

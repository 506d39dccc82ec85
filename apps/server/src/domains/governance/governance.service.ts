import { type Kysely, sql } from 'kysely';
import { AppError } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import { type ChildFilter, childFilterOf, type VisibilityFacts, visibleAmong } from './governance.listing.ts';
import { APPLICABLE, chainOf, type Dialect, nameDepth, parsePrivilege, securableKey, spellPrivilege, spellType } from './governance.privileges.ts';
import type { GovernanceTables } from './governance.tables.ts';
import type { Authorizer, Privilege, Securable, SecurableType } from './governance.types.ts';

type Db = Kysely<GovernanceTables>;

/** A principal as grants name it. */
export interface PrincipalRef {
  id: number;
  /** User name, group name, or a service principal's application id. */
  name: string;
  kind: 'user' | 'service_principal' | 'group';
}

/** What governance needs from identity (satisfied in app.ts). */
export interface PrincipalDirectory {
  /** A user, group or service principal (by application id or name); undefined when none has this name. */
  byName(name: string): Promise<PrincipalRef | undefined>;
  /** Principals by id (missing ids are left out). */
  byIds(ids: number[]): Promise<Map<number, PrincipalRef>>;
  /** Every group the principal belongs to, transitively (not the principal itself). */
  groupsOf(principalId: number): Promise<number[]>;
}

/** What governance needs from the catalog, tables and registry (satisfied in app.ts). */
export interface OwnerLookup {
  /** Owners of the securable and of each container, nearest first; undefined when the securable does not exist. */
  ownersOf(securable: Securable): Promise<string[] | undefined>;
}

/** One change of a permissions PATCH, privileges already in either spelling. */
export interface PermissionsChange {
  principal: string;
  add?: string[] | undefined;
  remove?: string[] | undefined;
}

interface PrincipalSet {
  ids: number[];
  names: Set<string>;
  until: number;
}

/** How long the names of a principal's groups are reused (they only matter for groups that own objects). */
const PRINCIPAL_TTL_MS = 2_000;
/** How often the grants cache asks the store whether another replica changed grants. */
const VERSION_CHECK_MS = 1_000;

const denied = (privilege: Privilege, s: Securable): AppError =>
  new AppError(
    'PERMISSION_DENIED',
    `User does not have ${privilege} on ${s.type === 'registered_model' ? 'Registered model' : s.type[0]?.toUpperCase() + s.type.slice(1)} '${s.fullName}'.`,
    [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'PERMISSION_DENIED', domain: 'unity-catalog.databricks.com', metadata: {} }],
  );

const ucError = (code: 'RESOURCE_DOES_NOT_EXIST' | 'INVALID_PARAMETER_VALUE' | 'PERMISSION_DENIED', message: string) =>
  new AppError(code, message, [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'unity-catalog.databricks.com', metadata: {} }]);

/** Grants, ownership and the one authorization decision for Unity Catalog securables. */
export type GovernanceService = ReturnType<typeof createGovernanceService>;

/** Creates the governance service over its grants table. */
export function createGovernanceService(deps: { db: Db; principals: PrincipalDirectory; owners: OwnerLookup; now?: () => number }) {
  const { db, principals, owners } = deps;
  const now = deps.now ?? Date.now;

  // securable key → principal id → privileges. All grants live in memory: 10,000 grants are a few MB at most,
  // and every authorize() on the hot path then costs map lookups only.
  let index = new Map<string, Map<number, Set<Privilege>>>();
  let loadedVersion = -1;
  let checkedAt = 0;
  let loading: Promise<void> | undefined;
  const principalSets = new Map<string, PrincipalSet>();
  // Owner changes SQL makes on objects governance cannot write itself (registered models live in the registry).
  const ownerWriters = new Map<SecurableType, (caller: Principal, fullName: string, owner: string) => Promise<unknown>>();

  async function reload(): Promise<void> {
    const version = Number((await db.selectFrom('uc_grants_version').select('version').where('id', '=', 1).executeTakeFirstOrThrow()).version);
    const rows = await db.selectFrom('uc_grants').selectAll().execute();
    const next = new Map<string, Map<number, Set<Privilege>>>();
    for (const r of rows) {
      const key = securableKey({ type: r.securable_type as SecurableType, fullName: r.full_name });
      let byPrincipal = next.get(key);
      if (!byPrincipal) {
        byPrincipal = new Map();
        next.set(key, byPrincipal);
      }
      let set = byPrincipal.get(r.principal_id);
      if (!set) {
        set = new Set();
        byPrincipal.set(r.principal_id, set);
      }
      set.add(r.privilege as Privilege);
    }
    index = next;
    loadedVersion = version;
    checkedAt = now();
  }

  async function fresh(): Promise<void> {
    if (loadedVersion >= 0 && now() - checkedAt < VERSION_CHECK_MS) return;
    if (loading) return loading;
    loading = (async () => {
      try {
        if (loadedVersion >= 0) {
          const row = await db.selectFrom('uc_grants_version').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
          if (Number(row.version) === loadedVersion) {
            checkedAt = now();
            return;
          }
        }
        await reload();
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  }

  async function principalSet(principal: Principal): Promise<PrincipalSet> {
    // Identity keeps the group closure cached and current (its writes and other replicas' invalidate it), so it is
    // asked every time; only the group names (used to match owners) are cached here, briefly.
    const groups = await principals.groupsOf(principal.id);
    const key = `${principal.id}:${principal.userName}:${groups.join(',')}`;
    const cached = principalSets.get(key);
    if (cached && cached.until > now()) return cached;
    const named = await principals.byIds(groups);
    const set: PrincipalSet = {
      ids: [principal.id, ...groups],
      names: new Set([principal.userName, ...[...named.values()].map((g) => g.name)]),
      until: now() + PRINCIPAL_TTL_MS,
    };
    if (principalSets.size > 10_000) principalSets.clear();
    principalSets.set(key, set);
    return set;
  }

  /** Whether one of the ids holds the privilege on the securable directly or through a container. */
  function granted(ids: number[], privilege: Privilege, securable: Securable): boolean {
    for (const s of chainOf(securable)) {
      const byPrincipal = index.get(securableKey(s));
      if (!byPrincipal) continue;
      for (const id of ids) {
        const set = byPrincipal.get(id);
        // ALL_PRIVILEGES stands for every privilege but MANAGE, as in Databricks.
        if (set && (set.has(privilege) || (privilege !== 'MANAGE' && set.has('ALL_PRIVILEGES')))) return true;
      }
    }
    return false;
  }

  function ownsAny(ps: PrincipalSet, ownerChain: string[] | undefined): boolean {
    return ownerChain?.some((o) => ps.names.has(o)) ?? false;
  }

  async function holds(principal: Principal, privilege: Privilege, securable: Securable, memo?: Map<string, string[] | undefined>): Promise<boolean> {
    if (principal.isAdmin) return true;
    if (securable.type === 'metastore') {
      await fresh();
      return granted((await principalSet(principal)).ids, privilege, securable);
    }
    await fresh();
    const ps = await principalSet(principal);
    if (granted(ps.ids, privilege, securable)) return true;
    const key = securableKey(securable);
    let chain = memo?.get(key);
    if (!memo?.has(key)) {
      chain = await owners.ownersOf(securable);
      memo?.set(key, chain);
    }
    return ownsAny(ps, chain);
  }

  async function mayManage(principal: Principal, securable: Securable): Promise<boolean> {
    if (principal.isAdmin) return true;
    if (securable.type === 'metastore') return false;
    return holds(principal, 'MANAGE', securable);
  }

  async function requireExists(securable: Securable): Promise<string[]> {
    if (securable.type === 'metastore') return [];
    const chain = await owners.ownersOf(securable);
    if (!chain) throw ucError('RESOURCE_DOES_NOT_EXIST', `${securable.type} '${securable.fullName}' does not exist.`);
    return chain;
  }

  /** Deletes the grants on a securable and on everything inside a container (those written before `before` only, when given). */
  async function deleteGrantsOf(securable: Securable, before?: number): Promise<void> {
    const prefix = `${securable.fullName}.`;
    const deleted = await db.transaction().execute(async (trx) => {
      let own = trx.deleteFrom('uc_grants').where('securable_type', '=', securable.type).where('full_name', '=', securable.fullName);
      if (before !== undefined) own = own.where('granted_at', '<', before);
      let n = (await own.executeTakeFirst()).numDeletedRows;
      if (securable.type === 'catalog' || securable.type === 'schema') {
        let inside = trx.deleteFrom('uc_grants').where(sql<boolean>`substr(full_name, 1, ${prefix.length}) = ${prefix}`);
        if (before !== undefined) inside = inside.where('granted_at', '<', before);
        n += (await inside.executeTakeFirst()).numDeletedRows;
      }
      if (n > 0n) await bumpVersion(trx);
      return n;
    });
    if (deleted > 0n) await reload();
  }

  async function bumpVersion(trx: Db): Promise<void> {
    await trx
      .updateTable('uc_grants_version')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', '=', 1)
      .execute();
  }

  /**
   * Brings the cache up to date after this process's grant write: when no other writer moved the version in between,
   * the change is applied in memory (a full reload per write would make bulk granting quadratic); otherwise reload.
   */
  async function applyLocally(securable: Securable, planned: { principalId: number; add: Privilege[]; remove: Privilege[] }[]): Promise<void> {
    const row = await db.selectFrom('uc_grants_version').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
    if (loadedVersion < 0 || Number(row.version) !== loadedVersion + 1) {
      await reload();
      return;
    }
    const key = securableKey(securable);
    let byPrincipal = index.get(key);
    if (!byPrincipal) {
      byPrincipal = new Map();
      index.set(key, byPrincipal);
    }
    for (const p of planned) {
      let set = byPrincipal.get(p.principalId);
      if (!set) {
        set = new Set();
        byPrincipal.set(p.principalId, set);
      }
      for (const r of p.remove) set.delete(r);
      for (const a of p.add) set.add(a);
      if (set.size === 0) byPrincipal.delete(p.principalId);
    }
    loadedVersion = Number(row.version);
    checkedAt = now();
  }

  /** Direct grants on one securable, by principal id. */
  function direct(securable: Securable): Map<number, Set<Privilege>> {
    return index.get(securableKey(securable)) ?? new Map();
  }

  async function assignments(securable: Securable, onlyIds: Set<number> | undefined, dialect: Dialect) {
    const byPrincipal = direct(securable);
    const ids = [...byPrincipal.keys()].filter((id) => !onlyIds || onlyIds.has(id));
    const names = await principals.byIds(ids);
    return ids
      .flatMap((id) => {
        const ref = names.get(id);
        const privs = [...(byPrincipal.get(id) ?? [])].sort();
        return ref && privs.length > 0 ? [{ principal: ref.name, privileges: privs.map((p) => spellPrivilege(p, dialect)) }] : [];
      })
      .sort((a, b) => (a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : 0));
  }

  async function principalNamed(name: string): Promise<PrincipalRef> {
    const ref = await principals.byName(name);
    if (!ref) throw ucError('RESOURCE_DOES_NOT_EXIST', `Principal '${name.slice(0, 300)}' does not exist.`);
    return ref;
  }

  const authorizer: Authorizer = {
    authorize: (principal, privilege, securable) => holds(principal, privilege, securable),
    async require(principal, privilege, securable) {
      if (!(await holds(principal, privilege, securable))) throw denied(privilege, securable);
    },
    visible: (principal, type, fullNames) => visibleWithOwners(principal, type, fullNames),
  };

  // Securable keys by holder, so a listing reads the caller's few grants instead of walking all of them. Rebuilt when
  // the grants move (every write replaces the index or moves the version); listings still confirm each row against
  // the index itself, so a copy one write behind can hide a new grant for that moment but never show a revoked one.
  let holders: { of: typeof index; version: number; keys: Map<number, string[]> } | undefined;
  function keysHeldBy(principalId: number): readonly string[] {
    if (!holders || holders.of !== index || holders.version !== loadedVersion) {
      const keys = new Map<number, string[]>();
      for (const [key, byPrincipal] of index) {
        for (const id of byPrincipal.keys()) {
          const list = keys.get(id);
          if (list) list.push(key);
          else keys.set(id, [key]);
        }
      }
      holders = { of: index, version: loadedVersion, keys };
    }
    return holders.keys.get(principalId) ?? [];
  }

  /** What visibility needs to know about one caller, read from the in-memory grants. */
  function factsFor(ps: PrincipalSet): VisibilityFacts {
    const held = (byPrincipal: Map<number, Set<Privilege>> | undefined): Privilege[] => {
      const out: Privilege[] = [];
      if (byPrincipal) for (const id of ps.ids) for (const p of byPrincipal.get(id) ?? []) out.push(p);
      return out;
    };
    return {
      names: ps.names,
      granted: (privilege, securable) => granted(ps.ids, privilege, securable),
      heldOn: (securable) => held(index.get(securableKey(securable))),
      childrenHeld(type, parentFullName, test) {
        const prefix = securableKey({ type, fullName: parentFullName ? `${parentFullName}.` : '' });
        const out = new Set<string>();
        for (const id of ps.ids) {
          for (const key of keysHeldBy(id)) {
            if (!key.startsWith(prefix) || key.includes('.', prefix.length)) continue;
            const set = index.get(key)?.get(id);
            if (set && test(set)) out.add(key.slice(prefix.length));
          }
        }
        return [...out];
      },
      ownersOf: (securable) => owners.ownersOf(securable),
    };
  }

  /**
   * The names the caller may see (see {@link Authorizer.visible}); `leafOwners` saves a lookup per object when the
   * caller already read the owners (listing rows carry them).
   */
  async function visibleWithOwners(principal: Principal, type: SecurableType, fullNames: string[], leafOwners?: Map<string, string>): Promise<Set<string>> {
    if (principal.isAdmin) return new Set(fullNames);
    await fresh();
    return visibleAmong(factsFor(await principalSet(principal)), type, fullNames, leafOwners);
  }

  /** Which `type` children of a container the caller may see, as a filter the listing query applies (see {@link ChildFilter}). */
  async function childFilter(principal: Principal, type: SecurableType, parentFullName: string): Promise<ChildFilter> {
    if (principal.isAdmin) return { all: true };
    await fresh();
    return childFilterOf(factsFor(await principalSet(principal)), type, parentFullName);
  }

  const service = {
    authorizer,
    ...authorizer,
    visibleWithOwners,
    childFilter,

    /** Evaluates several checks with one owner lookup per object; throws PERMISSION_DENIED at the first that fails. */
    async requireAll(principal: Principal, checks: { privilege: Privilege; securable: Securable }[]): Promise<void> {
      if (principal.isAdmin) return;
      const memo = new Map<string, string[] | undefined>();
      for (const c of checks) if (!(await holds(principal, c.privilege, c.securable, memo))) throw denied(c.privilege, c.securable);
    },

    /** Whether the caller owns the securable or a container of it (or is an admin). */
    async owns(principal: Principal, securable: Securable): Promise<boolean> {
      if (principal.isAdmin) return true;
      if (securable.type === 'metastore') return false;
      return ownsAny(await principalSet(principal), await owners.ownersOf(securable));
    },

    /** Whether the caller may grant on, rename, drop or give away the securable: owner, MANAGE, or admin. */
    mayManage,

    /** Resolves `function` to `registered_model` when the name is a model (Databricks grants models as functions). */
    async resolveType(type: SecurableType, fullName: string): Promise<SecurableType> {
      if (type !== 'function') return type;
      if (await owners.ownersOf({ type: 'function', fullName })) return 'function';
      if (await owners.ownersOf({ type: 'registered_model', fullName })) return 'registered_model';
      return 'function';
    },

    /** GET /permissions: direct grants; callers who may not manage the object see only their own (as OSS does). */
    async getPermissions(principal: Principal, securable: Securable, filter: string | undefined, dialect: Dialect) {
      checkName(securable);
      await requireExists(securable);
      await fresh();
      let only: Set<number> | undefined;
      if (!(await mayManage(principal, securable))) only = new Set((await principalSet(principal)).ids);
      if (filter !== undefined) {
        const ref = await principalNamed(filter);
        only = only ? new Set([...only].filter((id) => id === ref.id)) : new Set([ref.id]);
      }
      return { privilege_assignments: await assignments(securable, only, dialect) };
    },

    /** PATCH /permissions: applies every change in one transaction after checking all of them. */
    async updatePermissions(principal: Principal, securable: Securable, changes: PermissionsChange[], dialect: Dialect) {
      checkName(securable);
      await requireExists(securable);
      if (!(await mayManage(principal, securable))) {
        throw ucError(
          'PERMISSION_DENIED',
          `Only an owner, a holder of MANAGE or an admin may change permissions on ${securable.type} '${securable.fullName}'.`,
        );
      }
      const planned: { principalId: number; add: Privilege[]; remove: Privilege[] }[] = [];
      for (const change of changes) {
        const ref = await principalNamed(change.principal);
        const parse = (list: string[] | undefined) =>
          (list ?? []).map((text) => {
            const p = parsePrivilege(text);
            if (!p) throw ucError('INVALID_PARAMETER_VALUE', `Unknown privilege '${text.slice(0, 100)}'.`);
            if (!APPLICABLE[securable.type].has(p))
              throw ucError(
                'INVALID_PARAMETER_VALUE',
                `Privilege ${spellPrivilege(p, dialect)} does not apply to securable type ${spellType(securable.type, dialect)}.`,
              );
            return p;
          });
        planned.push({ principalId: ref.id, add: parse(change.add), remove: parse(change.remove) });
      }
      await db.transaction().execute(async (trx) => {
        for (const p of planned) {
          if (p.remove.length > 0) {
            await trx
              .deleteFrom('uc_grants')
              .where('securable_type', '=', securable.type)
              .where('full_name', '=', securable.fullName)
              .where('principal_id', '=', p.principalId)
              .where('privilege', 'in', p.remove)
              .execute();
          }
          for (const privilege of p.add) {
            await trx
              .insertInto('uc_grants')
              .values({ securable_type: securable.type, full_name: securable.fullName, principal_id: p.principalId, privilege, granted_at: Date.now() })
              .onConflict((oc) => oc.doNothing())
              .execute();
          }
        }
        await bumpVersion(trx);
      });
      await applyLocally(securable, planned);
      return { privilege_assignments: await assignments(securable, undefined, dialect) };
    },

    /** GET /effective-permissions: grants that hold on the object, with the container each one comes from. */
    async effectivePermissions(principal: Principal, securable: Securable, filter: string | undefined, dialect: Dialect) {
      checkName(securable);
      await requireExists(securable);
      await fresh();
      const manage = await mayManage(principal, securable);
      let subjects: { name: string; ids: number[] }[];
      if (filter !== undefined) {
        const ref = await principalNamed(filter);
        const ids = [ref.id, ...(await principals.groupsOf(ref.id))];
        const own = new Set((await principalSet(principal)).ids);
        if (!manage && !own.has(ref.id))
          throw ucError('PERMISSION_DENIED', 'Only an owner, a holder of MANAGE or an admin may read the permissions of others.');
        subjects = [{ name: ref.name, ids }];
      } else {
        const holders = new Set<number>();
        for (const s of chainOf(securable)) for (const id of direct(s).keys()) holders.add(id);
        const own = new Set((await principalSet(principal)).ids);
        const names = await principals.byIds([...holders].filter((id) => manage || own.has(id)));
        subjects = [...names.values()].map((r) => ({ name: r.name, ids: [r.id] }));
      }
      const out = [];
      for (const subject of subjects) {
        const seen = new Set<string>();
        const privileges: { privilege: string; inherited_from_type?: string; inherited_from_name?: string }[] = [];
        for (const s of chainOf(securable)) {
          const byPrincipal = direct(s);
          for (const id of subject.ids) {
            for (const p of byPrincipal.get(id) ?? []) {
              const key = `${p}\u0001${s.type}\u0001${s.fullName}`;
              if (seen.has(key)) continue;
              seen.add(key);
              privileges.push({
                privilege: spellPrivilege(p, dialect),
                ...(s === securable ? {} : { inherited_from_type: spellType(s.type, dialect), inherited_from_name: s.fullName }),
              });
            }
          }
        }
        if (privileges.length > 0) out.push({ principal: subject.name, privileges });
      }
      out.sort((a, b) => (a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : 0));
      return { privilege_assignments: out };
    },

    /** Removes the grants of a dropped object and, for containers, of everything inside it. */
    async forgetSecurable(securable: Securable): Promise<void> {
      await deleteGrantsOf(securable);
    },

    /**
     * Forgets grants still held on the name of an object just created (or, for a container, on names inside it): no
     * grant can be made on an object before it exists, so any such grant was left by a drop whose cascade was lost (a
     * kill between the drop's commit and its cascade). Only grants written before the object's row count: one made
     * on the new object in the meantime is kept. The store is read, not the cache: another replica's lost cascade may
     * be younger than the cache.
     */
    async forgetStale(securable: Securable, since: number): Promise<void> {
      await deleteGrantsOf(securable, since);
    },

    /** Moves the grants of a renamed object (and of everything inside a renamed container) to the new name. */
    async renameSecurable(securable: Securable, newFullName: string): Promise<void> {
      if (newFullName === securable.fullName) return;
      const prefix = `${securable.fullName}.`;
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('uc_grants')
          .set({ full_name: newFullName })
          .where('securable_type', '=', securable.type)
          .where('full_name', '=', securable.fullName)
          .execute();
        if (securable.type === 'catalog' || securable.type === 'schema') {
          await trx
            .updateTable('uc_grants')
            .set({ full_name: sql<string>`${`${newFullName}.`} || substr(full_name, ${prefix.length + 1})` })
            .where(sql<boolean>`substr(full_name, 1, ${prefix.length}) = ${prefix}`)
            .execute();
        }
        await bumpVersion(trx);
      });
      await reload();
    },

    /** Throws RESOURCE_DOES_NOT_EXIST (404) unless a user, service principal or group has this name. */
    async requirePrincipal(name: string): Promise<void> {
      await principalNamed(name);
    },

    /** Lets the domain that keeps a kind of object take the owner changes SQL makes (`ALTER MODEL ... OWNER TO`). */
    registerOwnerWriter(type: SecurableType, write: (caller: Principal, fullName: string, owner: string) => Promise<unknown>): void {
      ownerWriters.set(type, write);
    },

    /** Hands an owner change to the domain that keeps the object; INVALID_PARAMETER_VALUE when none registered for the type. */
    async setOwnerElsewhere(caller: Principal, securable: Securable, owner: string): Promise<void> {
      const write = ownerWriters.get(securable.type);
      if (!write) throw ucError('INVALID_PARAMETER_VALUE', `Owner changes are not supported for ${securable.type}.`);
      await write(caller, securable.fullName, owner);
    },

    /** The id of the principal grants name so; throws RESOURCE_DOES_NOT_EXIST (404) when none has the name. */
    async principalIdOf(name: string): Promise<number> {
      return (await principalNamed(name)).id;
    },

    /**
     * Keeps grants on the catalog objects they were made on: a drop forgets them (and those of everything inside), a
     * rename moves them. Publishers await this, so a re-created object with the old name never starts with them.
     */
    subscribe(events: Pick<EventBus, 'on'>): void {
      events.on('catalog.securable.created', (e): Promise<void> => service.forgetStale({ type: e.type, fullName: e.fullName }, e.since));
      events.on('catalog.securable.dropped', (e): Promise<void> => service.forgetSecurable({ type: e.type, fullName: e.fullName }));
      events.on('catalog.securable.renamed', (e): Promise<void> => service.renameSecurable({ type: e.type, fullName: e.fullName }, e.newFullName));
    },

    /** Forgets cached group closures (identity calls this when memberships change). */
    forgetPrincipals(): void {
      principalSets.clear();
    },
  };
  return service;
}

/** Refuses full names whose shape does not fit the type (`a.b` for a schema) before anything is looked up. */
function checkName(securable: Securable): void {
  if (securable.type === 'metastore') return;
  const parts = securable.fullName.split('.');
  if (parts.length !== nameDepth(securable.type) || parts.some((p) => !/^[A-Za-z0-9_@-]{1,255}$/.test(p))) {
    throw ucError('INVALID_PARAMETER_VALUE', `Invalid full name '${securable.fullName.slice(0, 300)}' for securable type ${securable.type}.`);
  }
}

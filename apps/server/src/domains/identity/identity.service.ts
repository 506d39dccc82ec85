import { createHash, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { identity, PermissionLevel } from '@weir/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { z } from 'zod';
import { AppError, invalidParameter, notFound } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import {
  applyScimPatch,
  checkFilterAttributes,
  type FilterSubject,
  matchesFilter,
  type PrincipalKind,
  parseScimFilter,
  plainValuesOf,
  referencesOf,
  type ScimDraft,
  type ScimExtraAttributes,
} from './identity.scim.ts';
import type { IdentityTables } from './identity.tables.ts';

const ADMINS_GROUP = 'admins';
const ADMIN_USER = 'admin';
const LEVEL_RANK: Record<string, number> = { CAN_READ: 1, CAN_EDIT: 2, CAN_MANAGE: 3 };
/** How long a resolved credential is trusted before it is looked up again (local writes clear it at once). */
const AUTH_CACHE_MS = 10_000;
/** How often a replica reads the shared identity epoch to notice writes made by other replicas. */
const EPOCH_CHECK_MS = 1_000;
/** The `identity_state` row that counts identity writes (principals, groups, tokens). */
const IDENTITY_EPOCH_ROW = 1;
/**
 * The `identity_state` row that counts workspace-object permission writes. Kept apart from the identity epoch so that
 * granting on an experiment (every non-admin experiment creation does) does not also drop the credential caches.
 */
const ACL_EPOCH_ROW = 2;
/** How many objects' access control lists are kept in memory before the cache starts over. */
const ACL_CACHE_MAX = 10_000;
const TEN_YEARS_S = 10 * 365 * 24 * 3600;
const ID_CHUNK = 500;

const SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  service_principal: 'urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal',
} as const;
const REF_PREFIX: Record<PrincipalKind, string> = { user: 'Users', group: 'Groups', service_principal: 'ServicePrincipals' };
const KIND_LABEL: Record<PrincipalKind, string> = { user: 'User', group: 'Group', service_principal: 'Service principal' };

/** A token as the Databricks token API shows it (never the secret). */
export interface TokenInfo {
  token_id: string;
  creation_time: number;
  expiry_time: number;
  comment: string;
}

/** A token as the Databricks token-management API shows it to admins. */
export interface ManagedTokenInfo extends TokenInfo {
  owner_id: number;
  created_by_id: number;
  created_by_username: string;
}

/** A SCIM reference to another principal (`groups`, `members`). */
export interface ScimReference {
  display: string;
  value: string;
  $ref: string;
  type?: string;
}

/** A user as SCIM shows it. */
export interface ScimUser {
  schemas: string[];
  id: string;
  userName: string;
  displayName: string;
  active: boolean;
  emails: { value?: string | number | undefined; primary?: boolean | undefined; type?: string | undefined }[];
  groups: ScimReference[];
  [extra: string]: unknown;
}

/** A SCIM resource of any kind (user, group, service principal). */
export type ScimResource = Record<string, unknown> & { id: string; schemas: string[] };

/** A principal found by name, for resolving grants. */
export interface PrincipalRef {
  id: number;
  kind: PrincipalKind;
  /** userName, group displayName, or service principal applicationId: the name grants show. */
  name: string;
  displayName: string;
}

/** One entry of a workspace object's access control list. */
export interface AccessControlEntry {
  principalId: number;
  level: PermissionLevel;
}

type PrincipalRow = {
  id: number;
  kind: PrincipalKind;
  name: string;
  display_name: string | null;
  active: number;
  application_id: string | null;
  external_id: string | null;
  attributes: string | null;
};
const ROW_COLUMNS = ['id', 'kind', 'name', 'display_name', 'active', 'application_id', 'external_id', 'attributes'] as const;

type Db = Kysely<IdentityTables>;
type Trx = Transaction<IdentityTables>;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32);
  return `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`;
}

function verifyPassword(password: string, stored: string): boolean {
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !hashHex) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = scryptSync(password, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}

function parseAttributes(text: string | null): ScimExtraAttributes {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as ScimExtraAttributes) : {};
  } catch {
    return {};
  }
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ID_CHUNK) out.push(items.slice(i, i + ID_CHUNK));
  return out;
}

/** A principal id from a SCIM path segment, or null when it cannot name one. */
function parseId(id: string): number | null {
  return /^\d{1,15}$/.test(id) ? Number(id) : null;
}

/** Identity: principals, groups, tokens, authentication and workspace-object permissions. */
export type IdentityService = ReturnType<typeof createIdentityService>;

/** Creates the identity service over the metadata store. */
export function createIdentityService(deps: { db: Db; now?: () => number; epochCheckMs?: number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const epochCheckMs = deps.epochCheckMs ?? EPOCH_CHECK_MS;

  // ---------------------------------------------------------------------------------------------- caches ----
  // Every request resolves its credential and, for authorization, the caller's groups. Both are served from memory;
  // every identity write clears them before it is acknowledged, and other replicas notice through the shared epoch.
  const authCache = new Map<string, { principalId: number | null; until: number }>();
  const principalCache = new Map<number, Principal | null>();
  const closure = new Map<number, readonly number[]>();
  let parents: Map<number, number[]> | null = null;
  let adminsGroupId = -1;
  let generation = 0;
  let knownEpoch = -1;
  let knownAclEpoch = -1;
  let lastEpochCheck = Number.NEGATIVE_INFINITY;
  // Workspace-object ACLs by object (every experiment-scoped call checks one): cleared after each local ACL write
  // commits, before it is acknowledged, and when the shared ACL epoch shows another replica's write.
  const aclCache = new Map<string, readonly AccessControlEntry[]>();
  let aclGeneration = 0;
  const deletionListeners: PrincipalDeletionListener[] = [];

  function dropAcls() {
    aclGeneration++;
    aclCache.clear();
  }

  function dropCaches() {
    generation++;
    authCache.clear();
    principalCache.clear();
    closure.clear();
    parents = null;
    // Deleting a principal deletes its object grants inside an identity write.
    dropAcls();
  }

  /** True when the epoch rows are to be read again (see {@link syncEpoch}). */
  function epochCheckDue(): boolean {
    return Date.now() - lastEpochCheck >= epochCheckMs;
  }

  async function syncEpoch() {
    if (!epochCheckDue()) return;
    lastEpochCheck = Date.now();
    const rows = await db.selectFrom('identity_state').select(['id', 'epoch']).where('id', 'in', [IDENTITY_EPOCH_ROW, ACL_EPOCH_ROW]).execute();
    const epoch = Number(rows.find((r) => r.id === IDENTITY_EPOCH_ROW)?.epoch ?? 0);
    const aclEpoch = Number(rows.find((r) => r.id === ACL_EPOCH_ROW)?.epoch ?? 0);
    if (epoch !== knownEpoch) {
      knownEpoch = epoch;
      dropCaches();
    }
    if (aclEpoch !== knownAclEpoch) {
      knownAclEpoch = aclEpoch;
      dropAcls();
    }
  }

  /** The direct ACL of an object, from memory when no ACL write (here or, within the epoch check, elsewhere) may have changed it. */
  /** The direct ACL of a workspace object, read from the store. */
  async function readAcl(objectType: string, objectId: string): Promise<AccessControlEntry[]> {
    const rows = await db
      .selectFrom('object_permissions')
      .select(['principal_id', 'level'])
      .where('object_type', '=', objectType)
      .where('object_id', '=', objectId)
      .execute();
    return rows.map((r) => ({ principalId: r.principal_id, level: r.level as PermissionLevel }));
  }

  async function cachedAcl(objectType: string, objectId: string): Promise<readonly AccessControlEntry[]> {
    await syncEpoch();
    const key = `${objectType}\u0000${objectId}`;
    const hit = aclCache.get(key);
    if (hit) return hit;
    const gen = aclGeneration;
    const acl = Object.freeze(await readAcl(objectType, objectId));
    // A write that committed while this read ran has moved the generation: its answer may predate the write, so it
    // serves only this call and is not kept.
    if (gen === aclGeneration) {
      if (aclCache.size >= ACL_CACHE_MAX) aclCache.clear();
      aclCache.set(key, acl);
    }
    return acl;
  }

  /**
   * Runs a workspace-object ACL write in one transaction that also moves the shared ACL epoch (so other replicas drop
   * their copies within a second), then drops this process's copies once it has committed, before the caller answers.
   */
  async function aclWrite(fn: (trx: Trx) => Promise<void>): Promise<void> {
    try {
      await db.transaction().execute(async (trx) => {
        await fn(trx);
        await trx
          .insertInto('identity_state')
          .values({ id: ACL_EPOCH_ROW, epoch: 1 })
          .onConflict((oc) => oc.column('id').doUpdateSet({ epoch: sql<number>`identity_state.epoch + 1` }))
          .execute();
      });
    } finally {
      dropAcls();
    }
  }

  async function loadParents(): Promise<Map<number, number[]>> {
    if (parents) return parents;
    const gen = generation;
    const [edges, admins] = await Promise.all([
      db.selectFrom('group_members').select(['group_id', 'member_id']).execute(),
      db.selectFrom('principals').select('id').where('kind', '=', 'group').where('name', '=', ADMINS_GROUP).executeTakeFirst(),
    ]);
    const map = new Map<number, number[]>();
    for (const e of edges) {
      const list = map.get(e.member_id);
      if (list) list.push(e.group_id);
      else map.set(e.member_id, [e.group_id]);
    }
    if (gen === generation) {
      parents = map;
      adminsGroupId = admins?.id ?? -1;
    }
    return map;
  }

  /** Every group a principal belongs to, directly or through nested groups, ascending (a copy the caller may keep). */
  async function groupsOf(principalId: number): Promise<number[]> {
    return [...(await memoGroupsOf(principalId))];
  }

  async function memoGroupsOf(principalId: number): Promise<readonly number[]> {
    await syncEpoch();
    const memo = closure.get(principalId);
    if (memo) return memo;
    const gen = generation;
    const map = await loadParents();
    const seen = new Set<number>();
    const stack = [...(map.get(principalId) ?? [])];
    while (stack.length > 0) {
      const g = stack.pop() as number;
      if (seen.has(g) || g === principalId) continue;
      seen.add(g);
      for (const p of map.get(g) ?? []) if (!seen.has(p)) stack.push(p);
    }
    const result = Object.freeze([...seen].sort((a, b) => a - b));
    if (gen === generation) closure.set(principalId, result);
    return result;
  }

  async function isAdmin(principalId: number): Promise<boolean> {
    const groups = await memoGroupsOf(principalId);
    return adminsGroupId >= 0 && groups.includes(adminsGroupId);
  }

  /** The principal behind an id if it may act (an active user or service principal), else null. */
  async function principalById(principalId: number): Promise<Principal | null> {
    await syncEpoch();
    if (principalCache.has(principalId)) return principalCache.get(principalId) ?? null;
    const gen = generation;
    const row = await db.selectFrom('principals').select(['id', 'name', 'kind', 'active']).where('id', '=', principalId).executeTakeFirst();
    let principal: Principal | null = null;
    if (row?.active && row.kind !== 'group') {
      principal = { id: row.id, userName: row.name, kind: row.kind, isAdmin: await isAdmin(row.id) };
    }
    if (gen === generation) principalCache.set(principalId, principal);
    return principal;
  }

  /** Runs an identity write in one transaction that first takes the identity lock (the epoch row), then clears caches. */
  async function write<T>(fn: (trx: Trx) => Promise<T>): Promise<T> {
    try {
      return await db.transaction().execute(async (trx) => {
        // Updating the single epoch row serializes identity writers across connections and replicas, so membership
        // checks (cycles, the last admin) read a state no concurrent writer can change underneath them.
        await trx
          .updateTable('identity_state')
          .set((eb) => ({ epoch: eb('epoch', '+', 1) }))
          .where('id', '=', IDENTITY_EPOCH_ROW)
          .execute();
        return fn(trx);
      });
    } finally {
      dropCaches();
      lastEpochCheck = Number.NEGATIVE_INFINITY;
    }
  }

  // ----------------------------------------------------------------------------------------- credentials ----
  async function principalForToken(token: string): Promise<{ principalId: number; expiresAt: number } | null> {
    const row = await db.selectFrom('tokens').select(['principal_id', 'expires_at']).where('token_hash', '=', hashToken(token)).executeTakeFirst();
    if (!row) return null;
    if (row.expires_at >= 0 && row.expires_at < now()) return null;
    return { principalId: row.principal_id, expiresAt: row.expires_at };
  }

  async function principalForPassword(userName: string, password: string): Promise<Principal | null> {
    const row = await db.selectFrom('principals').select(['id', 'password_hash']).where('kind', '=', 'user').where('name', '=', userName).executeTakeFirst();
    if (!row?.password_hash || !verifyPassword(password, row.password_hash)) return null;
    return principalById(row.id);
  }

  async function mintToken(
    principalId: number,
    comment: string | null,
    lifetimeSeconds: number | undefined,
    opts: { secret?: string; createdBy?: number } = {},
  ) {
    if (lifetimeSeconds !== undefined && lifetimeSeconds > TEN_YEARS_S) throw invalidParameter('lifetime_seconds must be at most ten years.');
    const value = opts.secret ?? `dapi${randomBytes(20).toString('hex')}`;
    const created = now();
    const info = {
      token_id: randomUUID().replace(/-/g, ''),
      principal_id: principalId,
      token_hash: hashToken(value),
      comment,
      created_at: created,
      expires_at: lifetimeSeconds && lifetimeSeconds > 0 ? created + lifetimeSeconds * 1000 : -1,
      created_by_id: opts.createdBy ?? null,
    };
    await db.insertInto('tokens').values(info).execute();
    return { value, info };
  }

  const tokenInfo = (r: { token_id: string; created_at: number; expires_at: number; comment: string | null }): TokenInfo => ({
    token_id: r.token_id,
    creation_time: r.created_at,
    expiry_time: r.expires_at,
    comment: r.comment ?? '',
  });

  async function managedTokenInfos(
    rows: { token_id: string; principal_id: number; created_at: number; expires_at: number; comment: string | null; created_by_id: number | null }[],
  ): Promise<ManagedTokenInfo[]> {
    const names = await principalNames([...new Set(rows.map((r) => r.created_by_id ?? r.principal_id))]);
    return rows.map((r) => {
      const creator = r.created_by_id ?? r.principal_id;
      return { ...tokenInfo(r), owner_id: r.principal_id, created_by_id: creator, created_by_username: names.get(creator)?.name ?? '' };
    });
  }

  async function principalNames(ids: number[]): Promise<Map<number, { name: string; kind: string }>> {
    const out = new Map<number, { name: string; kind: string }>();
    for (const part of chunks(ids)) {
      const rows = await db.selectFrom('principals').select(['id', 'name', 'kind']).where('id', 'in', part).execute();
      for (const r of rows) out.set(r.id, { name: r.name, kind: r.kind });
    }
    return out;
  }

  // ----------------------------------------------------------------------------------------------- SCIM ----
  /** Refuses an id that cannot name a principal before any transaction starts. */
  function requireId(kind: PrincipalKind, id: string): void {
    if (parseId(id) === null) throw notFound(`${KIND_LABEL[kind]} ${id} not found.`);
  }

  async function rowById(q: Db | Trx, kind: PrincipalKind, id: string): Promise<PrincipalRow> {
    const n = parseId(id);
    const row = n === null ? undefined : await q.selectFrom('principals').select(ROW_COLUMNS).where('kind', '=', kind).where('id', '=', n).executeTakeFirst();
    if (!row) throw notFound(`${KIND_LABEL[kind]} ${id} not found.`);
    return row as PrincipalRow;
  }

  /** Renders rows as SCIM resources, reading their memberships in a few batched queries. */
  async function render(rows: PrincipalRow[], q: Db | Trx = db): Promise<ScimResource[]> {
    const parentRefs = new Map<number, ScimReference[]>();
    const memberRefs = new Map<number, ScimReference[]>();
    const ids = rows.map((r) => r.id);
    const groupIds = rows.filter((r) => r.kind === 'group').map((r) => r.id);
    for (const part of chunks(ids)) {
      const edges = await q
        .selectFrom('group_members as m')
        .innerJoin('principals as g', 'g.id', 'm.group_id')
        .select(['m.member_id', 'g.id', 'g.name'])
        .where('m.member_id', 'in', part)
        .orderBy('g.id')
        .execute();
      for (const e of edges) {
        const list = parentRefs.get(e.member_id) ?? [];
        list.push({ display: e.name, value: String(e.id), $ref: `Groups/${e.id}`, type: 'direct' });
        parentRefs.set(e.member_id, list);
      }
    }
    for (const part of chunks(groupIds)) {
      const edges = await q
        .selectFrom('group_members as m')
        .innerJoin('principals as p', 'p.id', 'm.member_id')
        .select(['m.group_id', 'p.id', 'p.kind', 'p.name', 'p.display_name'])
        .where('m.group_id', 'in', part)
        .orderBy('p.id')
        .execute();
      for (const e of edges) {
        const list = memberRefs.get(e.group_id) ?? [];
        list.push({ display: e.display_name ?? e.name, value: String(e.id), $ref: `${REF_PREFIX[e.kind]}/${e.id}` });
        memberRefs.set(e.group_id, list);
      }
    }
    return rows.map((row) => {
      const attrs = parseAttributes(row.attributes);
      const common: Record<string, unknown> = {};
      if (row.external_id !== null) common.externalId = row.external_id;
      common.groups = parentRefs.get(row.id) ?? [];
      common.entitlements = attrs.entitlements ?? [];
      common.roles = attrs.roles ?? [];
      if (row.kind === 'group') {
        return {
          schemas: [SCHEMA.group],
          id: String(row.id),
          displayName: row.name,
          members: memberRefs.get(row.id) ?? [],
          meta: { resourceType: 'WorkspaceGroup' },
          ...common,
        };
      }
      if (row.kind === 'service_principal') {
        return {
          schemas: [SCHEMA.service_principal],
          id: String(row.id),
          applicationId: row.name,
          displayName: row.display_name ?? row.name,
          active: row.active === 1,
          ...common,
        };
      }
      return {
        schemas: [SCHEMA.user],
        id: String(row.id),
        userName: row.name,
        displayName: row.display_name ?? row.name,
        active: row.active === 1,
        emails: attrs.emails ?? (row.name.includes('@') ? [{ value: row.name, primary: true, type: 'work' }] : []),
        ...(attrs.name ? { name: attrs.name } : {}),
        ...common,
      };
    });
  }

  function draftOf(row: PrincipalRow, members: number[], groups: number[]): ScimDraft {
    return {
      kind: row.kind,
      name: row.name,
      displayName: row.display_name ?? row.name,
      active: row.active === 1,
      externalId: row.external_id,
      attributes: parseAttributes(row.attributes),
      members: new Set(members),
      groups: new Set(groups),
    };
  }

  async function loadDraft(trx: Trx, row: PrincipalRow): Promise<ScimDraft> {
    const [members, groups] = await Promise.all([
      trx.selectFrom('group_members').select('member_id').where('group_id', '=', row.id).execute(),
      trx.selectFrom('group_members').select('group_id').where('member_id', '=', row.id).execute(),
    ]);
    return draftOf(
      row,
      members.map((m) => m.member_id),
      groups.map((g) => g.group_id),
    );
  }

  async function assertNameFree(trx: Trx, kind: PrincipalKind, name: string, exceptId: number | null) {
    let q = trx.selectFrom('principals').select('id').where('kind', '=', kind).where('name', '=', name);
    if (exceptId !== null) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) {
      const what =
        kind === 'user' ? `User with username ${name}` : kind === 'group' ? `Group with name ${name}` : `Service principal with applicationId ${name}`;
      throw new AppError('ALREADY_EXISTS', `${what} already exists.`);
    }
  }

  /** Fails unless some active user or service principal is still (transitively) in `admins`: nobody could administer Weir. */
  async function assertAdminRemains(trx: Trx) {
    const admins = await trx.selectFrom('principals').select('id').where('kind', '=', 'group').where('name', '=', ADMINS_GROUP).executeTakeFirst();
    if (!admins) return;
    const edges = await trx.selectFrom('group_members').select(['group_id', 'member_id']).execute();
    const children = new Map<number, number[]>();
    for (const e of edges) children.set(e.group_id, [...(children.get(e.group_id) ?? []), e.member_id]);
    const seen = new Set<number>([admins.id]);
    const stack = [admins.id];
    while (stack.length > 0) for (const c of children.get(stack.pop() as number) ?? []) if (!seen.has(c) && seen.add(c)) stack.push(c);
    seen.delete(admins.id);
    for (const part of chunks([...seen])) {
      const live = await trx
        .selectFrom('principals')
        .select('id')
        .where('id', 'in', part)
        .where('active', '=', 1)
        .where('kind', '!=', 'group')
        .executeTakeFirst();
      if (live) return;
    }
    throw invalidParameter('The change would leave no active member in the admins group.');
  }

  /** Writes a draft back: checks references and cycles, updates the row and the membership edges that changed. */
  async function commitDraft(trx: Trx, id: number, draft: ScimDraft, before: { members: Set<number>; groups: Set<number> }, password?: string) {
    if (draft.members.has(id) || draft.groups.has(id)) throw invalidParameter(`${KIND_LABEL[draft.kind]} ${id} cannot be a member of itself.`);
    if (draft.kind !== 'group' && draft.members.size > 0) throw invalidParameter(`A ${KIND_LABEL[draft.kind].toLowerCase()} has no members.`);
    const added = [...draft.members].filter((m) => !before.members.has(m)).concat([...draft.groups].filter((g) => !before.groups.has(g)));
    if (added.length > 0) {
      const found = new Map<number, string>();
      for (const part of chunks([...new Set(added)].filter((x) => x >= 0))) {
        for (const r of await trx.selectFrom('principals').select(['id', 'kind']).where('id', 'in', part).execute()) found.set(r.id, r.kind);
      }
      for (const ref of added) {
        if (!found.has(ref)) throw notFound(`Principal with id ${ref < 0 ? '(not an id)' : ref} does not exist.`);
      }
      for (const g of draft.groups) {
        if (!before.groups.has(g) && found.get(g) !== 'group') throw invalidParameter(`Principal ${g} is not a group.`);
      }
      // A new edge can only close a cycle through this principal: follow the member → group edges upward from it.
      const edges = await trx.selectFrom('group_members').select(['group_id', 'member_id']).execute();
      const up = new Map<number, number[]>();
      for (const e of edges) {
        if (e.member_id === id || e.group_id === id) continue;
        up.set(e.member_id, [...(up.get(e.member_id) ?? []), e.group_id]);
      }
      for (const m of draft.members) up.set(m, [...(up.get(m) ?? []), id]);
      up.set(id, [...draft.groups]);
      const seen = new Set<number>();
      const stack = [...draft.groups];
      while (stack.length > 0) {
        const g = stack.pop() as number;
        if (g === id) throw invalidParameter(`The membership would make group ${id} a member of itself (a cycle).`);
        if (seen.has(g)) continue;
        seen.add(g);
        for (const p of up.get(g) ?? []) stack.push(p);
      }
    }
    await trx
      .updateTable('principals')
      .set({
        name: draft.name,
        display_name: draft.displayName,
        active: draft.active ? 1 : 0,
        external_id: draft.externalId,
        application_id: draft.kind === 'service_principal' ? draft.name : null,
        attributes: JSON.stringify(draft.attributes),
        ...(password ? { password_hash: hashPassword(password) } : {}),
      })
      .where('id', '=', id)
      .execute();
    const removedMembers = [...before.members].filter((m) => !draft.members.has(m));
    const removedGroups = [...before.groups].filter((g) => !draft.groups.has(g));
    for (const part of chunks(removedMembers)) await trx.deleteFrom('group_members').where('group_id', '=', id).where('member_id', 'in', part).execute();
    for (const part of chunks(removedGroups)) await trx.deleteFrom('group_members').where('member_id', '=', id).where('group_id', 'in', part).execute();
    const newEdges = [
      ...[...draft.members].filter((m) => !before.members.has(m)).map((m) => ({ group_id: id, member_id: m })),
      ...[...draft.groups].filter((g) => !before.groups.has(g)).map((g) => ({ group_id: g, member_id: id })),
    ];
    for (const part of chunks(newEdges)) await trx.insertInto('group_members').values(part).execute();
    if (removedMembers.length > 0 || removedGroups.length > 0 || !draft.active) await assertAdminRemains(trx);
  }

  /** What a create or PUT body asks for, as a draft over the current state (`current` is null for a create). */
  function draftFromBody(kind: PrincipalKind, body: ScimBody, current: ScimDraft | null): ScimDraft {
    const attributes: ScimExtraAttributes = {};
    const entitlements = plainValuesOf(body.entitlements, 'entitlements');
    const roles = plainValuesOf(body.roles, 'roles');
    if (entitlements) attributes.entitlements = entitlements;
    if (roles) attributes.roles = roles;
    const groups = body.groups ? new Set(referencesOf(body.groups, 'groups')) : new Set(current?.groups ?? []);
    if (kind === 'user') {
      const b = body as z.output<typeof identity.CreateScimUser>;
      const emails = plainValuesOf(b.emails, 'emails');
      if (emails) attributes.emails = emails;
      if (b.name) attributes.name = { givenName: b.name.givenName, familyName: b.name.familyName };
      return {
        kind,
        name: b.userName,
        displayName: b.displayName ?? b.userName,
        active: b.active ?? current?.active ?? true,
        externalId: b.externalId ?? null,
        attributes,
        members: new Set(),
        groups,
      };
    }
    if (kind === 'group') {
      const b = body as z.output<typeof identity.ScimGroupBody>;
      return {
        kind,
        name: b.displayName,
        displayName: b.displayName,
        active: true,
        externalId: b.externalId ?? null,
        attributes,
        members: new Set(referencesOf(b.members, 'members')),
        groups,
      };
    }
    const b = body as z.output<typeof identity.ScimServicePrincipalBody>;
    const applicationId = (b.applicationId ?? current?.name ?? randomUUID()).toLowerCase();
    if (current && applicationId !== current.name) throw invalidParameter('The applicationId of a service principal cannot be changed.');
    return {
      kind,
      name: applicationId,
      displayName: b.displayName ?? current?.displayName ?? applicationId,
      active: b.active ?? current?.active ?? true,
      externalId: b.externalId ?? null,
      attributes,
      members: new Set(),
      groups,
    };
  }

  function filterSubject(row: PrincipalRow): FilterSubject {
    const attrs = parseAttributes(row.attributes);
    const emails = (attrs.emails ?? (row.name.includes('@') ? [{ value: row.name }] : [])).map((e) => String(e.value ?? ''));
    return {
      id: String(row.id),
      username: row.kind === 'user' ? row.name : null,
      applicationid: row.kind === 'service_principal' ? row.name : null,
      displayname: row.display_name ?? row.name,
      externalid: row.external_id,
      active: row.active === 1,
      emails,
    };
  }

  const SORTABLE: Record<string, (r: PrincipalRow) => string | number> = {
    id: (r) => r.id,
    username: (r) => r.name.toLowerCase(),
    applicationid: (r) => r.name.toLowerCase(),
    displayname: (r) => (r.display_name ?? r.name).toLowerCase(),
  };

  async function deletePrincipal(kind: PrincipalKind, id: string): Promise<void> {
    requireId(kind, id);
    await write(async (trx) => {
      const row = await rowById(trx, kind, id);
      if (kind === 'user' && row.name === ADMIN_USER) throw invalidParameter('The bootstrap admin cannot be deleted.');
      if (kind === 'group' && row.name === ADMINS_GROUP) throw invalidParameter('The admins group cannot be deleted.');
      await trx.deleteFrom('tokens').where('principal_id', '=', row.id).execute();
      await trx.deleteFrom('group_members').where('member_id', '=', row.id).execute();
      await trx.deleteFrom('group_members').where('group_id', '=', row.id).execute();
      await trx.deleteFrom('object_permissions').where('principal_id', '=', row.id).execute();
      for (const listener of deletionListeners) await listener(row.id, trx as unknown as Kysely<any>);
      await trx.deleteFrom('principals').where('id', '=', row.id).execute();
      await assertAdminRemains(trx);
    });
  }

  return {
    /** Ensures the admins group and admin user exist and that the admin has a usable token. */
    async bootstrap(opts: { adminToken: string | undefined; dataDir: string; announce: (line: string) => void }) {
      const created = now();
      for (const [kind, name] of [
        ['group', ADMINS_GROUP],
        ['user', ADMIN_USER],
      ] as const) {
        await db
          .insertInto('principals')
          .values({
            kind,
            name,
            display_name: name,
            password_hash: null,
            application_id: null,
            active: 1,
            created_at: created,
            external_id: null,
            attributes: null,
          })
          .onConflict((oc) => oc.columns(['kind', 'name']).doNothing())
          .execute();
      }
      const admin = await db.selectFrom('principals').select('id').where('kind', '=', 'user').where('name', '=', ADMIN_USER).executeTakeFirstOrThrow();
      const group = await db.selectFrom('principals').select('id').where('kind', '=', 'group').where('name', '=', ADMINS_GROUP).executeTakeFirstOrThrow();
      await db
        .insertInto('group_members')
        .values({ group_id: group.id, member_id: admin.id })
        .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
        .execute();
      dropCaches();
      if (opts.adminToken) {
        const hash = hashToken(opts.adminToken);
        const existing = await db.selectFrom('tokens').select('principal_id').where('token_hash', '=', hash).executeTakeFirst();
        if (!existing) {
          await db.deleteFrom('tokens').where('comment', '=', 'bootstrap (WEIR_ADMIN_TOKEN)').execute();
          await mintToken(admin.id, 'bootstrap (WEIR_ADMIN_TOKEN)', undefined, { secret: opts.adminToken });
        }
        return;
      }
      const file = path.join(opts.dataDir, 'admin-token');
      const anyToken = await db.selectFrom('tokens').select('token_id').where('principal_id', '=', admin.id).executeTakeFirst();
      if (anyToken) return;
      const { value } = await mintToken(admin.id, 'bootstrap', undefined);
      fs.mkdirSync(opts.dataDir, { recursive: true });
      fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
      opts.announce(`Admin token (shown once, also in ${file}): ${value}`);
    },

    /** Resolves `Authorization: Bearer <token>` or Basic (token as password, or user + password). */
    async authenticate(header: string | undefined): Promise<Principal | null> {
      if (!header) return null;
      // Awaited only when due: a scoring request authenticates from memory without leaving this turn.
      if (epochCheckDue()) await syncEpoch();
      const cached = authCache.get(header);
      if (cached && cached.until > now()) {
        if (cached.principalId === null) return null;
        return principalCache.has(cached.principalId) ? (principalCache.get(cached.principalId) ?? null) : principalById(cached.principalId);
      }
      const gen = generation;
      let found: { principalId: number; expiresAt: number } | null = null;
      let principal: Principal | null = null;
      const space = header.indexOf(' ');
      const scheme = header.slice(0, Math.max(space, 0)).toLowerCase();
      const rest = header.slice(space + 1).trim();
      if (scheme === 'bearer' && rest) {
        found = await principalForToken(rest);
      } else if (scheme === 'basic' && rest) {
        const decoded = Buffer.from(rest, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
        const secret = colon >= 0 ? decoded.slice(colon + 1) : '';
        if (secret) {
          found = await principalForToken(secret);
          if (!found) {
            principal = await principalForPassword(user, secret);
            if (principal) found = { principalId: principal.id, expiresAt: -1 };
          }
        }
      }
      if (found) principal = await principalById(found.principalId);
      if (gen === generation) {
        if (authCache.size > 10_000) authCache.clear();
        const until = found && found.expiresAt >= 0 ? Math.min(now() + AUTH_CACHE_MS, found.expiresAt) : now() + AUTH_CACHE_MS;
        authCache.set(header, { principalId: found?.principalId ?? null, until });
      }
      return principal;
    },

    /** Checks a username and password (web UI login). */
    async login(userName: string, password: string): Promise<Principal | null> {
      return principalForPassword(userName, password);
    },

    isAdmin,
    principalById,
    groupsOf,

    /** Lets another domain drop what it keeps for a principal (e.g. its grants) inside the deleting transaction. */
    onPrincipalDeleted(listener: PrincipalDeletionListener): void {
      deletionListeners.push(listener);
    },

    /** Creates a token for the caller. */
    async createToken(principal: Principal, comment: string | undefined, lifetimeSeconds: number | undefined) {
      const { value, info } = await mintToken(principal.id, comment ?? null, lifetimeSeconds);
      return { token_value: value, token_info: tokenInfo(info) };
    },

    /** Lists the caller's tokens. */
    async listTokens(principal: Principal): Promise<TokenInfo[]> {
      const rows = await db.selectFrom('tokens').selectAll().where('principal_id', '=', principal.id).orderBy('created_at').execute();
      return rows.map(tokenInfo);
    },

    /** Revokes one of the caller's tokens (admins may revoke any). */
    async deleteToken(principal: Principal, tokenId: string): Promise<void> {
      await write(async (trx) => {
        let q = trx.deleteFrom('tokens').where('token_id', '=', tokenId);
        if (!principal.isAdmin) q = q.where('principal_id', '=', principal.id);
        const res = await q.executeTakeFirst();
        if (Number(res.numDeletedRows) === 0) throw notFound(`Token with id ${tokenId} does not exist.`);
      });
    },

    /** Token management: an admin mints a token for a service principal named by its applicationId. */
    async createOboToken(admin: Principal, input: z.output<typeof identity.CreateOboToken>) {
      const sp = await db
        .selectFrom('principals')
        .select(['id', 'active'])
        .where('kind', '=', 'service_principal')
        .where('name', '=', input.application_id.toLowerCase())
        .executeTakeFirst();
      if (!sp) throw notFound(`Service principal with application ID ${input.application_id} does not exist.`);
      if (!sp.active) throw invalidParameter(`Service principal ${input.application_id} is not active.`);
      const { value, info } = await mintToken(sp.id, input.comment ?? null, input.lifetime_seconds, { createdBy: admin.id });
      const [managed] = await managedTokenInfos([info]);
      return { token_value: value, token_info: managed };
    },

    /** Token management: every token (admins), optionally only those created by one principal. */
    async listAllTokens(filter: { created_by_id?: number | undefined; created_by_username?: string | undefined }): Promise<ManagedTokenInfo[]> {
      const rows = await db
        .selectFrom('tokens')
        .select(['token_id', 'principal_id', 'created_at', 'expires_at', 'comment', 'created_by_id'])
        .orderBy('created_at')
        .execute();
      let infos = await managedTokenInfos(rows);
      if (filter.created_by_id !== undefined) infos = infos.filter((t) => t.created_by_id === filter.created_by_id);
      if (filter.created_by_username !== undefined) infos = infos.filter((t) => t.created_by_username === filter.created_by_username);
      return infos;
    },

    /** Token management: one token by id. */
    async getManagedToken(tokenId: string): Promise<ManagedTokenInfo> {
      const row = await db
        .selectFrom('tokens')
        .select(['token_id', 'principal_id', 'created_at', 'expires_at', 'comment', 'created_by_id'])
        .where('token_id', '=', tokenId)
        .executeTakeFirst();
      if (!row) throw notFound(`Token with id ${tokenId} does not exist.`);
      const [info] = await managedTokenInfos([row]);
      return info as ManagedTokenInfo;
    },

    /** SCIM: creates a user, group or service principal (with its memberships) in one transaction. */
    async createPrincipal(kind: PrincipalKind, body: ScimBody): Promise<ScimResource> {
      const draft = draftFromBody(kind, body, null);
      const password = kind === 'user' ? (body as { password?: string }).password : undefined;
      const row = await write(async (trx) => {
        await assertNameFree(trx, kind, draft.name, null);
        const inserted = await trx
          .insertInto('principals')
          .values({
            kind,
            name: draft.name,
            display_name: draft.displayName,
            password_hash: password ? hashPassword(password) : null,
            application_id: kind === 'service_principal' ? draft.name : null,
            active: draft.active ? 1 : 0,
            created_at: now(),
            external_id: draft.externalId,
            attributes: JSON.stringify(draft.attributes),
          })
          .returning(ROW_COLUMNS)
          .executeTakeFirstOrThrow();
        await commitDraft(trx, inserted.id, draft, { members: new Set(), groups: new Set() });
        return (await rowById(trx, kind, String(inserted.id))) as PrincipalRow;
      });
      return (await render([row]))[0] as ScimResource;
    },

    /** SCIM: one resource by id. */
    async getPrincipal(kind: PrincipalKind, id: string): Promise<ScimResource> {
      return (await render([await rowById(db, kind, id)]))[0] as ScimResource;
    },

    /** SCIM: lists resources of a kind with a filter, sorting and 1-based paging. */
    async listPrincipals(
      kind: PrincipalKind,
      opts: { filter?: string | undefined; startIndex: number; count: number; sortBy?: string | undefined; descending?: boolean },
    ): Promise<{ total: number; resources: ScimResource[] }> {
      const filter = opts.filter?.trim() ? parseScimFilter(opts.filter) : null;
      if (filter) checkFilterAttributes(filter, kind);
      const sortKey = opts.sortBy ? SORTABLE[opts.sortBy.toLowerCase()] : SORTABLE.id;
      if (!sortKey) throw invalidParameter(`Cannot sort by '${opts.sortBy}'.`);
      const rows = (await db.selectFrom('principals').select(ROW_COLUMNS).where('kind', '=', kind).orderBy('id').execute()) as PrincipalRow[];
      const matching = filter ? rows.filter((r) => matchesFilter(filter, filterSubject(r), kind)) : rows;
      if (opts.sortBy) {
        matching.sort((a, b) => {
          const x = sortKey(a);
          const y = sortKey(b);
          return x < y ? -1 : x > y ? 1 : a.id - b.id;
        });
      }
      if (opts.descending) matching.reverse();
      const page = matching.slice(opts.startIndex - 1, opts.startIndex - 1 + opts.count);
      return { total: matching.length, resources: await render(page) };
    },

    /** SCIM: applies a PatchOp atomically (all operations or none). */
    async patchPrincipal(kind: PrincipalKind, id: string, operations: z.output<typeof identity.ScimPatch>['Operations']): Promise<ScimResource> {
      requireId(kind, id);
      const row = await write(async (trx) => {
        const current = await rowById(trx, kind, id);
        const draft = await loadDraft(trx, current);
        const before = { members: new Set(draft.members), groups: new Set(draft.groups) };
        applyScimPatch(draft, operations);
        if (kind === 'group') draft.name = draft.displayName;
        if (kind === 'group' && current.name === ADMINS_GROUP && draft.name !== ADMINS_GROUP) throw invalidParameter('The admins group cannot be renamed.');
        if (draft.name !== current.name) await assertNameFree(trx, kind, draft.name, current.id);
        await commitDraft(trx, current.id, draft, before);
        return rowById(trx, kind, id);
      });
      return (await render([row]))[0] as ScimResource;
    },

    /** SCIM: replaces a resource (PUT); a group's `members` are replaced, a user's or service principal's `groups` only when given. */
    async replacePrincipal(kind: PrincipalKind, id: string, body: ScimBody): Promise<ScimResource> {
      requireId(kind, id);
      const row = await write(async (trx) => {
        const current = await rowById(trx, kind, id);
        const existing = await loadDraft(trx, current);
        const before = { members: new Set(existing.members), groups: new Set(existing.groups) };
        const draft = draftFromBody(kind, body, existing);
        if (kind === 'user' && current.name === ADMIN_USER && draft.name !== ADMIN_USER) throw invalidParameter('The bootstrap admin cannot be renamed.');
        if (kind === 'group' && current.name === ADMINS_GROUP && draft.name !== ADMINS_GROUP) throw invalidParameter('The admins group cannot be renamed.');
        if (draft.name !== current.name) await assertNameFree(trx, kind, draft.name, current.id);
        const password = kind === 'user' ? (body as { password?: string }).password : undefined;
        await commitDraft(trx, current.id, draft, before, password);
        return rowById(trx, kind, id);
      });
      return (await render([row]))[0] as ScimResource;
    },

    /** SCIM: deletes a principal with its tokens, memberships and workspace-object grants. */
    deletePrincipal,

    /** SCIM: the calling principal as a User resource (service principals answer with their applicationId as userName). */
    async me(principal: Principal): Promise<ScimResource> {
      const row = (await db.selectFrom('principals').select(ROW_COLUMNS).where('id', '=', principal.id).executeTakeFirst()) as PrincipalRow | undefined;
      if (!row) throw notFound(`Principal ${principal.id} not found.`);
      const [resource] = await render([row]);
      if (row.kind !== 'service_principal') return resource as ScimResource;
      const { applicationId, ...rest } = resource as ScimResource & { applicationId: string };
      return { ...rest, schemas: [SCHEMA.user], userName: applicationId, emails: [] };
    },

    /** SCIM: creates a user (kept for callers that predate groups). */
    async createUser(input: z.output<typeof identity.CreateScimUser>): Promise<ScimUser> {
      return (await this.createPrincipal('user', input)) as unknown as ScimUser;
    },

    /** SCIM: one user by id. */
    async getUser(id: string): Promise<ScimUser> {
      return (await this.getPrincipal('user', id)) as unknown as ScimUser;
    },

    /** SCIM: deletes a user and their tokens and grants. */
    async deleteUser(id: string): Promise<void> {
      await deletePrincipal('user', id);
    },

    /**
     * Resolves a principal name as grants spell it: a user by userName, a service principal by applicationId, a group by
     * displayName, then a service principal by a display name only it has. Null when nothing matches (callers answer 404).
     */
    async principalByName(name: string): Promise<PrincipalRef | null> {
      const rows = (await db
        .selectFrom('principals')
        .select(['id', 'kind', 'name', 'display_name'])
        .where((eb) =>
          eb.or([eb('name', '=', name), eb('name', '=', name.toLowerCase()), eb.and([eb('kind', '=', 'service_principal'), eb('display_name', '=', name)])]),
        )
        .execute()) as { id: number; kind: PrincipalKind; name: string; display_name: string | null }[];
      const pick =
        rows.find((r) => r.kind === 'user' && r.name === name) ??
        rows.find((r) => r.kind === 'service_principal' && r.name === name.toLowerCase()) ??
        rows.find((r) => r.kind === 'group' && r.name === name) ??
        (() => {
          const byDisplay = rows.filter((r) => r.kind === 'service_principal' && r.display_name === name);
          return byDisplay.length === 1 ? byDisplay[0] : undefined;
        })();
      return pick ? { id: pick.id, kind: pick.kind, name: pick.name, displayName: pick.display_name ?? pick.name } : null;
    },

    /** Finds a principal id by user name (or service principal applicationId / group name). */
    async principalIdByName(kind: PrincipalKind, name: string): Promise<number> {
      const wanted = kind === 'service_principal' ? name.toLowerCase() : name;
      const row = await db.selectFrom('principals').select('id').where('kind', '=', kind).where('name', '=', wanted).executeTakeFirst();
      if (!row) throw notFound(`Principal ${name} does not exist.`);
      return row.id;
    },

    /** Names for principal ids (for ACL listings); a service principal's name is its applicationId. */
    principalNames,

    /** The direct ACL of a workspace object. */
    objectAcl: readAcl,

    /** Grants levels on an object; `replace` drops every entry not listed (PUT semantics). */
    async setObjectAcl(objectType: string, objectId: string, entries: AccessControlEntry[], replace: boolean): Promise<void> {
      await aclWrite(async (trx) => {
        if (replace) {
          await trx.deleteFrom('object_permissions').where('object_type', '=', objectType).where('object_id', '=', objectId).execute();
        }
        for (const e of entries) {
          await trx
            .insertInto('object_permissions')
            .values({ object_type: objectType, object_id: objectId, principal_id: e.principalId, level: e.level })
            .onConflict((oc) => oc.columns(['object_type', 'object_id', 'principal_id']).doUpdateSet({ level: e.level }))
            .execute();
        }
      });
    },

    /** Removes every grant on an object (when the object is deleted for good). */
    async dropObjectAcl(objectType: string, objectId: string): Promise<void> {
      await aclWrite(async (trx) => {
        await trx.deleteFrom('object_permissions').where('object_type', '=', objectType).where('object_id', '=', objectId).execute();
      });
    },

    /** The caller's effective level on an object, through direct and group grants; admins manage everything. */
    async levelOn(principal: Principal, objectType: string, objectId: string): Promise<PermissionLevel | null> {
      if (principal.isAdmin) return 'CAN_MANAGE';
      const acl = await cachedAcl(objectType, objectId);
      if (acl.length === 0) return null;
      const ids = new Set(await memoGroupsOf(principal.id));
      ids.add(principal.id);
      let best: PermissionLevel | null = null;
      for (const e of acl) {
        if (ids.has(e.principalId) && (!best || (LEVEL_RANK[e.level] ?? 0) > (LEVEL_RANK[best] ?? 0))) best = e.level;
      }
      return best;
    },

    /** Ids of objects of a type the caller can at least read (null = everything, for admins). */
    async readableObjectIds(principal: Principal, objectType: string): Promise<Set<string> | null> {
      if (principal.isAdmin) return null;
      const ids = await this.principalAndGroups(principal.id);
      const rows = await db
        .selectFrom('object_permissions')
        .select('object_id')
        .where('object_type', '=', objectType)
        .where('principal_id', 'in', ids)
        .execute();
      return new Set(rows.map((r) => r.object_id));
    },

    /** The principal plus every group it belongs to, transitively. */
    async principalAndGroups(principalId: number): Promise<number[]> {
      return [principalId, ...(await memoGroupsOf(principalId))];
    },
  };
}

/** Called inside the transaction that deletes a principal; a throw aborts the deletion. */
export type PrincipalDeletionListener = (principalId: number, trx: Kysely<any>) => Promise<void>;

/** A create or PUT body of any SCIM resource kind. */
export type ScimBody = z.output<typeof identity.CreateScimUser> | z.output<typeof identity.ScimGroupBody> | z.output<typeof identity.ScimServicePrincipalBody>;

/** True when `have` meets `need`. */
export function levelAtLeast(have: PermissionLevel | null, need: PermissionLevel): boolean {
  return have !== null && (LEVEL_RANK[have] ?? 0) >= (LEVEL_RANK[need] ?? 0);
}

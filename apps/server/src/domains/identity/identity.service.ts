import { createHash, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PermissionLevel } from '@weir/contracts';
import type { Kysely } from 'kysely';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdentityTables } from './identity.tables.ts';

const ADMINS_GROUP = 'admins';
const ADMIN_USER = 'admin';
const LEVEL_RANK: Record<string, number> = { CAN_READ: 1, CAN_EDIT: 2, CAN_MANAGE: 3 };

/** A token as the Databricks token API shows it (never the secret). */
export interface TokenInfo {
  token_id: string;
  creation_time: number;
  expiry_time: number;
  comment: string;
}

/** A user as SCIM shows it. */
export interface ScimUser {
  schemas: string[];
  id: string;
  userName: string;
  displayName: string;
  active: boolean;
  emails: { value: string; primary: boolean; type: string }[];
  groups: { display: string; value: string }[];
}

/** One entry of a workspace object's access control list. */
export interface AccessControlEntry {
  principalId: number;
  level: PermissionLevel;
}

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

/** Identity: principals, tokens, authentication and workspace-object permissions. */
export type IdentityService = ReturnType<typeof createIdentityService>;

/** Creates the identity service over the metadata store. */
export function createIdentityService(deps: { db: Kysely<IdentityTables>; now?: () => number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  // Short-lived cache of token → principal; cleared on every identity write so revocation is immediate here.
  const authCache = new Map<string, { principal: Principal | null; until: number }>();
  const clearCache = () => authCache.clear();

  async function isAdmin(principalId: number): Promise<boolean> {
    const row = await db
      .selectFrom('group_members as m')
      .innerJoin('principals as g', 'g.id', 'm.group_id')
      .select('g.id')
      .where('m.member_id', '=', principalId)
      .where('g.kind', '=', 'group')
      .where('g.name', '=', ADMINS_GROUP)
      .executeTakeFirst();
    return row !== undefined;
  }

  async function toPrincipal(row: { id: number; name: string; kind: string; active: number }): Promise<Principal | null> {
    if (!row.active || row.kind === 'group') return null;
    return {
      id: row.id,
      userName: row.name,
      kind: row.kind === 'service_principal' ? 'service_principal' : 'user',
      isAdmin: await isAdmin(row.id),
    };
  }

  async function principalForToken(token: string): Promise<Principal | null> {
    const row = await db
      .selectFrom('tokens as t')
      .innerJoin('principals as p', 'p.id', 't.principal_id')
      .select(['p.id', 'p.name', 'p.kind', 'p.active', 't.expires_at'])
      .where('t.token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row) return null;
    if (row.expires_at >= 0 && row.expires_at < now()) return null;
    return toPrincipal(row);
  }

  async function principalForPassword(userName: string, password: string): Promise<Principal | null> {
    const row = await db
      .selectFrom('principals')
      .select(['id', 'name', 'kind', 'active', 'password_hash'])
      .where('kind', '=', 'user')
      .where('name', '=', userName)
      .executeTakeFirst();
    if (!row?.password_hash || !verifyPassword(password, row.password_hash)) return null;
    return toPrincipal(row);
  }

  async function mintToken(principalId: number, comment: string | null, lifetimeSeconds?: number, secret?: string) {
    const value = secret ?? `dapi${randomBytes(20).toString('hex')}`;
    const created = now();
    const info = {
      token_id: randomUUID().replace(/-/g, ''),
      principal_id: principalId,
      token_hash: hashToken(value),
      comment,
      created_at: created,
      expires_at: lifetimeSeconds && lifetimeSeconds > 0 ? created + lifetimeSeconds * 1000 : -1,
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

  async function scimUser(row: { id: number; name: string; display_name: string | null; active: number }): Promise<ScimUser> {
    const groups = await db
      .selectFrom('group_members as m')
      .innerJoin('principals as g', 'g.id', 'm.group_id')
      .select(['g.id', 'g.name'])
      .where('m.member_id', '=', row.id)
      .execute();
    return {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: String(row.id),
      userName: row.name,
      displayName: row.display_name ?? row.name,
      active: row.active === 1,
      emails: row.name.includes('@') ? [{ value: row.name, primary: true, type: 'work' }] : [],
      groups: groups.map((g) => ({ display: g.name, value: String(g.id) })),
    };
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
          .values({ kind, name, display_name: name, password_hash: null, application_id: null, active: 1, created_at: created })
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
      if (opts.adminToken) {
        const hash = hashToken(opts.adminToken);
        const existing = await db.selectFrom('tokens').select('principal_id').where('token_hash', '=', hash).executeTakeFirst();
        if (!existing) {
          await db.deleteFrom('tokens').where('comment', '=', 'bootstrap (WEIR_ADMIN_TOKEN)').execute();
          await mintToken(admin.id, 'bootstrap (WEIR_ADMIN_TOKEN)', undefined, opts.adminToken);
        }
        return;
      }
      const file = path.join(opts.dataDir, 'admin-token');
      const anyToken = await db.selectFrom('tokens').select('token_id').where('principal_id', '=', admin.id).executeTakeFirst();
      if (anyToken && fs.existsSync(file)) return;
      if (anyToken) return;
      const { value } = await mintToken(admin.id, 'bootstrap');
      fs.mkdirSync(opts.dataDir, { recursive: true });
      fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
      opts.announce(`Admin token (shown once, also in ${file}): ${value}`);
    },

    /** Resolves `Authorization: Bearer <token>` or Basic (token as password, or user + password). */
    async authenticate(header: string | undefined): Promise<Principal | null> {
      if (!header) return null;
      const cached = authCache.get(header);
      if (cached && cached.until > now()) return cached.principal;
      let principal: Principal | null = null;
      const [scheme, rest] = [header.slice(0, header.indexOf(' ')).toLowerCase(), header.slice(header.indexOf(' ') + 1).trim()];
      if (scheme === 'bearer' && rest) {
        principal = await principalForToken(rest);
      } else if (scheme === 'basic' && rest) {
        const decoded = Buffer.from(rest, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
        const secret = colon >= 0 ? decoded.slice(colon + 1) : '';
        if (secret) principal = (await principalForToken(secret)) ?? (await principalForPassword(user, secret));
      }
      if (authCache.size > 10_000) authCache.clear();
      authCache.set(header, { principal, until: now() + 10_000 });
      return principal;
    },

    /** Checks a username and password (web UI login). */
    async login(userName: string, password: string): Promise<Principal | null> {
      return principalForPassword(userName, password);
    },

    isAdmin,

    /** Creates a token for the caller. */
    async createToken(principal: Principal, comment: string | undefined, lifetimeSeconds: number | undefined) {
      if (lifetimeSeconds !== undefined && lifetimeSeconds > 10 * 365 * 24 * 3600) {
        throw new AppError('INVALID_PARAMETER_VALUE', 'lifetime_seconds must be at most ten years.');
      }
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
      let q = db.deleteFrom('tokens').where('token_id', '=', tokenId);
      if (!principal.isAdmin) q = q.where('principal_id', '=', principal.id);
      const res = await q.executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`Token with id ${tokenId} does not exist.`);
      clearCache();
    },

    /** SCIM: creates a user. */
    async createUser(input: {
      userName: string;
      displayName?: string | undefined;
      active?: boolean | undefined;
      password?: string | undefined;
    }): Promise<ScimUser> {
      const exists = await db.selectFrom('principals').select('id').where('kind', '=', 'user').where('name', '=', input.userName).executeTakeFirst();
      if (exists) throw new AppError('RESOURCE_ALREADY_EXISTS', `User with username ${input.userName} already exists.`);
      const row = await db
        .insertInto('principals')
        .values({
          kind: 'user',
          name: input.userName,
          display_name: input.displayName ?? input.userName,
          password_hash: input.password ? hashPassword(input.password) : null,
          application_id: null,
          active: input.active === false ? 0 : 1,
          created_at: now(),
        })
        .returning(['id', 'name', 'display_name', 'active'])
        .executeTakeFirstOrThrow();
      return scimUser(row);
    },

    /** SCIM: one user by id. */
    async getUser(id: string): Promise<ScimUser> {
      const n = Number(id);
      const row = Number.isSafeInteger(n)
        ? await db.selectFrom('principals').select(['id', 'name', 'display_name', 'active']).where('kind', '=', 'user').where('id', '=', n).executeTakeFirst()
        : undefined;
      if (!row) throw notFound(`User ${id} not found.`);
      return scimUser(row);
    },

    /** SCIM: lists users, optionally `userName eq "x"`. */
    async listUsers(opts: { userName?: string | undefined; startIndex: number; count: number }) {
      let q = db.selectFrom('principals').select(['id', 'name', 'display_name', 'active']).where('kind', '=', 'user');
      if (opts.userName !== undefined) q = q.where('name', '=', opts.userName);
      const all = await q.orderBy('id').execute();
      const page = all.slice(opts.startIndex - 1, opts.startIndex - 1 + opts.count);
      return { total: all.length, users: await Promise.all(page.map(scimUser)) };
    },

    /** SCIM: deletes a user and their tokens and grants. */
    async deleteUser(id: string): Promise<void> {
      const user = await this.getUser(id);
      if (user.userName === ADMIN_USER) throw new AppError('INVALID_PARAMETER_VALUE', 'The bootstrap admin cannot be deleted.');
      const pid = Number(user.id);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('tokens').where('principal_id', '=', pid).execute();
        await trx.deleteFrom('group_members').where('member_id', '=', pid).execute();
        await trx.deleteFrom('object_permissions').where('principal_id', '=', pid).execute();
        await trx.deleteFrom('principals').where('id', '=', pid).execute();
      });
      clearCache();
    },

    /** Finds a principal id by user name (or service principal / group name). */
    async principalIdByName(kind: 'user' | 'service_principal' | 'group', name: string): Promise<number> {
      const row = await db.selectFrom('principals').select('id').where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
      if (!row) throw notFound(`Principal ${name} does not exist.`);
      return row.id;
    },

    /** Names for principal ids (for ACL listings). */
    async principalNames(ids: number[]): Promise<Map<number, { name: string; kind: string }>> {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('principals').select(['id', 'name', 'kind']).where('id', 'in', ids).execute();
      return new Map(rows.map((r) => [r.id, { name: r.name, kind: r.kind }]));
    },

    /** The direct ACL of a workspace object. */
    async objectAcl(objectType: string, objectId: string): Promise<AccessControlEntry[]> {
      const rows = await db
        .selectFrom('object_permissions')
        .select(['principal_id', 'level'])
        .where('object_type', '=', objectType)
        .where('object_id', '=', objectId)
        .execute();
      return rows.map((r) => ({ principalId: r.principal_id, level: r.level as PermissionLevel }));
    },

    /** Grants levels on an object; `replace` drops every entry not listed (PUT semantics). */
    async setObjectAcl(objectType: string, objectId: string, entries: AccessControlEntry[], replace: boolean): Promise<void> {
      await db.transaction().execute(async (trx) => {
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
      await db.deleteFrom('object_permissions').where('object_type', '=', objectType).where('object_id', '=', objectId).execute();
    },

    /** The caller's effective level on an object, through direct and group grants; admins manage everything. */
    async levelOn(principal: Principal, objectType: string, objectId: string): Promise<PermissionLevel | null> {
      if (principal.isAdmin) return 'CAN_MANAGE';
      const ids = await this.principalAndGroups(principal.id);
      const rows = await db
        .selectFrom('object_permissions')
        .select('level')
        .where('object_type', '=', objectType)
        .where('object_id', '=', objectId)
        .where('principal_id', 'in', ids)
        .execute();
      let best: PermissionLevel | null = null;
      for (const r of rows) if (!best || (LEVEL_RANK[r.level] ?? 0) > (LEVEL_RANK[best] ?? 0)) best = r.level as PermissionLevel;
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
      const seen = new Set<number>([principalId]);
      let frontier = [principalId];
      while (frontier.length > 0) {
        const rows = await db.selectFrom('group_members').select('group_id').where('member_id', 'in', frontier).execute();
        frontier = rows.map((r) => r.group_id).filter((g) => !seen.has(g));
        for (const g of frontier) seen.add(g);
      }
      return [...seen];
    },
  };
}

/** True when `have` meets `need`. */
export function levelAtLeast(have: PermissionLevel | null, need: PermissionLevel): boolean {
  return have !== null && (LEVEL_RANK[have] ?? 0) >= (LEVEL_RANK[need] ?? 0);
}

import type { Command } from 'commander';
import { type Connection, callApi, formatTable, resolveConnection } from '../client.ts';

type Opts = { json?: boolean; profile?: string; host?: string; token?: string };
type Resource = Record<string, unknown> & { id: string };

const SCIM = '/api/2.0/preview/scim/v2';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

function withConnection(cmd: Command): Command {
  return cmd
    .option('--host <url>', 'Weir URL (default: WEIR_HOST, ~/.weirrc, http://localhost:8080)')
    .option('--token <token>', 'access token (default: WEIR_TOKEN or ~/.weirrc)')
    .option('--profile <name>', 'profile in ~/.weirrc')
    .option('--json', 'print JSON instead of a table');
}

function print(json: boolean | undefined, data: unknown, table: () => string) {
  process.stdout.write(`${json ? JSON.stringify(data, null, 2) : table()}\n`);
}

/** A SCIM filter string literal (quotes and backslashes escaped). */
const quoted = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

async function list(conn: Connection, collection: string, filter?: string): Promise<Resource[]> {
  const res = await callApi(conn, 'GET', `${SCIM}/${collection}`, { filter, count: 10000 });
  return (res.Resources ?? []) as Resource[];
}

/** Finds one resource by the attribute that names it, or fails with a message naming what was looked for. */
async function findOne(conn: Connection, collection: string, attribute: string, value: string): Promise<Resource> {
  const [found] = await list(conn, collection, `${attribute} eq ${quoted(value)}`);
  if (!found)
    throw new Error(`No ${collection === 'ServicePrincipals' ? 'service principal' : collection.slice(0, -1).toLowerCase()} with ${attribute} ${value}.`);
  return found;
}

/** A member named as a user name, a service principal's applicationId, or a group name (in that order). */
async function findMember(conn: Connection, name: string): Promise<Resource> {
  for (const [collection, attribute] of [
    ['Users', 'userName'],
    ['ServicePrincipals', 'applicationId'],
    ['Groups', 'displayName'],
  ] as const) {
    const [found] = await list(conn, collection, `${attribute} eq ${quoted(name)}`);
    if (found) return found;
  }
  throw new Error(`No user, service principal or group named ${name}.`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const groupNames = (r: Resource) => ((r.groups ?? []) as { display?: string }[]).map((g) => g.display ?? '').join(',');

/** Adds `weir users|groups|service-principals` over the SCIM and token-management APIs (admins). */
export function registerIdentityCommands(program: Command): void {
  const users = program.command('users').description('Users (SCIM; admins)');
  withConnection(users.command('list').description('List users'))
    .option('--filter <expr>', 'SCIM filter, e.g. \'userName sw "ana"\'')
    .action(async (o: Opts & { filter?: string }) => {
      const rows = await list(resolveConnection(o), 'Users', o.filter);
      print(o.json, rows, () =>
        formatTable(
          ['ID', 'USER_NAME', 'DISPLAY_NAME', 'ACTIVE', 'GROUPS'],
          rows.map((u) => [u.id, String(u.userName), String(u.displayName), String(u.active), groupNames(u)]),
        ),
      );
    });
  withConnection(users.command('create').description('Create a user').argument('<user-name>'))
    .option('--display-name <name>', 'display name')
    .option('--password-stdin', 'read a password for UI and Basic sign-in from standard input')
    .action(async (userName: string, o: Opts & { displayName?: string; passwordStdin?: boolean }) => {
      const password = o.passwordStdin ? await readStdin() : undefined;
      const res = await callApi(resolveConnection(o), 'POST', `${SCIM}/Users`, { userName, displayName: o.displayName, password });
      print(o.json, res, () => `created user ${userName} (id ${String(res.id)})`);
    });
  for (const [verb, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const) {
    withConnection(
      users
        .command(verb)
        .description(`${active ? 'Reactivate' : 'Deactivate (tokens and sessions stop at once)'} a user`)
        .argument('<user-name>'),
    ).action(async (userName: string, o: Opts) => {
      const conn = resolveConnection(o);
      const user = await findOne(conn, 'Users', 'userName', userName);
      const res = await callApi(conn, 'PATCH', `${SCIM}/Users/${user.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'active', value: active }],
      });
      print(o.json, res, () => `${verb}d user ${userName}`);
    });
  }
  withConnection(users.command('delete').description('Delete a user with their tokens').argument('<user-name>')).action(async (userName: string, o: Opts) => {
    const conn = resolveConnection(o);
    const user = await findOne(conn, 'Users', 'userName', userName);
    await callApi(conn, 'DELETE', `${SCIM}/Users/${user.id}`);
    print(o.json, { deleted: user.id }, () => `deleted user ${userName}`);
  });

  const groups = program.command('groups').description('Groups, which may contain users, service principals and groups (SCIM; admins)');
  withConnection(groups.command('list').description('List groups'))
    .option('--filter <expr>', 'SCIM filter, e.g. \'displayName co "ops"\'')
    .action(async (o: Opts & { filter?: string }) => {
      const rows = await list(resolveConnection(o), 'Groups', o.filter);
      print(o.json, rows, () =>
        formatTable(
          ['ID', 'NAME', 'MEMBERS', 'MEMBER_OF'],
          rows.map((g) => [g.id, String(g.displayName), ((g.members ?? []) as { display?: string }[]).map((m) => m.display ?? '').join(','), groupNames(g)]),
        ),
      );
    });
  withConnection(groups.command('create').description('Create a group').argument('<name>')).action(async (name: string, o: Opts) => {
    const res = await callApi(resolveConnection(o), 'POST', `${SCIM}/Groups`, { displayName: name });
    print(o.json, res, () => `created group ${name} (id ${String(res.id)})`);
  });
  for (const [verb, op] of [
    ['add-member', 'add'],
    ['remove-member', 'remove'],
  ] as const) {
    withConnection(
      groups
        .command(verb)
        .description(`${op === 'add' ? 'Add' : 'Remove'} a user (by user name), service principal (by applicationId) or group (by name)`)
        .argument('<group>')
        .argument('<member>'),
    ).action(async (group: string, member: string, o: Opts) => {
      const conn = resolveConnection(o);
      const g = await findOne(conn, 'Groups', 'displayName', group);
      const m = await findMember(conn, member);
      const operation = op === 'add' ? { op, path: 'members', value: [{ value: m.id }] } : { op, path: `members[value eq "${m.id}"]` };
      const res = await callApi(conn, 'PATCH', `${SCIM}/Groups/${g.id}`, { schemas: [PATCH_OP], Operations: [operation] });
      print(o.json, res, () => `${op === 'add' ? 'added' : 'removed'} ${member} ${op === 'add' ? 'to' : 'from'} ${group}`);
    });
  }
  withConnection(groups.command('delete').description('Delete a group').argument('<name>')).action(async (name: string, o: Opts) => {
    const conn = resolveConnection(o);
    const g = await findOne(conn, 'Groups', 'displayName', name);
    await callApi(conn, 'DELETE', `${SCIM}/Groups/${g.id}`);
    print(o.json, { deleted: g.id }, () => `deleted group ${name}`);
  });

  const sps = program.command('service-principals').description('Service principals and their tokens (admins)');
  withConnection(sps.command('list').description('List service principals')).action(async (o: Opts) => {
    const rows = await list(resolveConnection(o), 'ServicePrincipals');
    print(o.json, rows, () =>
      formatTable(
        ['ID', 'APPLICATION_ID', 'DISPLAY_NAME', 'ACTIVE', 'GROUPS'],
        rows.map((r) => [r.id, String(r.applicationId), String(r.displayName), String(r.active), groupNames(r)]),
      ),
    );
  });
  withConnection(sps.command('create').description('Create a service principal').argument('<display-name>'))
    .option('--application-id <uuid>', 'its applicationId (generated when absent)')
    .action(async (displayName: string, o: Opts & { applicationId?: string }) => {
      const res = await callApi(resolveConnection(o), 'POST', `${SCIM}/ServicePrincipals`, { displayName, applicationId: o.applicationId });
      print(o.json, res, () => `created service principal ${displayName} with applicationId ${String(res.applicationId)}`);
    });
  withConnection(sps.command('token').description('Mint a token for a service principal; prints only the token').argument('<application-id>'))
    .option('--lifetime-seconds <n>', 'seconds until it expires (default: never)')
    .option('--comment <text>', 'what it is for')
    .action(async (applicationId: string, o: Opts & { lifetimeSeconds?: string; comment?: string }) => {
      const res = await callApi(resolveConnection(o), 'POST', '/api/2.0/token-management/on-behalf-of/tokens', {
        application_id: applicationId,
        lifetime_seconds: o.lifetimeSeconds === undefined ? undefined : Number(o.lifetimeSeconds),
        comment: o.comment,
      });
      print(o.json, res, () => String(res.token_value));
    });
  withConnection(sps.command('delete').description('Delete a service principal with its tokens').argument('<application-id>')).action(
    async (applicationId: string, o: Opts) => {
      const conn = resolveConnection(o);
      const sp = await findOne(conn, 'ServicePrincipals', 'applicationId', applicationId);
      await callApi(conn, 'DELETE', `${SCIM}/ServicePrincipals/${sp.id}`);
      print(o.json, { deleted: sp.id }, () => `deleted service principal ${applicationId}`);
    },
  );
}

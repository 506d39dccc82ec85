// Test helpers: principals with tokens and groups, created in a running test server.
import type { TestServer } from '../../testing/test-server.ts';

/** A user created through SCIM with a personal access token. */
export interface TestUser {
  id: number;
  userName: string;
  token: string;
}

/** Creates a user through SCIM (as admin) and mints its token by logging in with its password. */
export async function makeUser(s: TestServer, userName: string, opts: { active?: boolean } = {}): Promise<TestUser> {
  const password = `pw-${userName}-0123456789`;
  const created = await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName, password });
  if (created.status !== 201) throw new Error(`creating ${userName}: ${created.status} ${created.text}`);
  const basic = Buffer.from(`${userName}:${password}`).toString('base64');
  const res = await fetch(`${s.url}/api/2.0/token/create`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
    body: JSON.stringify({ comment: 'test' }),
  });
  const body = (await res.json()) as { token_value: string };
  if (opts.active === false) {
    const off = await s.call('PATCH', `/api/2.0/preview/scim/v2/Users/${created.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    if (off.status !== 200) throw new Error(`deactivating ${userName}: ${off.status} ${off.text}`);
  }
  return { id: Number(created.body.id), userName, token: body.token_value };
}

/** Creates a group holding the given members (user or group ids) through SCIM. */
export async function makeGroup(s: TestServer, name: string, memberIds: number[]): Promise<number> {
  const res = await s.call('POST', '/api/2.0/preview/scim/v2/Groups', { displayName: name, members: memberIds.map((id) => ({ value: String(id) })) });
  if (res.status !== 201) throw new Error(`creating group ${name}: ${res.status} ${res.text}`);
  return Number(res.body.id);
}

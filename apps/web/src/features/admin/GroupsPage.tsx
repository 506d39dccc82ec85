import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { invalidate, useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, Loading } from '../../shell/ui.tsx';

const SCIM = '/api/2.0/preview/scim/v2';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A SCIM group with its members. */
interface ScimGroup {
  id: string;
  displayName: string;
  members?: { value: string; display?: string; $ref?: string }[];
}

/** The SCIM PatchOp that adds users to a group. */
export function addMembersPatch(userIds: readonly string[]) {
  return { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: userIds.map((value) => ({ value })) }] };
}

/** The SCIM PatchOp that removes one member (a filtered path, as Databricks documents it). */
export function removeMemberPatch(userId: string) {
  return { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${userId.replace(/["\\]/g, '')}"]` }] };
}

function GroupCard({ group, users }: { group: ScimGroup; users: { id: string; userName: string }[] }) {
  const id = useId();
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<unknown>();
  const members = group.members ?? [];
  const candidates = users.filter((u) => !members.some((m) => m.value === u.id));

  async function patch(body: unknown) {
    setError(undefined);
    try {
      await api().request('PATCH', `${SCIM}/Groups/${encodeURIComponent(group.id)}`, body);
      invalidate(['admin', 'groups']);
      invalidate(['admin', 'users']);
    } catch (err) {
      setError(err);
    }
  }

  async function remove() {
    if (!window.confirm(`Delete group ${group.displayName}? Its grants stop applying to its members.`)) return;
    setError(undefined);
    try {
      await api().request('DELETE', `${SCIM}/Groups/${encodeURIComponent(group.id)}`);
      invalidate(['admin', 'groups']);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="group-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{group.displayName}</h2>
      {members.length === 0 ? <p className="muted">No members.</p> : null}
      <ul>
        {members.map((m) => (
          <li key={m.value}>
            {m.display ?? users.find((u) => u.id === m.value)?.userName ?? m.value}{' '}
            <button
              type="button"
              className="link"
              onClick={() => void patch(removeMemberPatch(m.value))}
              aria-label={`Remove ${m.display ?? m.value} from ${group.displayName}`}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (userId) void patch(addMembersPatch([userId])).then(() => setUserId(''));
        }}
      >
        <label htmlFor={`${id}-user`}>Add member to {group.displayName}</label>
        <select id={`${id}-user`} value={userId} onChange={(e) => setUserId(e.target.value)}>
          <option value="">Choose a user…</option>
          {candidates.map((u) => (
            <option key={u.id} value={u.id}>
              {u.userName}
            </option>
          ))}
        </select>
        <button type="submit" disabled={!userId}>
          Add
        </button>
        <button type="button" className="danger" onClick={() => void remove()} aria-label={`Delete group ${group.displayName}`}>
          Delete group
        </button>
      </form>
      <ErrorBox error={error} title="The server refused" />
    </section>
  );
}

/** Admins list groups, create them, and add or remove members (SCIM Groups). */
export function GroupsPage() {
  const id = useId();
  const groups = useQuery(['admin', 'groups'], () => api().get<{ Resources?: ScimGroup[] }>(`${SCIM}/Groups`));
  const users = useQuery(['admin', 'users'], () => api().get<{ Resources?: { id: string; userName: string }[] }>(`${SCIM}/Users`));
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');

  async function create() {
    setError(undefined);
    setNotice('');
    try {
      await api().post(`${SCIM}/Groups`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name.trim() });
      setNotice(`Created group ${name.trim()}.`);
      setName('');
      invalidate(['admin', 'groups']);
    } catch (err) {
      setError(err);
    }
  }

  const list = [...(groups.data?.Resources ?? [])].sort((a, b) => a.displayName.localeCompare(b.displayName));
  return (
    <main>
      <h1>Groups</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label htmlFor={`${id}-name`}>Group name</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required />
        <button type="submit" className="primary">
          Create group
        </button>
      </form>
      <ErrorBox error={error} title="The server refused" />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBox error={groups.error} title="Could not list groups" />
      {groups.loading && !groups.data ? <Loading what="groups" /> : null}
      {groups.data && list.length === 0 ? <Empty title="No groups yet">Create one above, then grant it privileges in the catalog.</Empty> : null}
      {list.map((g) => (
        <GroupCard key={g.id} group={g} users={users.data?.Resources ?? []} />
      ))}
    </main>
  );
}

import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { invalidate, useQuery } from '../../lib/use-query.ts';
import { ErrorBox, Loading } from '../../shell/ui.tsx';

interface ScimUser {
  id: string;
  userName: string;
  displayName?: string;
  active: boolean;
  groups?: { display: string }[];
}

/** Admins list, create (with a password for UI sign-in) and delete users through SCIM. */
export function UsersPage() {
  const id = useId();
  const query = useQuery(queryKeys.users(), () => api().get<{ Resources?: ScimUser[] }>('/api/2.0/preview/scim/v2/Users'));
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');

  async function create() {
    setError(undefined);
    setNotice('');
    try {
      await api().post('/api/2.0/preview/scim/v2/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: userName.trim(),
        ...(password ? { password } : {}),
      });
      setNotice(`Created ${userName.trim()}.`);
      setUserName('');
      setPassword('');
      invalidate(queryKeys.users());
    } catch (err) {
      setError(err);
    }
  }

  async function remove(user: ScimUser) {
    if (!window.confirm(`Delete ${user.userName}? Their tokens and sessions stop working.`)) return;
    setError(undefined);
    setNotice('');
    try {
      await api().request('DELETE', `/api/2.0/preview/scim/v2/Users/${encodeURIComponent(user.id)}`);
      setNotice(`Deleted ${user.userName}.`);
      invalidate(queryKeys.users());
    } catch (err) {
      setError(err);
    }
  }

  return (
    <main>
      <h1>Users</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label htmlFor={`${id}-name`}>User name</label>
        <input id={`${id}-name`} value={userName} onChange={(e) => setUserName(e.target.value)} required />
        <label htmlFor={`${id}-pass`}>Password (at least 8 characters, optional)</label>
        <input id={`${id}-pass`} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" className="primary">
          Create user
        </button>
      </form>
      <ErrorBox error={error} title="The server refused" />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBox error={query.error} title="Could not list users" />
      {query.loading && !query.data ? <Loading what="users" /> : null}
      {query.data ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">User name</th>
              <th scope="col">Groups</th>
              <th scope="col">Active</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(query.data.Resources ?? []).map((u) => (
              <tr key={u.id}>
                <th scope="row">{u.userName}</th>
                <td>{(u.groups ?? []).map((g) => g.display).join(', ')}</td>
                <td>{u.active ? 'yes' : 'no'}</td>
                <td>
                  <button type="button" className="danger" onClick={() => void remove(u)} aria-label={`Delete user ${u.userName}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </main>
  );
}

import { useEffect, useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { useQuery } from '../../lib/use-query.ts';
import { ErrorBox, Loading } from '../../shell/ui.tsx';
import { GRANTABLE, grantChanges, normalizePrivilege, type PrivilegeAssignment } from './grants.ts';

const UC = '/api/2.1/unity-catalog';

/** Grants on one securable: everyone may look (the server decides what they see); editing is checked by the server. */
export function GrantsPanel({ securableType, fullName }: { securableType: string; fullName: string }) {
  const id = useId();
  const path = `${UC}/permissions/${securableType}/${encodeURIComponent(fullName)}`;
  const query = useQuery(['grants', securableType, fullName], () => api().get<{ privilege_assignments?: PrivilegeAssignment[] }>(path));
  const [draft, setDraft] = useState<PrivilegeAssignment[]>([]);
  const [principal, setPrincipal] = useState('');
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');
  const grantable = GRANTABLE[securableType] ?? [];

  useEffect(() => {
    if (query.data)
      setDraft((query.data.privilege_assignments ?? []).map((a) => ({ principal: a.principal, privileges: a.privileges.map(normalizePrivilege) })));
  }, [query.data]);

  const changes = query.data ? grantChanges(query.data.privilege_assignments ?? [], draft) : [];

  function toggle(who: string, privilege: string, on: boolean) {
    setDraft((d) =>
      d.map((a) => (a.principal === who ? { ...a, privileges: on ? [...a.privileges, privilege] : a.privileges.filter((p) => p !== privilege) } : a)),
    );
  }

  async function save() {
    setError(undefined);
    setNotice('');
    try {
      const answer = await api().request<{ privilege_assignments?: PrivilegeAssignment[] }>('PATCH', path, { changes });
      setNotice(`Saved ${changes.length} change${changes.length === 1 ? '' : 's'}.`);
      setDraft((answer.privilege_assignments ?? []).map((a) => ({ principal: a.principal, privileges: a.privileges.map(normalizePrivilege) })));
      query.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Grants</h2>
      <ErrorBox error={query.error} title="Could not load grants" />
      {query.loading && !query.data ? <Loading what="grants" /> : null}
      {query.data ? (
        <>
          {draft.length === 0 ? <p className="muted">No grants on {fullName}. Only its owner and admins can use it. Add a principal below.</p> : null}
          {draft.length > 0 ? (
            <div className="wide">
              <table className="data grants">
                <thead>
                  <tr>
                    <th scope="col">Principal</th>
                    {grantable.map((p) => (
                      <th scope="col" key={p}>
                        {p}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {draft.map((a) => (
                    <tr key={a.principal}>
                      <th scope="row">{a.principal}</th>
                      {grantable.map((p) => (
                        <td key={p}>
                          <input
                            type="checkbox"
                            aria-label={`${p} for ${a.principal}`}
                            checked={a.privileges.includes(p)}
                            onChange={(e) => toggle(a.principal, p, e.target.checked)}
                          />
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              const who = principal.trim();
              if (who && !draft.some((a) => a.principal === who)) setDraft((d) => [...d, { principal: who, privileges: [] }]);
              setPrincipal('');
            }}
          >
            <label htmlFor={`${id}-principal`}>Add a user or group</label>
            <input id={`${id}-principal`} value={principal} onChange={(e) => setPrincipal(e.target.value)} />
            <button type="submit">Add principal</button>
          </form>
          <div className="toolbar">
            <button type="button" className="primary" disabled={changes.length === 0} onClick={() => void save()}>
              Save grants{changes.length ? ` (${changes.length} change${changes.length === 1 ? '' : 's'})` : ''}
            </button>
          </div>
        </>
      ) : null}
      <ErrorBox error={error} title="The server refused" />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
    </section>
  );
}

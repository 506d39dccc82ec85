import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { invalidate, useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, Loading } from '../../shell/ui.tsx';

interface TokenInfo {
  token_id: string;
  creation_time: number;
  expiry_time: number;
  comment: string;
}

/** The signed-in user's personal access tokens: list, create (the secret is shown once) and revoke. */
export function TokensPage() {
  const id = useId();
  const query = useQuery(queryKeys.tokens(), () => api().get<{ token_infos?: TokenInfo[] }>('/api/2.0/token/list'));
  const [comment, setComment] = useState('');
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();

  async function create() {
    setError(undefined);
    setCreated(undefined);
    try {
      const lifetime = Number(days) > 0 ? Math.round(Number(days) * 86400) : undefined;
      const answer = await api().post<{ token_value: string }>('/api/2.0/token/create', { comment, ...(lifetime ? { lifetime_seconds: lifetime } : {}) });
      setCreated(answer.token_value);
      setComment('');
      invalidate(queryKeys.tokens());
    } catch (err) {
      setError(err);
    }
  }

  async function revoke(token: TokenInfo) {
    if (!window.confirm(`Revoke the token "${token.comment || token.token_id}"? Clients using it stop working at once.`)) return;
    setError(undefined);
    try {
      await api().post('/api/2.0/token/delete', { token_id: token.token_id });
      invalidate(queryKeys.tokens());
    } catch (err) {
      setError(err);
    }
  }

  const tokens = query.data?.token_infos ?? [];
  return (
    <main>
      <h1>Access tokens</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label htmlFor={`${id}-comment`}>Comment</label>
        <input id={`${id}-comment`} value={comment} onChange={(e) => setComment(e.target.value)} placeholder="laptop" />
        <label htmlFor={`${id}-days`}>Lifetime in days (0 = no expiry)</label>
        <input id={`${id}-days`} type="number" min={0} value={days} onChange={(e) => setDays(e.target.value)} />
        <button type="submit" className="primary">
          Create token
        </button>
      </form>
      {created ? (
        <div className="notice" role="status">
          New token (copy it now, it is not shown again): <code data-testid="new-token">{created}</code>
        </div>
      ) : null}
      <ErrorBox error={error} title="The server refused" />
      <ErrorBox error={query.error} title="Could not list tokens" />
      {query.loading && !query.data ? <Loading what="tokens" /> : null}
      {query.data && tokens.length === 0 ? <Empty title="You have no tokens">Create one above to use Weir from Python, the CLI or an SDK.</Empty> : null}
      {tokens.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Comment</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.token_id}>
                <th scope="row">{t.comment || t.token_id}</th>
                <td>{formatTime(t.creation_time)}</td>
                <td>{t.expiry_time < 0 ? 'never' : formatTime(t.expiry_time)}</td>
                <td>
                  <button type="button" className="danger" onClick={() => void revoke(t)} aria-label={`Revoke token ${t.comment || t.token_id}`}>
                    Revoke
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

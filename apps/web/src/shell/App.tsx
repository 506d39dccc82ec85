import { useCallback, useEffect, useState } from 'react';
import { GroupsPage } from '../features/admin/GroupsPage.tsx';
import { TokensPage } from '../features/admin/TokensPage.tsx';
import { UsersPage } from '../features/admin/UsersPage.tsx';
import { AuditPage } from '../features/audit/AuditPage.tsx';
import { LoginPage } from '../features/auth/LoginPage.tsx';
import { type Session, SessionContext } from '../features/auth/session.tsx';
import { CatalogPage } from '../features/catalog/CatalogPage.tsx';
import { ComparePage } from '../features/compare/ComparePage.tsx';
import { ExperimentsPage } from '../features/experiments/ExperimentsPage.tsx';
import { LineagePage } from '../features/lineage/LineagePage.tsx';
import { ModelDetailPage } from '../features/models/ModelDetailPage.tsx';
import { ModelsPage } from '../features/models/ModelsPage.tsx';
import { ModelVersionPage } from '../features/models/ModelVersionPage.tsx';
import { RunRedirect } from '../features/models/RunLink.tsx';
import { RunDetailPage } from '../features/runs/RunDetailPage.tsx';
import { RunsPage } from '../features/runs/RunsPage.tsx';
import { EndpointDetailPage } from '../features/serving/EndpointDetailPage.tsx';
import { EndpointsPage } from '../features/serving/EndpointsPage.tsx';
import { SqlPage } from '../features/sql/SqlPage.tsx';
import { api, pastedToken, setCsrfToken, setPastedToken, WeirApiError } from '../lib/api.ts';
import { Link, matchPath, navigate, useClientLinks, useLocation } from '../lib/router.tsx';
import { visibleNav } from './nav.ts';
import { Empty, ErrorBox, Loading } from './ui.tsx';

function Page({ path, search }: { path: string; search: URLSearchParams }) {
  if (path === '/' || path === '/experiments') return <ExperimentsPage />;
  let m = matchPath('/experiments/:experimentId/runs/:runId', path);
  if (m) return <RunDetailPage key={m.runId} experimentId={m.experimentId as string} runId={m.runId as string} />;
  m = matchPath('/experiments/:experimentId', path);
  if (m) return <RunsPage key={m.experimentId} experimentId={m.experimentId as string} initialFilter={search.get('filter') ?? ''} />;
  if (path === '/compare') return <ComparePage runIds={(search.get('runs') ?? '').split(',').filter(Boolean)} experimentId={search.get('experiment')} />;
  if (path === '/admin/users') return <UsersPage />;
  if (path === '/admin/groups') return <GroupsPage />;
  if (path === '/admin/audit') return <AuditPage />;
  if (path === '/models') return <ModelsPage />;
  m = matchPath('/models/:name/versions/:version', path);
  if (m) return <ModelVersionPage key={`${m.name}/${m.version}`} name={m.name as string} version={m.version as string} />;
  m = matchPath('/models/:name', path);
  if (m) return <ModelDetailPage key={m.name} name={m.name as string} />;
  m = matchPath('/runs/:runId', path);
  if (m) return <RunRedirect runId={m.runId as string} />;
  if (path === '/catalog' || path.startsWith('/catalog/')) {
    const parts = path.split('/').filter(Boolean).slice(1, 4).map(decodeURIComponent);
    return <CatalogPage parts={parts} kind={search.get('kind')} />;
  }
  if (path === '/sql') return <SqlPage initial={search.get('q') ?? ''} />;
  if (path === '/endpoints') return <EndpointsPage />;
  m = matchPath('/endpoints/:name', path);
  if (m) return <EndpointDetailPage key={m.name} name={m.name as string} />;
  if (path === '/lineage') return <LineagePage entity={search.get('entity') ?? ''} />;
  if (path === '/settings/tokens') return <TokensPage />;
  return (
    <main>
      <Empty title="Page not found">
        <Link href="/">Go to the experiments list</Link>.
      </Empty>
    </main>
  );
}

/** The app: checks who is signed in, then shows the navigation and the page for the current path. */
export function App() {
  const { path, search } = useLocation();
  useClientLinks();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    api()
      .get<Session>('/api/weir/v1/auth/session')
      .then(
        (s) => {
          setCsrfToken(s.csrf_token);
          setSession(s);
        },
        (err: unknown) => {
          if (err instanceof WeirApiError && err.status === 401) {
            if (pastedToken()) setPastedToken(undefined);
            setSession(null);
          } else setError(err);
        },
      );
  }, []);

  const signOut = useCallback(async () => {
    try {
      if (!pastedToken()) await api().post('/api/weir/v1/auth/logout', {});
    } finally {
      setPastedToken(undefined);
      setCsrfToken(undefined);
      setSession(null);
      navigate('/');
    }
  }, []);

  if (error) return <ErrorBox error={error} title="Cannot reach the Weir server" />;
  if (session === undefined) return <Loading what="Weir" />;
  if (session === null)
    return (
      <LoginPage
        onSignedIn={(s) => {
          setCsrfToken(s.csrf_token);
          setSession(s);
        }}
      />
    );
  const current = path === '/' ? '/experiments' : path;
  return (
    <SessionContext.Provider value={{ session, signOut }}>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Weir
        </Link>
        <nav aria-label="Main">
          <ul>
            {visibleNav(session.is_admin).map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={current.startsWith(item.match) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          Signed in as <strong>{session.user_name}</strong>
          {session.is_admin ? ' (admin)' : ''}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div id="content" className="content">
        <Page path={path} search={search} />
      </div>
    </SessionContext.Provider>
  );
}

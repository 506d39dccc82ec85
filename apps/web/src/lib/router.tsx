import { type AnchorHTMLAttributes, useEffect, useState } from 'react';

/** Moves to a client route without reloading the page. */
export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The current location (path and query), updated on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const [href, setHref] = useState(() => location.pathname + location.search);
  useEffect(() => {
    const onPop = () => setHref(location.pathname + location.search);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const [path, query = ''] = href.split('?');
  return { path: path ?? '/', search: new URLSearchParams(query) };
}

/** Matches `/experiments/:id` style patterns; returns the named parts or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const h = have[i] as string;
    if (w.startsWith(':')) out[w.slice(1)] = decodeURIComponent(h);
    else if (w !== h) return null;
  }
  return out;
}

/** Follows same-origin link clicks on the client (no page reload); modified clicks still open new tabs. */
export function useClientLinks(): void {
  useEffect(() => {
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const anchor = (e.target as Element | null)?.closest?.('a[data-client-link]');
      if (!(anchor instanceof HTMLAnchorElement) || anchor.origin !== location.origin) return;
      e.preventDefault();
      navigate(anchor.pathname + anchor.search);
    };
    document.addEventListener('click', onClick);
    return () => document.removeEventListener('click', onClick);
  }, []);
}

/** A link to a client route; clicks are handled by `useClientLinks` in the shell. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return <a {...props} data-client-link="" />;
}

/** The UI path of a catalog object: `/catalog/<c>/<s>/<name>?kind=...`; each part encoded, since names may hold dots. */
export function catalogHref(parts: readonly string[], kind?: 'table' | 'volume' | 'function' | 'model'): string {
  const path = `/catalog${parts.map((p) => `/${encodeURIComponent(p)}`).join('')}`;
  return kind && kind !== 'table' ? `${path}?kind=${kind}` : path;
}

/** Joins a path inside a volume to its Files API path (`/api/2.0/fs/<files|directories>/Volumes/c/s/v/...`). */
export function volumeApiPath(kind: 'files' | 'directories', volume: readonly string[], inside: string): string {
  const rest = inside.split('/').filter(Boolean);
  return `/api/2.0/fs/${kind}/Volumes/${[...volume, ...rest].map(encodeURIComponent).join('/')}`;
}

/** Human file sizes (1,024-based, as file browsers show them). */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

import fs from 'node:fs';
import path from 'node:path';
import { ucInvalid } from './catalog.names.ts';
import { isWithin } from './catalog.service.ts';

/** A `/Volumes/<catalog>/<schema>/<volume>/<rest>` path split into its parts (rest normalized, never escaping). */
export interface VolumePath {
  catalog: string;
  schema: string;
  volume: string;
  /** Path inside the volume, without leading slash ('' for the root). */
  relative: string;
}

/** Parses a `/Volumes/...` path, refusing `..`, empty or control-character segments. */
export function parseVolumePath(p: string): VolumePath {
  if (!p.startsWith('/Volumes/')) throw ucInvalid(`Path '${p.slice(0, 300)}' is not under /Volumes/<catalog>/<schema>/<volume>/.`);
  const parts = p.slice('/Volumes/'.length).split('/');
  while (parts.length > 3 && parts[parts.length - 1] === '') parts.pop();
  const [catalog, schema, volume, ...rest] = parts;
  if (!catalog || !schema || !volume) throw ucInvalid(`Path '${p.slice(0, 300)}' must name /Volumes/<catalog>/<schema>/<volume>.`);
  for (const seg of parts) {
    if (seg === '..' || seg === '.' || [...seg].some((ch) => ch.charCodeAt(0) < 0x20))
      throw ucInvalid(`Path '${p.slice(0, 300)}' has a forbidden segment ('..', '.' or a control character).`);
  }
  if (rest.some((seg) => seg === '')) throw ucInvalid(`Path '${p.slice(0, 300)}' has an empty segment.`);
  return { catalog, schema, volume, relative: rest.join('/') };
}

/** Joins a volume-relative path onto its directory and refuses anything that leaves it, symlinks included. */
export function safeJoin(directory: string, relative: string): string {
  const target = path.resolve(directory, relative);
  if (!isWithin(directory, target)) throw ucInvalid('The path leaves its volume.');
  // Follow symlinks on the deepest part that exists: a link pointing outside the volume is refused.
  const realRoot = fs.existsSync(directory) ? fs.realpathSync(directory) : directory;
  let probe = target;
  while (!fs.existsSync(probe) && probe !== directory && isWithin(directory, probe)) probe = path.dirname(probe);
  if (fs.existsSync(probe)) {
    const real = fs.realpathSync(probe);
    if (!isWithin(realRoot, real)) throw ucInvalid('The path leaves its volume through a symbolic link.');
  }
  return target;
}

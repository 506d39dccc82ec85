import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, invalidParameter } from '../../platform/errors.ts';

/** URI scheme of artifacts that Weir stores itself. */
export const ARTIFACT_SCHEME = 'mlflow-artifacts:';

/** A listed artifact, as MLflow's FileInfo. */
export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** Checks an artifact path the way MLflow does: relative, no `..`, no NUL; answers the exact "Invalid path" error. */
export function checkRelativePath(p: string): string {
  const normalized = p.replace(/\\/g, '/');
  if (normalized.includes('\0') || normalized.startsWith('/') || /^[a-zA-Z]:/.test(normalized) || normalized.split('/').some((seg) => seg === '..')) {
    throw invalidParameter('Invalid path');
  }
  return normalized
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/** The relative path inside the store for an `mlflow-artifacts:` URI, or null for any other scheme. */
export function storePathOfUri(uri: string): string | null {
  if (!uri.startsWith(ARTIFACT_SCHEME)) return null;
  let rest = uri.slice(ARTIFACT_SCHEME.length);
  // mlflow-artifacts://host:port/path carries an authority; the path is what matters here.
  if (rest.startsWith('//')) rest = rest.slice(2).replace(/^[^/]*/, '');
  return checkRelativePath(rest.replace(/^\/+/, ''));
}

/** Artifact files under `<dataDir>/artifacts`, written atomically (temp file + rename). */
export type ArtifactStore = ReturnType<typeof createArtifactStore>;

/** Creates the artifact store rooted at `root`. */
export function createArtifactStore(root: string) {
  const abs = (rel: string) => {
    const clean = checkRelativePath(rel);
    const full = path.join(root, clean);
    if (full !== root && !full.startsWith(root + path.sep)) throw invalidParameter('Invalid path');
    return full;
  };
  return {
    root,
    /** Writes a file from a stream; the file appears whole or not at all. */
    async put(rel: string, body: Readable | undefined): Promise<void> {
      const target = abs(rel);
      if (target === root) throw invalidParameter('Invalid path');
      await fsp.mkdir(path.dirname(target), { recursive: true });
      const stat = await fsp.stat(target).catch(() => null);
      if (stat?.isDirectory()) throw invalidParameter(`Artifact path '${rel}' is a directory.`);
      const tmp = path.join(path.dirname(target), `.weir-upload-${randomUUID()}`);
      try {
        if (body) await pipeline(body, fs.createWriteStream(tmp));
        else await fsp.writeFile(tmp, '');
        await fsp.rename(tmp, target);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
    },
    /** Opens a file for download; 404 when absent or a directory. */
    async open(rel: string): Promise<{ stream: fs.ReadStream; size: number; name: string }> {
      const full = abs(rel);
      const stat = await fsp.stat(full).catch(() => null);
      if (!stat?.isFile()) throw new AppError('RESOURCE_DOES_NOT_EXIST', `Artifact '${rel}' does not exist.`);
      return { stream: fs.createReadStream(full), size: stat.size, name: path.basename(full) };
    },
    /** Lists a directory; `prefix` is prepended to each entry's name (MLflow's proxy lists basenames, run listings run-relative paths). */
    async list(rel: string, prefix: string): Promise<FileInfo[]> {
      const full = abs(rel);
      const entries = await fsp.readdir(full, { withFileTypes: true }).catch(() => []);
      const out: FileInfo[] = [];
      for (const e of entries) {
        if (e.name.startsWith('.weir-upload-')) continue;
        const p = prefix ? `${prefix}/${e.name}` : e.name;
        if (e.isDirectory()) out.push({ path: p, is_dir: true });
        else if (e.isFile()) out.push({ path: p, is_dir: false, file_size: (await fsp.stat(path.join(full, e.name))).size });
      }
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    /** Deletes a file or a directory tree. */
    async remove(rel: string): Promise<void> {
      const full = abs(rel);
      if (full === root) throw invalidParameter('Invalid path');
      await fsp.rm(full, { recursive: true, force: true });
    },
  };
}

const MIME: Record<string, string> = {
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.json': 'application/json',
  '.yaml': 'text/yaml',
  '.yml': 'text/yaml',
  '.csv': 'text/csv',
  '.html': 'text/plain',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
};

/** MIME type guessed from a file name (HTML is served as text so an artifact can never run script in the UI). */
export function guessMime(name: string): string {
  return MIME[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

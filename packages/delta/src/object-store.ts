import { randomUUID } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { DeltaNotFoundError } from './errors.ts';

/** One stored object: its key (relative, `/`-separated), byte size and modification time (ms epoch). */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: number;
}

/** The storage seam under a table root: flat keys, like an object store. */
export interface ObjectStore {
  /** Every object whose key starts with `prefix`, recursively, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** The whole object; throws DeltaNotFoundError when absent. */
  get(key: string): Promise<Buffer>;
  /** The object as a stream. */
  stream(key: string): Readable;
  /** Writes (or atomically replaces) an object. */
  put(key: string, data: Uint8Array | string): Promise<void>;
  /** Creates the object only if no object has that key; false means another writer got there first. */
  putIfAbsent(key: string, data: Uint8Array | string): Promise<boolean>;
  /** Copies a local file into the store (data files produced by DuckDB). */
  putFile(key: string, localFile: string): Promise<void>;
  /** Removes an object; absent is fine. */
  delete(key: string): Promise<void>;
  /** Size and modification time, or undefined when absent. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Objects directly under `prefix`'s folder whose keys sort after `startAfter` (S3's StartAfter), sorted; optional. */
  listAfter?(prefix: string, startAfter: string): Promise<ObjectInfo[]>;
  /** A local filesystem path DuckDB can read directly, when the store has one. */
  localPath?(key: string): string;
  /** Keys directly under `prefix`'s folder that start with `prefix`, unsorted, without sizes (no stat per object); optional. */
  listKeys?(prefix: string): Promise<string[]>;
}

const STAT_BATCH = 64;

/** A store over a local directory; put-if-absent is `link(tmp, target)`, which never replaces a file. */
export function createLocalObjectStore(root: string): ObjectStore {
  const base = path.resolve(root);
  const toPath = (key: string): string => {
    const parts = key.split('/').filter((p) => p !== '');
    if (parts.some((p) => p === '..' || p === '.')) throw new Error(`invalid object key: ${key}`);
    return path.join(base, ...parts);
  };
  const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
  // Temp names start with "." so that log readers and VACUUM ignore leftovers of a crashed writer.
  const tempFor = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);

  async function writeDurably(file: string, data: Uint8Array | string): Promise<void> {
    const handle = await fs.open(file, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function walk(dir: string, out: ObjectInfo[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw e;
    }
    const files: string[] = [];
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, out);
      else if (entry.isFile()) files.push(full);
    }
    // A long _delta_log has thousands of entries: stat them many at a time, not one after another.
    for (let i = 0; i < files.length; i += STAT_BATCH) {
      const infos = await Promise.all(
        files.slice(i, i + STAT_BATCH).map(async (full) => {
          try {
            const st = await fs.stat(full);
            return { key: path.relative(base, full).split(path.sep).join('/'), size: st.size, lastModified: st.mtimeMs };
          } catch (e) {
            if (!isMissing(e)) throw e;
            return undefined;
          }
        }),
      );
      for (const info of infos) if (info) out.push(info);
    }
  }

  return {
    async list(prefix) {
      const slash = prefix.lastIndexOf('/');
      const dir = slash < 0 ? base : toPath(prefix.slice(0, slash));
      const out: ObjectInfo[] = [];
      await walk(dir, out);
      return out.filter((o) => o.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async listKeys(prefix) {
      const slash = prefix.lastIndexOf('/');
      const folder = slash < 0 ? '' : prefix.slice(0, slash + 1);
      try {
        // Synchronous on purpose: this is the "has the table moved on?" check before every read of a table, and a
        // listing of one local directory costs about 7 us inline against about 55 us handed to libuv's thread pool
        // (plus a thread wake-up that a statement then waits for).
        const entries = readdirSync(slash < 0 ? base : toPath(prefix.slice(0, slash)), { withFileTypes: true });
        return entries
          .filter((e) => e.isFile())
          .map((e) => folder + e.name)
          .filter((k) => k.startsWith(prefix));
      } catch (e) {
        if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
        throw e;
      }
    },
    async listAfter(prefix, startAfter) {
      const slash = prefix.lastIndexOf('/');
      const folder = slash < 0 ? '' : prefix.slice(0, slash + 1);
      let names: string[];
      try {
        names = await fs.readdir(slash < 0 ? base : toPath(prefix.slice(0, slash)));
      } catch (e) {
        if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
        throw e;
      }
      const keys = names.map((n) => folder + n).filter((k) => k.startsWith(prefix) && k > startAfter);
      const infos = await Promise.all(
        keys.map(async (key) => {
          try {
            const st = await fs.stat(toPath(key));
            return st.isFile() ? { key, size: st.size, lastModified: st.mtimeMs } : undefined;
          } catch (e) {
            if (isMissing(e)) return undefined;
            throw e;
          }
        }),
      );
      return infos.filter((o): o is ObjectInfo => o !== undefined).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async get(key) {
      try {
        return await fs.readFile(toPath(key));
      } catch (e) {
        if (isMissing(e)) throw new DeltaNotFoundError(`object not found: ${key}`);
        throw e;
      }
    },
    stream(key) {
      return createReadStream(toPath(key));
    },
    async put(key, data) {
      const file = toPath(key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = tempFor(file);
      await writeDurably(tmp, data);
      // rename is fine here: put is the "replace" operation (e.g. _last_checkpoint), never a commit.
      await fs.rename(tmp, file);
    },
    async putIfAbsent(key, data) {
      const file = toPath(key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = tempFor(file);
      await writeDurably(tmp, data);
      try {
        await fs.link(tmp, file);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      } finally {
        await fs.unlink(tmp).catch(() => undefined);
      }
    },
    async putFile(key, localFile) {
      const file = toPath(key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      // A hard link is free on the same filesystem and, like COPYFILE_EXCL, never replaces a file.
      try {
        await fs.link(localFile, file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
        await fs.copyFile(localFile, file, fs.constants.COPYFILE_EXCL);
      }
    },
    async delete(key) {
      await fs.unlink(toPath(key)).catch((e) => {
        if (!isMissing(e)) throw e;
      });
    },
    async stat(key) {
      try {
        const st = await fs.stat(toPath(key));
        return st.isFile() ? { key, size: st.size, lastModified: st.mtimeMs } : undefined;
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },
    localPath: toPath,
  };
}

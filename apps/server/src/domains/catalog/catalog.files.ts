import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { z } from 'zod';
import type { Principal } from '../../platform/http.ts';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { ucError, ucInvalid, ucNotFound } from './catalog.names.ts';
import type { CatalogService } from './catalog.service.ts';
import { parseVolumePath, safeJoin } from './catalog.volumes.ts';

const PathInput = z.object({ '*': z.string() });
const PutFileInput = z.object({ '*': z.string(), overwrite: z.boolean().optional() });
const ListInput = z.object({
  '*': z.string(),
  page_size: z
    .string()
    .regex(/^\d{1,9}$/)
    .optional(),
  page_token: z.string().optional(),
});

/** A young-generation collection is asked for after this many streamed bytes. */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
let collectYoung: ((options: { type: 'minor' }) => void) | null | undefined;

/**
 * Passes a stream's chunks through while keeping a long transfer's memory flat: every chunk is a fresh buffer outside
 * the JS heap, and V8 lets about 64 MB of dead ones pile up before it collects on its own, which a 2 GB upload beside
 * the rest of the server cannot afford. A minor collection every few megabytes frees them (well under a millisecond
 * with a small young generation). The collector comes from a fresh context, so `gc` never becomes a server global.
 * Chunks are pulled, never pushed early: the stream flows only as fast as its consumer takes it.
 */
async function* collectingYoung(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (collectYoung === undefined) {
    v8.setFlagsFromString('--expose-gc');
    collectYoung = (vm.runInNewContext('gc') as typeof collectYoung) ?? null;
    v8.setFlagsFromString('--no-expose-gc');
  }
  let since = 0;
  for await (const chunk of source) {
    since += chunk.length;
    if (since >= COLLECT_EVERY_BYTES) {
      since = 0;
      collectYoung?.({ type: 'minor' });
    }
    yield chunk;
  }
}

/** A file's bytes, opened only once the response starts pulling them (a HEAD or an aborted GET opens nothing). */
async function* readFile(file: string): AsyncGenerator<Buffer> {
  yield* collectingYoung(fs.createReadStream(file));
}

/** Resolves a Files API path (`Volumes/<c>/<s>/<v>/...`) to a file on disk. */
// READ_VOLUME / WRITE_VOLUME (with USE on the catalog and schema) is the routes' declared requirement, checked before
// the handler runs (owners and admins hold both), so resolving a path checks nothing more.
async function resolve(catalog: CatalogService, _principal: Principal, wildcard: string, _write: boolean) {
  const virtual = `/${wildcard.replace(/^\/+/, '')}`;
  const vp = parseVolumePath(virtual);
  const loc = await catalog.volumeLocation(vp.catalog, vp.schema, vp.volume);
  return { virtual, relative: vp.relative, absolute: safeJoin(loc.directory, vp.relative), directory: loc.directory };
}

/** The Databricks Files API over volumes: upload, download, metadata, delete, and directory listing. */
export function filesRoutes(catalog: CatalogService): RouteSpec[] {
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag' | 'auth'>) =>
    defineRoute({ ...spec, tag: 'files', auth: 'authenticated' }) as unknown as RouteSpec;
  return [
    r({
      method: 'PUT',
      paths: ['/api/2.0/fs/files/*'],
      summary: 'Upload a file into a volume (streamed to disk)',
      input: PutFileInput,
      body: 'raw',
      async handler(i, { principal, rawBody, reply }) {
        const f = await resolve(catalog, principal, i['*'], true);
        if (!f.relative) throw ucInvalid('A file path inside the volume is required.');
        if (fs.existsSync(f.absolute)) {
          if (fs.statSync(f.absolute).isDirectory()) throw ucInvalid(`${f.virtual} is a directory.`);
          // As in Databricks, an existing file is replaced only when the caller says overwrite=true.
          if (i.overwrite !== true) throw ucError('ALREADY_EXISTS', `The file ${f.virtual} already exists (pass overwrite=true to replace it).`);
        }
        fs.mkdirSync(path.dirname(f.absolute), { recursive: true });
        // Written beside the target and renamed: readers never see half a file, and a failed upload leaves nothing.
        const tmp = path.join(path.dirname(f.absolute), `.upload-${randomUUID()}`);
        try {
          if (rawBody) await pipeline(rawBody, collectingYoung, fs.createWriteStream(tmp, { flags: 'wx' }));
          else fs.writeFileSync(tmp, '');
          fs.renameSync(tmp, f.absolute);
        } catch (err) {
          fs.rmSync(tmp, { force: true });
          throw err;
        }
        return reply.code(204).send();
      },
    }),
    r({
      method: 'GET',
      paths: ['/api/2.0/fs/files/*'],
      summary: 'Download a file from a volume (HEAD gives its metadata)',
      input: PathInput,
      async handler(i, { principal, reply }) {
        const f = await resolve(catalog, principal, i['*'], false);
        const stat = fs.existsSync(f.absolute) ? fs.statSync(f.absolute) : undefined;
        if (!stat?.isFile()) throw ucNotFound('File', f.virtual);
        return reply
          .code(200)
          .header('content-type', 'application/octet-stream')
          .header('content-length', String(stat.size))
          .header('last-modified', stat.mtime.toUTCString())
          .send(Readable.from(readFile(f.absolute), { objectMode: false }));
      },
    }),
    r({
      method: 'DELETE',
      paths: ['/api/2.0/fs/files/*'],
      summary: 'Delete a file from a volume',
      input: PathInput,
      async handler(i, { principal, reply }) {
        const f = await resolve(catalog, principal, i['*'], true);
        const stat = fs.existsSync(f.absolute) ? fs.lstatSync(f.absolute) : undefined;
        if (!stat || stat.isDirectory()) throw ucNotFound('File', f.virtual);
        fs.rmSync(f.absolute);
        return reply.code(204).send();
      },
    }),
    r({
      method: 'GET',
      paths: ['/api/2.0/fs/directories/*'],
      summary: 'List a volume directory',
      input: ListInput,
      async handler(i, { principal, reply }) {
        const f = await resolve(catalog, principal, i['*'], false);
        const stat = fs.existsSync(f.absolute) ? fs.statSync(f.absolute) : undefined;
        if (!stat?.isDirectory()) throw ucNotFound('Directory', f.virtual);
        if (reply.request.method === 'HEAD') return reply.code(200).send();
        const prefix = f.virtual.replace(/\/+$/, '');
        const entries = fs
          .readdirSync(f.absolute, { withFileTypes: true })
          .filter((e) => !e.name.startsWith('.upload-'))
          .map((e) => e.name)
          .sort();
        const start = i.page_token ? entries.findIndex((n) => n > (i.page_token as string)) : 0;
        const size = i.page_size ? Math.max(1, Number(i.page_size)) : 1000;
        const page = start < 0 ? [] : entries.slice(start, start + size);
        const contents = page.map((name) => {
          const st = fs.statSync(path.join(f.absolute, name));
          return st.isDirectory()
            ? { path: `${prefix}/${name}/`, is_directory: true, name }
            : { path: `${prefix}/${name}`, is_directory: false, file_size: st.size, last_modified: Math.floor(st.mtimeMs), name };
        });
        const more = start >= 0 && start + size < entries.length;
        return { contents, ...(more && page.length ? { next_page_token: page[page.length - 1] } : {}) };
      },
    }),
    r({
      method: 'PUT',
      paths: ['/api/2.0/fs/directories/*'],
      summary: 'Create a directory in a volume (and its parents)',
      input: PathInput,
      async handler(i, { principal, reply }) {
        const f = await resolve(catalog, principal, i['*'], true);
        if (fs.existsSync(f.absolute) && !fs.statSync(f.absolute).isDirectory()) throw ucError('ALREADY_EXISTS', `${f.virtual} is a file.`);
        fs.mkdirSync(f.absolute, { recursive: true });
        return reply.code(204).send();
      },
    }),
    r({
      method: 'DELETE',
      paths: ['/api/2.0/fs/directories/*'],
      summary: 'Delete an empty directory in a volume',
      input: PathInput,
      async handler(i, { principal, reply }) {
        const f = await resolve(catalog, principal, i['*'], true);
        if (!f.relative) throw ucInvalid('The volume root cannot be deleted through the Files API.');
        const stat = fs.existsSync(f.absolute) ? fs.lstatSync(f.absolute) : undefined;
        if (!stat?.isDirectory()) throw ucNotFound('Directory', f.virtual);
        if (fs.readdirSync(f.absolute).length > 0) throw ucInvalid(`Directory ${f.virtual} is not empty.`);
        fs.rmdirSync(f.absolute);
        return reply.code(204).send();
      },
    }),
  ];
}

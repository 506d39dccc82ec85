import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const UC = '/api/2.1/unity-catalog';
const FILES = '/api/2.0/fs/files/Volumes';
const DIRS = '/api/2.0/fs/directories/Volumes';

describe.each(testBackends)('Files API and SQL over volumes on $name', (backend) => {
  let s: TestServer;
  let volumeDir: string;
  let userToken: string;
  beforeAll(async () => {
    s = await startTestServer(backend);
    await s.call('POST', `${UC}/catalogs`, { name: 'files' });
    await s.call('POST', `${UC}/schemas`, { name: 'raw', catalog_name: 'files' });
    const v = await s.call('POST', `${UC}/volumes`, { catalog_name: 'files', schema_name: 'raw', name: 'landing', volume_type: 'MANAGED' });
    volumeDir = new URL(v.body.storage_location).pathname;
    userToken = (await s.createUser('viewer@example.com')).token;
  });
  afterAll(async () => {
    await s?.close();
  });

  const auth = (token?: string) => ({ authorization: `Bearer ${token ?? s.adminToken}` });
  const put = (p: string, body: RequestInit['body'], query = '', token?: string) =>
    fetch(`${s.url}${FILES}${p}${query}`, {
      method: 'PUT',
      headers: { ...auth(token), 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);

  async function sql(statement: string) {
    const res = await s.call('POST', '/api/2.0/sql/statements', { statement, wait_timeout: '30s' });
    expect(res.status).toBe(200);
    return res.body;
  }

  it('uploads, downloads, heads, lists and deletes files', async () => {
    expect((await put('/files/raw/landing/in/a.csv', 'id,name\n1,one\n2,two\n')).status).toBe(204);
    expect(fs.readFileSync(path.join(volumeDir, 'in', 'a.csv'), 'utf8')).toBe('id,name\n1,one\n2,two\n');
    const got = await fetch(`${s.url}${FILES}/files/raw/landing/in/a.csv`, { headers: auth() });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-length')).toBe('20');
    expect(await got.text()).toBe('id,name\n1,one\n2,two\n');
    const head = await fetch(`${s.url}${FILES}/files/raw/landing/in/a.csv`, { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('20');
    // no silent replacement: overwrite must be asked for
    const again = await put('/files/raw/landing/in/a.csv', 'x');
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error_code: string }).error_code).toBe('ALREADY_EXISTS');
    expect((await put('/files/raw/landing/in/b.csv', 'id,name\n3,three\n', '?overwrite=true')).status).toBe(204);
    const list = await s.call('GET', `${DIRS}/files/raw/landing/in`);
    expect(list.status).toBe(200);
    expect(list.body.contents.map((c: { path: string; is_directory: boolean; file_size?: number }) => [c.path, c.is_directory, c.file_size])).toEqual([
      ['/Volumes/files/raw/landing/in/a.csv', false, 20],
      ['/Volumes/files/raw/landing/in/b.csv', false, 16],
    ]);
    const root = await s.call('GET', `${DIRS}/files/raw/landing/`);
    expect(root.body.contents).toEqual([{ path: '/Volumes/files/raw/landing/in/', is_directory: true, name: 'in' }]);
    const paged = await s.call('GET', `${DIRS}/files/raw/landing/in`, { page_size: 1 });
    expect(paged.body.contents.map((c: { name: string }) => c.name)).toEqual(['a.csv']);
    const rest = await s.call('GET', `${DIRS}/files/raw/landing/in`, { page_size: 1, page_token: paged.body.next_page_token });
    expect(rest.body.contents.map((c: { name: string }) => c.name)).toEqual(['b.csv']);
    expect(rest.body.next_page_token).toBeUndefined();
    expect((await s.call('PUT', `${DIRS}/files/raw/landing/made/deep`)).status).toBe(204);
    expect(fs.statSync(path.join(volumeDir, 'made', 'deep')).isDirectory()).toBe(true);
    expect((await s.call('DELETE', `${DIRS}/files/raw/landing/made`)).status).toBe(400);
    expect((await s.call('DELETE', `${DIRS}/files/raw/landing/made/deep`)).status).toBe(204);
    const tmpFile = await put('/files/raw/landing/tmp.bin', 'bye');
    expect(tmpFile.status).toBe(204);
    expect((await s.call('DELETE', `${FILES}/files/raw/landing/tmp.bin`)).status).toBe(204);
    expect((await s.call('GET', `${FILES}/files/raw/landing/tmp.bin`)).status).toBe(404);
    expect((await s.call('GET', `${FILES}/files/raw/nope/x`)).status).toBe(404);
  });

  it('streams a large upload and download intact', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    const total = 64;
    const hash = createHash('sha256');
    const stream = new Readable({
      read() {
        if (sent === total) return this.push(null);
        const piece = Buffer.from(chunk);
        piece.writeUInt32BE(sent, 0);
        hash.update(piece);
        sent++;
        this.push(piece);
      },
    });
    const res = await put('/files/raw/landing/big.bin', Readable.toWeb(stream) as unknown as RequestInit['body']);
    expect(res.status).toBe(204);
    const expected = hash.digest('hex');
    expect(fs.statSync(path.join(volumeDir, 'big.bin')).size).toBe(total * chunk.length);
    const down = await fetch(`${s.url}${FILES}/files/raw/landing/big.bin`, { headers: auth() });
    const back = createHash('sha256');
    for await (const part of down.body as unknown as AsyncIterable<Uint8Array>) back.update(part);
    expect(back.digest('hex')).toBe(expected);
    fs.rmSync(path.join(volumeDir, 'big.bin'));
  });

  it('refuses paths that leave the volume: .., encoded .., and symlinks', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    fs.symlinkSync(outside, path.join(volumeDir, 'link'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(volumeDir, 'secret-link.txt'));
    try {
      for (const p of [
        '/files/raw/landing/../../../etc/passwd',
        '/files/raw/landing/%2e%2e/%2e%2e/x',
        '/files/raw/landing/link/secret.txt',
        '/files/raw/landing/secret-link.txt',
      ]) {
        const res = await fetch(`${s.url}${FILES}${p}`, { headers: auth() });
        expect(res.status, p).toBeGreaterThanOrEqual(400);
        expect(res.status, p).toBeLessThan(500);
        expect(await res.text()).not.toContain('secret');
      }
      const write = await put('/files/raw/landing/link/new.txt', 'x');
      expect(write.status).toBe(400);
      expect(fs.existsSync(path.join(outside, 'new.txt'))).toBe(false);
      const listLink = await s.call('GET', `${DIRS}/files/raw/landing/link`);
      expect(listLink.status).toBe(400);
      const viaSql = await sql("SELECT * FROM read_csv('/Volumes/files/raw/landing/link/secret.txt')");
      expect(viaSql.status.state).toBe('FAILED');
      expect(viaSql.status.error.message).toMatch(/leaves its volume/);
    } finally {
      fs.rmSync(path.join(volumeDir, 'link'));
      fs.rmSync(path.join(volumeDir, 'secret-link.txt'));
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('lets only volume owners, admins and WRITE VOLUME grantees write; READ VOLUME grantees may read', async () => {
    expect((await fetch(`${s.url}${FILES}/files/raw/landing/in/a.csv`, { headers: auth(userToken) })).status).toBe(403);
    for (const [type, name, privilege] of [
      ['catalog', 'files', 'USE_CATALOG'],
      ['schema', 'files.raw', 'USE_SCHEMA'],
      ['volume', 'files.raw.landing', 'READ_VOLUME'],
    ])
      expect((await s.call('PATCH', `${UC}/permissions/${type}/${name}`, { changes: [{ principal: 'viewer@example.com', add: [privilege] }] })).status).toBe(
        200,
      );
    expect((await put('/files/raw/landing/in/c.csv', 'id,name\n9,nine\n', '', userToken)).status).toBe(403);
    expect((await fetch(`${s.url}${FILES}/files/raw/landing/in/a.csv`, { method: 'DELETE', headers: auth(userToken) })).status).toBe(403);
    expect((await fetch(`${s.url}${FILES}/files/raw/landing/in/a.csv`, { headers: auth(userToken) })).status).toBe(200);
    expect(fs.existsSync(path.join(volumeDir, 'in', 'c.csv'))).toBe(false);
  });

  it('reads volume files in SQL and loads each file once with COPY INTO', async () => {
    const read = await sql("SELECT id, name FROM read_csv('/Volumes/files/raw/landing/in/*.csv') ORDER BY id");
    expect(read.status.state).toBe('SUCCEEDED');
    expect(read.result.data_array).toEqual([
      ['1', 'one'],
      ['2', 'two'],
      ['3', 'three'],
    ]);
    expect((await sql('CREATE TABLE files.raw.people (id BIGINT, name STRING, extra DOUBLE)')).status.state).toBe('SUCCEEDED');
    const first = await sql("COPY INTO files.raw.people FROM '/Volumes/files/raw/landing/in' FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')");
    expect(first.status.state).toBe('SUCCEEDED');
    expect(first.result.data_array).toEqual([['3', '3', '0']]);
    const rerun = await sql("COPY INTO files.raw.people FROM '/Volumes/files/raw/landing/in' FILEFORMAT = CSV");
    expect(rerun.result.data_array).toEqual([['0', '0', '2']]);
    expect((await put('/files/raw/landing/in/d.csv', 'id,name\n4,four\n')).status).toBe(204);
    const third = await sql("COPY INTO files.raw.people FROM '/Volumes/files/raw/landing/in' FILEFORMAT = CSV");
    expect(third.result.data_array).toEqual([['1', '1', '2']]);
    const all = await sql('SELECT id, name, extra FROM files.raw.people ORDER BY id');
    expect(all.result.data_array).toEqual([
      ['1', 'one', null],
      ['2', 'two', null],
      ['3', 'three', null],
      ['4', 'four', null],
    ]);
    // Parquet and JSON sources, written by SQL-free means into the volume
    fs.mkdirSync(path.join(volumeDir, 'json'));
    fs.writeFileSync(path.join(volumeDir, 'json', 'p.json'), '{"id": 5, "name": "five"}\n{"id": 6, "name": "six"}\n');
    const fromJson = await sql("COPY INTO files.raw.people FROM '/Volumes/files/raw/landing/json' FILEFORMAT = JSON");
    expect(fromJson.result.data_array).toEqual([['2', '2', '0']]);
    const bad = await sql("COPY INTO files.raw.people FROM '/etc' FILEFORMAT = CSV");
    expect(bad.status.state).toBe('FAILED');
    const forced = await sql("COPY INTO files.raw.people FROM '/Volumes/files/raw/landing/json' FILEFORMAT = JSON COPY_OPTIONS ('force' = 'true')");
    expect(forced.status.state).toBe('SUCCEEDED');
    expect((await sql('SELECT count(*) FROM files.raw.people')).result.data_array).toEqual([['8']]);
  });
});

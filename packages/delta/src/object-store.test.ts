import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeltaNotFoundError } from './errors.ts';
import { createLocalObjectStore } from './object-store.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-store-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('local object store', () => {
  const store = createLocalObjectStore(root);

  it('put, get, stat, list and delete', async () => {
    await store.put('a/b/c.txt', 'hello');
    await store.put('a/d.txt', 'x');
    expect((await store.get('a/b/c.txt')).toString()).toBe('hello');
    expect((await store.stat('a/b/c.txt'))?.size).toBe(5);
    expect((await store.list('a/')).map((o) => o.key)).toEqual(['a/b/c.txt', 'a/d.txt']);
    expect((await store.list('a/b')).map((o) => o.key)).toEqual(['a/b/c.txt']);
    await store.delete('a/d.txt');
    await store.delete('a/missing.txt');
    expect(await store.stat('a/d.txt')).toBeUndefined();
    await expect(store.get('a/d.txt')).rejects.toThrow(DeltaNotFoundError);
  });

  it('putIfAbsent lets exactly one of many racing writers win and never replaces the file', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putIfAbsent('log/00.json', `writer ${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await store.get('log/00.json')).toString()).toBe(`writer ${winner}`);
    expect(await store.putIfAbsent('log/00.json', 'late')).toBe(false);
    expect((await store.get('log/00.json')).toString()).toBe(`writer ${winner}`);
    // No temp files are left behind.
    expect(fs.readdirSync(path.join(root, 'log'))).toEqual(['00.json']);
  });

  it('refuses keys that escape the root', async () => {
    await expect(store.put('../evil', 'x')).rejects.toThrow(/invalid object key/);
  });

  it('stream reads the object', async () => {
    const chunks: Buffer[] = [];
    for await (const c of store.stream('a/b/c.txt')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
  });
});

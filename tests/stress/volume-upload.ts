// Stress: a 2 GiB file goes into a volume through PUT /api/2.0/fs/files/Volumes/... and back out
// through GET, both streamed, while a real `weir server` process keeps its peak resident memory
// (VmHWM in /proc/<pid>/status) under 200 MB. Neither side ever holds the file: the client generates
// the bytes block by block and hashes them on the way out, and hashes the download as it arrives.
//
//   npm run test:stress                      # = npx tsx tests/stress/volume-upload.ts
//   WEIR_STRESS_BYTES=268435456 npm run test:stress   # a smaller size, for a quick check
//
// Exits non-zero when the server's peak RSS reaches the limit, the download differs, or anything fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TOTAL = Number(process.env.WEIR_STRESS_BYTES ?? 2 * 1024 * 1024 * 1024);
const LIMIT_BYTES = 200 * 1000 * 1000;
const BLOCK = 1024 * 1024;

function log(line: string): void {
  console.log(`[stress:volume] ${line}`);
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Peak and current resident set of a process, in bytes (Linux /proc; kB there are KiB). */
function memoryOf(pid: number): { peak: number; current: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { peak: kib('VmHWM'), current: kib('VmRSS') };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Deterministic, incompressible-looking bytes made block by block (xorshift32), never all at once. */
function* generatedBlocks(total: number, seed: number): Generator<Buffer> {
  let x = seed >>> 0 || 1;
  for (let done = 0; done < total; ) {
    const size = Math.min(BLOCK, total - done);
    const words = new Uint32Array(Math.ceil(size / 4));
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      words[i] = x;
    }
    done += size;
    yield Buffer.from(words.buffer, 0, size);
  }
}

function request(
  port: number,
  method: string,
  urlPath: string,
  token: string,
  body?: Readable | string,
): Promise<{ status: number; response: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${token}` };
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    if (body instanceof Readable) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(TOTAL);
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (response) =>
      resolve({ status: response.statusCode ?? 0, response }),
    );
    req.on('error', reject);
    if (body instanceof Readable) pipeline(body, req).catch(reject);
    else req.end(body);
  });
}

async function text(response: http.IncomingMessage): Promise<string> {
  let out = '';
  for await (const chunk of response) out += String(chunk);
  return out;
}

async function main(): Promise<number> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-stress-'));
  const token = `dapi${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  let server: ChildProcess | undefined;
  const started = Date.now();
  try {
    // The bin itself, as `npx weir server` runs it: its shebang carries the server's V8 memory settings.
    server = spawn(path.join(ROOT, 'apps/cli/bin/weir.js'), ['server', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
      // The node on PATH runs it (as for users); this process's own node goes first so both are the same.
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, WEIR_ADMIN_TOKEN: token },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const pid = server.pid as number;
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`the server exited during startup (code ${server.exitCode})`);
      const ok = await request(port, 'GET', '/health', token).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new Error('the server did not answer /health within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const idle = memoryOf(pid);
    log(`weir server pid ${pid} up; resident ${mb(idle.current)} (peak so far ${mb(idle.peak)})`);

    for (const [p, body] of [
      ['/api/2.1/unity-catalog/catalogs', { name: 'stress' }],
      ['/api/2.1/unity-catalog/schemas', { name: 'files', catalog_name: 'stress' }],
      ['/api/2.1/unity-catalog/volumes', { name: 'big', catalog_name: 'stress', schema_name: 'files', volume_type: 'MANAGED' }],
    ] as const) {
      const r = await request(port, 'POST', p, token, JSON.stringify(body));
      if (r.status !== 200) throw new Error(`POST ${p}: ${r.status} ${await text(r.response)}`);
      await text(r.response);
    }

    const filePath = '/api/2.0/fs/files/Volumes/stress/files/big/blob.bin';
    const sent = createHash('sha256');
    const upload = Readable.from(
      (function* () {
        for (const block of generatedBlocks(TOTAL, 0x5eed)) {
          sent.update(block);
          yield block;
        }
      })(),
    );
    let t = Date.now();
    const put = await request(port, 'PUT', filePath, token, upload);
    if (put.status !== 204) throw new Error(`PUT: ${put.status} ${await text(put.response)}`);
    await text(put.response);
    const uploadSeconds = (Date.now() - t) / 1000;
    const afterUpload = memoryOf(pid);
    const onDisk = fs.statSync(path.join(dataDir, 'volumes', 'stress', 'files', 'big', 'blob.bin')).size;
    log(`uploaded ${mb(TOTAL)} in ${uploadSeconds.toFixed(1)} s; on disk ${onDisk} bytes; server peak RSS ${mb(afterUpload.peak)}`);

    t = Date.now();
    const get = await request(port, 'GET', filePath, token);
    if (get.status !== 200) throw new Error(`GET: ${get.status} ${await text(get.response)}`);
    const received = createHash('sha256');
    let size = 0;
    for await (const chunk of get.response as AsyncIterable<Buffer>) {
      received.update(chunk);
      size += chunk.length;
    }
    const downloadSeconds = (Date.now() - t) / 1000;
    const afterDownload = memoryOf(pid);
    const client = process.memoryUsage().rss;
    log(`downloaded ${mb(size)} in ${downloadSeconds.toFixed(1)} s; server peak RSS ${mb(afterDownload.peak)}; this client's RSS ${mb(client)}`);

    const failures: string[] = [];
    const sentDigest = sent.digest('hex');
    const receivedDigest = received.digest('hex');
    if (onDisk !== TOTAL) failures.push(`the stored file has ${onDisk} bytes, ${TOTAL} were sent`);
    if (size !== TOTAL) failures.push(`the download has ${size} bytes, ${TOTAL} were sent`);
    if (sentDigest !== receivedDigest) failures.push(`sha256 differs: sent ${sentDigest}, got back ${receivedDigest}`);
    if (afterDownload.peak >= LIMIT_BYTES) failures.push(`server peak RSS ${mb(afterDownload.peak)} reached the ${mb(LIMIT_BYTES)} limit`);
    log(`sha256 ${receivedDigest} ${sentDigest === receivedDigest ? 'matches' : 'DIFFERS'}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const f of failures) log(`FAIL ${f}`);
    log(failures.length === 0 ? 'PASSED' : 'FAILED');
    return failures.length === 0 ? 0 : 1;
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

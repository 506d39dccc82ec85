import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type Connection, callApi, formatTable, resolveConnection } from '../client.ts';

type Opts = { json?: boolean; profile?: string; host?: string; token?: string };

const API = '/api/2.0/mlflow';

function withConnection(cmd: Command): Command {
  return cmd
    .option('--host <url>', 'Weir URL (default: WEIR_HOST, ~/.weirrc, http://localhost:8080)')
    .option('--token <token>', 'access token (default: WEIR_TOKEN or ~/.weirrc)')
    .option('--profile <name>', 'profile in ~/.weirrc')
    .option('--json', 'print JSON instead of a table');
}

function print(json: boolean | undefined, data: unknown, table: () => string) {
  process.stdout.write(`${json ? JSON.stringify(data, null, 2) : table()}\n`);
}

const when = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : '');

/** Splits `NAME@ALIAS` or `NAME/VERSION` (the MLflow `models:/` forms without the scheme). */
export function parseModelRef(ref: string): { name: string; alias?: string; version?: string } {
  const at = ref.lastIndexOf('@');
  if (at > 0) return { name: ref.slice(0, at), alias: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  if (slash > 0 && /^\d+$/.test(ref.slice(slash + 1))) return { name: ref.slice(0, slash), version: ref.slice(slash + 1) };
  throw new Error(`Expected NAME@ALIAS or NAME/VERSION, got '${ref}'.`);
}

/** Downloads a directory served with the artifact-proxy protocol (list basenames, then GET each file). */
async function downloadTree(conn: Connection, artifactUri: string, dest: string, sub = ''): Promise<number> {
  const marker = '/mlflow-artifacts/artifacts';
  const cut = artifactUri.indexOf(marker);
  if (cut < 0) throw new Error(`This version's files are at ${artifactUri}, which Weir does not serve; fetch them from there.`);
  const base = artifactUri.slice(0, cut);
  const root = artifactUri.slice(cut + marker.length).replace(/^\/+/, '');
  const headers: Record<string, string> = conn.token ? { authorization: `Bearer ${conn.token}` } : {};
  const listUrl = `${base}${marker}?path=${encodeURIComponent(sub ? `${root}/${sub}` : root)}`;
  const listed = await fetch(listUrl, { headers });
  if (!listed.ok) throw new Error(`Listing ${sub || '/'} failed: HTTP ${listed.status} ${await listed.text()}`);
  const files = ((await listed.json()) as { files?: { path: string; is_dir: boolean }[] }).files ?? [];
  let count = 0;
  for (const f of files) {
    if (f.path.includes('/') || f.path === '..' || f.path === '.') throw new Error(`Refusing unexpected file name '${f.path}'.`);
    const rel = sub ? `${sub}/${f.path}` : f.path;
    if (f.is_dir) {
      count += await downloadTree(conn, artifactUri, dest, rel);
      continue;
    }
    const res = await fetch(`${artifactUri}/${rel.split('/').map(encodeURIComponent).join('/')}`, { headers });
    if (!res.ok) throw new Error(`Downloading ${rel} failed: HTTP ${res.status}`);
    const target = path.join(dest, ...rel.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, Buffer.from(await res.arrayBuffer()));
    count++;
  }
  return count;
}

/** Adds `weir models list|versions|promote|download`. */
export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('Registered models and their versions');

  withConnection(models.command('list').description('List registered models'))
    .option('--filter <expr>', 'MLflow filter, e.g. "name LIKE \'fraud%\'"')
    .action(async (o: Opts & { filter?: string }) => {
      const conn = resolveConnection(o);
      const all: Record<string, unknown>[] = [];
      let pageToken: string | undefined;
      do {
        const res = await callApi(conn, 'GET', `${API}/registered-models/search`, { max_results: 1000, filter: o.filter, page_token: pageToken });
        all.push(...((res.registered_models ?? []) as Record<string, unknown>[]));
        pageToken = res.next_page_token as string | undefined;
      } while (pageToken);
      print(o.json, { registered_models: all }, () =>
        formatTable(
          ['NAME', 'LATEST', 'ALIASES', 'UPDATED'],
          all.map((m) => {
            const versions = (m.latest_versions ?? []) as { version: string }[];
            const latest = versions.reduce((max, v) => Math.max(max, Number(v.version)), 0);
            const aliases = ((m.aliases ?? []) as { alias: string; version: string }[]).map((a) => `${a.alias}=v${a.version}`).join(',');
            return [String(m.name), latest ? String(latest) : '', aliases, when(m.last_updated_timestamp)];
          }),
        ),
      );
    });

  withConnection(models.command('versions').description('List the versions of a model').argument('<name>')).action(async (name: string, o: Opts) => {
    const conn = resolveConnection(o);
    const res = await callApi(conn, 'GET', `${API}/model-versions/search`, { filter: `name = '${name.replace(/'/g, "\\'")}'`, max_results: 10000 });
    const list = (res.model_versions ?? []) as Record<string, unknown>[];
    print(o.json, res, () =>
      formatTable(
        ['VERSION', 'STATUS', 'STAGE', 'ALIASES', 'RUN_ID', 'CREATED'],
        list.map((v) => [
          String(v.version),
          String(v.status),
          String(v.current_stage),
          ((v.aliases ?? []) as string[]).join(','),
          String(v.run_id ?? ''),
          when(v.creation_timestamp),
        ]),
      ),
    );
  });

  withConnection(models.command('promote').description('Point an alias at a version').argument('<name>').argument('<version>'))
    .requiredOption('--alias <alias>', 'alias to set, e.g. champion')
    .action(async (name: string, version: string, o: Opts & { alias: string }) => {
      const res = await callApi(resolveConnection(o), 'POST', `${API}/registered-models/alias`, { name, alias: o.alias, version });
      print(o.json, res, () => `${name}@${o.alias} -> version ${version}`);
    });

  withConnection(models.command('download').description('Download a version’s files').argument('<ref>', 'NAME@ALIAS or NAME/VERSION').argument('<dir>')).action(
    async (ref: string, dir: string, o: Opts) => {
      const conn = resolveConnection(o);
      const parsed = parseModelRef(ref);
      let version = parsed.version;
      if (parsed.alias !== undefined) {
        const res = await callApi(conn, 'GET', `${API}/registered-models/alias`, { name: parsed.name, alias: parsed.alias });
        version = String((res.model_version as Record<string, unknown>).version);
      }
      const uri = await callApi(conn, 'GET', `${API}/model-versions/get-download-uri`, { name: parsed.name, version });
      const dest = path.resolve(dir);
      fs.mkdirSync(dest, { recursive: true });
      const count = await downloadTree(conn, String(uri.artifact_uri), dest);
      print(o.json, { name: parsed.name, version, files: count, dir: dest }, () => `downloaded ${count} files of ${parsed.name} version ${version} to ${dest}`);
    },
  );
}

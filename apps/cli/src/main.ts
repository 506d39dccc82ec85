import { Command, Option } from 'commander';
import { callApi, formatTable, resolveConnection } from './client.ts';
import { registerEndpointsCommand, registerServeCommand } from './commands/endpoints.ts';
import { registerIdentityCommands } from './commands/identity.ts';
import { registerLakehouseCommands } from './commands/lakehouse.ts';
import { registerLineageCommand } from './commands/lineage.ts';
import { registerModelsCommand } from './commands/models.ts';

type Opts = { json?: boolean; profile?: string; host?: string; token?: string };

function output(json: boolean | undefined, data: unknown, table: () => string) {
  process.stdout.write(`${json ? JSON.stringify(data, null, 2) : table()}\n`);
}

function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--host <url>', 'Weir URL (default: WEIR_HOST, ~/.weirrc, http://localhost:8080)')
    .option('--token <token>', 'access token (default: WEIR_TOKEN or ~/.weirrc)')
    .option('--profile <name>', 'profile in ~/.weirrc')
    .option('--json', 'print JSON instead of a table');
}

/** Builds the `weir` command tree. */
export function buildCli(): Command {
  const program = new Command('weir').description('Weir: a self-hosted MLOps lakehouse').showHelpAfterError();

  program
    .command('server')
    .description('Run the Weir server (API and UI)')
    .addOption(new Option('--port <port>', 'port to listen on').default('8080'))
    .addOption(new Option('--host <host>', 'address to bind').default('0.0.0.0'))
    .addOption(new Option('--data-dir <dir>', 'where embedded metadata, tables and artifacts live').default('./weir-data'))
    .option('--metadata-url <url>', 'PostgreSQL URL for the metadata store (default: SQLite in the data dir)')
    .option('--python <path>', 'a Python with mlflow: serves model versions without an onnx flavor through Python workers (env WEIR_PYTHON)')
    .option('--audit-retention-days <days>', 'days system.access.audit keeps events (env WEIR_AUDIT_RETENTION_DAYS, default 365)')
    .option('--lineage-retention-days <days>', 'days lineage is kept (env WEIR_LINEAGE_RETENTION_DAYS, default: forever)')
    .action(
      async (o: {
        port: string;
        host: string;
        dataDir: string;
        metadataUrl?: string;
        python?: string;
        auditRetentionDays?: string;
        lineageRetentionDays?: string;
      }) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid port: ${o.port}`);
        if (o.python) process.env.WEIR_PYTHON = o.python;
        const { resolveConfig, startServer } = await import('@weir/server');
        const audit = o.auditRetentionDays === undefined ? {} : { auditRetentionDays: Number(o.auditRetentionDays) };
        const lineage = o.lineageRetentionDays === undefined ? {} : { lineageRetentionDays: Number(o.lineageRetentionDays) };
        await startServer(resolveConfig({ port, host: o.host, dataDir: o.dataDir, metadataUrl: o.metadataUrl, ...audit, ...lineage }));
      },
    );

  const token = program.command('token').description('Personal access tokens');
  connectionOptions(token.command('create').description('Create a token'))
    .option('--comment <text>', 'what the token is for')
    .option('--lifetime-seconds <n>', 'expiry in seconds (default: never)')
    .action(async (o: Opts & { comment?: string; lifetimeSeconds?: string }) => {
      const res = await callApi(resolveConnection(o), 'POST', '/api/2.0/token/create', {
        comment: o.comment,
        lifetime_seconds: o.lifetimeSeconds === undefined ? undefined : Number(o.lifetimeSeconds),
      });
      const info = res.token_info as Record<string, unknown>;
      output(o.json, res, () => `token_id: ${String(info.token_id)}\ntoken:    ${String(res.token_value)}\n(store it now: it is not shown again)`);
    });
  connectionOptions(token.command('list').description('List your tokens')).action(async (o: Opts) => {
    const res = await callApi(resolveConnection(o), 'GET', '/api/2.0/token/list');
    const infos = (res.token_infos ?? []) as Record<string, unknown>[];
    output(o.json, res, () =>
      formatTable(
        ['TOKEN_ID', 'COMMENT', 'CREATED', 'EXPIRES'],
        infos.map((t) => [
          String(t.token_id),
          String(t.comment ?? ''),
          new Date(Number(t.creation_time)).toISOString(),
          Number(t.expiry_time) < 0 ? 'never' : new Date(Number(t.expiry_time)).toISOString(),
        ]),
      ),
    );
  });
  connectionOptions(token.command('revoke').description('Revoke a token').argument('<token_id>')).action(async (tokenId: string, o: Opts) => {
    const res = await callApi(resolveConnection(o), 'POST', '/api/2.0/token/delete', { token_id: tokenId });
    output(o.json, res, () => `revoked ${tokenId}`);
  });

  const experiments = program.command('experiments').description('MLflow experiments');
  connectionOptions(experiments.command('list').description('List experiments'))
    .option('--all', 'include deleted experiments')
    .action(async (o: Opts & { all?: boolean }) => {
      const conn = resolveConnection(o);
      const all: Record<string, unknown>[] = [];
      let pageToken: string | undefined;
      do {
        const res = await callApi(conn, 'POST', '/api/2.0/mlflow/experiments/search', {
          max_results: 1000,
          page_token: pageToken,
          view_type: o.all ? 'ALL' : 'ACTIVE_ONLY',
        });
        all.push(...((res.experiments ?? []) as Record<string, unknown>[]));
        pageToken = res.next_page_token as string | undefined;
      } while (pageToken);
      output(o.json, { experiments: all }, () =>
        formatTable(
          ['ID', 'NAME', 'STAGE', 'ARTIFACT_LOCATION'],
          all.map((e) => [String(e.experiment_id), String(e.name), String(e.lifecycle_stage), String(e.artifact_location)]),
        ),
      );
    });
  connectionOptions(experiments.command('create').description('Create an experiment').argument('<name>'))
    .option('--artifact-location <uri>', 'where its artifacts go')
    .action(async (name: string, o: Opts & { artifactLocation?: string }) => {
      const res = await callApi(resolveConnection(o), 'POST', '/api/2.0/mlflow/experiments/create', { name, artifact_location: o.artifactLocation });
      output(o.json, res, () => `created experiment ${String(res.experiment_id)}`);
    });

  const runs = program.command('runs').description('MLflow runs');
  connectionOptions(runs.command('search').description('Search runs of an experiment'))
    .requiredOption('--experiment <name>', 'experiment name')
    .option('--filter <expr>', 'MLflow filter, e.g. "metrics.rmse < 1 and params.lr = \'0.1\'"')
    .option('--order-by <clause...>', 'order_by clauses, e.g. "metrics.rmse ASC"')
    .option('--max-results <n>', 'maximum runs', '100')
    .action(async (o: Opts & { experiment: string; filter?: string; orderBy?: string[]; maxResults: string }) => {
      const conn = resolveConnection(o);
      const exp = await callApi(conn, 'GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: o.experiment });
      const id = String((exp.experiment as Record<string, unknown>).experiment_id);
      const res = await callApi(conn, 'POST', '/api/2.0/mlflow/runs/search', {
        experiment_ids: [id],
        filter: o.filter,
        order_by: o.orderBy,
        max_results: Number(o.maxResults),
      });
      const list = (res.runs ?? []) as {
        info: Record<string, unknown>;
        data: { metrics?: { key: string; value: unknown }[]; params?: { key: string; value: string }[] };
      }[];
      const metricKeys = [...new Set(list.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort().slice(0, 6);
      output(o.json, res, () =>
        formatTable(
          ['RUN_ID', 'NAME', 'STATUS', 'START', ...metricKeys],
          list.map((r) => [
            String(r.info.run_id),
            String(r.info.run_name ?? ''),
            String(r.info.status),
            new Date(Number(r.info.start_time)).toISOString(),
            ...metricKeys.map((k) => {
              const m = (r.data.metrics ?? []).find((x) => x.key === k);
              return m === undefined ? '' : String(m.value);
            }),
          ]),
        ),
      );
    });

  registerModelsCommand(program);
  registerEndpointsCommand(program);
  registerServeCommand(program);
  registerLakehouseCommands(program);
  registerLineageCommand(program);
  registerIdentityCommands(program);
  return program;
}

/** Entry point used by bin/weir.js: exits non-zero with the server's message on errors. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

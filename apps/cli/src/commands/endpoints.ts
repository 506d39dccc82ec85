import type { Command } from 'commander';
import { callApi, formatTable, resolveConnection } from '../client.ts';

type Opts = { json?: boolean; profile?: string; host?: string; token?: string };

const API = '/api/2.0/serving-endpoints';

function withConnection(cmd: Command): Command {
  return cmd
    .option('--host <url>', 'Weir URL (default: WEIR_HOST, ~/.weirrc, http://localhost:8080)')
    .option('--token <token>', 'access token (default: WEIR_TOKEN or ~/.weirrc)')
    .option('--profile <name>', 'profile in ~/.weirrc');
}

function print(json: boolean | undefined, data: unknown, table: () => string) {
  process.stdout.write(`${json ? JSON.stringify(data, null, 2) : table()}\n`);
}

type Entity = { name?: string; entity_name?: string; entity_version?: string; entity_alias?: string; state?: { deployment?: string } };
type Endpoint = {
  name?: string;
  state?: { ready?: string; config_update?: string };
  config?: { served_entities?: Entity[]; traffic_config?: { routes?: { served_entity_name?: string; traffic_percentage?: number }[] } };
};

/** What an endpoint serves, in one short cell: `entity=model/version (alias) pct%`. */
function servesCell(e: Endpoint): string {
  const routes = e.config?.traffic_config?.routes ?? [];
  return (e.config?.served_entities ?? [])
    .map((s) => {
      const pct = routes.find((r) => r.served_entity_name === s.name)?.traffic_percentage;
      return `${s.name}=${s.entity_name}/${s.entity_version ?? '?'}${s.entity_alias ? ` (@${s.entity_alias})` : ''}${pct === undefined ? '' : ` ${pct}%`}`;
    })
    .join(', ');
}

/** `weir endpoints list|get|query`: serving endpoints through the Databricks-shaped API. */
export function registerEndpointsCommand(program: Command): void {
  const endpoints = program.command('endpoints').description('Model serving endpoints');
  withConnection(endpoints.command('list').description('List serving endpoints'))
    .option('--json', 'print JSON instead of a table')
    .action(async (o: Opts) => {
      const res = await callApi(resolveConnection(o), 'GET', API);
      const rows = (res.endpoints ?? []) as Endpoint[];
      print(o.json, res, () =>
        formatTable(
          ['NAME', 'READY', 'CONFIG_UPDATE', 'SERVES'],
          rows.map((e) => [e.name, e.state?.ready, e.state?.config_update, servesCell(e)]),
        ),
      );
    });
  withConnection(endpoints.command('get').description('Show one serving endpoint').argument('<name>'))
    .option('--json', 'print JSON instead of a table')
    .action(async (name: string, o: Opts) => {
      const res = (await callApi(resolveConnection(o), 'GET', `${API}/${encodeURIComponent(name)}`)) as Endpoint & Record<string, unknown>;
      print(o.json, res, () => {
        const lines = [`name:          ${res.name}`, `ready:         ${res.state?.ready}`, `config_update: ${res.state?.config_update}`];
        if (typeof res.state_message === 'string') lines.push(`reason:        ${res.state_message}`);
        const entities = res.config?.served_entities ?? [];
        const routes = res.config?.traffic_config?.routes ?? [];
        lines.push(
          '',
          formatTable(
            ['SERVED_ENTITY', 'MODEL', 'VERSION', 'ALIAS', 'TRAFFIC', 'STATE'],
            entities.map((s) => [
              s.name,
              s.entity_name,
              s.entity_version,
              s.entity_alias,
              `${routes.find((r) => r.served_entity_name === s.name)?.traffic_percentage ?? 0}%`,
              s.state?.deployment,
            ]),
          ),
        );
        return lines.join('\n');
      });
    });
  withConnection(endpoints.command('query').description('Score with an endpoint (MLflow scoring protocol) and print the JSON answer').argument('<name>'))
    .requiredOption('--json <body>', `request body, e.g. '{"dataframe_records": [{"x": 1}]}'`)
    .action(async (name: string, o: Omit<Opts, 'json'> & { json: string }) => {
      let body: unknown;
      try {
        body = JSON.parse(o.json);
      } catch {
        throw new Error('--json must be a JSON object, e.g. \'{"dataframe_records": [{"x": 1}]}\'.');
      }
      const res = await callApi(resolveConnection(o), 'POST', `/serving-endpoints/${encodeURIComponent(name)}/invocations`, body);
      process.stdout.write(`${JSON.stringify(res)}\n`);
    });
}

/** `weir serve --model models:/name@alias`: a standalone scoring server fed by a Weir server's registry (scale-out). */
export function registerServeCommand(program: Command): void {
  withConnection(
    program
      .command('serve')
      .description(
        'Serve one registered model on its own (POST /invocations, /ping, /health, /metrics), pulling it from a Weir server; an alias is followed as it moves',
      )
      .requiredOption('--model <uri>', 'models:/<name>@<alias> (followed) or models:/<name>/<version>'),
  )
    .option('--server <url>', 'the Weir server whose registry holds the model (same as --host)')
    .option('--port <port>', 'port to listen on', '5001')
    .option('--bind <address>', 'address to listen on (the scoring routes have no authentication of their own)', '127.0.0.1')
    .option('--poll-seconds <n>', 'how often to ask the registry where the alias points', '10')
    .option('--python <path>', 'a Python with mlflow, for versions without an onnx flavor')
    .action(async (o: Opts & { model: string; server?: string; port: string; bind: string; pollSeconds: string; python?: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid port: ${o.port}`);
      const pollSeconds = Number(o.pollSeconds);
      if (!Number.isFinite(pollSeconds) || pollSeconds < 0.1) throw new Error(`Invalid --poll-seconds: ${o.pollSeconds}`);
      const conn = resolveConnection({ ...o, host: o.server ?? o.host });
      const { startStandaloneServing } = await import('@weir/server');
      const served = await startStandaloneServing({
        model: o.model,
        host: o.bind,
        port,
        server: conn.host,
        token: conn.token,
        pollSeconds,
        ...(o.python ? { python: o.python } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`weir serve: ${o.model} version ${served.version()} on ${served.url}\n`);
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          served.stop().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        });
      }
    });
}

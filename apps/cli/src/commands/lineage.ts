import type { Command } from 'commander';
import { callApi, formatTable, resolveConnection } from '../client.ts';

type Opts = { json?: boolean; profile?: string; host?: string; token?: string; direction?: string; depth?: string };

/** `weir lineage <entity>`: the lineage graph around a table, path, run, model version or endpoint. */
export function registerLineageCommand(program: Command): void {
  program
    .command('lineage')
    .description('Lineage around an entity: table:c.s.t, path:/Volumes/..., run:<id>, model_version:c.s.m/N, endpoint:<name>')
    .argument('<entity>', 'the entity id, e.g. table:main.sales.orders')
    .option('--direction <dir>', 'upstream, downstream or both', 'both')
    .option('--depth <n>', 'hops to follow (1-20)', '1')
    .option('--host <url>', 'Weir URL (default: WEIR_HOST, ~/.weirrc, http://localhost:8080)')
    .option('--token <token>', 'access token (default: WEIR_TOKEN or ~/.weirrc)')
    .option('--profile <name>', 'profile in ~/.weirrc')
    .option('--json', 'print the graph as JSON')
    .action(async (entity: string, o: Opts) => {
      const res = await callApi(resolveConnection(o), 'GET', '/api/weir/v1/lineage', { entity, direction: o.direction ?? 'both', depth: o.depth ?? '1' });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
        return;
      }
      const edges = (res.edges ?? []) as { source: string; target: string; kind: string; last_event_time: number }[];
      const table = formatTable(
        ['SOURCE', 'TARGET', 'KIND', 'LAST SEEN'],
        edges.map((e) => [e.source, e.target, e.kind, new Date(e.last_event_time).toISOString()]),
      );
      process.stdout.write(`${edges.length ? table : `no lineage recorded for ${entity}`}\n`);
    });
}

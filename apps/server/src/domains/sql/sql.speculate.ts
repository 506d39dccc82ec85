import type { DuckDBConnection, DuckDBMaterializedResult } from '@duckdb/node-api';
import { mentionsPrincipal, type ResolveContext, resolveQuery } from './sql.resolve.ts';

/**
 * Speculative runs of repeated queries (docs/adr/0005-speculative-queries.md).
 *
 * Name resolution (catalog rows, grants, the Delta log's latest version, row security) takes the main thread for about
 * a millisecond before DuckDB may start, while DuckDB's threads wait. For a query text seen before, the SQL it was
 * rewritten to last time is started at once and resolution runs beside it, from scratch and with every check, on a
 * second connection. The answer is released only when resolution produces exactly the same SQL: the same tables, the
 * same data files (a new commit changes the file list), no row filter or mask, and every grant still held. Otherwise
 * the speculative run is interrupted and its result thrown away, and the query runs as it would have without it.
 */

/** What a speculative run needs beyond name resolution: a second, clean connection for resolution to use. */
export interface SpeculationContext extends ResolveContext {
  /** A clean connection of the same engine; `release(reusable)` gives it back (see SqlEngine.release). */
  spare?: () => Promise<{ con: DuckDBConnection; release(reusable: boolean): void }>;
  checkCanceled(): void;
}

const ENTRIES = 256;
/** Rewritten SQL longer than this (tables of thousands of files) is not kept: the resolution it saves is the small part. */
const MAX_REWRITTEN_CHARS = 64 * 1024;
/** Last rewrite of recent query texts, by default namespace and text, least recently used first. */
const lastRewrite = new Map<string, string>();

/**
 * How speculative runs ended since the process started: answered (`kept`), thrown away and run again (`redone`), or
 * thrown away because resolution refused the statement (`refused`: a missing table, a revoked grant).
 */
export const speculationCounts = { kept: 0, redone: 0, refused: 0 };

/** Raised inside speculative resolution when it would need the busy connection; the query then runs the plain way. */
class NeedsOwnConnection extends Error {}

function remember(key: string, rewritten: string | undefined): void {
  lastRewrite.delete(key);
  if (rewritten === undefined || rewritten.length > MAX_REWRITTEN_CHARS) return;
  lastRewrite.set(key, rewritten);
  if (lastRewrite.size > ENTRIES) lastRewrite.delete(lastRewrite.keys().next().value as string);
}

/** Resolves and runs a query the plain way; remembers its rewrite when it left nothing on the connection. */
async function runPlain(ctx: SpeculationContext, sql: string, key: string): Promise<DuckDBMaterializedResult> {
  const before = ctx.counter.n;
  const rewritten = await resolveQuery(ctx, sql);
  // Temp views (views, row security, information_schema) and macros live on this connection only, and the caller's
  // identity functions differ per caller: such rewrites cannot be replayed on another statement's connection.
  remember(key, ctx.counter.n === before && !mentionsPrincipal(sql) ? rewritten : undefined);
  ctx.checkCanceled();
  return ctx.con.run(rewritten);
}

/**
 * Resolves `sql` (a query) and runs it on `ctx.con`, speculatively when its rewrite is remembered. Either way the
 * result is that of the SQL a full resolution produced for this caller, now.
 */
export async function resolveAndRun(ctx: SpeculationContext, sql: string): Promise<DuckDBMaterializedResult> {
  const key = `${ctx.defaults.catalog}\0${ctx.defaults.schema}\0${sql}`;
  const guess = ctx.spare ? lastRewrite.get(key) : undefined;
  if (guess === undefined || !ctx.spare) return runPlain(ctx, sql, key);

  let settled = false;
  const started = ctx.con.run(guess).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  void started.then(() => (settled = true));
  const abandon = async () => {
    // An interrupt reaches only a running query (one on an idle connection leaves the next query alone).
    if (!settled) ctx.con.interrupt();
    await started;
  };

  const reads = ctx.reads.length;
  const directReads = ctx.directReads?.length ?? 0;
  let spare: Awaited<ReturnType<NonNullable<SpeculationContext['spare']>>> | undefined;
  let rewritten: string;
  const before = ctx.counter.n;
  try {
    spare = await ctx.spare();
    rewritten = await resolveQuery(
      {
        ...ctx,
        con: spare.con,
        principalMacros: () => Promise.reject(new NeedsOwnConnection()),
      },
      sql,
    );
  } catch (err) {
    await abandon();
    if (!(err instanceof NeedsOwnConnection)) {
      speculationCounts.refused++;
      throw err;
    }
    rewritten = '';
  } finally {
    spare?.release(ctx.counter.n === before);
  }

  if (rewritten === guess) {
    speculationCounts.kept++;
    const outcome = await started;
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }
  // The table moved on, its rules changed, or resolution needed this connection: start over the plain way.
  speculationCounts.redone++;
  await abandon();
  ctx.reads.length = reads;
  if (ctx.directReads) ctx.directReads.length = directReads;
  return runPlain(ctx, sql, key);
}

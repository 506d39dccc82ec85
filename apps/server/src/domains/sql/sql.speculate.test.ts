import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, statementRunner, type TestServer, testBackends } from '../../testing/test-server.ts';
import { speculationCounts } from './sql.speculate.ts';

// A repeated query starts on the SQL it was rewritten to last time while it is resolved again; these tests change
// what the second resolution finds between two runs of one text and check that the answer is always the fresh one.
describe.each(testBackends)('speculative runs of repeated queries on $name', (backend) => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  let run: ReturnType<typeof statementRunner>['run'];
  let ok: ReturnType<typeof statementRunner>['ok'];

  /** What happened to speculative runs while `fn` ran. */
  async function counted(fn: () => Promise<unknown>) {
    const before = { ...speculationCounts };
    await fn();
    return {
      kept: speculationCounts.kept - before.kept,
      redone: speculationCounts.redone - before.redone,
      refused: speculationCounts.refused - before.refused,
    };
  }

  beforeAll(async () => {
    s = await startTestServer(backend);
    ({ run, ok } = statementRunner(s));
    for (const name of ['alice', 'mallory']) tokens[name] = (await s.createUser(name)).token;
    await ok('CREATE CATALOG spec');
    await ok('CREATE SCHEMA spec.s');
    await ok('GRANT USE CATALOG ON CATALOG spec TO `alice`');
    await ok('GRANT USE SCHEMA ON SCHEMA spec.s TO `alice`');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('answers a repeated query from its speculative run, with the same rows', async () => {
    await ok('CREATE TABLE spec.s.same AS SELECT * FROM (VALUES (1, 10), (2, 20)) t(id, v)');
    const query = 'SELECT id, v * 2 AS w FROM spec.s.same ORDER BY id';
    const first = await ok(query);
    const counts = await counted(async () => expect(await ok(query)).toEqual(first));
    expect(counts).toEqual({ kept: 1, redone: 0, refused: 0 });
    expect(first).toEqual([
      ['1', '20'],
      ['2', '40'],
    ]);
  });

  it('sees rows committed between two runs of the same text', async () => {
    await ok('CREATE TABLE spec.s.growing AS SELECT * FROM (VALUES (1), (2)) t(id)');
    const query = 'SELECT count(*), sum(id) FROM spec.s.growing';
    expect(await ok(query)).toEqual([['2', '3']]);
    await ok('INSERT INTO spec.s.growing VALUES (3), (4)');
    const counts = await counted(async () => expect(await ok(query)).toEqual([['4', '10']]));
    expect(counts).toEqual({ kept: 0, redone: 1, refused: 0 });
    // and once the new rewrite is remembered, the next run is kept again
    expect(await counted(async () => expect(await ok(query)).toEqual([['4', '10']])).then((c) => c.kept)).toBe(1);
  });

  it('refuses the second run once the grant behind the first is revoked', async () => {
    await ok('CREATE TABLE spec.s.granted AS SELECT * FROM (VALUES (1, 10)) t(id, v)');
    await ok('GRANT SELECT ON TABLE spec.s.granted TO `alice`');
    const query = 'SELECT id, v FROM spec.s.granted';
    expect(await ok(query, tokens.alice)).toEqual([['1', '10']]);
    await ok('REVOKE SELECT ON TABLE spec.s.granted FROM `alice`');
    const counts = await counted(async () => {
      const body = await run(query, tokens.alice);
      expect(body.status.state).toBe('FAILED');
      expect(body.status.error?.error_code).toBe('PERMISSION_DENIED');
      expect(body.result).toBeUndefined();
    });
    expect(counts).toEqual({ kept: 0, redone: 0, refused: 1 });
  });

  it("refuses a caller without SELECT even when another caller's run of the text is remembered", async () => {
    await ok("CREATE TABLE spec.s.private AS SELECT * FROM (VALUES (1, 'secret')) t(id, note)");
    const query = 'SELECT note FROM spec.s.private';
    expect(await ok(query)).toEqual([['secret']]);
    const counts = await counted(async () => {
      const body = await run(query, tokens.mallory);
      expect(body.status.state).toBe('FAILED');
      expect(body.status.error?.error_code).toBe('PERMISSION_DENIED');
      expect(JSON.stringify(body)).not.toContain('secret');
    });
    expect(counts).toEqual({ kept: 0, redone: 0, refused: 1 });
  });

  it('applies a row filter set between two runs of the same text', async () => {
    await ok("CREATE TABLE spec.s.regions AS SELECT * FROM (VALUES (1, 'eu'), (2, 'us'), (3, 'eu')) t(id, region)");
    await ok('GRANT SELECT ON TABLE spec.s.regions TO `alice`');
    const query = 'SELECT id FROM spec.s.regions ORDER BY id';
    expect(await ok(query, tokens.alice)).toEqual([['1'], ['2'], ['3']]);
    await ok("CREATE FUNCTION spec.s.eu_only(region STRING) RETURNS BOOLEAN RETURN region = 'eu'");
    await ok('ALTER TABLE spec.s.regions SET ROW FILTER spec.s.eu_only ON (region)');
    const counts = await counted(async () => expect(await ok(query, tokens.alice)).toEqual([['1'], ['3']]));
    expect(counts).toEqual({ kept: 0, redone: 1, refused: 0 });
  });

  it('gives every concurrent run of one text the answer of a committed version while writes land between them', async () => {
    await ok('CREATE TABLE spec.s.busy AS SELECT * FROM (VALUES (1)) t(id)');
    const query = 'SELECT count(*), max(id) FROM spec.s.busy';
    expect(await ok(query)).toEqual([['1', '1']]);
    const answers: (string | null)[][][] = [];
    const readers = Array.from({ length: 6 }, async () => {
      for (let i = 0; i < 5; i++) answers.push(await ok(query));
    });
    const writer = (async () => {
      for (let n = 2; n <= 6; n++) await ok(`INSERT INTO spec.s.busy VALUES (${n})`);
    })();
    await Promise.all([...readers, writer]);
    expect(answers).toHaveLength(30);
    // Version k holds ids 1..k: a count of k always comes with a max of k, whichever run answered.
    for (const [row] of answers) expect(row?.[0]).toBe(row?.[1]);
    expect(await ok(query)).toEqual([['6', '6']]);
  });

  it('reads the new table when one is dropped and another created under the same name', async () => {
    await ok('CREATE TABLE spec.s.reborn AS SELECT * FROM (VALUES (1)) t(id)');
    const query = 'SELECT * FROM spec.s.reborn ORDER BY 1';
    expect(await ok(query)).toEqual([['1']]);
    await ok('DROP TABLE spec.s.reborn');
    const gone = await counted(async () => {
      const body = await run(query);
      expect(body.status.state).toBe('FAILED');
      expect(body.status.error?.message).toContain('TABLE_DOES_NOT_EXIST');
    });
    expect(gone.refused).toBe(1);
    await ok("CREATE TABLE spec.s.reborn AS SELECT * FROM (VALUES ('x', 7), ('y', 8)) t(name, n)");
    expect(await ok(query)).toEqual([
      ['x', '7'],
      ['y', '8'],
    ]);
  });
});

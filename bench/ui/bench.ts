// Web UI benchmark: Weir's UI vs stock MLflow's UI (`mlflow server`), measured with Playwright in Chromium.
//
//   npx tsx bench/ui/bench.ts [--runs 100000] [--metric-keys 50] [--points 100000] [--repeat 3] [--out DIR]
//                             [--data DIR] [--only weir|mlflow]
//
// --data DIR keeps the servers' stores in DIR and records what was seeded in DIR/seeded.json; a later run with the same
// --data, --runs, --metric-keys and --points reuses them instead of seeding again (seeding 100,000 runs × 50 metrics
// takes 13–17 minutes). --only measures one UI (for profiling; the README's figures come from runs of both).
//
// Both servers get the same data: one experiment of N runs (K metrics, 3 params each) and one run with a
// P-point metric. Weir is seeded through its REST API; MLflow's store is bulk-seeded with MLflow's own
// SQLAlchemy models (bench/tracking/seed_mlflow.py, the tables its server writes), because seeding it through
// REST takes many minutes. Every measured figure is a page load in a fresh browser context:
//   a. runs page: navigation start → the newest run's name is visible in the runs table
//   b. run detail chart: navigation start → the P-point metric's chart is drawn
//   c. sort by a metric: on the loaded runs page, pressing the sort control for `acc` → the first row shown is a run
//      with the highest `acc` (timed inside the page: pointerdown → the animation frame that shows it)
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../tests/e2e/browser.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MLFLOW_BIN = process.env.MLFLOW_BENCH_BIN ?? join(ROOT, 'bench/tracking/.venv/bin/mlflow');
const MLFLOW_PY = process.env.MLFLOW_BENCH_PYTHON ?? join(ROOT, 'bench/tracking/.venv/bin/python');
const SEEDER = join(ROOT, 'bench/tracking/seed_mlflow.py');
const BASE_TS = 1_700_000_000_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const RUNS = Number(arg('runs', '100000'));
const METRIC_KEYS = Number(arg('metric-keys', '50'));
const POINTS = Number(arg('points', '100000'));
const REPEAT = Number(arg('repeat', '3'));
const OUT = resolve(arg('out', join(ROOT, 'bench/ui/work')));
const DATA = arg('data', '') ? resolve(arg('data', '')) : undefined;
const ONLY = arg('only', '');
if (ONLY !== '' && ONLY !== 'weir' && ONLY !== 'mlflow') throw new Error('--only takes weir or mlflow');
const UIS: ('weir' | 'mlflow')[] = ONLY === 'weir' ? ['weir'] : ONLY === 'mlflow' ? ['mlflow'] : ['mlflow', 'weir'];

/** Ids of the seeded experiment and history run in one server's store. */
interface SeededIds {
  experimentId: string;
  historyRun: string;
}
/** DIR/seeded.json: the data set a --data directory holds, and each store's ids once its seeding finished. */
interface Seeded {
  runs: number;
  metricKeys: number;
  points: number;
  weir?: SeededIds;
  mlflow?: SeededIds;
}

/** What `dir` already holds for this run's data set; refuses a directory seeded with other sizes. */
function readSeeded(dir: string): Seeded {
  const file = join(dir, 'seeded.json');
  const fresh: Seeded = { runs: RUNS, metricKeys: METRIC_KEYS, points: POINTS };
  if (!existsSync(file)) return fresh;
  const seeded = JSON.parse(readFileSync(file, 'utf8')) as Seeded;
  if (seeded.runs !== RUNS || seeded.metricKeys !== METRIC_KEYS || seeded.points !== POINTS) {
    throw new Error(`${dir} holds ${seeded.runs} runs × ${seeded.metricKeys} metrics and a ${seeded.points}-point metric; pass those sizes or another --data`);
  }
  return seeded;
}

// --- the same deterministic values as bench/tracking (seed_mlflow.py run_metrics / run_params / history_value) ---
const LRS = ['0.1', '0.01', '0.001'];
const BATCH_SIZES = ['32', '64', '128', '256'];
const MODELS = ['mlp', 'cnn', 'gbdt', 'linear', 'rf'];
function runMetrics(i: number): Record<string, number> {
  const out: Record<string, number> = { acc: ((i * 7919) % 10007) / 10007, loss: ((i * 104729) % 10009) / 10009, f1: ((i * 1299709) % 10037) / 10037 };
  // keys beyond the first three: m03, m04, … (seed_mlflow.py run_metrics with --metric-keys)
  for (let j = 3; j < METRIC_KEYS; j++) out[`m${String(j).padStart(2, '0')}`] = ((i * 7919 + j * 104729) % 10007) / 10007;
  return out;
}
/** Names of the runs with the highest `acc` (several tie): the first row after sorting by `acc`, descending. */
function topAccRuns(): string[] {
  let best = -1;
  let names: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const acc = runMetrics(i).acc as number;
    if (acc > best) [best, names] = [acc, []];
    if (acc === best) names.push(`r${i}`);
  }
  return names;
}
const runParams = (i: number) => ({ lr: LRS[i % 3] as string, batch_size: BATCH_SIZES[i % 4] as string, model: MODELS[i % 5] as string });
const historyValue = (step: number) => 1 / (1 + step / 1000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.log(`[bench-ui] ${msg}`);

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

interface Server {
  url: string;
  token: string;
  stop(): Promise<void>;
}

async function start(kind: 'weir' | 'mlflow', dir: string): Promise<Server & { dbUri: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(dir, { recursive: true });
  const out = openSync(join(dir, 'server.log'), 'w');
  let child: ChildProcess;
  let token = '';
  let dbUri = '';
  if (kind === 'mlflow') {
    dbUri = `sqlite:///${join(dir, 'mlflow.db')}`;
    child = spawn(
      MLFLOW_BIN,
      [
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--backend-store-uri',
        dbUri,
        '--workers',
        '1',
        '--artifacts-destination',
        join(dir, 'artifacts'),
      ],
      {
        cwd: dir,
        env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
        stdio: ['ignore', out, out],
        detached: true,
      },
    );
  } else {
    token = `bench-${randomBytes(16).toString('hex')}`;
    child = spawn(
      process.execPath,
      [join(ROOT, 'apps/cli/bin/weir.js'), 'server', '--port', String(port), '--host', '127.0.0.1', '--data-dir', join(dir, 'data')],
      {
        cwd: dir,
        env: { ...process.env, WEIR_ADMIN_TOKEN: token },
        stdio: ['ignore', out, out],
        detached: true,
      },
    );
  }
  const pid = child.pid as number;
  const stop = async () => {
    if (child.exitCode !== null) return;
    try {
      process.kill(-pid, 'SIGTERM'); // the process group this bench started
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && child.exitCode === null; i++) await sleep(100);
    if (child.exitCode === null) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  for (let i = 0; i < 960; i++) {
    if (child.exitCode !== null) throw new Error(`${kind} exited early; see ${join(dir, 'server.log')}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, token, dbUri, stop };
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`${kind} did not become healthy`);
}

async function call(s: Server, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(s.token ? { authorization: `Bearer ${s.token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : {};
}

async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** Seeds Weir through REST: N runs in one experiment, and one run with a P-point `loss` history. */
async function seedWeir(s: Server): Promise<{ experimentId: string; historyRun: string }> {
  const experimentId = (await call(s, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'ui-bench' })).experiment_id as string;
  await pool(
    Array.from({ length: RUNS }, (_, i) => i),
    8,
    async (i) => {
      const run = (await call(s, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: `r${i}`, start_time: BASE_TS + i })).run.info;
      await call(s, 'POST', '/api/2.0/mlflow/runs/log-batch', {
        run_id: run.run_id,
        params: Object.entries(runParams(i)).map(([key, value]) => ({ key, value })),
        metrics: Object.entries(runMetrics(i)).map(([key, value]) => ({ key, value, timestamp: BASE_TS + i, step: 0 })),
      });
      await call(s, 'POST', '/api/2.0/mlflow/runs/update', { run_id: run.run_id, status: 'FINISHED', end_time: BASE_TS + i + 1000 });
    },
  );
  const historyRun = await historyRunOf(s, experimentId);
  await pool(
    Array.from({ length: Math.ceil(POINTS / 1000) }, (_, b) => b),
    4,
    async (b) => {
      const metrics = [];
      for (let step = b * 1000; step < Math.min(POINTS, (b + 1) * 1000); step++)
        metrics.push({ key: 'loss', value: historyValue(step), timestamp: BASE_TS + step, step });
      await call(s, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: historyRun, metrics });
    },
  );
  return { experimentId, historyRun };
}

async function historyRunOf(s: Server, experimentId: string): Promise<string> {
  return (await call(s, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: 'history', start_time: BASE_TS - 1 })).run.info
    .run_id as string;
}

/** Runs seed_mlflow.py without blocking the event loop, so Weir's REST seeding goes on meanwhile. */
function seedMlflowStore(args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(MLFLOW_PY, [SEEDER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    child.on('error', rej);
    child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`seed_mlflow.py ${args[0]} failed (${code}): ${err}`))));
  });
}

/** Seeds MLflow: the experiment and the history run through REST, the bulk rows into its store. */
async function seedMlflow(s: Server & { dbUri: string }): Promise<{ experimentId: string; historyRun: string }> {
  const experimentId = (await call(s, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'ui-bench' })).experiment_id as string;
  // MLflow 3 opens new experiments in its GenAI view; this tag makes it a model-training experiment (the runs table).
  await call(s, 'POST', '/api/2.0/mlflow/experiments/set-experiment-tag', {
    experiment_id: experimentId,
    key: 'mlflow.experimentKind',
    value: 'custom_model_development',
  });
  const historyRun = await historyRunOf(s, experimentId);
  await seedMlflowStore(['runs', '--db', s.dbUri, '--experiment-id', experimentId, '--count', String(RUNS), '--metric-keys', String(METRIC_KEYS)]);
  await seedMlflowStore(['history', '--db', s.dbUri, '--run-id', historyRun, '--key', 'loss', '--points', String(POINTS)]);
  return { experimentId, historyRun };
}

interface Target {
  name: 'weir' | 'mlflow';
  server: Server;
  experimentId: string;
  historyRun: string;
}

/** Opens `url` in a fresh context and returns ms from navigation start until `ready` resolves. */
async function timeLoad(browser: Browser, t: Target, url: string, ready: (page: Page) => Promise<void>, watch?: (page: Page) => void): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  if (t.name === 'weir') {
    // Signed in the way the UI keeps a pasted token: in the tab's sessionStorage.
    await context.addInitScript(`sessionStorage.setItem('weir.token', ${JSON.stringify(t.server.token)})`);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(180_000);
  watch?.(page);
  try {
    const started = Date.now();
    await page.goto(url, { waitUntil: 'commit' });
    await ready(page);
    return Date.now() - started;
  } finally {
    await context.close();
  }
}

const newestRun = `r${RUNS - 1}`;

async function runsPage(browser: Browser, t: Target): Promise<number> {
  if (t.name === 'weir') {
    return timeLoad(browser, t, `${t.server.url}/experiments/${t.experimentId}`, async (page) => {
      await page.locator('.runs-body tr[data-run-id]').getByRole('link', { name: newestRun, exact: true }).waitFor();
    });
  }
  return timeLoad(browser, t, `${t.server.url}/#/experiments/${t.experimentId}/runs`, async (page) => {
    await page.getByText(newestRun, { exact: true }).first().waitFor();
  });
}

/** For Weir: how long the sampled-history request of the last chart load took (request start → response end). */
let lastHistoryApiMs: number | undefined;

async function chartPage(browser: Browser, t: Target): Promise<number> {
  if (t.name === 'weir') {
    let history: Promise<number> | undefined;
    const total = await timeLoad(
      browser,
      t,
      `${t.server.url}/experiments/${t.experimentId}/runs/${t.historyRun}`,
      async (page) => {
        await page.locator('[data-testid="metric-chart"] path.series[data-points]').first().waitFor();
      },
      (page) => {
        history = page
          .waitForResponse((r) => r.url().includes('get-history-bulk-interval'))
          .then(async (r) => {
            await r.finished();
            const timing = r.request().timing();
            return Math.round(timing.responseEnd - timing.requestStart);
          });
      },
    );
    lastHistoryApiMs = history ? await history.catch(() => undefined) : undefined;
    return total;
  }
  // The run page's "Model metrics" tab, where MLflow 3 draws a run's metric charts (plotly).
  return timeLoad(browser, t, `${t.server.url}/#/experiments/${t.experimentId}/runs/${t.historyRun}/model-metrics`, async (page) => {
    await page.locator('.js-plotly-plot path.js-line').first().waitFor();
  });
}

const TOP_ACC = topAccRuns();
/** How long a sort may take before it counts as not finished (the table then says so instead of a time). */
const SORT_TIMEOUT_MS = 60_000;

/** Marks the first pointerdown from now on with the page's clock: the moment the user presses the sort control. */
async function armPressClock(page: Page): Promise<void> {
  // Page scripts are strings: this file is type-checked without the DOM library.
  await page.evaluate(`window.__pressedAt = undefined;
    document.addEventListener('pointerdown', () => { window.__pressedAt ??= performance.now(); }, { capture: true, once: true });`);
}

/** In-page expression: the run name shown in the first row of each UI's runs table. */
const FIRST_ROW_NAME = {
  // The virtual list's row at offset 0.
  weir: `[...document.querySelectorAll('.runs-body tr[data-run-id]')].find((r) => r.style.top === '0px')?.querySelector('a')?.textContent ?? undefined`,
  // ag-grid renders row 0 in several containers (pinned and scrolling columns); one of them holds the run name.
  mlflow: `[...document.querySelectorAll('.ag-row[row-index="0"]')].map((r) => r.innerText.split(/\\s+/).find((w) => /^r\\d+$/.test(w))).find(Boolean)`,
};

/** Waits (checking every animation frame) until the first row shown is a top-`acc` run; returns ms since the press. */
async function sortedWithin(page: Page, ui: 'weir' | 'mlflow'): Promise<number> {
  const handle = await page
    .waitForFunction(
      `(() => {
      const name = ${FIRST_ROW_NAME[ui]};
      return name !== undefined && ${JSON.stringify(TOP_ACC)}.includes(name) && window.__pressedAt !== undefined ? Math.max(0.001, performance.now() - window.__pressedAt) : false;
    })()`,
      undefined,
      { polling: 'raf', timeout: SORT_TIMEOUT_MS },
    )
    .catch(async (err: Error) => {
      const shown = await page.evaluate(FIRST_ROW_NAME[ui]).catch(() => undefined);
      throw new Error(`${ui}: no top-acc run in the first row after ${SORT_TIMEOUT_MS} ms (first row shows ${String(shown)}): ${err.message.split('\n')[0]}`);
    });
  return Math.round((await handle.jsonValue()) as number);
}

/** Loads the runs page, then times sorting it by the `acc` metric (descending, each UI's first choice for a metric). */
async function sortByMetric(browser: Browser, t: Target): Promise<number> {
  let took = 0;
  if (t.name === 'weir') {
    await timeLoad(browser, t, `${t.server.url}/experiments/${t.experimentId}`, async (page) => {
      await page.locator('.runs-body tr[data-run-id]').getByRole('link', { name: newestRun, exact: true }).waitFor();
      await armPressClock(page);
      // The sort button in the metric's column header.
      await page.getByRole('button', { name: 'acc', exact: true }).click();
      took = await sortedWithin(page, 'weir');
    });
    return took;
  }
  await timeLoad(browser, t, `${t.server.url}/#/experiments/${t.experimentId}/runs`, async (page) => {
    await page.getByText(newestRun, { exact: true }).first().waitFor();
    // MLflow's runs page sorts through its "Sort" menu, which lists every metric; opening the menu is not timed.
    await page.getByTestId('sort-select-dropdown').click();
    await page.getByTestId('sort-select-acc').waitFor();
    await armPressClock(page);
    await page.getByTestId('sort-select-acc').click();
    took = await sortedWithin(page, 'mlflow');
  });
  return took;
}

/** A sort figure for the table: the median, or a note that the sort never showed the sorted rows. */
const sortCell = (xs: number[]) => {
  const done = xs.filter(Number.isFinite);
  return done.length === 0
    ? `> ${SORT_TIMEOUT_MS} (not finished)`
    : `${median(done)}${done.length < xs.length ? ` (${xs.length - done.length} not finished)` : ''}`;
};
const ratio = (mlflow: number[], weir: number[]) => {
  const m = mlflow.filter(Number.isFinite);
  const w = weir.filter(Number.isFinite);
  if (w.length === 0) return 'n/a';
  return m.length === 0 ? `> ${(SORT_TIMEOUT_MS / median(w)).toFixed(0)}×` : `${(median(m) / median(w)).toFixed(1)}×`;
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main() {
  mkdirSync(OUT, { recursive: true });
  if (DATA) mkdirSync(DATA, { recursive: true });
  const work = DATA ?? mkdtempSync(join(os.tmpdir(), 'weir-bench-ui-'));
  const seeded = readSeeded(work);
  const servers: Server[] = [];
  const browser = await launchBrowser();
  const results: Record<string, { runsPage: number[]; chart: number[]; sort: number[]; chartHistoryApi?: number[] }> = {};
  try {
    const t0 = Date.now();
    // Both stores are filled at the same time (Weir through REST, MLflow by its bulk seeder) to halve the wait.
    const targets: Target[] = await Promise.all(
      UIS.map(async (name): Promise<Target> => {
        const server = await start(name, join(work, name));
        servers.push(server);
        let ids = seeded[name];
        if (ids) {
          log(`${name}: reusing the store seeded in ${work}`);
        } else {
          log(
            `seeding ${name} (${name === 'weir' ? 'REST' : "bulk insert with MLflow's models"}): ${RUNS} runs × ${METRIC_KEYS} metrics, ${POINTS}-point metric`,
          );
          ids = await (name === 'weir' ? seedWeir(server) : seedMlflow(server as Server & { dbUri: string })).catch((err: Error) => {
            throw new Error(`${err.message}${DATA ? ` (a run stopped while seeding leaves ${join(work, name)} half-seeded: remove it)` : ''}`);
          });
          log(`seeded ${name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
          // Recorded only once the seeding finished, so a half-seeded store is never reused.
          seeded[name] = ids;
          if (DATA) writeFileSync(join(work, 'seeded.json'), `${JSON.stringify(seeded, null, 2)}\n`);
        }
        return { name, server, ...ids };
      }),
    );
    const sortFailed = new Set<string>();
    for (const t of targets) {
      // One unmeasured load warms each server's caches and Chromium's, as a returning user would have them.
      await runsPage(browser, t);
      // The first chart of a series is logged apart: Weir builds the series' per-step index on it (a fresh store's
      // first view pays that once; later views, and these measured ones, read the index).
      log(`${t.name}: first chart view ${await chartPage(browser, t)} ms`);
      results[t.name] = { runsPage: [], chart: [], sort: [] };
      try {
        await sortByMetric(browser, t);
      } catch (err) {
        // A sort that does not finish is a result too: recorded, and not repeated.
        log(`${t.name}: warm-up sort did not finish: ${(err as Error).message}`);
        sortFailed.add(t.name);
      }
    }
    // Alternate the servers so background load on the shared machine hits both alike.
    for (let i = 0; i < REPEAT; i++) {
      for (const t of targets) {
        const r = results[t.name] as { runsPage: number[]; chart: number[]; sort: number[] };
        r.runsPage.push(await runsPage(browser, t));
        r.chart.push(await chartPage(browser, t));
        if (!sortFailed.has(t.name)) r.sort.push(await sortByMetric(browser, t).catch(() => Number.NaN));
        const api = t.name === 'weir' ? lastHistoryApiMs : undefined;
        if (api !== undefined) (results.weir as { chartHistoryApi?: number[] }).chartHistoryApi = [...(results.weir?.chartHistoryApi ?? []), api];
        log(
          `${t.name} #${i + 1}: runs page ${r.runsPage.at(-1)} ms, sort by acc ${r.sort.at(-1)} ms, chart ${r.chart.at(-1)} ms${api !== undefined ? ` (of which the sampled-history request ${api} ms)` : ''}`,
        );
      }
    }
  } finally {
    await browser.close();
    for (const s of servers) await s.stop();
    if (!DATA) rmSync(work, { recursive: true, force: true });
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  if (UIS.length === 1) {
    const r = results[UIS[0] as string] as { runsPage: number[]; chart: number[]; sort: number[]; chartHistoryApi?: number[] };
    const one = `${UIS[0]} UI (median of ${REPEAT}, ms): runs page ${median(r.runsPage)}, sort by acc ${sortCell(r.sort)}, chart ${median(r.chart)}${r.chartHistoryApi?.length ? ` (sampled-history request ${median(r.chartHistoryApi)})` : ''}`;
    writeFileSync(
      join(OUT, `results-${stamp}.json`),
      JSON.stringify({ runs: RUNS, metricKeys: METRIC_KEYS, points: POINTS, repeat: REPEAT, results }, null, 2),
    );
    console.log(one);
    return;
  }
  const w = results.weir as { runsPage: number[]; chart: number[]; sort: number[] };
  const m = results.mlflow as { runsPage: number[]; chart: number[]; sort: number[] };
  const lines = [
    `| measure (median of ${REPEAT}, ms) | MLflow UI | Weir UI | MLflow / Weir |`,
    '| --- | ---: | ---: | ---: |',
    `| runs page, ${RUNS.toLocaleString('en-US')} runs × ${METRIC_KEYS} metrics: newest run visible | ${median(m.runsPage)} | ${median(w.runsPage)} | ${(median(m.runsPage) / median(w.runsPage)).toFixed(1)}× |`,
    `| sort by a metric (acc): press → first sorted row shown | ${sortCell(m.sort)} | ${sortCell(w.sort)} | ${ratio(m.sort, w.sort)} |`,
    `| run chart, ${POINTS.toLocaleString('en-US')}-point metric drawn | ${median(m.chart)} | ${median(w.chart)} | ${(median(m.chart) / median(w.chart)).toFixed(1)}× |`,
  ];
  writeFileSync(join(OUT, `results-${stamp}.json`), JSON.stringify({ runs: RUNS, metricKeys: METRIC_KEYS, points: POINTS, repeat: REPEAT, results }, null, 2));
  writeFileSync(join(OUT, `results-${stamp}.md`), `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

await main();

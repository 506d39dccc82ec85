// End-to-end: the built web UI served by a real Weir server, driven in Debian's Chromium.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../apps/server/src/testing/test-server.ts';
import { launchBrowser, seriousAxeViolations, snap, withScreenshotOnFailure } from './browser.ts';

const DIST = path.resolve(import.meta.dirname, '../../apps/web/dist');
const RUN_COUNT = 10_000;
const USER = { name: 'grace@example.com', password: 'analytical engine' };

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await task(item);
      }
    }),
  );
}

describe('web UI in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let bigExperiment: string;
  let curvesExperiment: string;
  const curveRuns: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(DIST, 'index.html')))
      throw new Error('apps/web/dist is missing: run `npm run build -w @weir/web` (npm run test:e2e does it).');
    process.env.WEIR_WEB_DIST = DIST;
    s = await startTestServer({ name: 'sqlite' });
    delete process.env.WEIR_WEB_DIST;
    browser = await launchBrowser();
    expect((await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: USER.name, password: USER.password })).status).toBe(201);

    bigExperiment = (await s.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'sweep-10k' })).body.experiment_id;
    const indexes = Array.from({ length: RUN_COUNT }, (_, i) => i);
    await pool(indexes, 16, async (i) => {
      const created = await s.call('POST', '/api/2.0/mlflow/runs/create', {
        experiment_id: bigExperiment,
        run_name: `trial-${String(i).padStart(5, '0')}`,
        start_time: 1_700_000_000_000 + i,
      });
      if (created.status !== 200) throw new Error(`runs/create answered ${created.status}: ${created.text}`);
      const runId = created.body.run.info.run_id as string;
      const batch = await s.call('POST', '/api/2.0/mlflow/runs/log-batch', {
        run_id: runId,
        params: [
          { key: 'seed', value: String(i) },
          { key: 'optimizer', value: i % 2 ? 'adam' : 'sgd' },
        ],
        metrics: [{ key: 'accuracy', value: (i % 1000) / 1000, timestamp: 1_700_000_000_000 + i, step: 0 }],
      });
      if (batch.status !== 200) throw new Error(`log-batch answered ${batch.status}: ${batch.text}`);
    });

    curvesExperiment = (await s.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'curves' })).body.experiment_id;
    for (const [n, lr] of [
      [1, '0.1'],
      [2, '0.01'],
      [3, '0.001'],
    ] as const) {
      const created = await s.call('POST', '/api/2.0/mlflow/runs/create', {
        experiment_id: curvesExperiment,
        run_name: `curve-${n}`,
        start_time: 1_700_000_000_000,
      });
      const runId = created.body.run.info.run_id as string;
      curveRuns.push(runId);
      const metrics = Array.from({ length: 200 }, (_, step) => ({
        key: 'loss',
        value: 1 / (1 + step * Number(lr) * 10) + n * 0.01,
        timestamp: 1_700_000_000_000 + step * 1000,
        step,
      }));
      const logged = await s.call('POST', '/api/2.0/mlflow/runs/log-batch', {
        run_id: runId,
        params: [
          { key: 'lr', value: lr },
          { key: 'batch_size', value: '64' },
        ],
        metrics,
      });
      expect(logged.status).toBe(200);
    }
    for (const experimentId of [bigExperiment, curvesExperiment]) {
      const granted = await s.call('PATCH', `/api/2.0/permissions/experiments/${experimentId}`, {
        access_control_list: [{ user_name: USER.name, permission_level: 'CAN_EDIT' }],
      });
      expect(granted.status).toBe(200);
    }
    const artifactPath = `/api/2.0/mlflow-artifacts/artifacts/${curvesExperiment}/${curveRuns[0]}/artifacts/notes/summary.json`;
    const upload = await fetch(`${s.url}${artifactPath}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.adminToken}` },
      body: JSON.stringify({ best_loss: 0.0123, note: 'artifact preview marker' }),
    });
    expect(upload.status).toBe(200);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return { context, page };
  }

  async function signInWithPassword(page: Page, user = USER) {
    await page.goto(s.url);
    await page.getByLabel('User name').fill(user.name);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
  }

  async function signInWithToken(page: Page, token: string) {
    await page.goto(s.url);
    await page.getByRole('button', { name: 'Access token' }).click();
    await page.getByLabel('Personal access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
  }

  it('signs in with a password, passes axe on the login and experiments pages, and signs out', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'login', async () => {
      await page.goto(s.url);
      await page.getByRole('heading', { name: 'Sign in to Weir' }).waitFor();
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '01-login');

      await page.getByLabel('User name').fill(USER.name);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid user name or password.');

      await page.getByLabel('Password').fill(USER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Experiments' }).waitFor();
      await page.getByRole('link', { name: 'sweep-10k' }).waitFor();
      expect(await page.getByText(`Signed in as ${USER.name}`).count()).toBe(1);
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'weir_session');
      expect(session?.httpOnly).toBe(true);
      expect(session?.sameSite).toBe('Strict');
      // A non-admin sees no admin entry in the navigation.
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count()).toBe(0);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '02-experiments');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Weir' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in to Weir' }).waitFor();
    });
    await context.close();
  });

  it(`finds one run by filter among ${RUN_COUNT.toLocaleString()}, with key autocomplete`, async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'filter', async () => {
      await signInWithPassword(page);
      await page.getByRole('link', { name: 'sweep-10k' }).click();
      await page.getByRole('heading', { name: 'sweep-10k' }).waitFor();
      await page.getByText('500 runs loaded (scroll for more)').waitFor();
      // Virtualized: far fewer rows in the DOM than loaded.
      const rendered = await page.locator('.runs-body tr[data-run-id]').count();
      expect(rendered).toBeGreaterThan(5);
      expect(rendered).toBeLessThan(100);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '03-runs');

      const box = page.getByRole('combobox', { name: 'Filter runs' });
      await box.click();
      await box.pressSequentially('see');
      await page.getByRole('option', { name: 'params.seed' }).waitFor();
      await snap(page, '04-autocomplete');
      await box.press('Tab');
      await box.pressSequentially("= '7777'");
      expect(await box.inputValue()).toBe("params.seed = '7777'");
      await box.press('Enter');
      await page.getByText('1 run loaded', { exact: true }).waitFor();
      const rows = page.locator('.runs-body tr[data-run-id]');
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain('trial-07777');
      await snap(page, '05-filtered');

      await box.fill('metrics.accuracy >');
      await box.press('Enter');
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Could not load runs: .+INVALID_PARAMETER_VALUE/);
    });
    await context.close();
  });

  it('sorts by a metric on the server', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'sort', async () => {
      await signInWithPassword(page);
      await page.goto(`${s.url}/experiments/${bigExperiment}`);
      await page.getByText('500 runs loaded (scroll for more)').waitFor();
      const sortButton = page.getByRole('columnheader', { name: /accuracy/ }).getByRole('button');
      await sortButton.click();
      await expect.poll(() => page.locator('th[aria-sort="descending"]').textContent()).toContain('accuracy');
      await sortButton.click();
      await expect.poll(() => page.locator('th[aria-sort="ascending"]').textContent()).toContain('accuracy');
      // Ascending by accuracy puts the runs whose seed is a multiple of 1000 (accuracy 0) first, which no default order does.
      const firstRow = page.locator('.runs-body tr[data-run-id]').first();
      await expect.poll(() => firstRow.locator('.metric').first().textContent()).toBe('0');
      expect(await firstRow.textContent()).toMatch(/trial-\d{2}000/);
      await snap(page, '05b-sorted');

      await page.getByLabel('Group by param').selectOption('optimizer');
      // The 500 least accurate runs are seeds with i % 1000 < 50: half of them even (sgd), half odd (adam).
      const groups = page.locator('.runs-body tr.group-row');
      await expect.poll(() => groups.first().textContent()).toBe('optimizer = sgd (250 runs)');
      // Rows are virtualized, so only the first group's runs are in view: every one of them is sgd.
      const rowTexts = await page.locator('.runs-body tr[data-run-id]').allTextContents();
      expect(rowTexts.length).toBeGreaterThan(5);
      for (const text of rowTexts) {
        expect(text).toContain('sgd');
        expect(text).not.toContain('adam');
      }

      await page.getByText(/^Columns \(\d+\)$/).click();
      expect(await page.getByRole('columnheader', { name: 'seed' }).count()).toBe(1);
      await page.getByRole('checkbox', { name: 'params.seed' }).uncheck();
      expect(await page.getByRole('columnheader', { name: 'seed' }).count()).toBe(0);
      await snap(page, '05c-grouped');
    });
    await context.close();
  });

  it('compares three runs: their metric curves, parallel coordinates and a diff hiding identical params', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'compare', async () => {
      await signInWithPassword(page);
      await page.goto(`${s.url}/experiments/${curvesExperiment}`);
      for (const n of [1, 2, 3]) await page.getByRole('checkbox', { name: `Select run curve-${n}` }).check();
      await page.getByRole('button', { name: 'Compare 3 runs' }).click();
      await page.getByRole('heading', { name: 'Compare 3 runs' }).waitFor();
      const chart = page.getByTestId('metric-chart');
      await chart.waitFor();
      const paths = chart.locator('path.series');
      expect(await paths.count()).toBe(3);
      for (let i = 0; i < 3; i++) {
        expect(Number(await paths.nth(i).getAttribute('data-points'))).toBeGreaterThan(100);
        expect(await paths.nth(i).getAttribute('data-run-id')).toBe(curveRuns[i]);
      }
      await page.getByTestId('parallel-coordinates').waitFor();
      const diff = page.locator('table.diff');
      expect(await diff.getByRole('rowheader', { name: 'params.lr' }).count()).toBe(1);
      expect(await diff.getByRole('rowheader', { name: 'params.batch_size' }).count()).toBe(0);
      await page.getByLabel('Hide rows where every run has the same value').uncheck();
      expect(await diff.getByRole('rowheader', { name: 'params.batch_size' }).count()).toBe(1);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '06-compare');

      await page.getByLabel('Smoothing').selectOption('exponential');
      await page.getByLabel('X axis').selectOption('relative');
      await page.getByLabel('Log scale').check();
      await page.getByText('Seconds since first point (log y)').waitFor();
      await snap(page, '07-compare-smoothed');
    });
    await context.close();
  });

  it('shows a run with params, metrics and a JSON artifact preview', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'run-detail', async () => {
      await signInWithPassword(page);
      await page.goto(`${s.url}/experiments/${curvesExperiment}/runs/${curveRuns[0]}`);
      await page.getByRole('heading', { name: 'Run curve-1' }).waitFor();
      await page.getByRole('button', { name: /notes\// }).click();
      await page.getByRole('button', { name: 'summary.json' }).click();
      await page.getByText('artifact preview marker').waitFor();
      expect(await page.getByRole('link', { name: 'Download' }).getAttribute('download')).toBe('summary.json');
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '08-run-detail');
    });
    await context.close();
  });

  it('draws a 1,000,000-point metric downsampled to the pixels it has, from the full streamed history', async () => {
    const created = await s.call('POST', '/api/2.0/mlflow/runs/create', {
      experiment_id: curvesExperiment,
      run_name: 'million',
      start_time: 1_700_000_000_000,
    });
    const runId = created.body.run.info.run_id as string;
    const batches = Array.from({ length: 1000 }, (_, b) => b);
    await pool(batches, 4, async (b) => {
      const metrics = Array.from({ length: 1000 }, (_, i) => {
        const step = b * 1000 + i;
        return { key: 'signal', value: step === 654_321 ? 50 : Math.sin(step / 5000), timestamp: 1_700_000_000_000 + step, step };
      });
      const res = await s.call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics });
      if (res.status !== 200) throw new Error(`log-batch answered ${res.status}: ${res.text}`);
    });
    const { context, page } = await newPage();
    page.setDefaultTimeout(90_000);
    await withScreenshotOnFailure(page, 'million-points', async () => {
      await signInWithPassword(page);
      await page.goto(`${s.url}/experiments/${curvesExperiment}/runs/${runId}`);
      const chart = page.getByTestId('metric-chart');
      await chart.waitFor();
      // The sampled view asks the server for at most 2,500 steps.
      expect(Number(await chart.locator('path.series').getAttribute('data-points'))).toBeLessThanOrEqual(2500);
      await page.getByLabel('Data').selectOption('full');
      await page.getByRole('cell', { name: '1,000,000' }).waitFor();
      const drawn = Number(await chart.locator('path.series').getAttribute('data-points'));
      expect(drawn).toBeGreaterThan(100);
      expect(drawn).toBeLessThanOrEqual(2 * 720);
      // The one spike among a million points survives downsampling: max is 50 in the legend and on the y axis.
      expect(await page.locator('table.legend td').nth(1).textContent()).toBe('50');
      await snap(page, '13-million-points');
    });
    await context.close();
  }, 600_000);

  it("shows the server's message for refused actions: a duplicate experiment and a non-admin on the users page", async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'refused', async () => {
      await signInWithPassword(page);
      await page.getByLabel('New experiment name').fill('sweep-10k');
      await page.getByRole('button', { name: 'Create experiment' }).click();
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toMatch(/Could not create the experiment: .*sweep-10k.*already exists.*RESOURCE_ALREADY_EXISTS/);
      await snap(page, '09-duplicate-experiment');

      await page.goto(`${s.url}/admin/users`);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Only workspace admins may do this. (PERMISSION_DENIED)');
      await snap(page, '10-non-admin-users');
    });
    await context.close();
  });

  it('lets an admin signed in with a token create and delete a user and create and revoke a token', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'admin', async () => {
      await signInWithToken(page, s.adminToken);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      await page.getByLabel('User name').fill('linus');
      await page.getByLabel(/^Password/).fill('short');
      await page.getByRole('button', { name: 'Create user' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('The server refused');
      await page.getByLabel(/^Password/).fill('long enough password');
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('rowheader', { name: 'linus' }).waitFor();
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '11-users');
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Delete user linus' }).click();
      await page.getByText('Deleted linus.').waitFor();
      expect((await s.call('GET', '/api/2.0/preview/scim/v2/Users', { filter: 'userName eq "linus"' })).body.totalResults).toBe(0);

      await page.getByRole('link', { name: 'Tokens' }).click();
      await page.getByLabel('Comment').fill('e2e laptop');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = await page.getByTestId('new-token').textContent();
      expect(secret).toMatch(/^dapi[0-9a-f]+$/);
      expect((await s.call('GET', '/api/2.0/token/list', undefined, secret)).status).toBe(200);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '12-tokens');
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Revoke token e2e laptop' }).click();
      await expect.poll(() => page.getByRole('rowheader', { name: 'e2e laptop' }).count()).toBe(0);
      await expect.poll(async () => (await s.call('GET', '/api/2.0/token/list', undefined, secret)).status).toBe(401);
    });
    await context.close();
  });
});

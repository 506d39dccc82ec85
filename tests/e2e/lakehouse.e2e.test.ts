// End-to-end: the models, catalog, SQL, serving, lineage, groups and audit pages of the built web UI, served by a
// real Weir server (real DuckDB, real onnxruntime) and driven in Debian's Chromium.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearOnnxModel } from '../../apps/server/src/domains/serving/serving.onnx-fixture.ts';
import { startTestServer, type TestServer } from '../../apps/server/src/testing/test-server.ts';
import { launchBrowser, seriousAxeViolations, snap, withScreenshotOnFailure } from './browser.ts';

const DIST = path.resolve(import.meta.dirname, '../../apps/web/dist');
const USER = { name: 'grace@example.com', password: 'analytical engine' };
const MODEL = 'fraud_scorer';
const FULL_MODEL = `main.default.${MODEL}`;

/** An MLmodel with an onnx flavor, a column signature a, b, c (doubles) and a split-orient input example. */
const MLMODEL = `artifact_path: model
flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
mlflow_version: 3.1.0
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}, {"type": "double", "name": "c", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
  params: null
`;

/** Waits for a server-side condition in setup (expect.poll only works inside tests); gives up after a minute. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('The server did not reach the expected state within a minute.');
}

describe('lakehouse pages in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  const runIds: string[] = [];

  async function sql(statement: string) {
    const res = await s.call('POST', '/api/2.0/sql/statements', { statement, warehouse_id: 'e2e', wait_timeout: '30s' });
    if (res.status !== 200 || res.body.status.state !== 'SUCCEEDED') throw new Error(`${statement}: ${res.text}`);
    return res.body;
  }

  /** Logs an ONNX model to a new run through the artifact proxy and registers it as the next version of MODEL. */
  async function registerVersion(experimentId: string, weights: number[], bias: number): Promise<string> {
    const run = (
      await s.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: `train-${runIds.length + 1}`, start_time: Date.now() })
    ).body.run.info;
    runIds.push(run.run_id);
    const base = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
    const files: Record<string, Buffer | string> = {
      MLmodel: MLMODEL,
      'model.onnx': linearOnnxModel(weights, bias),
      'input_example.json': JSON.stringify({ columns: ['a', 'b', 'c'], data: [[1, 2, 3]] }),
    };
    for (const [file, body] of Object.entries(files)) {
      const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/model/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body: typeof body === 'string' ? Buffer.from(body) : body,
      });
      expect(res.status).toBe(200);
    }
    const created = await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: `runs:/${run.run_id}/model`, run_id: run.run_id });
    expect(created.status, created.text).toBe(200);
    const version = String(created.body.model_version.version);
    await until(async () => (await s.call('GET', '/api/2.0/mlflow/model-versions/get', { name: MODEL, version })).body.model_version.status === 'READY');
    return version;
  }

  beforeAll(async () => {
    if (!fs.existsSync(path.join(DIST, 'index.html')))
      throw new Error('apps/web/dist is missing: run `npm run build -w @weir/web` (npm run test:e2e does it).');
    process.env.WEIR_WEB_DIST = DIST;
    s = await startTestServer({ name: 'sqlite' });
    delete process.env.WEIR_WEB_DIST;
    browser = await launchBrowser();
    expect((await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: USER.name, password: USER.password })).status).toBe(201);

    await sql('CREATE CATALOG lab');
    await sql('CREATE SCHEMA lab.raw');
    await sql("CREATE TABLE lab.raw.orders AS SELECT range AS id, range % 7 AS store, 'order-' || range AS label FROM range(250)");
    await sql("INSERT INTO lab.raw.orders VALUES (1000, 99, 'late-order')");
    await sql('CREATE TABLE lab.raw.store_totals AS SELECT store, count(*) AS n FROM lab.raw.orders GROUP BY store');
    const volume = await s.call('POST', '/api/2.1/unity-catalog/volumes', { catalog_name: 'lab', schema_name: 'raw', name: 'landing', volume_type: 'MANAGED' });
    expect(volume.status, volume.text).toBe(200);

    const experimentId = (await s.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'fraud-training' })).body.experiment_id as string;
    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL, description: 'Scores card transactions' })).status).toBe(200);
    await registerVersion(experimentId, [1, 2, 3], 0.5);
    await registerVersion(experimentId, [-1, 0, 4], 10);
    // grace may read the model (and its runs) but not change it.
    const modelId = (await s.call('GET', '/api/2.0/mlflow/registered-models/get', { name: MODEL })).body.registered_model.id as string;
    expect(
      (
        await s.call('PATCH', `/api/2.0/permissions/registered-models/${modelId}`, {
          access_control_list: [{ user_name: USER.name, permission_level: 'CAN_READ' }],
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await s.call('PATCH', `/api/2.0/permissions/experiments/${experimentId}`, {
          access_control_list: [{ user_name: USER.name, permission_level: 'CAN_READ' }],
        })
      ).status,
    ).toBe(200);

    const endpoint = await s.call('POST', '/api/2.0/serving-endpoints', {
      name: 'fraud-live',
      config: { served_entities: [{ name: 'v1', entity_name: MODEL, entity_version: '1' }] },
    });
    expect(endpoint.status, endpoint.text).toBe(200);
    await until(async () => (await s.call('GET', '/api/2.0/serving-endpoints/fraud-live')).body.state.ready === 'READY');
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

  async function signInAsAdmin(page: Page) {
    await page.goto(s.url);
    await page.getByRole('button', { name: 'Access token' }).click();
    await page.getByLabel('Personal access token').fill(s.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
  }

  async function signInAsGrace(page: Page) {
    await page.goto(s.url);
    await page.getByLabel('User name').fill(USER.name);
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
  }

  const main = (page: Page) => page.getByRole('navigation', { name: 'Main' });

  it('finds a model, reads a version (signature, source run) and promotes it to an alias after confirming', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'models', async () => {
      await signInAsAdmin(page);
      await main(page).getByRole('link', { name: 'Models' }).click();
      await page.getByRole('heading', { name: 'Models' }).waitFor();
      await page.getByLabel('Search models by name').fill('SCORER');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: MODEL }).waitFor();
      expect(await page.getByRole('link', { name: 'Version 2' }).count()).toBe(1);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '20-models');
      await page.getByLabel('Search models by name').fill('no-such-model');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText('No model name contains “no-such-model”').waitFor();
      await page.getByLabel('Search models by name').fill('');
      await page.getByRole('button', { name: 'Search' }).click();

      await page.getByRole('link', { name: MODEL }).click();
      await page.getByRole('heading', { name: `Model ${MODEL}` }).waitFor();
      await page.getByText('Scores card transactions').waitFor();
      await page.getByRole('link', { name: 'train-1' }).waitFor();
      expect(await seriousAxeViolations(page)).toEqual([]);
      await page.getByRole('link', { name: 'Version 1' }).first().click();

      await page.getByRole('heading', { name: `${MODEL} version 1` }).waitFor();
      const inputs = page.locator('table', { has: page.locator('caption', { hasText: 'Inputs' }) });
      expect(await inputs.getByRole('rowheader').allTextContents()).toEqual(['a', 'b', 'c']);
      expect(await page.getByRole('link', { name: 'train-1' }).getAttribute('href')).toContain(`/runs/${runIds[0]}`);
      await page.getByText(FULL_MODEL).first().waitFor();
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '21-model-version');

      // The alias box refuses a reserved name before asking the server.
      await page.getByLabel('Alias to point at this version').fill('latest');
      expect(await page.getByRole('button', { name: /Promote to/ }).isDisabled()).toBe(true);
      await page.getByLabel('Alias to point at this version').fill('champion');
      // Dismissing the confirmation changes nothing.
      page.once('dialog', (d) => void d.dismiss());
      await page.getByRole('button', { name: 'Promote to @champion' }).click();
      expect((await s.call('GET', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'champion' })).status).toBe(404);
      let question = '';
      page.once('dialog', (d) => {
        question = d.message();
        void d.accept();
      });
      await page.getByRole('button', { name: 'Promote to @champion' }).click();
      await page.getByText('Version 1 is now @champion.').waitFor();
      expect(question).toContain('Promote version 1');
      const alias = await s.call('GET', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'champion' });
      expect(alias.body.model_version.version).toBe('1');

      // Moving the alias from the model page names where it points now.
      await page.getByRole('link', { name: `← Model ${MODEL}` }).click();
      await page.getByRole('rowheader', { name: '@champion' }).waitFor();
      await page.getByLabel('Alias', { exact: true }).fill('champion');
      await page.getByLabel('Version', { exact: true }).selectOption('2');
      page.once('dialog', (d) => {
        question = d.message();
        void d.accept();
      });
      await page.getByRole('button', { name: 'Set alias' }).click();
      await page.getByText('@champion now points at version 2.').waitFor();
      expect(question).toContain('from version 1 to version 2');
      expect((await s.call('GET', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'champion' })).body.model_version.version).toBe('2');
      await snap(page, '22-model-aliases');
    });
    await context.close();
  });

  it("shows the server's message when a reader tries to promote a version", async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'models-refused', async () => {
      await signInAsGrace(page);
      await page.goto(`${s.url}/models/${MODEL}/versions/1`);
      await page.getByRole('heading', { name: `${MODEL} version 1` }).waitFor();
      await page.getByText('Promoting needs CAN_EDIT on the model; the server checks it.').waitFor();
      await page.getByLabel('Alias to point at this version').fill('shadow');
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Promote to @shadow' }).click();
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toMatch(/The server refused: User 'grace@example.com' does not have permission to edit registered model .*fraud_scorer.*PERMISSION_DENIED/);
      expect((await s.call('GET', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'shadow' })).status).toBe(404);
      await snap(page, '23-promote-refused');
    });
    await context.close();
  });

  it('browses the catalog tree to a table: columns, sample rows, history and a past version', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'catalog', async () => {
      await signInAsAdmin(page);
      await main(page).getByRole('link', { name: 'Catalog' }).click();
      await page.getByText('Choose a catalog').waitFor();
      const tree = page.getByRole('navigation', { name: 'Catalog tree' });
      await tree.getByRole('button', { name: 'Expand catalog lab' }).click();
      await tree.getByRole('button', { name: 'Expand schema lab.raw' }).click();
      await tree.getByRole('link', { name: 'landing' }).waitFor();
      expect(await seriousAxeViolations(page)).toEqual([]);
      await tree.getByRole('link', { name: 'orders' }).click();
      await page.getByRole('heading', { name: 'Table lab.raw.orders' }).waitFor();
      expect(await page.getByRole('rowheader').allTextContents()).toEqual(['id', 'store', 'label']);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '24-table');

      await page.getByRole('tab', { name: 'Sample rows' }).click();
      const grid = page.getByRole('table', { name: 'Rows of lab.raw.orders' });
      await grid.waitFor();
      expect(await grid.locator('tr[data-row-index="0"] td').allTextContents()).toEqual(['0', '0', 'order-0']);
      expect(await seriousAxeViolations(page)).toEqual([]);

      await page.getByRole('tab', { name: 'History' }).click();
      const history = page.locator('table.history');
      await history.getByRole('rowheader', { name: '1', exact: true }).waitFor();
      expect(await history.getByRole('rowheader').allTextContents()).toEqual(['1', '0']);
      expect(await history.textContent()).toContain('WRITE');
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '25-history');

      // Version 0 predates the INSERT: the late order is not there; the current version has it.
      await page.getByRole('button', { name: 'View rows at version 0' }).click();
      await page.getByText('Showing version 0 (time travel).').waitFor();
      await grid.waitFor();
      expect(await grid.getAttribute('aria-rowcount')).toBe('101');
      await page.getByRole('button', { name: 'Show the current version' }).click();
      await page.getByText('The first 100 rows of the current version.').waitFor();
      const countNow = await s.call('POST', '/api/2.0/sql/statements', {
        statement: 'SELECT count(*) FROM lab.raw.orders VERSION AS OF 0 WHERE id = 1000',
        wait_timeout: '30s',
      });
      expect(countNow.body.result.data_array).toEqual([['0']]);
    });
    await context.close();
  });

  it('runs SQL with name completion, shows results and the server message for a bad statement, and cancels', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'sql', async () => {
      await signInAsAdmin(page);
      await main(page).getByRole('link', { name: 'SQL' }).click();
      await page.getByRole('heading', { name: 'SQL editor' }).waitFor();
      const editor = page.getByLabel('SQL statement');
      await editor.fill('');
      await editor.pressSequentially('SELECT store, count(*) AS n FROM la');
      await page.getByRole('option', { name: 'lab' }).waitFor();
      await editor.press('Tab');
      await editor.pressSequentially('.r');
      await page.getByRole('option', { name: 'raw' }).waitFor();
      await editor.press('Tab');
      await editor.pressSequentially('.st');
      await page.getByRole('option', { name: 'store_totals' }).waitFor();
      await editor.pressSequentially('x');
      await expect.poll(() => page.getByRole('option').count()).toBe(0);
      await editor.press('Backspace');
      await editor.press('Backspace');
      await editor.press('Backspace');
      await editor.pressSequentially('orders GROUP BY store ORDER BY store');
      expect(await editor.inputValue()).toBe('SELECT store, count(*) AS n FROM lab.raw.orders GROUP BY store ORDER BY store');
      await snap(page, '26-sql-typed');
      await editor.press('Control+Enter');
      const grid = page.getByRole('table', { name: 'Statement results' });
      await grid.waitFor();
      await page.getByText('8 rows in').waitFor();
      // 250 ids over 7 stores, plus the late order in store 99.
      expect(await grid.locator('tr[data-row-index="0"] td').allTextContents()).toEqual(['0', '36']);
      expect(await grid.locator('tr[data-row-index="7"] td').allTextContents()).toEqual(['99', '1']);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '27-sql-results');

      await editor.fill('SELECT nope FROM lab.raw.orders');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The statement failed: .*nope/);

      await editor.fill('SELECT count(*) FROM range(4000000000) a, range(1000) b');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await page.getByText(/Running|Queued/).waitFor();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByText('Canceled.', { exact: true }).waitFor();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('The statement was canceled.');

      // History keeps what ran; loading an entry puts it back in the editor.
      const history = page.locator('section', { has: page.getByRole('heading', { name: 'History' }) });
      expect(await history.getByText('SUCCEEDED, 8 rows').count()).toBe(1);
      await history.getByRole('button', { name: /Load statement into the editor: SELECT store/ }).click();
      expect(await editor.inputValue()).toContain('GROUP BY store');
    });
    await context.close();
  });

  it('pages a large result in chunks as the grid scrolls', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'sql-chunks', async () => {
      await signInAsAdmin(page);
      await page.goto(`${s.url}/sql?${new URLSearchParams({ q: "SELECT range AS n, repeat('x', 50) AS pad FROM range(150000)" })}`);
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await page.getByText(/150,000 rows in/).waitFor({ timeout: 60_000 });
      const status = page.getByText(/of 150,000 rows loaded/);
      await status.waitFor();
      const before = Number(((await status.textContent()) ?? '').split(' of ')[0]?.replace(/,/g, ''));
      expect(before).toBeLessThan(150_000);
      const rendered = await page.locator('[data-testid="result-scroller"] tr[data-row-index]').count();
      expect(rendered).toBeLessThan(60);
      // Each click (or scroll to the end) loads the next 4 MB chunk from result/chunks/{n}.
      let chunksLoaded = 0;
      while ((await page.getByText(/of 150,000 rows loaded/).count()) > 0 && chunksLoaded < 20) {
        const text = (await status.textContent()) ?? '';
        await page.getByRole('button', { name: 'Load more now' }).click();
        await expect.poll(async () => (await page.getByText(/of 150,000 rows loaded/).count()) === 0 || (await status.textContent()) !== text).toBe(true);
        chunksLoaded++;
      }
      expect(chunksLoaded).toBeGreaterThan(0);
      expect(await page.getByText(/of 150,000 rows loaded/).count()).toBe(0);
      const scroller = page.getByTestId('result-scroller');
      await scroller.evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      await page.locator('tr[data-row-index="149999"]').waitFor();
      expect(await page.locator('tr[data-row-index="149999"] td').first().textContent()).toBe('149999');
    });
    await context.close();
  }, 180_000);

  it('uploads a file into a volume and lists it', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'volume', async () => {
      await signInAsAdmin(page);
      await page.goto(`${s.url}/catalog/lab/raw/landing?kind=volume`);
      await page.getByRole('heading', { name: 'Volume lab.raw.landing' }).waitFor();
      await page.getByText('This folder is empty').waitFor();
      await page.getByLabel(/Files to upload/).setInputFiles({ name: 'batch-01.csv', mimeType: 'text/csv', buffer: Buffer.from('id,amount\n1,9.5\n') });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await page.getByText('Uploaded batch-01.csv.').waitFor();
      await page.getByRole('button', { name: 'Download batch-01.csv' }).waitFor();
      const onDisk = await fetch(`${s.url}/api/2.0/fs/files/Volumes/lab/raw/landing/batch-01.csv`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      expect(await onDisk.text()).toBe('id,amount\n1,9.5\n');
      // A second upload of the same name is refused unless replacing is asked for.
      await page.getByLabel(/Files to upload/).setInputFiles({ name: 'batch-01.csv', mimeType: 'text/csv', buffer: Buffer.from('changed') });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('already exists');
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '28-volume');
    });
    await context.close();
  });

  it('changes a grant on a table, and the grantee can then read it', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'grants', async () => {
      const before = await s.call(
        'POST',
        '/api/2.0/sql/statements',
        { statement: 'SELECT count(*) FROM lab.raw.orders', wait_timeout: '30s' },
        await graceToken(),
      );
      expect(before.body.status.state).toBe('FAILED');

      await signInAsAdmin(page);
      await page.goto(`${s.url}/catalog/lab/raw/orders`);
      await page.getByRole('tab', { name: 'Grants' }).click();
      await page.getByLabel('Add a user or group').fill(USER.name);
      await page.getByRole('button', { name: 'Add principal' }).click();
      await page.getByRole('checkbox', { name: `SELECT for ${USER.name}` }).check();
      await page.getByRole('button', { name: 'Save grants (1 change)' }).click();
      await page.getByText('Saved 1 change.').waitFor();
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '29-grants');
      const grants = await s.call('GET', `/api/2.1/unity-catalog/permissions/table/lab.raw.orders`);
      expect(grants.body.privilege_assignments).toContainEqual({ principal: USER.name, privileges: ['SELECT'] });
      // The catalog and schema still need USE_CATALOG / USE_SCHEMA for grace: granted through the same panel.
      for (const [type, name, privilege] of [
        ['catalog', 'lab', 'USE_CATALOG'],
        ['schema', 'lab.raw', 'USE_SCHEMA'],
      ] as const) {
        await page.goto(`${s.url}/catalog/${name.split('.').join('/')}`);
        await page.getByLabel('Add a user or group').fill(USER.name);
        await page.getByRole('button', { name: 'Add principal' }).click();
        await page.getByRole('checkbox', { name: `${privilege} for ${USER.name}` }).check();
        await page.getByRole('button', { name: 'Save grants (1 change)' }).click();
        await page.getByText('Saved 1 change.').waitFor();
        expect((await s.call('GET', `/api/2.1/unity-catalog/permissions/${type}/${name}`)).body.privilege_assignments).toContainEqual({
          principal: USER.name,
          privileges: [privilege],
        });
      }
      const after = await s.call(
        'POST',
        '/api/2.0/sql/statements',
        { statement: 'SELECT count(*) FROM lab.raw.orders', wait_timeout: '30s' },
        await graceToken(),
      );
      expect(after.body.result?.data_array).toEqual([['251']]);
    });
    await context.close();
  });

  let graceTokenValue: string | undefined;
  async function graceToken(): Promise<string> {
    if (graceTokenValue) return graceTokenValue;
    const basic = Buffer.from(`${USER.name}:${USER.password}`).toString('base64');
    const res = await fetch(`${s.url}/api/2.0/token/create`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: '{}' });
    graceTokenValue = ((await res.json()) as { token_value: string }).token_value;
    return graceTokenValue;
  }

  it('shows an endpoint with its traffic and queries it with a request built from the input example', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'endpoint', async () => {
      await signInAsAdmin(page);
      await main(page).getByRole('link', { name: 'Endpoints' }).click();
      await page.getByRole('heading', { name: 'Serving endpoints' }).waitFor();
      const row = page.getByRole('row', { name: /fraud-live/ });
      await row.waitFor();
      expect(await row.textContent()).toContain('READY');
      expect(await row.textContent()).toContain(`${FULL_MODEL} v1 100%`);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await page.getByRole('link', { name: 'fraud-live' }).click();
      await page.getByRole('heading', { name: 'Endpoint fraud-live' }).waitFor();
      const body = page.getByLabel(/Request body/);
      await expect.poll(() => body.inputValue()).toContain('dataframe_split');
      expect(JSON.parse(await body.inputValue())).toEqual({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3]] } });
      await page.getByRole('button', { name: 'Send request' }).click();
      const response = page.getByTestId('endpoint-response');
      await response.waitFor();
      // y = 1·1 + 2·2 + 3·3 + 0.5
      const predictions = (JSON.parse((await response.textContent()) ?? '{}') as { predictions: number[][] | number[] }).predictions.flat();
      expect(predictions[0]).toBeCloseTo(14.5, 4);
      await page.getByText(/answered by v1/).waitFor();
      await expect.poll(() => page.getByTestId('endpoint-totals').textContent(), { timeout: 15_000 }).toMatch(/^1 requests since/);

      await body.fill('{"dataframe_split": {"columns": ["a"], "data": [[1]]}}');
      await page.getByRole('button', { name: 'Send request' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The endpoint refused: .*\b[bc]\b/);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '30-endpoint');
    });
    await context.close();
  });

  it('opens a lineage graph from a model version and expands it', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'lineage', async () => {
      await signInAsAdmin(page);
      await page.goto(`${s.url}/catalog/lab/raw/orders`);
      await page.getByRole('link', { name: 'Lineage of lab.raw.orders' }).click();
      await page.getByRole('heading', { name: 'Lineage' }).waitFor();
      const graph = page.getByTestId('lineage-graph');
      await graph.waitFor();
      await graph.locator('[data-node-id="table:lab.raw.store_totals"]').waitFor();
      expect(await graph.locator('path.lineage-edge[data-source="table:lab.raw.orders"][data-target="table:lab.raw.store_totals"]').count()).toBe(1);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '31-lineage-table');

      await page.goto(`${s.url}/models/${MODEL}/versions/1`);
      await page.getByRole('link', { name: 'Open the lineage graph' }).click();
      await graph.waitFor();
      await graph.locator(`[data-node-id="run:${runIds[0]}"]`).waitFor();
      await graph.locator('[data-node-id="endpoint:fraud-live"]').waitFor();
      // Keyboard: focus the run node and expand it with Enter.
      await graph.locator(`[data-node-id="run:${runIds[0]}"]`).focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => graph.locator(`[data-node-id="run:${runIds[0]}"]`).getAttribute('aria-label')).toContain('(expanded)');
      await snap(page, '32-lineage-model');
    });
    await context.close();
  });

  it('lets an admin create a group and add and remove a member', async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'groups', async () => {
      await signInAsAdmin(page);
      await main(page).getByRole('link', { name: 'Groups' }).click();
      await page.getByRole('heading', { name: 'Groups' }).waitFor();
      await page.getByLabel('Group name').fill('fraud-team');
      await page.getByRole('button', { name: 'Create group' }).click();
      await page.getByText('Created group fraud-team.').waitFor();
      const card = page.locator('section', { has: page.getByRole('heading', { name: 'fraud-team' }) });
      await card.getByLabel('Add member to fraud-team').selectOption({ label: USER.name });
      await card.getByRole('button', { name: 'Add', exact: true }).click();
      await card.getByRole('button', { name: `Remove ${USER.name} from fraud-team` }).waitFor();
      const listed = await s.call('GET', '/api/2.0/preview/scim/v2/Groups', { filter: 'displayName eq "fraud-team"' });
      expect(listed.body.Resources[0].members.map((m: { display: string }) => m.display)).toEqual([USER.name]);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '33-groups');
      await card.getByRole('button', { name: `Remove ${USER.name} from fraud-team` }).click();
      await card.getByText('No members.').waitFor();
      const after = await s.call('GET', '/api/2.0/preview/scim/v2/Groups', { filter: 'displayName eq "fraud-team"' });
      expect(after.body.Resources[0].members ?? []).toEqual([]);
    });
    await context.close();
  });

  it("filters the audit log to a user's refused actions", async () => {
    const { context, page } = await newPage();
    await withScreenshotOnFailure(page, 'audit', async () => {
      await signInAsAdmin(page);
      await main(page).getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await page.getByLabel('User').fill('grace');
      await page.getByLabel('Outcome').selectOption('failure');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      const grid = page.getByRole('table', { name: 'Audit events' });
      await grid.waitFor();
      const texts = await grid.locator('tr[data-row-index]').allTextContents();
      expect(texts.length).toBeGreaterThan(0);
      for (const t of texts) {
        expect(t).toContain(USER.name);
        expect(t).toMatch(/40[13]/);
      }
      expect(texts.join('\n')).toMatch(/setRegisteredModelAlias|Alias/i);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await snap(page, '34-audit');
    });
    await context.close();
  });
});

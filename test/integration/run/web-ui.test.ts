import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { stackPaths } from '../../../scripts/stack/paths.ts';
import { readStackInfo } from '../../../scripts/stack/stack-info.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// A person starts a backup from the Temporal Web UI's "Start a Workflow" form with the documented one-JSON
// input, then finds it in the workflow list through a Cairn search attribute.
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(stackPaths().state, 'artifacts');

let fixture: TemporalFixture;
let serving: RunningWorker;
let browser: Browser;

before(async () => {
  serving = await runningWorker('web-ui', { blueprintDirs: [join(import.meta.dirname, '../../fixtures/run-blueprints')] });
  fixture = serving.fixture;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  await serving?.stop();
});

it('a backup started from the Web UI form completes and is found by its CairnTarget', async () => {
  const ui = readStackInfo(stackPaths())?.temporal.uiUrl ?? 'http://127.0.0.1:8233';
  const workflowId = `${fixture.taskQueue}-from-ui`;
  const target = `statefulset/shop/${fixture.taskQueue}`;
  const input = { blueprint: { name: 'sleepy' }, target };
  await mkdir(ARTIFACTS, { recursive: true });

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${ui}/namespaces/${fixture.namespace}/workflows/start-workflow`);
  await page.fill('#workflowId', workflowId);
  await page.fill('#taskQueue', fixture.taskQueue);
  await page.fill('#workflowType', 'backup');
  await page.locator('.cm-content').first().click();
  await page.keyboard.insertText(JSON.stringify(input));
  // Leaving the editor makes the form reformat the JSON (and move the button): do that before clicking.
  await page.getByRole('heading', { name: 'Start a Workflow' }).click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(ARTIFACTS, 'web-ui-start-form.png') });
  await page.getByRole('button', { name: 'Start Workflow' }).click();
  await page.getByText('Workflow started successfully').waitFor({ timeout: 15_000 });

  const handle = fixture.client.workflow.getHandle(workflowId);
  for (let i = 0; i < 100; i++) {
    if (await handle.describe().then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const result = (await fixture.client.workflow.getHandle(workflowId).result()) as RunActionResult;
  assert.equal(result.outcome, 'succeeded');
  assert.equal(result.plan.action, 'backup');
  assert.equal(result.plan.target, target);

  const query = encodeURIComponent(`CairnTarget="${target}"`);
  let listed = false;
  for (let i = 0; i < 20 && !listed; i++) {
    await page.goto(`${ui}/namespaces/${fixture.namespace}/workflows?query=${query}`);
    listed = await page.getByRole('link', { name: workflowId }).first().waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false);
  }
  await page.screenshot({ path: join(ARTIFACTS, 'web-ui-workflow-list.png') });
  assert.ok(listed, `the run appears in the UI's list filtered by CairnTarget (screenshot in ${ARTIFACTS})`);
  await page.getByRole('link', { name: workflowId }).first().click();
  await page.getByText('Completed').first().waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(ARTIFACTS, 'web-ui-workflow-completed.png') });
});

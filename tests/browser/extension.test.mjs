// The www page as a Chrome MV3 extension page: the package laid out as npm
// ships it (manifest.json, www/, js/, pkg/) loads unpacked in Chromium, the
// page instantiates the wasm under the extension CSP ('wasm-unsafe-eval'),
// keeps its state in chrome.storage.local and reaches the sandbox through
// the manifest's host permissions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET, sandbox } from '../js/helpers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the www page runs as an extension page: wasm under the extension CSP, state in chrome.storage', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wattbridge-extension-'));
  after(() => rm(dir, { recursive: true, force: true }));
  for (const part of ['manifest.json', 'www', 'js', 'pkg']) await cp(join(ROOT, part), join(dir, part), { recursive: true });
  const sb = await sandbox();

  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'wattbridge-profile-')), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--disable-extensions-except=${dir}`, `--load-extension=${dir}`],
  });
  after(() => context.close());

  // Find the extension's id on the extensions page, then open its page.
  const admin = await context.newPage();
  await admin.goto('chrome://extensions');
  const id = await admin.evaluate(async () => (await chrome.management.getAll()).find((e) => e.name === 'wattbridge')?.id);
  assert.ok(id, 'the unpacked extension loaded');
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`chrome-extension://${id}/www/index.html`);

  await page.fill('input[name=helloUrl]', sb.urls.energyid.helloUrl);
  await page.fill('input[name=provisioningKey]', SANDBOX_PROVISIONING_KEY);
  await page.fill('input[name=provisioningSecret]', SANDBOX_PROVISIONING_SECRET);
  await page.click('#connect');
  await page.locator('#claim-code').waitFor({ timeout: 10_000 });
  const claimUrl = await page.locator('#status a').getAttribute('href');
  assert.equal((await fetch(claimUrl)).status, 200);
  await page.click('#connect');
  await page.locator('#status', { hasText: 'Connected to record' }).waitFor({ timeout: 10_000 });
  await page.click('#send');
  await page.locator('#status', { hasText: 'Sent 1 reading(s)' }).waitFor({ timeout: 10_000 });
  assert.equal(sb.energyid.records()[0].readings.length, 1);

  // The default store of an extension page is chrome.storage.local, not localStorage.
  const stored = await page.evaluate(async () => ({ chrome: Object.keys(await chrome.storage.local.get(null)), local: Object.keys(localStorage) }));
  assert.ok(stored.chrome.some((key) => key.endsWith('energyid')), JSON.stringify(stored));
  assert.deepEqual(stored.local, []);
  assert.deepEqual(problems, []);
});

// The www page as a Chrome MV3 extension page: the package laid out as npm
// ships it (manifest.json, www/, js/, pkg/) loads unpacked in Chromium, the
// page instantiates the wasm under the extension CSP ('wasm-unsafe-eval'),
// keeps its state in chrome.storage.local and reaches the sandbox through
// the manifest's host permissions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET, sandbox } from '../js/helpers.mjs';
import { loadExtension } from './static.mjs';

test('the www page runs as an extension page: wasm under the extension CSP, state in chrome.storage', async () => {
  const sb = await sandbox();
  const { context, id } = await loadExtension();
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

// The www page as a Chrome MV3 extension page: the package laid out as npm
// ships it (manifest.json, www/ with its vendored uPlot, js/, pkg/) loads
// unpacked in Chromium, the page instantiates the wasm under the extension
// CSP ('wasm-unsafe-eval', no remote code), keeps its state in
// chrome.storage.local, reaches the sandbox through the manifest's host
// permissions and draws its charts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandbox } from '../js/helpers.mjs';
import { loadExtension, useSandbox, provision, watchProblems, useConsoToken } from './static.mjs';

test('the www page runs as an extension page: wasm under the extension CSP, state in chrome.storage, charts', async () => {
  const sb = await sandbox({ energyid: { uploadInterval: 0.2 } });
  const { context, id } = await loadExtension();
  assert.ok(id, 'the unpacked extension loaded');
  const page = await context.newPage();
  await page.setViewportSize({ width: 360, height: 600 }); // the popup's width
  const problems = watchProblems(page);
  // The page as the action popup opens it.
  await page.goto(`chrome-extension://${id}/www/index.html`);
  const popup = await page.evaluate(() => chrome.runtime.getManifest().action.default_popup);
  assert.equal(popup, 'www/index.html?view=popup');
  await page.goto(`chrome-extension://${id}/${popup}`);
  await useSandbox(page, sb);
  assert.equal(await page.evaluate(() => document.body.getBoundingClientRect().width), 360, 'the popup is 360 px wide');

  await provision(page);
  await page.locator('#claim-code').waitFor({ state: 'visible', timeout: 10_000 });
  const claimUrl = await page.getAttribute('#claim-link', 'href');
  assert.equal((await fetch(claimUrl)).status, 200);
  await page.locator('#energyid-state', { hasText: 'Connected to record' }).waitFor({ timeout: 15_000 });

  await useConsoToken(page);
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 60_000 });
  assert.ok(sb.energyid.records()[0].readings.some((r) => r.el !== undefined));
  const bars = await page.evaluate(() => document.querySelector('#chart-daily').uplot.data[1]);
  assert.equal(bars.length, 30);
  assert.ok(bars.every((kwh) => kwh > 0), JSON.stringify(bars));
  // At 360 px nothing is wider than the popup.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scroll at 360 px');

  // The default store of an extension page is chrome.storage.local, not localStorage.
  const stored = await page.evaluate(async () => ({ chrome: Object.keys(await chrome.storage.local.get(null)), local: Object.keys(localStorage) }));
  assert.ok(stored.chrome.some((key) => key.endsWith('energyid')), JSON.stringify(stored));
  assert.ok(stored.chrome.some((key) => key.endsWith('www/settings')), JSON.stringify(stored));
  assert.deepEqual(stored.local, []);
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

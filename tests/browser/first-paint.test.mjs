// The page paints what it drew last time straight from the store, before the
// wasm module has arrived (a slow network, a cold start): here the module is
// held back, and the cards, the charts and the table are already there, with
// Sync now waiting for the library; when the module comes, the page is drawn
// again from the library's answers, with the same numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wwwPage, useSandbox, useConsoToken } from './static.mjs';

const plotted = (page) => page.evaluate(() => document.querySelector('#chart-daily').uplot?.data);

test('a reload paints the last view from the store before the wasm arrives', async () => {
  const { sb, page, problems } = await wwwPage();
  await useSandbox(page, sb);
  await useConsoToken(page);
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 60_000 });
  const drawn = await plotted(page);
  const yesterday = await page.textContent('#linky-stats tr[data-period=yesterday]');

  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/wattbridge_bg.wasm', async (route) => { await held; await route.continue(); });
  await page.reload();
  await page.locator('#card-linky[data-state=ok]').waitFor({ timeout: 10_000 });
  assert.equal(await page.getAttribute('body', 'data-ready'), null, 'the library is not ready yet');
  assert.deepEqual(await plotted(page), drawn, 'the daily chart, from the store');
  assert.equal(await page.textContent('#linky-stats tr[data-period=yesterday]'), yesterday);
  assert.ok(await page.isDisabled('#run-sync'), 'Sync now waits for the library');

  release();
  await page.locator('body[data-ready]').waitFor({ timeout: 15_000 });
  assert.deepEqual(await plotted(page), drawn, 'the same numbers from the library');
  assert.ok(await page.isEnabled('#run-sync'));
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

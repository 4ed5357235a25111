// Linky in headless Chromium: the browser entry fetches a meter's history
// across origins (CORS) with a Conso API token and keeps it in localStorage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS } from 'wattbridge/sandbox';
import { wwwPage } from './static.mjs';

test('a page fetches Linky data into localStorage through the wasm module', async () => {
  const { sb, page, problems } = await wwwPage();

  const result = await page.evaluate(async ({ consoApiUrl, token }) => {
    const { Linky, LocalStorageStore } = await import('/js/browser.js');
    const linky = new Linky({ consoApiUrl, consoToken: token, store: new LocalStorageStore({ prefix: 'linky-test:' }) });
    const progress = [];
    const report = await linky.fetch('load-curve', { from: '2025-06-01', to: '2025-06-15', onProgress: (p) => progress.push(p) });
    const rows = await linky.history('load-curve', { from: '2025-06-01', to: '2025-06-15' });
    const meters = await linky.meters();
    const stored = Object.keys(localStorage).filter((k) => k.startsWith('linky-test:linky/'));
    let error = null;
    try {
      await linky.fetch('nonsense');
    } catch (err) {
      error = { name: err.name, code: err.code, message: err.message };
    }
    return { report, rows: rows.length, meters, stored, progress, error };
  }, { consoApiUrl: sb.urls.linky.consoApiUrl, token: SANDBOX_CONSO_TOKEN });

  assert.equal(result.meters[0], SANDBOX_LINKY_METERS.household);
  assert.equal(result.report.requests, 3, '14 days in windows of at most 6');
  assert.equal(result.rows, 14 * 48);
  assert.deepEqual(result.progress.at(-1), { done: 3, total: 3 });
  assert.ok(result.stored.some((k) => k.endsWith('/load-curve/2025-06')), result.stored.join(', '));
  assert.equal(result.error.name, 'WattbridgeError');
  assert.equal(result.error.code, 'invalid_input');
  assert.deepEqual(problems, []);
});

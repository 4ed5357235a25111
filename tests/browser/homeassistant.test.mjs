// Home Assistant statistics from a page: the browser's own WebSocket carries
// the same Rust protocol as `ws` in Node, here to the strict stand-in of HA's
// WebSocket API, with Linky (Conso token) from the sandbox across origins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M } from 'wattbridge/sandbox';
import { sandbox, launchChromium } from '../js/helpers.mjs';
import { startHaStandIn } from '../js/ha-standin.mjs';
import { serveRepo } from './static.mjs';

const PAGE = `<!doctype html><script type="module">
  import { Linky, HomeAssistant, MemoryStore, importStatistics } from '/js/browser.js';
  window.run = async ({ consoApiUrl, consoToken, url, token, since }) => {
    const store = new MemoryStore();
    const linky = new Linky({ consoApiUrl, consoToken, store });
    const homeassistant = new HomeAssistant({ url, token });
    const report = await importStatistics({ linky, homeassistant, tariff: { tariff: 'base', priceBase: 0.2 }, since, store });
    return report.ha;
  };
  window.ready = true;
</script>`;

test('a page imports Linky into Home Assistant over the browser\'s WebSocket', async (t) => {
  const sb = await sandbox();
  const ha = await startHaStandIn({ version: '2026.11.0' });
  t.after(() => ha.close());
  const site = await serveRepo({ '/ha.html': PAGE });
  const browser = await launchChromium();
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${site}/ha.html`);
  await page.waitForFunction(() => window.ready === true);
  const since = new Date(Date.now() - 4 * 86_400_000).toISOString().slice(0, 10);
  const report = await page.evaluate((args) => window.run(args), { consoApiUrl: sb.urls.linky.consoApiUrl, consoToken: SANDBOX_CONSO_TOKEN, url: ha.url, token: 'admin-token', since });
  assert.equal(report.status, 'ok', JSON.stringify(report));
  assert.equal(report.schema, 'new');
  const rows = ha.rows(`wattbridge:linky_${M.household}_consumption`);
  assert.equal(report.imported, 2 * rows.length, 'consumption and cost');
  assert.ok(rows.length >= 3 * 23);
  assert.deepEqual(ha.warnings, []);
  assert.deepEqual(problems, []);
});

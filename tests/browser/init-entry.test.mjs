// wattbridge/init in a page: the entry without a top-level await (what the
// extension's service worker imports). Its classes refuse, with a clear
// error, to run before init(); after it they work, and init() is shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS } from 'wattbridge/sandbox';
import { sandbox, launchChromium } from '../js/helpers.mjs';
import { serveRepo, watchProblems } from './static.mjs';

const PAGE = `<!doctype html><link rel="icon" href="data:,"><script type="module">
  import * as wattbridge from '/js/browser-init.js';
  window.run = async ({ consoApiUrl, consoToken }) => {
    const make = () => new wattbridge.Linky({ consoApiUrl, consoToken, store: new wattbridge.MemoryStore() });
    let before = null;
    try { make(); } catch (err) { before = { name: err.name, code: err.code, message: err.message }; }
    const loads = [wattbridge.init(), wattbridge.init()];
    await Promise.all(loads);
    return { before, shared: loads[0] === loads[1], meters: await make().meters() };
  };
  window.ready = true;
</script>`;

test('wattbridge/init: a clear error before init(), the classes after it', async () => {
  const sb = await sandbox();
  const site = await serveRepo({ '/init.html': PAGE });
  const browser = await launchChromium();
  const page = await browser.newPage();
  const problems = watchProblems(page);
  await page.goto(`${site}/init.html`);
  await page.waitForFunction(() => window.ready === true);
  const result = await page.evaluate((args) => window.run(args), { consoApiUrl: sb.urls.linky.consoApiUrl, consoToken: SANDBOX_CONSO_TOKEN });
  assert.equal(result.before?.name, 'WattbridgeError');
  assert.equal(result.before.code, 'invalid_config');
  assert.match(result.before.message, /await init\(\)/);
  assert.ok(result.shared, 'one load for every init() call');
  assert.equal(result.meters[0], SANDBOX_LINKY_METERS.household);
  assert.deepEqual(problems, []);
});

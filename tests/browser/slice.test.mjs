// The slice in headless Chromium: the www page loads the package (wasm via
// fetch), provisions against the sandbox across origins (CORS), gets claimed
// and sends a reading.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { sandbox, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from '../js/helpers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Serve the repository's www/, js/ and pkg/ as a static site would. */
async function serveStatic() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!/^\/(www|js|pkg)\//.test(path)) return res.writeHead(404).end();
    try {
      const body = await readFile(join(ROOT, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

test('the www page runs the EnergyID slice in Chromium', async () => {
  const sb = await sandbox();
  const site = await serveStatic();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  after(() => browser.close());
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));

  await page.goto(`${site}/www/index.html`);
  await page.fill('input[name=helloUrl]', sb.urls.energyid.helloUrl);
  await page.fill('input[name=provisioningKey]', SANDBOX_PROVISIONING_KEY);
  await page.fill('input[name=provisioningSecret]', SANDBOX_PROVISIONING_SECRET);
  await page.click('#connect');
  const code = await page.locator('#claim-code').textContent({ timeout: 10_000 });
  assert.match(code, /^[0-9A-F]{6}$/);

  // The person opens the claim page.
  const claimUrl = await page.locator('#status a').getAttribute('href');
  assert.equal((await fetch(claimUrl)).status, 200);

  await page.click('#connect');
  await page.locator('#status', { hasText: 'Connected to record "Sandbox home 1"' }).waitFor({ timeout: 10_000 });
  await page.click('#send');
  await page.locator('#status', { hasText: 'Sent 1 reading in 1 request' }).waitFor({ timeout: 10_000 });

  const [record] = sb.energyid.records();
  assert.equal(record.readings.length, 1);
  assert.equal(record.readings[0].el, 1250.5);
  assert.equal(record.readings[0].pv, 3560.2);

  // The device state persisted in localStorage, so a reload is still the same device.
  const stored = await page.evaluate(() => localStorage.getItem('wattbridge:energyid'));
  assert.equal(JSON.parse(stored).deviceId, record.deviceId);

  // A rate-limited second send shows the error code, and nothing crashed the page.
  await page.click('#send');
  await page.locator('#status', { hasText: '[rate_limited]' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(problems, []);
});

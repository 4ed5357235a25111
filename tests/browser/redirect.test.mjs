// Redirects in a browser: the package asks fetch for `redirect: "manual"`,
// which Chromium answers with an `opaqueredirect` response (status 0). It must
// become a clear unexpected_status error, and the request must not be replayed
// to where the redirect points.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launchChromium } from '../js/helpers.mjs';
import { serveRepo } from './static.mjs';

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': '*' };

async function listen(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${server.address().port}`;
}

test('a redirect is an unexpected_status error in Chromium, and is not followed', async () => {
  let followed = 0;
  const target = await listen((req, res) => {
    if (req.method !== 'OPTIONS') followed += 1;
    res.writeHead(200, { ...CORS, 'content-type': 'application/json' }).end('{}');
  });
  const mover = await listen((req, res) => {
    if (req.method === 'OPTIONS') return res.writeHead(204, CORS).end();
    res.writeHead(307, { ...CORS, location: `${target}/sso?ticket=abc123` }).end();
  });
  const site = await serveRepo({ '/blank': '<!doctype html><title>blank</title>' });
  const browser = await launchChromium();
  after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${site}/blank`);
  const error = await page.evaluate(async (helloUrl) => {
    const { EnergyId, MemoryStore } = await import('/js/browser.js');
    const energyid = new EnergyId({ helloUrl, provisioningKey: 'k', provisioningSecret: 's', store: new MemoryStore() });
    try {
      await energyid.hello();
      return null;
    } catch (err) {
      return { code: err.code, status: err.status ?? null, message: err.message };
    }
  }, `${mover}/hello?trace=xyz789`);
  assert.ok(error, 'hello succeeded through a redirect');
  assert.equal(error.code, 'unexpected_status', error.message);
  assert.match(error.message, /^127\.0\.0\.1 answered with a redirect; redirects are not followed/);
  assert.doesNotMatch(error.message, /sso|abc123|xyz789|\/hello/);
  assert.equal(followed, 0, 'the redirect was followed');
});

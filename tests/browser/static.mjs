// Serve the repository's www/, js/ and pkg/ the way a static host would, plus
// any extra pages a test needs; closed when the test file ends.
import { createServer } from 'node:http';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { connect } from 'node:net';
import { WebSocketServer } from 'ws';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPES = { '.svg': 'image/svg+xml', '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

/** @param {Record<string, string>} [pages] extra HTML pages by path */
export async function serveRepo(pages = {}) {
  const { url, close } = await startRepoServer(pages);
  after(close);
  return url;
}

/** The same server outside a test (scripts/screenshots.mjs): `{url, close}`. */
export async function startRepoServer(pages = {}) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (pages[path] !== undefined) return res.writeHead(200, { 'content-type': 'text/html' }).end(pages[path]);
    if (!/^\/(www|js|pkg)\//.test(path)) return res.writeHead(404).end();
    try {
      const body = await readFile(join(ROOT, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  return { url: `http://127.0.0.1:${server.address().port}`, close };
}

/**
 * A sandbox, the repository served and a Chromium page on the www page, with
 * the page's uncaught errors collected in `problems` (a test ends asserting none).
 */
export async function wwwPage(sandboxOptions) {
  const { sandbox, launchChromium } = await import('../js/helpers.mjs');
  const sb = await sandbox(sandboxOptions);
  const site = await serveRepo();
  const browser = await launchChromium();
  const page = await browser.newPage();
  const problems = watchProblems(page);
  await page.goto(`${site}/www/index.html`);
  return { sb, page, problems, site };
}

/** The page's uncaught errors and console errors, collected for a test to assert none. */
export function watchProblems(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()} ${message.location().url ?? ''}`));
  return problems;
}

/** Point the page at the sandbox: its service addresses in the settings form, saved in the page's store. */
export async function useSandbox(page, sb) {
  await page.locator('body[data-ready]').waitFor({ timeout: 15_000 });
  await page.click('#settings summary');
  await page.fill('#s-hello', sb.urls.energyid.helloUrl);
  await page.fill('#s-gateway', sb.urls.linky.gatewayUrl);
  await page.fill('#s-conso', sb.urls.linky.consoApiUrl);
  await page.fill('#s-weheat-auth', sb.urls.weheat.newAuthUrl);
  await page.fill('#s-weheat-api', sb.urls.weheat.newApiUrl);
  await page.click('#settings-form button[type=submit]');
  await page.locator('#status', { hasText: 'Settings saved.' }).waitFor({ timeout: 10_000 });
}

/** Connect the Linky card with the sandbox's Conso API token; resolves when the card says connected. */
export async function useConsoToken(page) {
  const { SANDBOX_CONSO_TOKEN } = await import('wattbridge/sandbox');
  await page.click('#card-linky details summary');
  await page.fill('#linky-token', SANDBOX_CONSO_TOKEN);
  await page.click('#linky-token-form button[type=submit]');
  await page.locator('#card-linky[data-state=ok]').waitFor({ timeout: 10_000 });
}

/** Connect the EnergyID card with the sandbox's provisioning pair; resolves when the claim code shows. */
export async function provision(page) {
  const { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } = await import('../js/helpers.mjs');
  await page.fill('#energyid-key', SANDBOX_PROVISIONING_KEY);
  await page.fill('#energyid-secret', SANDBOX_PROVISIONING_SECRET);
  await page.click('#energyid-form button[type=submit]');
}

/**
 * The package laid out as npm ships it (manifest.json, www/, js/, pkg/),
 * loaded unpacked in a Chromium profile of its own; closed when the test file
 * ends. Resolves to the browser context and the extension's id.
 */
export async function loadExtension() {
  const dir = await mkdtemp(join(tmpdir(), 'wattbridge-extension-'));
  after(() => rm(dir, { recursive: true, force: true }));
  for (const part of ['manifest.json', 'www', 'js', 'pkg']) await cp(join(ROOT, part), join(dir, part), { recursive: true });
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'wattbridge-profile-')), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--disable-extensions-except=${dir}`, `--load-extension=${dir}`],
  });
  after(() => context.close());
  // Find the extension's id on the extensions page.
  const admin = await context.newPage();
  await admin.goto('chrome://extensions');
  const id = await admin.evaluate(async () => (await chrome.management.getAll()).find((e) => e.name === 'wattbridge')?.id);
  return { context, id };
}

/** The loaded extension's background service worker (www/worker.js). */
export async function backgroundWorker(context) {
  const isOurs = (w) => w.url().endsWith('/www/worker.js');
  return context.serviceWorkers().find(isOurs) ?? context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 10_000 });
}

/** Make the worker's sync alarm go off now, as Chrome does on its period. */
export const fireSyncAlarm = (worker) => worker.evaluate(() => chrome.alarms.create('sync', { when: Date.now() + 50 }));

/**
 * MQTT over WebSocket in front of a broker's TCP port (Debian's Mosquitto has
 * no websockets listener here): a WebSocket server (the `mqtt` subprotocol)
 * that relays each connection's bytes unchanged, closed when the test file
 * ends. Resolves to its ws:// URL.
 */
export async function mqttOverWebSocket(port) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => {
    const tcp = connect(port, '127.0.0.1');
    socket.on('message', (data) => tcp.write(data));
    tcp.on('data', (data) => socket.send(data));
    socket.on('close', () => tcp.end());
    tcp.on('close', () => socket.close());
    tcp.on('error', () => socket.close());
  });
  after(() => new Promise((resolve) => server.close(resolve)));
  return `ws://127.0.0.1:${server.address().port}/mqtt`;
}

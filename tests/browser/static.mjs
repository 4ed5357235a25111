// Serve the repository's www/, js/ and pkg/ the way a static host would, plus
// any extra pages a test needs; closed when the test file ends.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

/** @param {Record<string, string>} [pages] extra HTML pages by path */
export async function serveRepo(pages = {}) {
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
  after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${server.address().port}`;
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
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${site}/www/index.html`);
  return { sb, page, problems };
}

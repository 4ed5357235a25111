// node bench/page.mjs: the page's budgets (issue 17), measured in Chromium
// against the sandbox, never asserted in a test (timings depend on the machine):
// - the first paint with data from the store: the page connected and synced
//   once, then reloaded RUNS times; the median time from navigation to the
//   page's `wattbridge:drawn` mark (cards, charts and table drawn from the
//   view the last visit stored, before the wasm is ready), to its
//   `wattbridge:live` mark (drawn again from the library's answers) and to
//   its first contentful paint;
// - the JS and CSS the page loads, excluding the wasm, gzipped.
import { readFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startSandbox, SANDBOX_WEHEAT_USER } from 'wattbridge/sandbox';
import { startRepoServer, useSandbox, provision, useConsoToken } from '../tests/browser/static.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const BUDGET_DRAWN_MS = 300;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const sb = await startSandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 }, weheat: { budgetPerHour: 0 } });
const site = await startRepoServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 360, height: 640 } });
  await page.goto(`${site.url}/www/index.html`);
  await useSandbox(page, sb);
  await useConsoToken(page);
  await page.fill('#weheat-user', SANDBOX_WEHEAT_USER.username);
  await page.fill('#weheat-password', SANDBOX_WEHEAT_USER.password);
  await page.click('#weheat-form button[type=submit]');
  await page.locator('#card-weheat[data-state=ok]').waitFor();
  await provision(page);
  await page.locator('#card-energyid[data-state=ok]').waitFor();
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 120_000 });

  const drawn = [];
  const live = [];
  const fcp = [];
  let resources = [];
  for (let i = 0; i < RUNS; i += 1) {
    await page.reload();
    await page.locator('body[data-ready]').waitFor();
    const m = await page.evaluate(() => ({
      drawn: performance.getEntriesByName('wattbridge:drawn')[0]?.startTime,
      live: performance.getEntriesByName('wattbridge:live')[0]?.startTime,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
      resources: performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname),
    }));
    drawn.push(m.drawn);
    live.push(m.live);
    fcp.push(m.fcp);
    resources = m.resources;
  }
  const shipped = [...new Set([new URL(page.url()).pathname, ...resources])].filter((p) => /\.(js|css|html)$/.test(p));
  const gz = (p) => gzipSync(readFileSync(`${ROOT}${p}`), { level: constants.Z_BEST_COMPRESSION }).length;
  const total = shipped.reduce((sum, p) => sum + gz(p), 0);
  const uplot = shipped.filter((p) => p.includes('uPlot')).reduce((sum, p) => sum + gz(p), 0);
  const own = shipped.filter((p) => p.startsWith('/www/') && !p.includes('/vendor/')).reduce((sum, p) => sum + gz(p), 0);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`first paint with data from the store (median of ${RUNS} reloads, 360 px): ${median(drawn).toFixed(0)} ms (budget ${BUDGET_DRAWN_MS} ms); first contentful paint ${median(fcp).toFixed(0)} ms; redrawn from the library (wasm ready) ${median(live).toFixed(0)} ms`);
  console.log(`JS + CSS + HTML the page loads, excluding the wasm: ${shipped.length} files, ${kb(total)} gzipped (uPlot ${kb(uplot)}, www's own ${kb(own)}, the rest the library's glue)`);
} finally {
  await browser.close();
  await site.close();
  await sb.close();
}

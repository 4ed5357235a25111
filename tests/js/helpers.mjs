// Shared set-up for the end-to-end tests: a fresh sandbox and scratch directories.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { startSandbox, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from 'wattbridge/sandbox';

export { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET };

/** A sandbox closed when the test file ends. */
export async function sandbox(options) {
  const started = await startSandbox(options);
  after(() => started.close());
  return started;
}

/** A scratch directory removed when the test file ends. */
export async function scratchDir(prefix = 'wattbridge-test-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function energyIdSettings(sb, extra = {}) {
  return {
    helloUrl: sb.urls.energyid.helloUrl,
    provisioningKey: SANDBOX_PROVISIONING_KEY,
    provisioningSecret: SANDBOX_PROVISIONING_SECRET,
    ...extra,
  };
}

/**
 * Debian's Chromium, headless, closed when the test file ends. The flags keep
 * it off the network it cannot reach here (DESIGN.md).
 */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  after(() => browser.close());
  return browser;
}

/** Resolve with `predicate()`'s first truthy value, polling every 50 ms; reject after `timeout` ms. */
export function until(predicate, what, timeout = 15_000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const value = predicate();
      if (value) return resolve(value);
      if (Date.now() - started > timeout) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** Run the installed-style CLI (`node js/cli/main.js …`): `{code, signal, stdout, stderr}`, plus `.child`. */
export function runCli(args, env, stdin = '') {
  const bin = new URL('../../js/cli/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(stdin);
  const done = new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(done, { child });
}

/**
 * Wh per whole UTC hour of Linky load-curve rows (`linky fetch --json` rows:
 * Paris times with offsets, `wh` each): only hours whose intervals cover the
 * whole hour, as Home Assistant's statistics hold them. Map of hour start ms → Wh.
 */
export function hourlyWh(rows) {
  const hours = new Map();
  for (const row of rows) {
    const start = Date.parse(row.start);
    const hour = start - (start % 3_600_000);
    const entry = hours.get(hour) ?? { covered: 0, wh: 0 };
    entry.covered += Date.parse(row.end) - start;
    entry.wh += row.wh;
    hours.set(hour, entry);
  }
  return new Map([...hours].filter(([, e]) => e.covered >= 3_600_000).map(([hour, e]) => [hour, e.wh]));
}

/** A loopback port free right now (for a peer to listen on, or to find closed). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Skip the tests against real peers (OpenLEADR VTN, Home Assistant) only when
 * asked (WATTBRIDGE_SKIP_PEERS=1): a missing peer must fail the suite, not pass it quietly.
 */
export const skipPeers = process.env.WATTBRIDGE_SKIP_PEERS === '1' ? 'WATTBRIDGE_SKIP_PEERS=1' : false;

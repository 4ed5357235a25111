// Shared set-up for the end-to-end tests: a fresh sandbox and scratch directories.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
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

/** The environment of a CLI run (or a script) against the sandbox's EnergyID, in its own home. */
export function energyIdEnv(sb, home, extra = {}) {
  return {
    WATTBRIDGE_HOME: home,
    WATTBRIDGE_ENERGYID_HELLO_URL: sb.urls.energyid.helloUrl,
    WATTBRIDGE_ENERGYID_PROVISIONING_KEY: SANDBOX_PROVISIONING_KEY,
    WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: SANDBOX_PROVISIONING_SECRET,
    ...extra,
  };
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

// npm run screenshots: Chromium against the sandbox, PNGs of the page in
// docs/screenshots/ (the popup at 360 px and the desktop page; each connect
// flow, Home Assistant against the tests' strict stand-in and a broker that
// cannot be reached; the dashboard with data, light and dark; an error state).
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startSandbox, SANDBOX_WEHEAT_USER, SANDBOX_LINKY_METERS } from 'wattbridge/sandbox';
import { startRepoServer, useSandbox, provision } from '../tests/browser/static.mjs';
import { startHaStandIn } from '../tests/js/ha-standin.mjs';
import { freePort } from '../tests/js/helpers.mjs';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const POPUP = { width: 360, height: 640 };
const DESKTOP = { width: 1280, height: 900 };

await mkdir(OUT, { recursive: true });
const sb = await startSandbox({ energyid: { uploadInterval: 0.2 }, weheat: { budgetPerHour: 0 } });
const site = await startRepoServer();
const ha = await startHaStandIn({ version: '2024.3.3' });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: POPUP });
  const shot = async (name, { viewport = POPUP, scheme = 'light', full = true } = {}) => {
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(300); // the charts follow their box and the scheme
    await page.screenshot({ path: `${OUT}${name}.png`, fullPage: full });
    console.log(`docs/screenshots/${name}.png`);
  };
  await page.goto(`${site.url}/www/index.html`);
  await useSandbox(page, sb);
  await page.evaluate(() => { document.querySelector('#settings').removeAttribute('open'); document.activeElement?.blur(); scrollTo(0, 0); });
  await shot('popup-new', { full: false });

  await page.click('#linky-device');
  await page.locator('#linky-code').waitFor({ state: 'visible' });
  await page.locator('#card-linky').screenshot({ path: `${OUT}connect-linky-device.png` });
  console.log('docs/screenshots/connect-linky-device.png');
  await fetch(await page.getAttribute('#linky-link', 'href'));
  await page.locator('#card-linky[data-state=ok]').waitFor({ timeout: 20_000 });

  await page.fill('#weheat-user', SANDBOX_WEHEAT_USER.username);
  await page.locator('#card-weheat').screenshot({ path: `${OUT}connect-weheat.png` });
  console.log('docs/screenshots/connect-weheat.png');
  await page.fill('#weheat-password', SANDBOX_WEHEAT_USER.password);
  await page.click('#weheat-form button[type=submit]');
  await page.locator('#card-weheat[data-state=ok]').waitFor();

  await provision(page);
  await page.locator('#claim-code').waitFor({ state: 'visible' });
  await page.locator('#card-energyid').screenshot({ path: `${OUT}connect-energyid-claim.png` });
  console.log('docs/screenshots/connect-energyid-claim.png');
  await fetch(await page.getAttribute('#claim-link', 'href'));
  await page.locator('#card-energyid[data-state=ok]').waitFor({ timeout: 20_000 });

  const card = async (service, name) => {
    await page.locator(`#card-${service}:is([data-state=ok], [data-state=attention])`).waitFor({ timeout: 20_000 });
    await page.locator(`#card-${service}`).screenshot({ path: `${OUT}${name}.png` });
    console.log(`docs/screenshots/${name}.png`);
  };
  await page.fill('#ha-url', ha.url);
  await page.fill('#ha-token', 'admin-token');
  await page.click('#homeassistant-form button[type=submit]');
  await card('homeassistant', 'connect-homeassistant');
  // A broker nobody listens on: the card says why and what to do.
  await page.fill('#mqtt-url', `ws://127.0.0.1:${await freePort()}/mqtt`);
  await page.click('#mqtt-form button[type=submit]');
  await card('mqtt', 'connect-mqtt-attention');
  await page.click('#mqtt-disconnect');
  await page.locator('#card-mqtt[data-state=none]').waitFor();

  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 120_000 });
  await shot('desktop-dashboard', { viewport: DESKTOP });
  await shot('desktop-dashboard-dark', { viewport: DESKTOP, scheme: 'dark' });
  await shot('popup-dashboard', { viewport: POPUP });

  sb.linky.revokeConsent(SANDBOX_LINKY_METERS.household);
  await page.click('#run-sync');
  await page.locator('#problems li').first().waitFor({ timeout: 60_000 });
  await page.evaluate(() => scrollTo(0, 0));
  await shot('popup-error', { full: false });
} finally {
  await browser.close();
  await ha.close();
  await site.close();
  await sb.close();
}

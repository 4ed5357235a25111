// The slice in headless Chromium: the www page loads the package (wasm via
// fetch), provisions against the sandbox across origins (CORS) from its
// EnergyID card, gets claimed through the claim link and sends a reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wwwPage, useSandbox, provision } from './static.mjs';

test('the www page runs the EnergyID slice in Chromium', async () => {
  const { sb, page, problems } = await wwwPage();
  await useSandbox(page, sb);
  await provision(page);
  await page.locator('#claim-code').waitFor({ state: 'visible', timeout: 10_000 });
  assert.match(await page.textContent('#claim-code'), /^[0-9A-F]{6}$/);
  assert.match(await page.textContent('#energyid-state'), /Waiting until this browser is claimed/);

  // The person opens the claim page; the page notices by itself.
  const claimUrl = await page.getAttribute('#claim-link', 'href');
  assert.equal((await fetch(claimUrl)).status, 200);
  await page.locator('#energyid-state', { hasText: 'Connected to record "Sandbox home 1"' }).waitFor({ timeout: 15_000 });
  assert.ok(await page.isHidden('#energyid-claim'));

  // A reading, sent with the device the page connected (the same store).
  const send = () => page.evaluate(async () => {
    const { EnergyId } = await import('/js/browser.js');
    const settings = JSON.parse(localStorage.getItem('wattbridge:www/settings'));
    const secrets = JSON.parse(localStorage.getItem('wattbridge:www/secrets'));
    const energyid = new EnergyId({ helloUrl: settings.helloUrl, ...secrets });
    return energyid.send({ ts: new Date(), el: 1250.5, pv: 3560.2 });
  });
  const sent = await send();
  assert.equal(sent.readings, 1);
  assert.equal(sent.requests, 1);

  const [record] = sb.energyid.records();
  assert.equal(record.readings.length, 1);
  assert.equal(record.readings[0].el, 1250.5);
  assert.equal(record.readings[0].pv, 3560.2);

  // The device state persisted in localStorage, so a reload is still the same device.
  const stored = await page.evaluate(() => localStorage.getItem('wattbridge:energyid'));
  assert.equal(JSON.parse(stored).deviceId, record.deviceId);
  await page.reload();
  await page.locator('#card-energyid[data-state=ok]').waitFor({ timeout: 10_000 });

  // A second send inside the upload policy waits in the outbox (no 429 provoked), and the page says so.
  const second = await send();
  assert.ok(second.remaining > 0, JSON.stringify(second));
  assert.equal(sb.energyid.records()[0].readings.length, 1);
  await page.reload();
  await page.locator('#sync-facts', { hasText: `EnergyID outbox${second.remaining} value(s) waiting` }).waitFor({ timeout: 10_000 });
  assert.deepEqual(problems, []);
});

// The slice in headless Chromium: the www page loads the package (wasm via
// fetch), provisions against the sandbox across origins (CORS), gets claimed
// and sends a reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from '../js/helpers.mjs';
import { wwwPage } from './static.mjs';

test('the www page runs the EnergyID slice in Chromium', async () => {
  const { sb, page, problems } = await wwwPage();
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
  await page.locator('#status', { hasText: 'Sent 1 reading(s) in 1 request(s).' }).waitFor({ timeout: 10_000 });

  const [record] = sb.energyid.records();
  assert.equal(record.readings.length, 1);
  assert.equal(record.readings[0].el, 1250.5);
  assert.equal(record.readings[0].pv, 3560.2);

  // The device state persisted in localStorage, so a reload is still the same device.
  const stored = await page.evaluate(() => localStorage.getItem('wattbridge:energyid'));
  assert.equal(JSON.parse(stored).deviceId, record.deviceId);

  // A second send inside the upload policy waits in the outbox (no 429 provoked), and nothing crashed the page.
  await page.click('#send');
  await page.locator('#status', { hasText: 'wait in the outbox' }).waitFor({ timeout: 10_000 });
  assert.equal(sb.energyid.records()[0].readings.length, 1);
  assert.deepEqual(problems, []);
});

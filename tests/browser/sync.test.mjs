// The www page runs the main job: Linky (Conso token) and Weheat (password,
// used once) into the EnergyID record it is connected to, across origins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CONSO_TOKEN, SANDBOX_WEHEAT_USER } from 'wattbridge/sandbox';
import { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from '../js/helpers.mjs';
import { wwwPage } from './static.mjs';

test('the www page syncs Linky and Weheat into EnergyID', async () => {
  const { sb, page, problems } = await wwwPage({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 } });
  await page.fill('input[name=helloUrl]', sb.urls.energyid.helloUrl);
  await page.fill('input[name=provisioningKey]', SANDBOX_PROVISIONING_KEY);
  await page.fill('input[name=provisioningSecret]', SANDBOX_PROVISIONING_SECRET);
  await page.click('#connect');
  await page.locator('#status', { hasText: 'Connected to record' }).waitFor({ timeout: 10_000 });

  await page.fill('input[name=consoApiUrl]', sb.urls.linky.consoApiUrl);
  await page.fill('input[name=consoToken]', SANDBOX_CONSO_TOKEN);
  await page.fill('input[name=weheatAuthUrl]', sb.urls.weheat.newAuthUrl);
  await page.fill('input[name=weheatApiUrl]', sb.urls.weheat.newApiUrl);
  await page.fill('input[name=weheatUser]', SANDBOX_WEHEAT_USER.username);
  await page.fill('input[name=weheatPassword]', SANDBOX_WEHEAT_USER.password);
  await page.fill('input[name=since]', new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10));
  await page.click('#run-sync');
  await page.locator('#sync-report', { hasText: 'Sync finished.' }).waitFor({ timeout: 60_000 });

  const report = await page.locator('#sync-report').textContent();
  assert.match(report, /linky: \d+ new readings/);
  assert.match(report, /weheat: \d+ new readings/);
  const readings = sb.energyid.records()[0].readings;
  assert.ok(readings.filter((r) => r.el !== undefined).length >= 4 * 48, `${readings.length} readings`);
  assert.ok(readings.some((r) => r.heat !== undefined && r['el.heatpump'] !== undefined));
  assert.equal(await page.inputValue('input[name=weheatPassword]'), '', 'the password does not stay in the form');
  assert.deepEqual(problems, []);
});

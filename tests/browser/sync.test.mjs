// The www page runs the main job: Linky (Conso token) and Weheat (password,
// used once) into the EnergyID record it is connected to, across origins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CONSO_TOKEN, SANDBOX_WEHEAT_USER } from 'wattbridge/sandbox';
import { wwwPage, useSandbox, provision, useConsoToken } from './static.mjs';

test('the www page syncs Linky and Weheat into EnergyID', async () => {
  const { sb, page, problems } = await wwwPage({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 } });
  await useSandbox(page, sb);
  await provision(page);
  await page.locator('#energyid-state', { hasText: 'Connected to record' }).waitFor({ timeout: 10_000 });

  await useConsoToken(page);
  await page.fill('#weheat-user', SANDBOX_WEHEAT_USER.username);
  await page.fill('#weheat-password', SANDBOX_WEHEAT_USER.password);
  await page.click('#weheat-form button[type=submit]');
  await page.locator('#card-weheat[data-state=ok]').waitFor({ timeout: 10_000 });
  assert.equal(await page.inputValue('#weheat-password'), '', 'the password does not stay in the form');

  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: /Synced at|had problems/ }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#problems li').count(), 0, await page.textContent('#problems'));

  const readings = sb.energyid.records()[0].readings;
  assert.ok(readings.filter((r) => r.el !== undefined).length >= 4 * 48, `${readings.length} readings`);
  assert.ok(readings.some((r) => r.heat !== undefined && r['el.heatpump'] !== undefined));
  // Nothing of the password or the token is stored in the page's own documents or the DOM.
  const kept = await page.evaluate(() => JSON.stringify(localStorage) + document.documentElement.outerHTML);
  assert.ok(!kept.includes(SANDBOX_WEHEAT_USER.password), 'the Weheat password is never stored');
  assert.ok(!(await page.evaluate(() => document.documentElement.outerHTML)).includes(SANDBOX_CONSO_TOKEN), 'the token is not shown again');
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

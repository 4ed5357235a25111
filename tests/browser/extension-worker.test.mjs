// The extension syncs by itself: its background service worker (module,
// the same wasm) schedules an hourly chrome.alarms alarm, and when it fires
// runs the same sync as the page's button; the readings reach the sandbox
// EnergyID and the action badge counts the problems (none, then a revoked
// consent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_LINKY_METERS } from 'wattbridge/sandbox';
import { sandbox } from '../js/helpers.mjs';
import { loadExtension, backgroundWorker, fireSyncAlarm, useSandbox, provision, watchProblems, useConsoToken } from './static.mjs';

test('the background worker syncs on its alarm and counts problems on the badge', async () => {
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 } });
  const { context, id } = await loadExtension();
  const worker = await backgroundWorker(context);
  let first;
  for (let i = 0; i < 50 && !first; i += 1) {
    first = await worker.evaluate(() => chrome.alarms.get('sync'));
    if (!first) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(first?.periodInMinutes, 60, 'an hourly alarm from the install');

  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`chrome-extension://${id}/www/index.html?view=popup`);
  await useSandbox(page, sb);
  await useConsoToken(page);
  await provision(page);
  await page.locator('#card-energyid[data-state=ok]').waitFor({ timeout: 10_000 });
  assert.match(await page.textContent('#sync-facts'), /Next sync.*\(in the background\)/);

  const fire = () => fireSyncAlarm(worker);
  await fire();
  const deadline = Date.now() + 60_000;
  while (!sb.energyid.records()[0]?.readings.some((r) => r.el !== undefined)) {
    assert.ok(Date.now() < deadline, 'the alarm sync reached EnergyID');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const badge = () => worker.evaluate(() => chrome.action.getBadgeText({}));
  const lastSync = () => worker.evaluate(async () => JSON.parse((await chrome.storage.local.get('wattbridge:www/last-sync'))['wattbridge:www/last-sync'] ?? 'null'));
  const before = Date.now();
  while (!((await lastSync())?.atMs > 0)) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await badge(), '');

  sb.linky.revokeConsent(SANDBOX_LINKY_METERS.household);
  await fire();
  while ((await badge()) === '') {
    assert.ok(Date.now() - before < 60_000, 'the badge counts the revoked consent');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(await badge(), '1');
  assert.equal((await lastSync()).problems[0].code, 'consent_required');
  // The page shows the worker's problems with their action.
  await page.reload();
  await page.locator('#problems li[data-code=consent_required]').waitFor({ timeout: 10_000 });
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

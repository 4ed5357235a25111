// The Linky device flow inside the extension: the popup (360 px, under the
// extension CSP, state in chrome.storage.local) asks the sandbox gateway for
// a code, shows it large with the link and a countdown, and is connected once
// the person consents (visiting the link approves in the sandbox); the tokens
// stay in chrome.storage, a sync draws the meter's days, and reopening the
// popup keeps the connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_LINKY_METERS } from 'wattbridge/sandbox';
import { sandbox } from '../js/helpers.mjs';
import { loadExtension, useSandbox, watchProblems } from './static.mjs';

test('the popup connects Linky by the device flow against the sandbox gateway', async () => {
  const sb = await sandbox();
  const { context, id } = await loadExtension();
  const page = await context.newPage();
  await page.setViewportSize({ width: 360, height: 600 });
  const problems = watchProblems(page);
  await page.goto(`chrome-extension://${id}/www/index.html?view=popup`);
  await useSandbox(page, sb);
  assert.equal(await page.getAttribute('#card-linky', 'data-state'), 'none');

  await page.click('#linky-device');
  await page.locator('#linky-code').waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await page.getAttribute('#card-linky', 'data-state'), 'waiting');
  const code = await page.textContent('#linky-code');
  assert.match(code, /\S{4,}/);
  assert.match(await page.textContent('#linky-countdown'), /valid for \d+:\d\d/);
  const verify = await page.getAttribute('#linky-link', 'href');
  assert.ok(verify.startsWith(sb.urls.linky.gatewayUrl) && verify.includes(code), verify);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'linky-link', 'the link takes the focus');

  // The person opens the link and consents (the sandbox approves on the visit).
  assert.equal((await fetch(verify)).status, 200);
  await page.locator('#card-linky[data-state=ok]').waitFor({ timeout: 20_000 });
  assert.equal(await page.textContent('#linky-state'), `Connected with Enedis, meter ${SANDBOX_LINKY_METERS.household}.`);
  assert.ok(await page.isHidden('#linky-verification'));
  const keys = await page.evaluate(async () => Object.keys(await chrome.storage.local.get(null)));
  assert.ok(keys.includes('wattbridge:tokens/linky'), keys.join(', '));
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), []);

  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 60_000 });
  const bars = await page.evaluate(() => document.querySelector('#chart-daily').uplot.data[1]);
  assert.equal(bars.length, 30);
  assert.ok(bars.every((kwh) => kwh > 0), JSON.stringify(bars));

  // Reopening the popup: still connected, nothing to do again.
  await page.reload();
  await page.locator('body[data-ready]').waitFor({ timeout: 15_000 });
  assert.equal(await page.getAttribute('#card-linky', 'data-state'), 'ok');
  assert.ok(await page.isHidden('#linky-actions'));
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

// The page for people who do not use a mouse or do not see it: axe-core
// finds no serious or critical violation in the empty page and in the
// dashboard with data, light and dark, at 360 px and on a desktop; and the
// Linky device flow starts from the keyboard alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { SANDBOX_WEHEAT_USER } from 'wattbridge/sandbox';
import { wwwPage, useSandbox, provision } from './static.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

async function serious(page) {
  await page.addScriptTag({ path: AXE });
  const { violations } = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

test('no serious accessibility violations, light and dark, 360 px and desktop; the device flow starts from the keyboard', async () => {
  const { sb, page, problems } = await wwwPage({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 }, weheat: { budgetPerHour: 0 } });
  await useSandbox(page, sb);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await serious(page), [], `empty page, ${scheme}`);
  }

  // Keyboard only: Tab to "Sign in with Enedis", press Enter, the code shows and the link takes the focus.
  await page.evaluate(() => document.activeElement?.blur());
  let focused = null;
  for (let i = 0; i < 20 && focused !== 'linky-device'; i += 1) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.id);
  }
  assert.equal(focused, 'linky-device', 'the device-flow button is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.locator('#linky-code').waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'linky-link');
  assert.deepEqual(await serious(page), [], 'device flow');
  await fetch(await page.getAttribute('#linky-link', 'href'));
  await page.locator('#card-linky[data-state=ok]').waitFor({ timeout: 20_000 });

  await page.fill('#weheat-user', SANDBOX_WEHEAT_USER.username);
  await page.fill('#weheat-password', SANDBOX_WEHEAT_USER.password);
  await page.keyboard.press('Enter'); // submits the form from the password field
  await page.locator('#card-weheat[data-state=ok]').waitFor({ timeout: 10_000 });
  await provision(page);
  await page.locator('#card-energyid[data-state=ok]').waitFor({ timeout: 10_000 });
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 60_000 });

  for (const [width, height] of [[360, 640], [1280, 900]]) {
    await page.setViewportSize({ width, height });
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      assert.deepEqual(await serious(page), [], `dashboard, ${width} px, ${scheme}`);
    }
  }
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

// The www page as a person uses it, against the sandbox: connect Linky by the
// device flow, Weheat by password (used once) and EnergyID by its claim
// link, sync, and see the charts drawn with the sandbox's own numbers (read
// back from the uPlot instances, checked against the library in Node). A
// reload keeps every connection and the charts; no secret stays in the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_WEHEAT_USER, SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS } from 'wattbridge/sandbox';
import { Linky, Weheat, MemoryStore } from 'wattbridge';
import { SANDBOX_PROVISIONING_SECRET } from '../js/helpers.mjs';
import { wwwPage, useSandbox, provision, useConsoToken } from './static.mjs';

const DAY_MS = 86_400_000;
const plotted = (page, id) => page.evaluate((sel) => document.querySelector(sel).uplot?.data, id);
const near = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);

test('the page connects the three services, syncs, and charts the sandbox numbers; a reload keeps it all', async () => {
  const { sb, page, problems } = await wwwPage({ energyid: { uploadInterval: 0.2 }, weheat: { budgetPerHour: 0 } });
  await useSandbox(page, sb);
  for (const card of ['linky', 'weheat', 'energyid']) assert.equal(await page.getAttribute(`#card-${card}`, 'data-state'), 'none');

  // Linky: the device flow; the person opens the link (which approves in the sandbox).
  await page.click('#linky-device');
  await page.locator('#linky-code').waitFor({ state: 'visible', timeout: 10_000 });
  const code = await page.textContent('#linky-code');
  assert.match(code, /\S{4,}/);
  assert.match(await page.textContent('#linky-countdown'), /valid for \d+:\d\d/);
  const verify = await page.getAttribute('#linky-link', 'href');
  assert.ok(verify.includes(code), verify);
  assert.equal((await fetch(verify)).status, 200);
  await page.locator('#card-linky[data-state=ok]').waitFor({ timeout: 20_000 });
  assert.match(await page.textContent('#linky-state'), new RegExp(`Connected with Enedis, meter ${SANDBOX_LINKY_METERS.household}`));

  // Weheat: the password, used once.
  await page.fill('#weheat-user', SANDBOX_WEHEAT_USER.username);
  await page.fill('#weheat-password', SANDBOX_WEHEAT_USER.password);
  await page.click('#weheat-form button[type=submit]');
  await page.locator('#card-weheat[data-state=ok]').waitFor({ timeout: 10_000 });
  assert.equal(await page.textContent('#weheat-state'), `Connected as ${SANDBOX_WEHEAT_USER.username}.`);

  // EnergyID: provisioning, then the claim link and code; the page waits until claimed.
  await provision(page);
  await page.locator('#claim-code').waitFor({ state: 'visible', timeout: 10_000 });
  const claimCode = await page.textContent('#claim-code');
  assert.match(claimCode, /^[0-9A-F]{6}$/);
  assert.equal((await fetch(await page.getAttribute('#claim-link', 'href'))).status, 200);
  await page.locator('#card-energyid[data-state=ok]').waitFor({ timeout: 20_000 });
  assert.match(await page.textContent('#energyid-state'), /Connected to record "Sandbox home 1"/);

  // No secret is in the page after entry.
  const html = await page.evaluate(() => document.documentElement.outerHTML + [...document.querySelectorAll('input')].map((i) => i.value).join(' '));
  for (const secret of [SANDBOX_WEHEAT_USER.password, SANDBOX_PROVISIONING_SECRET]) assert.ok(!html.includes(secret), 'a secret stays in the page');

  const started = Date.now();
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 120_000 });
  console.log(`# sync from the page: ${Date.now() - started} ms`);
  assert.equal(await page.locator('#problems li').count(), 0, await page.textContent('#problems'));

  // The sandbox's numbers, read in Node with the library.
  const linky = new Linky({ access: 'conso', consoApiUrl: sb.urls.linky.consoApiUrl, consoToken: SANDBOX_CONSO_TOKEN, store: new MemoryStore() });
  await linky.fetch('daily', { from: new Date(Date.now() - 40 * DAY_MS) });
  await linky.fetch('load-curve', { from: new Date(Date.now() - 3 * DAY_MS) });
  const stats = await linky.stats({ tariff: { tariff: 'base', priceBase: 0.2016 }, from: new Date(Date.now() - 40 * DAY_MS) });
  const weheat = new Weheat({ authUrl: sb.urls.weheat.newAuthUrl, apiUrl: sb.urls.weheat.newApiUrl, store: new MemoryStore() });
  await weheat.oauth().loginWithPassword(SANDBOX_WEHEAT_USER);
  await weheat.fillEnergy({ interval: 'Day', since: new Date(Date.now() - 30 * DAY_MS) });
  const buckets = await weheat.storedEnergy({ interval: 'Day', from: new Date(Date.now() - 30 * DAY_MS) });

  const checkCharts = async () => {
    const [x, kwh, eur] = await plotted(page, '#chart-daily');
    const last30 = stats.daily.filter((d) => d.date < stats.today).slice(-30);
    assert.equal(kwh.length, 30, 'thirty daily bars');
    assert.deepEqual(x.map((s) => new Date(s * 1000).toISOString().slice(0, 10)), last30.map((d) => d.date));
    kwh.forEach((v, i) => near(v, Math.round(last30[i].wh) / 1000, `kWh of ${last30[i].date}`));
    eur.forEach((v, i) => near(v, Math.round(kwh[i] * 0.2016 * 100) / 100, `cost of ${last30[i].date}`));

    const curve = await plotted(page, '#chart-curve');
    const rows = await linky.history('load-curve', { from: stats.periods.yesterday.from, to: stats.periods.yesterday.to });
    assert.ok(rows.length >= 46, `${rows.length} half hours`);
    assert.deepEqual(curve[1], rows.map((r) => r.value));
    assert.deepEqual(curve[0], rows.map((r) => Date.parse(r.start) / 1000));

    const [days, thisMonth] = await plotted(page, '#chart-months');
    assert.equal(days[0], 1);
    const month = stats.today.slice(0, 7);
    const sum = stats.daily.filter((d) => d.date.startsWith(month) && d.date < stats.today).reduce((s, d) => s + d.wh, 0);
    if (sum) near(thisMonth.filter((v) => v !== null).at(-1), Math.round(sum / 10) / 100, 'this month so far');

    const yesterday = await page.textContent('#linky-stats tr[data-period=yesterday]');
    assert.ok(yesterday.includes(stats.periods.yesterday.kwh.toLocaleString('en', { maximumFractionDigits: 1 })), yesterday);
    assert.ok(yesterday.includes(`${stats.periods.yesterday.cost.toFixed(2)} €`), yesterday);

    const [wx, heat, elec, cop] = await plotted(page, '#chart-weheat');
    assert.ok(wx.length >= 28, `${wx.length} Weheat days`);
    assert.deepEqual(wx, buckets.map((b) => Date.parse(b.timeBucket) / 1000));
    // Today's bucket still grows between the page's fill and this one: the complete days only.
    const complete = (i) => buckets[i].timeBucket.slice(0, 10) < new Date().toISOString().slice(0, 10);
    heat.forEach((v, i) => complete(i) && buckets[i].heatKwh != null && near(v, Math.round(buckets[i].heatKwh * 100) / 100, `heat of ${buckets[i].timeBucket}`));
    elec.forEach((v, i) => complete(i) && buckets[i].electricityKwh != null && near(v, Math.round(buckets[i].electricityKwh * 100) / 100, 'electricity'));
    assert.ok(cop.some((v) => v > 1), 'a COP per day');
    assert.match(await page.textContent('#weheat-now'), /State.*Outside.*°C/s);
  };
  await checkCharts();
  assert.match(await page.textContent('#sync-facts'), /EnergyID outbox\d+ value\(s\) waiting/);

  const readings = sb.energyid.records()[0].readings;
  assert.ok(readings.some((r) => r.el !== undefined), 'Linky reached EnergyID');
  assert.ok(readings.some((r) => r.heat !== undefined), 'Weheat reached EnergyID');

  // A reload keeps the connections and draws the same from the store.
  await page.reload();
  await page.locator('body[data-ready]').waitFor({ timeout: 15_000 });
  for (const card of ['linky', 'weheat', 'energyid']) assert.equal(await page.getAttribute(`#card-${card}`, 'data-state'), 'ok', card);
  assert.ok(await page.isHidden('#energyid-form'), 'no provisioning form once connected');
  await checkCharts();
  // The one failed request: sync asks the household meter (consumption only)
  // for production, Enedis answers 400 and the library reads it as none.
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

test('a revoked Linky consent shows what to do', async () => {
  const { sb, page, problems } = await wwwPage();
  await useSandbox(page, sb);
  await useConsoToken(page);
  assert.match(await page.textContent('#linky-state'), /Connected with a Conso API token/);
  assert.equal(await page.inputValue('#linky-token'), '', 'the token leaves the form');

  sb.linky.revokeConsent(SANDBOX_LINKY_METERS.household);
  await page.click('#run-sync');
  const item = page.locator('#problems li').first();
  await item.waitFor({ timeout: 30_000 });
  assert.equal(await item.getAttribute('data-code'), 'consent_required');
  assert.match(await item.textContent(), /Linky: .*Give your consent again/);
  assert.doesNotMatch(await item.textContent(), /wattbridge linky login/, 'the page gives its own action, not the CLI\'s');
  assert.equal(await page.locator('#problems li').count(), 1, 'one line per cause');

  // The consent covers several meters: the card offers them, and the one picked is used.
  assert.ok(await page.isVisible('#linky-meter-select'));
  await page.selectOption('#linky-meter-select', SANDBOX_LINKY_METERS.producer);
  await page.locator('#linky-state', { hasText: `meter ${SANDBOX_LINKY_METERS.producer}` }).waitFor({ timeout: 10_000 });
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.textContent('#linky-meter'), `meter ${SANDBOX_LINKY_METERS.producer}`);
  assert.equal((await plotted(page, '#chart-daily'))[1].length, 30);
  // The failed requests are the revoked meter's 403s and the household's production probe.
  assert.deepEqual(problems.filter((p) => !/status of 403|status of 400 .*\/production_load_curve\?/.test(p)), []);
});

test('an unclaimed EnergyID record shows what to do', async () => {
  const { sb, page, problems } = await wwwPage();
  await useSandbox(page, sb);
  await useConsoToken(page);
  await provision(page);
  await page.locator('#card-energyid[data-state=waiting]').waitFor({ timeout: 10_000 });
  await page.click('#run-sync');
  const item = page.locator('#problems li[data-code=not_claimed]');
  await item.waitFor({ timeout: 30_000 });
  assert.match(await item.textContent(), /EnergyID: .*not claimed.*Claim this browser in EnergyID/);
  assert.equal(sb.energyid.records().length, 0);
  assert.deepEqual(problems, []);
});

test('Weheat by code + PKCE from a plain page: away to the sign-in page and back, the code leaves the address bar', async () => {
  const { sb, page, problems } = await wwwPage({ weheat: { budgetPerHour: 0 } });
  await useSandbox(page, sb);
  const home = page.url();
  await page.click('#weheat-redirect');
  await page.waitForURL((url) => url.href.startsWith(home) && !url.search, { timeout: 15_000 });
  await page.locator('#card-weheat[data-state=ok]').waitFor({ timeout: 15_000 });
  assert.equal(await page.textContent('#weheat-state'), 'Connected through the Weheat sign-in page.');
  assert.equal(page.url(), home, 'no code or state left in the URL');
  const kept = await page.evaluate(() => Object.keys(localStorage));
  assert.ok(kept.includes('wattbridge:tokens/weheat') && !kept.some((k) => k.endsWith('/pending')), kept.join(', '));
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 30_000 });
  assert.ok((await plotted(page, '#chart-weheat'))[1].some((kwh) => kwh > 0));
  await page.reload();
  await page.locator('#card-weheat[data-state=ok]').waitFor({ timeout: 10_000 });
  assert.deepEqual(problems, []);
});

test('a wrong provisioning secret: the EnergyID card needs attention once, and takes the keys again', async () => {
  const { sb, page, problems } = await wwwPage();
  await useSandbox(page, sb);
  await page.fill('#energyid-key', 'sandbox-provisioning-key');
  await page.fill('#energyid-secret', 'not-the-secret');
  await page.click('#energyid-form button[type=submit]');
  await page.locator('#card-energyid[data-state=attention]').waitFor({ timeout: 10_000 });
  assert.match(await page.textContent('#energyid-state'), /Needs attention: .*provisioning/i);
  assert.ok(await page.isVisible('#energyid-form'), 'the form is back for the right keys');
  // The card waits for the person: no hello after hello in the background.
  const hellos = () => sb.energyid.requests().byPath['/energyid/hello'] ?? 0;
  const before = hellos();
  await page.waitForTimeout(4000); // longer than the claim wait's 3 s poll
  assert.equal(hellos(), before);

  await provision(page);
  await page.locator('#card-energyid[data-state=waiting]').waitFor({ timeout: 10_000 });
  assert.match(await page.textContent('#claim-code'), /^[0-9A-F]{6}$/);
  assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), []);
});

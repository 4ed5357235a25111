// The optional targets' cards: Home Assistant (its URL and a long-lived
// token) and MQTT over WebSocket. Each says whether it is connected or needs
// attention and why; a token or password never shows again; Sync now feeds
// them: hourly statistics to the strict HA stand-in, discovery and states
// through a WebSocket relay to a real Mosquitto.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M } from 'wattbridge/sandbox';
import { Linky, MemoryStore } from 'wattbridge';
import { sandbox, startMosquitto, until, hourlyWh } from '../js/helpers.mjs';
import { startHaStandIn } from '../js/ha-standin.mjs';
import { wwwPage, useSandbox, useConsoToken, mqttOverWebSocket, loadExtension, backgroundWorker, fireSyncAlarm, watchProblems } from './static.mjs';

const DAY_MS = 86_400_000;
const HA_TOKEN = 'admin-token';
const MQTT_PASSWORD = 'page-broker-password-9';
const CONSUMPTION = `wattbridge:linky_${M.household}_consumption`;

/** Fill a target's card and connect; resolves when the card settles (ok or attention). */
async function connect(page, service, fields) {
  for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
  await page.click(`#${service}-form button[type=submit]`);
  await page.locator(`#card-${service}:is([data-state=ok], [data-state=attention])`).waitFor({ timeout: 15_000 });
  return { state: await page.getAttribute(`#card-${service}`, 'data-state'), text: await page.textContent(`#${service}-state`) };
}

/** Everything a secret could hide in: the page's markup and its inputs' values. */
const pageText = (page) => page.evaluate(() => document.documentElement.outerHTML + [...document.querySelectorAll('input')].map((i) => i.value).join(' '));

test('the Home Assistant card: a refused token needs attention, the right one connects, and Sync now imports the statistics', async (t) => {
  const ha = await startHaStandIn({ version: '2026.11.0' });
  t.after(() => ha.close());
  const { sb, page, problems } = await wwwPage();
  await useSandbox(page, sb);
  assert.equal(await page.getAttribute('#card-homeassistant', 'data-state'), 'none');

  const refused = await connect(page, 'homeassistant', { '#ha-url': ha.url, '#ha-token': 'not-a-token' });
  assert.equal(refused.state, 'attention');
  assert.match(refused.text, /refused the token.*long-lived access token.*Security tab/);
  assert.ok(await page.isVisible('#homeassistant-form'), 'the form is there to enter another token');

  const host = new URL(ha.url).host;
  const ok = await connect(page, 'homeassistant', { '#ha-url': ha.url, '#ha-token': HA_TOKEN });
  assert.equal(ok.state, 'ok');
  assert.equal(ok.text, `Connected to ${host}: Home Assistant 2026.11.0.`);
  assert.ok(await page.isHidden('#homeassistant-form'));
  assert.ok(!(await pageText(page)).includes(HA_TOKEN), 'the token is not in the page');

  await useConsoToken(page);
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#problems li').count(), 0, await page.textContent('#problems'));
  assert.match(await page.textContent('#homeassistant-state'), /Home Assistant 2026\.11\.0; \d+ hourly rows imported in the last sync/);

  // Every row is the Wh of its hour in the sandbox's load curve, the sums continuous.
  const linky = new Linky({ access: 'conso', consoApiUrl: sb.urls.linky.consoApiUrl, consoToken: SANDBOX_CONSO_TOKEN, store: new MemoryStore() });
  const from = new Date(Date.now() - 32 * DAY_MS);
  await linky.fetch('load-curve', { from });
  const expected = hourlyWh(await linky.history('load-curve', { from, to: new Date() }));
  const rows = ha.rows(CONSUMPTION);
  assert.ok(rows.length >= 25 * 23, `${rows.length} hourly rows`);
  let sum = 0;
  for (const [ms, state, rowSum] of rows) {
    assert.equal(Math.round(state * 1000), Math.round(expected.get(ms)), new Date(ms).toISOString());
    sum += state;
    assert.ok(Math.abs(rowSum - sum) < 1e-6, 'a continuous sum');
  }
  assert.deepEqual(ha.warnings, []);

  // A reload keeps the connection; the token stays out of the page.
  await page.reload();
  await page.locator('body[data-ready]').waitFor({ timeout: 15_000 });
  assert.equal(await page.getAttribute('#card-homeassistant', 'data-state'), 'ok');
  assert.ok(!(await pageText(page)).includes(HA_TOKEN));
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

test('the MQTT card: a refused login needs attention, the right one connects, and Sync now publishes the meter to the broker', async () => {
  const broker = await startMosquitto({ home: MQTT_PASSWORD });
  const url = await mqttOverWebSocket(broker.port);
  const { sb, page, problems } = await wwwPage();
  await useSandbox(page, sb);

  const refused = await connect(page, 'mqtt', { '#mqtt-url': url, '#mqtt-user': 'home', '#mqtt-password': 'wrong' });
  assert.equal(refused.state, 'attention');
  assert.match(refused.text, /refused the login.*Check the user name and password in the MQTT card/);

  const ok = await connect(page, 'mqtt', { '#mqtt-url': url, '#mqtt-user': 'home', '#mqtt-password': MQTT_PASSWORD });
  assert.equal(ok.state, 'ok', ok.text);
  assert.equal(ok.text, `Connected to ${new URL(url).host}: the broker accepted the login.`);
  assert.equal(await page.inputValue('#mqtt-user'), 'home', 'the user name is a setting, shown again');
  assert.ok(!(await pageText(page)).includes(MQTT_PASSWORD), 'the password is not in the page');

  await useConsoToken(page);
  await page.click('#run-sync');
  await page.locator('#sync-state', { hasText: 'Synced at' }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#problems li').count(), 0, await page.textContent('#problems'));
  assert.match(await page.textContent('#mqtt-state'), /1 device published \(\d+ messages\) in the last sync/);

  // What Home Assistant would read: the meter's discovery and its values, the library's own numbers.
  const sub = await mqtt.connectAsync(broker.url, { username: 'home', password: MQTT_PASSWORD, reconnectPeriod: 0 });
  after(() => sub.end(true));
  const got = new Map();
  sub.on('message', (topic, payload) => got.set(topic, payload.toString()));
  await sub.subscribeAsync(['homeassistant/#', 'wattbridge/#']);
  const stateTopic = `wattbridge/linky_${M.household}/state`;
  await until(() => got.has(stateTopic) && got.has('wattbridge/status'), 'the retained messages');
  const linky = new Linky({ access: 'conso', consoApiUrl: sb.urls.linky.consoApiUrl, consoToken: SANDBOX_CONSO_TOKEN, store: new MemoryStore() });
  await linky.fetchForStats({ tariff: { tariff: 'base', priceBase: 0.2016 } });
  const { periods } = await linky.stats({ tariff: { tariff: 'base', priceBase: 0.2016 } });
  const state = JSON.parse(got.get(stateTopic));
  assert.equal(state.yesterday, Math.round(periods.yesterday.kwh * 1000) / 1000);
  assert.equal(state.consent, 'ok');
  assert.ok(state.energy > 0, 'the energy index from the bridge');
  assert.equal(JSON.parse(got.get(`homeassistant/sensor/wattbridge_linky_${M.household}/energy/config`)).device_class, 'energy');
  assert.equal(got.get('wattbridge/status'), 'online');
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

test('the extension\'s background worker feeds Home Assistant and MQTT on its alarm', async (t) => {
  const sb = await sandbox();
  const ha = await startHaStandIn({ version: '2024.3.3' });
  t.after(() => ha.close());
  const broker = await startMosquitto({ home: MQTT_PASSWORD });
  const url = await mqttOverWebSocket(broker.port);
  const { context, id } = await loadExtension();
  const worker = await backgroundWorker(context);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`chrome-extension://${id}/www/index.html?view=popup`);
  await useSandbox(page, sb);
  await useConsoToken(page);
  assert.equal((await connect(page, 'homeassistant', { '#ha-url': ha.url, '#ha-token': HA_TOKEN })).state, 'ok');
  assert.equal((await connect(page, 'mqtt', { '#mqtt-url': url, '#mqtt-user': 'home', '#mqtt-password': MQTT_PASSWORD })).state, 'ok');
  assert.equal(ha.rows(CONSUMPTION).length, 0, 'connecting only checks the token');

  const sub = await mqtt.connectAsync(broker.url, { username: 'home', password: MQTT_PASSWORD, reconnectPeriod: 0 });
  after(() => sub.end(true));
  const got = new Map();
  sub.on('message', (topic, payload) => got.set(topic, payload.toString()));
  await sub.subscribeAsync('wattbridge/#');

  await fireSyncAlarm(worker);
  await until(() => ha.rows(CONSUMPTION).length > 24 && got.has(`wattbridge/linky_${M.household}/state`), 'the alarm sync in Home Assistant and on the broker', 60_000);
  const lastSync = () => worker.evaluate(async () => JSON.parse((await chrome.storage.local.get('wattbridge:www/last-sync'))['wattbridge:www/last-sync'] ?? 'null'));
  while (!((await lastSync())?.atMs > 0)) await new Promise((resolve) => setTimeout(resolve, 200)); // the worker saves its report last
  assert.deepEqual((await lastSync()).problems, []);
  assert.equal(await worker.evaluate(() => chrome.action.getBadgeText({})), '');
  assert.ok(JSON.parse(got.get(`wattbridge/linky_${M.household}/state`)).energy > 0);
  // The popup shows what the worker did.
  await page.reload();
  await page.locator('#homeassistant-state', { hasText: /hourly rows imported in the last sync/ }).waitFor({ timeout: 10_000 });
  await page.locator('#mqtt-state', { hasText: /published .* in the last sync/ }).waitFor({ timeout: 10_000 });
  assert.deepEqual(problems.filter((p) => !/status of 400 .*\/production_load_curve\?/.test(p)), []);
});

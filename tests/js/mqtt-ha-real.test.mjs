// A real Home Assistant (2024.3.3, as the statistics tests use it) reads
// wattbridge's MQTT discovery from a real Mosquitto: its MQTT integration is
// set up through the config-flow API, `wattbridge mqtt publish` runs, and HA's
// own /api/states must show the entities with the right classes, units and
// values. This proves HA accepts the configs, not only our subscriber.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { sandbox, scratchDir, runCli as wattbridge, sandboxHome, startMosquitto, until } from './helpers.mjs';
import { startHomeAssistant, skip } from './ha-real.mjs';

const USER = 'home';
const PASSWORD = 'broker-Secret-4242';
const SINCE = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);

test('Home Assistant itself creates the entities from the discovery, with their classes, units and values', { skip, timeout: 240_000 }, async () => {
  const broker = await startMosquitto({ [USER]: PASSWORD });
  const ha = await startHomeAssistant(await scratchDir('wattbridge-ha-mqtt-'), { extraConfig: ['config:'] });
  after(() => ha.stop());
  const api = (path, body) => fetch(`${ha.url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${ha.token}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  }).then(async (r) => {
    assert.ok(r.ok, `${path}: ${r.status} ${await r.clone().text()}`);
    return r.json();
  });

  // HA's birth message on the broker tells us its MQTT integration is connected.
  const watcher = await mqtt.connectAsync(broker.url, { username: USER, password: PASSWORD, reconnectPeriod: 0 });
  after(() => watcher.end(true));
  let born = false;
  watcher.on('message', (topic, payload) => { if (topic === 'homeassistant/status' && payload.toString() === 'online') born = true; });
  await watcher.subscribeAsync('homeassistant/status');

  const flow = await api('/api/config/config_entries/flow', { handler: 'mqtt' });
  assert.equal(flow.step_id, 'broker', JSON.stringify(flow));
  const entry = await api(`/api/config/config_entries/flow/${flow.flow_id}`, { broker: '127.0.0.1', port: broker.port, username: USER, password: PASSWORD });
  assert.equal(entry.type, 'create_entry', JSON.stringify(entry));
  await until(() => born, 'Home Assistant on the broker', 60_000);

  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 } });
  const env = await sandboxHome(sb, { WATTBRIDGE_MQTT_URL: broker.url, WATTBRIDGE_MQTT_USERNAME: USER, WATTBRIDGE_MQTT_PASSWORD: PASSWORD });
  const run = await wattbridge(['--json', 'mqtt', 'publish', '--since', SINCE], env);
  assert.equal(run.code, 0, run.stderr);
  const published = JSON.parse(run.stdout);
  const values = Object.fromEntries(published.devices.map((d) => [d.kind, { id: d.id, ...d.values }]));

  const entity = (id) => `sensor.wattbridge_${id}`;
  const linky = values.linky.id;
  const pump = values.weheat.id;
  const record = values.energyid.id;
  const wanted = [
    [`${linky}_energy`, 'energy', 'total_increasing', 'kWh', values.linky.energy],
    [`${linky}_yesterday`, 'energy', 'total', 'kWh', values.linky.yesterday],
    [`${linky}_max_power`, 'apparent_power', 'measurement', 'VA', values.linky.max_power],
    [`${pump}_water_out`, 'temperature', 'measurement', '°C', values.weheat.water_out],
    [`${pump}_power_in`, 'power', 'measurement', 'W', values.weheat.power_in],
    [`${pump}_heat`, 'energy', 'total_increasing', 'kWh', values.weheat.heat],
  ];
  const states = async () => new Map((await api('/api/states')).map((s) => [s.entity_id, s]));
  let seen;
  for (const deadline = Date.now() + 60_000; ; await new Promise((resolve) => setTimeout(resolve, 500))) {
    seen = await states();
    // An entity exists once its config arrives; its value follows from the retained state.
    if (wanted.every(([id]) => !['unknown', 'unavailable', undefined].includes(seen.get(entity(id))?.state))) break;
    if (Date.now() > deadline) {
      const made = [...seen.values()].filter((s) => s.entity_id.includes('wattbridge')).map((s) => `${s.entity_id}=${s.state}`);
      assert.fail(`HA made: ${made.join(', ') || 'no wattbridge entity'}\n${ha.log().slice(-3000)}`);
    }
  }
  for (const [id, deviceClass, stateClass, unit, value] of wanted) {
    const state = seen.get(entity(id));
    assert.equal(state.attributes.device_class, deviceClass, `${id} device_class`);
    assert.equal(state.attributes.state_class, stateClass, `${id} state_class`);
    assert.equal(state.attributes.unit_of_measurement, unit, `${id} unit`);
    assert.equal(Number(state.state), value, `${id} value`);
  }
  const weheatState = seen.get(entity(`${pump}_state`));
  assert.equal(weheatState.attributes.device_class, 'enum');
  assert.equal(weheatState.state, values.weheat.state);
  assert.equal(seen.get(entity(`${record}_status`)).state, 'needs_claim');
  assert.equal(seen.get(entity(`${linky}_max_power`)).attributes.at, values.linky.max_power_at);
  assert.equal(seen.get(entity(`${linky}_yesterday_cost`)).state, 'unknown', 'no price: unknown, never 0');
  // A period's total tells HA when it restarted, so its statistics see a new period, not negative energy.
  for (const object of ['yesterday', 'this_week', 'this_month', 'this_year']) {
    const { last_reset: lastReset } = seen.get(entity(`${linky}_${object}`)).attributes;
    assert.ok(lastReset, `${object} has no last_reset in HA`);
    assert.equal(Date.parse(lastReset), Date.parse(values.linky[`${object}_start`]), `${object} last_reset`);
  }
  // HA took every config and state without a complaint (what it cannot read is only logged).
  // One is HA's own: before 2024.10 (core#127032) a null date or timestamp ("None", what every
  // later release reads as unknown) is logged as invalid, and shown as unknown all the same.
  const [year, month] = ha.version.split('.').map(Number);
  const nullTimestampWarned = year * 100 + month < 202410;
  assert.equal(seen.get(entity(`${record}_last_upload`)).state, 'unknown', 'never uploaded: unknown');
  const complaints = ha.log().split('\n').filter((line) => /WARNING|ERROR/.test(line) && /mqtt|wattbridge/i.test(line))
    .filter((line) => !(nullTimestampWarned && /Invalid state message '.*"last_upload":null/.test(line)));
  assert.deepEqual(complaints, []);

  // Removal: HA deletes the entities when their configs are emptied.
  const removed = await wattbridge(['mqtt', 'publish', '--remove'], env);
  assert.equal(removed.code, 0, removed.stderr);
  for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 500))) {
    const left = [...(await states()).keys()].filter((id) => id.includes('wattbridge_'));
    if (!left.length) break;
    assert.ok(Date.now() < deadline, `HA still has ${left.join(', ')}`);
  }
});

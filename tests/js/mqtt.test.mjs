// `wattbridge mqtt publish|run` and `sync` with a broker, against a real
// Mosquitto (Debian's) with a password file, and the sandbox as Linky, Weheat
// and EnergyID. A subscriber of our own reads what Home Assistant would read.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { createServer } from 'node:net';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M, SANDBOX_WEHEAT_USER, SANDBOX_PROVISIONING_SECRET } from 'wattbridge/sandbox';
import { sandbox, runCli as wattbridge, sandboxHome, startMosquitto, freePort, until } from './helpers.mjs';

const USER = 'home';
const PASSWORD = 'broker-Secret-4242';
const SINCE = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);

const json = (run) => {
  assert.ok(run.stdout.trim(), `no output (exit ${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
};

/** No secret of the home in anything the CLI printed. */
function assertNoSecret(run) {
  for (const secret of [PASSWORD, SANDBOX_CONSO_TOKEN, SANDBOX_PROVISIONING_SECRET, SANDBOX_WEHEAT_USER.password]) {
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a secret was printed');
  }
}

/** A broker, a sandbox and a home with Linky (a producing meter), Weheat and EnergyID set up. */
async function home({ meter = M.producer } = {}) {
  const broker = await startMosquitto({ [USER]: PASSWORD });
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 } });
  const env = await sandboxHome(sb, {
    meter,
    WATTBRIDGE_MQTT_URL: broker.url,
    WATTBRIDGE_MQTT_USERNAME: USER,
    WATTBRIDGE_MQTT_PASSWORD: PASSWORD,
  });
  return { broker, sb, env };
}

/** A subscriber that records every message (retained ones first, as the broker replays them). */
async function listen(url, topics = ['homeassistant/#', 'wattbridge/#']) {
  const client = await mqtt.connectAsync(url, { username: USER, password: PASSWORD, reconnectPeriod: 0 });
  after(() => client.end(true));
  const messages = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain, at: Date.now() }));
  await client.subscribeAsync(topics, { qos: 1 });
  const latest = (topic) => messages.findLast((m) => m.topic === topic);
  return { client, messages, latest };
}

/** The retained messages a newcomer gets: subscribe, then wait for the broker's replay to settle. */
async function retained(url) {
  const sub = await listen(url);
  let seen = -1;
  await until(() => {
    const settled = sub.messages.length === seen;
    seen = sub.messages.length;
    return settled;
  }, 'the retained messages', 5000).catch(() => {});
  await sub.client.endAsync();
  return new Map(sub.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
}

const sum = (values) => values.reduce((a, b) => a + b, 0);
const close = (actual, expected, what, tolerance = 0.0015) => assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not ${expected}`);

test('publish announces every device with Home Assistant discovery configs and retained values equal to the source data', async () => {
  const { broker, env } = await home();
  const run = await wattbridge(['--json', 'mqtt', 'publish', '--since', SINCE], env);
  assert.equal(run.code, 0, run.stderr);
  assertNoSecret(run);
  const result = json(run);
  assert.deepEqual(result.devices.map((d) => d.kind).sort(), ['energyid', 'linky', 'weheat']);
  assert.deepEqual(result.problems, []);

  const topics = await retained(broker.url);
  const linky = `linky_${M.producer}`;
  const config = (device, object) => {
    const text = topics.get(`homeassistant/sensor/wattbridge_${device}/${object}/config`);
    assert.ok(text, `no retained config for ${device} ${object}`);
    return JSON.parse(text);
  };

  // The fields HA needs on every config.
  const energy = config(linky, 'energy');
  assert.equal(energy.unique_id, `wattbridge_${linky}_energy`);
  assert.equal(energy.object_id, `wattbridge_${linky}_energy`);
  assert.equal(energy.default_entity_id, `sensor.wattbridge_${linky}_energy`);
  assert.equal(energy.state_topic, `wattbridge/${linky}/state`);
  assert.equal(energy.value_template, '{{ value_json.energy }}');
  assert.deepEqual(energy.device.identifiers, [`wattbridge_${linky}`]);
  assert.equal(energy.device.name, `Linky ${M.producer}`);
  assert.equal(energy.device.manufacturer, 'Enedis');
  assert.ok(energy.device.model && energy.device.sw_version);
  assert.equal(energy.origin.name, 'wattbridge');
  assert.equal(energy.availability_topic, 'wattbridge/status');
  assert.equal(topics.get('wattbridge/status'), 'online');

  // Classes, state classes and units, by the table.
  const expect = (device, object, deviceClass, stateClass, unit) => {
    const c = config(device, object);
    assert.equal(c.device_class, deviceClass, `${object} device_class`);
    assert.equal(c.state_class, stateClass, `${object} state_class`);
    assert.equal(c.unit_of_measurement, unit, `${object} unit`);
  };
  expect(linky, 'energy', 'energy', 'total_increasing', 'kWh');
  expect(linky, 'production_energy', 'energy', 'total_increasing', 'kWh');
  for (const object of ['yesterday', 'this_week', 'this_month', 'this_year']) expect(linky, object, 'energy', 'total', 'kWh');
  expect(linky, 'yesterday_cost', 'monetary', 'total', 'EUR');
  expect(linky, 'max_power', 'apparent_power', 'measurement', 'VA');
  assert.deepEqual(config(linky, 'consent').options, ['ok', 'consent_required', 'auth_required', 'error']);
  const pump = result.devices.find((d) => d.kind === 'weheat').id;
  for (const object of ['water_in', 'water_out', 'outside', 'room']) expect(pump, object, 'temperature', 'measurement', '°C');
  expect(pump, 'power_in', 'power', 'measurement', 'W');
  expect(pump, 'power_out', 'power', 'measurement', 'W');
  expect(pump, 'electricity', 'energy', 'total_increasing', 'kWh');
  expect(pump, 'heat', 'energy', 'total_increasing', 'kWh');
  assert.ok(config(pump, 'state').options.includes('defrosting'));
  const record = result.devices.find((d) => d.kind === 'energyid').id;
  assert.deepEqual(config(record, 'status').options, ['ok', 'waiting', 'needs_claim', 'disabled']);

  // The values, against what the CLI itself reads from the same sources.
  const state = JSON.parse(topics.get(`wattbridge/${linky}/state`));
  const stats = json(await wattbridge(['--json', 'linky', 'stats'], env));
  // A period's total restarts with the period: HA must be told when (last_reset), or its
  // statistics read Monday's drop of "this week" as negative energy.
  for (const [object, period] of [['yesterday', 'yesterday'], ['this_week', 'thisWeek'], ['this_month', 'thisMonth'], ['this_year', 'thisYear'], ['yesterday_cost', 'yesterday']]) {
    const field = config(linky, object).last_reset_value_template?.match(/value_json\.(\w+)/)?.[1];
    assert.ok(field, `${object} has no last_reset_value_template`);
    assert.match(state[field], new RegExp(`^${stats.periods[period].from}T00:00:00\\+0[12]:00$`), `${object}: the Paris midnight its period starts at`);
  }
  assert.equal(state.yesterday, Number(stats.periods.yesterday.kwh.toFixed(3)));
  assert.equal(state.this_month, Number(stats.periods.thisMonth.kwh.toFixed(3)));
  assert.equal(state.yesterday_cost, null, 'no price is set: the cost is unknown, not 0');
  assert.equal(state.consent, 'ok');
  const curve = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', SINCE], env));
  close(state.energy, sum(curve.rows.map((r) => r.wh)) / 1000, 'the consumption index');
  assert.match(curve.rows.at(-1).start, /\+0[12]:00$/, 'rows are in Paris time');
  assert.equal(state.last_data_day, curve.rows.at(-1).start.slice(0, 10), 'the Paris day of the last half-hour');
  const production = json(await wattbridge(['--json', 'linky', 'fetch', 'production-load-curve', '--from', SINCE], env));
  close(state.production_energy, sum(production.rows.map((r) => r.wh)) / 1000, 'the production index');
  const peak = json(await wattbridge(['--json', 'linky', 'fetch', 'max-power', '--from', stats.periods.yesterday.from, '--to', stats.today], env));
  assert.equal(state.max_power, peak.rows[0].value);
  assert.equal(state.max_power_at, peak.rows[0].peak_at);

  const heatPump = JSON.parse(topics.get(`wattbridge/${pump}/state`));
  assert.ok(config(pump, 'state').options.includes(heatPump.state));
  // The index counts up to its timestamp (the end of the last complete hour the bridge read).
  const pumpId = Object.keys(result.indexes).find((k) => k.startsWith('weheat_') && k.endsWith('_electricity'));
  const to = new Date(result.indexes[pumpId].ts * 1000).toISOString();
  const hourly = json(await wattbridge(['--json', 'weheat', 'energy', '--from', SINCE, '--to', to, '--interval', 'Hour'], env));
  close(heatPump.electricity, sum(hourly.buckets.map((b) => b.electricityKwh ?? 0)), 'the heat pump electricity index', 0.01);
  close(heatPump.heat, sum(hourly.buckets.map((b) => b.heatKwh ?? 0)), 'the heat index', 0.01);
  assert.deepEqual(JSON.parse(topics.get(`wattbridge/${record}/state`)), { outbox: 0, last_upload: null, status: 'needs_claim' });
});

test('a wrong password exits 3 and a broker that is down exits 4, printing no secret', async () => {
  const { env } = await home();
  const wrong = await wattbridge(['mqtt', 'publish'], { ...env, WATTBRIDGE_MQTT_PASSWORD: 'not-the-password' });
  assert.equal(wrong.code, 3, wrong.stderr);
  assert.match(wrong.stderr, /refused the login.*mqtt\.password/);
  assert.ok(!wrong.stderr.includes('not-the-password'));
  assertNoSecret(wrong);

  const down = await wattbridge(['--json', 'mqtt', 'publish'], { ...env, WATTBRIDGE_MQTT_URL: `mqtt://127.0.0.1:${await freePort()}` });
  assert.equal(down.code, 4, down.stdout);
  assert.equal(json(down).error.code, 'unavailable');

  const credentials = await wattbridge(['mqtt', 'publish'], { ...env, WATTBRIDGE_MQTT_URL: 'mqtt://home:pw@127.0.0.1:1883' });
  assert.equal(credentials.code, 2);
  assert.match(credentials.stderr, /must not carry a user name or password/);
  assert.ok(!credentials.stderr.includes('pw@'));
});

test('the usual slips in mqtt.url are named: no scheme, TLS on a plain port, a port that is not MQTT', async () => {
  const { broker, env } = await home();
  const bare = await wattbridge(['mqtt', 'publish'], { ...env, WATTBRIDGE_MQTT_URL: `127.0.0.1:${broker.port}` });
  assert.equal(bare.code, 2, bare.stderr);
  assert.match(bare.stderr, /mqtt\.url has no scheme: start it with mqtt:\/\//);

  const tls = await wattbridge(['mqtt', 'publish'], { ...env, WATTBRIDGE_MQTT_URL: broker.url.replace('mqtt://', 'mqtts://') });
  assert.equal(tls.code, 4, tls.stderr);
  assert.match(tls.stderr, /TLS handshake failed: does this port speak TLS\?/);
  assert.equal(tls.stderr.trim().split('\n').length, 1, `one line, not OpenSSL's: ${tls.stderr}`);

  // Home Assistant's web port, say: it takes the connection and never answers MQTT.
  const silent = createServer(() => {});
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  after(() => silent.close());
  const web = await wattbridge(['mqtt', 'publish'], { ...env, WATTBRIDGE_MQTT_URL: `mqtt://127.0.0.1:${silent.address().port}` });
  assert.equal(web.code, 4, web.stderr);
  assert.match(web.stderr, /no MQTT answer: is mqtt\.url the broker's MQTT port/);
  assertNoSecret(web);
});

test('run announces again when Home Assistant comes back, and its last will says offline after kill -9', async () => {
  const { broker, env } = await home();
  const sub = await listen(broker.url, ['homeassistant/#', 'ha/#', 'wattbridge/#']);
  // A home with its own discovery prefix: HA's birth topic stays homeassistant/status all the same.
  const run = wattbridge(['--json', '-c', 'mqtt.discovery_prefix=ha', 'mqtt', 'run', '--since', SINCE], env);
  let stdout = '';
  run.child.stdout.on('data', (chunk) => { stdout += chunk; });
  await until(() => stdout.includes('"event":"publish"'), 'the first publish', 60_000);
  const configs = () => sub.messages.filter((m) => m.topic.startsWith('ha/') && m.topic.endsWith('/config'));
  const before = configs().length;
  assert.ok(before >= 20, `configs announced: ${before}`);

  // HA restarted: its birth message asks for every config again.
  await sub.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await until(() => configs().length >= 2 * before, 'the configs announced again', 15_000);

  const killedAt = Date.now();
  run.child.kill('SIGKILL');
  const offline = await until(() => sub.messages.find((m) => m.topic === 'wattbridge/status' && m.payload === 'offline'), 'the last will', 45_000);
  assert.ok(offline.at - killedAt <= 30_000 * 1.5, 'within keep-alive × 1.5');
  assertNoSecret({ stdout, stderr: '' });
});

test('run reconnects when the broker comes back and announces everything again', { timeout: 120_000 }, async () => {
  const { broker, env } = await home();
  const run = wattbridge(['--json', 'mqtt', 'run', '--since', SINCE], env);
  let stdout = '';
  run.child.stdout.on('data', (chunk) => { stdout += chunk; });
  try {
    await until(() => stdout.includes('"event":"publish"'), 'the first publish', 60_000);
    // A restarted broker without persistence has forgotten every retained message.
    await broker.restart();
    await until(() => stdout.includes('"event":"announce"'), 'the announcement after the reconnect', 60_000);
    const topics = await retained(broker.url);
    assert.equal(topics.get('wattbridge/status'), 'online');
    assert.ok([...topics.keys()].filter((t) => t.endsWith('/config')).length >= 20, 'the configs are back');
    assert.ok(topics.has(`wattbridge/linky_${M.producer}/state`), 'and the states');
  } finally {
    run.child.kill('SIGTERM');
  }
  const { code } = await run;
  assert.equal(code, 0, 'SIGTERM stops it cleanly');
});

test('publish --remove deletes every config and state; device-based discovery is one message per device', async () => {
  const { broker, env } = await home({ meter: M.household });
  assert.equal((await wattbridge(['mqtt', 'publish', '--since', SINCE], env)).code, 0);
  const published = await retained(broker.url);
  assert.ok(![...published.keys()].some((t) => t.endsWith('/production_energy/config')), 'a meter that does not produce has no production sensor');

  // Removal deletes what was announced, without asking the sources: a pump whose account is logged out goes too.
  assert.equal((await wattbridge(['weheat', 'logout'], env)).code, 0);
  const removed = await wattbridge(['--json', 'mqtt', 'publish', '--remove'], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(json(removed).removed.map((d) => d.kind).sort(), ['energyid', 'linky', 'weheat']);
  const left = [...(await retained(broker.url)).keys()].filter((t) => t.includes('wattbridge_') || /^wattbridge\/.+\/state$/.test(t));
  assert.deepEqual(left, []);

  const device = await wattbridge(['-c', 'mqtt.device_discovery=true', '-c', 'ha.currency=CHF', 'mqtt', 'publish', '--since', SINCE], env);
  assert.equal(device.code, 3, 'Weheat is logged out: a person must act');
  assert.match(device.stdout, /weheat: .*wattbridge weheat login/);
  const topics = await retained(broker.url);
  const linky = JSON.parse(topics.get(`homeassistant/device/wattbridge_linky_${M.household}/config`));
  assert.deepEqual(linky.device.identifiers, [`wattbridge_linky_${M.household}`]);
  assert.equal(linky.origin.name, 'wattbridge');
  assert.equal(linky.state_topic, `wattbridge/linky_${M.household}/state`);
  assert.equal(linky.components.energy.platform, 'sensor');
  assert.equal(linky.components.energy.unique_id, `wattbridge_linky_${M.household}_energy`);
  assert.equal(linky.components.energy.state_class, 'total_increasing');
  assert.equal(linky.components.yesterday_cost.unit_of_measurement, 'CHF', 'the currency of the HA statistics');

  // Per-entity configs from before the switch to device discovery go too when removing under the new form.
  await wattbridge(['mqtt', 'publish', '--since', SINCE], env);
  const both = await retained(broker.url);
  assert.ok(both.has(`homeassistant/sensor/wattbridge_linky_${M.household}/energy/config`) && both.has(`homeassistant/device/wattbridge_linky_${M.household}/config`));
  const switched = await wattbridge(['-c', 'mqtt.device_discovery=true', 'mqtt', 'publish', '--remove'], env);
  assert.equal(switched.code, 0, switched.stderr);
  const remaining = [...(await retained(broker.url)).keys()].filter((t) => t.includes('wattbridge_') || /^wattbridge\/.+\/state$/.test(t));
  assert.deepEqual(remaining, []);
});

test('sync feeds EnergyID and the broker; with the broker down EnergyID still gets every reading and sync exits 4', async () => {
  const { broker, sb, env } = await home({ meter: M.household });
  const sub = await listen(broker.url);
  const first = await wattbridge(['--json', 'sync', '--since', SINCE], env);
  const report = json(first);
  assert.equal(report.mqtt.status, 'ok', JSON.stringify(report.mqtt));
  assert.equal(report.energyid.remaining, 0);
  const state = JSON.parse(sub.latest(`wattbridge/linky_${M.household}/state`).payload);
  const el = sb.energyid.records()[0].readings.filter((r) => r.el !== undefined).at(-1).el;
  close(state.energy, el, 'the MQTT index and the EnergyID index come from the same bridge');

  // A record whose webhook is switched off shows as disabled.
  const { deviceId } = json(await wattbridge(['--json', 'energyid', 'status'], env));
  sb.energyid.disableWebhook(deviceId);
  assert.equal((await wattbridge(['energyid', 'send', 'pv=5'], env)).code, 3, 'the upload finds the webhook off');
  const disabled = await wattbridge(['--json', 'sync', '--since', SINCE], env);
  assert.equal(disabled.code, 3, disabled.stdout);
  await until(() => sub.latest(`wattbridge/energyid_${deviceId.replace(/[^a-z0-9_]+/gi, '_').toLowerCase()}/state`)?.payload.includes('"disabled"'), 'the disabled status');
  sb.energyid.enableWebhook(deviceId);

  broker.stop();
  await until(() => !sub.client.connected, 'the broker to stop');
  const readingsBefore = sb.energyid.records()[0].readings.length;
  const later = await wattbridge(['--json', 'sync', '--since', SINCE], env);
  assert.equal(later.code, 4, later.stdout);
  const again = json(later);
  assert.equal(again.mqtt.status, 'error');
  assert.equal(again.mqtt.error.code, 'unavailable');
  assert.equal(again.energyid.status, 'ok');
  assert.equal(again.energyid.remaining, 0);
  assert.ok(sb.energyid.records()[0].readings.length >= readingsBefore);
});

test('openadr run --mqtt shows the VEN as a device: event active, signal level, opt state, next event', { timeout: 120_000 }, async () => {
  const { startVtn } = await import('./openadr-vtn.mjs');
  const { broker, env } = await home();
  const sub = await listen(broker.url);
  const vtn = await startVtn();
  after(() => vtn.stop());
  const run = wattbridge(['--json', 'openadr', 'run', '--vtn', vtn.url, '--ven-name', 'mq-ven', '--mqtt'], env);
  let stdout = '';
  run.child.stdout.on('data', (chunk) => { stdout += chunk; });
  const state = () => {
    const message = sub.latest('wattbridge/openadr_mq_ven/state');
    return message && JSON.parse(message.payload);
  };
  try {
    await until(() => stdout.includes('"type":"registered"'), 'the registration', 60_000);
    const active = JSON.parse(sub.latest('homeassistant/binary_sensor/wattbridge_openadr_mq_ven/active/config').payload);
    assert.deepEqual([active.payload_on, active.payload_off, active.availability_topic], ['True', 'False', 'wattbridge/openadr_mq_ven/status']);
    assert.equal(sub.latest('wattbridge/openadr_mq_ven/status').payload, 'online');
    assert.equal(state().active, false);

    // An event that began a minute ago (10 minutes long), and one in 10 minutes.
    await vtn.command({ cmd: 'event', event_id: 'ev-now', payload: 2, start_in: -60 });
    await until(() => state()?.active === true, 'the active event', 30_000);
    assert.deepEqual([state().signal, state().opt, state().event_id], [2, 'optIn', 'ev-now']);
    const later = Date.now() + 600_000;
    await vtn.command({ cmd: 'event', event_id: 'ev-later', payload: 1, start_in: 600 });
    await until(() => state()?.next_event, 'the next event', 30_000);
    assert.ok(Math.abs(Date.parse(state().next_event) - later) < 30_000, state().next_event);

    await vtn.command({ cmd: 'cancel', event_id: 'ev-now' });
    await until(() => state()?.active === false, 'the cancelled event', 30_000);
    run.child.kill('SIGINT');
    assert.equal((await run).code, 0);
    assert.equal(sub.latest('wattbridge/openadr_mq_ven/status').payload, 'offline');
  } finally {
    run.child.kill('SIGKILL');
  }
});

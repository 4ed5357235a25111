// `wattbridge mqtt publish|run`: every wattbridge value as a Home Assistant
// device over MQTT discovery (and plain retained JSON for Jeedom's jMQTT or
// Node-RED). Each pass brings the meter indexes up to date through the bridge
// (the MQTT sink), reads the devices' values and publishes them.
import { WattbridgeError, sync, weheatStateNames } from '../node.js';
import { loadSettings } from '../config.js';
import { FileStore } from '../stores/file.js';
import { linkyClient, linkyTariff, weheatClient, energyIdDevice, syncSources } from './accounts.js';
import { takeLock } from '../lock.js';
import { collectDevices } from '../mqtt/snapshot.js';
import { connectBroker, disconnectBroker, publishDevices, removeDevices, onHomeAssistantBirth, brokerLabel } from '../mqtt/publisher.js';
import { stateMessages, availabilityTopic } from '../mqtt/discovery.js';
import { exitCodeOf } from './exit-codes.js';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/** The broker and topics from the settings. */
export function mqttSettings(settings) {
  const url = settings.get('mqtt.url');
  if (!url) {
    throw new WattbridgeError('no MQTT broker: set mqtt.url (e.g. wattbridge config init, or -c mqtt.url=mqtt://homeassistant.local:1883)', { code: 'invalid_config', provider: 'mqtt' });
  }
  const naming = {
    prefix: settings.get('mqtt.discovery_prefix'),
    base: settings.get('mqtt.base_topic'),
    haStatus: settings.get('mqtt.ha_status_topic'),
    deviceBased: settings.get('mqtt.device_discovery') === 'true',
    currency: settings.get('ha.currency'),
    version,
    weheatStates: weheatStateNames(),
  };
  for (const [key, value] of [['mqtt.discovery_prefix', naming.prefix], ['mqtt.base_topic', naming.base], ['mqtt.ha_status_topic', naming.haStatus]]) {
    if (!/^[A-Za-z0-9_/-]+$/.test(value) || value.startsWith('/') || value.endsWith('/')) {
      throw new WattbridgeError(`${key} "${value}" is not a topic: letters, digits, _ - and inner /`, { code: 'invalid_config', provider: 'mqtt' });
    }
  }
  return { url, username: settings.get('mqtt.username'), password: settings.get('mqtt.password'), naming };
}

/** The accounts MQTT shows: the sync sources plus the EnergyID device when it is set up. */
async function accounts(settings) {
  const sources = syncSources(settings);
  const energyid = settings.get('energyid.provisioning_key') ? await energyIdDevice(settings) : null;
  return {
    linky: sources.has('linky') ? linkyClient(settings) : null,
    weheat: sources.has('weheat') ? weheatClient(settings) : null,
    energyid,
  };
}

/**
 * Bring the indexes up to date (the bridge with the MQTT sink only; EnergyID's
 * outbox is left to `sync`), then read every device. Source errors become
 * problems: what can be published still is.
 */
async function gather(settings, { since, refresh = true }) {
  const { linky, weheat, energyid } = await accounts(settings);
  const problems = [];
  let energy;
  if (refresh && (linky || weheat)) {
    try {
      // The bridge's cursors are sync's: wait a minute for a sync that runs, else publish the indexes as they are.
      const release = await takeLock(settings.stateDir, 'sync', { waitMs: 60_000 });
      try {
        const report = await sync({ linky, weheat, mqtt: true, since });
        energy = report.mqtt?.energy;
        for (const [name, source] of Object.entries(report.sources)) {
          if (source.status !== 'ok') problems.push({ device: name, code: source.error.code, message: source.error.message });
        }
      } finally {
        await release();
      }
    } catch (err) {
      if (err.code !== 'busy') throw err;
      problems.push({ device: 'bridge', code: err.code, message: `indexes not brought up to date: ${err.message}` });
    }
  }
  energy ??= await storedEnergy(settings);
  const { devices, problems: more } = await collectDevices({ linky, weheat, energyid, energy, tariff: linkyTariff(settings), refresh });
  return { devices, energy, problems: unique([...problems, ...more]) };
}

/** The indexes of the last pass, when this one does not run the bridge. */
async function storedEnergy(settings) {
  const text = await new FileStore(settings.stateDir).get('mqtt/energy');
  return text ? JSON.parse(text) : {};
}

// What was announced, so that `--remove` deletes exactly that, even when a
// source can no longer be read (logged out, pump gone).
const ANNOUNCED = 'mqtt/announced';

async function announced(settings) {
  const text = await new FileStore(settings.stateDir).get(ANNOUNCED);
  return text ? JSON.parse(text) : [];
}

/** Publish configs and states, and remember which devices now exist in HA. */
async function announce(settings, client, devices, naming, options) {
  const messages = await publishDevices(client, devices, naming, options);
  const before = await announced(settings);
  const known = new Map(before.map((d) => [d.id, d]));
  for (const { kind, id, name, manufacturer, model, omit } of devices) known.set(id, { kind, id, name, manufacturer, model, omit, values: {} });
  // Written only when a device is new or changed: `mqtt run` announces on every
  // change of a value, and the record is a durable (fsynced, locked) write.
  const after = JSON.stringify([...known.values()]);
  if (after !== JSON.stringify(before)) await new FileStore(settings.stateDir).put(ANNOUNCED, after);
  return messages;
}

/** The same problem said by the bridge and by the snapshot is said once. */
const unique = (problems) => [...new Map(problems.map((p) => [`${p.device} ${p.code} ${p.message}`, p])).values()];

const problemLines = (problems) => problems.map((p) => `  ${p.device}: ${p.message} [${p.code}]`);

async function exitCodeFor(problems) {
  if (!problems.length) return 0;
  return Math.max(...(await Promise.all(problems.map((p) => exitCodeOf(p)))));
}

export async function mqttPublish(options) {
  const settings = await loadSettings();
  const target = mqttSettings(settings);
  // Connect first: a broker that is down or refuses the login fails fast, before any request to a source.
  const client = await connectBroker(target);
  try {
    if (options.remove) {
      const devices = await announced(settings);
      const messages = await removeDevices(client, devices, target.naming);
      await new FileStore(settings.stateDir).delete(ANNOUNCED);
      const lines = [`Removed ${devices.length} device${devices.length === 1 ? '' : 's'} from ${brokerLabel(target.url)} (${messages} empty retained messages):`, ...devices.map((d) => `  ${d.name}`)];
      return { result: { removed: devices.map(({ id, name, kind }) => ({ id, name, kind })), messages }, text: lines.join('\n') };
    }
    const { devices, energy, problems } = await gather(settings, { since: options.since });
    const messages = await announce(settings, client, devices, target.naming);
    process.exitCode = await exitCodeFor(problems);
    const lines = [`Published ${devices.length} device${devices.length === 1 ? '' : 's'} (${messages} retained messages) on ${brokerLabel(target.url)}:`];
    for (const device of devices) lines.push(`  ${device.name}: ${Object.values(device.values).filter((v) => v !== null).length} values on ${target.naming.base}/${device.id}/state`);
    if (problems.length) lines.push('Not published:', ...problemLines(problems));
    return { result: { messages, devices: devices.map(({ id, name, kind, values }) => ({ id, name, kind, values })), indexes: energy, problems }, text: lines.join('\n') };
  } finally {
    // A one-off publish (cron) leaves `online` standing: the values stay valid until the next run.
    await disconnectBroker(client, target.naming, { offline: Boolean(options.remove) });
  }
}

/**
 * After `sync` (mqtt.url set): publish every device with the indexes the sync
 * just brought up to date. Never throws: a broker that is down is the MQTT
 * target's error in the report (exit 4), and costs the other targets nothing.
 */
export async function publishAfterSync(settings, { energy, energyidError }) {
  try {
    const target = mqttSettings(settings);
    const client = await connectBroker(target);
    try {
      const { linky, weheat, energyid } = await accounts(settings);
      const { devices, problems } = await collectDevices({ linky, weheat, energyid, energy, energyidError, tariff: linkyTariff(settings) });
      const messages = await announce(settings, client, devices, target.naming);
      return { status: 'ok', devices: devices.length, messages, problems };
    } finally {
      await disconnectBroker(client, target.naming);
    }
  } catch (err) {
    return { status: 'error', error: err.toJSON?.() ?? { code: 'internal', message: String(err?.message ?? err) } };
  }
}

const SYNC_EVERY_MS = 3600_000;

/**
 * Stay connected: states every `mqtt.interval` seconds when they changed (the
 * heat pump's latest state costs one Weheat request), the bridge once an hour,
 * configs again after a reconnect or when HA restarts. Ctrl-C or SIGTERM says
 * `offline` and exits 0.
 */
export async function mqttRun(options, { json }) {
  const settings = await loadSettings();
  const target = mqttSettings(settings);
  const intervalMs = Number(settings.get('mqtt.interval')) * 1000;
  if (!(intervalMs >= 10_000)) throw new WattbridgeError('mqtt.interval must be at least 10 seconds', { code: 'invalid_config', provider: 'mqtt' });
  const say = (event) => (json ? process.stdout.write(`${JSON.stringify(event)}\n`) : process.stderr.write(`${event.text}\n`));
  const client = await connectBroker({ ...target, reconnect: true });

  let lastSync = 0;
  const live = livePublisher(settings, client, target.naming);
  const announceAgain = () => live.announce().then((count) => say({ event: 'announce', messages: count, text: `announced again (${count} messages)` }), report);
  function report(err) {
    say({ event: 'error', code: err.code ?? 'internal', message: err.message, text: `mqtt: ${err.message}${err.code ? ` [${err.code}]` : ''}` });
  }

  await stayAnnounced(client, target.naming, announceAgain, report);

  const pass = async (first) => {
    const refresh = Date.now() - lastSync >= SYNC_EVERY_MS;
    const gathered = await gather(settings, { since: options.since, refresh });
    if (refresh) lastSync = Date.now();
    const count = await live.update(gathered.devices, { configs: first });
    for (const problem of gathered.problems) report(problem);
    say({ event: 'publish', messages: count, devices: gathered.devices.map((d) => ({ id: d.id, values: d.values })), text: `published ${count} messages for ${gathered.devices.length} devices` });
  };

  const stop = new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (options.duration) setTimeout(resolve, options.duration * 1000).unref();
  });
  let stopped = false;
  stop.then(() => { stopped = true; });
  try {
    await pass(true).catch(report);
    while (!stopped) {
      await Promise.race([stop, new Promise((resolve) => setTimeout(resolve, intervalMs).unref())]);
      if (stopped) break;
      await pass(false).catch(report);
    }
  } finally {
    await disconnectBroker(client, target.naming, { offline: true });
  }
  return undefined;
}

/**
 * A long-running publisher's devices: `update(devices)` publishes the states
 * that changed (and the configs with `configs`), `announce()` everything again.
 */
export function livePublisher(settings, client, naming) {
  let devices = [];
  const published = new Map();
  const send = async (list, configs) => {
    if (!list.length) return 0;
    const count = await announce(settings, client, list, naming, { configs });
    for (const device of list) published.set(device.id, stateOf(device));
    return count;
  };
  const stateOf = (device) => stateMessages([device], naming)[0].payload;
  return {
    update(next, { configs = false } = {}) {
      devices = next;
      return send(configs ? devices : devices.filter((d) => stateOf(d) !== published.get(d.id)), configs);
    },
    announce: () => send(devices, true),
  };
}

/**
 * Keep a long-running connection announced: after a reconnect (tries 1 s
 * apart, doubling to a minute) say online and announce again; the same when
 * Home Assistant restarts.
 */
export async function stayAnnounced(client, naming, announceAgain, report) {
  let backoff = 1000;
  client.on('close', () => {
    backoff = Math.min(backoff * 2, 60_000);
    client.options.reconnectPeriod = backoff;
  });
  client.on('connect', () => {
    if (backoff === 1000) return;
    backoff = 1000;
    client.options.reconnectPeriod = backoff;
    client.publishAsync(availabilityTopic(naming), 'online', { retain: true, qos: 1 }).then(announceAgain, report);
  });
  client.on('error', report);
  await onHomeAssistantBirth(client, naming, announceAgain);
}

// EnergyID for JS users: a thin layer over the Rust `EnergyIdDevice` that
// accepts JS-shaped input (Dates, ISO strings, one reading or many).

import { EnergyIdDevice } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { SESSION, requireWasm } from './internal.js';

export class EnergyId {
  #device;
  #autoSync = null;
  /** What the last hello (or claim info) said: null before any. */
  #claimed = null;
  #authValidUntil = null;
  /** @type {Map<string, Sensor>} */
  #sensors = new Map();

  /**
   * @param {object} options
   * @param {string} options.provisioningKey
   * @param {string} options.provisioningSecret
   * @param {string} [options.helloUrl] default https://hooks.energyid.eu/hello
   * @param {string} [options.deviceId] generated and remembered when not given
   * @param {string} [options.deviceName] default "wattbridge"
   * @param {string} [options.firmwareVersion]
   * @param {number} [options.batchCap] readings (timestamps) per POST, default 1000
   * @param {string[]} [options.allowedKeys] custom metric keys accepted besides the standard ones
   * @param {{get: Function, put: Function, delete: Function}} [options.store]
   */
  constructor({ store, ...config } = {}) {
    requireWasm();
    this.#device = new EnergyIdDevice(config, store ?? defaults.store());
  }

  /** @internal the wasm object, for sync() */
  get [SESSION]() {
    return this.#device;
  }

  /** Introduce the device; resolves to `{status: 'needs_claiming', claimCode, claimUrl, expiresAt}` or `{status: 'claimed', ..., authValidUntilMs}`. */
  async hello() {
    return this.#remember(await this.#device.hello());
  }

  #remember(summary) {
    this.#claimed = summary.status === 'claimed';
    this.#authValidUntil = this.#claimed ? new Date(summary.authValidUntilMs) : null;
    return summary;
  }

  /** The notebook's `refresh_webhook()`: a hello again, which renews the webhook credentials. */
  async refreshWebhook() {
    return this.hello();
  }

  /** The official client's `authenticate()`: true when the device is claimed. */
  async authenticate() {
    return (await this.hello()).status === 'claimed';
  }

  /** After `hello()`: whether the device is claimed (null before any hello). */
  get isClaimed() {
    return this.#claimed;
  }

  /** After a claimed `hello()`: until when its webhook credentials are counted on (a Date; hello + 24 h), else null. */
  get authValidUntil() {
    return this.#authValidUntil;
  }

  /** The name the device introduces itself with (`deviceName`, default "wattbridge"). */
  get deviceName() {
    return this.#device.deviceName;
  }

  /** The firmware version the device reports (`firmwareVersion`), or undefined. */
  get firmwareVersion() {
    return this.#device.firmwareVersion;
  }

  /** `{status: 'needs_claiming', claim_code, claim_url, valid_until} | {status: 'already_claimed', ...} | {status: 'not_authenticated'}`. */
  async claimInfo() {
    const info = await this.#device.claimInfo();
    if (info.status !== 'not_authenticated') this.#claimed = info.status === 'already_claimed';
    return info;
  }

  /**
   * Hello every `pollSeconds` until the device is claimed; `onClaimCode({claimCode,
   * claimUrl, expiresAt})` is called for each code to show (a new one after expiry).
   */
  async waitForClaim({ onClaimCode = () => {}, pollSeconds = 5, timeoutSeconds = 600 } = {}) {
    return this.#remember(await this.#device.waitForClaim(pollSeconds, timeoutSeconds, (claim) => onClaimCode(claim)));
  }

  /**
   * Queue one reading or several in the durable outbox, then send what the
   * upload policy allows now (the rest waits for `flush()`). `ts` may be unix
   * seconds, a Date or an ISO 8601 string; it defaults to now.
   * @param {object | object[]} readings e.g. `{ ts: new Date(), el: 1250.5, pv: 3560 }`
   */
  async send(readings) {
    return (await this.#device.send(list(readings).map(normalizeReading)));
  }

  /** Queue readings without sending; re-queuing the same key and ts replaces the value. */
  async enqueue(readings) {
    return (await this.#device.enqueue(list(readings).map(normalizeReading)));
  }

  /**
   * Send the outbox in batches, never faster than the policy; waits for the next
   * allowed slot when it is at most `maxWaitSeconds` away (default: no waiting).
   */
  async flush({ maxWaitSeconds = 0, onProgress } = {}) {
    const progress = onProgress ? (sent, total) => onProgress({ sent, total }) : undefined;
    return this.#device.flush(maxWaitSeconds, progress);
  }

  /** Device, record, policy, outbox size and when the next upload is allowed. */
  async status() {
    return this.#device.status();
  }

  /** Readings still queued, oldest first. */
  async pending() {
    return this.#device.pending();
  }

  /** Directives (needs an `apiAccessToken` from the hello): the list, or one by id. */
  async directives(id) {
    return this.#device.directives(id);
  }

  /**
   * The sensor of a metric key (made on first use): `value`, `lastUpdate`
   * (a Date), `changed` (not delivered yet) and `update(value, ts?)`. Every
   * update goes to the durable outbox, so no reading between two syncs is lost.
   * @param {string} key e.g. `el`, `pv`, `temperature.living`
   */
  sensor(key) {
    const name = String(key);
    if (!this.#sensors.has(name)) this.#sensors.set(name, new Sensor(name, (reading) => this.enqueue(reading)));
    return this.#sensors.get(name);
  }

  /** The official client's `update_sensor(key, value, ts)`: `sensor(key).update(value, ts)`. */
  async updateSensor(key, value, ts) {
    return this.sensor(key).update(value, ts);
  }

  /**
   * Send the changed sensors' readings (what the policy allows now); a sensor
   * stays `changed` until EnergyID accepted all its readings.
   */
  async synchronizeSensors() {
    const changed = [...this.#sensors.values()].filter((sensor) => sensor.changed);
    await Promise.all(changed.map((sensor) => sensor.queued));
    const report = await this.flush();
    const waiting = new Set((await this.pending()).flatMap((reading) => Object.keys(reading)));
    for (const sensor of changed) if (!waiting.has(sensor.key)) sensor.delivered();
    return report;
  }

  /** Synchronize the sensors (and flush the outbox) every `seconds` (with jitter) until `close()`; errors go to `onError`. */
  startAutoSync(seconds, { onError = () => {} } = {}) {
    this.stopAutoSync();
    const tick = () => {
      this.#autoSync = setTimeout(async () => {
        try {
          await this.synchronizeSensors();
        } catch (err) {
          onError(err);
        }
        if (this.#autoSync) tick();
      }, seconds * 1000 * (0.9 + Math.random() * 0.2));
    };
    tick();
  }

  stopAutoSync() {
    clearTimeout(this.#autoSync);
    this.#autoSync = null;
  }

  /** Stop auto-sync; queued readings stay in the store for the next run. */
  close() {
    this.stopAutoSync();
  }
}

/** One metric as the notebook's sensors know it; made by `EnergyId.sensor(key)`. */
export class Sensor {
  #enqueue;
  #changed = false;
  /** The last update's queuing, awaited by a sync. */
  queued = Promise.resolve();

  constructor(key, enqueue) {
    /** The metric key. */
    this.key = key;
    /** The last value given to `update`, or null. */
    this.value = null;
    /** When that value was measured (a Date), or null. */
    this.lastUpdate = null;
    this.#enqueue = enqueue;
  }

  /** True from an update until a sync delivered it. */
  get changed() {
    return this.#changed;
  }

  /**
   * A new value (measured at `ts`, default now): queued in the outbox at once,
   * sent by the next `synchronizeSensors()` or auto-sync.
   */
  async update(value, ts) {
    const reading = normalizeReading({ ts, [this.key]: value });
    const before = [this.value, this.lastUpdate, this.#changed];
    this.value = value;
    this.lastUpdate = new Date(reading.ts * 1000);
    this.#changed = true;
    const queuing = this.#enqueue(reading);
    // A sync waits for the queuing, but not for a refusal, which this call reports.
    this.queued = queuing.catch(() => {});
    try {
      await queuing;
    } catch (err) {
      // Refused (a cumulative value going down, a wrong key): the sensor keeps what it had.
      [this.value, this.lastUpdate, this.#changed] = before;
      throw err;
    }
  }

  /** @internal */
  delivered() {
    this.#changed = false;
  }
}

const list = (readings) => (Array.isArray(readings) ? readings : [readings]);

function normalizeReading(reading) {
  if (reading === null || typeof reading !== 'object') {
    throw new WattbridgeError('a reading must be an object such as { ts, el: 1250.5 }', {
      code: 'invalid_input',
      provider: 'energyid',
    });
  }
  return { ...reading, ts: toUnixSeconds(reading.ts) };
}

function toUnixSeconds(ts) {
  if (ts === undefined || ts === null) return Math.floor(Date.now() / 1000);
  if (typeof ts === 'number') return ts;
  const ms = ts instanceof Date ? ts.getTime() : typeof ts === 'string' ? Date.parse(ts) : NaN;
  if (Number.isNaN(ms)) {
    throw new WattbridgeError(`timestamp ${JSON.stringify(String(ts))} is not a date: use unix seconds, a Date or an ISO 8601 string`, {
      code: 'invalid_input',
      provider: 'energyid',
    });
  }
  return Math.floor(ms / 1000);
}

// EnergyID for JS users: a thin layer over the Rust `EnergyIdDevice` that
// accepts JS-shaped input (Dates, ISO strings, one reading or many).

import { EnergyIdDevice } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { SESSION } from './internal.js';

export class EnergyId {
  #device;
  #autoSync = null;

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
    this.#device = new EnergyIdDevice(config, store ?? defaults.store());
  }

  /** @internal the wasm object, for sync() */
  get [SESSION]() {
    return this.#device;
  }

  /** Introduce the device; resolves to `{status: 'needs_claiming', claimCode, claimUrl, expiresAt}` or `{status: 'claimed', ...}`. */
  async hello() {
    return this.#device.hello();
  }

  /** The official client's `authenticate()`: true when the device is claimed. */
  async authenticate() {
    return (await this.hello()).status === 'claimed';
  }

  /** `{status: 'needs_claiming', claim_code, claim_url, valid_until} | {status: 'already_claimed', ...} | {status: 'not_authenticated'}`. */
  async claimInfo() {
    return this.#device.claimInfo();
  }

  /**
   * Hello every `pollSeconds` until the device is claimed; `onClaimCode({claimCode,
   * claimUrl, expiresAt})` is called for each code to show (a new one after expiry).
   */
  async waitForClaim({ onClaimCode = () => {}, pollSeconds = 5, timeoutSeconds = 600 } = {}) {
    return (await this.#device.waitForClaim(pollSeconds, timeoutSeconds, (claim) => onClaimCode(claim)));
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

  /** A sensor value: every update is kept in the outbox, not only the last one. */
  async updateSensor(key, value, ts) {
    return this.enqueue({ ts, [key]: value });
  }

  /** Send the sensors' readings the policy allows now. */
  async synchronizeSensors() {
    return this.flush();
  }

  /** Flush every `seconds` (with jitter) until `close()`; errors go to `onError`. */
  startAutoSync(seconds, { onError = () => {} } = {}) {
    this.stopAutoSync();
    const tick = () => {
      this.#autoSync = setTimeout(async () => {
        try {
          await this.flush();
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

// EnergyID for JS users: a thin layer over the Rust `EnergyIdDevice` that
// accepts JS-shaped input (Dates, ISO strings, one reading or many).

import { EnergyIdDevice } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';

export class EnergyId {
  #device;

  /**
   * @param {object} options
   * @param {string} options.provisioningKey
   * @param {string} options.provisioningSecret
   * @param {string} [options.helloUrl] default https://hooks.energyid.eu/hello
   * @param {string} [options.deviceId] generated and remembered when not given
   * @param {string} [options.deviceName] default "wattbridge"
   * @param {string} [options.firmwareVersion]
   * @param {{get: Function, put: Function, delete: Function}} [options.store]
   */
  constructor({ store, ...config } = {}) {
    this.#device = new EnergyIdDevice(JSON.stringify(config), store ?? defaults.store());
  }

  /** Introduce the device; resolves to `{status: 'needs_claiming', claimCode, claimUrl, expiresAt}` or `{status: 'claimed', ...}`. */
  async hello() {
    return JSON.parse(await this.#device.hello());
  }

  /**
   * Send one reading or several in one request. `ts` may be unix seconds, a
   * Date or an ISO 8601 string; it defaults to now.
   * @param {object | object[]} readings e.g. `{ ts: new Date(), el: 1250.5, pv: 3560 }`
   */
  async send(readings) {
    const list = Array.isArray(readings) ? readings : [readings];
    return JSON.parse(await this.#device.send(JSON.stringify(list.map(normalizeReading))));
  }
}

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

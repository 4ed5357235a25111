// Jeedom: Linky and Weheat values, with their history, in the info commands of
// virtual equipments, over Jeedom's JSON-RPC API. Everything Jeedom-specific —
// the calls, equipments and commands, local datetimes, what was already sent —
// is Rust (src/jeedom, src/bridge/sinks/jeedom.rs); this file hands it the URL
// and key, and gathers the values that are not interval energy.

import { WattbridgeError } from './errors.js';
import { SESSION } from './internal.js';

/**
 * A Jeedom box to write into.
 * `url`: e.g. `https://jeedom.local` (or ending in `/jeedom`; https, or http
 * to this machine). `apiKey`: Jeedom's API key (Settings → System →
 * Configuration → API), sent in request bodies only, never logged.
 */
export class Jeedom {
  #apiKey;
  /**
   * @param {{url: string, apiKey: string, object?: string, timezone?: string, currency?: string, correctionDays?: number}} options
   */
  constructor({ url, apiKey, object, timezone, currency, correctionDays } = {}) {
    if (!url) throw new WattbridgeError('Jeedom needs its URL (jeedom.url), e.g. https://jeedom.local', { code: 'invalid_config', provider: 'jeedom' });
    if (!apiKey) throw new WattbridgeError('Jeedom needs its API key (Jeedom: Settings → System → Configuration → API): set WATTBRIDGE_JEEDOM_API_KEY or run `wattbridge config init`', { code: 'invalid_config', provider: 'jeedom' });
    this.url = url;
    this.#apiKey = apiKey;
    this.options = { object, timezone, currency, correctionDays };
  }

  /**
   * Add this Jeedom to a sync job (package-internal: sync() uses it).
   * `context`: what the current values are gathered from.
   */
  [SESSION](job, context) {
    const skipped = [];
    job.addJeedom(this.url, this.#apiKey, this.options, () => currentValues(context, skipped));
    return { skipped };
  }

  /** `[redacted]`: the key never prints. */
  toJSON() {
    return { url: this.url, apiKey: '[redacted]' };
  }
}

const PERIODS = ['yesterday', 'thisWeek', 'lastWeek', 'thisMonth', 'lastMonth', 'thisYear'];
const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const WEHEAT = [
  ['state', 'stateName'],
  ['outside_temperature', 'outside'],
  ['water_in_temperature', 'waterIn'],
  ['water_out_temperature', 'waterOut'],
  ['room_temperature', 'room'],
  ['dhw_temperature', 'dhwTop'],
  ['cop', 'cop'],
];

/**
 * The values that are not interval energy, as the Jeedom sink takes them
 * (`{source, subject, cmd, value, atMs?}`): Linky's period totals and their
 * cost and its daily max power (at the peak's time), the pump's state,
 * temperatures and COP. A source that cannot give them is noted in `skipped`
 * and left out; the interval energy goes on.
 * @param {{linky?: import('./linky.js').Linky|null, weheat?: import('./weheat.js').Weheat|null, tariff?: object, since?: string}} context
 * @param {{source: string, code: string, message: string}[]} skipped
 */
export async function currentValues({ linky, weheat, tariff, since } = {}, skipped = []) {
  const values = [];
  const skip = (source, err) => skipped.push({ source, code: err.code ?? 'bad_response', message: err.message });
  // Linky takes Paris days: a `since` that is not one is read as an instant.
  const from = since === undefined || since === null || since === '' || /^\d{4}-\d{2}-\d{2}$/.test(since) ? since || undefined : new Date(since);
  if (linky) {
    try {
      // Max power is a series of its own: fetched like the others (what is missing, and the correction window).
      await linky.fetch('max-power', { from });
      const stats = await linky.stats({ tariff });
      const subject = stats.meter;
      for (const period of PERIODS) {
        const { kwh, cost } = stats.periods[period];
        values.push({ source: 'linky', subject, cmd: snake(period), value: Math.round(kwh * 1000) / 1000 });
        if (cost !== null && cost !== undefined) values.push({ source: 'linky', subject, cmd: `${snake(period)}_cost`, value: Math.round(cost * 100) / 100 });
      }
      for (const row of await linky.history('max-power', { from })) {
        const atMs = Date.parse(row.peak_at ?? row.start);
        values.push({ source: 'linky', subject, cmd: 'daily_consumption_max_power', value: row.value, atMs });
      }
    } catch (err) {
      skip('linky', err);
    }
  }
  if (weheat) {
    try {
      const latest = await weheat.latest();
      for (const [cmd, field] of WEHEAT) {
        const value = latest[field];
        if (value !== null && value !== undefined) values.push({ source: 'weheat', subject: latest.pump, cmd, value: typeof value === 'number' ? Math.round(value * 100) / 100 : value });
      }
    } catch (err) {
      skip('weheat', err);
    }
  }
  return values;
}

/**
 * Write new Linky and Weheat data into Jeedom: sync() with Jeedom as the only target.
 * @param {Parameters<typeof import('./sync.js').sync>[0] & {jeedom: Jeedom}} options
 */
export async function pushToJeedom(options) {
  const { sync } = await import('./sync.js');
  return sync({ ...options, energyid: null, homeassistant: null });
}

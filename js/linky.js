// Linky for JS users: log in (device flow, Conso token or own Enedis app),
// fetch the five Enedis series into the local history, export, statistics.

import { LinkySession, parseEnedisAnswer as parseAnswer } from '../pkg/wattbridge.js';
import { OAuthClient } from './oauth.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { SESSION, requireWasm } from './internal.js';

/** The series names, as the CLI and `fetch` take them. */
export const LINKY_SERIES = ['daily', 'load-curve', 'max-power', 'production', 'production-load-curve'];

export class Linky {
  #session;
  #store;

  /**
   * @param {object} [options]
   * @param {'gateway'|'conso'|'enedis'} [options.access] default: `conso` when `consoToken` is set, else `gateway`
   * @param {'prod'|'test'} [options.gateway] the gateway deployment (default `prod`): sets its URL and client id together
   * @param {string} [options.gatewayUrl] device-flow gateway (default from `gateway`: https://enedis.domoticz.russandol.pro, test under /domoticzlinkyconnect)
   * @param {string} [options.clientId] client id at the gateway (default from `gateway`: production d198fd52-61c0-4b77-8725-06a1ef90da9f, test 9c551777-9d1b-447c-9e68-bfe6896ee002)
   * @param {string} [options.refreshPath] where the gateway renews tokens (default /device/token; /device/proxy for the old scenario's gateway)
   * @param {string} [options.userAgent] User-Agent on every gateway call (default wattbridge/<version>)
   * @param {string} [options.consoApiUrl] Conso API (default https://conso.boris.sh/api)
   * @param {string} [options.consoToken] Conso API token: enough on its own to fetch
   * @param {number} [options.consoBudget] Conso API requests allowed in any 12 h, retries included (default 90: it bans an IP after about 100)
   * @param {string} [options.enedisApiUrl] own Enedis app: Data Connect API (default https://gw.ext.prod.api.enedis.fr)
   * @param {string} [options.appClientId] own Enedis app: client id
   * @param {string} [options.appClientSecret] own Enedis app: client secret
   * @param {string} [options.consentUrl] own Enedis app: consent page
   * @param {string} [options.meter] the meter (PRM, 14 digits) when the consent covers several
   * @param {number} [options.correctionDays] recent days fetched again each time (default 3)
   * @param {number} [options.maxRequestsPerSecond] default 5, Enedis' quota
   * @param {import('./index.js').Store} [options.store]
   */
  constructor({ store, ...config } = {}) {
    requireWasm();
    this.#store = store ?? defaults.store();
    this.#session = new LinkySession(dropUndefined(config), this.#store);
  }

  /** @internal the wasm object, for sync() */
  get [SESSION]() {
    return this.#session;
  }

  /** `gateway`, `conso` or `enedis`. */
  get access() {
    return this.#session.access();
  }

  /** The OAuth client behind the gateway or the app (null with a Conso token). */
  oauth() {
    const config = this.#session.oauthConfig();
    return config ? new OAuthClient({ ...config, store: this.#store }) : null;
  }

  /** Device-flow login at the gateway; `onVerification({user_code, verification_uri, ...})` shows the code. */
  async login({ onVerification, timeoutSeconds } = {}) {
    if (this.access !== 'gateway') {
      throw new WattbridgeError(`login is for the device-flow gateway; this Linky uses ${this.access === 'conso' ? 'a Conso API token' : 'an own Enedis app'}`, { code: 'invalid_input', provider: 'linky' });
    }
    return this.oauth().loginWithDeviceCode({ onVerification, timeoutSeconds });
  }

  /**
   * Keep gateway tokens obtained by another install, stored like our own:
   * `{access_token, refresh_token?, expires_in?, usage_points_id}` (the
   * gateway's token answer; the meters may also be `usage_point_id`, `meter`
   * or `meters: [...]`), or `{device_code}` of a login approved elsewhere.
   * Resolves to the token status, never the tokens.
   * @param {string | object} tokens JSON text or the parsed object
   */
  async importTokens(tokens) {
    return this.#session.importTokens(typeof tokens === 'string' ? tokens : JSON.stringify(tokens ?? null));
  }

  async logout() {
    await this.oauth()?.logout();
  }

  /** The meters (PRM) the consent covers. */
  async meters() {
    return this.#session.meters();
  }

  /**
   * Fetch a series into the local history: only what is not stored yet, plus
   * the correction window. `from`/`to` are `YYYY-MM-DD` (Paris dates, `to`
   * exclusive); by default everything Enedis keeps, up to yesterday.
   * @returns {Promise<{meter, series, from, to, windows, requests, minimumRequests, points, holes, skipped}>}
   */
  async fetch(series, { from, to, onProgress } = {}) {
    const progress = onProgress ? (done, total) => onProgress({ done, total }) : undefined;
    return this.#session.fetch(String(series), dateArg(from), dateArg(to), progress);
  }

  /** Stored values of `[from, to)` as parsed JSON rows. */
  async history(series, { from, to } = {}) {
    return JSON.parse(await this.#session.export(String(series), dateArg(from) ?? '', dateArg(to) ?? '', 'json'));
  }

  /** Stored values as text: `format` is `json` or `csv`. */
  async export(series, { from, to, format = 'csv' } = {}) {
    return this.#session.export(String(series), dateArg(from) ?? '', dateArg(to) ?? '', String(format));
  }

  /**
   * kWh for yesterday, this week, last week, this month, last month and this
   * year (cost when a tariff with prices is given), the daily series of
   * `[from, to)` (default this month) and yesterday hour by hour. Reads the
   * local history only: fetch `daily` (and `load-curve` for peak/off-peak) first.
   * @param {{tariff?: {tariff?: 'base'|'hphc', priceBase?: number, priceHp?: number, priceHc?: number, offpeakHours?: string}, from?: string, to?: string}} [options]
   */
  async stats({ tariff, from, to } = {}) {
    const settings = tariff ? dropUndefined(tariff) : undefined;
    return this.#session.stats(settings, dateArg(from), dateArg(to));
  }

  /**
   * Fetch what `stats()` needs that is not stored yet: daily values back to
   * the start of the year (or of last month, in January), and for peak/off-peak
   * the load curve too. Resolves to one fetch report per series.
   * @param {{tariff?: {tariff?: 'base'|'hphc'}, onProgress?: (p: {series: string, done: number, total: number}) => void}} [options]
   */
  async fetchForStats({ tariff, onProgress } = {}) {
    const { periods } = await this.stats({ tariff });
    const from = periods.thisYear.from < periods.lastMonth.from ? periods.thisYear.from : periods.lastMonth.from;
    const reports = [];
    for (const series of tariff?.tariff === 'hphc' ? ['daily', 'load-curve'] : ['daily']) {
      reports.push(await this.fetch(series, { from, onProgress: onProgress && ((p) => onProgress({ series, ...p })) }));
    }
    return reports;
  }

  /** Stored energy from `fromSeconds` on (all when not given) as `[{start, end, kwh}]`, unix seconds (for sync). */
  async energySince(series, fromSeconds) {
    return this.#session.energySince(String(series), fromSeconds ?? undefined);
  }

  /** Token, consent, and per series what is stored and missing. */
  async status() {
    return this.#session.status();
  }

  /** Own Enedis app: the page where a customer consents (3 years). */
  async consentUrl({ redirectUri } = {}) {
    return this.#session.consentUrl(redirectUri);
  }

  /** Own Enedis app: read the consent redirect; resolves to the meters. */
  async completeConsent(callbackUrl) {
    return this.#session.completeConsent(String(callbackUrl));
  }
}

/**
 * Read an Enedis metering answer you already have (Data Connect's JSON or the
 * Conso API's) into UTC intervals: `{points: [{start, end, value, at?}], holes}`,
 * times in unix ms. Load-curve stamps are interval ends in Paris wall time.
 */
export function parseEnedisAnswer(series, body) {
  return JSON.parse(parseAnswer(String(series), typeof body === 'string' ? body : JSON.stringify(body)));
}

// Enedis dates are Paris calendar days: a Date is the day it is in Paris (a
// Date at Paris midnight is 23:00 or 22:00 UTC the day before), never its UTC
// day nor the machine's. 'en-CA' formats as YYYY-MM-DD; Intl with a time zone
// works the same in Node and browsers. Made on first use: building it loads
// the time-zone data (~20 ms), which a CLI start-up should not pay for nothing.
let parisDay;

function dateArg(value) {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new WattbridgeError('expected a valid Date or a YYYY-MM-DD Paris date, got an invalid Date', { code: 'invalid_input', provider: 'linky' });
    parisDay ??= new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });
    return parisDay.format(value);
  }
  return String(value);
}

function dropUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

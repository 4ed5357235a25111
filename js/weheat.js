// Weheat for JS users: log in (password or code + PKCE through Keycloak),
// read pumps, logs and energy with electricity, heat and COP, fill gaps and
// watch a pump, all within a per-account request budget.

import { WeheatSession, energyFromWeheatLogs as energyFromLogs } from '../pkg/wattbridge.js';
import { OAuthClient } from './oauth.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { SESSION, requireWasm } from './internal.js';

export const WEHEAT_INTERVALS = ['Minute', 'FiveMinute', 'FifteenMinute', 'Hour', 'Day', 'Week', 'Month', 'Year'];

export class Weheat {
  #session;
  #store;

  /**
   * @param {object} [options]
   * @param {string} [options.authUrl] Keycloak realm, default https://auth.weheat.nl/auth/realms/Weheat (newer: …/realms/Weheat)
   * @param {string} [options.apiUrl] default https://api.weheat.nl (newer: https://api.weheat.nl/third_party)
   * @param {string} [options.clientId] default WeheatCommunityAPI
   * @param {number} [options.budgetPerHour] requests per hour for the account, retries included (default 30)
   * @param {string} [options.pump] heat pump id when the account has several (default: the first)
   * @param {number} [options.gapFillSecs] seconds between two runs of watch's gap filler, ±10 % jitter (default 600, at least 60)
   * @param {number} [options.firstLoadSecs] how far back a new install's first load reaches (default 7200: 2 h)
   * @param {import('./index.js').Store} [options.store]
   */
  constructor({ store, ...config } = {}) {
    requireWasm();
    this.#store = store ?? defaults.store();
    const settings = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined && v !== null && v !== ''));
    this.#session = new WeheatSession(settings, this.#store);
  }

  /** @internal the wasm object, for sync() */
  get [SESSION]() {
    return this.#session;
  }

  /** The Keycloak client behind the account: loginWithPassword, loginWithRedirect, logout, status. */
  oauth() {
    return new OAuthClient({ ...this.#session.oauthConfig(), store: this.#store });
  }

  async me() {
    return this.#session.me();
  }

  async pumps() {
    return this.#session.pumps();
  }

  /** The pump `id`, else the configured one, else the account's first (looked up once: the budget is small). */
  async pump(id) {
    // The default pump is looked up once per Weheat object (in the session).
    return this.#session.pump(id ?? undefined);
  }

  /** The latest log with state name, temperatures (none for -1), compressor %, power and COP. */
  async latest({ pump } = {}) {
    return this.#session.latest(pump);
  }

  /** Raw logs (no `interval`, 4-hour windows) or aggregated logs, over `[from, to)`. */
  async logs({ pump, from, to, interval, onProgress } = {}) {
    const id = pump ?? (await this.pump()).id;
    return (await this.#session.logs(id, seconds(from, 'from'), seconds(to ?? new Date(), 'to'), interval, progress(onProgress)));
  }

  /** Energy buckets (Hour, Day, Week, Month, Year) with electricity, heat and COP, and their total. */
  async energy({ pump, from, to, interval = 'Day', onProgress } = {}) {
    const id = pump ?? (await this.pump()).id;
    return (await this.#session.energy(id, seconds(from, 'from'), seconds(to ?? new Date(), 'to'), interval, progress(onProgress)));
  }

  /** Lifetime totals with electricity, heat and COP. */
  async totals({ pump } = {}) {
    const id = pump ?? (await this.pump()).id;
    return this.#session.totals(id);
  }

  /** Fetch the energy buckets missing since the last stored one (first run: since `since`), fewest requests. */
  async fillEnergy({ pump, interval = 'Hour', since, onProgress } = {}) {
    const id = pump ?? (await this.pump()).id;
    return (await this.#session.fillEnergy(id, interval, seconds(since ?? new Date(Date.now() - 7 * 86_400_000), 'since'), progress(onProgress)));
  }

  /** Stored energy buckets of `[from, to)`. */
  async storedEnergy({ pump, interval = 'Hour', from, to } = {}) {
    const id = pump ?? (await this.pump()).id;
    return (await this.#session.storedEnergy(id, interval, seconds(from, 'from'), seconds(to ?? new Date(), 'to')));
  }

  /** Complete stored buckets from `fromSeconds` on as `{electricity, heat}` interval lists (for sync). */
  async energySince({ pump, interval = 'Hour', fromSeconds = 0 } = {}) {
    const id = pump ?? (await this.pump()).id;
    return this.#session.energySince(id, interval, fromSeconds);
  }

  /** Fill the live feed since its last point, at `resolutionSeconds` (default 300); a new install starts `firstLoadSeconds` (2 h) back. */
  async fillFeed({ pump, resolutionSeconds = 300, since, onProgress } = {}) {
    const id = pump ?? (await this.pump()).id;
    return (await this.#session.fillFeed(id, resolutionSeconds, since === undefined || since === null ? undefined : seconds(since, 'since'), progress(onProgress)));
  }

  /** The stored feed of `[from, to)`. */
  async feed({ pump, from, to } = {}) {
    const id = pump ?? (await this.pump()).id;
    return (await this.#session.feed(id, seconds(from, 'from'), seconds(to ?? new Date(), 'to')));
  }

  /**
   * Watch a pump within the budget: `onEvent({event: 'latest'|'energy'|'powerEnergy'|'gapFill'|'error', ...})`
   * (`powerEnergy`: Weheat gave no energy logs, so the energy comes from the feed's power readings).
   * Runs until `durationSeconds` passes (forever when not given) or the login ends.
   */
  async watch({ pump, resolutionSeconds = 300, durationSeconds, onEvent = () => {} } = {}) {
    await this.#session.watch(pump, resolutionSeconds, durationSeconds, (event) => onEvent(event));
  }

  /** Requests the account may still send this hour. */
  async budgetLeft() {
    return this.#session.budgetLeft();
  }
}

/**
 * The energy of logs you already have: raw logs by integrating their power
 * fields (`cmMassPowerIn/Out`, W), aggregated logs (`logs({interval})`) from
 * their average powers × `timeCoveredInInterval`:
 * `{logs, energy: {electricityKwh, heatKwh, cop} | null}`.
 */
export function energyFromWeheatLogs(body) {
  return energyFromLogs(typeof body === 'string' ? body : JSON.stringify(body));
}

function progress(onProgress) {
  return onProgress ? (done, total) => onProgress({ done, total }) : undefined;
}

/** A Date, an ISO 8601 string or unix seconds, as unix seconds. */
export function seconds(value, name) {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value);
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new WattbridgeError(`${name} ${JSON.stringify(String(value))} is not a time: use a Date, an ISO 8601 string or unix seconds`, { code: 'invalid_input', provider: 'weheat' });
  }
  return Math.floor(ms / 1000);
}

// The main job as one call: Linky and Weheat interval data become the
// cumulative meter readings EnergyID expects, queued in its durable outbox and
// uploaded within its policy, and/or Home Assistant's hourly statistics,
// and/or Jeedom's commands and their history. The bridge itself (cursors, index, block policy,
// fallbacks, merge) is Rust (src/bridge/); this only hands it the sessions.

import { SyncJob } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { SESSION, requireWasm } from './internal.js';

/** Which EnergyID key each source fills (documented in the README; all changeable). */
export const DEFAULT_MAPPING = {
  linkyConsumption: 'el',
  /** `pv` for a full-sale installation; null to skip. */
  linkyProduction: 'el-i',
  heat: 'heat',
  heatPumpElectricity: 'el.heatpump',
};

/**
 * Run one sync.
 * @param {object} options
 * @param {import('./linky.js').Linky | null} [options.linky]
 * @param {import('./weheat.js').Weheat | null} [options.weheat]
 * @param {import('./energyid.js').EnergyId | null} [options.energyid] the EnergyID target
 * @param {import('./homeassistant.js').HomeAssistant | null} [options.homeassistant] also (or only) import into HA's statistics
 * @param {boolean} [options.mqtt] also keep each series' newest index for the MQTT publisher (report.mqtt.energy)
 * @param {import('./jeedom.js').Jeedom | null} [options.jeedom] also (or only) write into Jeedom's commands
 * @param {{tariff?: 'base'|'hphc', priceBase?: number, priceHp?: number, priceHc?: number, offpeakHours?: string}} [options.tariff] prices for HA's cost statistic (as linky.stats takes them)
 * @param {Partial<typeof DEFAULT_MAPPING>} [options.mapping]
 * @param {Record<string, number>} [options.startIndex] kWh meter reading per EnergyID key at the first data
 * @param {string|Date} [options.since] limit the first backfill (default: as far as the sources allow; Weheat one year)
 * @param {'half-hour'|'hour'|'day'} [options.resolution] Linky: half-hour (load curve, falling back to daily) or day
 * @param {boolean} [options.dryRun] fetch and compute, queue and send nothing
 * @param {number} [options.maxWaitSeconds] wait this long at most for EnergyID's next upload slot (default 900)
 * @param {boolean} [options.retryBlocked] try sources blocked by an error a person must resolve
 * @param {(p: {stage: string, done: number, total: number}) => void} [options.onProgress]
 * @param {import('./index.js').Store} [options.store] where cursors live (default: the package's store)
 */
export async function sync({
  linky = null,
  weheat = null,
  energyid = null,
  mqtt = false,
  homeassistant = null,
  jeedom = null,
  tariff,
  mapping = {},
  startIndex = {},
  since,
  resolution = 'half-hour',
  dryRun = false,
  maxWaitSeconds = 900,
  retryBlocked = false,
  onProgress = () => {},
  store = defaults.store(),
} = {}) {
  if (!energyid && !homeassistant && !jeedom && !mqtt) throw new WattbridgeError('sync needs a target: an EnergyID device, a Home Assistant, a Jeedom or mqtt', { code: 'invalid_config' });
  requireWasm();
  const job = new SyncJob(store);
  if (linky) job.addLinky(linky[SESSION]);
  if (weheat) job.addWeheat(weheat[SESSION]);
  if (energyid) job.addEnergyId(energyid[SESSION]);
  if (mqtt) job.addMqtt();
  let ha = null;
  const options = {
    since: sinceSeconds(since),
    resolution,
    dryRun: Boolean(dryRun),
    retryBlocked: Boolean(retryBlocked),
    maxWaitSeconds: Number(maxWaitSeconds),
    mapping: { ...DEFAULT_MAPPING, ...mapping },
    startIndex: Object.fromEntries(Object.entries(startIndex).map(([k, v]) => [k, Number(v)])),
  };
  try {
    // Jeedom also takes values that are not interval energy, gathered when it delivers.
    const jeedomSession = jeedom ? jeedom[SESSION](job, { linky, weheat, tariff, since }) : null;
    let unreachable = null;
    if (homeassistant) {
      try {
        ha = await homeassistant[SESSION](tariff);
        ha.add(job);
      } catch (err) {
        // Alone, HA unreachable fails the run before anything is fetched; next
        // to EnergyID or Jeedom, they go on and the report says what HA needs.
        if (!energyid && !jeedom) throw err;
        unreachable = err;
      }
    }
    const report = await job.run(options, (stage, done, total) => onProgress({ stage, done, total }));
    if (jeedomSession?.skipped.length && report.jeedom) report.jeedom.skipped = jeedomSession.skipped;
    if (unreachable) {
      report.ha = { status: 'error', queued: 0, retry: true, error: { ...unreachable.toJSON(), disposition: 'retry_later' } };
      report.ok = false;
    }
    return report;
  } finally {
    ha?.socket.close();
    job.free();
  }
}

/**
 * `since` as unix seconds. Linky takes the Paris day of that instant (the
 * bridge converts), so a Date at Paris midnight stays that day.
 */
function sinceSeconds(since) {
  if (since === undefined || since === null || since === '') return undefined;
  const ms = new Date(since).getTime();
  if (Number.isNaN(ms)) throw new WattbridgeError(`--since ${since} is not a date`, { code: 'invalid_input' });
  return Math.floor(ms / 1000);
}

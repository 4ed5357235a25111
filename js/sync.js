// The main job as one call: Linky and Weheat interval data become the
// cumulative meter readings EnergyID expects, queued in its durable outbox and
// uploaded within its policy. Works the same from the CLI, a Node script or a page.

import { continueIndex } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';

/** Which EnergyID key each source fills (documented in the README; all changeable). */
export const DEFAULT_MAPPING = {
  linkyConsumption: 'el',
  /** `pv` for a full-sale installation; null to skip. */
  linkyProduction: 'el-i',
  heat: 'heat',
  heatPumpElectricity: 'el.heatpump',
};

/** Errors a person must resolve: retrying them every hour helps nobody. */
const NEEDS_A_PERSON = new Set(['consent_required', 'auth_required', 'invalid_credentials', 'not_claimed', 'invalid_config']);
/** A source blocked by such an error is tried again after this long anyway (or at once after a login). */
const BLOCK_MS = 24 * 3600_000;

const cursorKey = (key) => `sync/cursor/${key}`;
const blockKey = (source) => `sync/blocked/${source}`;

async function readJson(store, key) {
  const text = await store.get(key);
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new WattbridgeError(`stored document '${key}' cannot be read; it was left untouched: restore it or delete it to start over`, { code: 'corrupt_state' });
  }
}

/**
 * Run one sync.
 * @param {object} options
 * @param {import('./linky.js').Linky | null} [options.linky]
 * @param {import('./weheat.js').Weheat | null} [options.weheat]
 * @param {import('./energyid.js').EnergyId} options.energyid
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
  energyid,
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
  if (!energyid) throw new WattbridgeError('sync needs an EnergyID device to send to', { code: 'invalid_config' });
  const keys = { ...DEFAULT_MAPPING, ...mapping };
  const sinceSecs = since === undefined || since === null ? undefined : Math.floor(new Date(since).getTime() / 1000);
  if (sinceSecs !== undefined && Number.isNaN(sinceSecs)) throw new WattbridgeError(`--since ${since} is not a date`, { code: 'invalid_input' });
  const started = Date.now();
  const report = { sources: {}, energyid: null, dryRun, seconds: 0 };
  const pending = []; // [{key, readings, cursor}] written after the enqueue

  const run = async (name, work) => {
    const blocked = await readJson(store, blockKey(name));
    if (blocked && !retryBlocked && Date.now() - blocked.atMs < BLOCK_MS) {
      report.sources[name] = { status: 'skipped', error: blocked, retry: false };
      return;
    }
    try {
      report.sources[name] = { status: 'ok', ...(await work()) };
      if (blocked) await store.delete(blockKey(name));
    } catch (err) {
      if (!(err instanceof WattbridgeError)) throw err;
      const error = err.toJSON();
      const needsPerson = NEEDS_A_PERSON.has(err.code);
      if (needsPerson && !dryRun) await store.put(blockKey(name), JSON.stringify({ ...error, atMs: Date.now() }));
      report.sources[name] = { status: 'error', error, retry: !needsPerson };
    }
  };

  /** Turn intervals into readings for `key`, continuing its stored index. */
  const index = async (key, intervals) => {
    const cursor = await readJson(store, cursorKey(key));
    const { readings, cursor: next } = JSON.parse(continueIndex(JSON.stringify(intervals), JSON.stringify(cursor), Number(startIndex[key] ?? 0)));
    if (readings.length) pending.push({ key, readings, cursor: next });
    return readings.length;
  };

  if (linky) {
    await run('linky', async () => {
      const progress = (stage) => ({ done, total }) => onProgress({ stage, done, total });
      const fetched = [];
      const from = sinceSecs === undefined ? undefined : new Date(sinceSecs * 1000).toISOString().slice(0, 10);
      let consumption = resolution === 'day' ? 'daily' : 'load-curve';
      try {
        fetched.push(await linky.fetch(consumption, { from, onProgress: progress(`linky ${consumption}`) }));
      } catch (err) {
        if (err.code !== 'no_data' || consumption === 'daily') throw err;
        // Hourly collection off: daily values still make a (coarser) index.
        consumption = 'daily';
        fetched.push(await linky.fetch(consumption, { from, onProgress: progress('linky daily') }));
      }
      let readings = await index(keys.linkyConsumption, await linky.energySince(consumption, (await readJson(store, cursorKey(keys.linkyConsumption)))?.ts));
      let production = keys.linkyProduction ? (consumption === 'daily' ? 'production' : 'production-load-curve') : null;
      let probes = 0;
      // A meter found not to produce (wrong_direction) is not asked again.
      const known = (await linky.status()).series.find((x) => x.series === production);
      if (known?.lastError?.code === 'wrong_direction') production = null;
      if (production) {
        try {
          fetched.push(await linky.fetch(production, { from, onProgress: progress(`linky ${production}`) }));
          readings += await index(keys.linkyProduction, await linky.energySince(production, (await readJson(store, cursorKey(keys.linkyProduction)))?.ts));
        } catch (err) {
          // A meter that does not produce is not an error of the sync.
          if (err.code !== 'wrong_direction' && err.code !== 'no_data') throw err;
          production = null;
          probes = 1;
        }
      }
      return {
        meter: fetched[0]?.meter,
        series: [consumption, production].filter(Boolean),
        requests: fetched.reduce((n, r) => n + r.requests, 0) + probes,
        // The windows planned, plus the one request that found out the meter does not produce.
        minimumRequests: fetched.reduce((n, r) => n + r.windows, 0) + probes,
        holes: fetched.reduce((n, r) => n + r.holes.length, 0),
        readings,
      };
    });
  }

  if (weheat) {
    await run('weheat', async () => {
      const pump = await weheat.pump();
      const firstSince = sinceSecs ?? Math.floor(Date.now() / 1000) - 365 * 86_400;
      const fill = await weheat.fillEnergy({ pump: pump.id, interval: 'Hour', since: firstSince, onProgress: ({ done, total }) => onProgress({ stage: 'weheat energy', done, total }) });
      const heatFrom = (await readJson(store, cursorKey(keys.heat)))?.ts ?? 0;
      const elFrom = (await readJson(store, cursorKey(keys.heatPumpElectricity)))?.ts ?? 0;
      const energy = await weheat.energySince({ pump: pump.id, interval: 'Hour', fromSeconds: Math.min(heatFrom, elFrom) });
      const readings = (await index(keys.heat, energy.heat)) + (await index(keys.heatPumpElectricity, energy.electricity));
      const totals = energy.heat.reduce((s, b) => s + b.kwh, 0);
      const used = energy.electricity.reduce((s, b) => s + b.kwh, 0);
      // One budget request counts for the pump lookup when no pump is configured.
      return { pump: pump.id, requests: fill.requests + 1, minimumRequests: fill.minimumRequests, readings, heatKwh: totals, electricityKwh: used, cop: used > 0 ? totals / used : null };
    });
  }

  // Merge per timestamp: one object per ts carries every key that has a reading then.
  const byTs = new Map();
  for (const { key, readings } of pending) {
    for (const { ts, value } of readings) byTs.set(ts, { ...(byTs.get(ts) ?? { ts }), [key]: value });
  }
  const readings = [...byTs.values()].sort((a, b) => a.ts - b.ts);

  if (dryRun) {
    report.energyid = { wouldQueue: readings.length, values: pending.reduce((n, p) => n + p.readings.length, 0), first: readings.slice(0, 3), last: readings.slice(-3) };
  } else {
    if (readings.length) await energyid.enqueue(readings);
    // Cursors move only once the readings are safe in the outbox: a crash in
    // between makes the next run queue the same readings again (a no-op).
    for (const { key, cursor } of pending) await store.put(cursorKey(key), JSON.stringify(cursor));
    const queued = pending.reduce((n, p) => n + p.readings.length, 0);
    try {
      const flushed = await energyid.flush({ maxWaitSeconds, onProgress: ({ sent, total }) => onProgress({ stage: 'energyid upload', done: sent, total }) });
      report.energyid = { status: 'ok', queued, ...flushed };
    } catch (err) {
      if (!(err instanceof WattbridgeError)) throw err;
      // The readings wait in the outbox; the next sync sends them.
      report.energyid = { status: 'error', queued, error: err.toJSON(), retry: !NEEDS_A_PERSON.has(err.code) };
    }
  }
  report.seconds = (Date.now() - started) / 1000;
  report.ok = Object.values(report.sources).every((s) => s.status === 'ok') && report.energyid?.status !== 'error';
  return report;
}

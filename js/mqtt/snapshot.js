// The devices wattbridge publishes over MQTT, with their current values, read
// from the library: Linky's statistics and status from the local history, the
// heat pump's latest state (one request), the EnergyID outbox, and the meter
// indexes the bridge keeps for MQTT (the `mqtt` part of a sync report). A value
// that cannot be read is null and the reason goes to `problems`: a sensor
// shows "unknown" rather than a made-up 0.
import { topicId } from './discovery.js';

const round = (value, digits) => (typeof value === 'number' && Number.isFinite(value) ? Number(value.toFixed(digits)) : null);
const kwh = (value) => round(value, 3);

/** The Paris date `days` before `today` (YYYY-MM-DD). */
function daysBefore(today, days) {
  const date = new Date(`${today}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() - days);
  return date.toISOString().slice(0, 10);
}

let parisOffset;
/**
 * The start of a Paris day as HA's `last_reset` wants it: `2024-03-31T00:00:00+01:00`.
 * Paris changes its clock at 02:00 or 03:00, so the offset in force at 00:00 UTC
 * of that date is the one of its midnight.
 */
function parisMidnight(date) {
  parisOffset ??= new Intl.DateTimeFormat('en', { timeZone: 'Europe/Paris', timeZoneName: 'longOffset' });
  const zone = parisOffset.formatToParts(new Date(`${date}T00:00:00Z`)).find((part) => part.type === 'timeZoneName').value;
  return `${date}T00:00:00${zone.replace(/^GMT/, '') || '+00:00'}`;
}

const CONSENT = { consent_required: 'consent_required', auth_required: 'auth_required', invalid_credentials: 'auth_required' };

async function linkyDevice(linky, { tariff, energy, refresh }, problems) {
  const status = await linky.status();
  const meter = status.meter;
  if (!meter) {
    problems.push({ device: 'linky', code: status.problem?.code ?? 'auth_required', message: status.problem?.message ?? 'no Linky meter: log in first' });
    return null;
  }
  const values = {
    energy: kwh(energy[`linky_${meter}_consumption`]?.kwh),
    production_energy: kwh(energy[`linky_${meter}_production`]?.kwh),
    consent: status.problem ? CONSENT[status.problem.code] ?? 'error' : 'ok',
    last_data_day: status.series.find((s) => s.series === 'load-curve')?.lastDay ?? status.series.find((s) => s.series === 'daily')?.lastDay ?? null,
  };
  try {
    if (refresh) await linky.fetchForStats({ tariff });
    const { periods } = await linky.stats({ tariff });
    // A period with no day of data is unknown, not 0 kWh.
    const total = (period) => (period.daysWithData ? kwh(period.kwh) : null);
    Object.assign(values, {
      yesterday: total(periods.yesterday),
      this_week: total(periods.thisWeek),
      this_month: total(periods.thisMonth),
      this_year: total(periods.thisYear),
      yesterday_cost: periods.yesterday.daysWithData ? round(periods.yesterday.cost, 2) : null,
      yesterday_start: parisMidnight(periods.yesterday.from),
      this_week_start: parisMidnight(periods.thisWeek.from),
      this_month_start: parisMidnight(periods.thisMonth.from),
      this_year_start: parisMidnight(periods.thisYear.from),
    });
  } catch (err) {
    problems.push({ device: 'linky', code: err.code, message: err.message });
  }
  try {
    const yesterday = daysBefore(status.today, 1);
    if (refresh) await linky.fetch('max-power', { from: daysBefore(status.today, 7) });
    const [peak] = await linky.history('max-power', { from: yesterday, to: status.today });
    values.max_power = peak ? peak.value : null;
    values.max_power_at = peak?.peak_at ?? null;
  } catch (err) {
    problems.push({ device: 'linky', code: err.code, message: `max power: ${err.message}` });
  }
  const produces = energy[`linky_${meter}_production`] !== undefined;
  return { kind: 'linky', id: `linky_${topicId(meter)}`, name: `Linky ${meter}`, manufacturer: 'Enedis', model: 'Linky', omit: produces ? [] : ['production_energy'], values };
}

async function weheatDevice(weheat, { energy }, problems) {
  const values = {};
  let pump;
  try {
    pump = await weheat.pump();
    Object.assign(values, { electricity: kwh(energy[`weheat_${pump.id}_electricity`]?.kwh), heat: kwh(energy[`weheat_${pump.id}_heat`]?.kwh) });
    const latest = await weheat.latest({ pump: pump.id });
    Object.assign(values, {
      state: latest.stateName,
      water_in: round(latest.waterIn, 1),
      water_out: round(latest.waterOut, 1),
      outside: round(latest.outside, 1),
      room: round(latest.room, 1),
      compressor: round(latest.compressorPercent, 0),
      power_in: round(latest.powerInW, 0),
      power_out: round(latest.powerOutW, 0),
      cop: round(latest.cop, 2),
    });
  } catch (err) {
    problems.push({ device: 'weheat', code: err.code, message: err.message });
    if (!pump) return null;
  }
  return {
    kind: 'weheat',
    id: `weheat_${topicId(pump.id)}`,
    name: pump.name ? `Weheat ${pump.name}` : `Weheat ${pump.id}`,
    manufacturer: 'Weheat',
    model: 'Heat pump',
    swVersion: pump.firmwareVersion ?? undefined,
    values,
  };
}

async function energyIdDevice(energyid, lastError, problems) {
  let status;
  try {
    status = await energyid.status();
  } catch (err) {
    problems.push({ device: 'energyid', code: err.code, message: err.message });
    return null;
  }
  // Only an upload learns that the record's webhook is off: the sync's error says so.
  const state = !status.claimed ? 'needs_claim' : lastError?.code === 'webhook_disabled' ? 'disabled' : status.outbox ? 'waiting' : 'ok';
  return {
    kind: 'energyid',
    id: `energyid_${topicId(status.deviceId)}`,
    name: status.recordName ? `EnergyID ${status.recordName}` : 'EnergyID',
    manufacturer: 'EnergyID',
    model: 'Webhook',
    values: {
      outbox: status.outbox,
      last_upload: status.lastPostMs ? new Date(status.lastPostMs).toISOString() : null,
      status: state,
    },
  };
}

/**
 * Every configured device with its values.
 * @param {object} sources
 * @param {import('../linky.js').Linky | null} [sources.linky]
 * @param {import('../weheat.js').Weheat | null} [sources.weheat]
 * @param {import('../energyid.js').EnergyId | null} [sources.energyid]
 * @param {Record<string, {ts: number, kwh: number}>} [sources.energy] the indexes of a sync report's `mqtt.energy` (`linky_<prm>_consumption`, `weheat_<pump>_heat`, …)
 * @param {object} [sources.tariff] Linky's tariff, as `linky.stats()` takes it
 * @param {{code: string} | null} [sources.energyidError] the error of EnergyID's last upload, when a sync just had one
 * @param {boolean} [sources.refresh] also fetch what is new of Linky's daily values and max power (a request or two)
 * @returns {Promise<{devices: import('./discovery.js').Device[], problems: {device: string, code: string, message: string}[]}>}
 */
export async function collectDevices({ linky = null, weheat = null, energyid = null, energy = {}, tariff, refresh = true, energyidError = null } = {}) {
  const problems = [];
  const devices = await Promise.all([
    linky && linkyDevice(linky, { tariff, energy, refresh }, problems),
    weheat && weheatDevice(weheat, { energy }, problems),
    energyid && energyIdDevice(energyid, energyidError, problems),
  ]);
  return { devices: devices.filter(Boolean), problems };
}

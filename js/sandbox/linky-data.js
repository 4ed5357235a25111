// Synthetic Linky meters for the sandbox Enedis services (linky.js). Every
// value is a pure function of (meter, series, instant): a seeded hash, never
// Math.random, so a test can ask twice and get the same answer.
//
// Rules a client test can rely on (../shared/contracts/linky.md §2):
// - load-curve values are average W per step, multiples of max(2, 60/step):
//   even, so every point's energy W × step / 60 is a whole Wh;
// - a day's daily value is exactly the energy of its full curve, summed over
//   the UTC intervals of that Paris day (46 half-hours on the spring-forward
//   day, 50 on the fall-back day);
// - max power is the day's highest curve value, dated by that point's end;
// - curve dates are interval ENDS in Europe/Paris wall time: a day of 30-min
//   steps runs from 00:30 to the next day's 00:00.
// The household serves the recorded fixtures for 2023-04-01 … 2023-04-03, the
// producer the recorded production of those days.

const DAY_MS = 86_400_000;

/** Meter name -> PRM. Each meter is one situation a client must handle. */
export const SANDBOX_LINKY_METERS = Object.freeze({
  household: '11111111111111',
  producer: '22222222222222',
  dst: '33333333333333',
  holes: '44444444444444',
  noconsent: '55555555555555',
  nocollection: '66666666666666',
  storm: '77777777777777',
  late: '88888888888888',
});

/** Every sandbox meter, household first: what a sandbox consent grants. */
export const SANDBOX_METERS = Object.values(SANDBOX_LINKY_METERS);

// ---------------------------------------------------------------- Paris time

const parisParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Paris',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function wallParts(ms) {
  const parts = {};
  for (const { type, value } of parisParts.formatToParts(ms)) parts[type] = value;
  return parts;
}

/** The Paris calendar date of an instant, `YYYY-MM-DD`. */
export function parisDate(ms) {
  const p = wallParts(ms);
  return `${p.year}-${p.month}-${p.day}`;
}

/** The Paris wall time of an instant, `YYYY-MM-DD HH:MM:SS` (or with `T`). */
export function parisWallTime(ms, separator = ' ') {
  const p = wallParts(ms);
  return `${p.year}-${p.month}-${p.day}${separator}${p.hour}:${p.minute}:${p.second}`;
}

const utcOfDate = (date) => Date.parse(`${date}T00:00:00Z`);
const isoOfUtc = (ms) => new Date(ms).toISOString().slice(0, 10);

// How far Paris wall time is ahead of UTC at an instant (ms).
const parisOffset = (ms) => Date.parse(`${parisWallTime(ms, 'T')}Z`) - ms;

/** The instant of 00:00 in Paris on `date` (Paris never changes clocks at midnight). */
export function parisMidnight(date) {
  const utc = utcOfDate(date);
  return utc - parisOffset(utc - parisOffset(utc));
}

/** A real calendar date written `YYYY-MM-DD`? */
export const isDate = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text ?? '') && isoOfUtc(utcOfDate(text)) === text;
export const addDays = (date, days) => isoOfUtc(utcOfDate(date) + days * DAY_MS);
export const daysBetween = (from, to) => Math.round((utcOfDate(to) - utcOfDate(from)) / DAY_MS);

/** `date` moved by whole months, the day clamped to the month's end (2024-03-31 − 1 month = 2024-02-29). */
export function addMonths(date, months) {
  const [y, m, d] = date.split('-').map(Number);
  const lastDay = new Date(Date.UTC(y, m - 1 + months + 1, 0)).getUTCDate();
  return isoOfUtc(Date.UTC(y, m - 1 + months, Math.min(d, lastDay)));
}

// ---------------------------------------------------------------- the meters

// 32-bit FNV-1a then murmur3's finaliser: a well-mixed number in [0, 1).
function noise(...key) {
  let h = 0x811c9dc5;
  for (const ch of key.join('|')) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

// 1 at the summer solstice, 0 at the winter one.
const summer = (ms) => 0.5 + 0.5 * Math.cos((2 * Math.PI * (ms / DAY_MS - 171)) / 365.25);

// Average household draw (W) for an interval starting `hour` hours after
// local midnight: low nights, a morning bump, evening peak, more in winter.
function consumption(prm, start, hour) {
  const r = noise(prm, 'c', start);
  const winter = 1 + 0.7 * (1 - summer(start));
  if (hour < 6 || hour >= 23) return winter * (80 + 120 * r);
  if (hour < 9) return winter * (250 + 550 * r);
  if (hour < 17) return winter * (120 + 380 * r);
  return winter * (500 + 1000 * r);
}

// PV output (W): zero at night, a bell between sunrise and sunset, wider and
// higher in summer, dimmed by the day's clouds.
function production(prm, start, hour, dayStart) {
  const s = summer(start);
  const rise = 8 - 2.5 * s;
  const set = 17 + 4.5 * s;
  if (hour <= rise || hour >= set) return 0;
  const clouds = 0.25 + 0.75 * noise(prm, 'clouds', dayStart);
  const bell = Math.sin((Math.PI * (hour - rise)) / (set - rise)) ** 2;
  return 3000 * (0.4 + 0.6 * s) * clouds * bell * (0.9 + 0.2 * noise(prm, 'p', start));
}

const thirtyMinutes = () => 30;

// The dst meter: hourly steps until 2024-06-01, then half-hours; that day
// itself goes PT60M -> PT15M at noon -> PT30M at 18:00, inside one answer.
const SWITCH_DAY = parisMidnight('2024-06-01');
function dstSteps(start) {
  if (start < SWITCH_DAY + 12 * 3_600_000) return 60;
  if (start < SWITCH_DAY + 18 * 3_600_000) return 15;
  return 30;
}

// Recorded answers (tests/fixtures/linky/, recorded by Enedis) the sandbox repeats exactly.
const RECORDED = {
  [SANDBOX_LINKY_METERS.household]: {
    consumption: {
      '2023-04-01': {
        daily: 11776,
        max: [4638, '12:06:20'],
        curve: [
          752, 346, 250, 154, 126, 110, 140, 236, 138, 104, 128, 234, 124, 104, 360, 124, 122, 108, 120, 106, 250, 108, 230, 1594,
          3150, 750, 1178, 566, 206, 440, 1510, 1004, 666, 446, 276, 510, 588, 404, 286, 2256, 1620, 684, 312, 166, 148, 86, 144, 88,
        ],
      },
      '2023-04-02': { daily: 14401, max: [4410, '19:27:46'] },
      '2023-04-03': { daily: 12820, max: [3570, '21:42:12'] },
    },
  },
  [SANDBOX_LINKY_METERS.producer]: {
    production: {
      '2023-04-01': {
        daily: 643,
        curve: [
          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 132, 112, 368,
          288, 16, 122, 102, 26, 24, 0, 0, 76, 16, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
      },
      '2023-04-02': { daily: 6 },
      '2023-04-03': { daily: 15411 },
    },
  },
};

const ordinary = { activation: '2019-01-01', production: false, steps: thirtyMinutes, separator: ' ' };
const M = SANDBOX_LINKY_METERS;
const METERS = {
  // Consumption only; repeats the recorded fixtures for 2023-04-01 … 2023-04-03.
  [M.household]: ordinary,
  // Consumption and PV production since the PV went in (recorded production for 2023-04-01 … 03).
  [M.producer]: { ...ordinary, activation: '2022-05-01', production: true },
  // Changing steps and `T` separators, for DST days at every step length.
  [M.dst]: { ...ordinary, activation: '2021-06-15', steps: dstSteps, separator: 'T' },
  // Every 10th day of the month missing everywhere; 10:00–11:00 missing from
  // the curve on even days (the daily index stays complete: only the curve
  // transmission failed).
  [M.holes]: {
    ...ordinary,
    activation: '2020-09-01',
    missingDay: (date) => Number(date.slice(8)) % 10 === 0,
    missingPoint: (date, wall) => Number(date.slice(8)) % 2 === 0 && /[ T](10:30|11:00)/.test(wall),
  },
  // Consent withdrawn at Enedis: 403 ADAM-DC-0008 whatever the call.
  [M.noconsent]: { ...ordinary, noConsent: true },
  // The "hourly collection" option is off: daily data only, curves 404 no_data_found.
  [M.nocollection]: { ...ordinary, activation: '2020-03-01', noCollection: true },
  // Throttled: two 429s out of every three calls (linky.js).
  [M.storm]: { ...ordinary, storm: true },
  // Enedis has not published yesterday yet (day D usually comes on D+1 from
  // about 08:00, sometimes D+2): data end the day before yesterday (linky.js).
  [M.late]: { ...ordinary, lagDays: 2 },
};

/** The meter behind a PRM; a PRM a test adds to the consent behaves like an ordinary household. */
export const meterOf = (prm) => ({ prm, ...(METERS[prm] ?? ordinary) });

// Scale a synthetic 30-minute curve so it integrates to a recorded daily total:
// round down to even W, then give the missing Wh (2 W each) to the largest points.
function fit(values, wh) {
  const total = values.reduce((sum, w) => sum + w / 2, 0);
  const scaled = values.map((w) => 2 * Math.floor((total ? (w * wh) / total : 0) / 2));
  const order = values.map((w, i) => [w, i]).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
  let missing = wh - scaled.reduce((sum, w) => sum + w / 2, 0);
  for (let k = 0; missing > 0; k = (k + 1) % order.length, missing--) scaled[order[k]] += 2;
  return scaled;
}

/**
 * The full curve of one Paris day: `{ end, step, value }` with `end` the
 * instant the interval ends (ms), `step` in minutes, `value` in W.
 */
function dayCurve(meter, direction, date) {
  const dayStart = parisMidnight(date);
  const dayEnd = parisMidnight(addDays(date, 1));
  const points = [];
  const clocksChange = dayEnd - dayStart !== DAY_MS; // only then does wall time drift from elapsed time
  for (let start = dayStart; start < dayEnd; ) {
    const step = meter.steps(start);
    const hour = (start - dayStart + (clocksChange ? parisOffset(start) - parisOffset(dayStart) : 0)) / 3_600_000;
    const watts = direction === 'production' ? production(meter.prm, start, hour, dayStart) : consumption(meter.prm, start, hour);
    const quantum = Math.max(2, 60 / step);
    points.push({ end: start + step * 60_000, step, value: quantum * Math.round(watts / quantum) });
    start += step * 60_000;
  }
  const recorded = RECORDED[meter.prm]?.[direction]?.[date];
  if (recorded?.curve) recorded.curve.forEach((w, i) => (points[i].value = w));
  else if (recorded) fit(points.map((p) => p.value), recorded.daily).forEach((w, i) => (points[i].value = w));
  return points;
}

const energy = (points) => points.reduce((sum, p) => sum + (p.value * p.step) / 60, 0);

/**
 * `interval_reading` of one series for the Paris days `[start, end[`, every
 * value a string as Enedis sends them. `kind` is `daily`, `max` or `curve`.
 */
export function intervalReadings(meter, kind, direction, start, end) {
  const readings = [];
  for (let date = start; date < end; date = addDays(date, 1)) {
    if (meter.missingDay?.(date)) continue;
    const points = dayCurve(meter, direction, date);
    if (kind === 'daily') {
      readings.push({ value: String(energy(points)), date });
    } else if (kind === 'max') {
      const recorded = RECORDED[meter.prm]?.[direction]?.[date]?.max;
      const peak = points.reduce((best, p) => (p.value > best.value ? p : best));
      readings.push(
        recorded
          ? { value: String(recorded[0]), date: `${date}${meter.separator}${recorded[1]}` }
          : { value: String(peak.value), date: parisWallTime(peak.end, meter.separator) },
      );
    } else {
      for (const p of points) {
        const wall = parisWallTime(p.end, meter.separator);
        if (meter.missingPoint?.(date, wall)) continue;
        readings.push({ value: String(p.value), date: wall, interval_length: `PT${p.step}M`, measure_type: 'B' });
      }
    }
  }
  return readings;
}

// Synthetic Weheat heat pumps for the sandbox Weheat API (weheat.js). Every
// value is a pure function of (pump, instant): a seeded hash, never
// Math.random, so a test can ask twice and get the same answer.
//
// Rules a client test can rely on (../shared/contracts/weheat.md §2):
// - one raw log per minute (`interval: 60`, seconds), from the pump's
//   commissioning to now; the log at `t` covers [t, t + 60 s[ and exists once
//   that minute is over (t + 60 s ≤ now);
// - `cmMassPowerIn`/`cmMassPowerOut` are whole multiples of 60 W, so every
//   log is a whole number of Wh (W × 60 s / 3600 = W / 60) and an energy
//   bucket is EXACTLY the sum of its logs' W / 60, in Wh (kWh = Wh / 1000);
// - energy categories follow the log's `state`: 40 Standby, 70 Heating,
//   130 Cooling, 150 and 160 Dhw, 200 HeatingDefrost, 230 DhwDefrost;
//   defrost and cooling heat out is negative;
// - heat out ≥ electricity in whenever the compressor heats; an hour's COP
//   (heat / electricity over its heating minutes) is 2.5 at −10 °C outside,
//   5 at +15 °C, linear in between;
// - buckets (energy and aggregated logs) are aligned in UTC: hours, days,
//   weeks from Monday 00:00, calendar months and years.

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Seconds between two raw logs (the raw log's `interval` field). */
export const LOG_INTERVAL_SECONDS = 60;

/** Pump name -> id. Each pump is one situation a client must handle. */
export const SANDBOX_WEHEAT_PUMPS = Object.freeze({
  blackbird: 'b1acb1d0-0080-4e5a-9d1c-5a4db0000001',
  hybrid: 'a7b71d00-0060-4c3e-8f2a-5a4db0000002',
  offline: '0ff11e00-0060-4b7d-a1e4-5a4db0000003',
});

// ---------------------------------------------------------------- hashing

// 32-bit FNV-1a of a string: a pump's seed.
function fnv(text) {
  let h = 0x811c9dc5;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

// murmur3's finaliser.
function mix(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A well-mixed number in [0, 1) from (seed, what, integer n). */
const noise = (seed, tag, n) => mix(mix(seed ^ Math.imul(tag, 0x9e3779b1)) ^ n) / 2 ** 32;

// What a noise value is for (so two uses of one instant never correlate).
const WEATHER = 1;
const DHW_LENGTH = 2;
const DEFROST_LENGTH = 3;
const DEFROST_AT = 4;
const RUN_AT = 5;
const JITTER = 6;
const AIR = 7;
const WATER = 8;
const ROOM = 9;
const SIGNAL = 10;

// ---------------------------------------------------------------- the pumps

const at = (iso) => Date.parse(iso);

const PUMPS = [
  // All-electric BlackBird P80 with a DHW tank and a room thermostat; cools on hot afternoons.
  {
    key: 'blackbird',
    name: 'Sandbox BlackBird',
    model: 0,
    serialNumber: 'SBX-P80-000001',
    dhwType: 1,
    boilerType: 1,
    firmwareVersion: '4.3.2',
    from: at('2024-11-01T00:00:00Z'),
    until: null,
    nominalRpm: 4500,
    capacity: 7980, // W of heat at full speed
    ua: 260, // W of heat per K below 16 °C outside
    dhw: true,
    cooling: true,
    room: true,
    boiler: false,
  },
  // Sparrow P60 next to an OpenTherm gas boiler: the boiler does the hot
  // water and tops up on cold days. No tank sensors (t1, t2, dhwFlow,
  // DhwValve null) and no room thermostat (tRoom, tRoomTarget -1).
  {
    key: 'hybrid',
    name: 'Sandbox Hybrid',
    model: 3,
    serialNumber: 'SBX-S60-000002',
    dhwType: 2,
    boilerType: 3,
    firmwareVersion: '4.1.0',
    from: at('2025-02-01T00:00:00Z'),
    until: null,
    nominalRpm: 5520,
    capacity: 5400,
    ua: 330,
    dhw: false,
    cooling: false,
    room: false,
    boiler: true,
  },
  // A BlackBird P60 that lost its connection: no log after 2025-09-14 07:11 UTC.
  {
    key: 'offline',
    name: 'Sandbox Offline',
    model: 1,
    serialNumber: 'SBX-P60-000003',
    dhwType: 1,
    boilerType: 1,
    firmwareVersion: '3.9.7',
    from: at('2025-01-06T00:00:00Z'),
    until: at('2025-09-14T07:12:00Z'),
    nominalRpm: 5520,
    capacity: 5940,
    ua: 220,
    dhw: true,
    cooling: false,
    room: true,
    boiler: false,
  },
].map((pump, index) => ({ ...pump, index, id: SANDBOX_WEHEAT_PUMPS[pump.key], seed: fnv(SANDBOX_WEHEAT_PUMPS[pump.key]) }));

/** Every sandbox pump, in list order. */
export const ALL_PUMPS = PUMPS;

/** The pump behind an id, or undefined. */
export const pumpById = (id) => PUMPS.find((pump) => pump.id === id);

const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * The instants of the pump's logs that exist at `now`: `[first, end[`, every
 * minute (`end` exclusive; empty when end ≤ first).
 */
export function logSpan(pump, now) {
  const end = Math.min(pump.until ?? Infinity, Math.floor(now / MINUTE) * MINUTE);
  return { first: pump.from, end };
}

// ---------------------------------------------------------------- physics

const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const q60 = (watts) => 60 * Math.round(watts / 60); // whole Wh per minute
const round2 = (x) => Math.round(x * 100) / 100;

/** Outside temperature (°C) at an instant: seasons, day and night, the weather of the day. */
function outside(pump, t) {
  const days = t / DAY;
  const seasonal = 10.5 - 8.5 * Math.cos((2 * Math.PI * (days - 20)) / 365.25); // coldest around 20 January
  const daily = -3 * Math.cos((2 * Math.PI * ((t % DAY) / HOUR - 4)) / 24); // coldest at 04:00 UTC
  const d = Math.floor(days);
  const weather = (a) => 10 * (noise(pump.seed, WEATHER, a) - 0.5);
  const f = days - d;
  return seasonal + daily + weather(d) * (1 - f) + weather(d + 1) * f;
}

// The electricity (W, a multiple of 60) that makes `heat` at `cop`, kept so heat / electricity stays within 2.5–5.
function inputFor(heat, cop) {
  let watts = Math.max(60, q60(heat / cop));
  while (heat / watts > 5) watts += 60;
  while (heat / watts < 2.5) watts -= 60;
  return watts;
}

const copAt = (temperature) => clamp(2.5 + 0.1 * (temperature + 10), 2.5, 5);
const supplyTarget = (temperature) => clamp(25 + 0.9 * (16 - temperature), 25, 50); // heating curve

const STANDBY_W = 60;
const DEFROST = { pIn: 1020, pOut: -1500 }; // W: the compressor pumps heat back to the outdoor coil
const COOLING = { pIn: 600, pOut: -1800 };

/**
 * What the pump does during hour `h` (hours since the epoch): its outside
 * temperature, COP, and segments `{from, to, state, pIn, pOut, jitter, gasBoiler}`
 * (minutes, always even, covering 0–60).
 */
function hourPlan(pump, h) {
  const start = h * HOUR;
  const temperature = outside(pump, start + 30 * MINUTE);
  const cop = copAt(temperature);
  const hourOfDay = h % 24;
  const weekday = (Math.floor(h / 24) + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  const demand = Math.max(0, pump.ua * (16 - temperature)); // no heating above 16 °C outside
  const segs = [];
  let minute = 0;
  const push = (len, seg) => {
    if (len > 0) segs.push({ from: minute, to: minute + len, jitter: false, gasBoiler: false, ...seg });
    minute += len;
  };
  const standby = (len, gasBoiler = false) => push(len, { state: 40, pIn: STANDBY_W, pOut: 0, gasBoiler });

  // Hot water: the tank every morning at 05:00 UTC, legionella on Sunday at 02:00.
  if (pump.dhw && hourOfDay === 5) {
    const len = 30 + 2 * Math.floor(noise(pump.seed, DHW_LENGTH, h) * 6);
    const dhwCop = Math.max(2.5, cop - 0.6);
    const dhw = { state: 150, pOut: 4800, pIn: inputFor(4800, dhwCop), jitter: true };
    if (temperature < 2) {
      push(10, dhw);
      push(4, { state: 230, ...DEFROST });
      push(len - 14, dhw);
    } else {
      push(len, dhw);
    }
  } else if (pump.dhw && weekday === 0 && hourOfDay === 2) {
    push(40, { state: 160, pOut: 4200, pIn: inputFor(4200, 2.5), jitter: true });
  }
  // The hybrid's boiler heats the hot water at 06:00 while the heat pump waits.
  if (pump.boiler && hourOfDay === 6) standby(20, true);

  const rest = 60 - minute;
  if (pump.boiler && temperature < -4) {
    standby(rest, true); // too cold for the hybrid: the boiler alone
  } else if (pump.cooling && temperature >= 24 && hourOfDay >= 10 && hourOfDay <= 20) {
    push(rest, { state: 130, ...COOLING });
  } else if (demand > 0) {
    const minimum = 0.3 * pump.capacity;
    const heat = q60(Math.max(minimum, Math.min(demand, pump.capacity)));
    // Below the lowest modulation the pump cycles: it runs part of the hour at its minimum.
    const run = demand >= minimum ? rest : Math.min(rest, 2 * Math.round((rest * demand) / minimum / 2));
    const offset = 2 * Math.floor(noise(pump.seed, RUN_AT, h) * ((rest - run) / 2 + 1));
    const heating = { state: 70, pOut: heat, pIn: inputFor(heat, cop), jitter: true, gasBoiler: pump.boiler && demand > pump.capacity };
    standby(offset);
    if (temperature < 4 && run >= 20) {
      const len = 4 + 2 * Math.floor(noise(pump.seed, DEFROST_LENGTH, h) * 3);
      const before = 2 + 2 * Math.floor(noise(pump.seed, DEFROST_AT, h) * ((run - len - 4) / 2 + 1));
      push(before, heating);
      push(len, { state: 200, ...DEFROST });
      push(run - before - len, heating);
    } else {
      push(run, heating);
    }
    standby(rest - offset - run);
  } else {
    standby(rest);
  }
  return { h, start, temperature, cop, hourOfDay, segs };
}

// The last plans asked for, by pump and hour: a raw-log request asks the same hours 60 times.
const planCache = new Map();
function plan(pump, h) {
  const key = h * 4 + pump.index;
  let found = planCache.get(key);
  if (!found) {
    if (planCache.size > 5000) planCache.clear();
    found = hourPlan(pump, h);
    planCache.set(key, found);
  }
  return found;
}

/**
 * The state and power of the minute `m` of a plan. Running minutes wobble by
 * ±0, 60 or 120 W in pairs (+d on even minutes, −d on the odd one after), so
 * the wobble never changes an hour's energy.
 */
function minuteOf(pump, p, m) {
  const seg = p.segs.find((s) => m >= s.from && m < s.to);
  let { pIn, pOut } = seg;
  if (seg.jitter) {
    const d = 60 * (Math.floor(noise(pump.seed, JITTER, p.h * 30 + (m >> 1)) * 5) - 2);
    const e = 60 * Math.round((d * p.cop) / 60);
    const sign = m % 2 === 0 ? 1 : -1;
    pIn += sign * d;
    pOut += sign * e;
  }
  return { seg, pIn, pOut };
}

// ---------------------------------------------------------------- raw logs

const RUNNING = new Set([70, 130, 150, 160, 200, 230]);

// What the pump measures during the minute `t` of the plan `p` (a raw log without its id and timestamp).
function measure(pump, p, t) {
  const m = (t - p.start) / MINUTE;
  const { seg, pIn, pOut } = minuteOf(pump, p, m);
  const n = t / MINUTE;
  const wobble = (tag, size) => size * (noise(pump.seed, tag, n) - 0.5);
  const state = seg.state;
  const running = RUNNING.has(state);
  // How far the hot-water run (defrost included) or the legionella run has got, 0–1.
  const runEnd = p.segs.filter((x) => x.state === 150 || x.state === 160 || x.state === 230).reduce((end, x) => Math.max(end, x.to), 1);
  const progress = Math.min(1, (m + 1) / runEnd);

  const tAirIn = outside(pump, t) + wobble(AIR, 0.2);
  const supply = supplyTarget(p.temperature);
  let tWaterOut;
  let tWaterIn;
  if (state === 70) {
    tWaterOut = supply + wobble(WATER, 0.6);
    tWaterIn = tWaterOut - (3 + (4 * pOut) / pump.capacity);
  } else if (state === 150 || state === 160) {
    tWaterOut = (state === 160 ? 56 : 48) + 8 * progress + wobble(WATER, 0.4);
    tWaterIn = tWaterOut - 5;
  } else if (state === 200 || state === 230) {
    tWaterIn = supply - 4 + wobble(WATER, 0.4);
    tWaterOut = tWaterIn - 3;
  } else if (state === 130) {
    tWaterOut = 16 + wobble(WATER, 0.4);
    tWaterIn = 19 + wobble(WATER, 0.4);
  } else {
    tWaterIn = 24 + wobble(WATER, 0.6);
    tWaterOut = tWaterIn + 0.2;
  }

  // The tank: heated every morning, cooling down through the day.
  let t1 = null;
  let t2 = null;
  if (pump.dhw) {
    if (state === 150 || state === 160 || state === 230) {
      t1 = (state === 160 ? 55 : 44) + (state === 160 ? 7 : 11) * progress;
    } else {
      const since = ((((t % DAY) / HOUR - 5.6) % 24) + 24) % 24;
      t1 = Math.max(38, 55 - 0.6 * since);
    }
    t2 = t1 - 7;
  }

  const dayTime = p.hourOfDay >= 6 && p.hourOfDay < 22;
  const roomTarget = pump.room ? (dayTime ? 20.5 : 18) : -1;
  const tRoom = pump.room ? roomTarget + 0.3 + wobble(ROOM, 0.6) - (p.temperature < 0 ? 0.4 : 0) : -1;
  const rpm = state === 200 || state === 230
    ? 0.7 * pump.nominalRpm
    : running
      ? 10 * Math.round((pump.nominalRpm * clamp(Math.abs(pOut) / pump.capacity, 0.3, 1)) / 10)
      : 0;
  const dhwState = state === 150 || state === 160 || state === 230;

  return {
    state,
    interval: LOG_INTERVAL_SECONDS,
    t1: t1 === null ? null : round2(t1),
    t2: t2 === null ? null : round2(t2),
    tAirIn: round2(tAirIn),
    tAirOut: round2(running && !(state === 200 || state === 230) ? tAirIn - 4 : tAirIn),
    tWaterIn: round2(tWaterIn),
    tWaterOut: round2(tWaterOut),
    tWaterHouseIn: round2(tWaterIn - 0.2),
    tRoom: pump.room ? round2(tRoom) : -1,
    tRoomTarget: roomTarget,
    tThermostatSetpoint: round2(supply),
    otBoilerFeedTemperature: pump.boiler ? (seg.gasBoiler ? 62 : round2(tWaterIn)) : null,
    otBoilerReturnTemperature: pump.boiler ? (seg.gasBoiler ? 47 : round2(tWaterIn)) : null,
    onOffThermostatState: state === 70 || seg.gasBoiler ? 1 : 0,
    rpm,
    fan: running ? Math.round(rpm / 8) : 0,
    centralHeatingFlow: state === 70 || state === 200 || state === 130 || seg.gasBoiler ? Math.min(75, 45 + Math.round((20 * Math.abs(pOut)) / pump.capacity)) : 5,
    dhwFlow: pump.dhw ? (dhwState ? 60 : 5) : null,
    controlBridgeStatusDecodedWaterPump: running || seg.gasBoiler,
    controlBridgeStatusDecodedGasBoiler: seg.gasBoiler,
    controlBridgeStatusDecodedElectricHeater: false,
    controlBridgeStatusDecodedWaterPump2: false,
    controlBridgeStatusDecodedDhwValve: pump.dhw ? dhwState : null,
    signalStrength: 55 + Math.floor(noise(pump.seed, SIGNAL, Math.floor(n / 15)) * 20),
    error: 0,
    errorDecodedDtcNone: true,
    coolingStatus: state === 130 ? 1 : 0,
    cmMassPowerIn: pIn,
    cmMassPowerOut: pOut,
  };
}

/**
 * The raw log at instant `t` (a whole minute the pump has a log for).
 * `powerFields: false` leaves out `cmMassPowerIn`/`cmMassPowerOut`, as the
 * API does for third-party clients since March 2026.
 */
export function rawLog(pump, t, { powerFields = true } = {}) {
  const log = { heatPumpId: pump.id, timestamp: iso(t), ...measure(pump, plan(pump, Math.floor(t / HOUR)), t) };
  if (!powerFields) {
    delete log.cmMassPowerIn;
    delete log.cmMassPowerOut;
  }
  return log;
}

/** The raw logs of `[start, end[` that exist at `now`. */
export function rawLogs(pump, start, end, now, options) {
  const span = logSpan(pump, now);
  const from = Math.max(span.first, Math.ceil(start / MINUTE) * MINUTE);
  const to = Math.min(span.end, end);
  const logs = [];
  for (let t = from; t < to; t += MINUTE) logs.push(rawLog(pump, t, options));
  return logs;
}

/** The pump's last log at `now`, or null when it has none yet. */
export function latestLog(pump, now, options) {
  const span = logSpan(pump, now);
  if (span.end <= span.first) return null;
  return rawLog(pump, span.end - MINUTE, options);
}

/** The pump record (`/heat-pumps/{id}` and the list). */
export function pumpRecord(pump, now) {
  const last = latestLog(pump, now);
  return {
    id: pump.id,
    controlBoardId: `CB-${pump.serialNumber}`,
    name: pump.name,
    model: pump.model,
    serialNumber: pump.serialNumber,
    partNumber: pump.model === 0 ? 'P80-230V' : 'P60-230V',
    status: last !== null && isOnline(pump, now) ? last.state : 1, // the last logged state; 1 offline
    state: 3,
    dhwType: pump.dhwType,
    boilerType: pump.boilerType,
    commissionedAt: iso(pump.from),
    firmwareVersion: pump.firmwareVersion,
  };
}

/** Whether the pump still sends logs at `now` (the latest log's `isOnline`). */
export const isOnline = (pump, now) => pump.until === null && now >= pump.from;

// ---------------------------------------------------------------- energy

/** Energy categories by state: [EIn field suffix, EOut field suffix]. */
const CATEGORY = {
  40: ['Standby', null],
  70: ['Heating', 'Heating'],
  130: ['Cooling', 'Cooling'],
  150: ['Dhw', 'Dhw'],
  160: ['Dhw', 'Dhw'],
  200: ['HeatingDefrost', 'HeatingDefrost'],
  230: ['DhwDefrost', 'DhwDefrost'],
};
export const E_IN = ['Heating', 'Standby', 'Dhw', 'HeatingDefrost', 'DhwDefrost', 'Cooling'];
export const E_OUT = ['Heating', 'Dhw', 'HeatingDefrost', 'DhwDefrost', 'Cooling'];

// An energy tally: minutes covered and Wh by category.
const emptyEnergy = () => ({ minutes: 0, in: Object.fromEntries(E_IN.map((c) => [c, 0])), out: Object.fromEntries(E_OUT.map((c) => [c, 0])) });

function addEnergy(into, from) {
  into.minutes += from.minutes;
  for (const c of E_IN) into.in[c] += from.in[c];
  for (const c of E_OUT) into.out[c] += from.out[c];
}

function tallyMinute(tally, state, pIn, pOut) {
  const [cin, cout] = CATEGORY[state];
  tally.minutes += 1;
  tally.in[cin] += pIn / 60;
  if (cout) tally.out[cout] += pOut / 60;
}

// A whole hour from its plan: the paired wobble cancels, so segments suffice.
function hourEnergy(pump, h) {
  const tally = emptyEnergy();
  for (const seg of plan(pump, h).segs) {
    const len = seg.to - seg.from;
    const [cin, cout] = CATEGORY[seg.state];
    tally.minutes += len;
    tally.in[cin] += (len * seg.pIn) / 60;
    if (cout) tally.out[cout] += (len * seg.pOut) / 60;
  }
  return tally;
}

const dayEnergyCache = new Map();
function dayEnergy(pump, d) {
  const key = `${pump.key}:${d}`;
  let tally = dayEnergyCache.get(key);
  if (!tally) {
    tally = emptyEnergy();
    for (let h = d * 24; h < d * 24 + 24; h++) addEnergy(tally, hourEnergy(pump, h));
    dayEnergyCache.set(key, tally);
  }
  return tally;
}

/** Energy (Wh by category) of the logs in `[a, b[` (whole minutes, inside the pump's log span). */
function energyBetween(pump, a, b) {
  const tally = emptyEnergy();
  let t = a;
  while (t < b) {
    if (t % DAY === 0 && t + DAY <= b) {
      addEnergy(tally, dayEnergy(pump, t / DAY));
      t += DAY;
    } else if (t % HOUR === 0 && t + HOUR <= b) {
      addEnergy(tally, hourEnergy(pump, t / HOUR));
      t += HOUR;
    } else {
      const h = Math.floor(t / HOUR);
      const p = plan(pump, h);
      const stop = Math.min(b, (h + 1) * HOUR);
      for (; t < stop; t += MINUTE) {
        const { seg, pIn, pOut } = minuteOf(pump, p, (t - p.start) / MINUTE);
        tallyMinute(tally, seg.state, pIn, pOut);
      }
    }
  }
  return tally;
}

// ---------------------------------------------------------------- buckets

/** Bucket intervals: the first instant of the bucket holding `t`, and the next bucket's. */
const monthStart = (t, months) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
};
const yearStart = (t, years) => Date.UTC(new Date(t).getUTCFullYear() + years, 0, 1);
const fixed = (size, offset = 0) => ({
  start: (t) => Math.floor((t - offset) / size) * size + offset,
  next: (s) => s + size,
});
export const BUCKETS = {
  Minute: fixed(MINUTE),
  FiveMinute: fixed(5 * MINUTE),
  FifteenMinute: fixed(15 * MINUTE),
  Hour: fixed(HOUR),
  Day: fixed(DAY),
  Week: fixed(7 * DAY, 4 * DAY), // 1970-01-05 was a Monday
  Month: { start: (t) => monthStart(t, 0), next: (s) => monthStart(s, 1) },
  Year: { start: (t) => yearStart(t, 0), next: (s) => yearStart(s, 1) },
};

/** `t` moved by whole UTC calendar months, the day clamped to the month's end. */
export function addMonths(t, months) {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay)) + (t % DAY + DAY) % DAY;
}

/**
 * The buckets of `interval` over the logs of `[start, end[` at `now`:
 * `{bucket, a, b}` with `bucket` the aligned start (it may lie before
 * `start`) and `[a, b[` the part of it the request covers and logs exist for.
 * Buckets without any log are left out.
 */
function bucketsOf(pump, interval, start, end, now) {
  const span = logSpan(pump, now);
  const from = Math.max(span.first, Math.ceil(start / MINUTE) * MINUTE);
  const to = Math.min(span.end, Math.ceil(end / MINUTE) * MINUTE);
  const out = [];
  const kind = BUCKETS[interval];
  for (let bucket = kind.start(from); bucket < to; bucket = kind.next(bucket)) {
    const a = Math.max(bucket, from);
    const b = Math.min(kind.next(bucket), to);
    if (a < b) out.push({ bucket, a, b });
  }
  return out;
}

const kwh = (wh) => Math.round(wh) / 1000;
const kw = (wh, minutes) => (minutes ? Math.round((wh * 60 * 1000) / minutes) / 1e6 : 0);

/**
 * The energy logs (`/energy-logs/{id}`): per bucket, kWh by category and the
 * average kW over the minutes the bucket has logs for.
 */
export function energyLogs(pump, interval, start, end, now) {
  return bucketsOf(pump, interval, start, end, now).map(({ bucket, a, b }) => {
    const tally = energyBetween(pump, a, b);
    const view = { interval, timeBucket: iso(bucket) };
    for (const c of E_IN) view[`totalEIn${c}`] = kwh(tally.in[c]);
    for (const c of E_OUT) view[`totalEOut${c}`] = kwh(tally.out[c]);
    for (const c of E_IN) view[`averagePowerEIn${c}`] = kw(tally.in[c], tally.minutes);
    for (const c of E_OUT) view[`averagePowerEOut${c}`] = kw(tally.out[c], tally.minutes);
    return view;
  });
}

/** Lifetime totals (`/energy-logs/{id}/total`): the sum of every log so far, kWh. */
export function energyTotals(pump, now) {
  const span = logSpan(pump, now);
  const tally = span.end > span.first ? energyBetween(pump, span.first, span.end) : emptyEnergy();
  const totals = { heatPumpId: pump.id };
  for (const c of E_IN) totals[`totalEIn${c}`] = kwh(tally.in[c]);
  for (const c of E_OUT) totals[`totalEOut${c}`] = kwh(tally.out[c]);
  return totals;
}

// ---------------------------------------------------------------- aggregated logs

// Fields averaged, with their minimum and maximum, over a bucket.
const NUMERIC = [
  't1', 't2', 'tAirIn', 'tAirOut', 'tWaterIn', 'tWaterOut', 'tWaterHouseIn', 'tRoom', 'tRoomTarget',
  'tThermostatSetpoint', 'otBoilerFeedTemperature', 'otBoilerReturnTemperature', 'rpm', 'fan',
  'centralHeatingFlow', 'dhwFlow', 'signalStrength',
];
// State counts (minutes) of the aggregated log, by state code.
const STATE_COUNT = {
  40: 'heatPumpStateStandby',
  70: 'heatPumpStateHeating',
  130: 'heatPumpStateCooling',
  150: 'heatPumpStateDhw',
  160: 'heatPumpStateLegionella',
  180: 'heatPumpStateManualControl',
  230: 'heatPumpStateDhwDefrost',
  200: 'heatPumpStateHeatingDefrost',
};
const BRIDGE = ['WaterPump', 'GasBoiler', 'ElectricHeater', 'WaterPump2', 'DhwValve'];
// Per-state power statistics (cmMassPower{In,Out}<State>{Average,Min,Max}).
const POWER_STATE = { 40: 'Standby', 70: 'Heating', 130: 'Cooling', 150: 'Dhw', 160: 'Dhw', 200: 'HeatingDefrost', 230: 'DhwDefrost' };
const POWER_STATES = ['Standby', 'Heating', 'Cooling', 'HeatingDefrost', 'DhwDefrost', 'Dhw'];

const stat = () => ({ sum: 0, n: 0, min: Infinity, max: -Infinity });
function note(s, value) {
  if (value === null || value === undefined) return;
  s.sum += value;
  s.n += 1;
  if (value < s.min) s.min = value;
  if (value > s.max) s.max = value;
}
function merge(into, s) {
  into.sum += s.sum;
  into.n += s.n;
  into.min = Math.min(into.min, s.min);
  into.max = Math.max(into.max, s.max);
}

function emptySummary() {
  return {
    minutes: 0,
    fields: Object.fromEntries(NUMERIC.map((f) => [f, stat()])),
    states: Object.fromEntries(Object.values(STATE_COUNT).map((f) => [f, 0])),
    bridge: Object.fromEntries(BRIDGE.map((f) => [f, 0])),
    thermostatOn: 0,
    powerIn: Object.fromEntries(POWER_STATES.map((s) => [s, stat()])),
    powerOut: Object.fromEntries(POWER_STATES.map((s) => [s, stat()])),
  };
}

function addSummary(into, from) {
  into.minutes += from.minutes;
  for (const f of NUMERIC) merge(into.fields[f], from.fields[f]);
  for (const f in into.states) into.states[f] += from.states[f];
  for (const f of BRIDGE) into.bridge[f] += from.bridge[f];
  into.thermostatOn += from.thermostatOn;
  for (const s of POWER_STATES) {
    merge(into.powerIn[s], from.powerIn[s]);
    merge(into.powerOut[s], from.powerOut[s]);
  }
}

// Spelled out field by field: this loop runs for every minute of a long window.
function summarizeMinutes(pump, a, b) {
  const summary = emptySummary();
  const f = summary.fields;
  const bridge = summary.bridge;
  let p = null;
  for (let t = a; t < b; t += MINUTE) {
    if (p === null || t >= p.start + HOUR) p = plan(pump, Math.floor(t / HOUR));
    const log = measure(pump, p, t);
    summary.minutes += 1;
    note(f.t1, log.t1);
    note(f.t2, log.t2);
    note(f.tAirIn, log.tAirIn);
    note(f.tAirOut, log.tAirOut);
    note(f.tWaterIn, log.tWaterIn);
    note(f.tWaterOut, log.tWaterOut);
    note(f.tWaterHouseIn, log.tWaterHouseIn);
    note(f.tRoom, log.tRoom);
    note(f.tRoomTarget, log.tRoomTarget);
    note(f.tThermostatSetpoint, log.tThermostatSetpoint);
    note(f.otBoilerFeedTemperature, log.otBoilerFeedTemperature);
    note(f.otBoilerReturnTemperature, log.otBoilerReturnTemperature);
    note(f.rpm, log.rpm);
    note(f.fan, log.fan);
    note(f.centralHeatingFlow, log.centralHeatingFlow);
    note(f.dhwFlow, log.dhwFlow);
    note(f.signalStrength, log.signalStrength);
    summary.states[STATE_COUNT[log.state]] += 1;
    if (log.controlBridgeStatusDecodedWaterPump) bridge.WaterPump += 1;
    if (log.controlBridgeStatusDecodedGasBoiler) bridge.GasBoiler += 1;
    if (log.controlBridgeStatusDecodedElectricHeater) bridge.ElectricHeater += 1;
    if (log.controlBridgeStatusDecodedWaterPump2) bridge.WaterPump2 += 1;
    if (log.controlBridgeStatusDecodedDhwValve) bridge.DhwValve += 1;
    summary.thermostatOn += log.onOffThermostatState;
    note(summary.powerIn[POWER_STATE[log.state]], log.cmMassPowerIn);
    note(summary.powerOut[POWER_STATE[log.state]], log.cmMassPowerOut);
  }
  return summary;
}

const daySummaryCache = new Map();
function summarize(pump, a, b) {
  const summary = emptySummary();
  let t = a;
  while (t < b) {
    if (t % DAY === 0 && t + DAY <= b) {
      const key = `${pump.key}:${t / DAY}`;
      let day = daySummaryCache.get(key);
      if (!day) daySummaryCache.set(key, (day = summarizeMinutes(pump, t, t + DAY)));
      addSummary(summary, day);
      t += DAY;
    } else {
      const stop = Math.min(b, Math.floor(t / DAY) * DAY + DAY);
      addSummary(summary, summarizeMinutes(pump, t, stop));
      t = stop;
    }
  }
  return summary;
}

const average = (s) => (s.n ? round2(s.sum / s.n) : null);
const extreme = (x, s) => (s.n ? x : null);

/**
 * The aggregated logs (`/heat-pumps/{id}/logs`): per bucket, state and relay
 * counts in minutes, `<field>Average/Min/Max`, and with `powerFields` the
 * per-state power statistics.
 */
export function aggregatedLogs(pump, interval, start, end, now, { powerFields = true } = {}) {
  return bucketsOf(pump, interval, start, end, now).map(({ bucket, a, b }) => {
    const s = summarize(pump, a, b);
    const view = { timeBucket: iso(bucket), interval, timeCoveredInInterval: s.minutes * LOG_INTERVAL_SECONDS, ...s.states };
    for (const f of BRIDGE) view[`controlBridgeStatus${f}`] = s.bridge[f];
    view.thermostatStateOn = s.thermostatOn;
    view.thermostatStateOff = s.minutes - s.thermostatOn;
    for (const f of NUMERIC) {
      const st = s.fields[f];
      view[`${f}Average`] = average(st);
      view[`${f}Min`] = extreme(st.min, st);
      view[`${f}Max`] = extreme(st.max, st);
    }
    if (powerFields) {
      for (const [dir, stats] of [['In', s.powerIn], ['Out', s.powerOut]]) {
        for (const state of POWER_STATES) {
          const st = stats[state];
          view[`cmMassPower${dir}${state}Average`] = average(st);
          view[`cmMassPower${dir}${state}Min`] = extreme(st.min, st);
          view[`cmMassPower${dir}${state}Max`] = extreme(st.max, st);
        }
      }
    }
    return view;
  });
}

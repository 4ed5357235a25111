// `wattbridge weheat pumps|latest|logs|energy|totals|watch`: the heat pump
// from the command line, every request within the account's budget.
import { WattbridgeError, energyFromWeheatLogs } from '../node.js';
import { loadSettings } from '../config.js';
import { weheatClient } from './accounts.js';
import { progressBar } from './progress.js';

async function client(options) {
  return weheatClient(await loadSettings(), { pump: options.pump });
}

const fixed = (value, digits = 1, unit = '') => (value === null || value === undefined ? '–' : `${value.toFixed(digits)}${unit}`);
const MODELS = { 0: 'BlackBird P80', 1: 'BlackBird P60', 2: 'Sparrow P60', 3: 'Sparrow P60', 4: 'Sparrow P60', 5: 'Flint P40' };

export async function weheatPumps(options) {
  const pumps = await (await client(options)).pumps();
  const lines = pumps.map((p) => `${p.id}  ${(p.name ?? '').padEnd(20)} ${(MODELS[p.model] ?? 'unknown model').padEnd(14)} ${p.boilerType > 1 ? 'hybrid (boiler)' : 'all-electric'}`);
  return { result: pumps, text: lines.join('\n') || 'No heat pump on this account.' };
}

export async function weheatLatest(options) {
  const l = await (await client(options)).latest({ pump: options.pump });
  const lines = [
    `Heat pump ${l.pump} at ${l.timestamp ?? 'unknown time'}: ${l.stateName}${l.online === false ? ' (offline)' : ''}`,
    `  outside ${fixed(l.outside, 1, ' °C')}, water in ${fixed(l.waterIn, 1, ' °C')}, out ${fixed(l.waterOut, 1, ' °C')}`,
    `  room ${l.room === null ? 'no sensor' : fixed(l.room, 1, ' °C')}${l.roomTarget === null ? '' : ` (target ${fixed(l.roomTarget, 1, ' °C')})`}, hot-water tank ${l.dhwTop === null && l.dhwBottom === null ? 'none' : `top ${fixed(l.dhwTop, 1, ' °C')}, bottom ${fixed(l.dhwBottom, 1, ' °C')}`}`,
    `  compressor ${fixed(l.compressorPercent, 0, ' %')}, power in ${fixed(l.powerInW, 0, ' W')}, heat out ${fixed(l.powerOutW, 0, ' W')}, COP ${fixed(l.cop, 2)}`,
  ];
  return { result: l, text: lines.join('\n') };
}

function range(options) {
  if (!options.from) throw new WattbridgeError('--from is required (a date or ISO time, e.g. 2026-11-01)', { code: 'invalid_input', provider: 'weheat' });
  return { from: options.from, to: options.to ?? new Date() };
}

async function withBar(label, json, work) {
  const bar = progressBar(label, { quiet: json });
  try {
    return await work(bar.onProgress);
  } finally {
    bar.stop();
  }
}

export async function weheatLogs(options, { json }) {
  const weheat = await client(options);
  const pump = options.pump ?? (await weheat.pump()).id;
  const logs = await withBar('Weheat logs', json, (onProgress) => weheat.logs({ pump, ...range(options), interval: options.interval, onProgress }));
  const avg = (log, name) => log[name] ?? log[`${name}Average`] ?? null;
  // An aggregated interval's energy: its average powers × the time it covers.
  const energy = (log) => {
    const e = log.timeCoveredInInterval === undefined ? null : energyFromWeheatLogs([log]).energy;
    return e ? `  ${fixed(e.electricityKwh, 3)} kWh in, ${fixed(e.heatKwh, 3)} kWh heat` : '';
  };
  const lines = logs.map((log) => `${log.timestamp ?? log.timeBucket}  ${String(log.state ?? '').padStart(3)}  outside ${fixed(avg(log, 'tAirIn'), 1)}  water out ${fixed(avg(log, 'tWaterOut'), 1)}  rpm ${fixed(avg(log, 'rpm'), 0)}${energy(log)}`);
  return { result: logs, text: lines.join('\n') || 'No logs in this range.' };
}

export async function weheatEnergy(options, { json }) {
  const weheat = await client(options);
  const pump = options.pump ?? (await weheat.pump()).id;
  const report = await withBar('Weheat energy', json, (onProgress) => weheat.energy({ pump, ...range(options), interval: options.interval ?? 'Day', onProgress }));
  const row = (label, e) => `${label.padEnd(22)} ${fixed(e.electricityKwh, 2).padStart(9)} kWh in ${fixed(e.heatKwh, 2).padStart(9)} kWh heat   COP ${fixed(e.cop, 2)}`;
  const lines = report.buckets.map((b) => row(b.timeBucket ?? '', b));
  lines.push(row('total', report.total));
  return { result: report, text: lines.join('\n') };
}

export async function weheatTotals(options) {
  const weheat = await client(options);
  const pump = options.pump ?? (await weheat.pump()).id;
  const totals = await weheat.totals({ pump });
  return { result: totals, text: `Since installation: ${fixed(totals.electricityKwh, 1)} kWh electricity, ${fixed(totals.heatKwh, 1)} kWh heat, COP ${fixed(totals.cop, 2)}` };
}

/** Events as lines (or JSON lines with --json) until Ctrl-C or --duration. */
export async function weheatWatch(options, { json }) {
  const weheat = await client(options);
  const print = (event) => {
    if (json) return process.stdout.write(`${JSON.stringify(event)}\n`);
    const at = new Date().toISOString().slice(11, 19);
    const text = {
      latest: () => `${event.stateName}, outside ${fixed(event.outside, 1, ' °C')}, water out ${fixed(event.waterOut, 1, ' °C')}, power ${fixed(event.powerInW, 0, ' W')} → ${fixed(event.powerOutW, 0, ' W')}, COP ${fixed(event.cop, 2)}`,
      energy: () => `energy up to date (${event.buckets} hourly buckets, ${event.requests} request${event.requests === 1 ? '' : 's'})`,
      powerEnergy: () => (event.energy ? `no energy logs from Weheat: from the power readings, ${fixed(event.energy.electricityKwh, 3)} kWh in, ${fixed(event.energy.heatKwh, 3)} kWh heat since ${event.from}` : null),
      gapFill: () => (event.requests ? `filled the feed from ${event.from} (${event.buckets} points, ${event.requests} request${event.requests === 1 ? '' : 's'})` : null),
      error: () => `problem: ${event.message} [${event.code}] (will try again)`,
    }[event.event]?.();
    if (text) process.stdout.write(`${at}  ${text}\n`);
  };
  const stop = new Promise((resolve) => process.once('SIGINT', resolve));
  await Promise.race([weheat.watch({ pump: options.pump, resolutionSeconds: options.resolution, durationSeconds: options.duration, onEvent: print }), stop]);
  return undefined;
}

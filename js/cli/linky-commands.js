// `wattbridge linky meters|fetch|status|consent`: what a household script did
// with Linky, with the history kept locally and every request accounted for.
import { WattbridgeError } from '../node.js';
import { loadSettings } from '../config.js';
import { linkyClient, linkyTariff, consoBudgetText } from './accounts.js';
import { progressBar } from './progress.js';

const LABELS = {
  daily: 'daily consumption',
  'load-curve': 'consumption load curve',
  'max-power': 'daily max power',
  production: 'daily production',
  'production-load-curve': 'production load curve',
};

async function client(options) {
  return linkyClient(await loadSettings(), { meter: options.meter });
}

export async function linkyMeters(options) {
  const linky = await client(options);
  const meters = await linky.meters();
  return { result: { meters }, text: meters.map((m, i) => `${m}${i === 0 ? '  (default)' : ''}`).join('\n') };
}

/** Fetch a series into the history, then show what is stored for the range. */
export async function linkyFetch(series, options, { json }) {
  if (!LABELS[series]) {
    throw new WattbridgeError(`unknown series '${series}': use one of ${Object.keys(LABELS).join(', ')}`, { code: 'invalid_input', provider: 'linky' });
  }
  const linky = await client(options);
  const bar = progressBar(`Linky ${LABELS[series]}`, { quiet: json });
  let report;
  try {
    report = await linky.fetch(series, { from: options.from, to: options.to, onProgress: bar.onProgress });
  } finally {
    bar.stop();
  }
  if (report.clampedFrom) {
    // On stderr, so that --json and --format csv stay clean on stdout.
    process.stderr.write(`wattbridge: note: Enedis serves the ${LABELS[series]} from ${report.from} on: fetched from ${report.from}, not ${report.clampedFrom}\n`);
  }
  const format = options.format ?? (json ? 'json' : 'table');
  const range = { from: report.from, to: report.to };
  if (format === 'csv') return { result: report, text: (await linky.export(series, { ...range, format: 'csv' })).trimEnd() };
  const rows = await linky.history(series, range);
  if (json || format === 'json') return { result: { ...report, rows }, text: JSON.stringify(rows, null, 2) };
  return { result: report, text: [table(rows), '', summary(report)].join('\n') };
}

function table(rows) {
  if (rows.length === 0) return '(nothing stored for this range)';
  const lines = rows.map((r) => {
    const value = `${formatNumber(r.value)} ${r.unit}`;
    const extra = r.wh !== undefined ? `  ${formatNumber(r.wh)} Wh` : r.peak_at ? `  at ${r.peak_at.slice(11, 19)}` : '';
    return `${r.start.slice(0, 16).replace('T', ' ')}  ${value.padStart(10)}${extra}`;
  });
  return ['start (Paris)          value', ...lines].join('\n');
}

const formatNumber = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
/** kWh to the watt-hour, what Enedis measures. */
const formatKwh = (kwh) => kwh.toFixed(3);

function summary(report) {
  const parts = [
    `${report.points} values stored for meter ${report.meter}, ${report.from} to ${report.to} (exclusive)`,
    `${report.requests} request${report.requests === 1 ? '' : 's'} to Enedis (the whole range takes at least ${report.minimumRequests}; stored days are not asked again)`,
  ];
  if (report.holes.length) parts.push(`${report.holes.length} gap${report.holes.length === 1 ? '' : 's'} where Enedis sent nothing (never filled in by wattbridge)`);
  for (const skip of report.skipped) parts.push(`skipped ${skip.start} to ${skip.end}: ${skip.message} [${skip.code}]`);
  return parts.join('\n');
}

export async function linkyStatus(options) {
  const status = await (await client(options)).status();
  const lines = [`Access: ${status.access}${status.access === 'gateway' ? ` (${status.loggedIn ? 'logged in' : 'not logged in'})` : ''}`];
  if (status.tokenExpiresAtMs) lines.push(`Token expires: ${new Date(status.tokenExpiresAtMs).toISOString()} (renewed automatically)`);
  if (status.consoBudget) lines.push(`Budget: ${consoBudgetText(status.consoBudget)} (linky.conso_budget; it bans an IP after about 100)`);
  if (status.problem) lines.push(`Problem: ${status.problem.message} [${status.problem.code}]`);
  if (status.meters.length) lines.push(`Consent covers: ${status.meters.join(', ')}; using ${status.meter}`);
  for (const s of status.series) {
    if (!s.firstDay && !s.lastError) {
      lines.push(`  ${LABELS[s.series].padEnd(24)} nothing fetched yet`);
      continue;
    }
    const stored = s.firstDay ? `${s.firstDay} to ${s.lastDay}` : 'nothing stored';
    const missing = [s.missingDays ? `${s.missingDays} days not fetched` : '', s.holes ? `${s.holes} gaps` : ''].filter(Boolean).join(', ');
    lines.push(`  ${LABELS[s.series].padEnd(24)} ${stored}${missing ? ` (${missing})` : ''}`);
    if (s.lastError) lines.push(`  ${''.padEnd(24)} last fetch failed: ${s.lastError.message} [${s.lastError.code}]`);
  }
  return { result: status, text: lines.join('\n') };
}

/** Own Enedis app: print the consent URL, or read the redirect back. */
export async function linkyConsent(callbackUrl, options) {
  const linky = await client(options);
  if (callbackUrl) {
    const meters = await linky.completeConsent(callbackUrl);
    return { result: { meters }, text: `Consent recorded for ${meters.join(', ')}.` };
  }
  const url = await linky.consentUrl({ redirectUri: options.redirectUri });
  return {
    result: { url },
    text: `Send the customer to this page to consent (up to 3 years):\n  ${url}\nThen run: wattbridge linky consent '<the URL Enedis redirected to>'`,
  };
}

/** Fetch what the statistics need (daily, plus the load curve for peak/off-peak), then sum. */
export async function linkyStats(options, { json }) {
  const settings = await loadSettings();
  const linky = linkyClient(settings, { meter: options.meter });
  const tariff = linkyTariff(settings);
  const bars = new Map();
  let fetched;
  try {
    fetched = await linky.fetchForStats({
      tariff,
      onProgress: ({ series, done, total }) => {
        if (!bars.has(series)) bars.set(series, progressBar(`Linky ${LABELS[series]}`, { quiet: json }));
        bars.get(series).onProgress({ done, total });
      },
    });
  } finally {
    for (const bar of bars.values()) bar.stop();
  }
  const stats = await linky.stats({ tariff });
  const names = { yesterday: 'Yesterday', thisWeek: 'This week', lastWeek: 'Last week', thisMonth: 'This month', lastMonth: 'Last month', thisYear: 'This year' };
  const lines = [`Meter ${stats.meter}, today ${stats.today} (Europe/Paris)`];
  for (const [key, label] of Object.entries(names)) {
    const p = stats.periods[key];
    if (key === 'yesterday' && p.daysWithData === 0) {
      // Never a silent 0: Enedis publishes day D on D+1 from about 08:00, sometimes D+2.
      const last = stats.lastCompleteDay;
      lines.push(`  ${label.padEnd(11)} not published by Enedis yet${last ? `; last complete day ${last.date}: ${formatKwh(last.wh / 1000)} kWh` : ''}`);
      continue;
    }
    const partial = p.daysWithData < p.days ? `  (${p.daysWithData} of ${p.days} days have data)` : '';
    const cost = p.cost === null || p.cost === undefined ? '' : `  ${p.cost.toFixed(2)} EUR`;
    lines.push(`  ${label.padEnd(11)} ${formatKwh(p.kwh).padStart(10)} kWh${cost}${partial}`);
  }
  const requests = fetched.reduce((sum, r) => sum + r.requests, 0);
  lines.push(`(${requests} request${requests === 1 ? '' : 's'} to Enedis to bring the history up to date)`);
  return { result: { ...stats, requests }, text: lines.join('\n') };
}

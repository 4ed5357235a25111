// `wattbridge energyid login|status|send|import|flush`: the EnergyID device
// from the command line, every reading through the durable outbox.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { WattbridgeError } from '../node.js';
import { loadSettings } from '../config.js';
import { energyIdDevice } from './accounts.js';
import { progressBar } from './progress.js';
import { printable } from './terminal.js';

const fail = (message) => new WattbridgeError(message, { code: 'invalid_input', provider: 'energyid' });

export { energyIdDevice } from './accounts.js';

const when = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Provision, show the claim code and URL, wait until the person claimed the device. */
export async function energyIdLogin({ timeout, poll }, { json }) {
  const energyid = await energyIdDevice(await loadSettings());
  const result = await energyid.waitForClaim({
    pollSeconds: poll,
    timeoutSeconds: timeout,
    onClaimCode: ({ claimCode, claimUrl, expiresAt }) =>
      process.stderr.write(
        printable(`! Claim this device in EnergyID: open ${claimUrl}\n  (or enter code ${claimCode} at app.energyid.eu; valid until ${when(expiresAt * 1000)})\n  Waiting for the claim...\n`),
      ),
  });
  void json;
  return { result, text: `Claimed by record "${result.recordName}" (${result.recordNumber}); uploads at most every ${result.policy.uploadInterval} s.` };
}

export async function energyIdStatus() {
  const energyid = await energyIdDevice(await loadSettings());
  const status = { ...(await energyid.status()), deviceName: energyid.deviceName, firmwareVersion: energyid.firmwareVersion ?? null };
  const lines = [
    `Device ${status.deviceId} ("${status.deviceName}"${status.firmwareVersion ? `, firmware ${status.firmwareVersion}` : ''}): ${status.claimed ? `claimed by "${status.recordName}" (${status.recordNumber})` : 'not claimed yet (run `wattbridge energyid login`)'}`,
  ];
  if (status.policy) lines.push(`Policy: at most one upload every ${status.policy.uploadInterval} s`);
  lines.push(`Outbox: ${status.outbox} value${status.outbox === 1 ? '' : 's'} waiting${status.quarantined ? `, ${status.quarantined} refused by EnergyID (kept aside)` : ''}`);
  if (status.nextUploadAtMs && status.outbox) lines.push(`Next upload allowed: ${when(status.nextUploadAtMs)}`);
  if (status.lastPostMs) lines.push(`Last upload: ${when(status.lastPostMs)}`);
  return { result: status, text: lines.join('\n') };
}

/** `el=1250.5 pv=3560` → a reading. */
export function parsePairs(pairs, ts) {
  if (pairs.length === 0) throw fail('give at least one value, e.g. `wattbridge energyid send el=1250.5`');
  const reading = {};
  for (const pair of pairs) {
    const match = /^([^=\s]+)=(.+)$/.exec(pair);
    if (!match) throw fail(`'${pair}' is not key=value (e.g. el=1250.5)`);
    const value = Number(match[2]);
    if (!Number.isFinite(value)) throw fail(`the value of ${match[1]} ('${match[2]}') is not a number`);
    reading[match[1]] = value;
  }
  return { ts: parseTs(ts), ...reading };
}

/** Unix seconds, or an ISO 8601 date; undefined means now. */
function parseTs(ts) {
  if (ts === undefined || ts === '') return undefined;
  if (/^\d+$/.test(String(ts))) return Number(ts);
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) throw fail(`timestamp '${ts}' is neither unix seconds nor an ISO 8601 date`);
  return Math.floor(ms / 1000);
}

function render(report, verb) {
  const parts = [`${verb} ${report.queued ? `${report.queued} value${report.queued === 1 ? '' : 's'}; ` : ''}sent ${report.readings} reading${report.readings === 1 ? '' : 's'} in ${report.requests} request${report.requests === 1 ? '' : 's'}`];
  if (report.quarantined) parts.push(`${report.quarantined} refused by EnergyID and kept aside (see status)`);
  if (report.remaining) parts.push(`${report.remaining} value${report.remaining === 1 ? '' : 's'} still queued${report.nextUploadAtMs ? `; the policy allows the next upload at ${when(report.nextUploadAtMs)} (run \`wattbridge energyid flush\`)` : ''}`);
  return parts.join('\n');
}

export async function energyIdSend(pairs, { ts }) {
  const energyid = await energyIdDevice(await loadSettings());
  const report = await energyid.send(parsePairs(pairs, ts));
  return { result: report, text: render(report, 'Queued') };
}

/** Readings from a CSV (`ts,key,value` rows, or wide `ts,el,pv,...`) or JSON file. */
export async function readReadingsFile(file) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fail(`cannot read ${file}: ${err.message}`);
  }
  return parseReadings(text, file);
}

/** The readings of a file's text, read as JSON or CSV by the file's extension (fuzzed: fuzz/js-targets.mjs). */
export function parseReadings(text, file) {
  if (extname(file).toLowerCase() === '.json') {
    let data;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw fail(`${file} is not valid JSON: ${err.message}`);
    }
    if (!Array.isArray(data)) throw fail(`${file} must hold a JSON array of readings ({ts, el, ...}) or rows ({ts, key, value})`);
    const rows = data.flatMap((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw fail(`${file}, item ${i + 1}: a reading is an object, {ts, el, ...} or {ts, key, value}`);
      return 'key' in item && 'value' in item ? [item] : Object.entries(item).filter(([k]) => k !== 'ts').map(([key, value]) => ({ ts: item.ts, key, value }));
    });
    return groupRows(rows, file);
  }
  let rows;
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true });
  } catch (err) {
    throw fail(`${file} is not valid CSV: ${err.message}`);
  }
  if (rows.length === 0) throw fail(`${file} has no rows`);
  const columns = Object.keys(rows[0]);
  if (!columns.includes('ts')) throw fail(`${file} needs a ts column (unix seconds or ISO 8601); it has ${columns.join(', ')}`);
  const long = columns.includes('key') && columns.includes('value');
  const flat = long ? rows : rows.flatMap((row) => columns.filter((c) => c !== 'ts' && row[c] !== '').map((key) => ({ ts: row.ts, key, value: row[key] })));
  return groupRows(flat, file);
}

function groupRows(rows, file) {
  const byTs = new Map();
  // JSON can put anything anywhere: only strings and numbers are read, so an
  // object or a list is refused here rather than turned into text.
  const scalar = (v) => typeof v === 'string' || typeof v === 'number';
  rows.forEach((row, i) => {
    if (row.ts !== undefined && !scalar(row.ts)) throw fail(`${file}, row ${i + 1}: ts is neither unix seconds nor an ISO 8601 date`);
    if (typeof row.key !== 'string' || row.key === 'ts') throw fail(`${file}, row ${i + 1}: ${JSON.stringify(row.key) ?? 'no key'} is not a metric key (e.g. el)`);
    if (!scalar(row.value)) throw fail(`${file}, row ${i + 1}: the value of ${row.key} is not a number`);
    const ts = parseTs(row.ts);
    if (ts === undefined) throw fail(`${file}, row ${i + 1}: no ts`);
    const value = Number(row.value);
    if (row.value === '' || !Number.isFinite(value)) throw fail(`${file}, row ${i + 1}: the value of ${row.key} ('${row.value}') is not a number`);
    byTs.set(ts, { ...(byTs.get(ts) ?? { ts }), [row.key]: value });
  });
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

export async function energyIdImport(file, { dryRun }, { json }) {
  const readings = await readReadingsFile(file);
  if (dryRun) {
    return { result: { readings }, text: `${readings.length} readings would be queued (${readings[0]?.ts} … ${readings.at(-1)?.ts}); nothing was sent.` };
  }
  const energyid = await energyIdDevice(await loadSettings());
  const queued = await energyid.enqueue(readings);
  const report = await flushWithBar(energyid, { maxWaitSeconds: 0, json });
  return { result: { ...report, queued }, text: render({ ...report, queued }, 'Imported') };
}

async function flushWithBar(energyid, { maxWaitSeconds, json }) {
  const bar = progressBar('EnergyID upload', { quiet: json });
  try {
    return await energyid.flush({ maxWaitSeconds, onProgress: ({ sent, total }) => bar.onProgress({ done: sent, total }) });
  } finally {
    bar.stop();
  }
}

export async function energyIdFlush({ maxWait }, { json }) {
  const energyid = await energyIdDevice(await loadSettings());
  const report = await flushWithBar(energyid, { maxWaitSeconds: maxWait, json });
  return { result: report, text: render(report, 'Flushed:') };
}

/** The record's directives (a list), or one by id with its signal per interval. */
export async function energyIdDirectives(id) {
  const directives = await (await energyIdDevice(await loadSettings())).directives(id);
  if (id) {
    const rows = (directives.data ?? []).map((d) => `  ${d.timestamp}  ${String(d.signal ?? '').padEnd(8)} ${d.rawValue ?? ''}`);
    return { result: directives, text: [`${directives.title ?? id} (every ${directives.interval ?? '?'})`, ...rows].join('\n') };
  }
  const list = Array.isArray(directives) ? directives : (directives?.items ?? []);
  const lines = list.map((d) => `${d.id}  ${d.title}${d.signalProvider?.displayName ? ` (${d.signalProvider.displayName})` : ''}${d.description ? `: ${d.description}` : ''}`);
  return { result: directives, text: lines.length ? lines.join('\n') : 'No directives for this record.' };
}

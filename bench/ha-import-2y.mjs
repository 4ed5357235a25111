// Two years of Linky half-hours imported into Home Assistant's statistics
// (consumption and cost: 2 × ~17,520 hourly rows) through importStatistics(),
// in its own process, for `npm run bench`: prints JSON with the WebSocket
// messages sent, the wall time, and this process's peak memory (max RSS),
// split into the Linky fetch's and the import's own (Linux resets the
// high-water mark through /proc/self/clear_refs in between).
// The sandbox and the HA stand-in run in child processes, and this one does
// not even load the sandbox's code: the figures are the client's alone.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Linky, HomeAssistant, MemoryStore, importStatistics } from 'wattbridge';

async function child(script, args) {
  const process_ = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: process_.stdout });
  const [line] = await once(lines, 'line');
  return { info: JSON.parse(line), process: process_, lines };
}

// Pacing and the Conso API's 12-hour limit lifted for the bench: it measures the import, not the quotas.
const sandbox = await child('./sandbox-child.mjs', [JSON.stringify({ linky: { rateLimit: 0, consoLimitPer12h: 0 } })]);
const ha = await child('./ha-standin-child.mjs', ['2025.11.0']);

const store = new MemoryStore();
const linky = new Linky({ consoApiUrl: sandbox.info.urls.linky.consoApiUrl, consoToken: sandbox.info.consoToken, consoBudget: 100_000, maxRequestsPerSecond: 1000, store });
const homeassistant = new HomeAssistant({ url: ha.info.url, token: 'admin-token' });
const tariff = { tariff: 'hphc', priceHp: 0.25, priceHc: 0.2, offpeakHours: '22:00-06:00' };
// The rerun asks the same: without `since` the sources would go further back,
// and that older history would be imported in front (a widening, not a rerun).
const since = new Date(Date.now() - 730 * 86_400_000);

/** This process's peak RSS since start or the last reset, in MB (null off Linux). */
const peakMb = () => {
  try {
    return Number(readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)[1]) / 1024;
  } catch {
    return null;
  }
};
const resetPeak = () => {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
};

// The two years from Enedis first, then the import (whose fetch then asks
// only the correction window): each phase's peak on its own.
const started = performance.now();
const fetched = await linky.fetch('load-curve', { from: since });
const fetchSeconds = (performance.now() - started) / 1000;
const fetchPeakMb = peakMb();
const reset = resetPeak();
const importBaseMb = peakMb();
const importStarted = performance.now();
const report = await importStatistics({ linky, homeassistant, tariff, since, store });
const importSeconds = (performance.now() - importStarted) / 1000;
const importPeakMb = reset ? peakMb() : null;
const seconds = (performance.now() - started) / 1000;
const rerunStarted = performance.now();
const rerun = await importStatistics({ linky, homeassistant, tariff, since, store });
const rerunSeconds = (performance.now() - rerunStarted) / 1000;

const held = once(ha.lines, 'line');
ha.process.kill('SIGTERM');
const [rowsLine] = await held;
sandbox.process.kill('SIGTERM');
process.stdout.write(`${JSON.stringify({
  seconds,
  fetchSeconds,
  importSeconds,
  rows: report.ha.imported,
  heldRows: JSON.parse(rowsLine).rows,
  messages: report.ha.messages,
  rerunSeconds,
  rerunRows: rerun.ha.imported,
  rerunMessages: rerun.ha.messages,
  linkyRequests: fetched.requests + (report.sources.linky?.requests ?? 0),
  // The reset clears getrusage's figure too: the whole run's peak is the higher phase's.
  maxRssMb: reset ? Math.max(fetchPeakMb, importPeakMb) : process.resourceUsage().maxRSS / 1024,
  fetchPeakMb,
  importPeakMb,
  importBaseMb,
  ok: report.ok && rerun.ok,
  errors: [...Object.entries(report.sources), ['ha', report.ha]].filter(([, s]) => s?.status === 'error').map(([name, s]) => `${name}: ${s.error.code} ${s.error.message}`),
})}\n`);

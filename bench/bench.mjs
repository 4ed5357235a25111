// npm run bench: size of the release wasm and the cost of loading it in Node.
// Prints a table and writes bench/results.json. Measured here, never asserted
// in a test: timings depend on the machine.
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cliStartup, cliStartupRows } from './cli-startup.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const BUDGET_GZIP_BYTES = 256 * 1024; // the providers' module (issue 12; was 120 KB)
const BUDGET_PARSE_MS = 50; // 35,040 Enedis half-hours through WASM (issue 12)
const BUDGET_BACKFILL_RSS_MB = 120; // a 2-year backfill through sync(), peak RSS (issue 12)

const wasm = readFileSync(new URL('../pkg/wattbridge_bg.wasm', import.meta.url));
const gzipped = gzipSync(wasm, { level: constants.Z_BEST_COMPRESSION }).length;
const glue = statSync(new URL('../pkg/wattbridge.js', import.meta.url)).size;
// The OpenADR VEN is a module of its own: users of the data providers never load it.
const openadrWasm = readFileSync(new URL('../pkg-openadr/wattbridge_openadr_bg.wasm', import.meta.url));
const openadrGzip = gzipSync(openadrWasm, { level: constants.Z_BEST_COMPRESSION }).length;

/** Median wall time of `node args…` over RUNS fresh processes, in ms. */
function medianStartup(args) {
  const times = [];
  for (let i = 0; i < RUNS; i += 1) {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const bareNode = medianStartup(['-e', '0']);
// Import the package entry: reads the wasm, compiles and instantiates it (initSync).
const readyModule = medianStartup(['--input-type=module', '-e', "import { EnergyId } from 'wattbridge'; if (!EnergyId) process.exit(1);"]);

// ---- Linky ----
const { Linky, MemoryStore, parseEnedisAnswer } = await import('wattbridge');
const { startSandbox, SANDBOX_CONSO_TOKEN } = await import('wattbridge/sandbox');

/** Full backfill (2-year load curve + 3-year daily) against the sandbox: requests vs the minimum. */
async function linkyBackfill() {
  const sandbox = await startSandbox({ linky: { rateLimit: 0, consoLimitPer12h: 0 } });
  try {
    // Pacing and the Conso API's 12-hour budget lifted for the bench only: it measures requests, not the quotas.
    const linky = new Linky({ consoApiUrl: sandbox.urls.linky.consoApiUrl, consoToken: SANDBOX_CONSO_TOKEN, consoBudget: 100_000, maxRequestsPerSecond: 1000, store: new MemoryStore() });
    const started = performance.now();
    const curve = await linky.fetch('load-curve');
    const daily = await linky.fetch('daily');
    const ms = performance.now() - started;
    const again = (await linky.fetch('load-curve')).requests + (await linky.fetch('daily')).requests;
    return { requests: curve.requests + daily.requests, minimum: curve.minimumRequests + daily.minimumRequests, points: curve.points + daily.points, rerunRequests: again, ms };
  } finally {
    await sandbox.close();
  }
}

/** 2 years of half-hours (35,040 points) as one Enedis answer, parsed and converted through WASM. */
function linkyParse() {
  const items = [];
  let t = Date.UTC(2023, 0, 1, 0, 30);
  const paris = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (let i = 0; i < 35_040; i += 1, t += 1_800_000) {
    items.push({ value: String(200 + (i % 97) * 2), date: paris.format(new Date(t)), interval_length: 'PT30M', measure_type: 'B' });
  }
  const body = JSON.stringify({ meter_reading: { usage_point_id: '11111111111111', interval_reading: items } });
  const times = [];
  let points = 0;
  for (let run = 0; run < 7; run += 1) {
    const started = performance.now();
    points = parseEnedisAnswer('load-curve', body).points.length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { points, bodyBytes: body.length, medianMs: times[3] };
}

// ---- EnergyID ----
const { EnergyId } = await import('wattbridge');
const { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } = await import('wattbridge/sandbox');

/**
 * One year of half-hourly `el` readings through the outbox. The sandbox's
 * policy is scaled down (0.05 s instead of 60 s) so the bench runs in seconds;
 * the POST count is what it is, and the time at 60 s follows from it.
 */
async function energyIdYear() {
  const interval = 0.05;
  const sandbox = await startSandbox({ energyid: { claimAfterHellos: 0, uploadInterval: interval } });
  try {
    const energyid = new EnergyId({ helloUrl: sandbox.urls.energyid.helloUrl, provisioningKey: SANDBOX_PROVISIONING_KEY, provisioningSecret: SANDBOX_PROVISIONING_SECRET, store: new MemoryStore() });
    const start = Date.UTC(2025, 0, 1) / 1000;
    const readings = Array.from({ length: 17_520 }, (_, i) => ({ ts: start + i * 1800, el: 1000 + i * 0.25 }));
    const started = performance.now();
    await energyid.enqueue(readings);
    const report = await energyid.flush({ maxWaitSeconds: 10 });
    const ms = performance.now() - started;
    const posts = sandbox.energyid.posts().length;
    const overheadMs = ms - (posts - 1) * interval * 1000;
    return { readings: readings.length, posts, delivered: report.readings, ms, at60sMinutes: ((posts - 1) * 60 * 1000 + overheadMs) / 60_000, onePostPerTimestampMinutes: (readings.length - 1) };
  } finally {
    await sandbox.close();
  }
}

// ---- The main job ----
/** `wattbridge --json demo` in its own process: wall time and requests against the minimum. */
function demo() {
  const started = performance.now();
  const run = spawnSync(process.execPath, ['js/cli/main.js', '--json', 'demo'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, WATTBRIDGE_HOME: '/nonexistent-bench-home' } });
  if (run.status !== 0) throw new Error(`demo exited ${run.status}: ${run.stderr}`);
  const result = JSON.parse(run.stdout);
  return { wallSeconds: (performance.now() - started) / 1000, ...result.requests, readings: result.received.readings };
}

function backfill2y() {
  const run = spawnSync(process.execPath, ['bench/backfill-2y.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`backfill exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Node's own fetch, as many requests as the backfill made, without wattbridge: the floor under its peak RSS. */
function fetchFloor(requests) {
  const run = spawnSync(process.execPath, ['bench/fetch-floor.mjs', String(requests)], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`fetch floor exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** 2 years of Linky half-hours into Home Assistant's statistics (issue 14), in its own process. */
function haImport2y() {
  const run = spawnSync(process.execPath, ['bench/ha-import-2y.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ha import exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

// ---- Weheat ----
/** A day of watch in virtual time (Rust, against the tests' fake Weheat with its budget). */
function watchDay() {
  const run = spawnSync('cargo', ['run', '--quiet', '--release', '--example', 'watch_day'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`watch_day exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

/** 2 days of minute logs (2,880 entries of ~70 fields) parsed and integrated through WASM. */
function weheatParse() {
  const { energyFromWeheatLogs } = wattbridge;
  const fields = ['t1', 't2', 'tAirIn', 'tAirOut', 'tWaterIn', 'tWaterOut', 'tWaterHouseIn', 'tRoom', 'tRoomTarget', 'tThermostatSetpoint', 'rpm', 'fan', 'centralHeatingFlow', 'dhwFlow', 'signalStrength', 'error', 'coolingStatus'];
  const logs = [];
  const start = Date.UTC(2026, 0, 1) / 1000;
  for (let i = 0; i < 2880; i += 1) {
    const log = { heatPumpId: 'b1acb1d0-0080-4e5a-9d1c-5a4db0000001', timestamp: new Date((start + i * 60) * 1000).toISOString().replace('.000Z', 'Z'), state: 70, interval: 60, cmMassPowerIn: 900 + (i % 7) * 60, cmMassPowerOut: 3300 + (i % 5) * 60, isOnline: true };
    for (const f of fields) log[f] = 20 + (i % 13) / 10;
    // Fill up to ~70 fields as the real log has (flags and averages).
    for (let k = 0; Object.keys(log).length < 70; k += 1) log[`controlBridgeField${k}`] = k % 2 === 0;
    logs.push(log);
  }
  const body = JSON.stringify(logs);
  const times = [];
  let result;
  for (let run = 0; run < 7; run += 1) {
    const started = performance.now();
    result = energyFromWeheatLogs(body);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { logs: result.logs, fieldsPerLog: Object.keys(logs[0]).length, bodyBytes: body.length, medianMs: times[3], electricityKwh: result.energy.electricityKwh };
}


const wattbridge = await import('wattbridge');
const watch = watchDay();
const weheatParsed = weheatParse();
const demoRun = demo();
const backfillRun = backfill2y();
const floor = fetchFloor(backfillRun.linkyRequests + backfillRun.weheatRequests + backfillRun.posts);
const haImport = haImport2y();
const energyidYear = await energyIdYear();
const backfill = await linkyBackfill();
const parse = linkyParse();
// `wattbridge --help` and `wattbridge status` against a bare node (issue 12: ≤ 1.5×).
const cli = await cliStartup({ runs: RUNS });

const results = {
  date: new Date().toISOString(),
  node: process.version,
  runs: RUNS,
  wasm: { rawBytes: wasm.length, gzipBytes: gzipped, budgetGzipBytes: BUDGET_GZIP_BYTES, glueJsBytes: glue },
  openadrWasm: { rawBytes: openadrWasm.length, gzipBytes: openadrGzip },
  startupMs: { bareNode, readyModule, overhead: readyModule - bareNode },
  cliStartup: cli,
  linky: { backfill, parse },
  energyid: { year: energyidYear },
  main: { demo: demoRun, backfill2y: backfillRun, nodeFetchFloor: floor },
  homeassistant: { import2y: haImport, budgetRssMb: BUDGET_BACKFILL_RSS_MB },
  weheat: { watchDay: watch, parse: weheatParsed },
};

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (n) => `${n.toFixed(1)} ms`;
const rows = [
  ['wasm (release, wasm-opt -Oz)', kb(wasm.length)],
  ['wasm gzipped (-9)', `${kb(gzipped)}  (${((gzipped / BUDGET_GZIP_BYTES) * 100).toFixed(0)}% of the ${BUDGET_GZIP_BYTES / 1024} KB budget)`],
  ['JS glue (pkg/wattbridge.js)', kb(glue)],
  ['OpenADR wasm (pkg-openadr, separate module)', `${kb(openadrWasm.length)} raw, ${kb(openadrGzip)} gzipped`],
  [`node -e 0 (median of ${RUNS})`, ms(bareNode)],
  [`node start -> module ready (median of ${RUNS})`, ms(readyModule)],
  ['cost of loading wattbridge', ms(readyModule - bareNode)],
  ...cliStartupRows(cli),
  ['Linky backfill (2 y curve + 3 y daily): requests', `${backfill.requests} (minimum ${backfill.minimum}), rerun ${backfill.rerunRequests}, ${ms(backfill.ms)} unpaced`],
  [`Linky parse ${parse.points} half-hours (${kb(parse.bodyBytes)} JSON)`, `${ms(parse.medianMs)} (median of 7; budget ${BUDGET_PARSE_MS} ms)`],
  ['Weheat: a day of watch (virtual time)', `${watch.requests} requests (budget ${watch.budgetPerHour}/h = ${watch.budgetPerHour * 24}/day), busiest hour ${watch.busiestHour}, ${watch.refused} refused; ${watch.latestPolls} latest polls, ${watch.energyRequests} energy refreshes`],
  [`Weheat parse ${weheatParsed.logs} minute logs of ${weheatParsed.fieldsPerLog} fields (${kb(weheatParsed.bodyBytes)})`, `${ms(weheatParsed.medianMs)} (median of 7), power integrated`],
  ['demo (wall time, own process)', `${demoRun.wallSeconds.toFixed(1)} s; Linky ${demoRun.linky}/${demoRun.linkyMinimum}, Weheat ${demoRun.weheat}/${demoRun.weheatMinimum} requests; EnergyID ${demoRun.energyidPosts} POSTs for ${demoRun.readings} readings (⌈/1000⌉ = ${demoRun.energyidMinimum})`],
  ['2-year backfill through sync() (unpaced)', `${backfillRun.seconds.toFixed(1)} s, ${backfillRun.readings} readings in ${backfillRun.posts} POSTs, peak RSS ${backfillRun.maxRssMb.toFixed(0)} MB (budget ${BUDGET_BACKFILL_RSS_MB} MB; Node's fetch alone, ${floor.requests} requests: ${floor.maxRssMb.toFixed(0)} MB)${backfillRun.errors?.length ? `; FAILED: ${backfillRun.errors.join('; ')}` : ''}`],
  ['Home Assistant: 2 years of half-hours imported (stand-in)', `${haImport.rows} hourly rows (consumption + cost) in ${haImport.messages} WebSocket messages, ${haImport.seconds.toFixed(1)} s (import ${haImport.importSeconds.toFixed(1)} s), peak RSS ${haImport.maxRssMb.toFixed(0)} MB (budget ${BUDGET_BACKFILL_RSS_MB} MB; the Linky fetch ${haImport.fetchPeakMb?.toFixed(0)} MB, the import itself ${haImport.importPeakMb?.toFixed(0) ?? '?'} MB); rerun ${haImport.rerunRows} rows in ${haImport.rerunMessages} messages${haImport.errors?.length ? `; FAILED: ${haImport.errors.join('; ')}` : ''}`],
  ['EnergyID: a year of half-hours at uploadInterval 60 s', `${energyidYear.posts} POSTs, ${energyidYear.at60sMinutes.toFixed(1)} min (one POST per timestamp: ${energyidYear.readings} POSTs, ${(energyidYear.onePostPerTimestampMinutes / 1440).toFixed(1)} days)`],
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n'));
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten to bench/results.json`);

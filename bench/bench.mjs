// npm run bench: size of the release wasm and the cost of loading it in Node.
// Prints a table and writes bench/results.json. Measured here, never asserted
// in a test: timings depend on the machine.
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const BUDGET_GZIP_BYTES = 120 * 1024; // the three data providers together (issue 2)

const wasm = readFileSync(new URL('../pkg/wattbridge_bg.wasm', import.meta.url));
const gzipped = gzipSync(wasm, { level: constants.Z_BEST_COMPRESSION }).length;
const glue = statSync(new URL('../pkg/wattbridge.js', import.meta.url)).size;

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

const results = {
  date: new Date().toISOString(),
  node: process.version,
  runs: RUNS,
  wasm: { rawBytes: wasm.length, gzipBytes: gzipped, budgetGzipBytes: BUDGET_GZIP_BYTES, glueJsBytes: glue },
  startupMs: { bareNode, readyModule, overhead: readyModule - bareNode },
};

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (n) => `${n.toFixed(1)} ms`;
const rows = [
  ['wasm (release, wasm-opt -Oz)', kb(wasm.length)],
  ['wasm gzipped (-9)', `${kb(gzipped)}  (${((gzipped / BUDGET_GZIP_BYTES) * 100).toFixed(0)}% of the 120 KB budget)`],
  ['JS glue (pkg/wattbridge.js)', kb(glue)],
  [`node -e 0 (median of ${RUNS})`, ms(bareNode)],
  [`node start -> module ready (median of ${RUNS})`, ms(readyModule)],
  ['cost of loading wattbridge', ms(readyModule - bareNode)],
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n'));
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten to bench/results.json`);

// The CLI's start-up cost (issue 12: `wattbridge --help` and `wattbridge status`
// within 1.5× a bare `node -e 0`). Paired runs: each CLI run is timed right
// next to a bare node run, in alternating order, so a busy machine slows both
// alike; the figures are medians. Peak RSS comes from /usr/bin/time -f %M when
// it exists, else from the process's own resourceUsage().maxRSS at exit.
// A benchmark, never a timed test. Run alone: `node bench/cli-startup.mjs`
// (BENCH_RUNS, default 25; BENCH_CLI=path/to/main.js to time another entry).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TIME = '/usr/bin/time';

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function timed(args, env) {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { cwd: ROOT, env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status ?? run.signal}`);
  return ms;
}

/** Peak RSS in MB of `node args…` (median of a few runs). */
function peakRssMb(args, env, runs = 5) {
  const values = [];
  for (let i = 0; i < runs; i += 1) {
    if (existsSync(TIME)) {
      const run = spawnSync(TIME, ['-f', '%M', process.execPath, ...args], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      values.push(Number(run.stderr.trim().split('\n').at(-1)) / 1024);
    } else {
      // Without GNU time: the process reports its own peak (maxRSS, KB) as it exits.
      const probe = `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write('\\nmaxRSS ' + process.resourceUsage().maxRSS + '\\n'))")}`;
      const run = spawnSync(process.execPath, ['--import', probe, ...args], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      values.push(Number(/maxRSS (\d+)/.exec(run.stderr)[1]) / 1024);
    }
  }
  return median(values);
}

/**
 * The environment both sides of a pair run in. NODE_EXTRA_CA_CERTS makes
 * every node start parse a CA bundle (measured here: 400 M instructions, more
 * than a bare start itself), which pads the baseline and flatters the ratio;
 * users rarely have it, so the pairs run without it.
 */
const plain = (env) => {
  const { NODE_EXTRA_CA_CERTS: _ignored, ...rest } = env;
  return rest;
};

/** Paired runs of `node <cli> …args` and `node -e 0`: medians, their ratio, the median per-pair ratio and peak RSS. */
function paired(name, args, given, runs, command = `wattbridge ${name}`) {
  const env = plain(given);
  const bare = [];
  const cli = [];
  for (let i = 0; i < runs; i += 1) {
    if (i % 2) {
      cli.push(timed(args, env));
      bare.push(timed(['-e', '0'], env));
    } else {
      bare.push(timed(['-e', '0'], env));
      cli.push(timed(args, env));
    }
  }
  return {
    command,
    runs,
    bareNodeMs: median(bare),
    cliMs: median(cli),
    ratio: median(cli) / median(bare),
    medianPairRatio: median(cli.map((c, i) => c / bare[i])),
    peakRssMb: peakRssMb(args, env),
    bareNodePeakRssMb: peakRssMb(['-e', '0'], env),
  };
}

/**
 * A home with real state for `status`: Weheat logged in, a few days of Linky
 * and Weheat synced into a claimed EnergyID record, against the sandbox. The
 * sandbox is closed before the timing: status reads stored state only.
 */
async function syncedHome() {
  const { startSandbox, SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS, SANDBOX_WEHEAT_USER, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } = await import('wattbridge/sandbox');
  const sandbox = await startSandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0 } });
  const home = mkdtempSync(join(tmpdir(), 'wattbridge-bench-'));
  const env = {
    ...process.env,
    WATTBRIDGE_HOME: home,
    WATTBRIDGE_LINKY_CONSO_API_URL: sandbox.urls.linky.consoApiUrl,
    WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN,
    WATTBRIDGE_LINKY_METER: SANDBOX_LINKY_METERS.household,
    WATTBRIDGE_WEHEAT_AUTH_URL: sandbox.urls.weheat.newAuthUrl,
    WATTBRIDGE_WEHEAT_API_URL: sandbox.urls.weheat.newApiUrl,
    WATTBRIDGE_WEHEAT_BUDGET_PER_HOUR: '1000',
    WATTBRIDGE_ENERGYID_HELLO_URL: sandbox.urls.energyid.helloUrl,
    WATTBRIDGE_ENERGYID_PROVISIONING_KEY: SANDBOX_PROVISIONING_KEY,
    WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: SANDBOX_PROVISIONING_SECRET,
  };
  const since = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
  const { spawn } = await import('node:child_process');
  const cli = (args, input = '') =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['js/cli/main.js', ...args], { cwd: ROOT, env, stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      child.stdin.end(input);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`wattbridge ${args.join(' ')} exited ${code}: ${stderr}`))));
    });
  try {
    await cli(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], `${SANDBOX_WEHEAT_USER.password}\n`);
    await cli(['sync', '--since', since]);
  } finally {
    await sandbox.close();
  }
  return { env, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export async function cliStartup({ runs = Number(process.env.BENCH_RUNS ?? 25), cli = process.env.BENCH_CLI ?? 'js/cli/main.js' } = {}) {
  const empty = mkdtempSync(join(tmpdir(), 'wattbridge-bench-'));
  const { env, cleanup } = await syncedHome();
  try {
    return {
      help: paired('--help', [cli, '--help'], { ...process.env, WATTBRIDGE_HOME: empty }, runs),
      status: paired('status', [cli, 'status'], env, runs),
      commanderFloor: paired('', ['bench/commander-floor.mjs', '--help'], { ...process.env, WATTBRIDGE_HOME: empty }, runs, 'floor: commander alone, one command\'s --help'),
    };
  } finally {
    cleanup();
    rmSync(empty, { recursive: true, force: true });
  }
}

export function cliStartupRows(startup) {
  return Object.values(startup).map((r) => [
    `${r.command}: node start -> exit (paired, median of ${r.runs})`,
    `${r.cliMs.toFixed(1)} ms vs node -e 0 ${r.bareNodeMs.toFixed(1)} ms = ${r.ratio.toFixed(2)}× (per-pair median ${r.medianPairRatio.toFixed(2)}×${r.command.startsWith('wattbridge') ? '; budget 1.5×' : ''}); peak RSS ${r.peakRssMb.toFixed(0)} MB (node -e 0: ${r.bareNodePeakRssMb.toFixed(0)} MB)`,
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const startup = await cliStartup();
  for (const [name, value] of cliStartupRows(startup)) console.log(`${name}\n  ${value}`);
}

// Shared set-up for the end-to-end tests: a fresh sandbox and scratch directories.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { startSandbox, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET, SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS, SANDBOX_WEHEAT_USER } from 'wattbridge/sandbox';

export { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET };

/** A sandbox closed when the test file ends. */
export async function sandbox(options) {
  const started = await startSandbox(options);
  after(() => started.close());
  return started;
}

/** A monotonic clock for a sandbox's quotas that a test moves forward: `{ now, advance(ms) }`. */
export function movableClock() {
  let shift = 0;
  return { now: () => performance.now() + shift, advance: (ms) => { shift += ms; } };
}

/**
 * Move the Conso API budget a CLI home keeps `ms` into the past: for the
 * client, that much time has passed (the CLI has no clock of its own to move).
 */
export async function ageConsoBudget(home, ms) {
  const file = join(home, 'state', `${encodeURIComponent('linky/conso-budget')}.json`);
  const { sent } = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ sent: sent.map((at) => at - ms) }));
}

/** A scratch directory removed when the test file ends. */
export async function scratchDir(prefix = 'wattbridge-test-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment of a CLI run (or a script) against the sandbox's EnergyID, in its own home. */
export function energyIdEnv(sb, home, extra = {}) {
  return {
    WATTBRIDGE_HOME: home,
    WATTBRIDGE_ENERGYID_HELLO_URL: sb.urls.energyid.helloUrl,
    WATTBRIDGE_ENERGYID_PROVISIONING_KEY: SANDBOX_PROVISIONING_KEY,
    WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: SANDBOX_PROVISIONING_SECRET,
    ...extra,
  };
}

export function energyIdSettings(sb, extra = {}) {
  return {
    helloUrl: sb.urls.energyid.helloUrl,
    provisioningKey: SANDBOX_PROVISIONING_KEY,
    provisioningSecret: SANDBOX_PROVISIONING_SECRET,
    ...extra,
  };
}

/**
 * A sandbox whose EnergyID claims at once (options in `energyid`), a scratch
 * WATTBRIDGE_HOME, and the environment that points the CLI at both.
 */
export async function energyIdCliSetup(energyid = {}) {
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, ...energyid } });
  const home = await scratchDir();
  const env = {
    WATTBRIDGE_HOME: home,
    WATTBRIDGE_ENERGYID_HELLO_URL: sb.urls.energyid.helloUrl,
    WATTBRIDGE_ENERGYID_PROVISIONING_KEY: SANDBOX_PROVISIONING_KEY,
    WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: SANDBOX_PROVISIONING_SECRET,
  };
  return { sb, home, env };
}

/**
 * Debian's Chromium, headless, closed when the test file ends. The flags keep
 * it off the network it cannot reach here (DESIGN.md).
 */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  after(() => browser.close());
  return browser;
}

/** Resolve with `predicate()`'s first truthy value, polling every 50 ms; reject after `timeout` ms. */
export function until(predicate, what, timeout = 15_000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const value = predicate();
      if (value) return resolve(value);
      if (Date.now() - started > timeout) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** Run the installed-style CLI (`node js/cli/main.js …`): `{code, signal, stdout, stderr}`, plus `.child`. */
export function runCli(args, env, stdin = '') {
  const bin = new URL('../../js/cli/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(stdin);
  const done = new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(done, { child });
}

/**
 * A home against a sandbox, as the CLI's environment: Linky by Conso token
 * (`meter`, default the household's), Weheat logged in, EnergyID's keys, in a
 * fresh WATTBRIDGE_HOME; `extra` variables are added.
 */
export async function sandboxHome(sb, { meter = SANDBOX_LINKY_METERS.household, ...extra } = {}) {
  const env = {
    WATTBRIDGE_HOME: await scratchDir(),
    WATTBRIDGE_LINKY_CONSO_API_URL: sb.urls.linky.consoApiUrl,
    WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN,
    WATTBRIDGE_LINKY_METER: meter,
    WATTBRIDGE_WEHEAT_AUTH_URL: sb.urls.weheat.newAuthUrl,
    WATTBRIDGE_WEHEAT_API_URL: sb.urls.weheat.newApiUrl,
    WATTBRIDGE_WEHEAT_BUDGET_PER_HOUR: '1000',
    WATTBRIDGE_ENERGYID_HELLO_URL: sb.urls.energyid.helloUrl,
    WATTBRIDGE_ENERGYID_PROVISIONING_KEY: SANDBOX_PROVISIONING_KEY,
    WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: SANDBOX_PROVISIONING_SECRET,
    ...extra,
  };
  const login = await runCli(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], env, `${SANDBOX_WEHEAT_USER.password}\n`);
  if (login.code !== 0) throw new Error(`weheat login failed: ${login.stderr}`);
  return env;
}

/**
 * Wh per whole UTC hour of Linky load-curve rows (`linky fetch --json` rows:
 * Paris times with offsets, `wh` each): only hours whose intervals cover the
 * whole hour, as Home Assistant's statistics hold them. Map of hour start ms → Wh.
 */
export function hourlyWh(rows) {
  const hours = new Map();
  for (const row of rows) {
    const start = Date.parse(row.start);
    const hour = start - (start % 3_600_000);
    const entry = hours.get(hour) ?? { covered: 0, wh: 0 };
    entry.covered += Date.parse(row.end) - start;
    entry.wh += row.wh;
    hours.set(hour, entry);
  }
  return new Map([...hours].filter(([, e]) => e.covered >= 3_600_000).map(([hour, e]) => [hour, e.wh]));
}

/** A port nobody listens on right now (for servers that cannot pick their own). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real Mosquitto (Debian's, installed by scripts/setup.sh) on 127.0.0.1 with
 * a password file and no anonymous access, stopped when the test file ends.
 * @param {Record<string, string>} users name → password
 */
export async function startMosquitto(users) {
  const dir = await scratchDir('wattbridge-mosquitto-');
  const passwd = join(dir, 'passwd');
  await writeFile(passwd, '');
  for (const [name, password] of Object.entries(users)) {
    const made = spawnSync(process.env.MOSQUITTO_PASSWD ?? 'mosquitto_passwd', ['-b', passwd, name, password]);
    if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
  }
  const port = await freePort();
  // As root, Mosquitto would drop to its own user, which cannot read this 0700 directory: stay who we are.
  await writeFile(join(dir, 'mosquitto.conf'), `user ${userInfo().username}\nlistener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwd}\npersistence false\n`);
  let broker;
  let log = '';
  const start = async () => {
    broker = spawn(process.env.MOSQUITTO ?? '/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const started = log.length;
    broker.stderr.on('data', (chunk) => { log += chunk; });
    await until(() => /running/.test(log.slice(started)) || broker.exitCode !== null, 'mosquitto to start');
    if (broker.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
  };
  const stop = async () => {
    if (broker.exitCode !== null || broker.signalCode !== null) return;
    const exited = new Promise((resolve) => broker.once('exit', resolve));
    broker.kill();
    await exited;
  };
  after(stop);
  await start();
  // restart(): the same broker again on the same port, with no retained messages (no persistence).
  return { url: `mqtt://127.0.0.1:${port}`, port, stop, restart: async () => { await stop(); await start(); }, log: () => log };
}

/**
 * Skip the tests against real peers (OpenLEADR VTN, Home Assistant) only when
 * asked (WATTBRIDGE_SKIP_PEERS=1): a missing peer must fail the suite, not pass it quietly.
 */
export const skipPeers = process.env.WATTBRIDGE_SKIP_PEERS === '1' ? 'WATTBRIDGE_SKIP_PEERS=1' : false;

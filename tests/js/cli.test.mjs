// The CLI as a newcomer types it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const home = await scratchDir();
const env = { ...process.env, WATTBRIDGE_HOME: home, NO_COLOR: '1' };

function wattbridge(...args) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

test('--help names the commands and the exit codes; --version prints the package version', async () => {
  const help = wattbridge('--help');
  assert.equal(help.status, 0);
  for (const word of ['demo', 'sandbox', '--json', 'WATTBRIDGE_HOME', 'Exit codes']) assert.ok(help.stdout.includes(word), word);
  const { version } = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')));
  const printed = wattbridge('--version');
  assert.equal(printed.stdout.trim(), version);
  assert.match(wattbridge('sandbox', '--help').stdout, /--port/);
});

test('demo runs the EnergyID slice and says what happened', () => {
  const run = wattbridge('demo');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /not claimed yet: code [0-9A-F]{6}/);
  assert.match(run.stdout, /claimed by record "Sandbox home 1"/);
  assert.match(run.stdout, /holds 1 reading\(s\): el=1250\.5 pv=3560\.2/);
});

test('demo --json prints one JSON document with what EnergyID received', () => {
  const run = wattbridge('--json', 'demo');
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.claimed.status, 'claimed');
  assert.deepEqual(result.received, [result.sent.reading]);
});

test('a bad flag value exits 2 with a message naming the flag', () => {
  const run = wattbridge('sandbox', '--port', 'eighty');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--port must be a whole number/);
  const json = wattbridge('--json', 'sandbox', '--port', '99999');
  assert.equal(json.status, 2);
  assert.equal(JSON.parse(json.stdout).error.code, 'invalid_input');
  const unknown = wattbridge('frobnicate');
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

test('sandbox --json prints its URLs, serves the EnergyID hello, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [BIN, 'sandbox', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const [line] = await once(child.stdout.setEncoding('utf8'), 'data');
  const { url, services } = JSON.parse(line);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(services.energyid.helloUrl, `${url}/energyid/hello`);
  const answer = await fetch(services.energyid.helloUrl, { method: 'POST', body: '{}' });
  assert.equal(answer.status, 401, 'no provisioning credentials');
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});

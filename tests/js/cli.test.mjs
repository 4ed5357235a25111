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

// Preloaded into the CLI: counts the wasm modules compiled or instantiated and
// says so on exit. Not a timing: start-up speed is measured by `npm run bench`.
const WASM_PROBE = `data:text/javascript,${encodeURIComponent(`
let made = 0;
const counted = (C) => new Proxy(C, { construct: (target, args, newTarget) => { made += 1; return Reflect.construct(target, args, newTarget); } });
WebAssembly.Module = counted(WebAssembly.Module);
WebAssembly.Instance = counted(WebAssembly.Instance);
for (const name of ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
  const f = WebAssembly[name];
  if (f) WebAssembly[name] = function (...args) { made += 1; return Reflect.apply(f, this, args); };
}
process.on('exit', () => process.stderr.write('wasm modules made: ' + made + '\\n'));
`)}`;

test('--help, --version and a usage error do not load the wasm module; a command that needs it does', () => {
  const probe = (...args) => spawnSync(process.execPath, ['--import', WASM_PROBE, BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  for (const args of [['--help'], ['--version'], ['linky', '--help'], ['sync', '--help'], ['bogus'], ['sync', '--bogus']]) {
    const run = probe(...args);
    assert.match(run.stderr, /wasm modules made: 0$/m, `wattbridge ${args.join(' ')}: ${run.stderr}`);
  }
  const status = probe('status');
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stderr, /wasm modules made: [1-9]/, 'the probe sees a command that does load it');
});

test('demo logs in to the three sandbox services, backfills 90 days into EnergyID and says what happened', () => {
  const run = wattbridge('demo');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /Logging in to Linky/, 'steps are shown as they happen, on stderr');
  assert.match(run.stdout, /EnergyID record "Sandbox home \d+"/);
  assert.match(run.stdout, /Linky +\d+ \/ \d+/);
  assert.match(run.stdout, /yesterday +[\d.]+ kWh +[\d.]+ EUR/);
  assert.match(run.stdout, /this year +[\d.]+ kWh/);
  assert.match(run.stdout, /COP \d\.\d\d/);
  assert.match(run.stdout, /Done in [\d.]+ s/);
});

test('demo --json prints one JSON document: what was fetched, sent and received, requests against the minimum', () => {
  const run = wattbridge('--json', 'demo');
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.sync.ok, true);
  assert.equal(result.sync.energyid.remaining, 0);
  // 90 days of half-hours (one more for the starting index) and of hours.
  assert.ok(result.received.byKey.el >= 89 * 48, JSON.stringify(result.received.byKey));
  assert.ok(result.received.byKey.heat >= 89 * 24);
  assert.equal(result.received.byKey.heat, result.received.byKey['el.heatpump']);
  assert.equal(result.requests.linky, result.requests.linkyMinimum);
  assert.equal(result.requests.weheat, result.requests.weheatMinimum);
  assert.equal(result.requests.energyidPosts, result.requests.energyidMinimum);
  assert.ok(result.pump.cop > 2 && result.pump.cop < 5.5);
  assert.ok(result.seconds < 60);
});

test('sync with nothing configured says how to set up a target, and exits 2', () => {
  const run = wattbridge('sync');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /sync has no target yet: .*EnergyID.*Home Assistant.*MQTT.*Jeedom.*`wattbridge config init`.*`wattbridge demo`/);
});

test('status on a fresh install says what is not set up yet, names each target set up, and never a secret', () => {
  const fresh = wattbridge('status');
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.match(fresh.stdout, /^linky: not logged in/m);
  assert.match(fresh.stdout, /^energyid: not set up \(wattbridge config init/m);
  assert.doesNotMatch(fresh.stdout, /invalid_config|^ha:|^mqtt:|^jeedom:/m);

  const secret = 'ha-token-7f1e0c';
  const run = spawnSync(process.execPath, [BIN, '-c', 'ha.url=http://ha.local:8123', '-c', 'jeedom.url=https://jeedom.local', '-c', 'mqtt.url=mqtt://127.0.0.1:1883', 'status'], { encoding: 'utf8', env: { ...env, WATTBRIDGE_HA_TOKEN: secret } });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^ha: http:\/\/ha\.local:8123$/m);
  assert.match(run.stdout, /^mqtt: mqtt:\/\/127\.0\.0\.1:1883$/m);
  assert.match(run.stdout, /^jeedom: https:\/\/jeedom\.local — no API key/m);
  assert.ok(!run.stdout.includes(secret));
});

test('a bad flag value exits 2 with a message naming the flag', () => {
  const run = wattbridge('sandbox', '--port', 'eighty');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--port must be a whole number/);
  const json = wattbridge('--json', 'sandbox', '--port', '99999');
  assert.equal(json.status, 2);
  assert.equal(JSON.parse(json.stdout).error.code, 'invalid_input');
  const unknown = wattbridge('frobnicate');
  assert.equal(unknown.status, 2, 'a usage error is bad input');
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const option = wattbridge('linky', 'fetch', '--bogus');
  assert.equal(option.status, 2);
  assert.match(option.stderr, /unknown option '--bogus'/);
  const bare = wattbridge('linky');
  assert.equal(bare.status, 2, 'a group without its subcommand shows its help as a usage error');
  assert.match(bare.stderr, /fetch \[options\] <series>/);
  assert.equal(wattbridge('linky', '--help').status, 0);
  assert.equal(wattbridge('--version').status, 0);
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

test('config show lists every setting with its source, secrets redacted; -c sets any of them for one run', () => {
  const secret = 'prov-secret-never-printed';
  const run = spawnSync(process.execPath, [BIN, '--json', '-c', 'linky.meter=33333333333333', 'config', 'show'], {
    encoding: 'utf8',
    env: { ...env, WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: secret, WATTBRIDGE_SYNC_HEAT_KEY: 'heat.pump' },
  });
  assert.equal(run.status, 0, run.stderr);
  const shown = JSON.parse(run.stdout);
  assert.deepEqual(shown['linky.meter'], { value: '33333333333333', source: 'flag' });
  assert.deepEqual(shown['sync.heat_key'], { value: 'heat.pump', source: 'WATTBRIDGE_SYNC_HEAT_KEY' });
  assert.deepEqual(shown['energyid.provisioning_secret'], { value: '[redacted]', source: 'WATTBRIDGE_ENERGYID_PROVISIONING_SECRET' });
  assert.equal(shown['sync.linky_key'].value, 'el');
  assert.ok(!run.stdout.includes(secret));
  // A secret on the command line would show in ps and the shell history.
  const onTheLine = wattbridge('-c', `energyid.provisioning_secret=${secret}`, 'config', 'show');
  assert.equal(onTheLine.status, 2);
  assert.match(onTheLine.stderr, /energyid\.provisioning_secret is a secret.*WATTBRIDGE_ENERGYID_PROVISIONING_SECRET/);
  assert.ok(!(onTheLine.stdout + onTheLine.stderr).includes(secret));
  const unknown = wattbridge('-c', 'linky.nope=1', 'config', 'show');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown setting "linky.nope"/);
});

test('a config.json holding a secret is used, with a warning naming the safer places', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = await scratchDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ energyid: { provisioning_secret: 'in-the-file-SECRET' } }));
  const run = spawnSync(process.execPath, [BIN, '--json', 'config', 'show'], { encoding: 'utf8', env: { ...env, WATTBRIDGE_HOME: dir } });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /warning: .*config\.json holds energyid\.provisioning_secret.*0600 state file/);
  assert.equal((run.stderr.match(/warning:/g) ?? []).length, 1, 'said once');
  assert.ok(!(run.stdout + run.stderr).includes('in-the-file-SECRET'));
  assert.equal(JSON.parse(run.stdout)['energyid.provisioning_secret'].value, '[redacted]');
});

test('config init asks its questions in a terminal and keeps the secrets out of config.json', async () => {
  const { readFileSync, statSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = await scratchDir();
  const token = 'conso-token-never-in-config';
  const answers = [
    ['Which sources', '\r'], // both, as offered
    ['How do you reach Enedis', '\u001b[B\r'], // the second choice: a Conso API token
    ['Conso API token', `${token}\r`],
    ['Meter', '\r'],
    ['key for consumption', '\r'],
    ['production', 'pv\r'],
    ['Meter reading', '12000\r'],
    ['Heat pump id', '\r'],
    ['delivered heat', '\r'],
    ['electricity', '\r'],
    ['provisioning key', 'pk-test\r'],
    ['provisioning secret', 'ps-test\r'],
    ['Device name', 'My home\r'],
    ['Jeedom URL', 'https://jeedom.local\r'],
    ['Jeedom API key', 'jeedom-key-test\r'],
    ['MQTT broker', 'mqtt://192.0.2.1:1883\r'],
    ['MQTT user name', 'home\r'],
    ['MQTT password', 'mqtt-pw-never-in-config\r'],
  ];
  const driver = fileURLToPath(new URL('./programs/pty-answer.py', import.meta.url));
  const run = spawnSync('python3', [driver, JSON.stringify(answers), process.execPath, BIN, 'config', 'init'], { encoding: 'utf8', env: { ...env, WATTBRIDGE_HOME: dir }, timeout: 60_000 });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /Saved\. Next:/);
  const config = readFileSync(join(dir, 'config.json'), 'utf8');
  assert.deepEqual(JSON.parse(config).linky, { access: 'conso' });
  assert.equal(JSON.parse(config).sync.linky_production_key, 'pv');
  assert.equal(JSON.parse(config).sync.linky_start_index, '12000');
  for (const secret of [token, 'pk-test', 'ps-test', 'mqtt-pw-never-in-config', 'jeedom-key-test']) assert.ok(!config.includes(secret), 'a secret in config.json');
  assert.deepEqual(JSON.parse(config).mqtt, { url: 'mqtt://192.0.2.1:1883', username: 'home' });
  assert.equal(JSON.parse(config).jeedom.url, 'https://jeedom.local');
  assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600, 'config.json is its owner\'s only');
  const secrets = join(dir, 'state', 'settings%2Fsecrets.json');
  assert.equal(statSync(secrets).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(secrets, 'utf8'))['linky.conso_token'], token);
  assert.equal(JSON.parse(readFileSync(secrets, 'utf8'))['mqtt.password'], 'mqtt-pw-never-in-config');
  assert.equal(JSON.parse(readFileSync(secrets, 'utf8'))['jeedom.api_key'], 'jeedom-key-test');
  const shown = JSON.parse(spawnSync(process.execPath, [BIN, '--json', 'config', 'show'], { encoding: 'utf8', env: { ...env, WATTBRIDGE_HOME: dir } }).stdout);
  assert.deepEqual(shown['linky.conso_token'], { value: '[redacted]', source: 'state file (secret)' });
  assert.equal(shown['energyid.device_name'].value, 'My home');
});

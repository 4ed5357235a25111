// Parity with the official EnergyID client and its notebook (issue 13,
// items 6-9), through the package as a user imports it, against the sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EnergyId, MemoryStore, Sensor } from 'wattbridge';
import { sandbox, scratchDir, energyIdEnv, energyIdSettings } from './helpers.mjs';

const ROOT = new URL('../../', import.meta.url);
const BIN = fileURLToPath(new URL('js/cli/main.js', ROOT));
// A short upload interval, so that a test can sync several times.
const sb = await sandbox({ energyid: { uploadInterval: 0.05 } });

function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const unix = (iso) => Date.parse(iso) / 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const record = (deviceId) => sb.energyid.records().find((r) => r.deviceId === deviceId);
const postsOf = (deviceId) => sb.energyid.posts().filter((p) => p.deviceId === deviceId);

/** A claimed device with its own id. */
async function claimed(extra = {}) {
  const energyid = new EnergyId(energyIdSettings(sb, { store: new MemoryStore(), ...extra }));
  const { claimUrl, deviceId } = await energyid.hello();
  await fetch(claimUrl);
  return { energyid, deviceId };
}

test('the client surface: isClaimed and authValidUntil after hello, refreshWebhook, device name and firmware', async () => {
  const energyid = new EnergyId(energyIdSettings(sb, { store: new MemoryStore(), deviceName: 'Cellar', firmwareVersion: '2.4.1' }));
  assert.equal(energyid.deviceName, 'Cellar');
  assert.equal(energyid.firmwareVersion, '2.4.1');
  assert.equal(new EnergyId(energyIdSettings(sb, { store: new MemoryStore() })).deviceName, 'wattbridge', 'the default name');
  assert.equal(energyid.isClaimed, null, 'unknown before any hello');
  const first = await energyid.hello();
  assert.equal(energyid.isClaimed, false);
  assert.equal(energyid.authValidUntil, null);
  await fetch(first.claimUrl);
  const before = Date.now();
  const refreshed = await energyid.refreshWebhook();
  assert.equal(refreshed.status, 'claimed');
  assert.equal(energyid.isClaimed, true);
  const until = energyid.authValidUntil.getTime();
  assert.ok(until >= before + 24 * 3600_000 - 1000 && until <= Date.now() + 24 * 3600_000, energyid.authValidUntil.toISOString());
  // The hello carried the name and firmware to EnergyID.
  const device = record(first.deviceId);
  assert.equal(device.deviceName, 'Cellar');
  assert.deepEqual(device.deviceInfo, { firmwareVersion: '2.4.1' });
});

test('authenticate() and the claimInfo() branches: needs_claiming, already_claimed, not_authenticated', async () => {
  const energyid = new EnergyId(energyIdSettings(sb, { store: new MemoryStore() }));
  assert.equal(await energyid.authenticate(), false);
  const info = await energyid.claimInfo();
  assert.equal(info.status, 'needs_claiming');
  assert.match(info.claim_code, /^[0-9A-F]{6}$/);
  assert.ok(info.claim_url.includes(info.claim_code));
  assert.ok(info.valid_until > Date.now() / 1000);
  await fetch(info.claim_url);
  assert.equal(await energyid.authenticate(), true);
  assert.equal((await energyid.claimInfo()).status, 'already_claimed');
  const stranger = new EnergyId(energyIdSettings(sb, { store: new MemoryStore(), provisioningSecret: 'not-the-secret' }));
  assert.deepEqual(await stranger.claimInfo(), { status: 'not_authenticated' });
  assert.equal(stranger.isClaimed, null, 'a refused hello says nothing of the claim');
});

test('sensors hold value, lastUpdate and changed; synchronizeSensors sends only the changed ones', async () => {
  const { energyid, deviceId } = await claimed();
  const el = energyid.sensor('el');
  assert.ok(el instanceof Sensor);
  assert.equal(energyid.sensor('el'), el, 'one sensor per key');
  assert.deepEqual([el.key, el.value, el.lastUpdate, el.changed], ['el', null, null, false]);
  await el.update(100.5, '2026-11-01T10:00:00Z');
  await energyid.updateSensor('temperature.living', 21.5, '2026-11-01T10:00:00Z');
  assert.deepEqual([el.value, el.lastUpdate.toISOString(), el.changed], [100.5, '2026-11-01T10:00:00.000Z', true]);
  const first = await energyid.synchronizeSensors();
  assert.equal(first.remaining, 0);
  assert.equal(el.changed, false);
  assert.equal(energyid.sensor('temperature.living').changed, false);
  assert.equal(postsOf(deviceId).length, 1);

  // Only el changes; the temperature is not sent again.
  await sleep(60);
  await el.update(101, '2026-11-01T10:15:00Z');
  await el.update(101.5, '2026-11-01T10:30:00Z'); // the reading in between is kept too
  const second = await energyid.synchronizeSensors();
  assert.equal(second.readings, 2);
  assert.deepEqual(record(deviceId).readings, [
    { ts: unix('2026-11-01T10:00:00Z'), el: 100.5, 'temperature.living': 21.5 },
    { ts: unix('2026-11-01T10:15:00Z'), el: 101 },
    { ts: unix('2026-11-01T10:30:00Z'), el: 101.5 },
  ]);
  // Nothing changed: nothing is sent.
  await sleep(60);
  const third = await energyid.synchronizeSensors();
  assert.equal(third.requests, 0);
  assert.equal(postsOf(deviceId).length, 2);

  // A refused value (a meter going down) leaves the sensor as it was.
  await assert.rejects(el.update(99, '2026-11-01T10:45:00Z'), (err) => err.code === 'invalid_input' && /'el'/.test(err.message));
  assert.deepEqual([el.value, el.changed], [101.5, false]);
});

test('a sensor stays changed until EnergyID accepted it', async () => {
  const { energyid, deviceId } = await claimed();
  const pv = energyid.sensor('pv');
  await pv.update(10, '2026-11-02T10:00:00Z');
  sb.energyid.failPosts(3, 503);
  await assert.rejects(energyid.synchronizeSensors(), (err) => err.code === 'unavailable');
  assert.equal(pv.changed, true, 'not delivered: still changed');
  await sleep(60);
  await energyid.synchronizeSensors();
  assert.equal(pv.changed, false);
  assert.deepEqual(record(deviceId).readings, [{ ts: unix('2026-11-02T10:00:00Z'), pv: 10 }]);
});

test('startAutoSync synchronizes on its own until close(), and queued readings stay for the next run', async (t) => {
  const store = new MemoryStore();
  const { energyid, deviceId } = await claimed({ store });
  const errors = [];
  energyid.startAutoSync(0.1, { onError: (err) => errors.push(err) });
  // A failed assertion must not leave the timer running (the test file would never end).
  t.after(() => energyid.close());
  await energyid.sensor('el').update(5, '2026-11-03T10:00:00Z');
  // Until the reading arrived and the sync that sent it has finished (it marks the sensor after the POST).
  for (let i = 0; i < 100 && (!record(deviceId).readings.length || energyid.sensor('el').changed); i += 1) await sleep(50);
  assert.deepEqual(record(deviceId).readings, [{ ts: unix('2026-11-03T10:00:00Z'), el: 5 }]);
  assert.equal(energyid.sensor('el').changed, false, 'the auto-sync marked it delivered');
  energyid.close();
  await energyid.sensor('el').update(6, '2026-11-03T10:15:00Z');
  await sleep(400);
  assert.equal(record(deviceId).readings.length, 1, 'nothing is sent after close()');
  assert.deepEqual(errors, []);
  // The reading waits in the store: another client on the same store sends it.
  const again = new EnergyId(energyIdSettings(sb, { store }));
  assert.equal((await again.flush({ maxWaitSeconds: 1 })).readings, 1);
  assert.equal(record(deviceId).readings.length, 2);
});

test('directives in the sandbox: the list, one by id, and a refused token gets one hello and one retry', async () => {
  const { energyid, deviceId } = await claimed();
  await energyid.hello();
  const list = await energyid.directives();
  assert.deepEqual(list.map((d) => d.id), ['dynamic-tariff', 'grid-congestion']);
  assert.equal(list[0].signalProvider.displayName, 'Sandbox grid operator');
  // The token expires: the next call is refused (401), hellos again and succeeds.
  sb.energyid.expireCredentials(deviceId);
  const before = sb.energyid.requests().list.length;
  const one = await energyid.directives('dynamic-tariff');
  assert.equal(one.interval, 'PT15M');
  assert.equal(one.data.length, 4);
  assert.ok(one.data.every((d) => /Z$/.test(d.timestamp) && typeof d.rawValue === 'number' && d.signal));
  const calls = sb.energyid.requests().list.slice(before).map((r) => `${r.path} ${r.status}`);
  assert.deepEqual(calls, ['/directives/dynamic-tariff 401', '/hello 200', '/directives/dynamic-tariff 200']);
  await assert.rejects(energyid.directives('no-such-directive'), (err) => err.status === 404);
});

test('energyid directives on the command line, and energyid.firmware_version from the settings', async () => {
  const env = energyIdEnv(sb, await scratchDir(), {
    WATTBRIDGE_ENERGYID_DEVICE_ID: `cli-directives-${process.pid}`,
    WATTBRIDGE_ENERGYID_FIRMWARE_VERSION: '3.1.4',
  });
  const notYet = await run(process.execPath, [BIN, '--json', 'energyid', 'directives'], env);
  assert.equal(notYet.code, 3, notYet.stdout);
  assert.equal(JSON.parse(notYet.stdout).error.code, 'not_claimed');
  sb.energyid.claim(env.WATTBRIDGE_ENERGYID_DEVICE_ID);
  const list = await run(process.execPath, [BIN, 'energyid', 'directives'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^dynamic-tariff {2}Dynamic tariff \(Sandbox grid operator\): Use electricity when it is cheap$/m);
  const one = await run(process.execPath, [BIN, '--json', 'energyid', 'directives', 'grid-congestion'], env);
  assert.equal(JSON.parse(one.stdout).data.length, 4);
  const status = await run(process.execPath, [BIN, '--json', 'energyid', 'status'], env);
  assert.equal(JSON.parse(status.stdout).firmwareVersion, '3.1.4');
  assert.deepEqual(record(env.WATTBRIDGE_ENERGYID_DEVICE_ID).deviceInfo, { firmwareVersion: '3.1.4' }, 'sent with the hello');
  const shown = JSON.parse((await run(process.execPath, [BIN, '--json', 'config', 'show'], env)).stdout);
  assert.deepEqual(shown['energyid.firmware_version'], { value: '3.1.4', source: 'WATTBRIDGE_ENERGYID_FIRMWARE_VERSION' });
  const help = await run(process.execPath, [BIN, 'energyid', 'directives', '--help'], env);
  assert.match(help.stdout, /apiAccessToken/);
});

test('the notebook walk-through runs as written, and the README shows it as it is', async () => {
  const file = new URL('examples/energyid-notebook.mjs', ROOT);
  const body = (await readFile(file, 'utf8')).split('// --- notebook ---\n')[1];
  assert.ok((await readFile(new URL('README.md', ROOT), 'utf8')).includes(`\`\`\`js\n${body}\`\`\``), 'README and example differ');
  // The notebook's own EnergyID: the device is claimed on its third hello (after authenticate and claimInfo).
  const own = await sandbox({ energyid: { uploadInterval: 0.2, claimAfterHellos: 2 } });
  const result = await run(process.execPath, [fileURLToPath(file)], energyIdEnv(own, await scratchDir()));
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines[0], 'device Notebook demo, firmware 1.0.0');
  assert.match(lines[1], /^claim it: open http:\/\/127\.0\.0\.1:\d+\/energyid\/claim\?code=[0-9A-F]{6} or enter [0-9A-F]{6}$/);
  assert.match(lines[2], /^claimed: true; credentials valid until \d{4}-\d\d-\d\dT/);
  assert.match(lines[3], /^temperature\.living = 21\.5 at .*, changed: true$/);
  assert.match(lines[4], /^refused: invalid_input: .*'gas'.*20\.9.*21\.5/);
  assert.equal(lines[5], 'done: 0 values still queued');
  const [notebook] = own.energyid.records();
  const values = (key) => notebook.readings.filter((r) => key in r).map((r) => r[key]);
  // By ts: the custom-time batch first, then the sends of "now" (one second may hold several: the last value wins).
  assert.deepEqual(values('el').slice(0, 3), [1249, 1249.2, 1249.4]);
  assert.equal(values('el').at(-1), 1252);
  assert.deepEqual(values('pv'), [3560.2]);
  assert.deepEqual(values('gas'), [21.5], 'the refused value never left');
  assert.ok(values('temperature.living').includes(21.7) || values('temperature.living').includes(21.5));
  assert.deepEqual(notebook.decreases, []);
});

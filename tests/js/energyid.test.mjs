// The EnergyID slice through the package as a user imports it: Rust core ->
// wasm -> fetch -> the sandbox, in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EnergyId, FileStore, MemoryStore, WattbridgeError } from 'wattbridge';
import { sandbox, scratchDir, energyIdSettings } from './helpers.mjs';

const sb = await sandbox();

async function rejectsWith(promise, code, pattern) {
  const err = await promise.then(() => assert.fail(`expected a ${code} error`), (e) => e);
  assert.ok(err instanceof WattbridgeError, `not a WattbridgeError: ${err?.stack ?? err}`);
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return err;
}

test('hello, claim, hello, send: the reading arrives at EnergyID', async () => {
  const dir = await scratchDir();
  const energyid = new EnergyId(energyIdSettings(sb, { deviceName: 'Test home', store: new FileStore(dir) }));

  const first = await energyid.hello();
  assert.equal(first.status, 'needs_claiming');
  assert.match(first.claimCode, /^[0-9A-F]{6}$/);
  assert.ok(first.expiresAt > Date.now() / 1000, 'claim code expires in the future');

  // Not claimed yet: the reading waits in the outbox, and the error says how to claim.
  const early = new Date('2026-11-01T09:30:00Z');
  const err = await rejectsWith(energyid.send({ ts: early, el: 1250.0 }), 'not_claimed', new RegExp(first.claimCode));
  assert.match(err.message, /stay queued/);

  assert.equal((await fetch(first.claimUrl)).status, 200);
  const second = await energyid.hello();
  assert.equal(second.status, 'claimed');
  assert.equal(second.deviceId, first.deviceId, 'the generated device id is remembered');
  assert.deepEqual(second.policy, { uploadInterval: 60 });
  assert.ok(!('headers' in second), 'webhook headers never reach JS');

  const ts = new Date('2026-11-01T10:00:00Z');
  assert.deepEqual(await energyid.send({ ts, el: 1250.5, pv: 3560.2 }), { queued: 2, readings: 2, requests: 1, remaining: 0, quarantined: 0, nextUploadAtMs: null });
  const record = sb.energyid.records().find((r) => r.deviceId === first.deviceId);
  assert.deepEqual(record.readings, [{ ts: early.getTime() / 1000, el: 1250.0 }, { ts: ts.getTime() / 1000, el: 1250.5, pv: 3560.2 }]);

  // The state file holds the webhook credentials, so it is private.
  const [file] = await readdir(dir);
  const { mode } = await import('node:fs').then((fs) => fs.statSync(join(dir, file)));
  assert.equal(mode & 0o777, 0o600);
});

test('a second send within the upload policy waits in the outbox instead of provoking a 429', async () => {
  const energyid = new EnergyId(energyIdSettings(sb, { store: new MemoryStore() }));
  const { claimUrl, deviceId } = await energyid.hello();
  await fetch(claimUrl);
  const first = await energyid.send({ el: 1 });
  assert.equal(first.requests, 1);
  const before = Date.now();
  const second = await energyid.send({ ts: Math.floor(Date.now() / 1000) + 1, el: 2 });
  assert.equal(second.requests, 0, 'no POST inside the policy interval');
  assert.equal(second.remaining, 1);
  assert.ok(second.nextUploadAtMs > before && second.nextUploadAtMs <= before + 60_000, `next upload ${second.nextUploadAtMs}`);
  const status = await energyid.status();
  assert.equal(status.outbox, 1);
  assert.equal(sb.energyid.records().find((r) => r.deviceId === deviceId).readings.length, 1);
});

test('wrong provisioning credentials are named', async () => {
  const energyid = new EnergyId(energyIdSettings(sb, { provisioningSecret: 'wrong', store: new MemoryStore() }));
  const err = await rejectsWith(energyid.hello(), 'invalid_credentials', /PROVISIONING_SECRET/);
  assert.equal(err.status, 401);
  assert.doesNotMatch(err.message, /wrong/, 'the secret is not echoed');
});

test('HTML, truncated JSON, a missing field and a dropped connection each give a precise error and keep the state', async () => {
  const dir = await scratchDir();
  const store = new FileStore(dir);
  const energyid = new EnergyId(energyIdSettings(sb, { store }));
  await energyid.hello();
  const before = await store.get('energyid');

  const cases = [
    [{ html: true }, 'bad_response', /HTML/],
    [{ truncate: true }, 'bad_response', /truncated/],
    [{ status: 200, body: { recordName: 'x' } }, 'bad_response', /neither `webhookUrl`/],
    [{ status: 503 }, 'unavailable', /HTTP 503/],
    [{ drop: true }, 'network', /127\.0\.0\.1/],
  ];
  for (const [fault, code, pattern] of cases) {
    sb.energyid.faults.push({ ...fault, path: '/hello' });
    await rejectsWith(energyid.hello(), code, pattern);
    assert.equal(await store.get('energyid'), before, `state changed after ${JSON.stringify(fault)}`);
  }
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temp files left behind');
});

test('an unreachable host is a network error', async () => {
  const energyid = new EnergyId(energyIdSettings(sb, { helloUrl: 'http://127.0.0.1:9/hello', store: new MemoryStore() }));
  await rejectsWith(energyid.hello(), 'network', /could not reach 127\.0\.0\.1/);
});

test('a redirect is refused, not followed, and named by its host only', async () => {
  const { createServer } = await import('node:http');
  const listen = (handler) => new Promise((resolve) => {
    const server = createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
  });
  let followed = 0;
  const target = await listen((req, res) => { followed += 1; res.end('{}'); });
  const mover = await listen((req, res) => {
    res.writeHead(307, { location: `http://localhost:${target.address().port}/sso?ticket=abc123` }).end();
  });
  try {
    const helloUrl = `http://127.0.0.1:${mover.address().port}/hello?trace=xyz789`;
    const energyid = new EnergyId(energyIdSettings(sb, { helloUrl, store: new MemoryStore() }));
    const err = await rejectsWith(energyid.hello(), 'unexpected_status', /^127\.0\.0\.1 answered with a redirect \(HTTP 307 to localhost\)/);
    assert.equal(err.status, 307);
    assert.equal(followed, 0, 'the redirect was followed');
    assert.doesNotMatch(err.message, /sso|abc123|xyz789|\/hello/);
  } finally {
    mover.close();
    target.close();
  }
});

test('a corrupt state file is reported, not reset', async () => {
  const dir = await scratchDir();
  const store = new FileStore(dir);
  await writeFile(join(dir, 'energyid.json'), '{"deviceId": "half-writ', { mode: 0o600 });
  const energyid = new EnergyId(energyIdSettings(sb, { store }));
  await rejectsWith(energyid.hello(), 'corrupt_state', /energyid\.json.*left untouched/);
  assert.equal(await readFile(join(dir, 'energyid.json'), 'utf8'), '{"deviceId": "half-writ');

  // Valid JSON that is not our document is just as corrupt, and just as untouched.
  await writeFile(join(dir, 'energyid.json'), '[1,2,3]');
  await rejectsWith(energyid.hello(), 'corrupt_state', /'energyid'/);
  assert.equal(await readFile(join(dir, 'energyid.json'), 'utf8'), '[1,2,3]');
});

test('bad settings and bad readings are refused with the culprit named', async () => {
  assert.throws(() => new EnergyId({ provisioningKey: 'k', store: new MemoryStore() }), (err) => {
    assert.ok(err instanceof WattbridgeError);
    assert.equal(err.code, 'invalid_config');
    assert.match(err.message, /provisioningSecret/);
    return true;
  });
  assert.throws(
    () => new EnergyId(energyIdSettings(sb, { helloUrl: 'http://hooks.energyid.eu/hello', store: new MemoryStore() })),
    (err) => err.code === 'invalid_config' && /https/.test(err.message),
  );
  assert.throws(() => new EnergyId(energyIdSettings(sb, { store: {} })), (err) => err.code === 'invalid_config');

  const energyid = new EnergyId(energyIdSettings(sb, { store: new MemoryStore() }));
  await rejectsWith(energyid.send({ el: NaN }), 'invalid_input', /'el'.*finite/);
  await rejectsWith(energyid.send({ electricity: 3 }), 'invalid_input', /'electricity'/);
  await rejectsWith(energyid.send({ ts: 'yesterday', el: 3 }), 'invalid_input', /"yesterday"/);
  await rejectsWith(energyid.send({ ts: Date.now(), el: 3 }), 'invalid_input', /unix seconds/);
  await rejectsWith(energyid.send([]), 'invalid_input', /no readings/);
});

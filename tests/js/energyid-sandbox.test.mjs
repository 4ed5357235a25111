// The sandbox EnergyID Webhook V2 with plain fetch: the claim flow (visit, N
// hellos, expiry), credentials, batches, the contract's validation (400), the
// upload policy (429 + Retry-After), the fault switches and the read-back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from 'wattbridge/sandbox';
import { sandbox } from './helpers.mjs';

const TS = 1731974400; // 2024-11-19T00:00:00Z

/** A sandbox with a wall clock and a monotonic clock the test moves by hand. */
async function fakeTimeSandbox(options = {}) {
  const time = { now: Date.UTC(2026, 10, 1, 12), clock: 0 };
  const sb = await sandbox({ energyid: { now: () => time.now, clock: () => time.clock, ...options } });
  return { sb, time };
}

let devices = 0;
const newDeviceId = () => `test-device-${++devices}`;

async function hello(sb, deviceId, { secret = SANDBOX_PROVISIONING_SECRET, body, contentType = 'application/json' } = {}) {
  const res = await fetch(sb.urls.energyid.helloUrl, {
    method: 'POST',
    headers: {
      'x-provisioning-key': SANDBOX_PROVISIONING_KEY,
      'x-provisioning-secret': secret,
      'content-type': contentType,
    },
    body: JSON.stringify(body ?? { deviceId, deviceName: `Home of ${deviceId}`, firmwareVersion: '1.2.3' }),
  });
  return { status: res.status, body: await res.json() };
}

/** Hello, visit the claim URL, hello again: the claimed answer. */
async function claimed(sb, deviceId = newDeviceId()) {
  const first = await hello(sb, deviceId);
  assert.equal((await fetch(first.body.claimUrl)).status, 200);
  const second = await hello(sb, deviceId);
  assert.ok(second.body.webhookUrl, 'claimed after the visit');
  return { deviceId, ...second.body };
}

async function post(webhook, payload, { headers = webhook.headers, url = webhook.webhookUrl, contentType = 'application/json' } = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': contentType },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
}

const control = (sb, path, body) =>
  fetch(`${sb.url}/energyid/_sandbox/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
const readBack = async (sb, path) => (await control(sb, path)).json();
const recordOf = (sb, deviceId) => sb.energyid.records().find((r) => r.deviceId === deviceId);

test('hello stays unclaimed, with the same code, until the claim URL is visited', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const deviceId = newDeviceId();
  const first = await hello(sb, deviceId);
  assert.equal(first.status, 200);
  assert.deepEqual(Object.keys(first.body).sort(), ['claimCode', 'claimUrl', 'exp']);
  assert.match(first.body.claimCode, /^[0-9A-F]{6}$/);
  assert.ok(first.body.claimUrl.endsWith(`?code=${first.body.claimCode}`));
  assert.equal(first.body.exp, Math.ceil(time.now / 1000) + 900, 'a code lives 15 minutes');

  time.now += 60_000;
  assert.deepEqual((await hello(sb, deviceId)).body, first.body, 'polling hello keeps the code');
  assert.equal((await fetch(`${sb.url}/energyid/claim?code=000000`)).status, 404);
  assert.deepEqual(sb.energyid.records(), [], 'nothing is claimed yet');

  const page = await fetch(first.body.claimUrl);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /now linked to Sandbox home 1/);
  assert.equal((await fetch(first.body.claimUrl)).status, 200, 'a second visit says it is already linked');

  const second = await hello(sb, deviceId);
  assert.equal(second.status, 200);
  const { webhookUrl, headers, webhookPolicy, recordName, recordNumber } = second.body;
  assert.equal(webhookUrl, `${sb.url}/energyid/webhook-in`);
  assert.deepEqual(Object.keys(headers).sort(), ['authorization', 'x-twin-id']);
  assert.match(headers.authorization, /^Bearer \S+$/);
  assert.match(headers['x-twin-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual(webhookPolicy, { uploadInterval: 60 });
  assert.equal(recordName, 'Sandbox home 1');
  assert.match(recordNumber, /^EA-\d{8}$/);

  // The contract's own claim path works too.
  const other = newDeviceId();
  const { claimCode } = (await hello(sb, other)).body;
  assert.equal((await fetch(`${sb.url}/energyid/integrations/webhook-in/new?code=${claimCode}`)).status, 200);
  assert.ok((await hello(sb, other)).body.webhookUrl);
});

test('claimAfterHellos claims by itself; sb.energyid.claim() claims from a test', async () => {
  const sb = await sandbox({ energyid: { claimAfterHellos: 2, policy: { allowedInterval: 'PT15M' } } });
  const deviceId = newDeviceId();
  assert.ok((await hello(sb, deviceId)).body.claimCode, 'hello 1 unclaimed');
  assert.ok((await hello(sb, deviceId)).body.claimCode, 'hello 2 unclaimed');
  const third = (await hello(sb, deviceId)).body;
  assert.ok(third.webhookUrl, 'hello 3 claimed');
  assert.deepEqual(third.webhookPolicy, { allowedInterval: 'PT15M', uploadInterval: 60 }, 'extra policy fields are passed on');

  const immediate = await sandbox({ energyid: { claimAfterHellos: 0 } });
  assert.ok((await hello(immediate, newDeviceId())).body.webhookUrl, 'claimAfterHellos: 0 claims at once');

  const manual = newDeviceId();
  assert.ok((await hello(sb, manual)).body.claimCode);
  assert.deepEqual(sb.energyid.claim(manual), { recordName: 'Sandbox home 2', recordNumber: 'EA-10000002' });
  assert.ok((await hello(sb, manual)).body.webhookUrl);
});

test('an expired claim code is replaced at the next hello and its URL answers 410', async () => {
  const { sb, time } = await fakeTimeSandbox({ claimCodeTtlSecs: 30 });
  const deviceId = newDeviceId();
  const first = (await hello(sb, deviceId)).body;
  assert.equal(first.exp, Math.ceil(time.now / 1000) + 30);
  time.now += 29_000;
  assert.equal((await hello(sb, deviceId)).body.claimCode, first.claimCode);
  time.now += 1_000;
  const second = (await hello(sb, deviceId)).body;
  assert.notEqual(second.claimCode, first.claimCode, 'a new code after expiry');
  assert.equal(second.exp, Math.ceil(time.now / 1000) + 30);
  assert.equal((await fetch(first.claimUrl)).status, 410);
  assert.ok((await hello(sb, deviceId)).body.claimCode, 'still unclaimed');
  assert.equal((await fetch(second.claimUrl)).status, 200);
  assert.ok((await hello(sb, deviceId)).body.webhookUrl);
});

test('hello refuses wrong provisioning credentials (401) and missing fields (400)', async () => {
  const sb = await sandbox();
  assert.equal((await hello(sb, newDeviceId(), { secret: 'wrong' })).status, 401);
  const missing = await hello(sb, null, { body: { deviceId: 'x' } });
  assert.equal(missing.status, 400);
  assert.match(missing.body.error, /deviceName/);
  // Contract §1: JSON said as such, and optional fields left out when empty.
  const plain = await hello(sb, newDeviceId(), { contentType: 'text/plain' });
  assert.equal(plain.status, 400);
  assert.match(plain.body.error, /Content-Type must be application\/json/);
  assert.equal((await hello(sb, newDeviceId(), { contentType: 'application/json; charset=utf-8' })).status, 200);
  const empty = await hello(sb, null, { body: { deviceId: newDeviceId(), deviceName: 'Home', firmwareVersion: '' } });
  assert.equal(empty.status, 400);
  assert.match(empty.body.error, /firmwareVersion must be a non-empty string, or left out/);
});

test('every hello issues fresh credentials; each works until it expires (48 h), then 401 until hello', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const one = await claimed(sb);
  const two = (await hello(sb, one.deviceId)).body;
  assert.notEqual(two.headers.authorization, one.headers.authorization, 'hello re-issues the authorization');
  assert.equal(two.headers['x-twin-id'], one.headers['x-twin-id'], 'the twin id stays');
  assert.equal((await post(one, { ts: TS, el: 1 })).status, 204, 'older credentials keep working');
  time.clock += 60_000;
  assert.equal((await post(two, { ts: TS + 900, el: 2 })).status, 204);
  time.clock += 60_000;
  assert.equal((await post(one, { ts: TS, el: 1 }, { headers: { authorization: one.headers.authorization } })).status, 401, 'no twin id');

  time.now += 48 * 3600 * 1000;
  assert.equal((await post(two, { ts: TS + 1800, el: 3 })).status, 401, 'expired after 48 h');
  const three = (await hello(sb, one.deviceId)).body;
  assert.equal((await post(three, { ts: TS + 1800, el: 3 })).status, 204);
});

test('a batch is accepted, recorded by ts once per key, and read back over HTTP', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  const batch = [
    { ts: TS + 1800, 'el.t1': 10.5, 'el.t2': 3, pwr: 0.8 },
    { ts: TS, el: 1250.5, pv: 3560.2, 'temperature.living': 20.5 },
  ];
  const accepted = await post(webhook, batch);
  assert.equal(accepted.status, 204);
  assert.equal(accepted.body, undefined);

  const [record] = sb.energyid.records();
  assert.deepEqual(record, {
    deviceId: webhook.deviceId,
    deviceName: `Home of ${webhook.deviceId}`,
    deviceInfo: { firmwareVersion: '1.2.3' },
    recordName: 'Sandbox home 1',
    recordNumber: webhook.recordNumber,
    claimedAt: time.now,
    webhookEnabled: true,
    readings: [batch[1], batch[0]],
    posts: [{ at: time.now, count: 2, duplicates: 0 }],
    decreases: [],
  });
  assert.deepEqual(await readBack(sb, 'records'), sb.energyid.records());

  // A resend of the same (key, ts) overwrites: the record keeps one value per key and ts.
  time.clock += 60_000;
  time.now += 60_000;
  assert.equal((await post(webhook, { ts: TS, el: 1250.7, gas: 5 })).status, 204);
  const again = recordOf(sb, webhook.deviceId);
  assert.deepEqual(again.readings[0], { ts: TS, el: 1250.7, pv: 3560.2, 'temperature.living': 20.5, gas: 5 });
  assert.equal(again.readings.length, 2);
  assert.deepEqual(again.posts.at(-1), { at: time.now, count: 1, duplicates: 1 });
  assert.deepEqual(again.decreases, [], 'el.t1 and el are different series');

  const posts = sb.energyid.posts();
  assert.deepEqual(posts.map(({ deviceId, recordNumber, count }) => [deviceId, recordNumber, count]), [
    [webhook.deviceId, webhook.recordNumber, 2],
    [webhook.deviceId, webhook.recordNumber, 1],
  ]);
  assert.deepEqual(await readBack(sb, 'posts'), posts);

  // A cumulative meter going down is accepted but reported.
  time.clock += 60_000;
  assert.equal((await post(webhook, { ts: TS + 3600, el: 1000, 'bat-soc': 10 })).status, 204);
  assert.deepEqual(recordOf(sb, webhook.deviceId).decreases, [{ key: 'el', ts: TS + 3600, value: 1000, previousTs: TS, previous: 1250.7 }]);
});

test('each malformed payload is a 400 naming the problem, and nothing is recorded', async () => {
  const { sb } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  const cases = [
    ['not json', 'bad_json', /JSON/],
    [[], 'empty_batch', /empty batch/],
    [42, 'not_object', /object/],
    [[{ ts: TS, el: 1 }, 'x'], 'not_object', /^item 1: /],
    [{ el: 1 }, 'missing_ts', /missing ts/],
    [{ ts: '1731974400', el: 1 }, 'bad_ts', /integer.*"1731974400"/],
    [{ ts: TS + 0.5, el: 1 }, 'bad_ts', /integer/],
    [{ ts: TS * 1000, el: 1 }, 'bad_ts', /milliseconds/],
    [{ ts: -1, el: 1 }, 'bad_ts', /before 1970/],
    [{ ts: TS }, 'no_values', /no metric values/],
    [{ ts: TS, electricity: 1 }, 'unknown_key', /'electricity'/],
    [{ ts: TS, 'el.': 1 }, 'unknown_key', /'el\.'/],
    [{ ts: TS, el: 1, interval: 'PT15M' }, 'unknown_key', /'interval'/],
    [[{ ts: TS, el: 1 }, { ts: TS + 900, el: '12' }], 'bad_value', /^item 1 \(ts 1731975300\): value of 'el' must be a number, got "12"/],
    [{ ts: TS, pv: null }, 'bad_value', /'pv'.*null/],
  ];
  for (const [payload, problem, pattern] of cases) {
    const { status, body } = await post(webhook, payload);
    assert.equal(status, 400, JSON.stringify(payload));
    assert.equal(body.problem, problem, JSON.stringify(payload));
    assert.match(body.error, pattern);
  }
  const form = await post(webhook, { ts: TS, el: 1 }, { contentType: 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 400, 'contract §2: the webhook takes application/json');
  assert.equal(form.body.problem, 'content_type');
  const bad = await post(webhook, [{ ts: TS, el: 1 }, { ts: TS, wattage: 3 }]);
  assert.deepEqual(bad.body.index, 1);
  assert.deepEqual(bad.body.key, 'wattage');
  assert.deepEqual(recordOf(sb, webhook.deviceId).readings, []);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 204, 'a 400 does not count for the policy');

  const limited = (await fakeTimeSandbox({ maxBatchSize: 2 })).sb;
  const small = await claimed(limited);
  assert.equal((await post(small, [1, 2, 3].map((i) => ({ ts: TS + i, el: i })))).status, 413);
});

test('two accepted POSTs closer than uploadInterval: 429 with Retry-After', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 204);
  time.clock += 15_500;
  const limited = await post(webhook, { ts: TS + 900, el: 2 });
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfter, '45');
  assert.equal(limited.body.retryAfterMs, 44_500);
  time.clock += 44_499;
  assert.equal((await post(webhook, { ts: TS + 900, el: 2 })).retryAfter, '1');
  time.clock += 1;
  assert.equal((await post(webhook, { ts: TS + 900, el: 2 })).status, 204, 'a 429 does not restart the wait');
  assert.equal(sb.energyid.posts().length, 2);

  // Per record: another device is not limited by the first.
  assert.equal((await post(await claimed(sb), { ts: TS, el: 1 })).status, 204);

  // A fast policy on the real monotonic clock.
  const fast = await sandbox({ energyid: { uploadInterval: 0.2 } });
  const quick = await claimed(fast);
  assert.equal((await post(quick, { ts: TS, el: 1 })).status, 204);
  const early = await post(quick, { ts: TS + 1, el: 2 });
  assert.equal(early.status, 429);
  assert.equal(early.retryAfter, '1', 'Retry-After is whole seconds');
  assert.ok(early.body.retryAfterMs > 0 && early.body.retryAfterMs <= 200);
  await new Promise((resolve) => setTimeout(resolve, early.body.retryAfterMs + 10));
  assert.equal((await post(quick, { ts: TS + 1, el: 2 })).status, 204);
});

test('failPosts: the next N webhook POSTs answer 500 (or the status given), then all is well', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  sb.energyid.failPosts(2);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 500);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 500);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 204);

  const answer = await control(sb, 'faults', { failPosts: { count: 1, status: 503 } });
  assert.equal(answer.status, 200);
  assert.equal((await answer.json()).queued.length, 1);
  time.clock += 60_000;
  assert.equal((await post(webhook, { ts: TS + 900, el: 2 })).status, 503);
  // The FaultQueue format still works, for the webhook and for hello.
  await control(sb, 'faults', [{ status: 400, body: { error: 'bad keys' }, path: '/webhook-in' }, { truncate: true, path: '/hello' }]);
  assert.deepEqual((await post(webhook, { ts: TS + 900, el: 2 })).body, { error: 'bad keys' });
  await assert.rejects(hello(sb, webhook.deviceId), SyntaxError);
  assert.equal((await post(webhook, { ts: TS + 900, el: 2 })).status, 204);
  assert.equal((await control(sb, 'faults', { explode: 1 })).status, 400, 'an unknown switch is refused');
});

test('dropPosts: a dropped connection records nothing; a lost answer records the readings', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  sb.energyid.dropPosts(1);
  await assert.rejects(post(webhook, { ts: TS, el: 1 }), TypeError);
  assert.deepEqual(recordOf(sb, webhook.deviceId).readings, []);

  sb.energyid.dropPosts(1, { afterRecording: true });
  await assert.rejects(post(webhook, { ts: TS, el: 1 }), TypeError);
  assert.deepEqual(recordOf(sb, webhook.deviceId).readings, [{ ts: TS, el: 1 }], 'the lost answer was recorded');
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 429, 'and counted by the policy');
  time.clock += 60_000;
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 204, 'the resend is fine');
  const record = recordOf(sb, webhook.deviceId);
  assert.deepEqual(record.readings, [{ ts: TS, el: 1 }], 'once per (key, ts)');
  assert.deepEqual(record.posts.map((p) => p.duplicates), [0, 1]);

  // The same over HTTP, in FaultQueue's format with afterRecording.
  time.clock += 60_000;
  await control(sb, 'faults', { drop: true, afterRecording: true, path: '/webhook-in' });
  await assert.rejects(post(webhook, { ts: TS + 900, el: 2 }), TypeError);
  assert.equal(recordOf(sb, webhook.deviceId).readings.length, 2);

  const { list } = await readBack(sb, 'requests');
  const drops = list.filter((r) => r.dropped);
  assert.deepEqual(drops.map((r) => r.status), [0, 204, 204], 'plain drop: 0; lost answers: what would have been sent');
});

test('expireCredentials: 401 until the next hello, whose new headers work', async () => {
  const { sb } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  const other = await claimed(sb);
  sb.energyid.expireCredentials(webhook.deviceId);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 401);
  assert.equal((await post(other, { ts: TS, el: 1 })).status, 204, 'other devices are untouched');
  const fresh = (await hello(sb, webhook.deviceId)).body;
  assert.equal((await post(fresh, { ts: TS, el: 1 })).status, 204);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 401, 'the old headers stay invalid');

  await control(sb, 'faults', { expireCredentials: true });
  assert.equal((await post(fresh, { ts: TS, el: 1 })).status, 401);
  assert.equal((await post(other, { ts: TS, el: 1 })).status, 401);
});

test('disableWebhook: 403 until enabled again', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  sb.energyid.disableWebhook(webhook.deviceId);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 403);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 403, 'persistent');
  assert.ok((await hello(sb, webhook.deviceId)).body.webhookUrl, 'hello still works');
  assert.equal(recordOf(sb, webhook.deviceId).webhookEnabled, false);
  sb.energyid.enableWebhook(webhook.deviceId);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 204);

  time.clock += 60_000;
  await control(sb, 'faults', { disableWebhook: true });
  assert.deepEqual((await readBack(sb, 'faults')).webhookDisabled, 'all');
  assert.equal((await post(webhook, { ts: TS + 900, el: 1 })).status, 403);
  await control(sb, 'faults', { clear: true });
  assert.equal((await post(webhook, { ts: TS + 900, el: 1 })).status, 204);
});

test('moveWebhook: the old URL answers 404, hello hands out the new one', async () => {
  const { sb } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  await control(sb, 'faults', { moveWebhook: true });
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 404);
  const moved = (await hello(sb, webhook.deviceId)).body;
  assert.notEqual(moved.webhookUrl, webhook.webhookUrl);
  assert.equal((await post(moved, { ts: TS, el: 1 })).status, 204);
});

test('the request log and reset', async () => {
  const { sb, time } = await fakeTimeSandbox();
  const webhook = await claimed(sb);
  await post(webhook, { ts: TS, el: 1 });
  await post(webhook, { ts: TS, el: 1 });
  const log = await readBack(sb, 'requests');
  assert.equal(log.total, 5);
  assert.deepEqual(log.byPath, { '/hello': 2, '/claim': 1, '/webhook-in': 2 });
  assert.deepEqual(log.list.at(-2), { at: time.now, method: 'POST', path: '/webhook-in', deviceId: webhook.deviceId, status: 204, count: 1 });
  assert.equal(log.list.at(-1).status, 429);
  assert.doesNotMatch(JSON.stringify(log), /Bearer/, 'no credentials in the log');

  sb.energyid.failPosts(3);
  assert.equal((await control(sb, 'reset', {})).status, 200);
  const [record] = await readBack(sb, 'records');
  assert.deepEqual([record.readings, record.posts], [[], []]);
  assert.deepEqual([await readBack(sb, 'posts'), (await readBack(sb, 'faults')).queued], [[], []]);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 204, 'the policy starts over, the credentials stay');

  assert.equal((await fetch(`${sb.url}/energyid/_sandbox/reset?devices=1`, { method: 'POST' })).status, 200);
  assert.deepEqual(await readBack(sb, 'records'), []);
  assert.equal((await post(webhook, { ts: TS, el: 1 })).status, 401);
  assert.ok((await hello(sb, webhook.deviceId)).body.claimCode, 'a forgotten device is unclaimed again');
});

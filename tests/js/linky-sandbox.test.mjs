// The sandbox Enedis services with plain fetch: the recorded fixtures, DST
// days, the validation codes of the contract, the three ways in (gateway, own
// app, Conso API), the quota, the storm meter and the request log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  LINKY_CLIENT_ID,
  SANDBOX_METERS,
  SANDBOX_LINKY_METERS as METER,
  SANDBOX_CONSO_TOKEN,
  ENEDIS_APP_CLIENT_ID,
  ENEDIS_APP_CLIENT_SECRET,
} from 'wattbridge/sandbox';
import { sandbox } from './helpers.mjs';

const fixture = async (name) => JSON.parse(await readFile(new URL(`../fixtures/linky/${name}.json`, import.meta.url), 'utf8'));

// 2025-04-10, noon in Paris: 2023-04-01 is inside the 24 months + 15 days of
// consumption curves, and both DST days of the dst meter's PT30M era are past.
let now = Date.UTC(2025, 3, 10, 10);
const sb = await sandbox({ linky: { now: () => now, rateLimit: 0 } });
const base = sb.urls.linky.gatewayUrl;

const DC = 'metering_data_dc/v5/daily_consumption';
const CLC = 'metering_data_clc/v5/consumption_load_curve';
const DCMP = 'metering_data_dcmp/v5/daily_consumption_max_power';
const DP = 'metering_data_dp/v5/daily_production';
const PLC = 'metering_data_plc/v5/production_load_curve';

async function call(url, token) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

// Device flow as the person does it: ask a code, consent at the page, poll once.
async function deviceLogin(origin = base) {
  const form = (fields) => ({ method: 'POST', body: new URLSearchParams(fields) });
  const code = await (await fetch(`${origin}/device/code`, form({ client_id: LINKY_CLIENT_ID }))).json();
  // The contract's fields only: the person opens the page with the code, as the Domoticz plugin shows it.
  assert.deepEqual(Object.keys(code).sort(), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri']);
  assert.equal((await fetch(`${code.verification_uri}?code=${code.user_code}`)).status, 200);
  const grant = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: LINKY_CLIENT_ID, device_code: code.device_code };
  return (await fetch(`${origin}/device/token`, form(grant))).json();
}
const login = await deviceLogin();
const token = login.access_token;

const gateway = (path, meter, start, end, bearer = token) =>
  call(`${base}/data/proxy/${path}?${new URLSearchParams({ start, end, usage_point_id: meter })}`, bearer);
const readings = async (...args) => {
  const answer = await gateway(...args);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.meter_reading.interval_reading;
};
const minutes = (point) => Number(/^PT(\d+)M$/.exec(point.interval_length)[1]);
const energy = (curve) => curve.reduce((sum, p) => sum + (Number(p.value) * minutes(p)) / 60, 0);
const nextDay = (date) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

test('the gateway token lists every sandbox meter, household first', () => {
  assert.equal(login.usage_points_id, SANDBOX_METERS.join(','));
  assert.equal(SANDBOX_METERS[0], METER.household);
  assert.equal(SANDBOX_METERS.length, 8);
});

test('gateway refresh (contract §1 step 5): usage_points_id is required, the refresh token stays the same', async () => {
  const form = (fields) => ({ method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: LINKY_CLIENT_ID, ...fields }) });
  const refresh = async (fields) => {
    const res = await fetch(`${base}/device/token`, form(fields));
    return { status: res.status, body: await res.json() };
  };
  const without = await refresh({ refresh_token: login.refresh_token });
  assert.equal(without.status, 400);
  assert.equal(without.body.error, 'invalid_request');
  assert.match(without.body.error_description, /usage_points_id/);
  const renewed = await refresh({ refresh_token: login.refresh_token, usage_points_id: login.usage_points_id });
  assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
  assert.notEqual(renewed.body.access_token, login.access_token);
  assert.equal(renewed.body.refresh_token, login.refresh_token);
  assert.equal((await refresh({ refresh_token: login.refresh_token, usage_points_id: login.usage_points_id })).status, 200, 'and it keeps working');
});

test('household: the recorded days come back exactly as recorded', async () => {
  const curve = await gateway(CLC, METER.household, '2023-04-01', '2023-04-02');
  assert.deepEqual(curve.body, await fixture('consumption_load_curve_2023-04-01_2023-04-02'));
  const points = curve.body.meter_reading.interval_reading;
  assert.equal(points.length, 48);
  assert.equal(energy(points), 11_776);
  assert.deepEqual((await gateway(DC, METER.household, '2023-04-01', '2023-04-04')).body, await fixture('daily_consumption_2023-04-01_2023-04-04'));
  assert.deepEqual((await gateway(DCMP, METER.household, '2023-04-01', '2023-04-04')).body, await fixture('daily_consumption_max_power_2023-04-01_2023-04-04'));
  // The neighbouring recorded days have curves that add up to their recorded totals too.
  for (const [day, wh] of [['2023-04-02', 14_401], ['2023-04-03', 12_820]]) {
    assert.equal(energy(await readings(CLC, METER.household, day, nextDay(day))), wh, day);
  }
});

test('household: daily = Σ curve energy, max power = highest point at its end time, all strings', async () => {
  const curve = await readings(CLC, METER.household, '2025-01-20', '2025-01-23');
  assert.equal(curve.length, 3 * 48);
  assert.ok(curve.every((p) => typeof p.value === 'string' && Number(p.value) % 2 === 0 && p.measure_type === 'B'));
  assert.equal(curve[0].date, '2025-01-20 00:30:00');
  assert.equal(curve.at(-1).date, '2025-01-23 00:00:00');
  const daily = await readings(DC, METER.household, '2025-01-20', '2025-01-23');
  const max = await readings(DCMP, METER.household, '2025-01-20', '2025-01-23');
  for (let i = 0; i < 3; i++) {
    const day = curve.slice(i * 48, (i + 1) * 48);
    assert.deepEqual(daily[i], { value: String(energy(day)), date: `2025-01-2${i}` });
    const peak = day.reduce((best, p) => (Number(p.value) > Number(best.value) ? p : best));
    assert.deepEqual(max[i], { value: peak.value, date: peak.date });
  }
  // Same question, same answer: nothing random.
  assert.deepEqual(await readings(CLC, METER.household, '2025-01-20', '2025-01-23'), curve);
});

test('max power is timed inside its own day, DST days included, for a whole year', async () => {
  for (const meter of [METER.household, METER.dst]) {
    const daily = await readings(DC, meter, '2024-03-01', '2025-03-01');
    const max = await readings(DCMP, meter, '2024-03-01', '2025-03-01');
    assert.equal(max.length, 365);
    max.forEach((peak, i) => assert.ok(peak.date.startsWith(`${daily[i].date}${meter === METER.dst ? 'T' : ' '}`), `${peak.date} ${daily[i].date}`));
  }
});

test('dst meter: 46 half-hours in spring, 50 in autumn with 02:xx twice in order, mixed steps', async () => {
  const spring = await readings(CLC, METER.dst, '2025-03-30', '2025-03-31');
  assert.equal(spring.length, 46);
  assert.ok(!spring.some((p) => p.date.startsWith('2025-03-30T02:')), 'no 02:xx on the spring-forward day');
  assert.deepEqual(spring.slice(2, 4).map((p) => p.date), ['2025-03-30T01:30:00', '2025-03-30T03:00:00']);
  assert.deepEqual(await readings(DC, METER.dst, '2025-03-30', '2025-03-31'), [{ value: String(energy(spring)), date: '2025-03-30' }]);

  const autumn = await readings(CLC, METER.dst, '2024-10-27', '2024-10-28');
  assert.equal(autumn.length, 50);
  assert.deepEqual(autumn.slice(2, 8).map((p) => p.date.slice(11, 16)), ['01:30', '02:00', '02:30', '02:00', '02:30', '03:00']);
  assert.deepEqual(await readings(DC, METER.dst, '2024-10-27', '2024-10-28'), [{ value: String(energy(autumn)), date: '2024-10-27' }]);

  // Hourly before 2024-06-01 (23 and 25 points on DST days), then PT60M -> PT15M -> PT30M that day.
  assert.equal((await readings(CLC, METER.dst, '2024-03-31', '2024-04-01')).length, 23);
  assert.equal((await readings(CLC, METER.dst, '2023-10-29', '2023-10-30')).length, 25);
  const change = await readings(CLC, METER.dst, '2024-05-31', '2024-06-02');
  const steps = change.map((p) => `${p.date.slice(0, 16)}/${p.interval_length}`);
  assert.equal(change.length, 24 + 12 + 24 + 12);
  for (const expected of ['2024-06-01T12:00/PT60M', '2024-06-01T12:15/PT15M', '2024-06-01T18:00/PT15M', '2024-06-01T18:30/PT30M']) {
    assert.ok(steps.includes(expected), expected);
  }
  const days = await readings(DC, METER.dst, '2024-05-31', '2024-06-02');
  assert.equal(Number(days[0].value) + Number(days[1].value), energy(change));
});

test('producer: recorded production, a bell by day and zero at night', async () => {
  const daily = await readings(DP, METER.producer, '2023-04-01', '2023-04-04');
  assert.deepEqual(daily, (await fixture('daily_production_2023-04-01_2023-04-04')).meter_reading.interval_reading);
  now = Date.UTC(2025, 2, 1, 12); // production curves keep 24 months
  try {
    const recorded = await readings(PLC, METER.producer, '2023-04-01', '2023-04-02');
    assert.deepEqual(recorded, (await fixture('production_load_curve_2023-04-01_2023-04-02')).meter_reading.interval_reading);
    assert.equal(energy(recorded), 643);
  } finally {
    now = Date.UTC(2025, 3, 10, 10);
  }
  const june = await readings(PLC, METER.producer, '2024-06-21', '2024-06-22');
  assert.equal(june[0].value, '0', '00:30');
  assert.ok(Number(june[26].value) > 1000, '13:30');
  assert.equal(energy(june), Number((await readings(DP, METER.producer, '2024-06-21', '2024-06-22'))[0].value));
  assert.equal((await readings(CLC, METER.producer, '2024-06-21', '2024-06-22')).length, 48, 'it consumes too');
});

test('holes meter: missing days everywhere, missing half-hours in the curve only', async () => {
  const daily = await readings(DC, METER.holes, '2025-01-08', '2025-01-13');
  assert.deepEqual(daily.map((d) => d.date), ['2025-01-08', '2025-01-09', '2025-01-11', '2025-01-12']);
  assert.equal((await readings(CLC, METER.holes, '2025-01-10', '2025-01-11')).length, 0);
  const even = await readings(CLC, METER.holes, '2025-01-12', '2025-01-13');
  assert.equal(even.length, 46);
  assert.ok(!even.some((p) => /(10:30|11:00):00$/.test(p.date)));
  assert.ok(Number(daily[3].value) > energy(even), 'the daily index still counts the missing half-hours');
  const odd = await readings(CLC, METER.holes, '2025-01-11', '2025-01-12');
  assert.equal(energy(odd), Number(daily[2].value));
});

test('Enedis validation codes', async () => {
  const h = METER.household;
  for (const [label, args, status, code] of [
    ['missing start', [DC, h, '', '2025-01-02'], 400, 'Invalid_request'],
    ['not a date', [DC, h, '2025-02-30', '2025-03-02'], 400, 'Invalid_request'],
    ['start = end', [DC, h, '2025-01-02', '2025-01-02'], 400, 'Invalid_request'],
    ['start after end', [DC, h, '2025-01-03', '2025-01-02'], 400, 'Invalid_request'],
    ['end after today', [DC, h, '2025-04-01', '2025-04-11'], 400, 'Invalid_request'],
    ['7-day curve', [CLC, h, '2025-01-01', '2025-01-08'], 400, 'ADAM-ERR0126'],
    ['366-day daily', [DC, h, '2024-01-01', '2025-01-01'], 400, 'ADAM-ERR0126'],
    ['curve before 24 months + 15 d', [CLC, h, '2023-03-25', '2023-03-26'], 400, 'ADAM-DC-0016'],
    ['daily before 36 months + 15 d', [DC, h, '2022-03-25', '2022-03-26'], 400, 'ADAM-DC-0016'],
    ['max power before 36 months', [DCMP, h, '2022-04-09', '2022-04-10'], 400, 'ADAM-DC-0016'],
    ['before activation', [DC, METER.producer, '2022-04-30', '2022-05-02'], 400, 'ADAM-ERR0123'],
    ['production without PV', [DP, h, '2025-01-01', '2025-01-02'], 400, 'ADAM-ERR0069'],
    ['not in the consent', [DC, '99999999999999', '2025-01-01', '2025-01-02'], 403, 'ADAM-DC-0007'],
    ['consent withdrawn', [DC, METER.noconsent, '2025-01-01', '2025-01-02'], 403, 'ADAM-DC-0008'],
    ['hourly collection off', [CLC, METER.nocollection, '2025-01-01', '2025-01-02'], 404, 'no_data_found'],
  ]) {
    const answer = await gateway(...args);
    assert.equal(answer.status, status, label);
    assert.equal(answer.body.error, code, label);
    assert.equal(typeof answer.body.error_description, 'string', label);
    assert.match(answer.body.error_uri, /^https:\/\//, label);
  }
  // The edges that are allowed: end = today, a 6-day curve, exactly 365 days, the first day of history.
  for (const args of [
    [DC, h, '2025-04-09', '2025-04-10'],
    [CLC, h, '2025-01-01', '2025-01-07'],
    [DC, h, '2024-01-01', '2024-12-31'],
    [CLC, h, '2023-03-26', '2023-03-27'],
    [DC, METER.producer, '2022-05-01', '2022-05-02'],
    [DC, METER.nocollection, '2025-01-01', '2025-01-02'],
  ]) {
    assert.equal((await gateway(...args)).status, 200, args.join(' '));
  }
  assert.deepEqual((await gateway(DC, h, '2025-01-01', '2025-01-02', 'nope')).status, 401);
  assert.equal((await gateway(DC, h, '2025-01-01', '2025-01-02', 'nope')).body.error, 'invalid_token');
});

test('revoke-consent: that meter answers 403 ADAM-DC-0008 from then on', async () => {
  const sb2 = await sandbox({ linky: { now: () => now, rateLimit: 0 } });
  const { access_token } = await deviceLogin(sb2.urls.linky.gatewayUrl);
  const url = `${sb2.urls.linky.gatewayUrl}/data/proxy/${DC}?start=2025-01-01&end=2025-01-02&usage_point_id=${METER.household}`;
  assert.equal((await call(url, access_token)).status, 200);
  assert.equal((await fetch(`${sb2.urls.linky.gatewayUrl}/_sandbox/revoke-consent?meter=${METER.household}`, { method: 'POST' })).status, 200);
  const answer = await call(url, access_token);
  assert.equal(answer.status, 403);
  assert.equal(answer.body.error, 'ADAM-DC-0008');
});

test('Conso API: the JWT lists the meters, answers are unwrapped', async () => {
  const [, payload] = SANDBOX_CONSO_TOKEN.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  assert.deepEqual(claims.sub, SANDBOX_METERS);
  assert.ok(claims.exp > Date.now() / 1000 + 2.9 * 365 * 86400);
  assert.match(SANDBOX_CONSO_TOKEN, /^[\w-]+\.[\w-]+\.[\w-]+$/);

  const conso = (series, params, bearer = SANDBOX_CONSO_TOKEN) => call(`${sb.urls.linky.consoApiUrl}/${series}?${new URLSearchParams(params)}`, bearer);
  const params = { prm: METER.household, start: '2023-04-01', end: '2023-04-02' };
  const curve = await conso('consumption_load_curve', params);
  assert.equal(curve.status, 200);
  assert.deepEqual(curve.body, (await fixture('consumption_load_curve_2023-04-01_2023-04-02')).meter_reading);
  for (const [series, path] of [['daily_consumption', DC], ['consumption_max_power', DCMP]]) {
    assert.deepEqual((await conso(series, params)).body, (await gateway(path, METER.household, '2023-04-01', '2023-04-02')).body.meter_reading);
  }
  const production = await conso('daily_production', { ...params, prm: METER.producer });
  assert.deepEqual(production.body.interval_reading, [{ value: '643', date: '2023-04-01' }]);
  assert.equal((await conso('production_load_curve', { ...params, start: '2025-01-01', end: '2025-01-02' })).body.error, 'ADAM-ERR0069');
  assert.equal((await conso('daily_consumption', params, 'not-a-token')).status, 401);
  assert.equal((await conso('daily_consumption', params, token)).status, 401, 'a gateway token is not a Conso token');
});

test('own Enedis app: client credentials, consent redirect, metering at the API host', async () => {
  const tokenUrl = `${sb.urls.linky.enedisApiUrl}/oauth2/v3/token`;
  const credentials = (secret) => ({
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: ENEDIS_APP_CLIENT_ID, client_secret: secret }),
  });
  const wrong = await fetch(tokenUrl, credentials('nope'));
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).error, 'invalid_client');
  const answer = await (await fetch(tokenUrl, credentials(ENEDIS_APP_CLIENT_SECRET))).json();
  assert.deepEqual({ ...answer, access_token: '-' }, { access_token: '-', token_type: 'Bearer', expires_in: 12600, scope: '' });

  const consent = new URL(`${sb.urls.linky.enedisApiUrl}/dataconnect/v1/oauth2/authorize`);
  for (const [k, v] of Object.entries({ client_id: ENEDIS_APP_CLIENT_ID, response_type: 'code', state: 'xyz', duration: 'P3Y', redirect_uri: 'http://127.0.0.1:9/cb' })) {
    consent.searchParams.set(k, v);
  }
  const redirect = await fetch(consent, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  const back = new URL(redirect.headers.get('location'));
  assert.equal(back.origin + back.pathname, 'http://127.0.0.1:9/cb');
  assert.equal(back.searchParams.get('state'), 'xyz');
  assert.ok(back.searchParams.get('code'));
  assert.equal(back.searchParams.get('usage_point_id'), SANDBOX_METERS.join(';'));
  consent.searchParams.set('duration', 'P4Y');
  assert.match((await fetch(consent, { redirect: 'manual' })).headers.get('location'), /error=invalid_request/);
  // The contract's query has no redirect_uri: back to the app's registered address.
  consent.searchParams.set('duration', 'P3Y');
  consent.searchParams.delete('redirect_uri');
  const registered = await fetch(consent, { redirect: 'manual' });
  assert.equal(registered.status, 302);
  const landing = new URL(registered.headers.get('location'));
  assert.equal(landing.origin + landing.pathname, `${sb.urls.linky.enedisApiUrl}/dataconnect/callback`);
  assert.equal(landing.searchParams.get('usage_point_id'), SANDBOX_METERS.join(';'));
  assert.equal((await fetch(landing)).status, 200);

  const app = (bearer) => call(`${sb.urls.linky.enedisApiUrl}/${CLC}?start=2023-04-01&end=2023-04-02&usage_point_id=${METER.household}`, bearer);
  assert.deepEqual((await app(answer.access_token)).body, await fixture('consumption_load_curve_2023-04-01_2023-04-02'));
  assert.equal((await app(token)).status, 401, 'a gateway token is not an app token');
});

test('storm meter: 429 with Retry-After, 429 without, then 200, over and over', async () => {
  await fetch(`${base}/_sandbox/requests/reset`, { method: 'POST' });
  const quota = await fixture('error_429_quota');
  const seen = [];
  for (let i = 0; i < 6; i++) {
    const answer = await gateway(DC, METER.storm, '2025-01-01', '2025-01-02');
    if (answer.status === 429) assert.deepEqual(answer.body, quota);
    seen.push(`${answer.status}/${answer.retryAfter}`);
  }
  assert.deepEqual(seen, ['429/1', '429/null', '200/null', '429/1', '429/null', '200/null']);
});

test('request log: data requests only, by path, with their status', async () => {
  await fetch(`${base}/_sandbox/requests/reset`, { method: 'POST' });
  await deviceLogin(); // token calls are not counted
  await gateway(DC, METER.household, '2025-01-01', '2025-01-02');
  await gateway(DC, METER.household, '2025-01-02', '2025-01-01');
  await call(`${sb.urls.linky.consoApiUrl}/daily_consumption?prm=${METER.household}&start=2025-01-01&end=2025-01-02`, SANDBOX_CONSO_TOKEN);
  sb.linky.faults.push({ status: 500, body: { error: 'ADAM-DC-0500', error_description: 'Technical error' }, path: '/daily_consumption' });
  await call(`${sb.urls.linky.consoApiUrl}/daily_consumption?prm=${METER.household}&start=2025-01-01&end=2025-01-02`, SANDBOX_CONSO_TOKEN);
  const log = await (await fetch(`${base}/_sandbox/requests`)).json();
  assert.equal(log.total, 4);
  assert.deepEqual(log.byPath, { [`/data/proxy/${DC}`]: 2, '/conso/api/daily_consumption': 2 });
  assert.deepEqual(log.list[0], { method: 'GET', path: `/data/proxy/${DC}`, meter: METER.household, start: '2025-01-01', end: '2025-01-02', status: 200 });
  assert.deepEqual(log.list.map((r) => r.status), [200, 400, 200, 500]);
  assert.deepEqual(sb.linky.requests(), log);
});

test('quota: a sixth data request within one second is throttled, without Retry-After', async () => {
  let tick = 0;
  const limited = await sandbox({ linky: { now: () => now, clock: () => tick } });
  const { access_token } = await deviceLogin(limited.urls.linky.gatewayUrl);
  const url = (meter) => `${limited.urls.linky.gatewayUrl}/data/proxy/${DC}?start=2025-01-01&end=2025-01-02&usage_point_id=${meter}`;
  const statuses = [];
  for (const meter of [METER.household, METER.producer, METER.dst, METER.holes, METER.household, METER.producer]) {
    statuses.push((await call(url(meter), access_token)).status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  const throttled = await call(url(METER.household), access_token);
  assert.equal(throttled.retryAfter, null);
  assert.deepEqual(throttled.body, await fixture('error_429_quota'));
  tick = 999;
  assert.equal((await call(url(METER.household), access_token)).status, 429, 'still the same second');
  tick = 1000;
  assert.equal((await call(url(METER.household), access_token)).status, 200, 'a second later');
  assert.equal(limited.linky.requests().total, 9);
});

test('Conso API: 100 requests per address in any 12 h, then a ban (403, an HTML block page) that waiting does not lift; the gateway is not limited', async () => {
  let tick = 0;
  const limited = await sandbox({ linky: { now: () => now, clock: () => tick, rateLimit: 0 } });
  const conso = (service = limited) => fetch(`${service.urls.linky.consoApiUrl}/daily_consumption?prm=${METER.household}&start=2025-01-01&end=2025-01-02`, { headers: { authorization: `Bearer ${SANDBOX_CONSO_TOKEN}` } });
  for (let i = 0; i < 60; i += 1) assert.equal((await conso()).status, 200);
  // The window slides: requests older than 12 h no longer count.
  tick = 12 * 3600 * 1000;
  for (let i = 0; i < 100; i += 1) assert.equal((await conso()).status, 200, `request ${i + 1} of the new window`);
  const banned = await conso();
  assert.equal(banned.status, 403);
  assert.match(banned.headers.get('content-type'), /^text\/html/);
  assert.match(await banned.text(), /Sorry, you have been blocked/);
  tick += 24 * 3600 * 1000;
  assert.equal((await conso()).status, 403, 'a ban is lifted by hand, not by time');
  const { access_token } = await deviceLogin(limited.urls.linky.gatewayUrl);
  assert.equal((await call(`${limited.urls.linky.gatewayUrl}/data/proxy/${DC}?start=2025-01-01&end=2025-01-02&usage_point_id=${METER.household}`, access_token)).status, 200, 'the gateway has no such limit');
  assert.equal(limited.linky.requests().list.filter((r) => r.status === 403).length, 2, 'refused requests are logged');
  limited.linky.resetRequests();
  assert.equal((await conso()).status, 200, 'resetRequests lifts the ban');

  const unlimited = await sandbox({ linky: { now: () => now, rateLimit: 0, consoLimitPer12h: 0 } });
  for (let i = 0; i < 110; i += 1) assert.equal((await conso(unlimited)).status, 200, 'consoLimitPer12h: 0 turns the limit off');
});

// The sandbox Weheat service with plain fetch: the realm (password with
// offline_access, rotation, PKCE, "Session not active", both issuer paths),
// the API under both bases, the synthetic pumps and their physics, the
// window limits, energy = Σ raw power, and the proxy's politeness rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { WEHEAT_CLIENT_ID, SANDBOX_WEHEAT_USER, SANDBOX_WEHEAT_PUMPS as PUMP } from 'wattbridge/sandbox';
import { sandbox } from './helpers.mjs';

// 2026-01-15, noon UTC: a cold week, so the BlackBird heats, defrosts and the hybrid's boiler helps.
const NOW = Date.UTC(2026, 0, 15, 12);
const sb = await sandbox({ weheat: { now: () => NOW, budgetPerHour: 0 } });
const { authUrl, apiUrl, newAuthUrl, newApiUrl } = sb.urls.weheat;

const form = (fields) => ({ method: 'POST', body: new URLSearchParams(fields) });
async function login(realm = authUrl, origin = sb) {
  const res = await fetch(`${realm}/protocol/openid-connect/token`, form({
    grant_type: 'password',
    client_id: WEHEAT_CLIENT_ID,
    username: SANDBOX_WEHEAT_USER.username,
    password: SANDBOX_WEHEAT_USER.password,
    scope: 'openid offline_access',
  }));
  assert.equal(res.status, 200, origin === sb ? 'password login' : 'login');
  return res.json();
}
const { access_token: token } = await login();

async function get(url, bearer = token) {
  const res = await fetch(url, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
  return { status: res.status, text, json, headers: res.headers };
}
async function ok(url, bearer) {
  const answer = await get(url, bearer);
  assert.equal(answer.status, 200, `${url}: ${answer.text}`);
  return answer.json;
}
const q = (params) => `?${new URLSearchParams(params)}`;
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
const HOUR = 3_600_000;
const DAY = 86_400_000;
const pumpUrl = (id, rest = '', base = newApiUrl) => `${base}/api/v1/heat-pumps/${id}${rest}`;
const energyUrl = (id, rest = '', base = newApiUrl) => `${base}/api/v1/energy-logs/${id}${rest}`;

// Wh by energy category of raw logs, as a client integrating W over the log interval computes it.
const CATEGORY = { 40: 'Standby', 70: 'Heating', 130: 'Cooling', 150: 'Dhw', 160: 'Dhw', 200: 'HeatingDefrost', 230: 'DhwDefrost' };
function integrate(logs) {
  const wh = {};
  for (const log of logs) {
    const c = CATEGORY[log.state];
    wh[`totalEIn${c}`] = (wh[`totalEIn${c}`] ?? 0) + (log.cmMassPowerIn * log.interval) / 3600;
    if (c !== 'Standby') wh[`totalEOut${c}`] = (wh[`totalEOut${c}`] ?? 0) + (log.cmMassPowerOut * log.interval) / 3600;
  }
  return wh;
}
const E_FIELDS = [
  'totalEInHeating', 'totalEInStandby', 'totalEInDhw', 'totalEInHeatingDefrost', 'totalEInDhwDefrost', 'totalEInCooling',
  'totalEOutHeating', 'totalEOutDhw', 'totalEOutHeatingDefrost', 'totalEOutDhwDefrost', 'totalEOutCooling',
];
const wh = (kwh) => Math.round(kwh * 1000);
function assertEnergyMatches(bucket, logs, label) {
  const expected = integrate(logs);
  for (const field of E_FIELDS) assert.equal(wh(bucket[field]), expected[field] ?? 0, `${label} ${field}`);
}
// Raw logs of [start, end[ in requests of at most 4 hours.
async function rawBetween(id, start, end) {
  const logs = [];
  for (let t = start; t < end; t += 4 * HOUR) {
    logs.push(...(await ok(pumpUrl(id, `/logs/raw${q({ startTime: iso(t), endTime: iso(Math.min(end, t + 4 * HOUR)) })}`))));
  }
  return logs;
}

test('realm: password login with offline_access under both issuer paths; both tokens open the API', async () => {
  for (const realm of [authUrl, newAuthUrl]) {
    const answer = await login(realm);
    assert.equal(answer.token_type, 'Bearer');
    assert.equal(answer.expires_in, 300);
    assert.match(answer.scope, /offline_access/);
    assert.ok(answer.refresh_token);
    assert.equal((await ok(`${apiUrl}/api/v1/users/me`, answer.access_token)).email, SANDBOX_WEHEAT_USER.username);
  }
  assert.equal(authUrl.replace('/auth/realms/', '/realms/'), newAuthUrl);
});

test('realm: refresh tokens rotate; code + PKCE; "Session not active" after endAllSessions', async () => {
  const first = await login(newAuthUrl);
  const refresh = (refreshToken) =>
    fetch(`${authUrl}/protocol/openid-connect/token`, form({ grant_type: 'refresh_token', client_id: WEHEAT_CLIENT_ID, refresh_token: refreshToken }));
  const second = await (await refresh(first.refresh_token)).json();
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.equal((await (await refresh(first.refresh_token)).json()).error, 'invalid_grant', 'a used refresh token is dead');

  const verifier = 'a-verifier-of-at-least-forty-three-characters-0123456789';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirect = 'http://127.0.0.1:9/callback';
  const authorize = `${newAuthUrl}/protocol/openid-connect/auth${q({ response_type: 'code', client_id: WEHEAT_CLIENT_ID, redirect_uri: redirect, scope: 'openid offline_access', code_challenge: challenge, code_challenge_method: 'S256', state: 's1' })}`;
  const location = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location'));
  assert.equal(location.searchParams.get('state'), 's1');
  const code = await fetch(`${authUrl}/protocol/openid-connect/token`, form({ grant_type: 'authorization_code', client_id: WEHEAT_CLIENT_ID, code: location.searchParams.get('code'), redirect_uri: redirect, code_verifier: verifier }));
  assert.equal(code.status, 200);

  // An admin ends every session (another sandbox, to keep this file's token): refresh says "Session not active", the API 401.
  const other = await sandbox({ weheat: { now: () => NOW } });
  const doomed = await login(other.urls.weheat.newAuthUrl, other);
  await fetch(`${other.urls.weheat.apiUrl}/_sandbox/end-sessions`, { method: 'POST' });
  const refused = await fetch(`${other.urls.weheat.authUrl}/protocol/openid-connect/token`, form({ grant_type: 'refresh_token', client_id: WEHEAT_CLIENT_ID, refresh_token: doomed.refresh_token }));
  assert.equal(refused.status, 400);
  assert.deepEqual(await refused.json(), { error: 'invalid_grant', error_description: 'Session not active' });
  assert.equal((await get(`${other.urls.weheat.apiUrl}/api/v1/users/me`, doomed.access_token)).status, 401);
});

test('401 with an empty body and WWW-Authenticate: no token, an unknown one, an expired one', async () => {
  let now = NOW;
  const other = await sandbox({ weheat: { now: () => now } });
  const fresh = await login(other.urls.weheat.authUrl, other);
  const me = `${other.urls.weheat.newApiUrl}/api/v1/users/me`;
  assert.equal((await get(me, fresh.access_token)).status, 200);
  now += 301_000;
  for (const bearer of [null, 'not-a-token', fresh.access_token]) {
    const answer = await get(me, bearer);
    assert.equal(answer.status, 401);
    assert.equal(answer.text, '');
    assert.equal(answer.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  }
});

test('heat pumps: a plain list at the old base, a paged answer at /third_party, filters and pages', async () => {
  const token2 = (await login()).access_token;
  const plain = await ok(`${apiUrl}/api/v1/heat-pumps`, token2);
  assert.ok(Array.isArray(plain));
  assert.deepEqual(plain.map((p) => p.id), [PUMP.blackbird, PUMP.hybrid, PUMP.offline]);

  const paged = await ok(`${newApiUrl}/api/v1/heat-pumps`, token2);
  assert.deepEqual(paged.metadata, { totalCount: 3, pageSize: 10, currentPage: 1, totalPages: 1 });
  assert.deepEqual(paged.data, plain);
  const page2 = await ok(`${newApiUrl}/api/v1/heat-pumps${q({ page: 2, pageSize: 2 })}`, token2);
  assert.deepEqual(page2.metadata, { totalCount: 3, pageSize: 2, currentPage: 2, totalPages: 2 });
  assert.deepEqual(page2.data.map((p) => p.id), [PUMP.offline]);
  assert.deepEqual((await ok(`${newApiUrl}/api/v1/heat-pumps?Model=0&Model=3`, token2)).data.map((p) => p.id), [PUMP.blackbird, PUMP.hybrid]);
  assert.deepEqual((await ok(`${newApiUrl}/api/v1/heat-pumps${q({ Search: 'hybrid', State: 3 })}`, token2)).data.map((p) => p.id), [PUMP.hybrid]);
  assert.equal((await get(`${newApiUrl}/api/v1/heat-pumps?page=0`, token2)).status, 400);

  const forced = await sandbox({ weheat: { now: () => NOW, pumpList: 'paged' } });
  const forcedToken = (await login(forced.urls.weheat.authUrl, forced)).access_token;
  assert.equal((await ok(`${forced.urls.weheat.apiUrl}/api/v1/heat-pumps`, forcedToken)).metadata.totalCount, 3);
});

test('one pump: the contract fields; 404 for an unknown id', async () => {
  const blackbird = await ok(pumpUrl(PUMP.blackbird, '', apiUrl));
  assert.deepEqual(
    { model: blackbird.model, state: blackbird.state, dhwType: blackbird.dhwType, boilerType: blackbird.boilerType },
    { model: 0, state: 3, dhwType: 1, boilerType: 1 },
  );
  for (const field of ['id', 'name', 'serialNumber', 'status', 'firmwareVersion']) assert.ok(field in blackbird, field);
  assert.ok(blackbird.status >= 40, 'an online pump has its last logged state');
  const hybrid = await ok(pumpUrl(PUMP.hybrid));
  assert.ok(hybrid.boilerType > 1, 'a hybrid has a boiler');
  assert.equal((await ok(pumpUrl(PUMP.offline))).status, 1, 'offline');
  const unknown = await get(pumpUrl('00000000-0000-4000-8000-000000000000'));
  assert.equal(unknown.status, 404);
});

test('latest log: BlackBird fields and physics, hybrid nulls and -1, the offline pump long ago', async () => {
  const bb = await ok(pumpUrl(PUMP.blackbird, '/logs/latest'));
  assert.equal(bb.heatPumpId, PUMP.blackbird);
  assert.equal(bb.timestamp, '2026-01-15T11:59:00Z', 'the last whole minute, ISO 8601 UTC');
  assert.equal(bb.interval, 60);
  assert.equal(bb.isOnline, true);
  for (const field of ['state', 't1', 't2', 'tAirIn', 'tWaterIn', 'tWaterOut', 'tWaterHouseIn', 'tRoom', 'tRoomTarget', 'tThermostatSetpoint', 'rpm', 'cmMassPowerIn', 'cmMassPowerOut', 'centralHeatingFlow', 'dhwFlow', 'error', 'coolingStatus']) {
    assert.equal(typeof bb[field], 'number', field);
  }
  for (const relay of ['WaterPump', 'GasBoiler', 'ElectricHeater', 'WaterPump2', 'DhwValve']) assert.equal(typeof bb[`controlBridgeStatusDecoded${relay}`], 'boolean', relay);
  assert.equal(bb.state, 70, 'heating at noon in January');
  assert.ok(bb.cmMassPowerOut >= 2.5 * bb.cmMassPowerIn * 0.8 && bb.cmMassPowerOut > bb.cmMassPowerIn);
  const compressor = (bb.rpm * 100) / 4500; // P80
  assert.ok(compressor > 0 && compressor <= 100, String(compressor));
  assert.ok(bb.tRoom > 0 && bb.tRoomTarget > 0);

  const hybrid = await ok(pumpUrl(PUMP.hybrid, '/logs/latest', apiUrl));
  assert.deepEqual([hybrid.t1, hybrid.t2, hybrid.dhwFlow, hybrid.controlBridgeStatusDecodedDhwValve], [null, null, null, null]);
  assert.deepEqual([hybrid.tRoom, hybrid.tRoomTarget], [-1, -1]);
  assert.equal(typeof hybrid.controlBridgeStatusDecodedGasBoiler, 'boolean');

  const offline = await ok(pumpUrl(PUMP.offline, '/logs/latest'));
  assert.equal(offline.timestamp, '2025-09-14T07:11:00Z');
  assert.equal(offline.isOnline, false);
  const after = await ok(pumpUrl(PUMP.offline, `/logs/raw${q({ startTime: '2025-09-14T06:00:00Z', endTime: '2025-09-14T10:00:00Z' })}`));
  assert.equal(after.length, 72, 'logs until 07:11, none after');
});

test('raw logs: one a minute over at most 4 hours (else 400 with a text body); heat out ≥ electricity in', async () => {
  const start = Date.UTC(2026, 0, 15, 4);
  const logs = await ok(pumpUrl(PUMP.blackbird, `/logs/raw${q({ startTime: iso(start), endTime: iso(start + 4 * HOUR) })}`));
  assert.equal(logs.length, 240);
  assert.deepEqual(logs.slice(0, 2).map((l) => l.timestamp), ['2026-01-15T04:00:00Z', '2026-01-15T04:01:00Z']);
  assert.equal(logs.at(-1).timestamp, '2026-01-15T07:59:00Z', 'endTime excluded');
  const states = new Set(logs.map((l) => l.state));
  assert.ok(states.has(70) && states.has(150), `heating and the morning DHW run: ${[...states]}`);
  for (const log of logs) {
    assert.equal(log.cmMassPowerIn % 60, 0, 'whole Wh per minute');
    if ([70, 150, 160].includes(log.state)) assert.ok(log.cmMassPowerOut > log.cmMassPowerIn, log.timestamp);
    if (log.state >= 200 && log.state <= 240) assert.ok(log.cmMassPowerOut < 0, `defrost takes heat back ${log.timestamp}`);
  }
  // Other spellings of the same instants are accepted (Go clients send microseconds and +0000).
  const micro = await ok(pumpUrl(PUMP.blackbird, `/logs/raw${q({ startTime: '2026-01-15T04:00:00.000000+0000', endTime: '2026-01-15T06:00:00.000+01:00' })}`));
  assert.equal(micro.length, 60);

  const tooLong = await get(pumpUrl(PUMP.blackbird, `/logs/raw${q({ startTime: iso(start), endTime: iso(start + 4 * HOUR + 60_000) })}`));
  assert.equal(tooLong.status, 400);
  assert.match(tooLong.text, /4 hours/);
  assert.equal(tooLong.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal((await get(pumpUrl(PUMP.blackbird, '/logs/raw?startTime=yesterday&endTime=today'))).status, 400);
});

test('aggregated logs: each interval\'s window limit, and what a bucket holds', async () => {
  // Windows of exactly the limit pass, one second more is refused (starting long before any log).
  const limits = {
    Minute: '1900-01-03T00:00:00Z',
    FiveMinute: '1900-01-08T00:00:00Z',
    FifteenMinute: '1900-02-01T00:00:00Z',
    Hour: '1900-02-01T00:00:00Z',
    Day: '1901-01-01T00:00:00Z',
    Week: '1902-01-01T00:00:00Z',
    Month: '1905-01-01T00:00:00Z',
    Year: '2000-01-01T00:00:00Z',
  };
  for (const [interval, endTime] of Object.entries(limits)) {
    const at = await get(pumpUrl(PUMP.blackbird, `/logs${q({ startTime: '1900-01-01T00:00:00Z', endTime, interval })}`));
    assert.equal(at.status, 200, `${interval} up to ${endTime}: ${at.text}`);
    assert.deepEqual(at.json, [], 'no logs before commissioning');
    const beyond = iso(Date.parse(endTime) + 1000);
    const over = await get(pumpUrl(PUMP.blackbird, `/logs${q({ startTime: '1900-01-01T00:00:00Z', endTime: beyond, interval })}`));
    assert.equal(over.status, 400, `${interval} up to ${beyond}`);
    assert.match(over.text, /cannot be longer than/);
  }
  assert.equal((await get(pumpUrl(PUMP.blackbird, `/logs${q({ startTime: '2026-01-14T00:00:00Z', endTime: '2026-01-15T00:00:00Z', interval: 'Fortnight' })}`))).status, 400);

  const hours = await ok(pumpUrl(PUMP.blackbird, `/logs${q({ startTime: '2026-01-14T00:00:00Z', endTime: '2026-01-15T00:00:00Z', interval: 'Hour' })}`));
  assert.equal(hours.length, 24);
  assert.equal(hours[5].timeBucket, '2026-01-14T05:00:00Z');
  assert.equal(hours[5].interval, 'Hour');
  assert.equal(hours[5].timeCoveredInInterval, 3600);
  assert.ok(hours[5].heatPumpStateDhw > 0, 'the morning DHW run');
  assert.ok(hours.every((h) => h.tAirInMin <= h.tAirInAverage && h.tAirInAverage <= h.tAirInMax));
  const day = await ok(pumpUrl(PUMP.hybrid, `/logs${q({ startTime: '2026-01-14T00:00:00Z', endTime: '2026-01-15T00:00:00Z', interval: 'day' })}`));
  assert.equal(day.length, 1);
  assert.equal(day[0].interval, 'Day');
  assert.equal(day[0].t1Average, null, 'no tank on the hybrid');
  assert.equal(day[0].tRoomAverage, -1);
  assert.ok(day[0].controlBridgeStatusGasBoiler > 0, 'the boiler does the hot water');
});

test('energy logs equal the integral of raw power: one hour, one day (to the Wh); hours add up to the day', async () => {
  const hourStart = Date.UTC(2026, 0, 14, 5); // DHW run, defrosts and heating in one hour
  const [hour] = await ok(energyUrl(PUMP.blackbird, q({ startTime: iso(hourStart), endTime: iso(hourStart + HOUR), interval: 'Hour' })));
  assert.equal(hour.timeBucket, iso(hourStart));
  assert.equal(hour.interval, 'Hour');
  assertEnergyMatches(hour, await rawBetween(PUMP.blackbird, hourStart, hourStart + HOUR), 'hour');
  assert.ok(hour.totalEOutDhw > 0 && hour.totalEOutHeating > 0);

  const dayStart = Date.UTC(2026, 0, 14);
  const logs = await rawBetween(PUMP.blackbird, dayStart, dayStart + DAY);
  assert.equal(logs.length, 1440);
  const [day] = await ok(energyUrl(PUMP.blackbird, q({ startTime: iso(dayStart), endTime: iso(dayStart + DAY), interval: 'Day' }), apiUrl));
  assertEnergyMatches(day, logs, 'day');
  assert.ok(day.totalEOutHeatingDefrost < 0, 'defrost heat comes back negative');
  assert.ok(day.totalEInHeating > 0 && day.totalEOutHeating / day.totalEInHeating >= 2.5 && day.totalEOutHeating / day.totalEInHeating <= 5);
  assert.equal(day.averagePowerEInHeating, Math.round((day.totalEInHeating / 24) * 1e6) / 1e6, 'kW over the day');

  const hours = await ok(energyUrl(PUMP.blackbird, q({ startTime: iso(dayStart), endTime: iso(dayStart + DAY), interval: 'Hour' })));
  assert.equal(hours.length, 24);
  for (const field of E_FIELDS) assert.equal(hours.reduce((sum, h) => sum + wh(h[field]), 0), wh(day[field]), field);
  for (const h of hours.filter((b) => b.totalEInHeating > 0)) {
    const cop = h.totalEOutHeating / h.totalEInHeating;
    assert.ok(cop >= 2.5 && cop <= 5, `${h.timeBucket} COP ${cop}`);
  }

  // The hour in progress holds the minutes logged so far; a window may cut a bucket.
  const partial = await ok(energyUrl(PUMP.hybrid, q({ startTime: '2026-01-15T11:30:00Z', endTime: '2026-01-15T13:00:00Z', interval: 'Hour' })));
  assert.deepEqual(partial.map((b) => b.timeBucket), ['2026-01-15T11:00:00Z']);
  assertEnergyMatches(partial[0], await rawBetween(PUMP.hybrid, Date.UTC(2026, 0, 15, 11, 30), NOW), 'partial');
  assert.equal((await get(energyUrl(PUMP.blackbird, q({ startTime: iso(dayStart), endTime: iso(dayStart + DAY), interval: 'Minute' })))).status, 400);
});

test('lifetime totals equal the sum of every energy bucket', async () => {
  for (const id of Object.values(PUMP)) {
    const totals = await ok(energyUrl(id, '/total'));
    assert.equal(totals.heatPumpId, id);
    const years = await ok(energyUrl(id, q({ startTime: '2020-01-01T00:00:00Z', endTime: iso(NOW), interval: 'Year' })));
    for (const field of E_FIELDS) assert.equal(wh(totals[field]), years.reduce((sum, y) => sum + wh(y[field]), 0), `${id} ${field}`);
    const heat = totals.totalEOutHeating + totals.totalEOutDhw;
    const electricity = E_FIELDS.filter((f) => f.startsWith('totalEIn')).reduce((sum, f) => sum + totals[f], 0);
    assert.ok(heat > 2.5 * electricity, `${id}: heat ${heat} kWh for ${electricity} kWh`);
  }
  const offline = await ok(energyUrl(PUMP.offline, q({ startTime: '2025-01-01T00:00:00Z', endTime: iso(NOW), interval: 'Month' })));
  assert.equal(offline.at(-1).timeBucket, '2025-09-01T00:00:00Z', 'nothing after it went offline');
});

test('politeness: 30-a-hour style budget → 429 with an empty body and no Retry-After; reset; sliding hour', async () => {
  let clock = 0;
  const strict = await sandbox({ weheat: { now: () => NOW, clock: () => clock, budgetPerHour: 5, powerFields: false } });
  const { access_token: bearer } = await login(strict.urls.weheat.authUrl, strict);
  const latest = `${strict.urls.weheat.newApiUrl}/api/v1/heat-pumps/${PUMP.blackbird}/logs/latest`;
  const first = await ok(latest, bearer);
  assert.ok(!('cmMassPowerIn' in first) && !('cmMassPowerOut' in first), 'powerFields: false');
  for (let i = 0; i < 4; i++) {
    clock += 1000;
    await ok(latest, bearer);
  }
  clock += 1000;
  const refused = await get(latest, bearer);
  assert.equal(refused.status, 429);
  assert.equal(refused.text, '');
  assert.equal(refused.headers.get('retry-after'), null);
  assert.equal((await get(latest, (await login(strict.urls.weheat.newAuthUrl, strict)).access_token)).status, 429, 'one budget per account, whatever the session');

  clock = 3_600_000; // the first request (at 0) leaves the sliding hour, the second (at 1 s) not yet
  assert.equal((await get(latest, bearer)).status, 200);
  assert.equal((await get(latest, bearer)).status, 429);
  await fetch(`${strict.urls.weheat.apiUrl}/_sandbox/requests/reset`, { method: 'POST' });
  assert.equal((await get(latest, bearer)).status, 200, 'reset empties the window');
  // The energy endpoint still answers without power fields: the client's fallback.
  assert.equal((await get(`${strict.urls.weheat.newApiUrl}/api/v1/energy-logs/${PUMP.blackbird}/total`, bearer)).status, 200);
});

test('503 switch, fault queue and the request log', async () => {
  await fetch(`${apiUrl}/_sandbox/requests/reset`, { method: 'POST' });
  const me = `${newApiUrl}/api/v1/users/me`;
  assert.equal((await fetch(`${apiUrl}/_sandbox/unavailable?count=2`, { method: 'POST' })).status, 200);
  for (let i = 0; i < 2; i++) {
    const down = await get(me);
    assert.equal(down.status, 503);
    assert.equal(down.text, 'temporarily unavailable');
  }
  assert.equal((await get(me)).status, 200);
  sb.weheat.faults.push({ status: 500, body: 'oops', path: '/logs/latest' });
  assert.equal((await get(pumpUrl(PUMP.blackbird, '/logs/latest'))).status, 500);
  await get(pumpUrl(PUMP.blackbird, `/logs/raw${q({ startTime: '2026-01-15T10:00:00Z', endTime: '2026-01-15T11:00:00Z' })}`));

  const log = await (await fetch(`${apiUrl}/_sandbox/requests`)).json();
  assert.equal(log.total, 5);
  assert.deepEqual(log.list.map((r) => r.status), [503, 503, 200, 500, 200]);
  assert.deepEqual(log.list[4], {
    method: 'GET',
    path: `/third_party/api/v1/heat-pumps/${PUMP.blackbird}/logs/raw`,
    query: { startTime: '2026-01-15T10:00:00Z', endTime: '2026-01-15T11:00:00Z' },
    status: 200,
    at: NOW,
  });
  assert.deepEqual(sb.weheat.requests(), log);
});

// `wattbridge linky …` typed as a person would, against the sandbox's Enedis:
// requests counted at the sandbox, errors with the codes a person acts on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M, ENEDIS_APP_CLIENT_ID, ENEDIS_APP_CLIENT_SECRET } from 'wattbridge/sandbox';
import { sandbox, scratchDir } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const sb = await sandbox();

function wattbridge(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh home using the Conso API token: nothing else is needed to fetch. */
async function consoHome(extra = {}) {
  return { WATTBRIDGE_HOME: await scratchDir(), WATTBRIDGE_LINKY_CONSO_API_URL: sb.urls.linky.consoApiUrl, WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN, ...extra };
}

const log = async () => (await fetch(`${sb.url}/linky/_sandbox/requests`)).json();
const reset = () => fetch(`${sb.url}/linky/_sandbox/requests/reset`, { method: 'POST' });
const json = (run) => {
  assert.equal(run.code, 0, run.stderr + run.stdout);
  return JSON.parse(run.stdout);
};

/** A Paris date `days` days before today. */
function daysAgo(days) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

test('a Conso API token alone lists the meters and fetches, and never shows up in any output', async () => {
  const env = await consoHome();
  const meters = json(await wattbridge(['--json', 'linky', 'meters'], env));
  assert.deepEqual(meters.meters, Object.values(M));
  await reset();
  const run = await wattbridge(['-v', 'linky', 'fetch', 'daily', '--from', daysAgo(10), '--to', daysAgo(3), '--format', 'csv'], env);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines[0], 'start,end,value,unit,wh,peak_at');
  assert.equal(lines.length, 1 + 7);
  assert.match(lines[1], new RegExp(`^${daysAgo(10)}T00:00:00\\+0[12]:00,${daysAgo(9)}T00:00:00\\+0[12]:00,\\d+,Wh,,$`));
  const { list } = await log();
  assert.equal(list.length, 1);
  assert.equal(list[0].meter, M.household);
  for (const text of [run.stdout, run.stderr, JSON.stringify(meters)]) assert.ok(!text.includes(SANDBOX_CONSO_TOKEN.split('.')[2]), 'token leaked');
});

test('a 2-year load curve and a 3-year daily backfill cost exactly the minimum, never over 5 requests a second, and a rerun only the correction window', async () => {
  const env = await consoHome();
  await reset();
  const curve = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--format', 'json'], env));
  const daily = json(await wattbridge(['--json', 'linky', 'fetch', 'daily'], env));
  const days = (r) => (Date.parse(r.to) - Date.parse(r.from)) / 86_400_000;
  assert.equal(curve.requests, Math.ceil(days(curve) / 6), 'load curve: windows under 7 days');
  assert.equal(daily.requests, Math.ceil(days(daily) / 365));
  assert.equal(curve.requests, curve.minimumRequests);
  assert.ok(days(curve) >= 730 && days(daily) >= 3 * 365, `${days(curve)} / ${days(daily)} days`);
  const first = await log();
  assert.equal(first.total, curve.requests + daily.requests, 'counted at the sandbox');
  assert.ok(first.list.every((r) => r.status === 200), 'no request was throttled: the client stays under 5/s');
  assert.equal(curve.rows.length, curve.points);
  assert.ok(curve.holes.length === 0);

  await reset();
  const again = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve'], env));
  const dailyAgain = json(await wattbridge(['--json', 'linky', 'fetch', 'daily'], env));
  assert.equal((await log()).total, 2);
  assert.equal(again.requests, 1);
  assert.equal(dailyAgain.requests, 1);
  const [request] = (await log()).list;
  assert.equal(request.start, daysAgo(3), 'only the 3-day correction window is asked again');
});

test('DST days come out with 46 and 50 half-hours', async () => {
  const env = await consoHome({ WATTBRIDGE_LINKY_METER: M.dst });
  const spring = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', '2025-03-30', '--to', '2025-03-31'], env));
  assert.equal(spring.rows.length, 46);
  assert.equal(spring.rows[0].start, '2025-03-30T00:00:00+01:00');
  assert.equal(spring.rows[45].end, '2025-03-31T00:00:00+02:00');
  const autumn = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', '2025-10-26', '--to', '2025-10-27'], env));
  assert.equal(autumn.rows.length, 50);
  assert.deepEqual(autumn.rows.slice(4, 8).map((r) => r.start), ['2025-10-26T02:00:00+02:00', '2025-10-26T02:30:00+02:00', '2025-10-26T02:00:00+01:00', '2025-10-26T02:30:00+01:00']);
  // The daily figure Enedis gives equals the curve's energy, to the watt-hour.
  const daily = json(await wattbridge(['--json', 'linky', 'fetch', 'daily', '--from', '2025-10-26', '--to', '2025-10-27'], env));
  assert.equal(daily.rows[0].value, autumn.rows.reduce((sum, r) => sum + r.wh, 0));
});

test('holes are reported, never filled in', async () => {
  const env = await consoHome({ WATTBRIDGE_LINKY_METER: M.holes });
  const run = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', daysAgo(14), '--to', daysAgo(2)], env));
  assert.ok(run.holes.length > 0);
  // Values and holes tile the time between the first and the last value: nothing invented, nothing overlapping.
  const covered = run.rows.reduce((sum, r) => sum + (Date.parse(r.end) - Date.parse(r.start)), 0);
  const missing = run.holes.reduce((sum, h) => sum + (h.end - h.start), 0);
  assert.equal(covered + missing, Date.parse(run.rows.at(-1).end) - Date.parse(run.rows[0].start));
  assert.ok(run.rows.every((r) => r.value > 0));
  const status = json(await wattbridge(['--json', 'linky', 'status'], env));
  assert.ok(status.series.find((s) => s.series === 'load-curve').holes > 0);
});

test('errors carry the code a person acts on and are not retried', async () => {
  const cases = [
    [M.noconsent, 'daily', 'consent_required', 3, /consent/],
    [M.nocollection, 'load-curve', 'no_data', 3, /hourly collection/],
    [M.household, 'production', 'wrong_direction', 2, /does not produce/],
  ];
  for (const [meter, series, code, exit, message] of cases) {
    const env = await consoHome({ WATTBRIDGE_LINKY_METER: meter });
    await reset();
    const run = await wattbridge(['--json', 'linky', 'fetch', series, '--from', daysAgo(5)], env);
    assert.equal(run.code, exit, `${series} on ${meter}: ${run.stdout}`);
    const { error } = JSON.parse(run.stdout);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    assert.equal((await log()).total, 1, 'a refusal is final: one request');
    if (code === 'consent_required') {
      const status = json(await wattbridge(['--json', 'linky', 'status'], env));
      assert.equal(status.series.find((s) => s.series === 'daily').lastError.code, 'consent_required');
    }
  }
});

test('a 429 storm is ridden out with Retry-After and backoff', async () => {
  const env = await consoHome({ WATTBRIDGE_LINKY_METER: M.storm });
  await reset();
  const run = json(await wattbridge(['--json', 'linky', 'fetch', 'daily', '--from', daysAgo(4)], env));
  assert.equal(run.requests, 3);
  assert.deepEqual((await log()).list.map((r) => r.status), [429, 429, 200]);
});

test('an own Enedis app: consent page, redirect read back, then data with client credentials', async () => {
  const env = {
    WATTBRIDGE_HOME: await scratchDir(),
    WATTBRIDGE_LINKY_ACCESS: 'enedis',
    WATTBRIDGE_LINKY_ENEDIS_API_URL: sb.urls.linky.enedisApiUrl,
    WATTBRIDGE_LINKY_APP_CLIENT_ID: ENEDIS_APP_CLIENT_ID,
    WATTBRIDGE_LINKY_APP_CLIENT_SECRET: ENEDIS_APP_CLIENT_SECRET,
    WATTBRIDGE_LINKY_CONSENT_URL: `${sb.url}/linky/dataconnect/v1/oauth2/authorize`,
  };
  const start = json(await wattbridge(['--json', 'linky', 'consent', '--redirect-uri', 'http://127.0.0.1:9/callback'], env));
  const consent = await fetch(start.url, { redirect: 'manual' });
  const back = consent.headers.get('location');
  assert.match(back, /usage_point_id=/);
  const recorded = json(await wattbridge(['--json', 'linky', 'consent', back], env));
  assert.deepEqual(recorded.meters, Object.values(M));
  const wrong = await wattbridge(['--json', 'linky', 'fetch', 'daily'], { ...env, WATTBRIDGE_LINKY_APP_CLIENT_SECRET: 'not-the-secret' });
  assert.equal(wrong.code, 3);
  assert.equal(JSON.parse(wrong.stdout).error.code, 'invalid_credentials');
  const run = json(await wattbridge(['--json', 'linky', 'fetch', 'max-power', '--from', daysAgo(3)], env));
  assert.equal(run.rows.length, 3);
  assert.ok(run.rows.every((r) => r.unit === 'VA' && r.peak_at));
  assert.ok(!run.stdout?.includes(ENEDIS_APP_CLIENT_SECRET));
});

test('stats sum the periods from the history, with cost for peak/off-peak', async () => {
  const env = await consoHome({ WATTBRIDGE_LINKY_TARIFF: 'hphc', WATTBRIDGE_LINKY_PRICE_HP: '0.25', WATTBRIDGE_LINKY_PRICE_HC: '0.18' });
  const stats = json(await wattbridge(['--json', 'linky', 'stats'], env));
  const { yesterday, lastMonth, thisYear } = stats.periods;
  assert.equal(yesterday.days, 1);
  assert.equal(yesterday.daysWithData, 1);
  assert.ok(yesterday.kwh > 0 && yesterday.cost > yesterday.kwh * 0.18 && yesterday.cost < yesterday.kwh * 0.25);
  assert.ok(thisYear.kwh >= lastMonth.kwh || thisYear.from > lastMonth.from);
  const text = await wattbridge(['linky', 'stats'], env);
  assert.match(text.stdout, /Yesterday\s+[\d.]+ kWh\s+[\d.]+ EUR/);
  assert.match(text.stdout, /This year/);
});

test('through the device-flow gateway: log in from a script, then the CLI fetches with the stored tokens', async () => {
  const { Linky, FileStore } = await import('wattbridge');
  const home = await scratchDir();
  const env = { WATTBRIDGE_HOME: home, WATTBRIDGE_LINKY_GATEWAY_URL: sb.urls.linky.gatewayUrl };
  const linky = new Linky({ gatewayUrl: sb.urls.linky.gatewayUrl, store: new FileStore(`${home}/state`) });
  // The person opens the verification page and consents.
  await linky.login({ onVerification: (v) => void fetch(v.verification_uri_complete) });
  assert.deepEqual(await linky.meters(), Object.values(M));
  await reset();
  const run = json(await wattbridge(['--json', 'linky', 'fetch', 'daily', '--from', daysAgo(5), '--meter', M.producer], env));
  assert.equal(run.meter, M.producer);
  assert.equal(run.rows.length, 5);
  const [request] = (await log()).list;
  assert.equal(request.path, '/data/proxy/metering_data_dc/v5/daily_consumption');
  const status = json(await wattbridge(['--json', 'linky', 'status'], env));
  assert.equal(status.loggedIn, true);
  assert.ok(status.tokenExpiresAtMs > Date.now());
});

test('a Date given to the library is the day it is in Paris, not its UTC day, across both DST changes', async () => {
  const { Linky, MemoryStore } = await import('wattbridge');
  const linky = new Linky({ consoApiUrl: sb.urls.linky.consoApiUrl, consoToken: SANDBOX_CONSO_TOKEN, store: new MemoryStore() });
  // Paris midnights, written as UTC instants: the UTC day is the day before each time.
  const cases = [
    { from: '2024-02-29T23:00:00Z', to: '2024-03-02T23:00:00Z', days: ['2024-03-01', '2024-03-03'] }, // 2024-03-01T00:00+01:00
    { from: '2024-03-30T23:00:00Z', to: '2024-03-31T22:00:00Z', days: ['2024-03-31', '2024-04-01'] }, // spring forward: +01:00, then +02:00
    { from: '2024-10-26T22:00:00Z', to: '2024-10-27T23:00:00Z', days: ['2024-10-27', '2024-10-28'] }, // fall back: +02:00, then +01:00
  ];
  for (const { from, to, days } of cases) {
    await reset();
    const report = await linky.fetch('daily', { from: new Date(from), to: new Date(to) });
    assert.deepEqual([report.from, report.to], days, `fetch from ${from} to ${to}`);
    const [request] = (await log()).list;
    assert.deepEqual([request.start, request.end], days, 'the dates Enedis was asked for');
  }
  // history() reads Dates the same way: 23:30 in Paris on 27 October (22:30 UTC) is still the 27th,
  // and the next Paris midnight (23:00 UTC) the 28th, so this is the 27th's row.
  const rows = await linky.history('daily', { from: new Date('2024-10-27T22:30:00Z'), to: new Date('2024-10-27T23:00:00Z') });
  assert.deepEqual(rows.map((r) => r.start), ['2024-10-27T00:00:00+02:00']);
});

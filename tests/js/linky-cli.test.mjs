// `wattbridge linky …` typed as a person would, against the sandbox's Enedis:
// requests counted at the sandbox, errors with the codes a person acts on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M, ENEDIS_APP_CLIENT_ID, ENEDIS_APP_CLIENT_SECRET, LINKY_CLIENT_ID } from 'wattbridge/sandbox';
import { sandbox, scratchDir, movableClock, ageConsoBudget } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
// This file's tests together send a few hundred Conso API requests from one
// address: the sandbox's 12-hour ban is off here (its own tests are below).
const sb = await sandbox({ linky: { consoLimitPer12h: 0 } });

function wattbridge(args, env, input) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh home using the Conso API token (of `service`'s sandbox): nothing else is needed to fetch. */
async function consoHome(extra = {}, service = sb) {
  return { WATTBRIDGE_HOME: await scratchDir(), WATTBRIDGE_LINKY_CONSO_API_URL: service.urls.linky.consoApiUrl, WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN, ...extra };
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
  // 129 requests: more than the Conso API's 12-hour budget, lifted here (its own test is below).
  const env = await consoHome({ WATTBRIDGE_LINKY_CONSO_BUDGET: '200' });
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

const TWELVE_HOURS_MS = 12 * 3600 * 1000;

test('over the Conso API a backfill larger than its 12-hour budget stops at it (rate_limited, exit 4) with every window kept; another process finds it spent; once the window has rolled the backfill ends with only the missing windows', async () => {
  const clock = movableClock();
  // The contract's limit: 100 requests per 12 h from one address, then a ban
  // (the 5/s quota is off: a 429 retried would count twice, by chance).
  const own = await sandbox({ linky: { clock: clock.now, rateLimit: 0 } });
  const env = await consoHome({ WATTBRIDGE_LINKY_METER: M.household }, own);
  const first = await wattbridge(['--json', 'linky', 'fetch', 'load-curve'], env);
  assert.equal(first.code, 4, `rate_limited means retry later: ${first.stdout}`);
  const { error } = JSON.parse(first.stdout);
  assert.equal(error.code, 'rate_limited');
  assert.ok(error.retryAfter > 11.9 * 3600 && error.retryAfter <= 12 * 3600, `retryAfter ${error.retryAfter}`);
  assert.match(error.message, /about 100 requests in 12 h, and wattbridge's budget of 90 \(linky\.conso_budget\) is spent: the fetch can continue after \d\d:\d\d Paris time on \d{4}-\d\d-\d\d \(in 1[12] h \d\d min\); 90 of 12\d windows of load-curve are stored/);
  assert.equal(own.linky.requests().total, 90, 'the 91st request never left');
  assert.ok(own.linky.requests().list.every((r) => r.status === 200), 'nothing was refused, nobody was banned');

  // Nothing lost: the 90 newest windows of 6 days are stored, and status says what is left.
  const status = json(await wattbridge(['--json', 'linky', 'status'], env));
  const curve = status.series.find((s) => s.series === 'load-curve');
  assert.deepEqual([curve.firstDay, curve.lastDay], [daysAgo(540), daysAgo(1)]);
  assert.deepEqual([status.consoBudget.limit, status.consoBudget.left], [90, 0]);
  assert.ok(Math.abs(status.consoBudget.freesAtMs - (Date.now() + error.retryAfter * 1000)) < 60_000);
  assert.match((await wattbridge(['linky', 'status'], env)).stdout, /^Budget: 0 of 90 Conso API requests left in 12 h, the next at \d{4}-\d\d-\d\dT/m);
  assert.match((await wattbridge(['status'], { ...env, WATTBRIDGE_SYNC_SOURCES: 'linky' })).stdout, /^linky: meter \d{14}, data up to .*, 0 of 90 Conso API requests left in 12 h/m);

  // Another process, another series: the budget is the same, nothing leaves.
  const other = await wattbridge(['linky', 'fetch', 'daily'], env);
  assert.equal(other.code, 4);
  assert.match(other.stderr, /budget of 90 \(linky\.conso_budget\) is spent.*\[rate_limited\]/);
  assert.equal(own.linky.requests().total, 90);

  // Twelve hours later for the client and the Conso API alike: the backfill
  // goes on with the windows still missing and the correction window only.
  clock.advance(TWELVE_HOURS_MS + 60_000);
  await ageConsoBudget(env.WATTBRIDGE_HOME, TWELVE_HOURS_MS + 60_000);
  const rest = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve'], env));
  const missingDays = (Date.parse(daysAgo(540)) - Date.parse(rest.from)) / 86_400_000;
  assert.equal(rest.requests, Math.ceil(missingDays / 6) + 1);
  assert.equal(own.linky.requests().total, 90 + rest.requests);
  assert.ok(own.linky.requests().list.every((r) => r.status === 200), 'still not banned');
  const done = json(await wattbridge(['--json', 'linky', 'status'], env)).series.find((s) => s.series === 'load-curve');
  assert.deepEqual([done.firstDay, done.lastDay, done.missingDays], [rest.from, daysAgo(1), 0]);
});

test('past its limit the sandbox Conso API bans the address, and wattbridge says what such a ban is and how it is lifted (exit 4, not retried)', async () => {
  const own = await sandbox({ linky: { consoLimitPer12h: 4, rateLimit: 0 } });
  // A budget above the limit, as when another tool on the same address spent part of it.
  const env = await consoHome({ WATTBRIDGE_LINKY_METER: M.household, WATTBRIDGE_LINKY_CONSO_BUDGET: '10' }, own);
  const run = await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', daysAgo(40)], env);
  assert.equal(run.code, 4);
  const { error } = JSON.parse(run.stdout);
  assert.equal(error.code, 'rate_limited');
  assert.equal(error.status, 403);
  assert.match(error.message, /refuses this IP address .*bans IPs that send more than about 100 requests in 12 h.*github\.com\/bokub\/conso-api/);
  assert.deepEqual(own.linky.requests().list.map((r) => r.status), [200, 200, 200, 200, 403], 'the ban is not retried');
  // The ban stays: the next run gets it at its first request.
  assert.equal((await wattbridge(['linky', 'fetch', 'daily', '--from', daysAgo(5)], env)).code, 4);
  assert.deepEqual(own.linky.requests().list.map((r) => r.status).slice(4), [403, 403]);
});

test('a linky.conso_budget that is not a whole number of requests is refused, naming where it was set (exit 2)', async () => {
  for (const bad of ['abc', '0', '2.5']) {
    const run = await wattbridge(['linky', 'status'], await consoHome({ WATTBRIDGE_LINKY_CONSO_BUDGET: bad }));
    assert.equal(run.code, 2, bad);
    assert.match(run.stderr, new RegExp(`linky\\.conso_budget is "${bad.replace('.', '\\.')}": give a whole number of requests, at least 1 \\(linky\\.conso_budget is set by WATTBRIDGE_LINKY_CONSO_BUDGET\\) \\[invalid_config\\]`));
  }
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

test('a range wholly before what Enedis keeps is refused with the earliest date (exit 2); one partly before is clamped with a note', async () => {
  const env = await consoHome();
  // The load curve goes back 24 months and 15 days (contract §2).
  const { addDays, addMonths } = await import('../../js/sandbox/linky-data.js');
  const earliest = addDays(addMonths(daysAgo(0), -24), -15);
  await reset();
  const outside = await wattbridge(['linky', 'fetch', 'load-curve', '--from', '2023-04-01', '--to', '2023-04-02'], env);
  assert.equal(outside.code, 2, outside.stderr);
  assert.match(outside.stderr, /before_history_limit/);
  assert.ok(outside.stderr.includes(`earliest date that can be asked is ${earliest}`), outside.stderr);
  assert.doesNotMatch(outside.stdout, /0 values/);
  const asJson = await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', '2023-04-01', '--to', '2023-04-02'], env);
  assert.equal(asJson.code, 2);
  assert.equal(JSON.parse(asJson.stdout).error.code, 'before_history_limit');
  assert.equal((await log()).total, 0, 'nothing is asked of Enedis that it is known to refuse');

  const partly = await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', addDays(earliest, -10), '--to', addDays(earliest, 2)], env);
  const report = json(partly);
  assert.equal(report.from, earliest);
  assert.equal(report.clampedFrom, addDays(earliest, -10));
  assert.ok(partly.stderr.includes(`note: Enedis serves the consumption load curve from ${earliest} on`), partly.stderr);
  assert.equal(report.rows[0].start.slice(0, 10), earliest);
});

test('"yesterday" that Enedis has not published yet is said so, beside the last complete day: never a silent 0', async () => {
  const env = await consoHome({ WATTBRIDGE_LINKY_METER: M.late });
  const run = await wattbridge(['linky', 'stats'], env);
  assert.equal(run.code, 0, run.stderr);
  const stats = json(await wattbridge(['--json', 'linky', 'stats'], env));
  const last = stats.lastCompleteDay;
  assert.equal(last.date, daysAgo(2), 'the day before yesterday is the last complete one');
  assert.equal(stats.periods.yesterday.daysWithData, 0);
  const line = run.stdout.split('\n').find((l) => l.trim().startsWith('Yesterday'));
  assert.equal(line.trim(), `Yesterday   not published by Enedis yet; last complete day ${daysAgo(2)}: ${(last.wh / 1000).toFixed(3)} kWh`);
  assert.doesNotMatch(line, /\b0\.0+ kWh/);
  // An ordinary meter shows yesterday's figure itself.
  const usual = await wattbridge(['linky', 'stats'], await consoHome());
  assert.match(usual.stdout, /Yesterday\s+\d+\.\d{3} kWh/);
});

test('printed and exported energy is to the watt-hour and money to the cent', async () => {
  const env = await consoHome({ WATTBRIDGE_LINKY_TARIFF: 'hphc', WATTBRIDGE_LINKY_PRICE_HP: '0.2516', WATTBRIDGE_LINKY_PRICE_HC: '0.1828' });
  const run = await wattbridge(['--json', 'linky', 'stats'], env);
  const stats = json(run);
  const decimals = (n) => (String(n).split('.')[1] ?? '').length;
  for (const [name, p] of Object.entries(stats.periods)) {
    assert.ok(decimals(p.kwh) <= 3, `${name}: ${p.kwh} kWh`);
    if (p.cost !== null) assert.ok(decimals(p.cost) <= 2, `${name}: ${p.cost} EUR`);
  }
  assert.ok(stats.periods.thisMonth.cost !== null || stats.periods.yesterday.cost !== null, 'some cost is shown');
  assert.ok([...stats.daily, ...stats.hourly].every((d) => Number.isInteger(d.wh)), 'Wh whole');
  assert.doesNotMatch(run.stdout, /\d\.\d*0000000\d|\d\.\d*9999999\d/, 'no floating-point noise anywhere');
  // The text output: kWh to 3 decimals, EUR to 2.
  const text = await wattbridge(['linky', 'stats'], env);
  assert.match(text.stdout, /This month\s+\d+\.\d{3} kWh\s+\d+\.\d{2} EUR/);
  // Exports (load-curve rows) round the same way: src/linky/export.rs tests an odd W over half an hour.
});

test('gateway defaults: the production client id, a prod|test preset, and the settings listed by config show', async () => {
  const env = { WATTBRIDGE_HOME: await scratchDir() };
  const shown = json(await wattbridge(['--json', 'config', 'show'], env));
  assert.equal(shown['linky.gateway'].value, 'prod');
  assert.equal(shown['linky.refresh_path'].value, '/device/token');
  assert.ok('linky.user_agent' in shown && 'linky.client_id' in shown);
  const text = await wattbridge(['config', 'show'], env);
  assert.match(text.stdout, /linky\.gateway_url\s+\(from linky\.gateway\)/);
  // The sandbox gateway accepts the gateway's real client ids only: the default logs in.
  const home = await scratchDir();
  const { Linky, FileStore } = await import('wattbridge');
  const linky = new Linky({ gatewayUrl: sb.urls.linky.gatewayUrl, store: new FileStore(`${home}/state`) });
  await linky.login({ onVerification: (v) => void fetch(v.verification_uri_complete) });
  assert.deepEqual(await linky.meters(), Object.values(M));
  const unknown = await wattbridge(['--json', 'linky', 'status'], { ...env, WATTBRIDGE_LINKY_GATEWAY: 'staging' });
  assert.equal(unknown.code, 2);
  assert.match(JSON.parse(unknown.stdout).error.message, /prod, test/);
});

test('linky login --import keeps tokens from another install, like our own, and never prints them', async () => {
  // Another install logged in at the gateway: its token answer, as the gateway gave it.
  const gateway = sb.urls.linky.gatewayUrl;
  const form = (fields) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  const start = async () => {
    const code = await (await fetch(`${gateway}/device/code`, form({ client_id: LINKY_CLIENT_ID }))).json();
    await fetch(`${code.verification_uri}?code=${code.user_code}`); // the page, as the Domoticz plugin links it
    return code.device_code;
  };
  const tokens = await (await fetch(`${gateway}/device/token`, form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: LINKY_CLIENT_ID, device_code: await start() }))).json();
  assert.ok(tokens.access_token && tokens.refresh_token);

  const home = await scratchDir();
  const env = { WATTBRIDGE_HOME: home, WATTBRIDGE_LINKY_GATEWAY_URL: gateway };
  const { usage_points_id: meters, ...rest } = tokens;
  // Something pasted in by mistake besides the tokens is dropped, never stored.
  const run = await wattbridge(['linky', 'login', '--import'], env, JSON.stringify({ ...rest, meter: meters.split(',')[1], client_secret: 'pasted-by-mistake' }));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), `Imported the Linky tokens. Meters in this consent: ${meters.split(',')[1]}.`);
  for (const secret of [tokens.access_token, tokens.refresh_token]) assert.ok(!(run.stdout + run.stderr).includes(secret), 'a token was printed');
  const fetched = json(await wattbridge(['--json', 'linky', 'fetch', 'daily', '--from', daysAgo(3)], env));
  assert.equal(fetched.meter, meters.split(',')[1]);
  const status = json(await wattbridge(['--json', 'linky', 'status'], env));
  assert.equal(status.loggedIn, true);
  const { stat } = await import('node:fs/promises');
  const files = await (await import('node:fs/promises')).readdir(`${home}/state`, { recursive: true });
  const tokenFile = files.find((f) => f.includes('tokens') && f.includes('linky'));
  assert.ok(tokenFile, files.join(', '));
  assert.equal((await stat(`${home}/state/${tokenFile}`)).mode & 0o777, 0o600, 'stored like our own: 0600');
  const stored = await (await import('node:fs/promises')).readFile(`${home}/state/${tokenFile}`, 'utf8');
  assert.ok(!stored.includes('pasted-by-mistake') && !JSON.stringify(status).includes('pasted-by-mistake'), 'only token fields are kept');

  // A device code approved elsewhere is exchanged once; the library does the same as the CLI.
  const { Linky, MemoryStore } = await import('wattbridge');
  const library = new Linky({ gatewayUrl: gateway, store: new MemoryStore() });
  const imported = await library.importTokens({ device_code: await start() });
  assert.equal(imported.loggedIn, true);
  assert.deepEqual(await library.meters(), Object.values(M));

  // Bad input is refused without quoting it.
  const bad = await wattbridge(['--json', 'linky', 'login', '--import'], env, '{"access_token": 42, "refresh_token": "rt-secret-value", "meter": "11111111111111"}');
  assert.equal(bad.code, 2);
  assert.equal(JSON.parse(bad.stdout).error.code, 'invalid_input');
  assert.ok(!bad.stdout.includes('rt-secret-value'));
  const noMeter = await wattbridge(['--json', 'linky', 'login', '--import'], env, JSON.stringify(rest));
  assert.match(JSON.parse(noMeter.stdout).error.message, /usage_points_id/);
});

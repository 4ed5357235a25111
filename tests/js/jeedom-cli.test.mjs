// `wattbridge jeedom push` and `sync` into Jeedom, against the sandbox (Linky,
// Weheat) and its strict stand-in of Jeedom's JSON-RPC API (js/sandbox/jeedom.js):
// what Jeedom's history holds equals the Linky and Weheat data (the autumn's
// DST day included), a rerun writes nothing, a corrected day is written again,
// and the errors exit as the README says, the key never shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M, SANDBOX_WEHEAT_USER, SANDBOX_JEEDOM_API_KEY as KEY } from 'wattbridge/sandbox';
import { parisMidnight, parisDate } from '../../js/sandbox/linky-data.js';
import { sandbox, scratchDir, runCli as wattbridge, freePort } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const DAY = 86_400_000;
const daysAgo = (n) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
const SINCE = daysAgo(6);

const json = (run) => {
  assert.ok(run.stdout.trim(), `no output (exit ${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
};

/** One sandbox for Linky and Weheat; each test gets its own Jeedom box (a sandbox of its own). */
const shared = await sandbox();
async function home({ meter = M.household, sources = 'linky,weheat', jeedom, ...extra } = {}) {
  const box = jeedom ?? (await sandbox());
  const env = {
    WATTBRIDGE_HOME: await scratchDir(),
    WATTBRIDGE_LINKY_CONSO_API_URL: shared.urls.linky.consoApiUrl,
    WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN,
    WATTBRIDGE_LINKY_METER: meter,
    WATTBRIDGE_LINKY_PRICE_BASE: '0.2',
    WATTBRIDGE_WEHEAT_AUTH_URL: shared.urls.weheat.newAuthUrl,
    WATTBRIDGE_WEHEAT_API_URL: shared.urls.weheat.newApiUrl,
    WATTBRIDGE_WEHEAT_BUDGET_PER_HOUR: '1000',
    WATTBRIDGE_SYNC_SOURCES: sources,
    WATTBRIDGE_JEEDOM_URL: box.urls.jeedom.url,
    WATTBRIDGE_JEEDOM_API_KEY: KEY,
    ...extra,
  };
  if (sources.includes('weheat')) {
    const login = await wattbridge(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], env, `${SANDBOX_WEHEAT_USER.password}\n`);
    assert.equal(login.code, 0, login.stderr);
  }
  return { jeedom: box.jeedom, env };
}

/** Jeedom's history of a command of an equipment, by logicalId: Map datetime → number. */
function held(jeedom, equipment, logicalId) {
  const eq = jeedom.eqLogics().find((e) => e.logicalId === equipment);
  assert.ok(eq, `no equipment ${equipment}`);
  const cmd = jeedom.cmds(eq.id).find((c) => c.logicalId === logicalId);
  assert.ok(cmd, `no command ${logicalId} on ${equipment}`);
  return new Map(jeedom.history(cmd.id).map(([at, value]) => [at, Number(value)]));
}

/** `2026-10-25T02:30:00+01:00` → `2026-10-25 02:30:00`: Paris wall time, as Jeedom (Europe/Brussels) keys its rows. */
const wall = (iso) => iso.slice(0, 19).replace('T', ' ');

/**
 * What Jeedom should hold from Linky's load curve (`linky fetch --json` rows):
 * the average W of each interval at its start, the autumn's two passes of a
 * wall time as their mean; and each Paris day the curve covers whole, in kWh.
 */
function expectedLinky(rows) {
  const curve = new Map();
  const days = new Map();
  for (const row of rows) {
    const label = wall(row.start);
    const w = (row.wh * 3_600_000) / (Date.parse(row.end) - Date.parse(row.start));
    curve.set(label, [...(curve.get(label) ?? []), w]);
    const date = parisDate(Date.parse(row.start));
    const day = days.get(date) ?? { covered: 0, wh: 0 };
    day.covered += Date.parse(row.end) - Date.parse(row.start);
    day.wh += row.wh;
    days.set(date, day);
  }
  const daily = new Map();
  for (const [date, { covered, wh }] of days) {
    const next = new Date(Date.parse(`${date}T12:00:00Z`) + DAY).toISOString().slice(0, 10);
    if (covered === parisMidnight(next) - parisMidnight(date)) daily.set(`${date} 00:00:00`, wh / 1000);
  }
  return { curve: new Map([...curve].map(([label, ws]) => [label, ws.reduce((a, b) => a + b, 0) / ws.length])), daily };
}

/** A JSON-RPC call to a sandbox's Jeedom, as a person's script would make it. */
const rpc = (box, method, params) =>
  fetch(`${box.urls.jeedom.url}/core/api/jeeApi.php`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: '1', method, params: { apikey: KEY, ...params } }) }).then((r) => r.json());

function assertSame(actual, expected, what, tolerance = 1e-3) {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: the same datetimes`);
  for (const [at, value] of expected) assert.ok(Math.abs(actual.get(at) - value) <= tolerance, `${what} at ${at}: ${actual.get(at)} vs ${value}`);
}

test('Linky and Weheat land in Jeedom at their own dates, equal to the data; a rerun writes nothing; the key never shows', async () => {
  const { jeedom, env } = await home();
  const first = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], env);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const report = json(first);
  assert.equal(report.jeedom.status, 'ok');
  assert.equal(report.jeedom.timezone, 'Europe/Brussels', 'read from Jeedom');
  const linkyEq = `wattbridge_linky_${M.household}`;
  const eqs = jeedom.eqLogics();
  const pumpEq = eqs.find((e) => e.logicalId.startsWith('wattbridge_weheat_'));
  assert.ok(pumpEq, eqs.map((e) => e.logicalId).join());
  for (const eq of eqs) assert.deepEqual([eq.eqType_name, eq.isEnable, eq.isVisible], ['virtual', '1', '1'], eq.name);
  assert.equal(eqs.find((e) => e.logicalId === linkyEq).name, `Linky ${M.household}`);

  // Commands: historized, units in `unite`, generic types.
  const cmds = jeedom.cmds();
  const cmd = (logicalId) => cmds.find((c) => c.logicalId === logicalId);
  assert.deepEqual(['consumption_load_curve', 'daily_consumption', 'daily_consumption_max_power', 'yesterday', 'this_year_cost'].map((id) => cmd(id)?.unite), ['W', 'kWh', 'VA', 'kWh', '€']);
  assert.ok(cmds.every((c) => c.type === 'info' && c.isHistorized === '1'));
  assert.equal(cmd('daily_consumption').generic_type, 'DAILY_CONSUMPTION');
  assert.equal(cmd('consumption_load_curve').configuration.historizeMode, 'none', 'the half-hours survive the nightly archive');

  // Linky: the curve and the daily totals equal the meter's data.
  const rows = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', SINCE], env)).rows;
  const expected = expectedLinky(rows);
  assertSame(held(jeedom, linkyEq, 'consumption_load_curve'), expected.curve, 'load curve');
  assertSame(held(jeedom, linkyEq, 'daily_consumption'), expected.daily, 'daily consumption');
  // Max power at each peak's own time; yesterday and its cost as current values.
  const peaks = json(await wattbridge(['--json', 'linky', 'fetch', 'max-power', '--from', SINCE], env)).rows;
  assertSame(held(jeedom, linkyEq, 'daily_consumption_max_power'), new Map(peaks.map((p) => [wall(p.peak_at), p.value])), 'max power');
  const yesterday = parisDate(Date.now() - DAY);
  assert.equal(cmd('yesterday').currentValue, String(expected.daily.get(`${yesterday} 00:00:00`)));
  assert.equal(Number(cmd('yesterday_cost').currentValue), Math.round(expected.daily.get(`${yesterday} 00:00:00`) * 0.2 * 100) / 100);

  // Weheat: each complete Paris day's heat and electricity, the live state.
  const pump = pumpEq.logicalId.slice('wattbridge_weheat_'.length);
  const energy = json(await wattbridge(['--json', 'weheat', 'energy', '--pump', pump, '--interval', 'Hour', '--from', SINCE, '--to', new Date().toISOString()], env));
  for (const [logicalId, field] of [['daily_heat', 'heatKwh'], ['daily_electricity', 'electricityKwh']]) {
    const days = new Map();
    for (const bucket of energy.buckets) {
      const date = parisDate(Date.parse(bucket.timeBucket));
      const day = days.get(date) ?? { hours: 0, kwh: 0 };
      day.hours += 1;
      day.kwh += bucket[field];
      days.set(date, day);
    }
    const whole = [...days].filter(([date, d]) => {
      const next = new Date(Date.parse(`${date}T12:00:00Z`) + DAY).toISOString().slice(0, 10);
      // A day still running is not whole, even when the current hour's
      // bucket (partial) makes 24 of them (late in the evening).
      return d.hours * 3_600_000 === parisMidnight(next) - parisMidnight(date) && parisMidnight(next) <= Date.now();
    });
    assert.ok(whole.length >= 4, `complete days of ${field}`);
    assertSame(held(jeedom, pumpEq.logicalId, logicalId), new Map(whole.map(([date, d]) => [`${date} 00:00:00`, d.kwh])), `Weheat ${logicalId}`, 2e-3);
  }
  const latest = json(await wattbridge(['--json', 'weheat', 'latest', '--pump', pump], env));
  const state = jeedom.cmds(pumpEq.id).find((c) => c.logicalId === 'state');
  assert.equal(state.currentValue, latest.stateName);
  assert.equal(state.subType, 'string');

  // A rerun: nothing new to write. The sandbox pump logs every minute, so a
  // rerun in the next minute may send its live values again, only those that
  // changed; no history and nothing of Linky.
  const callsBefore = jeedom.calls.length;
  const liveBefore = new Map(jeedom.cmds(pumpEq.id).map((c) => [c.id, c.currentValue]));
  const again = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], env);
  assert.equal(again.code, 0, again.stderr);
  const resent = jeedom.calls.slice(callsBefore).filter((c) => c.method === 'cmd::event');
  assert.equal(json(again).jeedom.written, resent.length);
  for (const { params } of resent) {
    assert.ok(liveBefore.has(String(params.id)), `a rerun wrote command ${params.id}, not a live value of the pump`);
    assert.equal(params.datetime ?? null, null, 'a live value, not history');
    assert.notEqual(String(params.value), liveBefore.get(String(params.id)), 'only a value that changed');
  }
  assert.equal(jeedom.eqLogics().length, eqs.length, 'and creates no equipment');
  const text = await wattbridge(['jeedom', 'push', '--since', SINCE], env);
  assert.match(text.stdout, /wrote 0 values .*Linky 11111111111111/);

  for (const run of [first, again, text]) assert.ok(!`${run.stdout}${run.stderr}`.includes(KEY), 'the key never shows');
  // Nor does it travel in a URL, or appear in what the box was asked.
  assert.ok(!JSON.stringify(jeedom.calls).includes(KEY));
});

test('the autumn\'s DST day: 50 half-hours, 48 wall times in Jeedom (the repeated hour as the mean of both), the day\'s kWh of all 50', async () => {
  // The last Sunday of October before today, and the days around it.
  let day = new Date();
  do day = new Date(day.getTime() - DAY);
  while (!(day.getUTCMonth() === 9 && day.getUTCDay() === 0 && day.getUTCDate() > 24));
  const fallBack = day.toISOString().slice(0, 10);
  const since = new Date(day.getTime() - DAY).toISOString().slice(0, 10);
  const { jeedom, env } = await home({ meter: M.dst, sources: 'linky' });
  const run = await wattbridge(['--json', 'jeedom', 'push', '--since', since], env);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const rows = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', since], env)).rows;
  const expected = expectedLinky(rows);
  const equipment = `wattbridge_linky_${M.dst}`;
  const curve = held(jeedom, equipment, 'consumption_load_curve');
  assertSame(curve, expected.curve, 'load curve');
  assert.equal(rows.filter((r) => parisDate(Date.parse(r.start)) === fallBack).length, 50);
  assert.equal([...curve.keys()].filter((at) => at.startsWith(fallBack)).length, 48);
  const twice = rows.filter((r) => wall(r.start) === `${fallBack} 02:30:00`);
  assert.equal(twice.length, 2);
  assert.ok(Math.abs(curve.get(`${fallBack} 02:30:00`) - (twice[0].value + twice[1].value) / 2) < 1e-6);
  const daily = held(jeedom, equipment, 'daily_consumption');
  const all50 = rows.filter((r) => parisDate(Date.parse(r.start)) === fallBack).reduce((sum, r) => sum + r.wh, 0) / 1000;
  assert.ok(Math.abs(daily.get(`${fallBack} 00:00:00`) - all50) < 1e-6, `${daily.get(`${fallBack} 00:00:00`)} vs ${all50}`);
});

test('a day Enedis completes later is written again, and only that', async () => {
  const { jeedom, env } = await home({ meter: M.holes, sources: 'linky' });
  const since = daysAgo(5);
  assert.equal((await wattbridge(['jeedom', 'push', '--since', since], env)).code, 0);
  const before = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', since], env)).rows;
  assert.equal((await fetch(`${shared.urls.linky.gatewayUrl}/_sandbox/fill-holes?meter=${M.holes}`, { method: 'POST' })).status, 200);
  const calls = jeedom.calls.length;
  const run = await wattbridge(['--json', 'jeedom', 'push', '--since', since], env);
  assert.equal(run.code, 0, run.stderr);
  const after = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', since], env)).rows;

  // Jeedom equals the corrected data.
  const expected = expectedLinky(after);
  const equipment = `wattbridge_linky_${M.holes}`;
  assertSame(held(jeedom, equipment, 'consumption_load_curve'), expected.curve, 'load curve');
  assertSame(held(jeedom, equipment, 'daily_consumption'), expected.daily, 'daily consumption');
  // What was sent again: every half-hour and the total of each changed day, nothing else.
  const perDay = (rows) => {
    const days = {};
    for (const row of rows) (days[parisDate(Date.parse(row.start))] ??= []).push(row);
    return days;
  };
  const [was, now] = [perDay(before), perDay(after)];
  const changed = Object.keys(now).filter((date) => JSON.stringify(now[date]) !== JSON.stringify(was[date]));
  assert.ok(changed.length > 0, 'the sandbox filled a hole in the correction window');
  const eq = jeedom.eqLogics().find((e) => e.logicalId === equipment);
  const cmds = jeedom.cmds(eq.id).filter((c) => ['consumption_load_curve', 'daily_consumption'].includes(c.logicalId));
  const ids = new Set(cmds.map((c) => c.id));
  const sent = jeedom.calls.slice(calls).filter((c) => c.method === 'cmd::event' && ids.has(c.params.id));
  // Each event becomes the command's current value, even an older one: after a
  // changed day that is not the newest, the newest row is sent once more.
  const newest = (rows) => [...rows.keys()].sort().at(-1);
  const restored = [expected.curve, expected.daily].filter((rows) => !changed.includes(newest(rows).slice(0, 10))).map(newest);
  const resent = changed.reduce((n, date) => n + now[date].length + (expected.daily.has(`${date} 00:00:00`) ? 1 : 0), 0);
  assert.equal(sent.length, resent + restored.length, 'every half-hour and the total of each changed day, and the newest row of a command left behind');
  assert.deepEqual([...new Set(sent.map((c) => c.params.datetime.slice(0, 10)))].sort(), [...new Set([...changed, ...restored.map((at) => at.slice(0, 10))])].sort(), 'and nothing else of the other days');
  for (const cmd of cmds) {
    const rows = jeedom.history(cmd.id);
    assert.equal(cmd.currentValue, rows.at(-1)[1], `${cmd.logicalId}: Jeedom shows the newest value as the current one`);
  }
  // The period totals moved with the corrected days: they are current values, sent again too.
  assert.ok(json(run).jeedom.written >= resent);
});

test('errors: a wrong key exits 3 (auth_required), Jeedom down exits 4 and nothing counts as written, a rejected call names the method and Jeedom\'s words, an unknown room, the key refused in -c', async () => {
  const box = await sandbox();
  const { env } = await home({ sources: 'linky', jeedom: box, WATTBRIDGE_JEEDOM_API_KEY: 'not-the-key-0000' });
  const wrong = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], env);
  assert.equal(wrong.code, 3, wrong.stdout + wrong.stderr);
  assert.equal(json(wrong).jeedom.error.code, 'auth_required');
  assert.match(json(wrong).jeedom.error.message, /Settings → System → Configuration → API/);
  const text = await wattbridge(['jeedom', 'push', '--since', SINCE], env);
  assert.equal(text.code, 3);
  for (const run of [wrong, text]) assert.ok(!`${run.stdout}${run.stderr}`.includes('not-the-key-0000'));
  assert.equal(box.jeedom.eqLogics().length, 0);

  // Down: exit 4; then, Jeedom back, the next run writes everything (nothing was marked as written).
  const down = { ...env, WATTBRIDGE_JEEDOM_URL: `http://127.0.0.1:${await freePort()}`, WATTBRIDGE_JEEDOM_API_KEY: KEY };
  const failed = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], down);
  assert.equal(failed.code, 4, failed.stdout + failed.stderr);
  assert.equal(json(failed).jeedom.error.code, 'network');
  const back = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], { ...env, WATTBRIDGE_JEEDOM_API_KEY: KEY });
  assert.equal(back.code, 0, back.stderr);
  const rows = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', SINCE], env)).rows;
  assertSame(held(box.jeedom, `wattbridge_linky_${M.household}`, 'consumption_load_curve'), expectedLinky(rows).curve, 'load curve after the outage');

  // A call Jeedom rejects: someone already made a "Linky <PRM>" equipment by hand (names are unique per room).
  const taken = await sandbox();
  assert.equal((await rpc(taken, 'eqLogic::save', { eqType_name: 'virtual', name: `Linky ${M.household}` })).result.name, `Linky ${M.household}`);
  const rejected = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], { ...env, WATTBRIDGE_JEEDOM_URL: taken.urls.jeedom.url, WATTBRIDGE_JEEDOM_API_KEY: KEY });
  assert.equal(rejected.code, 2, rejected.stdout);
  assert.equal(json(rejected).jeedom.error.code, 'rejected');
  assert.match(json(rejected).jeedom.error.message, /^Jeedom refused eqLogic::save: Un équipement portant ce nom existe déjà/);

  // An unknown room for a new equipment (jeedom.object) is a settings error naming it.
  const other = await sandbox();
  const room = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], { ...env, WATTBRIDGE_JEEDOM_URL: other.urls.jeedom.url, WATTBRIDGE_JEEDOM_API_KEY: KEY, WATTBRIDGE_JEEDOM_OBJECT: 'Cave' });
  assert.equal(room.code, 2, room.stdout);
  assert.match(json(room).jeedom.error.message, /no object \(room\) named 'Cave'.*Maison, Garage/);

  const flag = await wattbridge(['-c', `jeedom.api_key=${KEY}`, 'jeedom', 'push'], env);
  assert.equal(flag.code, 2);
  assert.ok(!flag.stderr.includes(KEY));
});

test('a dry run writes nothing; sync pushes to Jeedom when jeedom.url is set, into the room jeedom.object names', async () => {
  const box = await sandbox();
  const { jeedom, env } = await home({ sources: 'linky', jeedom: box, WATTBRIDGE_JEEDOM_OBJECT: 'Garage', WATTBRIDGE_SYNC_TARGETS: 'jeedom' });
  const dry = await wattbridge(['--json', 'jeedom', 'push', '--dry-run', '--since', SINCE], env);
  assert.equal(dry.code, 0, dry.stderr + dry.stdout);
  assert.ok(json(dry).jeedom.values > 0);
  assert.deepEqual([jeedom.eqLogics().length, jeedom.events()], [0, 0], 'a dry run creates and writes nothing');
  const run = await wattbridge(['--json', 'sync', '--since', SINCE], env);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.equal(json(run).jeedom.status, 'ok');
  assert.equal(json(run).energyid, undefined);
  const [eq] = jeedom.eqLogics();
  assert.equal(eq.object_id, '2');
  const text = await wattbridge(['sync', '--since', SINCE], env);
  assert.match(text.stdout, /jeedom {3}wrote 0 values/);

  // Someone disables the equipment and adds a command of their own: the next run
  // enables it again (events on a disabled one are dropped) and leaves their command.
  assert.equal((await rpc(box, 'eqLogic::save', { eqType_name: 'virtual', id: eq.id, isEnable: 0 })).result.isEnable, '0');
  assert.ok((await rpc(box, 'cmd::save', { eqType_name: 'virtual', eqLogic_id: eq.id, name: 'Mine', type: 'info', subType: 'numeric' })).result.id);
  const commands = jeedom.cmds(eq.id).length;
  assert.equal((await wattbridge(['sync', '--since', SINCE], env)).code, 0);
  assert.equal(jeedom.eqLogics()[0].isEnable, '1');
  assert.equal(jeedom.cmds(eq.id).length, commands);
  assert.ok(jeedom.cmds(eq.id).some((c) => c.name === 'Mine'));
});

test('Jeedom\'s nightly archive keeps the kWh to the Wh and every half-hour of the curve', async () => {
  const { jeedom, env } = await home({ sources: 'linky' });
  const since = daysAgo(4);
  const run = await wattbridge(['--json', 'jeedom', 'push', '--since', since], env);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  // Contract §7: rows older than 2 h are reduced per hour and rounded to
  // historizeRound, else to 2 decimals; historizeMode none keeps every point.
  jeedom.archive(Date.now() + DAY);
  const rows = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', since], env)).rows;
  const expected = expectedLinky(rows);
  const equipment = `wattbridge_linky_${M.household}`;
  assertSame(held(jeedom, equipment, 'consumption_load_curve'), expected.curve, 'load curve after the archive');
  assertSame(held(jeedom, equipment, 'daily_consumption'), expected.daily, 'daily kWh after the archive', 5e-4);
});

test('the stand-in answers as the contract says: bad envelopes, the key\'s access mode, numeric values, datetimes', async () => {
  const box = await sandbox();
  const endpoint = `${box.urls.jeedom.url}/core/api/jeeApi.php`;
  const post = (body, headers = {}) => fetch(endpoint, { method: 'POST', headers, body }).then(async (r) => ({ status: r.status, ...(await r.json()) }));
  // Not JSON, a batch, another version: HTTP 200 and a bad-jsonrpc error (−32000 − 1); no id → 99999.
  for (const body of ['not json', JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]), JSON.stringify({ jsonrpc: '1.0', id: 4, method: 'ping' })]) {
    const answer = await post(body);
    assert.equal(answer.status, 200, body);
    assert.equal(answer.error.code, -32001, body);
  }
  assert.equal((await post(JSON.stringify({ jsonrpc: '2.0', method: 'ping' }))).id, 99999);
  // The form field `request` and `?request=` carry the same JSON; `api` is `apikey`'s alias.
  const version = { jsonrpc: '2.0', id: 'v', method: 'version', params: { api: KEY } };
  assert.equal((await post(new URLSearchParams({ request: JSON.stringify(version) }).toString(), { 'content-type': 'application/x-www-form-urlencoded' })).result, '4.5.3');
  assert.equal((await fetch(`${endpoint}?request=${encodeURIComponent(JSON.stringify(version))}`).then((r) => r.json())).result, '4.5.3');
  // An empty result comes back as "ok".
  assert.equal((await rpc(box, 'eqLogic::byType', { type: 'virtual' })).result, 'ok');

  const eq = (await rpc(box, 'eqLogic::save', { eqType_name: 'virtual', name: 'Test', isEnable: '1' })).result;
  const cmd = (await rpc(box, 'cmd::save', { eqType_name: 'virtual', eqLogic_id: eq.id, name: 'kWh', type: 'info', subType: 'numeric', isHistorized: '1', configuration: { historizeRound: '1', maxValue: '100' } })).result;
  const event = (value, datetime) => rpc(box, 'cmd::event', { id: cmd.id, value, ...(datetime && { datetime }) });
  assert.equal((await event('1,26', '2026-01-01 00:00:00')).result, 'ok');
  await event('fifty', '2026-01-01 00:30:00');
  await event(250, '2026-01-01 01:00:00');
  assert.deepEqual(box.jeedom.history(cmd.id), [['2026-01-01 00:00:00', '1.3'], ['2026-01-01 00:30:00', '0'], ['2026-01-01 01:00:00', '100']], 'commas become dots, a non-number 0, then historizeRound and maxValue');
  // A datetime is `YYYY-MM-DD HH:MM:SS`, the box's local time: an ISO instant is refused, nothing written.
  assert.equal((await event(5, '2026-01-01T02:00:00Z')).error.code, -32000);
  assert.equal(box.jeedom.history(cmd.id).length, 3);
  assert.equal((await rpc(box, 'cmd::event', { id: '999', value: 1 })).error.code, -32702);
  const range = { id: cmd.id, startTime: '2026-01-01 00:00:00', endTime: '2026-01-01 00:59:59' };
  assert.deepEqual((await rpc(box, 'cmd::getHistory', range)).result.map((r) => [r.cmd_id, r.datetime, r.value]), [[cmd.id, '2026-01-01 00:00:00', '1.3'], [cmd.id, '2026-01-01 00:30:00', '0']]);
  assert.deepEqual((await rpc(box, 'cmd::getStatistique', range)).result, { avg: 0.65, min: 0, max: 1.3, sum: 1.3, count: 2, std: 0.65, variance: 0.42, last: 0 });
  assert.equal((await rpc(box, 'cmd::getStatistique', { ...range, id: '999' })).error.code, -32702);

  // The key's access mode: disabled (or an address it does not allow) is −32001; ping needs no key.
  box.jeedom.config.apiMode = 'disable';
  assert.equal((await rpc(box, 'version', {})).error.code, -32001);
  assert.equal((await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }))).result, 'pong');
  box.jeedom.config.apiMode = 'localhost';
  assert.equal((await rpc(box, 'version', {})).result, '4.5.3');
  box.jeedom.config.apiMode = 'whiteip';
  assert.equal((await rpc(box, 'version', {})).error.code, -32001, 'loopback is not on the (empty) white list');
});

test('a newcomer\'s mistakes: the API off for this machine, a URL that is not Jeedom\'s API, no key; `wattbridge sandbox` shows jeedom.url', async () => {
  const box = await sandbox({ jeedom: { apiMode: 'disable' } });
  const { env } = await home({ sources: 'linky', jeedom: box });
  const off = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], env);
  assert.equal(off.code, 3, off.stdout + off.stderr);
  assert.equal(json(off).jeedom.error.code, 'auth_required');
  assert.match(json(off).jeedom.error.message, /API is off for this key or this machine.*Settings → System → Configuration → API/);
  assert.doesNotMatch(json(off).jeedom.error.message, /refused the API key/, 'the key itself was right');

  // The box's address without /jeedom: the sandbox (like a web server) answers 404.
  const base = box.urls.jeedom.url.replace(/\/jeedom$/, '');
  const wrong = await wattbridge(['--json', 'jeedom', 'push', '--since', SINCE], { ...env, WATTBRIDGE_JEEDOM_URL: base });
  assert.equal(wrong.code, 2, wrong.stdout + wrong.stderr);
  assert.equal(json(wrong).jeedom.error.code, 'invalid_config');
  assert.ok(json(wrong).jeedom.error.message.includes(`404 at ${base}/core/api/jeeApi.php`), json(wrong).jeedom.error.message);

  const { WATTBRIDGE_JEEDOM_API_KEY: _, ...keyless } = env;
  const nokey = await wattbridge(['jeedom', 'push'], keyless);
  assert.equal(nokey.code, 2);
  assert.match(nokey.stderr, /Jeedom needs its API key/);
  assert.doesNotMatch(nokey.stderr, /check jeedom\.url/, 'the URL is not the problem');

  const child = spawn(process.execPath, [BIN, 'sandbox'], { env: { ...process.env, WATTBRIDGE_HOME: env.WATTBRIDGE_HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  for await (const chunk of child.stdout) if ((out += chunk).includes('Ctrl-C')) break;
  try {
    const url = out.match(/jeedom +jeedom\.url (\S+)/)?.[1];
    assert.ok(url, out);
    const pong = await fetch(`${url}/core/api/jeeApi.php`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) }).then((r) => r.json());
    assert.equal(pong.result, 'pong', 'the printed URL is the base the API hangs off');
    assert.ok(!out.includes(KEY), 'the key is in the README, not printed');
  } finally {
    child.kill('SIGTERM');
  }
});

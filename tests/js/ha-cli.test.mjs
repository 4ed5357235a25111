// `wattbridge ha statistics` and `sync` into Home Assistant, against the
// sandbox (Linky, Weheat, EnergyID) and the strict stand-in of HA's WebSocket
// API (ha-standin.mjs): the ≥ 2025.11 metadata, the old one, reruns, the
// errors and their exit codes, and a token that never shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M, SANDBOX_WEHEAT_USER, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from 'wattbridge/sandbox';
import { sandbox, scratchDir, runCli as wattbridge, hourlyWh, freePort } from './helpers.mjs';
import { startHaStandIn } from './ha-standin.mjs';

const SINCE = new Date(Date.now() - 8 * 86_400_000).toISOString().slice(0, 10);
const TOKEN = 'admin-token';
const CONSUMPTION = `wattbridge:linky_${M.household}_consumption`;
const COST = `wattbridge:linky_${M.household}_cost`;

const json = (run) => {
  assert.ok(run.stdout.trim(), `no output (exit ${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
};
/** The error of a --json run: the command's own, or Home Assistant's part of the report. */
const errorOf = (run) => {
  const report = json(run);
  return report.error ?? report.ha?.error;
};

/**
 * One sandbox for the file; a fresh home per test with Linky (Conso token) and Weheat (logged in).
 * Its Conso API does not ban: this file's tests send it a few hundred requests
 * from one address, a 2-year backfill among them (the ban has its own tests).
 */
const shared = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 }, linky: { consoLimitPer12h: 0 } });
async function home(ha, extra = {}) {
  const env = {
    WATTBRIDGE_HOME: await scratchDir(),
    WATTBRIDGE_LINKY_CONSO_API_URL: shared.urls.linky.consoApiUrl,
    WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN,
    WATTBRIDGE_LINKY_METER: M.household,
    WATTBRIDGE_LINKY_PRICE_BASE: '0.2',
    WATTBRIDGE_WEHEAT_AUTH_URL: shared.urls.weheat.newAuthUrl,
    WATTBRIDGE_WEHEAT_API_URL: shared.urls.weheat.newApiUrl,
    WATTBRIDGE_WEHEAT_BUDGET_PER_HOUR: '1000',
    WATTBRIDGE_HA_URL: ha?.url,
    WATTBRIDGE_HA_TOKEN: TOKEN,
    ...extra,
  };
  const login = await wattbridge(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], env, `${SANDBOX_WEHEAT_USER.password}\n`);
  assert.equal(login.code, 0, login.stderr);
  return { sb: shared, env };
}

const standIn = startHaStandIn;

test('a 2025.11 Home Assistant gets mean_type and unit_class, hourly rows equal to the curve, a cost row per hour, and a rerun imports nothing', async (t) => {
  const ha = await standIn({ version: '2025.11.0' });
  t.after(() => ha.close());
  const { env } = await home(ha);
  const first = await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], env);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const report = json(first);
  assert.equal(report.ha.status, 'ok');
  assert.equal(report.ha.schema, 'new');
  const ids = [...ha.db.keys()].sort();
  assert.ok(ids.includes(CONSUMPTION) && ids.includes(COST), ids.join());
  const pump = ids.find((id) => /^wattbridge:weheat_[a-z0-9_]+_heat$/.test(id));
  assert.ok(pump && ids.includes(pump.replace(/_heat$/, '_electricity')), ids.join());
  const energy = ha.db.get(CONSUMPTION).metadata;
  assert.deepEqual([energy.mean_type, energy.unit_class, energy.unit_of_measurement, energy.has_mean], [0, 'energy', 'kWh', undefined]);
  const money = ha.db.get(COST).metadata;
  assert.deepEqual([money.mean_type, money.unit_class, money.unit_of_measurement], [0, null, 'EUR']);
  assert.deepEqual(ha.warnings, [], 'no deprecation warning');

  // Every row: a whole UTC hour, the Wh of its two half-hours, a continuous sum.
  const curve = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', SINCE], env)).rows;
  const expected = hourlyWh(curve);
  const rows = ha.rows(CONSUMPTION);
  assert.equal(rows.length, expected.size);
  let sum = 0;
  for (const [ms, state, rowSum] of rows) {
    assert.equal(Math.round(state * 1000), expected.get(ms), new Date(ms).toISOString());
    sum += state;
    assert.ok(Math.abs(rowSum - sum) < 1e-6);
  }
  const cost = ha.rows(COST);
  assert.equal(cost.length, rows.length, 'a cost row for every hour');
  assert.ok(cost.every(([ms, state], i) => ms === rows[i][0] && Math.abs(state - rows[i][1] * 0.2) < 1e-6));

  const imports = ha.imports().length;
  const again = json(await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], env));
  assert.equal(again.ha.imported, 0, 'a rerun imports 0 rows');
  assert.equal(ha.imports().length, imports, 'and sends no import at all');
  assert.ok(again.ha.unchanged > 0, 'the correction window was compared');
});

test('a 2024.3.3 Home Assistant gets the six old keys; text output tells where the statistics appear', async (t) => {
  const ha = await standIn({ version: '2024.3.3' });
  t.after(() => ha.close());
  const { env } = await home(ha);
  const run = await wattbridge(['ha', 'statistics', '--since', SINCE], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /imported \d+ hourly rows/);
  assert.match(run.stdout, /Energy → add consumption/);
  assert.deepEqual(Object.keys(ha.db.get(CONSUMPTION).metadata).sort(), ['has_mean', 'has_sum', 'name', 'source', 'statistic_id', 'unit_of_measurement']);
});

test('the token goes to HA before the sources are fetched: a first backfill outlasts HA\'s 10-second auth window', async (t) => {
  // The stand-in closes an unauthenticated connection after 300 ms; fetching
  // two years of Linky takes longer than that. (Linky alone: the shared
  // sandbox's Weheat rate limit is kept for the other tests.)
  const ha = await standIn({ version: '2025.11.0', authTimeoutMs: 300 });
  t.after(() => ha.close());
  // Two years are ~122 requests: over the Conso API's 12-hour budget, lifted for this test.
  const { env } = await home(ha, { WATTBRIDGE_SYNC_SOURCES: 'linky', WATTBRIDGE_LINKY_CONSO_BUDGET: '200' });
  const since = new Date(Date.now() - 730 * 86_400_000).toISOString().slice(0, 10);
  const started = Date.now();
  const run = await wattbridge(['--json', 'ha', 'statistics', '--since', since], env);
  assert.ok(Date.now() - started > 300, 'the run outlasted the auth window');
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(json(run).ha.status, 'ok');
  assert.ok(json(run).ha.imported > 17_000, `two years of hourly rows: ${json(run).ha.imported}`);
});

test('errors: a refused token exits 3, a non-admin says so, HA down or busy exits 4 with nothing imported, an invalid_format is rejected with HA\'s words', async (t) => {
  const ha = await standIn({ version: '2025.11.0', tokens: { 'admin-token': { admin: true }, 'user-token': { admin: false } } });
  t.after(() => ha.close());
  const { env } = await home(ha);

  const wrong = await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], { ...env, WATTBRIDGE_HA_TOKEN: 'not-the-token-5f3a' });
  assert.equal(wrong.code, 3, wrong.stdout);
  assert.equal(errorOf(wrong).code, 'auth_required');
  assert.ok(!(wrong.stdout + wrong.stderr).includes('not-the-token-5f3a'), 'the token never shows');
  assert.equal(ha.db.size, 0);

  const user = await wattbridge(['ha', 'statistics', '--since', SINCE], { ...env, WATTBRIDGE_HA_TOKEN: 'user-token' });
  assert.equal(user.code, 3);
  // The import fails in the report: the run itself (sources, other targets) went on.
  assert.match(user.stdout, /ha +failed: .*not an administrator.*\[auth_required\]/);
  assert.ok(!(user.stdout + user.stderr).includes('user-token'));

  ha.faults.busy = true;
  const busy = await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], env);
  assert.equal(busy.code, 4, busy.stdout);
  ha.faults.busy = false;
  assert.equal(ha.db.size, 0, 'nothing imported');

  const closed = await freePort();
  const down = await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], { ...env, WATTBRIDGE_HA_URL: `http://127.0.0.1:${closed}` });
  assert.equal(down.code, 4, down.stdout);
  assert.equal(errorOf(down).code, 'network');

  const liar = await standIn({ version: '2025.11.0', schemaOf: '2024.3.3' });
  t.after(() => liar.close());
  const refused = await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], { ...env, WATTBRIDGE_HA_URL: liar.url });
  assert.equal(refused.code, 2, refused.stdout);
  const error = errorOf(refused);
  assert.equal(error.code, 'rejected');
  assert.match(error.message, /extra keys not allowed @ data\['metadata'\]\['mean_type'\]/);

  // Inside an add-on, ha.url unset: the Supervisor's proxy with SUPERVISOR_TOKEN (unreachable here).
  const addon = await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], { ...env, WATTBRIDGE_HA_URL: '', SUPERVISOR_TOKEN: 'supervisor-secret-9d2' });
  assert.equal(addon.code, 4, addon.stdout);
  assert.match(errorOf(addon).message, /Home Assistant at supervisor\b/);
  assert.ok(!(addon.stdout + addon.stderr).includes('supervisor-secret-9d2'));

  // The settings: the token is a secret (refused in -c), plain http only on loopback.
  const flag = await wattbridge(['-c', 'ha.token=abc-secret', 'ha', 'statistics'], env);
  assert.equal(flag.code, 2);
  assert.ok(!flag.stderr.includes('abc-secret'));
  const far = await wattbridge(['ha', 'statistics'], { ...env, WATTBRIDGE_HA_URL: 'http://homeassistant.example:8123' });
  assert.equal(far.code, 2);
  assert.match(far.stderr, /ha\.url/);
  const show = await wattbridge(['config', 'show'], env);
  assert.match(show.stdout, /ha\.token\s+\[redacted\]/);
  assert.ok(!show.stdout.includes(TOKEN));
});

test('sync feeds EnergyID and Home Assistant when both are configured, and sync.targets picks one', async (t) => {
  const ha = await standIn({ version: '2025.11.0' });
  t.after(() => ha.close());
  const { env } = await home(ha, {
    WATTBRIDGE_ENERGYID_HELLO_URL: shared.urls.energyid.helloUrl,
    WATTBRIDGE_ENERGYID_PROVISIONING_KEY: SANDBOX_PROVISIONING_KEY,
    WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: SANDBOX_PROVISIONING_SECRET,
  });
  const only = json(await wattbridge(['--json', '-c', 'sync.targets=ha', 'sync', '--since', SINCE], env));
  assert.equal(only.energyid, undefined);
  assert.ok(only.ha.imported > 0);
  const both = await wattbridge(['--json', 'sync', '--since', SINCE], env);
  assert.equal(both.code, 0, both.stdout);
  const report = json(both);
  assert.equal(report.energyid.status, 'ok');
  assert.ok(report.energyid.queued > 0);
  assert.equal(report.ha.imported, 0, 'HA already had it all');
  const bad = await wattbridge(['-c', 'sync.targets=energyid,zigbee', 'sync'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /zigbee/);
});

test('a meter without a load curve (hourly collection off) gets one row per day, at its first hour', async (t) => {
  const ha = await standIn({ version: '2025.11.0' });
  t.after(() => ha.close());
  const { env } = await home(ha, { WATTBRIDGE_LINKY_METER: M.nocollection, WATTBRIDGE_SYNC_SOURCES: 'linky' });
  const run = await wattbridge(['--json', 'ha', 'statistics', '--since', SINCE], env);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.deepEqual(json(run).sources.linky.series.at(-1), 'daily');
  const rows = ha.rows(`wattbridge:linky_${M.nocollection}_consumption`);
  const daily = json(await wattbridge(['--json', 'linky', 'fetch', 'daily', '--from', SINCE], env)).rows;
  assert.equal(rows.length, daily.length);
  for (const [i, [ms, state]] of rows.entries()) {
    assert.equal(ms, Date.parse(daily[i].start), 'at the Paris midnight of its day');
    assert.equal(Math.round(state * 1000), daily[i].value);
  }
});

test('the text output counts the holes kept as holes: one per gap in the curve', async (t) => {
  const ha = await standIn({ version: '2024.3.3' });
  t.after(() => ha.close());
  const { env } = await home(ha, { WATTBRIDGE_LINKY_METER: M.holes, WATTBRIDGE_SYNC_TARGETS: 'ha', WATTBRIDGE_SYNC_SOURCES: 'linky' });
  const run = await wattbridge(['ha', 'statistics', '--since', SINCE], env);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const curve = json(await wattbridge(['--json', 'linky', 'fetch', 'load-curve', '--from', SINCE], env)).rows;
  const gaps = curve.filter((row, i) => i > 0 && Date.parse(row.start) > Date.parse(curve[i - 1].end)).length;
  assert.ok(gaps > 0, 'the holes meter has gaps in these days');
  assert.match(run.stdout, new RegExp(`; ${gaps} holes? kept as holes until the source fills them`), run.stdout);
});

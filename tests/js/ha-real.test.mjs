// `wattbridge ha statistics` against a REAL Home Assistant 2024.3.3 (PyPI, in
// .venv-ha), with the sandbox as Linky and Weheat: the statistics are read
// back from HA's recorder. The holes meter has every 10th day missing and
// 10:00–11:00 missing on even days; both DST days of the last year are in range.
// Later the sandbox fills every hole, months-old ones included, and a wider
// --since brings older history.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M, SANDBOX_WEHEAT_USER } from 'wattbridge/sandbox';
import { sandbox, scratchDir, runCli as wattbridge, hourlyWh } from './helpers.mjs';
import { startHomeAssistant, skip } from './ha-real.mjs';

const HOUR = 3_600_000;
const METER = M.holes;
const CONSUMPTION = `wattbridge:linky_${METER}_consumption`;
const COST = `wattbridge:linky_${METER}_cost`;

/** The last Sunday of `month` (1-12) in `year`, as YYYY-MM-DD. */
const lastSunday = (year, month) => {
  const last = new Date(Date.UTC(year, month, 0));
  return new Date(last.getTime() - last.getUTCDay() * 86_400_000).toISOString().slice(0, 10);
};
/** The most recent past day of a DST change in `month`. */
const lastChange = (month) => {
  const year = new Date().getUTCFullYear();
  const day = lastSunday(year, month);
  return Date.parse(day) < Date.now() - 2 * 86_400_000 ? day : lastSunday(year - 1, month);
};
const SPRING = lastChange(3);
const AUTUMN = lastChange(10);
const SINCE = new Date(Math.min(Date.parse(SPRING), Date.parse(AUTUMN)) - 86_400_000).toISOString().slice(0, 10);
/** UTC instant of Paris midnight of a date (23:00 or 22:00 the day before). */
const parisMidnight = (date) => {
  const utc = Date.parse(`${date}T00:00:00Z`);
  const wall = new Date(utc).toLocaleString('sv-SE', { timeZone: 'Europe/Paris' }).replace(' ', 'T');
  return utc - (Date.parse(`${wall}Z`) - utc);
};
const addDays = (date, n) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

test('Linky and Weheat in a real Home Assistant: Wh-exact hourly rows, DST days, holes of any age refilled, older history first, reruns, cost, a wrong token', { skip, timeout: 600_000 }, async () => {
  const dir = await scratchDir('wattbridge-ha-');
  const ha = await startHomeAssistant(dir);
  after(() => ha.stop());
  assert.equal(ha.version, '2024.3.3');
  // Back to the last DST changes (up to a year), then 45 days more, with reruns and
  // refills: more Conso API requests than its 12-hour limit allows, lifted here
  // in the sandbox and in the client alike (both have tests of their own).
  const sb = await sandbox({ linky: { consoLimitPer12h: 0 } });
  const env = {
    WATTBRIDGE_HOME: await scratchDir(),
    WATTBRIDGE_LINKY_CONSO_API_URL: sb.urls.linky.consoApiUrl,
    WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN,
    WATTBRIDGE_LINKY_CONSO_BUDGET: '1000',
    WATTBRIDGE_LINKY_METER: METER,
    WATTBRIDGE_LINKY_TARIFF: 'hphc',
    WATTBRIDGE_LINKY_PRICE_HP: '0.25',
    WATTBRIDGE_LINKY_PRICE_HC: '0.2',
    WATTBRIDGE_LINKY_OFFPEAK_HOURS: '22:00-06:00',
    WATTBRIDGE_WEHEAT_AUTH_URL: sb.urls.weheat.newAuthUrl,
    WATTBRIDGE_WEHEAT_API_URL: sb.urls.weheat.newApiUrl,
    WATTBRIDGE_WEHEAT_BUDGET_PER_HOUR: '1000',
    WATTBRIDGE_HA_URL: ha.url,
    WATTBRIDGE_HA_TOKEN: ha.token,
  };
  const outputs = [];
  const run = async (args, extra = {}, stdin = '') => {
    const result = await wattbridge(args, { ...env, ...extra }, stdin);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const login = await run(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], {}, `${SANDBOX_WEHEAT_USER.password}\n`);
  assert.equal(login.code, 0, login.stderr);

  // A wrong token: exit 3, and nothing imported.
  const wrong = await run(['--json', 'ha', 'statistics', '--since', SINCE], { WATTBRIDGE_HA_TOKEN: 'not-a-valid-token' });
  assert.equal(wrong.code, 3, wrong.stdout + wrong.stderr);
  assert.equal((JSON.parse(wrong.stdout).error ?? JSON.parse(wrong.stdout).ha.error).code, 'auth_required');
  assert.deepEqual((await ha.statisticIds()).filter((id) => id.startsWith('wattbridge:')), []);

  const first = await run(['--json', 'ha', 'statistics', '--since', SINCE]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const report = JSON.parse(first.stdout);
  assert.equal(report.ha.schema, 'old', '2024.3.3 takes the old metadata');
  assert.equal(report.ha.written, true, 'the recorder had written the rows when the run ended');
  const ids = await ha.statisticIds();
  const heat = ids.find((id) => /^wattbridge:weheat_[a-z0-9_]+_heat$/.test(id));
  assert.ok(ids.includes(CONSUMPTION) && ids.includes(COST) && heat && ids.includes(heat.replace(/_heat$/, '_electricity')), ids.join());

  /** Check every consumption row against the source from `from` on, to the Wh; and cost row per row. */
  const check = async (from = SINCE) => {
    const curve = JSON.parse((await run(['--json', 'linky', 'fetch', 'load-curve', '--from', from])).stdout).rows;
    const expected = hourlyWh(curve);
    const held = await ha.rows([CONSUMPTION, COST, heat]);
    const rows = held[CONSUMPTION];
    assert.deepEqual(rows.map((r) => r.start), [...expected.keys()].sort((a, b) => a - b), 'a row for every whole hour of the source, none for a hole');
    let sum = 0;
    for (const row of rows) {
      assert.equal(Math.round(row.state * 1000), expected.get(row.start), `Wh of ${new Date(row.start).toISOString()}`);
      sum += row.state;
      assert.ok(Math.abs(row.sum - sum) < 1e-6, `the sum is continuous at ${new Date(row.start).toISOString()}`);
    }
    assert.equal(held[COST].length, rows.length, 'a cost row for every hour');
    assert.ok(held[heat].length > 0);
    return { rows, cost: held[COST], expected };
  };
  const before = await check();
  const day = (rows, date) => rows.filter((r) => r.start >= parisMidnight(date) && r.start < parisMidnight(addDays(date, 1)));
  assert.equal(day(before.rows, SPRING).length, 23, `${SPRING}: 23 rows`);
  assert.equal(day(before.rows, AUTUMN).length, 25, `${AUTUMN}: 25 rows, the repeated hour twice`);
  const plain = [addDays(SPRING, 1), addDays(SPRING, 2)].find((d) => Number(d.slice(8)) % 2 === 1 && Number(d.slice(8)) % 10 !== 0);
  assert.equal(day(before.cost, plain).length, 24, `${plain}: 24 cost rows, 23:00 included`);
  const off = day(before.cost, plain).filter((r, i) => Math.abs(r.state - day(before.rows, plain)[i].state * 0.2) < 1e-6).length;
  assert.equal(off, 8, 'eight off-peak hours priced at 0.20');

  // The holes: a 10th day has no row at all, and an even day lacks 10:00–11:00 (Paris).
  const tenth = addDays(SINCE, 15).slice(0, 8) + '10';
  assert.equal(day(before.rows, tenth).length, 0, `${tenth} has no rows, never zeros`);
  const even = addDays(tenth, 2);
  const tenOClock = parisMidnight(even) + 10 * HOUR;
  assert.ok(!day(before.rows, even).some((r) => r.start === tenOClock), 'the missing hour has no row');
  assert.equal(day(before.rows, even).length, 23);

  // A rerun adds nothing, and asks Enedis only for the correction window: no hole is asked again.
  const again = JSON.parse((await run(['--json', 'ha', 'statistics', '--since', SINCE])).stdout);
  assert.equal(again.ha.imported, 0, 'a rerun imports 0 rows');
  assert.ok(again.sources.linky.requests <= 2, `a rerun makes few requests: ${again.sources.linky.requests}`);
  assert.equal(again.ha.refillRequests, undefined, 'nothing new from Enedis: the holes are not asked again');
  assert.ok(again.ha.holes > 20, `the holes are recorded: ${again.ha.holes}`);
  assert.deepEqual((await ha.rows([CONSUMPTION]))[CONSUMPTION], before.rows);

  // Enedis fills its holes: the correction window (the last 3 days) is fetched again,
  // its hours appear; that news makes the older holes be asked again, months-old
  // ones included; they appear too, and every later sum follows.
  const recent = [1, 2, 3].map((n) => addDays(new Date().toISOString().slice(0, 10), -n));
  const holesBefore = recent.filter((d) => Number(d.slice(8)) % 2 === 0);
  sb.linky.fillHoles(METER);
  const refill = JSON.parse((await run(['--json', 'ha', 'statistics', '--since', SINCE])).stdout);
  assert.equal(refill.ha.status, 'ok', JSON.stringify(refill));
  const afterFill = await check();
  for (const date of holesBefore) {
    const hours = (parisMidnight(addDays(date, 1)) - parisMidnight(date)) / HOUR;
    assert.equal(day(afterFill.rows, date).length, hours, `${date} is whole now`);
  }
  assert.ok(holesBefore.length === 0 || refill.ha.imported > 0);
  assert.ok(refill.ha.refillRequests > 0, JSON.stringify(refill.ha));
  assert.ok(Date.now() - parisMidnight(tenth) > 60 * 86_400_000, `${tenth} is more than 60 days old`);
  const tenthHours = (parisMidnight(addDays(tenth, 1)) - parisMidnight(tenth)) / HOUR;
  assert.equal(day(afterFill.rows, tenth).length, tenthHours, `the old hole ${tenth} is filled`);
  assert.ok(day(afterFill.rows, even).some((r) => r.start === tenOClock), 'and the old missing hour');
  assert.equal(refill.ha.holes, 0, 'no hole left');
  const settled = JSON.parse((await run(['--json', 'ha', 'statistics', '--since', SINCE])).stdout);
  assert.equal(settled.ha.imported, 0, 'then a rerun imports 0 rows');

  // A wider --since: the older history goes before HA's first row, every later sum shifted.
  const firstBefore = afterFill.rows[0];
  const EARLIER = addDays(SINCE, -45);
  const wider = JSON.parse((await run(['--json', 'ha', 'statistics', '--since', EARLIER])).stdout);
  assert.equal(wider.ha.status, 'ok', JSON.stringify(wider));
  const widened = await check(EARLIER);
  assert.ok(widened.rows[0].start < firstBefore.start - 40 * 86_400_000, `older rows are there: ${new Date(widened.rows[0].start).toISOString()}`);
  const moved = widened.rows.find((r) => r.start === firstBefore.start);
  assert.ok(moved.sum > firstBefore.sum + 1, 'the sums after the older history are shifted by it');
  assert.equal(JSON.parse((await run(['--json', 'ha', 'statistics', '--since', EARLIER])).stdout).ha.imported, 0, 'a rerun imports 0 rows');

  for (const text of outputs) assert.ok(!text.includes(ha.token), 'the token never appears in output');
});

// `wattbridge weheat …` typed as a person would, against the sandbox's Keycloak
// realm and API, under both known issuer paths and API bases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SANDBOX_WEHEAT_USER, SANDBOX_WEHEAT_PUMPS as P } from 'wattbridge/sandbox';
import { sandbox, scratchDir } from './helpers.mjs';
// The sandbox's own generator: what the pump logged at a given minute.
import { pumpById, rawLog } from '../../js/sandbox/weheat-data.js';

/** The contract's state names (§2) for the state codes the sandbox logs. */
const STATE_NAMES = { 40: 'standby', 70: 'heating', 130: 'cooling', 150: 'hot water', 160: 'legionella prevention', 200: 'defrosting', 230: 'defrosting' };

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const sb = await sandbox();

function wattbridge(args, env, stdin = '') {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.stdin.end(stdin);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const json = (run) => {
  assert.equal(run.code, 0, run.stderr + run.stdout);
  return JSON.parse(run.stdout);
};

async function loggedIn({ newer = false, extra = {} } = {}) {
  const env = {
    WATTBRIDGE_HOME: await scratchDir(),
    WATTBRIDGE_WEHEAT_AUTH_URL: newer ? sb.urls.weheat.newAuthUrl : sb.urls.weheat.authUrl,
    WATTBRIDGE_WEHEAT_API_URL: newer ? sb.urls.weheat.newApiUrl : sb.urls.weheat.apiUrl,
    ...extra,
  };
  const login = await wattbridge(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], env, `${SANDBOX_WEHEAT_USER.password}\n`);
  assert.equal(login.code, 0, login.stderr);
  return env;
}

const log = async () => (await fetch(`${sb.url}/weheat/_sandbox/requests`)).json();
const reset = () => fetch(`${sb.url}/weheat/_sandbox/requests/reset`, { method: 'POST' });

for (const newer of [false, true]) {
  test(`${newer ? 'newer' : 'older'} issuer path and API base: login, pumps in ${newer ? 'paged' : 'plain-list'} form, latest of a hybrid`, async () => {
    const env = await loggedIn({ newer });
    const pumps = json(await wattbridge(['--json', 'weheat', 'pumps'], env));
    assert.deepEqual(pumps.map((p) => p.id).sort(), Object.values(P).sort());
    for (const pump of pumps) {
      assert.equal(pump.state, 3, 'the record is active');
      assert.ok(Number.isInteger(pump.status), `the last logged state of ${pump.id} (contract §2 status)`);
    }
    const hybrid = json(await wattbridge(['--json', 'weheat', 'latest', '--pump', P.hybrid], env));
    assert.equal(hybrid.dhwTop, null, 'no DHW tank on a hybrid');
    assert.equal(hybrid.room, null, '-1 room values mean none');
    // The state the sandbox logged at that minute, by name: never "unknown".
    const logged = rawLog(pumpById(P.hybrid), Date.parse(hybrid.timestamp));
    assert.equal(hybrid.state, logged.state);
    assert.ok(STATE_NAMES[logged.state], `the sandbox logged state ${logged.state}`);
    assert.equal(hybrid.stateName, STATE_NAMES[logged.state]);
    const text = await wattbridge(['weheat', 'latest'], env);
    assert.match(text.stdout, /Heat pump .*: (heating|standby|hot water|defrosting|cooling|legionella prevention)/);
  });
}

test('energy per day with COP, and the total equals the sum of the buckets', async () => {
  const env = await loggedIn({ newer: true });
  const to = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
  const from = new Date(to.getTime() - 3 * 86_400_000);
  const report = json(await wattbridge(['--json', 'weheat', 'energy', '--pump', P.blackbird, '--from', from.toISOString(), '--to', to.toISOString()], env));
  assert.equal(report.buckets.length, 3);
  const sum = (k) => report.buckets.reduce((s, b) => s + b[k], 0);
  assert.ok(Math.abs(report.total.electricityKwh - sum('electricityKwh')) < 1e-9);
  assert.ok(Math.abs(report.total.heatKwh - sum('heatKwh')) < 1e-9);
  assert.ok(Math.abs(report.total.cop - report.total.heatKwh / report.total.electricityKwh) < 1e-12);
  assert.ok(report.total.cop > 2 && report.total.cop < 5.5);
  const totals = json(await wattbridge(['--json', 'weheat', 'totals', '--pump', P.blackbird], env));
  assert.ok(totals.electricityKwh > report.total.electricityKwh);
});

test('logs over 9 hours take three 4-hour windows; aggregated logs one request', async () => {
  const env = await loggedIn({ newer: true });
  await reset();
  const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
  const from = new Date(to.getTime() - 9 * 3_600_000);
  const raw = json(await wattbridge(['--json', 'weheat', 'logs', '--pump', P.blackbird, '--from', from.toISOString(), '--to', to.toISOString()], env));
  assert.equal(raw.length, 9 * 60);
  const aggregated = json(await wattbridge(['--json', 'weheat', 'logs', '--pump', P.blackbird, '--from', from.toISOString(), '--to', to.toISOString(), '--interval', 'Hour'], env));
  assert.equal(aggregated.length, 9);
  const paths = (await log()).list.map((r) => r.path);
  assert.equal(paths.filter((p) => p.endsWith('/logs/raw')).length, 3);
  assert.equal(paths.filter((p) => p.endsWith('/logs')).length, 1);
});

test('the request budget is kept by the client: it refuses before Weheat has to', async () => {
  const env = await loggedIn({ extra: { WATTBRIDGE_WEHEAT_BUDGET_PER_HOUR: '4' } });
  await reset();
  // The login's users/me took one of the four.
  for (let i = 0; i < 3; i += 1) json(await wattbridge(['--json', 'weheat', 'pumps'], env));
  const refused = await wattbridge(['--json', 'weheat', 'pumps'], env);
  assert.equal(refused.code, 4, 'temporary: try later');
  const { error } = JSON.parse(refused.stdout);
  assert.equal(error.code, 'rate_limited');
  assert.ok(error.retryAfter > 0);
  assert.equal((await log()).total, 3, 'the fourth request never left');
});

test('503 is retried with backoff; an ended session asks for a new login', async () => {
  const env = await loggedIn();
  await fetch(`${sb.url}/weheat/_sandbox/unavailable?count=1`, { method: 'POST' });
  json(await wattbridge(['--json', 'weheat', 'pumps'], env));
  await fetch(`${sb.url}/weheat/_sandbox/end-sessions`, { method: 'POST' });
  // The session ends at Keycloak: the API answers 401, the refresh "Session not active".
  const ended = await wattbridge(['--json', 'weheat', 'pumps'], env);
  assert.equal(ended.code, 3);
  const { error } = JSON.parse(ended.stdout);
  assert.equal(error.code, 'auth_required');
  assert.match(error.message, /weheat login/);
});

test('watch prints JSON events within the budget', async () => {
  const env = await loggedIn({ newer: true });
  const run = await wattbridge(['--json', 'weheat', 'watch', '--duration', '2'], env);
  assert.equal(run.code, 0, run.stderr);
  const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(events[0].event, 'latest');
  assert.ok(events.some((e) => e.event === 'energy'));
  assert.ok(events.every((e) => e.event !== 'error'), run.stdout);
});

test('t2, the second hot-water sensor: a field of latest, null on a hybrid', async () => {
  const env = await loggedIn({ newer: true });
  const blackbird = json(await wattbridge(['--json', 'weheat', 'latest', '--pump', P.blackbird], env));
  const logged = rawLog(pumpById(P.blackbird), Date.parse(blackbird.timestamp));
  assert.equal(typeof logged.t2, 'number');
  assert.equal(blackbird.dhwBottom, logged.t2);
  assert.equal(blackbird.dhwTop, logged.t1);
  const hybrid = json(await wattbridge(['--json', 'weheat', 'latest', '--pump', P.hybrid], env));
  assert.ok('dhwBottom' in hybrid);
  assert.equal(hybrid.dhwBottom, null);
  const text = await wattbridge(['weheat', 'latest', '--pump', P.blackbird], env);
  assert.match(text.stdout, new RegExp(`hot-water tank top ${logged.t1.toFixed(1)} °C, bottom ${logged.t2.toFixed(1)} °C`));
});

test('energy from interval averages (average power × timeCoveredInInterval) matches the integral of the raw logs', async () => {
  const { energyFromWeheatLogs } = await import('wattbridge');
  const env = await loggedIn({ newer: true });
  const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
  const from = new Date(to.getTime() - 4 * 3_600_000);
  const args = ['--json', 'weheat', 'logs', '--pump', P.blackbird, '--from', from.toISOString(), '--to', to.toISOString()];
  const raw = json(await wattbridge(args, env));
  const hourly = json(await wattbridge([...args, '--interval', 'Hour'], env));
  assert.equal(raw.length, 4 * 60);
  assert.equal(hourly.length, 4);
  assert.ok(hourly.every((h) => h.timeCoveredInInterval === 3600));
  const integral = energyFromWeheatLogs(raw).energy;
  const averaged = energyFromWeheatLogs(hourly).energy;
  assert.ok(integral.electricityKwh > 0 && integral.heatKwh > 0, JSON.stringify(integral));
  // Averages come rounded to the hundredth of a watt: the two agree to a watt-hour.
  assert.ok(Math.abs(averaged.electricityKwh - integral.electricityKwh) < 0.001, `${averaged.electricityKwh} vs ${integral.electricityKwh}`);
  assert.ok(Math.abs(averaged.heatKwh - integral.heatKwh) < 0.001, `${averaged.heatKwh} vs ${integral.heatKwh}`);
  // And the command line shows each interval's energy.
  const text = await wattbridge(args.slice(1).concat(['--interval', 'Hour']), env);
  const first = energyFromWeheatLogs([hourly[0]]).energy;
  assert.match(text.stdout.split('\n')[0], new RegExp(`${first.electricityKwh.toFixed(3)} kWh in, ${first.heatKwh.toFixed(3)} kWh heat$`));
});

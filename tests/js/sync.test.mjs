// `wattbridge sync`: Linky and Weheat into EnergyID against the sandbox, and
// the reliability the main job promises: reruns, chaos, kill -9, a revoked
// consent, and two syncs at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SANDBOX_CONSO_TOKEN, SANDBOX_LINKY_METERS as M, SANDBOX_WEHEAT_USER, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from 'wattbridge/sandbox';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, scratchDir, until } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const SINCE = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);

function wattbridge(args, env, stdin = '') {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(stdin);
  const done = new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(done, { child });
}

const json = (run) => {
  assert.ok(run.stdout.trim(), `no output (exit ${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
};

/** A sandbox and a home with Linky (Conso token), Weheat (logged in) and EnergyID set up. */
async function household({ meter = M.household, sb: given } = {}) {
  const sb = given ?? (await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 } }));
  const env = {
    WATTBRIDGE_HOME: await scratchDir(),
    WATTBRIDGE_LINKY_CONSO_API_URL: sb.urls.linky.consoApiUrl,
    WATTBRIDGE_LINKY_CONSO_TOKEN: SANDBOX_CONSO_TOKEN,
    WATTBRIDGE_LINKY_METER: meter,
    WATTBRIDGE_WEHEAT_AUTH_URL: sb.urls.weheat.newAuthUrl,
    WATTBRIDGE_WEHEAT_API_URL: sb.urls.weheat.newApiUrl,
    WATTBRIDGE_WEHEAT_BUDGET_PER_HOUR: '1000',
    WATTBRIDGE_ENERGYID_HELLO_URL: sb.urls.energyid.helloUrl,
    WATTBRIDGE_ENERGYID_PROVISIONING_KEY: SANDBOX_PROVISIONING_KEY,
    WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: SANDBOX_PROVISIONING_SECRET,
    WATTBRIDGE_SYNC_LINKY_START_INDEX: '12000',
  };
  const login = await wattbridge(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], env, `${SANDBOX_WEHEAT_USER.password}\n`);
  assert.equal(login.code, 0, login.stderr);
  const { deviceId } = json(await wattbridge(['--json', 'energyid', 'status'], env));
  return { sb, env, deviceId };
}

const recordOf = (sb, deviceId) => sb.energyid.records().find((r) => r.deviceId === deviceId)?.readings ?? [];

test('a first sync backfills both sources as meter readings; a second one asks only the correction window and sends nothing again', async () => {
  const { sb, env, deviceId } = await household();
  const dry = json(await wattbridge(['--json', 'sync', '--since', SINCE, '--dry-run'], env));
  assert.ok(dry.energyid.wouldQueue > 0);
  assert.equal(sb.energyid.posts().length, 0, 'a dry run sends nothing');

  sb.linky.resetRequests();
  const first = json(await wattbridge(['--json', 'sync', '--since', SINCE], env));
  assert.equal(first.ok, true, JSON.stringify(first));
  assert.equal(first.sources.linky.status, 'ok');
  assert.equal(first.sources.weheat.status, 'ok');
  assert.equal(first.energyid.remaining, 0);
  const readings = recordOf(sb, deviceId);
  const el = readings.filter((r) => r.el !== undefined);
  assert.equal(el[0].el, 12000, 'the index starts from the given meter reading');
  assert.ok(el.every((r, i) => i === 0 || r.el >= el[i - 1].el), 'a cumulative index never goes down');
  assert.ok(el.length >= 19 * 48, `${el.length} half-hourly readings`);
  const heat = readings.filter((r) => r.heat !== undefined);
  assert.ok(heat.length >= 19 * 24 && heat.every((r) => r['el.heatpump'] !== undefined));
  assert.equal(sb.energyid.posts().length, Math.ceil(readings.length / 1000));

  sb.linky.resetRequests();
  const posts = sb.energyid.posts().length;
  const second = json(await wattbridge(['--json', 'sync', '--since', SINCE], env));
  assert.equal(second.ok, true);
  assert.equal(sb.linky.requests().total, 1, 'Linky: the 3-day correction window only');
  assert.equal(second.sources.linky.readings, 0);
  assert.ok(second.sources.weheat.requests <= 2);
  // Only readings of data that arrived meanwhile (a Weheat hour that just ended) may go out.
  assert.equal(second.energyid.queued, second.sources.linky.readings + second.sources.weheat.readings);
  assert.equal(sb.energyid.posts().length - posts, second.energyid.queued ? 1 : 0, 'nothing already delivered is sent again');
  assert.deepEqual(recordOf(sb, deviceId).slice(0, readings.length), readings);
});

test('a chaos sync (429, 5xx, resets, truncated bodies at all three services) ends with what a clean sync delivers', async () => {
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.1 } });
  const clean = await household({ sb });
  json(await wattbridge(['--json', 'sync', '--since', SINCE], clean.env));
  const chaos = await household({ sb });
  let seed = 11;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const kinds = [{ status: 429 }, { status: 500 }, { status: 503 }, { drop: true }, { truncate: true }];
  for (const service of [sb.linky, sb.weheat]) {
    for (let i = 0; i < 4; i += 1) service.faults.push(kinds[Math.floor(next() * kinds.length)]);
  }
  sb.energyid.failPosts(2, 500);
  sb.energyid.dropPosts(1, { afterRecording: true });
  let runs = 0;
  let report;
  do {
    runs += 1;
    report = json(await wattbridge(['--json', 'sync', '--since', SINCE, '--retry-blocked'], chaos.env));
  } while ((!report.ok || report.energyid.remaining > 0) && runs < 10);
  assert.ok(report.ok, `not done after ${runs} runs: ${JSON.stringify(report)}`);
  const cleanRecord = recordOf(sb, clean.deviceId);
  const last = cleanRecord.at(-1).ts;
  const chaosRecord = recordOf(sb, chaos.deviceId).filter((r) => r.ts <= last);
  assert.deepEqual(chaosRecord, cleanRecord);
});

test('kill -9 at a random point, then a rerun: the same final record', async () => {
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.3 } });
  const clean = await household({ sb });
  json(await wattbridge(['--json', 'sync', '--since', SINCE], clean.env));
  const victim = await household({ sb });
  const run = wattbridge(['sync', '--since', SINCE], victim.env);
  await new Promise((resolve) => setTimeout(resolve, 400 + Math.floor(Math.random() * 1500)));
  run.child.kill('SIGKILL');
  await run;
  const rerun = json(await wattbridge(['--json', 'sync', '--since', SINCE], victim.env));
  assert.equal(rerun.ok, true, JSON.stringify(rerun));
  const cleanRecord = recordOf(sb, clean.deviceId);
  const last = cleanRecord.at(-1).ts;
  assert.deepEqual(recordOf(sb, victim.deviceId).filter((r) => r.ts <= last), cleanRecord);
});

test('a revoked Linky consent stops that source with consent_required while Weheat still syncs, and is not retried each hour', async () => {
  const { sb, env } = await household({ meter: M.producer });
  sb.linky.revokeConsent(M.producer);
  const run = await wattbridge(['--json', 'sync', '--since', SINCE], env);
  assert.equal(run.code, 3, 'a person must act');
  const report = json(run);
  assert.equal(report.sources.linky.status, 'error');
  assert.equal(report.sources.linky.error.code, 'consent_required');
  assert.equal(report.sources.linky.retry, false);
  assert.equal(report.sources.weheat.status, 'ok');
  assert.ok(report.energyid.readings > 0);
  sb.linky.resetRequests();
  const again = json(await wattbridge(['--json', 'sync', '--since', SINCE], env));
  assert.equal(again.sources.linky.status, 'skipped');
  assert.equal(sb.linky.requests().total, 0, 'no request for a consent that is known to be gone');
  const status = await wattbridge(['status'], env);
  assert.match(status.stdout, /sync paused: .*consent/);
});

test('two syncs started together do not both run', async () => {
  // EnergyID allows a POST every 3 s and 30 days need two: the first sync
  // holds its lock for at least that long, whatever the machine's speed.
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 3 } });
  const { env } = await household({ sb });
  const since = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const first = wattbridge(['sync', '--since', since], env);
  const lock = join(env.WATTBRIDGE_HOME, 'state', 'sync.lock');
  await until(() => existsSync(lock), 'the first sync to take its lock');
  const second = await wattbridge(['sync', '--since', since], env);
  assert.equal(second.code, 4, second.stderr);
  assert.match(second.stderr, new RegExp(`another wattbridge sync is running \\(pid ${first.child.pid}`));
  const done = await first;
  assert.equal(done.code, 0, done.stderr);
  assert.ok(sb.energyid.posts().length >= 2, 'the first sync went on to the end');
});

// `wattbridge sync`: Linky and Weheat into EnergyID against the sandbox, and
// the reliability the main job promises: reruns, chaos, kill -9, a revoked
// consent, and two syncs at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_LINKY_METERS as M } from 'wattbridge/sandbox';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, runCli, sandboxHome, movableClock, ageConsoBudget } from './helpers.mjs';

const SINCE = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);

const wattbridge = runCli;

const json = (run) => {
  assert.ok(run.stdout.trim(), `no output (exit ${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
};

/** A sandbox and a home with Linky (Conso token), Weheat (logged in) and EnergyID set up. */
async function household({ meter = M.household, sb: given } = {}) {
  const sb = given ?? (await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 } }));
  const env = await sandboxHome(sb, { meter, WATTBRIDGE_SYNC_LINKY_START_INDEX: '12000' });
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

/**
 * Hold the requests of a sandbox service that `match(req, path)` picks: they
 * get no answer until the test is done with them. Resolves `reached` when the
 * `nth` one arrives, so a test can act while a client is known to be waiting
 * on it. `release()` restores the service and drops every held connection, or
 * with `{ answer: true }` lets the held requests through.
 */
function holdRequests(service, match, nth = 1) {
  const original = service.handle;
  const held = [];
  let seen = 0;
  let reached;
  const arrived = new Promise((resolve) => { reached = resolve; });
  service.handle = (req, res, path, ...rest) => {
    if (!path.startsWith('/_sandbox/') && match(req, path)) {
      seen += 1;
      if (seen >= nth) {
        reached(seen);
        return new Promise((resolve) => held.push({ res, answer: () => resolve(original.call(service, req, res, path, ...rest)) }));
      }
    }
    return original.call(service, req, res, path, ...rest);
  };
  return {
    reached: arrived,
    release({ answer = false } = {}) {
      service.handle = original;
      for (const request of held) {
        if (answer) request.answer();
        else request.res.socket?.destroy();
      }
    },
  };
}

// The kill lands at a known point, not after a random delay (which could fall
// after the process had finished): the sandbox holds a request the sync must
// make, and the process is killed while it waits for the answer.
const KILL_POINTS = [
  {
    name: 'during the Weheat fetch',
    // The first request for Weheat energy is held: no Weheat reading can exist anywhere yet.
    hold: (sb) => holdRequests(sb.weheat, (req, path) => path.includes('/energy-logs/')),
    atKill: ({ record, status }) => {
      assert.ok(record.every((r) => r.heat === undefined && r['el.heatpump'] === undefined), 'no Weheat reading was delivered');
      assert.notEqual(status.linky.series.find((x) => x.series === 'load-curve').lastDay, null, 'Linky had been fetched into the local history');
    },
  },
  {
    name: 'between two EnergyID uploads',
    // 200 readings per POST: the second POST is held, the first one was delivered.
    hold: (sb) => holdRequests(sb.energyid, (req, path) => req.method === 'POST' && path.startsWith('/webhook-in'), 2),
    atKill: ({ posts, delivered, record, status }) => {
      assert.equal(posts, 1, 'exactly one upload went through');
      assert.equal(delivered, 200, 'one batch of readings is in the record');
      assert.ok(status.energyid.outbox > 0, 'the rest waits in the outbox');
      assert.ok(record.some((r) => r.el !== undefined), 'Linky readings were among them');
    },
  },
];

for (const point of KILL_POINTS) {
  test(`kill -9 ${point.name}, then a rerun: the same final record as a clean run`, async () => {
    const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.3 } });
    const clean = await household({ sb });
    json(await wattbridge(['--json', 'sync', '--since', SINCE], clean.env));
    const cleanRecord = recordOf(sb, clean.deviceId);
    const victim = await household({ sb });
    const env = { ...victim.env, WATTBRIDGE_ENERGYID_BATCH_CAP: '200' };
    const hold = point.hold(sb);
    const run = wattbridge(['sync', '--since', SINCE], env);
    const first = await Promise.race([hold.reached.then(() => 'held'), run.then(() => 'exited')]);
    assert.equal(first, 'held', 'the sync reached the held request before it ended');
    run.child.kill('SIGKILL');
    const killed = await run;
    hold.release();
    assert.equal(killed.signal, 'SIGKILL', 'killed by the signal while it waited, not finished');
    assert.equal(killed.code, null);
    const posts = sb.energyid.posts().filter((p) => p.deviceId === victim.deviceId).length;
    const delivered = recordOf(sb, victim.deviceId).length;
    assert.ok(delivered < cleanRecord.length, `killed before the end: ${delivered} of ${cleanRecord.length} readings delivered`);
    const status = json(await wattbridge(['--json', 'status'], env));
    point.atKill({ posts, delivered, record: recordOf(sb, victim.deviceId), status });

    const rerun = json(await wattbridge(['--json', 'sync', '--since', SINCE], env));
    assert.equal(rerun.ok, true, JSON.stringify(rerun));
    assert.equal(rerun.energyid.remaining, 0);
    const last = cleanRecord.at(-1).ts;
    assert.deepEqual(recordOf(sb, victim.deviceId).filter((r) => r.ts <= last), cleanRecord);
  });
}

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

test('a sync that spends the Conso API budget stops Linky with rate_limited (exit 4) without pausing it or sending half of it; once the window has rolled the next sync asks only what is missing and delivers every reading once', async () => {
  const clock = movableClock();
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0.2 }, linky: { clock: clock.now, rateLimit: 0 } });
  const { env, deviceId } = await household({ sb });
  // 40 days of load curve are 7 windows; a budget of 5 makes that two runs.
  const since = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
  const small = { ...env, WATTBRIDGE_SYNC_SOURCES: 'linky', WATTBRIDGE_LINKY_CONSO_BUDGET: '5' };
  const first = await wattbridge(['--json', 'sync', '--since', since], small);
  assert.equal(first.code, 4, 'retry later');
  const linky = json(first).sources.linky;
  assert.deepEqual([linky.status, linky.error.code, linky.error.disposition, linky.retry], ['error', 'rate_limited', 'retry_later', true]);
  assert.ok(linky.error.retryAfter > 11.9 * 3600, `retryAfter ${linky.error.retryAfter}`);
  assert.match(linky.error.message, /budget of 5 \(linky\.conso_budget\) is spent: the fetch can continue after .*5 of 7 windows of load-curve are stored/);
  assert.equal(sb.linky.requests().total, 5);
  assert.equal(recordOf(sb, deviceId).filter((r) => r.el !== undefined).length, 0, 'half a backfill is not sent: the next run sends it whole');
  assert.ok(!existsSync(join(env.WATTBRIDGE_HOME, 'state', `${encodeURIComponent('sync/blocked/linky')}.json`)), 'not paused for a day: no person has to act');
  const text = await wattbridge(['sync', '--since', since], small);
  assert.equal(text.code, 4);
  assert.match(text.stdout, /linky +failed: .*budget of 5.*\[rate_limited\]$/m);
  assert.doesNotMatch(text.stdout, /not retried until you act/);
  assert.equal(sb.linky.requests().total, 5, 'a spent budget sends nothing');

  clock.advance(12 * 3600_000 + 60_000);
  await ageConsoBudget(env.WATTBRIDGE_HOME, 12 * 3600_000 + 60_000);
  const second = json(await wattbridge(['--json', 'sync', '--since', since], small));
  assert.equal(second.ok, true, JSON.stringify(second));
  // The 2 windows still missing, the correction window, and one probe that
  // finds this meter produces nothing.
  assert.equal(second.sources.linky.requests, 4);
  assert.equal(sb.linky.requests().total, 9);
  const el = recordOf(sb, deviceId).filter((r) => r.el !== undefined);
  assert.ok(el.length >= 39 * 48, `${el.length} half-hourly readings`);
  assert.equal(new Set(el.map((r) => r.ts)).size, el.length, 'each reading once');
  assert.equal(el[0].el, 12000, 'the index starts at the oldest half-hour, fetched by the second run');
});

test('two syncs at once do not both run: the second names the process that holds the lock', async () => {
  const { sb, env } = await household();
  // The first sync is held on its first Linky request, so it is surely running
  // (and holding the lock) when the second one starts, however busy the machine.
  const hold = holdRequests(sb.linky, () => true);
  const first = wattbridge(['sync', '--since', SINCE], env);
  assert.equal(await Promise.race([hold.reached.then(() => 'held'), first.then(() => 'exited')]), 'held');
  const second = await wattbridge(['sync', '--since', SINCE], env);
  hold.release({ answer: true });
  assert.equal(second.code, 4, second.stderr);
  assert.match(second.stderr, new RegExp(`another wattbridge sync is running \\(pid ${first.child.pid}\\b`));
  const done = await first;
  assert.equal(done.code, 0, done.stderr);
});

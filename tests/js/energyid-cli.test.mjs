// `wattbridge energyid …` typed as a person would, against the sandbox: the
// claim, batching and spacing measured at the sandbox, a chaos run, a kill -9
// in the middle of a flush, refused readings, and no secret in any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from 'wattbridge';
import { energyIdCliSetup, SANDBOX_PROVISIONING_SECRET } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const outputs = []; // everything any command printed, searched for secrets at the end

function wattbridge(args, env, { onStderr = () => {} } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; onStderr(String(chunk)); });
    child.on('exit', (code, signal) => {
      outputs.push(stdout, stderr);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return Object.assign(done, { child });
}

const ok = (run) => {
  assert.equal(run.code, 0, run.stderr + run.stdout);
  return run.stdout.trim().startsWith('{') ? JSON.parse(run.stdout) : run.stdout;
};

/** `n` half-hourly `el` readings as a wide CSV, a year back from 2025-01-01. */
async function halfHourCsv(dir, n, start = Date.UTC(2025, 0, 1) / 1000) {
  const rows = ['ts,el'];
  for (let i = 0; i < n; i += 1) rows.push(`${start + i * 1800},${(1000 + i * 0.25).toFixed(2)}`);
  const file = join(dir, 'readings.csv');
  await writeFile(file, `${rows.join('\n')}\n`);
  return file;
}

test('login shows the claim code and URL and waits until the person claims the device', async () => {
  const { env } = await energyIdCliSetup({ claimAfterHellos: null });
  const run = wattbridge(['energyid', 'login', '--poll', '0.2'], env, {
    onStderr: (text) => {
      const url = text.match(/open (\S+)/)?.[1];
      if (url) void fetch(url); // the person opens the claim page
    },
  });
  const result = await run;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /code [0-9A-F]{6}/);
  assert.match(result.stdout, /Claimed by record "Sandbox home \d+"/);
  const status = ok(await wattbridge(['--json', 'energyid', 'status'], env));
  assert.equal(status.claimed, true);
});

test('17,520 half-hourly readings go out in 18 POSTs, never closer than uploadInterval at the sandbox', async () => {
  const { sb, home, env } = await energyIdCliSetup({ uploadInterval: 0.2 });
  const file = await halfHourCsv(home, 17_520);
  const dry = ok(await wattbridge(['--json', 'energyid', 'import', file, '--dry-run'], env));
  assert.equal(dry.readings.length, 17_520);
  assert.equal(sb.energyid.posts().length, 0, 'a dry run sends nothing');
  const imported = ok(await wattbridge(['--json', 'energyid', 'import', file], env));
  assert.equal(imported.queued, 17_520);
  assert.equal(imported.requests, 1, 'one batch now, the rest when the policy allows');
  const flushed = ok(await wattbridge(['--json', 'energyid', 'flush'], env));
  assert.equal(flushed.remaining, 0);
  const posts = sb.energyid.posts();
  assert.equal(posts.length, Math.ceil(17_520 / 1000));
  assert.ok(posts.every((p) => p.count <= 1000));
  for (let i = 1; i < posts.length; i += 1) assert.ok(posts[i].at - posts[i - 1].at >= 200, `POSTs ${i - 1} and ${i} are ${posts[i].at - posts[i - 1].at} ms apart`);
  const [record] = sb.energyid.records();
  assert.equal(record.readings.length, 17_520);
});

test('a chaos run (500s, resets, lost answers, 429s) ends with every reading delivered exactly once', async () => {
  const { sb, home, env } = await energyIdCliSetup({ uploadInterval: 0.05 });
  const file = await halfHourCsv(home, 1500);
  const env100 = { ...env, WATTBRIDGE_ENERGYID_BATCH_CAP: '100' };
  ok(await wattbridge(['energyid', 'import', file], env100));
  // Deterministic "random" faults between the batches.
  let seed = 7;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 10; i += 1) {
    const r = next();
    if (r < 0.3) sb.energyid.failPosts(1, 500);
    else if (r < 0.5) sb.energyid.dropPosts(1);
    else if (r < 0.7) sb.energyid.dropPosts(1, { afterRecording: true });
    else sb.energyid.faults.push({ status: 429, retryAfter: 1, path: '/webhook-in' });
  }
  let runs = 0;
  let status;
  do {
    runs += 1;
    const run = await wattbridge(['--json', 'energyid', 'flush'], env100);
    assert.ok([0, 4].includes(run.code), `flush exited ${run.code}: ${run.stdout}`);
    status = ok(await wattbridge(['--json', 'energyid', 'status'], env100));
  } while (status.outbox > 0 && runs < 20);
  assert.equal(status.outbox, 0, `still ${status.outbox} queued after ${runs} runs`);
  const [record] = sb.energyid.records();
  assert.equal(record.readings.length, 1500, 'each (key, ts) once');
  const start = Date.UTC(2025, 0, 1) / 1000;
  assert.ok(record.readings.every((r, i) => r.ts === start + i * 1800 && r.el === Number((1000 + i * 0.25).toFixed(2))), 'exactly the values sent');
});

test('kill -9 in the middle of a flush loses nothing: the rerun delivers the rest', async () => {
  const { sb, home, env } = await energyIdCliSetup({ uploadInterval: 0.1 });
  const file = await halfHourCsv(home, 2000);
  const env100 = { ...env, WATTBRIDGE_ENERGYID_BATCH_CAP: '100' };
  ok(await wattbridge(['energyid', 'import', file], env100));
  const run = wattbridge(['energyid', 'flush'], env100);
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      if (sb.energyid.posts().length >= 8) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  run.child.kill('SIGKILL');
  const killed = await run;
  assert.equal(killed.signal, 'SIGKILL');
  const delivered = sb.energyid.records()[0].readings.length;
  assert.ok(delivered < 2000, 'killed before the end');
  // The state files are whole JSON documents, never half-written.
  const store = new FileStore(join(home, 'state'));
  JSON.parse(await readFile(store.pathOf('energyid/outbox'), 'utf8'));
  const rerun = ok(await wattbridge(['--json', 'energyid', 'flush'], env100));
  assert.equal(rerun.remaining, 0);
  const readings = sb.energyid.records()[0].readings;
  assert.equal(readings.length, 2000);
  assert.equal(new Set(readings.map((r) => r.ts)).size, 2000);
});

test('decreasing meter readings and non-numbers are refused with key, time and values named', async () => {
  const { env } = await energyIdCliSetup();
  ok(await wattbridge(['energyid', 'send', 'el=100', '--ts', '2026-01-01T00:00:00Z'], env));
  const down = await wattbridge(['--json', 'energyid', 'send', 'el=99.5', '--ts', '2026-01-01T00:30:00Z'], env);
  assert.equal(down.code, 2);
  const { error } = JSON.parse(down.stdout);
  assert.equal(error.code, 'invalid_input');
  assert.match(error.message, /'el'.*99\.5.*1767227400.*100.*1767225600/);
  const nan = await wattbridge(['energyid', 'send', 'el=NaN'], env);
  assert.equal(nan.code, 2);
  assert.match(nan.stderr, /value of el \('NaN'\) is not a number/);
  const unknown = await wattbridge(['energyid', 'send', 'elec=1'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown metric key 'elec'/);
  const status = ok(await wattbridge(['--json', 'energyid', 'status'], env));
  assert.equal(status.outbox, 0, 'a refused reading is never queued');
});

test('the webhook headers and provisioning secret never appear in any output', async () => {
  const { home, env } = await energyIdCliSetup();
  ok(await wattbridge(['-v', 'energyid', 'send', 'el=5', 'pv=2'], env));
  ok(await wattbridge(['-v', '--json', 'energyid', 'status'], env));
  await wattbridge(['-v', 'energyid', 'flush', '--max-wait', '0'], env);
  const state = JSON.parse(await readFile(new FileStore(join(home, 'state')).pathOf('energyid'), 'utf8'));
  const secrets = [SANDBOX_PROVISIONING_SECRET, ...Object.values(state.webhook.headers)];
  assert.ok(secrets.length >= 3);
  const printed = outputs.join('\n');
  assert.match(printed, /wattbridge debug: POST/, 'the verbose log was on');
  for (const secret of secrets) assert.ok(!printed.includes(secret), 'a secret leaked into the output');
});

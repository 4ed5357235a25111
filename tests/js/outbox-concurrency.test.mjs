// Issue 18.1: one outbox, three writers, flushes all the while. Two CLI
// processes (`energyid import` and `energyid send`, one after the other) and,
// in this process, the documented updateSensor + startAutoSync pattern push
// 10,000 readings into one state directory, while a third CLI process runs
// `energyid flush`. The EnergyID stand-in must end with every reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnergyId, FileStore } from 'wattbridge';
import { energyIdCliSetup, energyIdSettings } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));

/** Readings every 5 minutes from here; `el` rises with time, so any order of queuing is a valid meter. */
const T0 = Math.floor(Date.now() / 1000 / 86_400) * 86_400 - 60 * 86_400;
const STEP = 300;
const valueAt = (i) => 1000 + i * 0.25;
const reading = (i) => ({ ts: T0 + i * STEP, el: valueAt(i) });

function wattbridge(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--json', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.on('exit', (code) => resolve({ args, code, out }));
  });
}

/** One CLI "writer": rounds of an import of `perImport` readings, then a send of one, one process at a time. */
async function cliWriter({ env, dir, name, indices, perImport }) {
  const runs = [];
  for (let at = 0; at < indices.length; at += perImport + 1) {
    const imported = indices.slice(at, at + perImport);
    const file = join(dir, `${name}-${at}.csv`);
    await writeFile(file, `ts,el\n${imported.map((i) => `${T0 + i * STEP},${valueAt(i)}`).join('\n')}\n`);
    runs.push(await wattbridge(['energyid', 'import', file], env));
    const sent = indices[at + perImport];
    if (sent !== undefined) runs.push(await wattbridge(['energyid', 'send', `el=${valueAt(sent)}`, '--ts', String(T0 + sent * STEP)], env));
  }
  return runs;
}

test('two CLI processes and an in-process updateSensor/startAutoSync loop queue 10,000 readings while flushing: EnergyID gets every one', async () => {
  const { sb, home, env } = await energyIdCliSetup({ uploadInterval: 0 });
  // The same device for everyone: the CLI makes up its id and remembers it in the state directory.
  const first = await wattbridge(['energyid', 'status'], env);
  assert.equal(first.code, 0, first.out);
  const { deviceId } = JSON.parse(first.out);
  const energyid = new EnergyId(energyIdSettings(sb, { store: new FileStore(join(home, 'state')) }));
  assert.equal((await energyid.status()).deviceId, deviceId);

  // Readings 0..9999 dealt round-robin: writers 0 and 1 are the CLI processes, 2 is this process.
  const TOTAL = 10_000;
  const dealt = [[], [], []];
  for (let i = 0; i < TOTAL; i += 1) dealt[i % 3].push(i);

  const autoSyncErrors = [];
  energyid.startAutoSync(0.05, { onError: (err) => autoSyncErrors.push(err) });
  const inProcess = (async () => {
    // updateSensor for one reading in 100, enqueue for the rest (as a meter callback would batch them).
    for (let at = 0; at < dealt[2].length; at += 100) {
      const [single, ...rest] = dealt[2].slice(at, at + 100);
      await energyid.updateSensor('el', valueAt(single), T0 + single * STEP);
      if (rest.length) await energyid.enqueue(rest.map(reading));
    }
  })();
  const writers = [0, 1].map((w) => cliWriter({ env, dir: home, name: `writer${w}`, indices: dealt[w], perImport: 249 }));
  // A third process flushes while the others write.
  const flusher = new Promise((resolve) => setTimeout(resolve, 2000)).then(() => wattbridge(['energyid', 'flush', '--max-wait', '5'], env));

  const [runs0, runs1, flushRun] = await Promise.all([...writers, flusher]);
  await inProcess;
  energyid.stopAutoSync();
  for (const run of [...runs0, ...runs1, flushRun]) assert.equal(run.code, 0, `wattbridge ${run.args.join(' ')}: ${run.out}`);
  assert.deepEqual(autoSyncErrors, []);
  // Whatever is still queued (the last auto-sync may have run before the last writes) goes now.
  const last = await wattbridge(['energyid', 'flush'], env);
  assert.equal(last.code, 0, last.out);

  const record = sb.energyid.records().find((r) => r.deviceId === deviceId);
  const delivered = new Map(record.readings.map((r) => [r.ts, r.el]));
  const missing = [];
  for (let i = 0; i < TOTAL; i += 1) if (delivered.get(T0 + i * STEP) !== valueAt(i)) missing.push(i);
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${TOTAL} readings never reached EnergyID`);
  assert.equal(delivered.size, TOTAL);
  assert.equal((await energyid.status()).outbox, 0, 'the outbox ends empty');
});

test('`energyid send` waits while another process changes the outbox, then queues and sends', async () => {
  const { sb, home, env } = await energyIdCliSetup({ uploadInterval: 0 });
  const release = await new FileStore(join(home, 'state')).lock('energyid/outbox');
  let exited = false;
  const send = wattbridge(['energyid', 'send', 'el=1250.5', '--ts', String(T0)], env).then((run) => { exited = true; return run; });
  // Long enough for a send that does not wait to finish (it takes about a second).
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(exited, false, 'the send finished while the outbox was held');
  assert.equal(sb.energyid.posts().length, 0);
  await release();
  const run = await send;
  assert.equal(run.code, 0, run.out);
  assert.equal(JSON.parse(run.out).readings, 1);
  assert.equal(sb.energyid.posts().length, 1);
});

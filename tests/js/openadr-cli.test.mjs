// `wattbridge openadr run` as a person types it, against the real OpenLEADR VTN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './helpers.mjs';
import { startVtn, skip, makeCert, encryptKey } from './openadr-vtn.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const PASSPHRASE = 'battery staple 42';

/** The CLI as a child process, its stdout as JSON lines. */
function runCli(args, { stdin = '' } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { records: [], stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => {
    out.stdout += chunk;
    out.records = out.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  });
  child.stderr.on('data', (chunk) => { out.stderr += chunk; });
  child.stdin.end(stdin);
  out.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  out.child = child;
  return out;
}


test('openadr run: registers, answers an event by its rule, reports, stops cleanly on SIGINT', { skip, timeout: 90000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattbridge-openadr-cli-'));
  const venKeys = makeCert(dir, 'ven', 'ec');
  const key = encryptKey(venKeys.key, join(dir, 'ven-enc.key'), PASSPHRASE);
  const vtn = await startVtn();
  const cli = runCli([
    'openadr', 'run', '--vtn', vtn.url, '--ven-name', 'cli-ven', '--json',
    '--cert', venKeys.cert, '--key', key, '--passphrase-stdin',
    '--opt-out-if', 'signal>2', '--report-value', '7.5', '--report-interval', '1',
  ], { stdin: `${PASSPHRASE}\n` });
  try {
    const registered = await until(() => cli.records.find((r) => r.type === 'registered'), `registration (stderr: ${cli.stderr})`);
    assert.equal(registered.venId, 'ven-cli-ven');
    const report = await vtn.waitFor((r) => r.kind === 'register_report' && r.ven_id === 'ven-cli-ven');
    assert.deepEqual([report.resource_id, report.measurement, report.unit], ['main', 'RealPower', 'W']);
    assert.equal((await vtn.waitFor((r) => r.kind === 'report_value')).value, 7.5);

    await vtn.command({ cmd: 'event', event_id: 'ev-high', payload: 3 });
    assert.equal((await vtn.waitFor((r) => r.kind === 'event_response' && r.event_id === 'ev-high')).opt_type, 'optOut');
    await vtn.command({ cmd: 'event', event_id: 'ev-low', payload: 1 });
    assert.equal((await vtn.waitFor((r) => r.kind === 'event_response' && r.event_id === 'ev-low')).opt_type, 'optIn');
    const logged = cli.records.find((r) => r.type === 'event' && r.event.event_descriptor.event_id === 'ev-high');
    assert.equal(logged.opt, 'optOut');
    assert.equal(logged.event.event_signals[0].intervals[0].signal_payload, 3);
    assert.ok(cli.records.some((r) => r.type === 'reportSent' && r.values[0][1] === 7.5));

    cli.child.kill('SIGINT');
    assert.deepEqual(await cli.exited, { code: 0, signal: null });
    await vtn.waitFor((r) => r.kind === 'cancel_registration' && r.ven_id === 'ven-cli-ven');
    assert.equal(cli.records.at(-1).type, 'registrationCancelled');
  } finally {
    cli.child.kill('SIGKILL');
    await vtn.stop();
  }
  assert.ok(!cli.records.some((r) => r.type === 'error'), cli.stdout);
  const printed = cli.stdout + cli.stderr;
  assert.ok(!printed.includes(PASSPHRASE), 'the passphrase is never printed');
  assert.ok(!printed.includes('PRIVATE KEY') && !printed.includes(readFileSync(key, 'utf8').split('\n')[1]), 'no key material is printed');
});

test('openadr run: bad input exits 2 with a message, before any network', async () => {
  const rule = runCli(['openadr', 'run', '--vtn', 'http://127.0.0.1:9/x', '--ven-name', 'v', '--opt-out-if', 'price>2']);
  assert.equal((await rule.exited).code, 2);
  assert.match(rule.stderr, /--opt-out-if: expected a rule like signal>2/);
  const env = runCli(['openadr', 'run', '--vtn', 'http://127.0.0.1:9/x', '--ven-name', 'v', '--cert', 'a', '--key', 'b', '--passphrase-env', 'WATTBRIDGE_NO_SUCH_VARIABLE', '--json']);
  assert.equal((await env.exited).code, 2);
  assert.equal(JSON.parse(env.stdout).error.code, 'invalid_input');
});

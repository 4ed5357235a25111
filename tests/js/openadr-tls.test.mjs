// The VEN's TLS options (caFile, checkHostname; cert and key as the client
// certificate) against the real OpenLEADR VTN serving HTTPS as OpenLEADR does:
// its certificate from a throw-away CA made here, client certificates required,
// every message signed by the certificate the VEN registered over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAdrVen } from '../../js/node.js';
import { runCli } from './helpers.mjs';
import { startVtn, skip, makeCa } from './openadr-vtn.mjs';

let dir;
let ca;
let venKeys;
let vtnByIp; // its certificate names IP:127.0.0.1, the address the VEN uses
let vtnByName; // its certificate names only vtn.invalid

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'wattbridge-openadr-tls-'));
  ca = makeCa(dir);
  venKeys = ca.issue('ven', 'DNS:ven.invalid');
  [vtnByIp, vtnByName] = await Promise.all([
    startVtn({ tls: { ...ca.issue('vtn-ip', 'IP:127.0.0.1'), ca: ca.cert } }),
    startVtn({ tls: { ...ca.issue('vtn-name', 'DNS:vtn.invalid'), ca: ca.cert } }),
  ]);
});

after(async () => {
  await Promise.all([vtnByIp?.stop(), vtnByName?.stop()]);
});

async function readPem(path) {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

/** A signing VEN (cert and key, also its TLS client certificate) with one report every second. */
async function venFor(vtn, venName, tlsOptions) {
  const ven = new OpenAdrVen({ vtnUrl: vtn.url, venName, cert: await readPem(venKeys.cert), key: await readPem(venKeys.key), ...tlsOptions });
  ven.addReport(() => 12.5, { resourceId: 'meter1', measurement: 'powerReal', unit: 'W', samplingRate: 1 });
  return ven;
}

/** Registers, sends a report the VTN reads, cancels its registration on stop. */
async function assertWorks(vtn, venName, tlsOptions) {
  const ven = await venFor(vtn, venName, tlsOptions);
  const from = vtn.lines.length;
  try {
    assert.equal((await ven.start()).venId, `ven-${venName}`);
    await vtn.waitFor((r) => r.kind === 'registration' && r.ven_name === venName, { from });
    // The report is a signed message after registration: the VTN checked the signature and the client certificate.
    assert.equal((await vtn.waitFor((r) => r.kind === 'report_value', { from })).value, 12.5);
  } finally {
    await ven.stop();
  }
  await vtn.waitFor((r) => r.kind === 'cancel_registration' && r.ven_id === `ven-${venName}`, { from });
}

test('without caFile, a VTN certificate from an unknown authority is refused with a clear error', { skip, timeout: 60000 }, async () => {
  const ven = await venFor(vtnByIp, 'no-ca', {});
  await assert.rejects(ven.start(), (err) => {
    // Not 'network': retrying cannot fix it, a person must (a CA file).
    assert.equal(err.code, 'tls_certificate');
    assert.match(err.message, /could not reach 127\.0\.0\.1: its TLS certificate is not signed by an authority this program trusts \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
    return true;
  });
  assert.ok(!vtnByIp.lines.some((r) => r.kind === 'registration' && r.ven_name === 'no-ca'));
});

test('with caFile, the VEN registers over TLS and its reports arrive', { skip, timeout: 60000 }, async () => {
  await assertWorks(vtnByIp, 'with-ca', { caFile: ca.cert });
});

test('a certificate made out to another name is refused, unless checkHostname is false', { skip, timeout: 60000 }, async () => {
  const ven = await venFor(vtnByName, 'name-checked', { caFile: ca.cert });
  await assert.rejects(ven.start(), (err) => {
    assert.equal(err.code, 'tls_certificate');
    assert.match(err.message, /its TLS certificate is made out to another host name \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    return true;
  });
  await assertWorks(vtnByName, 'name-unchecked', { caFile: ca.cert, checkHostname: false });
});

test('checkHostname false does not skip the chain: an unknown authority is still refused', { skip, timeout: 60000 }, async () => {
  const ven = await venFor(vtnByName, 'no-ca-unchecked', { checkHostname: false });
  await assert.rejects(ven.start(), /not signed by an authority this program trusts/);
});

test('bad TLS options are clear errors before any connection', async () => {
  const cases = [
    [{ caFile: join(tmpdir(), 'wattbridge-no-such-ca.pem') }, /cannot read the CA file .*wattbridge-no-such-ca\.pem: ENOENT/],
    [{ caFile: new URL(import.meta.url).pathname }, /holds no PEM certificate/],
    [{ checkHostname: 'no' }, /checkHostname must be true or false, not "no"/],
  ];
  for (const [options, message] of cases) {
    const ven = new OpenAdrVen({ vtnUrl: 'https://127.0.0.1:9/OpenADR2/Simple/2.0b', venName: 'bad', ...options });
    await assert.rejects(ven.start(), (err) => {
      assert.equal(err.code, 'invalid_config');
      assert.match(err.message, message);
      return true;
    });
  }
});

test('openadr run: --no-check-hostname, and the CA file from WATTBRIDGE_OPENADR_CA_FILE', { skip, timeout: 60000 }, async () => {
  const from = vtnByName.lines.length;
  const env = { WATTBRIDGE_HOME: mkdtempSync(join(tmpdir(), 'wattbridge-openadr-tls-home-')), WATTBRIDGE_OPENADR_CA_FILE: ca.cert };
  const args = ['openadr', 'run', '--vtn', vtnByName.url, '--ven-name', 'cli-tls', '--json', '--cert', venKeys.cert, '--key', venKeys.key, '--report-interval', '1'];
  const refused = await runCli(args, env);
  // A person must act (--no-check-hostname, or the right URL): exit 3, not "retry later" (4).
  assert.equal(refused.code, 3, refused.stderr);
  const { error } = JSON.parse(refused.stdout);
  assert.equal(error.code, 'tls_certificate');
  assert.match(error.message, /made out to another host name/);

  const cli = runCli([...args, '--no-check-hostname'], env);
  try {
    await vtnByName.waitFor((r) => r.kind === 'registration' && r.ven_name === 'cli-tls', { from });
    await vtnByName.waitFor((r) => r.kind === 'report_value', { from });
    cli.child.kill('SIGINT');
    const { code, stdout } = await cli;
    assert.equal(code, 0);
    const records = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    assert.equal(records.find((r) => r.type === 'registered').venId, 'ven-cli-tls');
    assert.equal(records.at(-1).type, 'registrationCancelled');
  } finally {
    cli.child.kill('SIGKILL');
  }
});

test('openadr run --help documents the TLS options', async () => {
  const { code, stdout } = await runCli(['openadr', 'run', '--help'], {});
  assert.equal(code, 0);
  const help = stdout.replace(/\s+/g, ' ');
  assert.match(help, /--ca-file <file> PEM file of the CA certificates the VTN's TLS certificate must chain to/);
  assert.match(help, /--no-check-hostname accept a VTN certificate made out to another name/);
  assert.match(help, /openadr\.ca_file/);
});

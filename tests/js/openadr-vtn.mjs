// The OpenLEADR VTN (Python, from PyPI, installed in .venv-openleadr by
// scripts/setup.sh test) as a child process: JSON lines in both directions.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { freePort, skipPeers } from './helpers.mjs';

const root = new URL('../../', import.meta.url);
export const PYTHON = new URL('.venv-openleadr/bin/python', root).pathname;
export const available = existsSync(PYTHON);
/** Skip the peer tests only when asked (WATTBRIDGE_SKIP_PEERS=1). */
export const skip = skipPeers;

/**
 * @param {{cert?: string, key?: string, sampling?: 'offered', tls?: {cert: string, key: string, ca: string}}} [options]
 * `sampling: 'offered'`: request each report at the rate it offers (else every second);
 * `tls`: serve HTTPS with this certificate, requiring client certificates from `ca`
 */
export async function startVtn({ cert, key, sampling, tls } = {}) {
  if (!available) throw new Error(`the OpenLEADR VTN is not installed (${PYTHON}): run \`sh scripts/setup.sh test\``);
  const port = await freePort();
  const args = [new URL('tests/openadr/vtn.py', root).pathname, String(port)];
  if (cert) args.push('--cert', cert, '--key', key);
  if (sampling) args.push('--sampling', sampling);
  if (tls) args.push('--tls-cert', tls.cert, '--tls-key', tls.key, '--tls-ca', tls.ca);
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = new Set();
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let record;
      try { record = JSON.parse(line); } catch { continue; } // OpenLEADR's own banner lines
      lines.push(record);
      for (const waiter of waiters) waiter();
    }
  });
  /** Resolve with the first record (from `from` on) matching `predicate`. */
  const waitFor = (predicate, { timeout = 15000, from = 0 } = {}) => new Promise((resolve, reject) => {
    const check = () => {
      const found = lines.slice(from).find(predicate);
      if (found) { waiters.delete(check); clearTimeout(timer); resolve(found); }
    };
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`VTN: timed out; got ${JSON.stringify(lines)}\n${stderr.slice(-2000)}`)); }, timeout);
    waiters.add(check);
    check();
  });
  const send = (command) => child.stdin.write(`${JSON.stringify(command)}\n`);
  const ready = await waitFor((r) => r.kind === 'ready');
  return {
    url: ready.url, lines, waitFor, send,
    async command(command) {
      const from = lines.length;
      send(command);
      return waitFor((r) => (r.kind === 'done' || r.kind === 'command_failed') && r.cmd === command.cmd, { from });
    },
    async stop() { child.kill('SIGTERM'); await new Promise((resolve) => child.once('exit', resolve)); },
  };
}

/** A throw-away self-signed certificate and key (openssl CLI), `kind` 'rsa' or 'ec'. */
export function makeCert(dir, name, kind) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const algorithm = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...algorithm, '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`], { stdio: 'ignore' });
  return { key, cert };
}

/**
 * A throw-away certificate authority (openssl CLI, EC P-256, valid one day)
 * and `issue(name, san)`: a certificate and key it signs, made out to `san`
 * (e.g. 'IP:127.0.0.1' or 'DNS:vtn.invalid').
 */
export function makeCa(dir) {
  const ca = makeCert(dir, 'throwaway-ca', 'ec');
  return {
    cert: ca.cert,
    issue(name, san) {
      const key = join(dir, `${name}.key`);
      const request = join(dir, `${name}.csr`);
      const cert = join(dir, `${name}.crt`);
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', request, '-subj', `/CN=${name}`], { stdio: 'ignore' });
      const extensions = join(dir, `${name}.ext`);
      writeFileSync(extensions, `subjectAltName=${san}\n`);
      execFileSync('openssl', ['x509', '-req', '-in', request, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', extensions], { stdio: 'ignore' });
      return { cert, key };
    },
  };
}

/** OpenADR's fingerprint of a PEM certificate: last 10 bytes of the DER's SHA-256. */
export function fingerprint(certPath) {
  const der = execFileSync('openssl', ['x509', '-in', certPath, '-outform', 'DER']);
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
  return [...digest.subarray(22)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

/** Encrypt a PEM key as PKCS#8 (PBES2, AES-256-CBC); the passphrase goes through the environment, not argv. */
export function encryptKey(keyPath, outPath, passphrase) {
  execFileSync('openssl', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', keyPath, '-out', outPath, '-passout', 'env:WATTBRIDGE_TEST_PASSPHRASE'], { env: { ...process.env, WATTBRIDGE_TEST_PASSPHRASE: passphrase } });
  return outPath;
}

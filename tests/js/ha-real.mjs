// A real Home Assistant (homeassistant==2024.3.3 from PyPI, installed in
// .venv-ha by `scripts/setup.sh test`) on loopback for the end-to-end tests:
// a minimal configuration.yaml, onboarded through its REST API, a long-lived
// token from its WebSocket API, and the recorder's statistics read back.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { freePort, skipPeers } from './helpers.mjs';

const root = new URL('../../', import.meta.url);
export const HASS = new URL('.venv-ha/bin/hass', root).pathname;

/** Skip only when asked (WATTBRIDGE_SKIP_PEERS=1). */
export const skip = skipPeers;

/** One WebSocket exchange helper: auth, then numbered commands. */
async function connect(url, accessToken) {
  const socket = new WebSocket(url);
  const frames = [];
  const waiting = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    const next = waiting.shift();
    if (next) next(frame);
    else frames.push(frame);
  });
  const receive = () => (frames.length ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiting.push(resolve)));
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
  const hello = await receive();
  socket.send(JSON.stringify({ type: 'auth', access_token: accessToken }));
  const auth = await receive();
  if (auth.type !== 'auth_ok') throw new Error(`HA refused the test's token: ${JSON.stringify(auth)}`);
  let id = 0;
  return {
    version: hello.ha_version,
    async call(type, fields = {}) {
      id += 1;
      socket.send(JSON.stringify({ id, type, ...fields }));
      for (;;) {
        const frame = await receive();
        if (frame.id !== id || frame.type !== 'result') continue;
        if (!frame.success) throw new Error(`${type}: ${JSON.stringify(frame.error)}`);
        return frame.result;
      }
    },
    close: () => socket.close(),
  };
}

/**
 * Start Home Assistant in `dir` on a free port, wait for its API (60 s at
 * most; its log in the error otherwise), onboard an owner and make a
 * long-lived token. `stop()` ends it. `extraConfig`: more lines of
 * configuration.yaml (e.g. `config:` for the config-flow API).
 */
export async function startHomeAssistant(dir, { extraConfig = [] } = {}) {
  if (!existsSync(HASS)) throw new Error(`Home Assistant is not installed (${HASS}): run \`sh scripts/setup.sh test\``);
  const port = await freePort();
  const config = join(dir, 'config');
  await mkdir(config, { recursive: true });
  await writeFile(join(config, 'configuration.yaml'), [
    'homeassistant:',
    '  name: wattbridge test',
    '  time_zone: Europe/Paris',
    '  currency: EUR',
    '  country: FR',
    '  unit_system: metric',
    '  latitude: 48.85',
    '  longitude: 2.35',
    '  elevation: 35',
    'http:',
    '  server_host: 127.0.0.1',
    `  server_port: ${port}`,
    'api:',
    'websocket_api:',
    'onboarding:',
    'recorder:',
    '  commit_interval: 0',
    ...extraConfig,
    '',
  ].join('\n'));
  // --skip-pip: setup installed the integrations' requirements (tests/ha/requirements.py); HA must not reach PyPI.
  const child = spawn(HASS, ['-c', config, '--skip-pip'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk) => { log += chunk; });
  child.stderr.on('data', (chunk) => { log += chunk; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // Never outlive the test process, whatever ends it.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  exited.then(() => process.off('exit', orphan));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const fail = async (what) => {
    await stop();
    throw new Error(`Home Assistant ${what}; its log:\n${log.slice(-6000)}`);
  };

  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) return fail(`exited with ${child.exitCode} before its API answered`);
    if (Date.now() - started > 60_000) return fail('did not answer on /api/ within 60 s');
    const status = await fetch(`${base}/api/`).then((r) => r.status, () => 0);
    if (status === 401) break; // up, and asking for a token
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const startSeconds = (Date.now() - started) / 1000;

  const clientId = `${base}/`;
  const onboarding = await fetch(`${base}/api/onboarding/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, name: 'Test Owner', username: 'owner', password: 'owner-password-1', language: 'en' }),
  });
  if (!onboarding.ok) return fail(`refused onboarding (${onboarding.status} ${await onboarding.text()})`);
  const { auth_code: code } = await onboarding.json();
  const tokenAnswer = await fetch(`${base}/auth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: clientId }),
  });
  if (!tokenAnswer.ok) return fail(`refused the auth code (${tokenAnswer.status})`);
  const { access_token: accessToken } = await tokenAnswer.json();
  const admin = await connect(`ws://127.0.0.1:${port}/api/websocket`, accessToken);
  const token = await admin.call('auth/long_lived_access_token', { client_name: 'wattbridge', lifespan: 3650 });

  return {
    url: base,
    token,
    version: admin.version,
    startSeconds,
    log: () => log,
    /** Hourly rows of statistics as HA holds them: `{id: [{start (ms), state, sum}]}`. */
    async rows(ids, fromMs = 0) {
      const result = await admin.call('recorder/statistics_during_period', {
        start_time: new Date(fromMs).toISOString(), statistic_ids: ids, period: 'hour', types: ['sum', 'state'],
      });
      return Object.fromEntries(ids.map((id) => [id, (result[id] ?? []).map((r) => ({ start: Number(r.start), state: r.state, sum: r.sum }))]));
    },
    async statisticIds() {
      return (await admin.call('recorder/list_statistic_ids', { statistic_type: 'sum' })).map((s) => s.statistic_id);
    },
    async stop() {
      admin.close();
      await stop();
    },
  };
}

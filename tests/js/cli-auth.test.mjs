// `wattbridge linky login|logout` and `wattbridge weheat login|logout` typed
// as a person would, against the sandbox services.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANDBOX_WEHEAT_USER, SANDBOX_METERS } from 'wattbridge/sandbox';
import { sandbox, scratchDir } from './helpers.mjs';

const BIN = fileURLToPath(new URL('../../js/cli/main.js', import.meta.url));
const FAKE_BROWSER = fileURLToPath(new URL('./programs/fake-browser.mjs', import.meta.url));
const sb = await sandbox();

/** Run the CLI; `onStderr(text)` sees the prompts as they come. */
function wattbridge(args, { env = {}, stdin = '', onStderr = () => {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; onStderr(String(chunk)); });
    child.stdin.end(stdin);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function home() {
  const dir = await scratchDir();
  return {
    dir,
    env: {
      WATTBRIDGE_HOME: dir,
      WATTBRIDGE_LINKY_GATEWAY_URL: sb.urls.linky.gatewayUrl,
      WATTBRIDGE_WEHEAT_AUTH_URL: sb.urls.weheat.authUrl,
      WATTBRIDGE_WEHEAT_API_URL: sb.urls.weheat.apiUrl,
      BROWSER: FAKE_BROWSER,
    },
  };
}

const stateFiles = async (dir) => readdir(join(dir, 'state')).catch(() => []);

test('linky login shows the code like gh auth login, waits for consent, keeps the meters', async () => {
  const { dir, env } = await home();
  const run = await wattbridge(['linky', 'login'], {
    env,
    onStderr: (text) => {
      const url = text.match(/or open (\S+), which/)?.[1];
      if (url) fetch(url); // the person consents at Enedis
    },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /! First copy your one-time code: [A-Z]{4}-[A-Z]{4}/);
  assert.equal(run.stdout.trim(), `Logged in to Linky. Meters in this consent: ${SANDBOX_METERS.join(', ')}.`);
  assert.deepEqual(await stateFiles(dir), ['tokens%2Flinky.json']);
  assert.equal((await stat(join(dir, 'state', 'tokens%2Flinky.json'))).mode & 0o777, 0o600);

  const out = await wattbridge(['--json', 'linky', 'logout'], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), { provider: 'linky', loggedIn: false });
  assert.deepEqual(await stateFiles(dir), []);
});

test('weheat login with --password-stdin: the password is used once, never shown or stored', async () => {
  const { dir, env } = await home();
  const run = await wattbridge(['--json', 'weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], {
    env,
    stdin: `${SANDBOX_WEHEAT_USER.password}\n`,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).scopes, ['openid', 'offline_access']);
  const { readFile } = await import('node:fs/promises');
  const stored = await readFile(join(dir, 'state', 'tokens%2Fweheat.json'), 'utf8');
  assert.ok(!`${run.stdout}${run.stderr}${stored}`.includes(SANDBOX_WEHEAT_USER.password));

  const wrong = await wattbridge(['weheat', 'login', '--username', SANDBOX_WEHEAT_USER.username, '--password-stdin'], { env, stdin: 'wrong-password\n' });
  assert.equal(wrong.code, 3, 'a person must act');
  assert.match(wrong.stderr, /weheat refused the username or password .*\[invalid_credentials\]/);
  assert.ok(!wrong.stderr.includes('wrong-password'));
});

test('weheat login opens the browser on the PKCE URL and catches the redirect on 127.0.0.1', async () => {
  const { dir, env } = await home();
  const run = await wattbridge(['weheat', 'login'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Opening your browser to log in\. If it does not open, visit:\n  http:\/\/127\.0\.0\.1:\d+\/weheat\/auth\/realms\/Weheat\/protocol\/openid-connect\/auth\?response_type=code/);
  assert.match(run.stdout, /Logged in to Weheat as .+ \(offline access/);
  // The tokens, and the request budget the login's users/me call used.
  assert.deepEqual((await stateFiles(dir)).sort(), ['tokens%2Fweheat.json', 'weheat%2Fbudget.json']);

  const out = await wattbridge(['weheat', 'logout'], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(await stateFiles(dir), ['weheat%2Fbudget.json'], 'the tokens are gone; the budget still counts');
});

test('an unreachable gateway exits 4 (try later) with the host named', async () => {
  const { env } = await home();
  const run = await wattbridge(['linky', 'login'], { env: { ...env, WATTBRIDGE_LINKY_GATEWAY_URL: 'http://127.0.0.1:9' } });
  assert.equal(run.code, 4);
  assert.match(run.stderr, /could not reach 127\.0\.0\.1.*\[network\]/);
  const insecure = await wattbridge(['linky', 'login'], { env: { ...env, WATTBRIDGE_LINKY_GATEWAY_URL: 'http://enedis.example' } });
  assert.equal(insecure.code, 2);
  assert.match(insecure.stderr, /only loopback hosts may use http.*\(linky\.gateway_url is set by WATTBRIDGE_LINKY_GATEWAY_URL\)/);
});

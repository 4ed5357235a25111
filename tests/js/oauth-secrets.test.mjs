// Every flow with debug logging on: no token, code or password appears in
// stdout, stderr or error messages; only the 0600 token files hold tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startOidcProvider, approveInBrowser, deviceApproved, CLIENTS, PASSWORD_USER } from './oidc-peer.mjs';
import { scratchDir, launchChromium } from './helpers.mjs';

const PROGRAM = fileURLToPath(new URL('./programs/oauth-flows.mjs', import.meta.url));
const WRONG_PASSWORD = 'not-the-password-1234';

test('no secret in any output of any flow, debug log included', async () => {
  const op = await startOidcProvider();
  const stateDir = await scratchDir();
  const browser = await launchChromium();

  const child = spawn(process.execPath, [PROGRAM], {
    env: {
      ...process.env,
      WATTBRIDGE_DEBUG: '1',
      STATE_DIR: stateDir,
      PEER: JSON.stringify({ endpoints: op.endpoints, settings: Object.fromEntries(Object.entries(CLIENTS).map(([k, id]) => [k, op.settings(id)])), user: PASSWORD_USER, wrongPassword: WRONG_PASSWORD }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const stdout = [];
  for await (const line of createInterface({ input: child.stdout })) {
    stdout.push(line);
    const [, kind, url] = line.match(/^(APPROVE|APPROVE-PKCE): (.*)$/) ?? [];
    if (kind === 'APPROVE') await approveInBrowser(await browser.newPage(), url, deviceApproved);
    if (kind === 'APPROVE-PKCE') {
      const redirect = new URL(url).searchParams.get('redirect_uri');
      await approveInBrowser(await browser.newPage(), url, async (page) => page.url().startsWith(redirect));
    }
  }
  const output = `${stdout.join('\n')}\n${stderr}`;
  assert.ok(stdout.includes('DONE'), output);

  // The flows really ran: logged in three ways, called the API, refreshed, logged out.
  for (const expected of ['password login: {"loggedIn":true', 'wrong password failed: WattbridgeError invalid_credentials', 'userinfo with refresh: {"status":200', 'device userinfo: {"status":200', 'pkce userinfo: {"status":200', 'after logout failed: WattbridgeError auth_required']) {
    assert.ok(output.includes(expected), `missing "${expected}" in:\n${output}`);
  }
  assert.match(stderr, /wattbridge debug: POST http:\/\/127\.0\.0\.1:\d+\/token -> 200/, 'the debug log was on');

  const secrets = [...op.issued, PASSWORD_USER.password, WRONG_PASSWORD];
  assert.ok(op.issued.size >= 6, `tokens issued: ${op.issued.size}`);
  for (const secret of secrets) {
    assert.ok(!output.includes(secret), `a secret leaked into the output:\n${output}`);
  }

  // The token files are where tokens live, and they are private.
  const files = await readdir(stateDir);
  assert.ok(files.some((f) => f.startsWith('tokens%2Fdevice')), files.join());
  for (const file of files) {
    assert.equal((await stat(join(stateDir, file))).mode & 0o777, 0o600, file);
    const text = await readFile(join(stateDir, file), 'utf8');
    assert.ok(!text.includes(PASSWORD_USER.password), `${file} holds the password`);
  }
});

// Every OAuth flow against a real OpenID provider (oidc-provider from npm),
// through the package as a user imports it. The person's side (entering the
// code, signing in, consenting) is played by headless Chromium.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OAuthClient, FileStore, MemoryStore, WattbridgeError, startLoopbackReceiver } from 'wattbridge';
import { startOidcProvider, approveInBrowser, deviceApproved, CLIENTS, PASSWORD_USER } from './oidc-peer.mjs';
import { scratchDir, launchChromium } from './helpers.mjs';

const op = await startOidcProvider({ accessTokenTtl: 600 });
const browser = await launchChromium();

function client(clientId, extra = {}) {
  return new OAuthClient({ ...op.settings(clientId), store: new MemoryStore(), ...extra });
}

async function me(oauth) {
  const answer = await oauth.fetch(op.endpoints.userinfo);
  assert.equal(answer.status, 200, answer.body);
  return JSON.parse(answer.body);
}

async function rawRefresh(clientId, refreshToken) {
  const answer = await fetch(op.endpoints.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }),
  });
  return { status: answer.status, body: await answer.json() };
}

async function tokenFile(dir) {
  const [file] = (await readdir(dir)).filter((f) => f.startsWith('tokens'));
  return join(dir, file);
}

async function storedTokens(dir) {
  return JSON.parse(await readFile(await tokenFile(dir), 'utf8'));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('password grant: log in, call the API, refresh with rotation, log out', async () => {
  const dir = await scratchDir();
  // A margin longer than the token's life: every accessToken() refreshes.
  const oauth = client(CLIENTS.password, { store: new FileStore(dir), refreshMarginSecs: 3600 });
  const status = await oauth.loginWithPassword(PASSWORD_USER);
  assert.equal(status.loggedIn, true);
  assert.equal(status.hasRefreshToken, true);
  assert.deepEqual(status.scopes, ['openid', 'offline_access']);
  assert.ok(!JSON.stringify(await storedTokens(dir)).includes(PASSWORD_USER.password), 'the password is never stored');

  const first = await storedTokens(dir);
  assert.deepEqual(await me(oauth), { sub: PASSWORD_USER.username });
  const second = await storedTokens(dir);
  assert.notEqual(second.refreshToken, first.refreshToken, 'the provider rotated the refresh token and we kept the new one');
  assert.deepEqual(await me(oauth), { sub: PASSWORD_USER.username }, 'the kept refresh token works');

  await oauth.logout();
  assert.equal((await oauth.status()).loggedIn, false);
  assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('tokens')), []);
  const afterLogout = await rawRefresh(CLIENTS.password, second.refreshToken);
  assert.equal(afterLogout.body.error, 'invalid_grant', 'logout revoked the session at the provider');
});

test('replaying a rotated refresh token makes the provider end the session: auth_required', async () => {
  const dir = await scratchDir();
  const oauth = client(CLIENTS.password, { store: new FileStore(dir), refreshMarginSecs: 3600 });
  await oauth.loginWithPassword(PASSWORD_USER);
  const first = await storedTokens(dir);
  await oauth.accessToken();
  const replay = await rawRefresh(CLIENTS.password, first.refreshToken);
  assert.equal(replay.body.error, 'invalid_grant');
  const before = await readFile(await tokenFile(dir), 'utf8');
  const err = await oauth.accessToken().catch((e) => e);
  assert.ok(err instanceof WattbridgeError);
  assert.equal(err.code, 'auth_required');
  assert.match(err.message, /log in to the peer again/);
  assert.equal(await readFile(await tokenFile(dir), 'utf8'), before, 'the stored tokens are left as they were');
});

test('a wrong password is invalid_credentials, and the password is not in the message', async () => {
  const err = await client(CLIENTS.password).loginWithPassword({ ...PASSWORD_USER, password: 'hunter2-wrong' }).catch((e) => e);
  assert.ok(err instanceof WattbridgeError);
  assert.equal(err.code, 'invalid_credentials');
  assert.ok(!err.message.includes('hunter2-wrong'));
});

test('concurrent callers share one refresh', async () => {
  // With a 599 s margin on a 600 s token, the token is due 1 s after it was obtained.
  const oauth = client(CLIENTS.password, { refreshMarginSecs: 599 });
  await oauth.loginWithPassword(PASSWORD_USER);
  await sleep(1100);
  const before = op.counts.token;
  const tokens = await Promise.all([oauth.accessToken(), oauth.accessToken(), oauth.accessToken()]);
  assert.equal(op.counts.token - before, 1, 'one refresh request');
  assert.equal(new Set(tokens).size, 1, 'all three callers got the fresh token');
  assert.equal((await me(oauth)).sub, PASSWORD_USER.username);
});

test('a 401 from the API triggers one refresh and one retry', async () => {
  const dir = await scratchDir();
  const oauth = client(CLIENTS.password, { store: new FileStore(dir) });
  await oauth.loginWithPassword(PASSWORD_USER);
  // The provider no longer honours the access token we hold (as after a
  // server restart or a revocation we were not told about).
  const path = await tokenFile(dir);
  const stored = JSON.parse(await readFile(path, 'utf8'));
  await writeFile(path, JSON.stringify({ ...stored, accessToken: 'forgotten-by-the-server' }));
  const before = op.counts.token;
  assert.deepEqual(await me(oauth), { sub: PASSWORD_USER.username });
  assert.equal(op.counts.token - before, 1, 'one refresh');
  assert.notEqual(await oauth.accessToken(), 'forgotten-by-the-server');
});

test('device flow: the person approves in a browser, we poll and get tokens', async () => {
  const page = await browser.newPage();
  const oauth = client(CLIENTS.device);
  let shown;
  let approval;
  const status = await oauth.loginWithDeviceCode({
    timeoutSeconds: 120,
    onVerification(verification) {
      shown = verification;
      approval = approveInBrowser(page, verification.verification_uri_complete, deviceApproved);
    },
  });
  await approval;
  assert.match(shown.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
  assert.equal(shown.verification_uri, `${op.issuer}/device`);
  assert.equal(status.loggedIn, true);
  assert.equal(status.hasRefreshToken, true);
  assert.equal((await me(oauth)).sub, 'anna');
  await page.close();
});

test('authorization code + PKCE through a loopback redirect', async () => {
  const page = await browser.newPage();
  const oauth = client(CLIENTS.pkce);
  const receiver = await startLoopbackReceiver();
  after(() => receiver.close());
  const { url, state } = await oauth.authorizationUrl({ redirectUri: receiver.redirectUri });
  assert.match(url, /code_challenge_method=S256/);
  await approveInBrowser(page, url, async (p) => p.url().startsWith(receiver.redirectUri));
  const callbackUrl = await receiver.callbackUrl;
  assert.equal(new URL(callbackUrl).searchParams.get('state'), state);
  const status = await oauth.completeAuthorization(callbackUrl);
  assert.equal(status.loggedIn, true);
  assert.equal((await me(oauth)).sub, 'anna');

  // The same redirect cannot be used twice.
  const replay = await oauth.completeAuthorization(callbackUrl).catch((e) => e);
  assert.equal(replay.code, 'invalid_input');
  await page.close();
});

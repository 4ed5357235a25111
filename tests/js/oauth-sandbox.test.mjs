// The token flows against our own sandbox services, which follow the
// contracts: Weheat's Keycloak realm and the Enedis device-flow gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OAuthClient, FileStore, MemoryStore, WattbridgeError } from 'wattbridge';
import { WEHEAT_CLIENT_ID, SANDBOX_WEHEAT_USER, LINKY_CLIENT_ID, SANDBOX_METERS } from 'wattbridge/sandbox';
import { sandbox, scratchDir } from './helpers.mjs';

let gatewayNow = Date.now();
const sb = await sandbox({ linky: { now: () => gatewayNow } });

function weheat(extra = {}, realm = sb.urls.weheat.authUrl) {
  const openid = `${realm}/protocol/openid-connect`;
  return new OAuthClient({
    provider: 'weheat',
    clientId: WEHEAT_CLIENT_ID,
    tokenUrl: `${openid}/token`,
    authorizationUrl: `${openid}/auth`,
    logoutUrl: `${openid}/logout`,
    scopes: ['openid', 'offline_access'],
    loginHint: 'run `wattbridge weheat login`',
    store: new MemoryStore(),
    ...extra,
  });
}

const me = (oauth) => oauth.fetch(`${sb.urls.weheat.apiUrl}/api/v1/users/me`);

async function rejects(promise, code, pattern) {
  const err = await promise.then(() => assert.fail(`expected ${code}`), (e) => e);
  assert.ok(err instanceof WattbridgeError, String(err));
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return err;
}

test('Weheat realm: password login under both issuer paths, users/me, logout', async () => {
  for (const realm of [sb.urls.weheat.authUrl, `${sb.urls.weheat.apiUrl}/realms/Weheat`]) {
    const oauth = weheat({}, realm);
    const status = await oauth.loginWithPassword(SANDBOX_WEHEAT_USER);
    assert.equal(status.hasRefreshToken, true);
    const answer = await me(oauth);
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).email, SANDBOX_WEHEAT_USER.username);
    await oauth.logout();
    assert.equal((await oauth.status()).loggedIn, false);
  }
  await rejects(weheat().loginWithPassword({ ...SANDBOX_WEHEAT_USER, password: 'nope' }), 'invalid_credentials', /Invalid user credentials/);
});

test('Weheat realm: rotation kept, 401 retried once, "Session not active" is auth_required', async () => {
  const dir = await scratchDir();
  const oauth = weheat({ store: new FileStore(dir), refreshMarginSecs: 3600 });
  await oauth.loginWithPassword(SANDBOX_WEHEAT_USER);
  const file = join(dir, 'tokens%2Fweheat.json');
  const first = JSON.parse(await readFile(file, 'utf8'));
  assert.equal((await me(oauth)).status, 200);
  const second = JSON.parse(await readFile(file, 'utf8'));
  assert.notEqual(second.refreshToken, first.refreshToken, 'rotated and kept');
  assert.equal((await me(oauth)).status, 200, 'the kept refresh token works');

  // An access token the API no longer accepts: one refresh, one retry.
  const plain = weheat({ store: new FileStore(dir) });
  const current = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...current, accessToken: 'stale' }));
  assert.equal((await me(plain)).status, 200);

  await fetch(`${sb.urls.weheat.apiUrl}/_sandbox/end-sessions`, { method: 'POST' });
  const before = await readFile(file, 'utf8');
  await rejects(plain.fetch(`${sb.urls.weheat.apiUrl}/api/v1/users/me`), 'auth_required', /Session not active.*wattbridge weheat login/);
  assert.equal(await readFile(file, 'utf8'), before, 'stored tokens untouched');
});

test('Weheat realm: code + PKCE (mandatory) through the authorize redirect', async () => {
  const oauth = weheat();
  const status = await oauth.loginWithRedirect({
    redirectUri: 'http://127.0.0.1:9/callback',
    open: async (url) => (await fetch(url, { redirect: 'manual' })).headers.get('location'),
  });
  assert.equal(status.loggedIn, true);
  assert.equal((await me(oauth)).status, 200);

  // Without PKCE the realm refuses, and the error comes back through the redirect.
  const plainUrl = `${sb.urls.weheat.authUrl}/protocol/openid-connect/auth?response_type=code&client_id=${WEHEAT_CLIENT_ID}&redirect_uri=http://127.0.0.1:9/cb&state=s`;
  const location = (await fetch(plainUrl, { redirect: 'manual' })).headers.get('location');
  assert.match(location, /error=invalid_request/);
});

test('a broken token endpoint gives precise errors and leaves the stored tokens untouched', async () => {
  const dir = await scratchDir();
  const oauth = weheat({ store: new FileStore(dir), refreshMarginSecs: 3600 });
  await oauth.loginWithPassword(SANDBOX_WEHEAT_USER);
  const file = join(dir, 'tokens%2Fweheat.json');
  const before = await readFile(file, 'utf8');
  for (const [fault, code, pattern] of [
    [{ html: true }, 'bad_response', /HTML/],
    [{ status: 500, body: 'oops' }, 'unavailable', /HTTP 500/],
    [{ truncate: true }, 'bad_response', /truncated/],
    [{ drop: true }, 'network', /127\.0\.0\.1/],
  ]) {
    sb.weheat.faults.push({ ...fault, path: '/token' });
    await rejects(oauth.accessToken(), code, pattern);
    assert.equal(await readFile(file, 'utf8'), before, JSON.stringify(fault));
  }
  assert.ok((await oauth.accessToken()).startsWith('sbx-at-'), 'and it recovers once the endpoint does');
});

function linky(extra = {}) {
  return new OAuthClient({
    provider: 'linky',
    clientId: LINKY_CLIENT_ID,
    tokenUrl: `${sb.urls.linky.gatewayUrl}/device/token`,
    deviceAuthorizationUrl: `${sb.urls.linky.gatewayUrl}/device/code`,
    refreshMarginSecs: 1200,
    refreshEchoFields: ['usage_points_id'],
    verificationCodeParam: 'code',
    loginHint: 'run `wattbridge linky login`',
    store: new MemoryStore(),
    ...extra,
  });
}

test('Enedis gateway: device flow approved by visiting the URL, meters kept', async () => {
  const oauth = linky();
  const status = await oauth.loginWithDeviceCode({
    onVerification: (v) => {
      assert.match(v.verification_uri_complete, /\/linky\/device\?code=[A-Z]{4}-[A-Z]{4}$/);
      fetch(v.verification_uri_complete); // the person consents at Enedis
    },
  });
  assert.equal(status.extra.usage_points_id, SANDBOX_METERS.join(','));
  assert.ok(status.expiresAtMs > Date.now() + 12_000_000, 'a 3.5 h gateway token');
});

test('Enedis gateway: a code that expires before approval is auth_required (invalid_grant)', async () => {
  const oauth = linky();
  await rejects(
    oauth.loginWithDeviceCode({
      onVerification: () => {
        gatewayNow += 10 * 60_000; // the person never came back
      },
    }),
    'auth_required',
    /code expired.*wattbridge linky login/,
  );
  gatewayNow = Date.now();
});

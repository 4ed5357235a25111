// The OAuth flows run by the package inside a page in headless Chromium,
// against oidc-provider on another origin: device flow, and code + PKCE with
// a real redirect away from the page and back (the verifier survives in localStorage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOidcProvider, approveInBrowser, deviceApproved, CLIENTS } from '../js/oidc-peer.mjs';
import { launchChromium } from '../js/helpers.mjs';
import { serveRepo } from './static.mjs';

const op = await startOidcProvider({ cors: true });

const settings = op.settings;

// The page where the redirect lands: it finishes the login with its own URL.
const CALLBACK_PAGE = `<!doctype html><script type="module">
  import { OAuthClient } from '/js/browser.js';
  const oauth = new OAuthClient(${JSON.stringify(settings(CLIENTS.pkce))});
  try {
    const status = await oauth.completeAuthorization(location.href);
    const me = await oauth.fetch(${JSON.stringify(op.endpoints.userinfo)});
    window.result = { status, me };
  } catch (err) {
    window.result = { error: err.code + ' ' + err.message };
  }
</script>`;

const site = await serveRepo({ '/callback': CALLBACK_PAGE, '/blank': '<!doctype html><title>blank</title>' });

const browser = await launchChromium();

test('device flow from a page: show the code, poll, get tokens, call the API', async () => {
  const page = await browser.newPage();
  await page.goto(`${site}/blank`);
  const login = page.evaluate(async (config) => {
    const { OAuthClient, MemoryStore } = await import('/js/browser.js');
    const oauth = new OAuthClient({ ...config, store: new MemoryStore() });
    const status = await oauth.loginWithDeviceCode({ onVerification: (v) => { window.verification = v; } });
    const me = await oauth.fetch(config.userinfo);
    return { status, me };
  }, { ...settings(CLIENTS.device), userinfo: op.endpoints.userinfo });

  const verification = await (await page.waitForFunction(() => window.verification)).jsonValue();
  assert.match(verification.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
  await approveInBrowser(await browser.newPage(), verification.verification_uri_complete, deviceApproved);
  const { status, me } = await login;
  assert.equal(status.loggedIn, true);
  assert.equal(me.status, 200);
  assert.equal(JSON.parse(me.body).sub, 'anna');
});

test('code + PKCE from a page: redirect away, sign in, come back, finish', async () => {
  const page = await browser.newPage();
  await page.goto(`${site}/blank`);
  const url = await page.evaluate(async ({ config, redirectUri }) => {
    const { OAuthClient } = await import('/js/browser.js');
    const oauth = new OAuthClient(config); // default store: localStorage
    return (await oauth.authorizationUrl({ redirectUri })).url;
  }, { config: settings(CLIENTS.pkce), redirectUri: `${site}/callback` });
  assert.match(url, /code_challenge_method=S256/);
  const pending = await page.evaluate(() => Object.keys(localStorage));
  assert.deepEqual(pending, ['wattbridge:tokens/peer/pending']);

  await approveInBrowser(page, url, async (p) => p.url().startsWith(`${site}/callback`));
  const result = await (await page.waitForFunction(() => window.result)).jsonValue();
  assert.equal(result.error, undefined, result.error);
  assert.equal(result.status.loggedIn, true);
  assert.equal(result.me.status, 200);
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), ['wattbridge:tokens/peer'], 'the verifier is gone, the tokens are kept');
});

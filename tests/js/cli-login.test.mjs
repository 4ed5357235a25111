// The CLI's login helpers against the real OpenID provider: the device-code
// prompt a person reads, the browser opened on the PKCE URL with the redirect
// caught on loopback, and the extension path through chrome.identity.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { OAuthClient, MemoryStore, startLoopbackReceiver } from 'wattbridge';
import { deviceLogin, browserLogin, renderDeviceVerification, openBrowser, browserCommand } from '../../js/cli/login.js';
import { connect } from 'node:net';
import { startOidcProvider, approveInBrowser, deviceApproved, CLIENTS } from './oidc-peer.mjs';
import { launchChromium } from './helpers.mjs';

const op = await startOidcProvider();
const browser = await launchChromium();

const client = (clientId) => new OAuthClient({ ...op.settings(clientId), store: new MemoryStore() });

/** A writable that keeps what the CLI printed and reacts to it. */
function terminal(onWrite = () => {}) {
  const lines = [];
  return { lines, write: (text) => { lines.push(text); onWrite(text); return true; } };
}

test('the device-code prompt shows the code and where to enter it', () => {
  const text = renderDeviceVerification({ user_code: 'WDJB-MJHT', verification_uri: 'https://x/device', verification_uri_complete: 'https://x/device?user_code=WDJB-MJHT', expires_in: 900 });
  assert.equal(text, [
    '! First copy your one-time code: WDJB-MJHT',
    '  Then open https://x/device in a browser and enter it',
    '  (or open https://x/device?user_code=WDJB-MJHT, which has the code filled in)',
    '  Waiting for you to approve (the code is valid for 15 min)...',
  ].join('\n'));
});

test('device login as the CLI runs it: the person reads the prompt and approves', async () => {
  let approval;
  const out = terminal((text) => {
    const url = text.match(/or open (\S+), which/)?.[1];
    if (url) approval = browser.newPage().then((page) => approveInBrowser(page, url, deviceApproved));
  });
  const status = await deviceLogin(client(CLIENTS.device), { out });
  await approval;
  assert.equal(status.loggedIn, true);
  assert.match(out.lines.join(''), /First copy your one-time code: [A-Z]{4}-[A-Z]{4}/);
});

test('browser login as the CLI runs it: opens the URL, catches the redirect on 127.0.0.1', async () => {
  const out = terminal();
  const opened = [];
  const oauth = client(CLIENTS.pkce);
  const status = await browserLogin(oauth, {
    out,
    open: async (url) => {
      opened.push(url);
      const page = await browser.newPage();
      await approveInBrowser(page, url, async (p) => p.url().startsWith('http://127.0.0.1:') && p.url().includes('/callback'));
      assert.match(await page.textContent('body'), /Logged in; you can close this tab/);
    },
  });
  assert.equal(status.loggedIn, true);
  assert.equal(opened.length, 1);
  assert.match(opened[0], /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fcallback/);
  assert.ok(out.lines.join('').includes(opened[0]), 'the URL is printed for machines without a browser');
  assert.equal((await oauth.fetch(op.endpoints.userinfo)).status, 200);
});

test('in an extension page, loginWithRedirect uses chrome.identity.launchWebAuthFlow', async () => {
  const receiver = await startLoopbackReceiver();
  after(() => receiver.close());
  const calls = [];
  globalThis.chrome = {
    identity: {
      getRedirectURL: () => receiver.redirectUri,
      async launchWebAuthFlow({ url, interactive }) {
        calls.push({ url, interactive });
        await approveInBrowser(await browser.newPage(), url, async (p) => p.url().startsWith(receiver.redirectUri));
        return receiver.callbackUrl;
      },
    },
  };
  after(() => { delete globalThis.chrome; });
  const status = await client(CLIENTS.pkce).loginWithRedirect();
  assert.equal(status.loggedIn, true);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].interactive, true);
});

test('openBrowser honours $BROWSER and reports a missing opener', async () => {
  assert.equal(await openBrowser('http://127.0.0.1/x', { env: { BROWSER: 'true' } }), true);
  assert.equal(await openBrowser('http://127.0.0.1/x', { env: { BROWSER: '/nonexistent/browser' } }), false);
});

test('on Windows the browser opener gets the whole URL as one argument, not through cmd', () => {
  const url = 'https://auth.example/authorize?client_id=a&redirect_uri=http%3A%2F%2F127.0.0.1&state=s';
  const [command, ...args] = browserCommand(url, { env: {}, platform: 'win32' });
  assert.notEqual(command, 'cmd', 'cmd /c start cuts the URL at its first &');
  assert.equal(args.at(-1), url);
});

test('the loopback receiver survives a request with a malformed Host header', async () => {
  const receiver = await startLoopbackReceiver({ timeoutSeconds: 30 });
  const { port } = new URL(receiver.redirectUri);
  const answer = await new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /callback?code=x HTTP/1.1\r\nHost: [bad host\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.on('data', (chunk) => { text += chunk; });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 (200|400)/);
  // A proper redirect still completes the login.
  const real = `${receiver.redirectUri}?code=abc&state=s`;
  await fetch(real).catch(() => {});
  assert.equal(await receiver.callbackUrl, answer.startsWith('HTTP/1.1 200') ? `${receiver.redirectUri}?code=x` : real);
});

// How the CLI logs a person in: renders the device code like `gh auth login`,
// or opens the browser and catches the redirect on loopback like `wrangler login`.
// Provider commands (`wattbridge linky login`, `wattbridge weheat login`) use these.
import { spawn } from 'node:child_process';
import { startLoopbackReceiver } from '../loopback.js';
import { printable } from './terminal.js';

/** The device-code prompt, as lines for a terminal. */
export function renderDeviceVerification({ user_code, verification_uri, verification_uri_complete, expires_in }) {
  const minutes = Math.max(1, Math.round(expires_in / 60));
  // What the service sent is shown, never interpreted by the terminal.
  return printable([
    `! First copy your one-time code: ${user_code}`,
    `  Then open ${verification_uri} in a browser and enter it` +
      (verification_uri_complete ? `\n  (or open ${verification_uri_complete}, which has the code filled in)` : ''),
    `  Waiting for you to approve (the code is valid for ${minutes} min)...`,
  ].join('\n'));
}

/** The command that opens `url` in the person's browser: $BROWSER, then the platform's opener. */
export function browserCommand(url, { env = process.env, platform = process.platform } = {}) {
  return env.BROWSER
    ? [env.BROWSER, url]
    : platform === 'darwin'
      ? ['open', url]
      : platform === 'win32'
        ? // Not `cmd /c start`: cmd splits the URL at every `&` of its query.
          ['rundll32', 'url.dll,FileProtocolHandler', url]
        : ['xdg-open', url];
}

/** Open `url` in the person's browser ($BROWSER, then the platform's opener); false when none could start. */
export function openBrowser(url, options = {}) {
  const [command, ...args] = browserCommand(url, options);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

/**
 * Log in with the device flow, printing the prompt to `out`.
 * @param {import('../oauth.js').OAuthClient} oauth
 */
export function deviceLogin(oauth, { out = process.stderr, timeoutSeconds } = {}) {
  return oauth.loginWithDeviceCode({
    timeoutSeconds,
    onVerification: (verification) => out.write(`${renderDeviceVerification(verification)}\n`),
  });
}

/**
 * Log in with code + PKCE: a one-shot listener on 127.0.0.1, the browser
 * opened on the authorization URL (the URL is printed too, for machines
 * without one), and the redirect caught.
 */
export async function browserLogin(oauth, { out = process.stderr, open = openBrowser, timeoutSeconds = 600 } = {}) {
  const receiver = await startLoopbackReceiver({ timeoutSeconds });
  try {
    return await oauth.loginWithRedirect({
      redirectUri: receiver.redirectUri,
      open: async (url) => {
        out.write(`Opening your browser to log in. If it does not open, visit:\n  ${url}\n`);
        await open(url);
        return receiver.callbackUrl;
      },
    });
  } finally {
    await receiver.close();
  }
}

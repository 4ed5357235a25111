// `wattbridge linky login|logout` and `wattbridge weheat login|logout`.
import { text } from 'node:stream/consumers';
import { FileStore, WattbridgeError } from '../node.js';
import { loadSettings } from '../config.js';
import { linkyClient, weheatClient } from './accounts.js';
import { browserLogin, deviceLogin } from './login.js';

const expiry = (status) => (status.expiresAtMs ? new Date(status.expiresAtMs).toISOString() : 'no expiry given');

export async function linkyLogin({ timeout, meter, import: fromStdin }) {
  const linky = linkyClient(await loadSettings(), { meter });
  if (linky.access !== 'gateway') {
    const how = linky.access === 'conso' ? 'a Conso API token (linky.conso_token): no login needed' : 'an own Enedis app: run `wattbridge linky consent`';
    throw new WattbridgeError(`Linky is set up with ${how}`, { code: 'invalid_input', provider: 'linky' });
  }
  if (fromStdin && process.stdin.isTTY) {
    throw new WattbridgeError('--import reads the tokens JSON from stdin: pipe it in, e.g. `wattbridge linky login --import < tokens.json`', { code: 'invalid_input', provider: 'linky' });
  }
  // Imported tokens are read once from stdin (never an argument: ps and shell history would show them) and never echoed.
  const status = fromStdin ? await linky.importTokens(await text(process.stdin)) : await deviceLogin(linky.oauth(), { timeoutSeconds: timeout });
  await resumeSync('linky');
  const meters = String(status.extra.usage_points_id ?? '').split(',').filter(Boolean);
  return {
    result: { provider: 'linky', meters, expiresAt: expiry(status) },
    text: `${fromStdin ? 'Imported the Linky tokens' : 'Logged in to Linky'}. Meters in this consent: ${meters.join(', ') || 'none listed'}.`,
  };
}

export async function weheatLogin({ username, passwordStdin, timeout }) {
  const account = weheatClient(await loadSettings()).oauth();
  let status;
  if (passwordStdin) {
    if (!username) throw new WattbridgeError('--password-stdin needs --username', { code: 'invalid_input' });
    // Read once, used for one request, never stored or echoed.
    const password = (await text(process.stdin)).replace(/\r?\n$/, '');
    status = await account.loginWithPassword({ username, password });
  } else {
    status = await browserLogin(account, { timeoutSeconds: timeout });
  }
  await resumeSync('weheat');
  // Who we are now: the account's name confirms the right login (one request of the budget).
  const me = await weheatClient(await loadSettings()).me();
  const who = [me.firstName, me.lastName].filter(Boolean).join(' ') || me.email || me.id;
  return {
    result: { provider: 'weheat', expiresAt: expiry(status), scopes: status.scopes, user: { id: me.id, name: who, email: me.email ?? null } },
    text: `Logged in to Weheat as ${who}${status.scopes.includes('offline_access') ? ' (offline access: the login lasts until revoked)' : ''}.`,
  };
}

/** A fresh login resumes a source that sync paused for want of one. */
async function resumeSync(source) {
  const settings = await loadSettings();
  await new FileStore(settings.stateDir).delete(`sync/blocked/${source}`);
}

export async function logout(provider) {
  const settings = await loadSettings();
  const account = provider === 'linky' ? linkyClient(settings) : weheatClient(settings).oauth();
  await account.logout();
  return { result: { provider, loggedIn: false }, text: `Logged out of ${provider === 'linky' ? 'Linky' : 'Weheat'}; the tokens are deleted.` };
}

// A small authorization server for the sandbox services: the token endpoint
// with password, refresh (rotating or not), device code and code + PKCE
// grants; device approval by visiting a URL; an authorize endpoint that signs
// the sandbox user in at once; Keycloak-style logout; and bearer checks for
// the APIs. Weheat mounts it as a Keycloak realm, Linky as the Enedis gateway.

import { createHash, randomBytes } from 'node:crypto';
import { readBody, sendHtml, sendJson } from './http.js';

const token = (prefix) => `${prefix}-${randomBytes(24).toString('base64url')}`;
const base64url = (buffer) => Buffer.from(buffer).toString('base64url');

/**
 * @param {object} options
 * @param {string[]} options.clients accepted client ids (public clients)
 * @param {Record<string, string>} [options.users] username -> password for the password grant
 * @param {number} [options.accessTokenTtl] seconds (Keycloak ~300, Enedis gateway 12600)
 * @param {boolean} [options.rotateRefreshTokens] Keycloak rotates; the Enedis gateway keeps the same one
 * @param {string} [options.expiredDeviceCodeError] `expired_token` (RFC 8628) or `invalid_grant` (Enedis gateway)
 * @param {number|null} [options.deviceApproveAfterMs] approve a device login by itself after this delay
 * @param {() => object} [options.extraTokenFields] added to every token answer (e.g. usage_points_id)
 * @param {string} [options.subject] the account every login signs in as
 * @param {string[]} [options.refreshFields] form fields a refresh must carry besides the refresh token
 *   (the Enedis gateway: `usage_points_id`)
 * @param {boolean} [options.completeVerificationUri] send `verification_uri_complete` (RFC 8628 §3.2, optional;
 *   the Enedis gateway does not: its clients add `?code=<user_code>` themselves)
 * @param {() => number} [options.now] unix ms
 */
export function createAuthServer({
  clients,
  users = {},
  accessTokenTtl = 300,
  rotateRefreshTokens = true,
  expiredDeviceCodeError = 'expired_token',
  deviceApproveAfterMs = null,
  extraTokenFields = () => ({}),
  subject = 'sandbox-user',
  completeVerificationUri = true,
  refreshFields = [],
  now = Date.now,
}) {
  const accessTokens = new Map(); // token -> { session, expiresAt }
  const refreshTokens = new Map(); // token -> { session, used }
  const sessions = new Map(); // id -> { active, scope }
  const deviceCodes = new Map(); // device_code -> { userCode, expiresAt, approved, lastPoll, interval, scope, createdAt }
  const codes = new Map(); // code -> { challenge, redirectUri, clientId, scope }

  function issue(sessionId, scope) {
    const accessToken = token('sbx-at');
    accessTokens.set(accessToken, { session: sessionId, expiresAt: now() + accessTokenTtl * 1000 });
    const answer = { access_token: accessToken, token_type: 'Bearer', expires_in: accessTokenTtl, scope, ...extraTokenFields() };
    const refreshToken = token('sbx-rt');
    refreshTokens.set(refreshToken, { session: sessionId, used: false });
    return { ...answer, refresh_token: refreshToken };
  }

  function newSession(scope) {
    const id = randomBytes(8).toString('hex');
    sessions.set(id, { active: true, scope });
    return issue(id, scope);
  }

  const oauthError = (res, status, error, description) => sendJson(res, status, { error, error_description: description });

  async function tokenEndpoint(req, res) {
    const form = new URLSearchParams(await readBody(req));
    if (!clients.includes(form.get('client_id'))) return oauthError(res, 401, 'invalid_client', 'Invalid client or Invalid client credentials');
    const scope = form.get('scope') ?? '';
    switch (form.get('grant_type')) {
      case 'password': {
        const expected = users[form.get('username')];
        if (expected === undefined || expected !== form.get('password')) return oauthError(res, 401, 'invalid_grant', 'Invalid user credentials');
        return sendJson(res, 200, newSession(scope));
      }
      case 'refresh_token': {
        const missing = refreshFields.find((field) => !form.get(field));
        if (missing) return oauthError(res, 400, 'invalid_request', `${missing} is required to refresh`);
        const entry = refreshTokens.get(form.get('refresh_token'));
        if (!entry || entry.used) return oauthError(res, 400, 'invalid_grant', 'Token is not active');
        const session = sessions.get(entry.session);
        if (!session.active) return oauthError(res, 400, 'invalid_grant', 'Session not active');
        if (!rotateRefreshTokens) {
          // A new access token with the same refresh token.
          const answer = issue(entry.session, session.scope);
          refreshTokens.delete(answer.refresh_token);
          return sendJson(res, 200, { ...answer, refresh_token: form.get('refresh_token') });
        }
        entry.used = true;
        return sendJson(res, 200, issue(entry.session, session.scope));
      }
      case 'urn:ietf:params:oauth:grant-type:device_code': {
        const device = deviceCodes.get(form.get('device_code'));
        if (!device) return oauthError(res, 400, 'invalid_grant', 'device_code not found');
        if (device.expiresAt <= now()) {
          deviceCodes.delete(form.get('device_code'));
          return oauthError(res, 400, expiredDeviceCodeError, 'device_code expired');
        }
        const tooFast = device.lastPoll !== null && now() - device.lastPoll < device.interval * 1000;
        device.lastPoll = now();
        if (tooFast) return oauthError(res, 400, 'slow_down', 'polling too fast');
        const approved = device.approved || (deviceApproveAfterMs !== null && now() - device.createdAt >= deviceApproveAfterMs);
        if (!approved) return oauthError(res, 400, 'authorization_pending', 'waiting for the user');
        deviceCodes.delete(form.get('device_code'));
        return sendJson(res, 200, newSession(device.scope));
      }
      case 'authorization_code': {
        const entry = codes.get(form.get('code'));
        codes.delete(form.get('code'));
        if (!entry || entry.clientId !== form.get('client_id') || entry.redirectUri !== form.get('redirect_uri')) {
          return oauthError(res, 400, 'invalid_grant', 'Code not valid');
        }
        const verifier = form.get('code_verifier') ?? '';
        if (base64url(createHash('sha256').update(verifier).digest()) !== entry.challenge) {
          return oauthError(res, 400, 'invalid_grant', 'PKCE verification failed');
        }
        return sendJson(res, 200, newSession(entry.scope));
      }
      default:
        return oauthError(res, 400, 'unsupported_grant_type', `unsupported grant_type ${form.get('grant_type')}`);
    }
  }

  async function deviceCodeEndpoint(req, res, deviceUrl) {
    const form = new URLSearchParams(await readBody(req));
    if (!clients.includes(form.get('client_id'))) return oauthError(res, 401, 'invalid_client', 'unknown client');
    const deviceCode = token('sbx-dc');
    const letters = () => Array.from(randomBytes(4), (b) => String.fromCharCode(65 + (b % 26))).join('');
    const userCode = `${letters()}-${letters()}`;
    deviceCodes.set(deviceCode, { userCode, expiresAt: now() + 300_000, approved: false, lastPoll: null, interval: 5, scope: form.get('scope') ?? '', createdAt: now() });
    return sendJson(res, 200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: deviceUrl,
      ...(completeVerificationUri ? { verification_uri_complete: `${deviceUrl}?code=${userCode}` } : {}),
      expires_in: 300,
      interval: 5,
    });
  }

  // What the person does at the provider: open the page with the code and consent.
  function devicePage(res, url) {
    const code = url.searchParams.get('code') ?? url.searchParams.get('user_code');
    const device = [...deviceCodes.values()].find((d) => d.userCode === code && d.expiresAt > now());
    if (!device) return sendHtml(res, 404, '<p>This code is unknown or expired.</p>');
    device.approved = true;
    return sendHtml(res, 200, `<title>Approved</title><p>wattbridge may now read the data of ${subject}. You can close this page.</p>`);
  }

  // The sandbox user is always signed in: consent is immediate, PKCE (S256) mandatory.
  function authorizeEndpoint(res, url) {
    const p = url.searchParams;
    const redirect = p.get('redirect_uri');
    if (!clients.includes(p.get('client_id')) || !redirect) return sendHtml(res, 400, '<p>Unknown client or missing redirect_uri.</p>');
    const target = new URL(redirect);
    if (p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || p.get('response_type') !== 'code') {
      target.searchParams.set('error', 'invalid_request');
      target.searchParams.set('error_description', 'PKCE with S256 is required');
    } else {
      const code = token('sbx-code');
      codes.set(code, { challenge: p.get('code_challenge'), redirectUri: redirect, clientId: p.get('client_id'), scope: p.get('scope') ?? '' });
      target.searchParams.set('code', code);
    }
    if (p.get('state') !== null) target.searchParams.set('state', p.get('state'));
    res.writeHead(302, { location: target.href }).end();
  }

  async function logoutEndpoint(req, res) {
    const form = new URLSearchParams(await readBody(req));
    const entry = refreshTokens.get(form.get('refresh_token'));
    if (!entry || !sessions.get(entry.session).active) return oauthError(res, 400, 'invalid_grant', 'Session not active');
    sessions.get(entry.session).active = false;
    res.writeHead(204).end();
  }

  return {
    tokenEndpoint,
    deviceCodeEndpoint,
    devicePage,
    authorizeEndpoint,
    logoutEndpoint,
    /** The account behind an `Authorization: Bearer` header, or null (expired, unknown, session ended). */
    authenticate(header) {
      const entry = accessTokens.get(/^Bearer (.+)$/.exec(header ?? '')?.[1]);
      if (!entry || entry.expiresAt <= now() || !sessions.get(entry.session).active) return null;
      return subject;
    },
    /** Fault switch: end every session, as an admin or a password change would ("Session not active"). */
    endAllSessions() {
      for (const session of sessions.values()) session.active = false;
    },
  };
}

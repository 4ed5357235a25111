// Sandbox Weheat (../shared/contracts/weheat.md). So far: the Keycloak realm
// (password with offline_access, refresh with rotation, code + PKCE, logout,
// "Session not active" on demand) under both known issuer paths, and
// `GET /api/v1/users/me` behind the bearer check. Pumps and logs come with
// the Weheat provider.

import { createAuthServer } from './oauth.js';
import { FaultQueue, sendJson } from './http.js';

export const WEHEAT_CLIENT_ID = 'WeheatCommunityAPI';
export const SANDBOX_WEHEAT_USER = { username: 'sandbox@weheat.example', password: 'sandbox-password' };
const REALM_PATHS = ['/auth/realms/Weheat/protocol/openid-connect', '/realms/Weheat/protocol/openid-connect'];

export function createWeheatService({ accessTokenTtl = 300, now = Date.now } = {}) {
  const auth = createAuthServer({
    clients: [WEHEAT_CLIENT_ID],
    users: { [SANDBOX_WEHEAT_USER.username]: SANDBOX_WEHEAT_USER.password },
    subject: SANDBOX_WEHEAT_USER.username,
    accessTokenTtl,
    rotateRefreshTokens: true,
    now,
  });
  const faults = new FaultQueue();

  return {
    faults,
    auth,
    async handle(req, res, path, url) {
      if (faults.apply(path, res)) return;
      const realm = REALM_PATHS.find((prefix) => path.startsWith(`${prefix}/`));
      if (realm) {
        const endpoint = path.slice(realm.length);
        if (req.method === 'POST' && endpoint === '/token') return auth.tokenEndpoint(req, res);
        if (req.method === 'GET' && endpoint === '/auth') return auth.authorizeEndpoint(res, url);
        if (req.method === 'POST' && endpoint === '/logout') return auth.logoutEndpoint(req, res);
      }
      if (req.method === 'POST' && path === '/_sandbox/end-sessions') {
        auth.endAllSessions();
        return sendJson(res, 200, { ok: true });
      }
      if (path.startsWith('/api/')) {
        const account = auth.authenticate(req.headers.authorization);
        // Weheat's proxy answers 401 with an empty body.
        if (!account) return res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
        if (req.method === 'GET' && path === '/api/v1/users/me') {
          return sendJson(res, 200, { id: '5b1f3a52-5d0e-4c47-9a51-0f0c9e1d2a10', firstName: 'Sandra', lastName: 'Box', email: account, role: 3, language: 'en' });
        }
      }
      return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
    },
  };
}

// Sandbox Enedis device-flow gateway (../shared/contracts/linky.md §1). So
// far: `POST /device/code`, `POST /device/token` (pending, slow_down,
// invalid_grant once the code expired, refresh keeping the same refresh
// token), the consent page `GET /device?code=`, tokens carrying
// `usage_points_id`. The `/data/proxy/...` metering endpoints come with the
// Linky provider.

import { createAuthServer } from './oauth.js';
import { FaultQueue, sendJson } from './http.js';

export const LINKY_CLIENT_ID = 'wattbridge';
export const SANDBOX_METERS = ['11111111111111', '22222222222222'];

/** @param {{deviceApproveAfterMs?: number|null, now?: () => number}} [options] */
export function createLinkyService({ deviceApproveAfterMs = null, now = Date.now } = {}) {
  const auth = createAuthServer({
    clients: [LINKY_CLIENT_ID],
    accessTokenTtl: 12600,
    rotateRefreshTokens: false,
    expiredDeviceCodeError: 'invalid_grant',
    deviceApproveAfterMs,
    extraTokenFields: () => ({ usage_points_id: SANDBOX_METERS.join(',') }),
    subject: 'a household with two meters',
    now,
  });
  const faults = new FaultQueue();

  return {
    faults,
    auth,
    async handle(req, res, path, url, base) {
      if (faults.apply(path, res)) return;
      if (req.method === 'POST' && path === '/device/code') return auth.deviceCodeEndpoint(req, res, `${base}/device`);
      if (req.method === 'POST' && path === '/device/token') return auth.tokenEndpoint(req, res);
      if (req.method === 'GET' && path === '/device') return auth.devicePage(res, url);
      if (req.method === 'POST' && path === '/_sandbox/end-sessions') {
        auth.endAllSessions();
        return sendJson(res, 200, { ok: true });
      }
      return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
    },
  };
}

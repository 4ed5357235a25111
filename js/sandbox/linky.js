// Sandbox Enedis Linky (../shared/contracts/linky.md). Three ways in, one
// set of meters (linky-data.js) behind them:
// - the device-flow gateway: `POST /device/code`, `POST /device/token`, the
//   consent page `GET /device?code=`, then `GET /data/proxy/<v5 path>`;
// - an own Enedis app: `POST /oauth2/v3/token` (client credentials), the
//   consent page `GET /dataconnect/v1/oauth2/authorize`, then `GET /<v5 path>`;
// - the Conso API: `GET /conso/api/<series>?prm=` with its long-lived token,
//   answering what is inside `meter_reading`.
// Every data call goes through the same checks as Enedis (dates, windows,
// history, activation, consent) and the gateway's quota (5 req/s), and is
// logged for tests at `GET /_sandbox/requests`. The Conso API bans a client
// (an IP address) after 100 requests in 12 h (contract §1), as the real one does.

import { createHmac, randomBytes } from 'node:crypto';
import { createAuthServer } from './oauth.js';
import { FaultQueue, readBody, sendHtml, sendJson, answerControls } from './http.js';
import { SANDBOX_LINKY_METERS, SANDBOX_METERS, meterOf, intervalReadings, parisDate, isDate, addDays, addMonths, daysBetween } from './linky-data.js';

export { SANDBOX_LINKY_METERS, SANDBOX_METERS };
/** The gateway's production client id (wattbridge's default); the test deployment's id is accepted too. */
export const LINKY_CLIENT_ID = 'd198fd52-61c0-4b77-8725-06a1ef90da9f';
export const LINKY_TEST_CLIENT_ID = '9c551777-9d1b-447c-9e68-bfe6896ee002';
export const ENEDIS_APP_CLIENT_ID = 'sandbox-app';
export const ENEDIS_APP_CLIENT_SECRET = 'sandbox-app-secret';

const TOKEN_TTL = 12600; // seconds, at the gateway and at Enedis alike
const base64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The Conso API token of the sandbox consent: JWT-shaped, `sub` lists the
 * meters (clients read it to know them), valid 3 years like the real ones.
 */
export const SANDBOX_CONSO_TOKEN = (() => {
  const unsigned = `${base64json({ alg: 'HS256', typ: 'JWT' })}.${base64json({
    sub: SANDBOX_METERS,
    // A fixed date (2100-01-01), not one from the clock: every process that
    // imports the sandbox must make the same token (a sandbox in a child
    // process and its client disagreed whenever a second ticked between them).
    exp: 4_102_444_800,
  })}`;
  return `${unsigned}.${createHmac('sha256', 'wattbridge-sandbox').update(unsigned).digest('base64url')}`;
})();

// The five series: Conso API name, v5 path, what they hold, Enedis' limits
// (longest window in days, history as [months, days] back from today).
const SERIES = [
  { name: 'daily_consumption', path: '/metering_data_dc/v5/daily_consumption', kind: 'daily', direction: 'consumption', maxDays: 365, history: [36, 15] },
  { name: 'consumption_load_curve', path: '/metering_data_clc/v5/consumption_load_curve', kind: 'curve', direction: 'consumption', maxDays: 6, history: [24, 15] },
  { name: 'consumption_max_power', path: '/metering_data_dcmp/v5/daily_consumption_max_power', kind: 'max', direction: 'consumption', maxDays: 365, history: [36, 0] },
  { name: 'daily_production', path: '/metering_data_dp/v5/daily_production', kind: 'daily', direction: 'production', maxDays: 365, history: [36, 0] },
  { name: 'production_load_curve', path: '/metering_data_plc/v5/production_load_curve', kind: 'curve', direction: 'production', maxDays: 6, history: [24, 0] },
];

const READING_TYPES = {
  daily: { unit: 'Wh', measurement_kind: 'energy', aggregate: 'sum', measuring_period: 'P1D' },
  max: { unit: 'VA', measurement_kind: 'power', aggregate: 'maximum', measuring_period: 'P1D' },
  curve: { unit: 'W', measurement_kind: 'power', aggregate: 'average' },
};

// The gateway's quota answer (tests/fixtures/linky/error_429_quota.json), not Enedis' error format.
const THROTTLED = { fault: { code: 900807, message: 'Message throttled out', description: 'You have exceeded your quota' } };

const ERROR_URI = 'https://bluecoder.enedis.fr/api-doc/consulter-souscrire';

const TWELVE_HOURS_MS = 12 * 3600 * 1000;
// What a banned client gets: the contract gives no shape, so the one the Conso
// API's users report (github.com/bokub/conso-api issues 21, 102, 144): its
// Cloudflare front's 403 page, HTML, every request, until the ban is lifted by hand.
const CONSO_BAN_PAGE = '<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>'
  + '<h1>Sorry, you have been blocked</h1><h2>You are unable to access conso.boris.sh</h2>'
  + '<p>This website is using a security service to protect itself from online attacks.</p>'
  + '<p>Cloudflare Ray ID: <strong>0000sandbox0000</strong></p></body></html>';
/** The sandbox app's registered redirect address (own Enedis app). */
const APP_CALLBACK = '/dataconnect/callback';
const refuse = (status, error, description, headers) => ({ status, body: { error, error_description: description, error_uri: ERROR_URI }, headers });

/** Which data endpoint a path is, and through which door: `{ series, access }` or undefined. */
function dataRoute(path) {
  if (path.startsWith('/data/proxy/')) {
    const series = SERIES.find((s) => s.path === path.slice('/data/proxy'.length));
    return series && { series, access: 'gateway' };
  }
  if (path.startsWith('/conso/api/')) {
    const series = SERIES.find((s) => s.name === path.slice('/conso/api/'.length));
    return series && { series, access: 'conso' };
  }
  const series = SERIES.find((s) => s.path === path);
  return series && { series, access: 'app' };
}

/**
 * @param {object} [options]
 * @param {number|null} [options.deviceApproveAfterMs] approve device logins by themselves
 * @param {() => number} [options.now] unix ms: token expiry, and "today" in Paris for the data
 * @param {string[]} [options.meters] the meters a gateway or app consent grants (default: all, household first)
 * @param {number} [options.rateLimit] data requests served per second, across meters (0: no limit)
 * @param {() => number} [options.clock] monotonic ms for the rate limit and the Conso API's 12 h (a fixed `now` must not trip them)
 * @param {number} [options.consoLimitPer12h] Conso API requests a client (IP address) may send in any 12 h; the next one bans it (default 100; 0: no limit)
 */
export function createLinkyService({
  deviceApproveAfterMs = null,
  now = Date.now,
  meters = SANDBOX_METERS,
  rateLimit = 5,
  clock = () => performance.now(),
  consoLimitPer12h = 100,
} = {}) {
  const auth = createAuthServer({
    clients: [LINKY_CLIENT_ID, LINKY_TEST_CLIENT_ID],
    accessTokenTtl: TOKEN_TTL,
    rotateRefreshTokens: false,
    expiredDeviceCodeError: 'invalid_grant',
    // Contract §1 step 1: `{device_code, user_code, verification_uri, expires_in, interval}`, nothing more.
    completeVerificationUri: false,
    // Step 5: a refresh names the consent's meters.
    refreshFields: ['usage_points_id'],
    deviceApproveAfterMs,
    extraTokenFields: () => ({ usage_points_id: meters.join(',') }),
    subject: `a household with ${meters.length} meters`,
    now,
  });
  const faults = new FaultQueue();
  const appTokens = new Map(); // access token -> expiry (unix ms)
  const revoked = new Set(); // meters whose consent was withdrawn by /_sandbox/revoke-consent
  const filled = new Set(); // meters whose holes Enedis has since filled (/_sandbox/fill-holes)
  let log = []; // one entry per data request
  let served = []; // clock() of the data requests the quota let through, last second only
  let stormCalls = 0;
  let consoSent = new Map(); // client address -> clock() of its Conso API requests, last 12 h only
  const banned = new Set(); // client addresses the Conso API refuses

  // One more Conso API request from `client`: false while it is within the
  // limit, true once banned. A ban stays: the real ones are lifted by hand.
  function consoBans(client) {
    if (!consoLimitPer12h) return false;
    if (banned.has(client)) return true;
    const t = clock();
    const recent = (consoSent.get(client) ?? []).filter((at) => t - at < TWELVE_HOURS_MS);
    if (recent.length >= consoLimitPer12h) {
      banned.add(client);
      return true;
    }
    consoSent.set(client, [...recent, t]);
    return false;
  }

  // The meters a data request may read, or null when its token is not accepted.
  function consentOf(access, authorization) {
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (access === 'gateway') return auth.authenticate(authorization) ? meters : null;
    if (access === 'app') return appTokens.get(bearer) > now() ? meters : null;
    return bearer === SANDBOX_CONSO_TOKEN ? SANDBOX_METERS : null; // the token's `sub`
  }

  // More than `rateLimit` requests within one second: throttled (no Retry-After, like the gateway).
  function overQuota() {
    if (!rateLimit) return false;
    const t = clock();
    served = served.filter((at) => t - at < 1000);
    if (served.length >= rateLimit) return true;
    served.push(t);
    return false;
  }

  /** The answer to one data request: `{ status, body, headers? }`. */
  function answer(series, access, authorization, prm, start, end) {
    const consent = consentOf(access, authorization);
    if (!consent) return refuse(401, 'invalid_token', 'Invalid or expired access token');
    if (overQuota()) return { status: 429, body: THROTTLED };
    const meter = filled.has(prm) ? { ...meterOf(prm), missingDay: undefined, missingPoint: undefined } : meterOf(prm);
    // The storm meter: calls 1 and 2 of every 3 are throttled, the first with Retry-After, the second without.
    if (meter.storm) {
      const turn = stormCalls++ % 3;
      if (turn < 2) return { status: 429, body: THROTTLED, headers: turn === 0 ? { 'retry-after': '1' } : {} };
    }

    if (!/^\d{14}$/.test(prm ?? '')) return refuse(400, 'Invalid_request', 'usage_point_id must be 14 digits.');
    if (!isDate(start) || !isDate(end)) return refuse(400, 'Invalid_request', 'start and end must be dates written YYYY-MM-DD.');
    if (!consent.includes(prm)) return refuse(403, 'ADAM-DC-0007', 'The customer does not hold this usage point.');
    if (meter.noConsent || revoked.has(prm)) return refuse(403, 'ADAM-DC-0008', 'No consent can be found for this customer and this usage point.');

    const today = parisDate(now());
    if (start >= end) return refuse(400, 'Invalid_request', 'Start date should be before end date.');
    if (end > today) return refuse(400, 'Invalid_request', 'The end date parameter must be earlier than the current date.');
    if (daysBetween(start, end) > series.maxDays) return refuse(400, 'ADAM-ERR0126', `The requested period cannot be longer than ${series.maxDays} days.`);
    const [months, days] = series.history;
    const limit = addDays(addMonths(today, -months), -days);
    if (start < limit) return refuse(400, 'ADAM-DC-0016', `The start date must be on or after ${limit}.`);
    if (start < meter.activation) return refuse(400, 'ADAM-ERR0123', `The requested period starts before the meter's activation date (${meter.activation}).`);
    if (series.direction === 'production' && !meter.production) return refuse(400, 'ADAM-ERR0069', 'This usage point does not produce.');
    if (series.kind === 'curve' && meter.noCollection) return refuse(404, 'no_data_found', 'No measure found for this usage point: is the hourly collection enabled?');

    // A meter whose newest days are not published yet: only the older days come, or nothing.
    const published = meter.lagDays ? addDays(today, 1 - meter.lagDays) : end;
    if (start >= published) return refuse(404, 'no_data_found', 'No measure found for this usage point over this period.');
    const reading = {
      usage_point_id: prm,
      start,
      end,
      quality: 'BRUT',
      reading_type: READING_TYPES[series.kind],
      interval_reading: intervalReadings(meter, series.kind, series.direction, start, end < published ? end : published),
    };
    // The Conso API hands out what Enedis wraps in `meter_reading`.
    return { status: 200, body: access === 'conso' ? reading : { meter_reading: reading } };
  }

  async function appToken(req, res) {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('client_id') !== ENEDIS_APP_CLIENT_ID || form.get('client_secret') !== ENEDIS_APP_CLIENT_SECRET) {
      return sendJson(res, 401, { error: 'invalid_client', error_description: 'Invalid client credentials' });
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'Only client_credentials is supported' });
    }
    const accessToken = `sbx-app-${randomBytes(24).toString('base64url')}`;
    appTokens.set(accessToken, now() + TOKEN_TTL * 1000);
    return sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_TTL, scope: '' });
  }

  // mon-compte-particulier: the sandbox person is signed in and consents to
  // every meter at once. The contract's query is client_id, response_type,
  // state and duration: Enedis sends the person back to the app's registered
  // address, here the sandbox's own /dataconnect/callback page; a
  // `redirect_uri` stands in for another registered one (a test's listener).
  function appConsentPage(res, url, base) {
    const p = url.searchParams;
    if (p.get('client_id') !== ENEDIS_APP_CLIENT_ID) return sendHtml(res, 400, '<p>Unknown client.</p>');
    const target = new URL(p.get('redirect_uri') ?? `${base}${APP_CALLBACK}`);
    const duration = /^P(\d+)([YMD])$/.exec(p.get('duration') ?? '');
    const days = duration && Number(duration[1]) * { Y: 365, M: 30, D: 1 }[duration[2]];
    if (p.get('response_type') !== 'code' || !days || days > 3 * 365) {
      target.searchParams.set('error', 'invalid_request');
      target.searchParams.set('error_description', 'response_type=code and a duration of at most P3Y are required');
    } else {
      target.searchParams.set('code', randomBytes(12).toString('base64url'));
      target.searchParams.set('usage_point_id', meters.join(';'));
    }
    if (p.get('state') !== null) target.searchParams.set('state', p.get('state'));
    res.writeHead(302, { location: target.href }).end();
  }

  function resetRequests() {
    log = [];
    served = [];
    stormCalls = 0;
    consoSent = new Map();
    banned.clear();
  }

  function requests() {
    const byPath = {};
    for (const entry of log) byPath[entry.path] = (byPath[entry.path] ?? 0) + 1;
    return { total: log.length, byPath, list: log.map((entry) => ({ ...entry })) };
  }

  return {
    faults,
    auth,
    /** The data requests so far: `{ total, byPath, list: [{method, path, meter, start, end, status}] }`. */
    requests,
    /** Forget the logged requests, the quota windows, the Conso API's bans and the storm meter's count. */
    resetRequests,
    /** From now on this meter answers 403 ADAM-DC-0008, as after the person withdrew consent. */
    revokeConsent: (prm) => revoked.add(prm),
    /** From now on this meter's holes have data, as when Enedis completes a transmission late. */
    fillHoles: (prm) => filled.add(prm),
    async handle(req, res, path, url, base) {
      const route = req.method === 'GET' ? dataRoute(path) : undefined;
      if (route) {
        const q = url.searchParams;
        const prm = route.access === 'conso' ? q.get('prm') : q.get('usage_point_id');
        const entry = { method: req.method, path, meter: prm, start: q.get('start'), end: q.get('end'), status: 0 };
        log.push(entry);
        // Before anything else: the ban is the Conso API's front, not Enedis.
        if (route.access === 'conso' && consoBans(req.socket.remoteAddress)) {
          entry.status = 403;
          return sendHtml(res, 403, CONSO_BAN_PAGE);
        }
        if (faults.apply(path, res)) {
          entry.status = res.headersSent ? res.statusCode : 0; // 0: the connection was dropped
          return;
        }
        const { status, body, headers } = answer(route.series, route.access, req.headers.authorization, prm, entry.start, entry.end);
        entry.status = status;
        return sendJson(res, status, body, headers);
      }
      if (faults.apply(path, res)) return;
      if (req.method === 'POST' && path === '/device/code') return auth.deviceCodeEndpoint(req, res, `${base}/device`);
      if (req.method === 'POST' && path === '/device/token') return auth.tokenEndpoint(req, res);
      if (req.method === 'GET' && path === '/device') return auth.devicePage(res, url);
      if (req.method === 'POST' && path === '/oauth2/v3/token') return appToken(req, res);
      if (req.method === 'GET' && path === '/dataconnect/v1/oauth2/authorize') return appConsentPage(res, url, base);
      if (req.method === 'GET' && path === APP_CALLBACK) {
        return sendHtml(res, 200, '<title>Consent given</title><p>Give the address of this page to <code>wattbridge linky consent \'&lt;URL&gt;\'</code>.</p>');
      }
      if (answerControls(req, res, path, { auth, requests, resetRequests })) return;
      if (req.method === 'POST' && path === '/_sandbox/revoke-consent') {
        const prm = url.searchParams.get('meter');
        if (!prm) return sendJson(res, 400, { error: 'meter=<PRM> is required' });
        revoked.add(prm);
        return sendJson(res, 200, { ok: true, revoked: [...revoked] });
      }
      if (req.method === 'POST' && path === '/_sandbox/fill-holes') {
        const prm = url.searchParams.get('meter');
        if (!prm) return sendJson(res, 400, { error: 'meter=<PRM> is required' });
        filled.add(prm);
        return sendJson(res, 200, { ok: true, filled: [...filled] });
      }
      return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
    },
  };
}

// Sandbox Weheat (../shared/contracts/weheat.md): the Keycloak realm
// (password with offline_access, refresh with rotation, code + PKCE, logout,
// "Session not active" on demand) under both known issuer paths, and the API
// under both known bases — `/api/v1/...` (the old base, whose heat-pump list
// is a plain array) and `/third_party/api/v1/...` (the newer one, paged) —
// with the pumps and logs of weheat-data.js behind it.
//
// Every API request is logged (`GET /_sandbox/requests`) and goes through what
// Weheat's proxy does: 401 (empty body, WWW-Authenticate) for a bad token, 429
// (empty body, no Retry-After) beyond the account's hourly budget, 503 when
// switched on with `POST /_sandbox/unavailable?count=N`.

import { createAuthServer } from './oauth.js';
import { CORS_HEADERS, FaultQueue, sendJson, answerControls } from './http.js';
import {
  SANDBOX_WEHEAT_PUMPS,
  ALL_PUMPS,
  pumpById,
  pumpRecord,
  latestLog,
  rawLogs,
  aggregatedLogs,
  energyLogs,
  energyTotals,
  isOnline,
  addMonths,
} from './weheat-data.js';

export { SANDBOX_WEHEAT_PUMPS };
export const WEHEAT_CLIENT_ID = 'WeheatCommunityAPI';
export const SANDBOX_WEHEAT_USER = { username: 'sandbox@weheat.example', password: 'sandbox-password' };
const REALM_PATHS = ['/auth/realms/Weheat/protocol/openid-connect', '/realms/Weheat/protocol/openid-connect'];
/** The API bases under the service: the newer one first, then the old root. */
const API_BASES = ['/third_party', ''];

const HOUR = 3_600_000;
const DAY = 86_400_000;

// The longest window of one request: the raw logs, then `/logs` by interval (contract §2).
const RAW_WINDOW = { label: '4 hours', end: (start) => start + 4 * HOUR };
const LOG_WINDOWS = {
  Minute: { label: '2 days', end: (start) => start + 2 * DAY },
  FiveMinute: { label: '1 week', end: (start) => start + 7 * DAY },
  FifteenMinute: { label: '1 month', end: (start) => addMonths(start, 1) },
  Hour: { label: '1 month', end: (start) => addMonths(start, 1) },
  Day: { label: '1 year', end: (start) => addMonths(start, 12) },
  Week: { label: '2 years', end: (start) => addMonths(start, 24) },
  Month: { label: '5 years', end: (start) => addMonths(start, 60) },
  Year: { label: '100 years', end: (start) => addMonths(start, 1200) },
};
const ENERGY_INTERVALS = ['Hour', 'Day', 'Week', 'Month', 'Year'];

/**
 * An ISO 8601 instant as clients send it: `2026-03-01T00:00:00Z`, with
 * fractions of any length, `+01:00` or `+0100` offsets (a `+` left unencoded
 * in the query arrives as a space), or no zone at all (UTC). NaN otherwise.
 */
export function parseInstant(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+ -]\d{2}:?\d{2})?$/i.exec(text ?? '');
  if (!match) return NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '0', zone = 'Z'] = match;
  const utc = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.floor(Number(`0.${fraction}`) * 1000));
  const check = new Date(utc);
  if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1 || +h > 23 || +mi > 59 || +s > 59) return NaN;
  if (zone.toUpperCase() === 'Z') return utc;
  const [, sign, oh, om] = /^([+ -])(\d{2}):?(\d{2})$/.exec(zone);
  return utc - (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
}

// An interval name as ASP.NET binds enums: case-insensitive, answered in its canonical spelling.
const canonical = (names, text) => names.find((name) => name.toLowerCase() === String(text ?? '').toLowerCase());

/**
 * @param {object} [options]
 * @param {number} [options.accessTokenTtl] seconds (Keycloak's ~300)
 * @param {() => number} [options.now] unix ms: token expiry, and "now" for the pumps' logs
 * @param {() => number} [options.clock] monotonic ms for the hourly budget (a fixed `now` must not stop it)
 * @param {number} [options.budgetPerHour] API requests per account in any sliding hour (0: no limit)
 * @param {boolean} [options.powerFields] send `cmMassPowerIn`/`cmMassPowerOut` (gone for third-party clients since March 2026)
 * @param {'auto'|'paged'|'plain'} [options.pumpList] the heat-pump list's shape; `auto`: plain at the old base, paged at /third_party
 */
export function createWeheatService({
  accessTokenTtl = 300,
  now = Date.now,
  clock = () => performance.now(),
  budgetPerHour = 30,
  powerFields = true,
  pumpList = 'auto',
} = {}) {
  const auth = createAuthServer({
    clients: [WEHEAT_CLIENT_ID],
    users: { [SANDBOX_WEHEAT_USER.username]: SANDBOX_WEHEAT_USER.password },
    subject: SANDBOX_WEHEAT_USER.username,
    accessTokenTtl,
    rotateRefreshTokens: true,
    now,
  });
  const faults = new FaultQueue();
  let log = []; // one entry per API request
  let served = new Map(); // account -> clock() of its requests within the last hour
  let unavailable = 0; // the next API requests answering 503

  // Over the account's budget for the sliding hour? Requests refused with 429 do not count.
  function overBudget(account) {
    if (!budgetPerHour) return false;
    const t = clock();
    const recent = (served.get(account) ?? []).filter((at) => t - at < HOUR);
    served.set(account, recent);
    if (recent.length >= budgetPerHour) return true;
    recent.push(t);
    return false;
  }

  const text = (status, body) => ({ status, text: body });
  const json = (status, body) => ({ status, body });

  /** The window of a log request, or an error answer: `{ start, end }` or `{ status, text }`. */
  function window(q, limit, what) {
    const start = parseInstant(q.get('startTime'));
    const end = parseInstant(q.get('endTime'));
    if (Number.isNaN(start) || Number.isNaN(end)) return text(400, 'startTime and endTime must be ISO 8601 date-times, e.g. 2026-03-01T00:00:00Z.');
    if (end <= start) return text(400, 'endTime must be after startTime.');
    if (limit && end > limit.end(start)) return text(400, `The time window for ${what} cannot be longer than ${limit.label}.`);
    return { start, end };
  }

  /** The answer to one authorised API request (`rest` starts with /api/v1). */
  function answer(rest, q, base) {
    if (rest === '/api/v1/users/me') {
      return json(200, { id: '5b1f3a52-5d0e-4c47-9a51-0f0c9e1d2a10', firstName: 'Sandra', lastName: 'Box', email: SANDBOX_WEHEAT_USER.username, role: 7, language: 'en' });
    }
    if (rest === '/api/v1/heat-pumps') return pumpListAnswer(q, base);

    let match = /^\/api\/v1\/heat-pumps\/([^/]+)(\/logs(?:\/latest|\/raw)?)?$/.exec(rest);
    if (match) {
      const pump = pumpById(decodeURIComponent(match[1]));
      if (!pump) return text(404, 'Heat pump not found.');
      const t = now();
      switch (match[2]) {
        case undefined:
          return json(200, pumpRecord(pump, t));
        case '/logs/latest': {
          const last = latestLog(pump, t, { powerFields });
          return last ? json(200, { ...last, isOnline: isOnline(pump, t) }) : text(404, 'No logs found for this heat pump.');
        }
        case '/logs/raw': {
          const w = window(q, RAW_WINDOW, 'raw logs');
          return w.status ? w : json(200, rawLogs(pump, w.start, w.end, t, { powerFields }));
        }
        default: {
          const interval = canonical(Object.keys(LOG_WINDOWS), q.get('interval'));
          if (!interval) return text(400, `interval must be one of ${Object.keys(LOG_WINDOWS).join(', ')}.`);
          const w = window(q, LOG_WINDOWS[interval], `interval ${interval}`);
          return w.status ? w : json(200, aggregatedLogs(pump, interval, w.start, w.end, t, { powerFields }));
        }
      }
    }

    match = /^\/api\/v1\/energy-logs\/([^/]+)(\/total)?$/.exec(rest);
    if (match) {
      const pump = pumpById(decodeURIComponent(match[1]));
      if (!pump) return text(404, 'Heat pump not found.');
      if (match[2]) return json(200, energyTotals(pump, now()));
      const interval = canonical(ENERGY_INTERVALS, q.get('interval'));
      if (!interval) return text(400, `interval must be one of ${ENERGY_INTERVALS.join(', ')}.`);
      const w = window(q, null, 'energy logs');
      return w.status ? w : json(200, energyLogs(pump, interval, w.start, w.end, now()));
    }
    return text(404, 'Not found.');
  }

  // `page` ≥ 1, `pageSize`, filters `State`, `Search` (name or serial) and `Model` (repeatable).
  function pumpListAnswer(q, base) {
    const page = q.has('page') ? Number(q.get('page')) : 1;
    const pageSize = q.has('pageSize') ? Number(q.get('pageSize')) : 10;
    if (!Number.isInteger(page) || page < 1) return text(400, 'page must be 1 or more.');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) return text(400, 'pageSize must be between 1 and 1000.');
    const t = now();
    const search = (q.get('Search') ?? '').toLowerCase();
    const models = q.getAll('Model').map(Number);
    const pumps = ALL_PUMPS.map((pump) => pumpRecord(pump, t)).filter(
      (pump) =>
        (!q.has('State') || pump.state === Number(q.get('State'))) &&
        (!search || pump.name.toLowerCase().includes(search) || pump.serialNumber.toLowerCase().includes(search)) &&
        (models.length === 0 || models.includes(pump.model)),
    );
    const data = pumps.slice((page - 1) * pageSize, page * pageSize);
    const paged = pumpList === 'paged' || (pumpList === 'auto' && base === '/third_party');
    if (!paged) return json(200, data);
    return json(200, {
      metadata: { totalCount: pumps.length, pageSize, currentPage: page, totalPages: Math.ceil(pumps.length / pageSize) },
      data,
    });
  }

  async function api(req, res, path, url, base) {
    const q = url.searchParams;
    const entry = { method: req.method, path, query: Object.fromEntries(q), status: 0, at: now() };
    log.push(entry);
    const send = (status, body, headers = {}) => {
      entry.status = status;
      if (body === undefined) return res.writeHead(status, { ...CORS_HEADERS, ...headers }).end();
      if (typeof body === 'string') return res.writeHead(status, { ...CORS_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
      return sendJson(res, status, body, headers);
    };
    if (faults.apply(path, res)) {
      entry.status = res.headersSent ? res.statusCode : 0; // 0: the connection was dropped
      return;
    }
    // Weheat's proxy: 401 and 429 with an empty body, no Retry-After.
    const account = auth.authenticate(req.headers.authorization);
    if (!account) return send(401, undefined, { 'www-authenticate': 'Bearer error="invalid_token"' });
    if (overBudget(account)) return send(429);
    if (unavailable > 0) {
      unavailable -= 1;
      return send(503, 'temporarily unavailable');
    }
    if (req.method !== 'GET') return send(405, 'Method not allowed.');
    const result = answer(path.slice(base.length), q, base);
    return send(result.status, result.text ?? result.body);
  }

  function resetRequests() {
    log = [];
    served = new Map();
  }

  const requests = () => ({ total: log.length, list: log.map((entry) => ({ ...entry, query: { ...entry.query } })) });

  return {
    faults,
    auth,
    /** The API requests so far: `{ total, list: [{method, path, query, status, at}] }` (`at` from `now`). */
    requests,
    /** Forget the logged requests and the budget's window. */
    resetRequests,
    /** The next `count` API requests answer 503 (0 switches it off). */
    setUnavailable(count) {
      unavailable = count;
    },
    async handle(req, res, path, url) {
      const base = API_BASES.find((prefix) => path.startsWith(`${prefix}/api/`));
      if (base !== undefined) return api(req, res, path, url, base);
      if (faults.apply(path, res)) return;
      const realm = REALM_PATHS.find((prefix) => path.startsWith(`${prefix}/`));
      if (realm) {
        const endpoint = path.slice(realm.length);
        if (req.method === 'POST' && endpoint === '/token') return auth.tokenEndpoint(req, res);
        if (req.method === 'GET' && endpoint === '/auth') return auth.authorizeEndpoint(res, url);
        if (req.method === 'POST' && endpoint === '/logout') return auth.logoutEndpoint(req, res);
      }
      if (answerControls(req, res, path, { auth, requests, resetRequests })) return;
      if (req.method === 'POST' && path === '/_sandbox/unavailable') {
        const count = Number(url.searchParams.get('count') ?? 1);
        if (!Number.isInteger(count) || count < 0) return sendJson(res, 400, { error: 'count=<N ≥ 0> is required' });
        unavailable = count;
        return sendJson(res, 200, { ok: true, unavailable });
      }
      return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
    },
  };
}

// A sandbox EnergyID Webhook V2 (../shared/contracts/energyid.md): hello that
// stays unclaimed until the claim URL is visited, a webhook that enforces the
// upload policy and validates payloads, and a read-back of what it accepted.

import { randomBytes, randomUUID } from 'node:crypto';
import { FaultQueue, readBody, sendHtml, sendJson } from './http.js';

export const SANDBOX_PROVISIONING_KEY = 'sandbox-provisioning-key';
export const SANDBOX_PROVISIONING_SECRET = 'sandbox-provisioning-secret';

const METRIC_KEYS = new Set([
  'el', 'el-i', 'pwr', 'pwr-i', 'gas', 'pv', 'wind', 'chp', 'sol', 'heat', 'ev', 'bat', 'bat-i',
  'bat-soc', 'dw', 'temperature',
]);
const CLAIM_LIFETIME_S = 15 * 60;

/**
 * @param {object} [options]
 * @param {number} [options.uploadInterval] seconds between two accepted POSTs (default 60, the real-time add-on)
 * @param {number|null} [options.autoClaimAfterHellos] claim by itself after this many hellos (default: wait for a visit)
 * @param {() => number} [options.now] unix ms, for tests
 */
export function createEnergyIdService({ uploadInterval = 60, autoClaimAfterHellos = null, now = Date.now } = {}) {
  const devices = new Map(); // deviceId -> { name, hellos, claim, record }
  const records = new Map(); // authorization header -> record
  const faults = new FaultQueue();
  let recordCount = 0;

  function newClaim(base) {
    const code = randomBytes(4).toString('hex').slice(0, 6).toUpperCase();
    return { code, url: `${base}/claim?code=${code}`, exp: Math.floor(now() / 1000) + CLAIM_LIFETIME_S };
  }

  function claim(device) {
    recordCount += 1;
    const record = {
      authorization: `Bearer sbx-${randomBytes(24).toString('hex')}`,
      twinId: randomUUID(),
      recordName: `Sandbox home ${recordCount}`,
      recordNumber: `EA-${String(10000000 + recordCount)}`,
      readings: [],
      posts: [],
      lastAcceptedAt: null,
    };
    device.record = record;
    device.claim = null;
    records.set(record.authorization, record);
  }

  async function hello(req, res, base) {
    if (req.headers['x-provisioning-key'] !== SANDBOX_PROVISIONING_KEY ||
        req.headers['x-provisioning-secret'] !== SANDBOX_PROVISIONING_SECRET) {
      return sendJson(res, 401, { error: 'invalid provisioning credentials' });
    }
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, { error: 'body must be JSON' });
    }
    if (typeof body?.deviceId !== 'string' || !body.deviceId || typeof body.deviceName !== 'string' || !body.deviceName) {
      return sendJson(res, 400, { error: 'deviceId and deviceName are required' });
    }
    let device = devices.get(body.deviceId);
    if (!device) {
      device = { name: body.deviceName, hellos: 0, claim: null, record: null };
      devices.set(body.deviceId, device);
    }
    device.hellos += 1;
    if (!device.record && autoClaimAfterHellos !== null && device.hellos > autoClaimAfterHellos) claim(device);
    if (device.record) {
      const { authorization, twinId, recordName, recordNumber } = device.record;
      return sendJson(res, 200, {
        webhookUrl: `${base}/webhook-in`,
        headers: { authorization, 'x-twin-id': twinId },
        webhookPolicy: { uploadInterval },
        recordName,
        recordNumber,
      });
    }
    if (!device.claim || device.claim.exp * 1000 <= now()) device.claim = newClaim(base);
    return sendJson(res, 200, { claimCode: device.claim.code, claimUrl: device.claim.url, exp: device.claim.exp });
  }

  // What a person does in the EnergyID app: open the claim URL while logged in.
  function visitClaim(res, url) {
    const code = url.searchParams.get('code');
    const entry = [...devices.values()].find((d) => d.claim?.code === code && d.claim.exp * 1000 > now());
    if (!entry) return sendHtml(res, 404, '<p>This claim code is unknown or expired.</p>');
    claim(entry);
    return sendHtml(res, 200, `<p>Device "${escapeHtml(entry.name)}" is now linked to ${entry.record.recordName}.</p>`);
  }

  async function webhook(req, res) {
    const record = records.get(req.headers.authorization);
    if (!record || req.headers['x-twin-id'] !== record.twinId) {
      return sendJson(res, 401, { error: 'credentials expired or invalid' });
    }
    const at = now();
    if (record.lastAcceptedAt !== null && at - record.lastAcceptedAt < uploadInterval * 1000) {
      const wait = Math.ceil((record.lastAcceptedAt + uploadInterval * 1000 - at) / 1000);
      return sendJson(res, 429, { error: 'too many requests' }, { 'retry-after': String(wait) });
    }
    let payload;
    try {
      payload = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, { error: 'body must be JSON' });
    }
    const items = Array.isArray(payload) ? payload : [payload];
    const problem = items.length === 0 ? 'empty batch' : items.map(validateReading).find(Boolean);
    if (problem) return sendJson(res, 400, { error: problem });
    record.lastAcceptedAt = at;
    record.posts.push({ at, count: items.length });
    record.readings.push(...items);
    res.writeHead(204, { 'access-control-allow-origin': '*' });
    res.end();
  }

  return {
    faults,
    /** Handle a request whose path starts after the service prefix; `base` is the service's base URL. */
    async handle(req, res, path, url, base) {
      if (faults.apply(path, res)) return;
      if (req.method === 'POST' && path === '/hello') return hello(req, res, base);
      if (req.method === 'GET' && path === '/claim') return visitClaim(res, url);
      if (req.method === 'POST' && path === '/webhook-in') return webhook(req, res);
      if (req.method === 'GET' && path === '/_sandbox/records') return sendJson(res, 200, this.records());
      if (req.method === 'POST' && path === '/_sandbox/faults') {
        faults.push(...[].concat(JSON.parse((await readBody(req)) || '[]')));
        return sendJson(res, 200, { ok: true });
      }
      return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
    },
    /** What the webhook accepted, per record, without the credentials. */
    records() {
      return [...devices.entries()]
        .filter(([, d]) => d.record)
        .map(([deviceId, d]) => ({
          deviceId,
          recordName: d.record.recordName,
          recordNumber: d.record.recordNumber,
          posts: d.record.posts,
          readings: d.record.readings,
        }));
    },
  };
}

/** The contract's rules for one object of a webhook POST; a string says what is wrong. */
function validateReading(item) {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return 'every item must be an object';
  if (!Number.isInteger(item.ts)) return 'missing or non-integer ts';
  for (const [key, value] of Object.entries(item)) {
    if (key === 'ts') continue;
    const [base, suffix] = key.split(/\.(.*)/s);
    if (!METRIC_KEYS.has(base) || suffix === '') return `unknown metric key: ${key}`;
    if (typeof value !== 'number' || !Number.isFinite(value)) return `value of ${key} must be a number`;
  }
  return null;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

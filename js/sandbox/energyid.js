// A sandbox EnergyID Webhook V2 (../shared/contracts/energyid.md):
// - `POST /hello` stays unclaimed (claim code, URL, expiry) until the claim URL
//   is visited (`GET /claim?code=`, also at the real app's path
//   `/integrations/webhook-in/new?code=`) or after `claimAfterHellos` hellos;
//   an expired code is replaced by a new one at the next hello. Once claimed,
//   every hello issues fresh webhook credentials (48 h each; earlier ones keep
//   working until they expire), the policy and the record.
// - `POST /webhook-in` takes one reading or an array of them, answers 401
//   (credentials unknown or expired), 403 (webhook disabled), 404 (webhook URL
//   moved), 429 + Retry-After (closer than `uploadInterval` to the last accepted
//   POST), 400 with `{error, problem, index?, key?}` for a malformed payload (or one
//   not sent as `Content-Type: application/json`), and
//   204 once the readings are stored (a value per key and ts: a resend overwrites).
// - `GET /directives` and `/directives/{id}` with `Authorization: device
//   <apiAccessToken>` (the claimed hello hands one out; expireCredentials
//   expires it too): two directives of four quarter-hours each.
// - Read-back and switches for tests and the demo: `GET /_sandbox/records`,
//   `/_sandbox/posts`, `/_sandbox/requests`, `/_sandbox/faults`;
//   `POST /_sandbox/faults`, `POST /_sandbox/reset`.

import { randomBytes, randomUUID } from 'node:crypto';
import { CORS_HEADERS, FaultQueue, readBody, sendHtml, sendJson } from './http.js';

export const SANDBOX_PROVISIONING_KEY = 'sandbox-provisioning-key';
export const SANDBOX_PROVISIONING_SECRET = 'sandbox-provisioning-secret';

// The contract's metric keys; `temperature` appears there as `temperature.living`.
const METRIC_KEYS = [
  'el', 'el-i', 'pwr', 'pwr-i', 'gas', 'pv', 'wind', 'chp', 'sol', 'heat', 'ev', 'bat', 'bat-i',
  'bat-soc', 'dw', 'temperature',
];
const METRICS = new Set(METRIC_KEYS);
// Everything else is a cumulative meter reading, which must never go down.
const GAUGES = new Set(['pwr', 'pwr-i', 'bat-soc', 'temperature']);
const SUFFIX = /^[A-Za-z0-9_-]+$/;
// An integer ts this large is unix milliseconds (year 5138 in seconds).
const MILLISECONDS_TS = 1e11;
const HELLO_OPTIONAL = ['firmwareVersion', 'ipAddress', 'macAddress', 'localDeviceUrl'];
const WEBHOOK = '/webhook-in';
// Contract §1 and §2: both requests say `Content-Type: application/json` (parameters such as charset allowed).
const isJson = (req) => /^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '');
const SWITCHES = ['failPosts', 'dropPosts', 'expireCredentials', 'disableWebhook', 'enableWebhook', 'moveWebhook', 'clear'];

/**
 * @param {object} [options]
 * @param {number} [options.uploadInterval] seconds between two accepted POSTs of a record (default 60, the
 *   real-time add-on); fractions are fine for fast tests
 * @param {number|null} [options.claimAfterHellos] the first N hellos of a device answer unclaimed, hello N+1 claims
 *   it (default null: wait for a visit of the claim URL); 0 claims at the first hello
 * @param {number|null} [options.autoClaimAfterHellos] older name of `claimAfterHellos`
 * @param {number} [options.claimCodeTtlSecs] life of a claim code (default 900)
 * @param {number} [options.credentialTtlSecs] life of the webhook credentials of one hello (default 48 h)
 * @param {object} [options.policy] extra `webhookPolicy` fields, e.g. `{ allowedInterval: 'PT15M' }`
 * @param {number|null} [options.maxBatchSize] refuse (413) a POST of more readings (default null: no limit)
 * @param {() => number} [options.now] unix ms: claim code and credential expiry, arrival times
 * @param {() => number} [options.clock] monotonic ms for the upload policy (default performance.now)
 */
export function createEnergyIdService({
  uploadInterval = 60,
  claimAfterHellos = null,
  autoClaimAfterHellos = null,
  claimCodeTtlSecs = 15 * 60,
  credentialTtlSecs = 48 * 3600,
  policy = {},
  maxBatchSize = null,
  now = Date.now,
  clock = () => performance.now(),
} = {}) {
  const claimAfter = claimAfterHellos ?? autoClaimAfterHellos;
  for (const [name, value] of Object.entries({ uploadInterval, claimCodeTtlSecs, credentialTtlSecs })) {
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`energyid sandbox: ${name} must be a number of seconds ≥ 0`);
    }
  }
  if (claimAfter !== null && !(Number.isInteger(claimAfter) && claimAfter >= 0)) {
    throw new TypeError('energyid sandbox: claimAfterHellos must be an integer ≥ 0 or null');
  }
  if (maxBatchSize !== null && !(Number.isInteger(maxBatchSize) && maxBatchSize > 0)) {
    throw new TypeError('energyid sandbox: maxBatchSize must be an integer > 0 or null');
  }

  let devices = new Map(); // deviceId -> { deviceId, deviceName, info, twinId, hellos, code, record }
  let codes = new Map(); // claim code -> { code, deviceId, url, expiresAt (unix ms), used }
  let credentials = new Map(); // authorization value -> { deviceId, expiresAt (unix ms) }
  let apiTokens = new Map(); // apiAccessToken -> { deviceId, expiresAt (unix ms) }, for the directives
  let posts = []; // every accepted POST, in arrival order
  let log = []; // every request outside /_sandbox/
  let queue = []; // faults for the next requests
  let recordCount = 0;
  let webhookMoves = 0; // moveWebhook(): the webhook URL changes, the old one answers 404
  let allDisabled = false;
  const disabled = new Set(); // deviceIds whose record has the webhook disabled

  const webhookPath = () => (webhookMoves ? `${WEBHOOK}/${webhookMoves}` : WEBHOOK);
  const isWebhookPath = (path) => path === WEBHOOK || path.startsWith(`${WEBHOOK}/`);

  // ---- faults ---------------------------------------------------------------

  const faults = {
    /** Queue faults for the next requests (FaultQueue's format, plus `{drop: true, afterRecording: true}`). */
    push(...items) {
      for (const fault of items) {
        if (fault === null || typeof fault !== 'object' || Array.isArray(fault)) throw new TypeError('a fault is an object');
        queue.push({ ...fault });
      }
    },
    clear() {
      queue = [];
    },
    /** The faults still queued. */
    list: () => queue.map((fault) => ({ ...fault })),
  };

  // A fault's `path` is a suffix of the request path; '/webhook-in' matches the webhook wherever it moved.
  function takeFault(path) {
    const index = queue.findIndex(
      (f) => !f.path || path.endsWith(f.path) || (f.path === WEBHOOK && isWebhookPath(path)),
    );
    return index < 0 ? null : queue.splice(index, 1)[0];
  }

  function applyFault(fault, path, res) {
    const once = new FaultQueue();
    once.push({ ...fault, path: undefined });
    once.apply(path, res);
  }

  // A response whose answer is lost: the request is handled in full, then the connection closes.
  function lostAnswer(res) {
    return {
      statusCode: 200,
      headersSent: false,
      writeHead(status) {
        this.statusCode = status;
        return this;
      },
      setHeader() {},
      end() {
        res.socket?.destroy();
      },
    };
  }

  const forDevice = (deviceId, what) => {
    if (deviceId !== undefined && deviceId !== null && deviceId !== true && typeof deviceId !== 'string') {
      throw new TypeError(`${what}: deviceId must be a string (or omitted for every device)`);
    }
    return typeof deviceId === 'string' ? deviceId : null;
  };

  const switches = {
    /** The next `count` webhook POSTs answer `status` (default 500). */
    failPosts(count = 1, status = 500) {
      for (let i = 0; i < count; i += 1) queue.push({ status, body: { error: `sandbox fault: HTTP ${status}` }, path: WEBHOOK });
    },
    /**
     * The next `count` webhook POSTs lose their connection: before anything happens, or with
     * `afterRecording` once the readings are stored and the POST counted by the policy (a lost answer).
     */
    dropPosts(count = 1, { afterRecording = false } = {}) {
      for (let i = 0; i < count; i += 1) queue.push(afterRecording ? { drop: true, afterRecording: true, path: WEBHOOK } : { drop: true, path: WEBHOOK });
    },
    /** The webhook credentials issued so far (of one device, or all) answer 401; the next hello issues new ones. */
    expireCredentials(deviceId) {
      const only = forDevice(deviceId, 'expireCredentials');
      for (const issued of [credentials, apiTokens]) {
        for (const [token, credential] of issued) {
          if (only === null || credential.deviceId === only) issued.delete(token);
        }
      }
    },
    /** The webhook answers 403 for this device's record (or every record) until enableWebhook. */
    disableWebhook(deviceId) {
      const only = forDevice(deviceId, 'disableWebhook');
      if (only === null) allDisabled = true;
      else disabled.add(only);
    },
    /** Undo disableWebhook, for one device or every one. */
    enableWebhook(deviceId) {
      const only = forDevice(deviceId, 'enableWebhook');
      if (only === null) {
        allDisabled = false;
        disabled.clear();
      } else {
        disabled.delete(only);
        if (allDisabled) {
          // Enabling one device while all are disabled: keep the others disabled.
          allDisabled = false;
          for (const id of devices.keys()) if (id !== only) disabled.add(id);
        }
      }
    },
    /** The webhook URL changes: the old one answers 404 and the next hello hands out the new one. */
    moveWebhook() {
      webhookMoves += 1;
    },
    /** Forget queued faults and re-enable every webhook. */
    clearFaults() {
      queue = [];
      allDisabled = false;
      disabled.clear();
    },
  };

  // `POST /_sandbox/faults`: a fault, a switch object, or an array of them.
  function applyFaultRequest(body) {
    for (const item of [].concat(body)) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw badRequest('each fault is a JSON object');
      if (['status', 'drop', 'html', 'truncate'].some((key) => key in item)) {
        faults.push(item);
        continue;
      }
      const unknown = Object.keys(item).filter((key) => !SWITCHES.includes(key));
      if (unknown.length || !Object.keys(item).length) {
        throw badRequest(`unknown fault ${JSON.stringify(item)}: use {status}, {drop}, {html}, {truncate} or one of ${SWITCHES.join(', ')}`);
      }
      for (const [name, value] of Object.entries(item)) {
        const spec = value !== null && typeof value === 'object' ? value : {};
        const count = typeof value === 'number' ? value : spec.count ?? 1;
        const device = typeof value === 'string' ? value : spec.deviceId;
        if (name === 'failPosts') switches.failPosts(count, spec.status ?? 500);
        else if (name === 'dropPosts') switches.dropPosts(count, { afterRecording: Boolean(spec.afterRecording) });
        else if (name === 'clear') switches.clearFaults();
        else if (name === 'moveWebhook') switches.moveWebhook();
        else switches[name](device);
      }
    }
  }

  function faultState() {
    return {
      queued: faults.list(),
      webhookDisabled: allDisabled ? 'all' : [...disabled],
      webhookPath: webhookPath(),
    };
  }

  // ---- hello and claim ------------------------------------------------------

  function newCode(device, base) {
    let code;
    do code = randomBytes(3).toString('hex').toUpperCase();
    while (codes.has(code));
    const expiresAt = now() + claimCodeTtlSecs * 1000;
    const entry = { code, deviceId: device.deviceId, url: `${base}/claim?code=${code}`, expiresAt, used: false };
    codes.set(code, entry);
    return entry;
  }

  function claim(device) {
    if (device.record) return device.record;
    recordCount += 1;
    device.record = {
      recordName: `Sandbox home ${recordCount}`,
      recordNumber: `EA-${String(10000000 + recordCount)}`,
      claimedAt: now(),
      values: new Map(), // ts -> Map(key -> value)
      posts: [],
      lastAccepted: null, // clock() of the last accepted POST
    };
    if (device.code) device.code.used = true;
    device.code = null;
    return device.record;
  }

  async function hello(req, res, base, entry) {
    if (req.headers['x-provisioning-key'] !== SANDBOX_PROVISIONING_KEY ||
        req.headers['x-provisioning-secret'] !== SANDBOX_PROVISIONING_SECRET) {
      return sendJson(res, 401, { error: 'invalid provisioning credentials' });
    }
    if (!isJson(req)) return sendJson(res, 400, { error: 'Content-Type must be application/json' });
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, { error: 'body must be JSON' });
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return sendJson(res, 400, { error: 'body must be a JSON object' });
    }
    for (const field of ['deviceId', 'deviceName']) {
      if (typeof body[field] !== 'string' || !body[field]) return sendJson(res, 400, { error: `${field} is required (a non-empty string)` });
    }
    for (const field of HELLO_OPTIONAL) {
      // "Leave out when empty": an empty optional field is not the same as none.
      if (field in body && (typeof body[field] !== 'string' || !body[field])) {
        return sendJson(res, 400, { error: `${field} must be a non-empty string, or left out` });
      }
    }
    entry.deviceId = body.deviceId;
    let device = devices.get(body.deviceId);
    if (!device) {
      device = { deviceId: body.deviceId, twinId: randomUUID(), hellos: 0, code: null, record: null };
      devices.set(body.deviceId, device);
    }
    device.deviceName = body.deviceName;
    device.info = Object.fromEntries(HELLO_OPTIONAL.filter((field) => field in body).map((field) => [field, body[field]]));
    device.hellos += 1;
    if (!device.record && claimAfter !== null && device.hellos > claimAfter) claim(device);

    if (device.record) {
      const authorization = `Bearer sbx-${randomBytes(24).toString('hex')}`;
      credentials.set(authorization, { deviceId: device.deviceId, expiresAt: now() + credentialTtlSecs * 1000 });
      const apiAccessToken = `sbx-api-${randomBytes(24).toString('hex')}`;
      apiTokens.set(apiAccessToken, { deviceId: device.deviceId, expiresAt: now() + credentialTtlSecs * 1000 });
      return sendJson(res, 200, {
        webhookUrl: `${base}${webhookPath()}`,
        headers: { authorization, 'x-twin-id': device.twinId },
        webhookPolicy: { ...policy, uploadInterval },
        recordName: device.record.recordName,
        recordNumber: device.record.recordNumber,
        apiAccessToken,
      });
    }
    if (!device.code || device.code.expiresAt <= now()) device.code = newCode(device, base);
    const { code, url, expiresAt } = device.code;
    return sendJson(res, 200, { claimCode: code, claimUrl: url, exp: Math.ceil(expiresAt / 1000) });
  }

  // What a person does in the EnergyID app: open the claim URL while logged in.
  function visitClaim(res, url, entry) {
    const issued = codes.get((url.searchParams.get('code') ?? '').trim().toUpperCase());
    if (!issued) return sendHtml(res, 404, '<p>This claim code is unknown.</p>');
    const device = devices.get(issued.deviceId);
    entry.deviceId = device.deviceId;
    if (device.record) {
      return sendHtml(res, 200, `<p>Device "${escapeHtml(device.deviceName)}" is already linked to ${device.record.recordName}.</p>`);
    }
    if (issued.expiresAt <= now()) {
      return sendHtml(res, 410, '<p>This claim code has expired: the device shows a new one at its next hello.</p>');
    }
    claim(device);
    issued.used = true;
    return sendHtml(res, 200, `<p>Device "${escapeHtml(device.deviceName)}" is now linked to ${device.record.recordName}.</p>`);
  }

  // ---- webhook --------------------------------------------------------------

  async function webhook(req, res, path, entry) {
    const text = await readBody(req);
    if (path !== webhookPath()) {
      return sendJson(res, 404, { error: 'this webhook URL is no longer valid; call hello again' });
    }
    const authorization = req.headers.authorization ?? '';
    const credential = credentials.get(authorization);
    if (credential && credential.expiresAt <= now()) credentials.delete(authorization);
    const device = credential && credential.expiresAt > now() ? devices.get(credential.deviceId) : undefined;
    if (!device || req.headers['x-twin-id'] !== device.twinId) {
      return sendJson(res, 401, { error: 'credentials expired or invalid; call hello again' });
    }
    entry.deviceId = device.deviceId;
    if (allDisabled || disabled.has(device.deviceId)) {
      return sendJson(res, 403, { error: 'the webhook is disabled for this record' });
    }
    const record = device.record;
    const t = clock();
    const intervalMs = uploadInterval * 1000;
    if (record.lastAccepted !== null && t - record.lastAccepted < intervalMs) {
      const waitMs = record.lastAccepted + intervalMs - t;
      return sendJson(
        res,
        429,
        { error: `too many requests: at most one upload every ${uploadInterval} s`, retryAfterMs: Math.ceil(waitMs) },
        { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
      );
    }
    if (!isJson(req)) return refuse(res, entry, { problem: 'content_type', error: 'Content-Type must be application/json' });
    let payload;
    try {
      payload = JSON.parse(text);
    } catch {
      return refuse(res, entry, { problem: 'bad_json', error: 'body must be JSON: one reading object or an array of them' });
    }
    const items = Array.isArray(payload) ? payload : [payload];
    if (items.length === 0) return refuse(res, entry, { problem: 'empty_batch', error: 'empty batch: send at least one reading' });
    if (maxBatchSize !== null && items.length > maxBatchSize) {
      entry.error = `batch of ${items.length} readings`;
      return sendJson(res, 413, { error: `batch too large: ${items.length} readings, at most ${maxBatchSize} per POST` });
    }
    for (const [index, item] of items.entries()) {
      const problem = validateReading(item);
      if (problem) {
        const where = Array.isArray(payload) ? `item ${index}${Number.isInteger(item?.ts) ? ` (ts ${item.ts})` : ''}: ` : '';
        return refuse(res, entry, { ...problem, error: where + problem.error, ...(Array.isArray(payload) ? { index } : {}) });
      }
    }

    record.lastAccepted = t;
    let duplicates = 0;
    for (const { ts, ...values } of items) {
      if (!record.values.has(ts)) record.values.set(ts, new Map());
      const stored = record.values.get(ts);
      for (const [key, value] of Object.entries(values)) {
        if (stored.has(key)) duplicates += 1;
        stored.set(key, value);
      }
    }
    const post = { at: now(), count: items.length, duplicates };
    record.posts.push(post);
    posts.push({ deviceId: device.deviceId, recordNumber: record.recordNumber, ...post });
    entry.count = items.length;
    res.writeHead(204, CORS_HEADERS);
    res.end();
  }

  function refuse(res, entry, problem) {
    entry.error = problem.error;
    return sendJson(res, 400, problem);
  }

  // ---- read-back ------------------------------------------------------------

  function records() {
    return [...devices.values()]
      .filter((device) => device.record)
      .map((device) => {
        const { record } = device;
        const readings = [...record.values.entries()]
          .sort(([a], [b]) => a - b)
          .map(([ts, values]) => ({ ts, ...Object.fromEntries(values) }));
        return {
          deviceId: device.deviceId,
          deviceName: device.deviceName,
          ...(Object.keys(device.info).length ? { deviceInfo: { ...device.info } } : {}),
          recordName: record.recordName,
          recordNumber: record.recordNumber,
          claimedAt: record.claimedAt,
          webhookEnabled: !allDisabled && !disabled.has(device.deviceId),
          readings,
          posts: record.posts.map((post) => ({ ...post })),
          decreases: decreasesOf(readings),
        };
      });
  }

  function requests() {
    const byPath = {};
    for (const entry of log) byPath[entry.path] = (byPath[entry.path] ?? 0) + 1;
    return { total: log.length, byPath, list: log.map((entry) => ({ ...entry })) };
  }

  /** Forget the data; with `devices: true` also the devices, claims and credentials (a new EnergyID). */
  function reset({ devices: forgetDevices = false } = {}) {
    for (const device of devices.values()) {
      if (!device.record) continue;
      device.record.values = new Map();
      device.record.posts = [];
      device.record.lastAccepted = null;
    }
    posts = [];
    log = [];
    switches.clearFaults();
    if (forgetDevices) {
      devices = new Map();
      codes = new Map();
      credentials = new Map();
      apiTokens = new Map();
      recordCount = 0;
      webhookMoves = 0;
    }
  }

  async function sandboxEndpoint(req, res, path, url) {
    const route = `${req.method} ${path}`;
    if (route === 'GET /_sandbox/records') return sendJson(res, 200, records());
    if (route === 'GET /_sandbox/posts') return sendJson(res, 200, posts.map((post) => ({ ...post })));
    if (route === 'GET /_sandbox/requests') return sendJson(res, 200, requests());
    if (route === 'GET /_sandbox/faults') return sendJson(res, 200, faultState());
    if (route === 'POST /_sandbox/faults' || route === 'POST /_sandbox/reset') {
      let body;
      try {
        const text = await readBody(req);
        body = text.trim() ? JSON.parse(text) : route === 'POST /_sandbox/faults' ? [] : {};
        if (route === 'POST /_sandbox/reset') {
          reset({ devices: Boolean(body?.devices) || ['1', 'true'].includes(url.searchParams.get('devices')) });
          return sendJson(res, 200, { ok: true });
        }
        applyFaultRequest(body);
      } catch (err) {
        return sendJson(res, 400, { error: err instanceof SyntaxError ? `body must be JSON: ${err.message}` : err.message });
      }
      return sendJson(res, 200, { ok: true, ...faultState() });
    }
    return sendJson(res, 404, { error: `no such endpoint: ${route}` });
  }

  return {
    faults,
    ...switches,
    /** Claim a device as if its claim URL was visited (it must have said hello). */
    claim(deviceId) {
      const device = devices.get(deviceId);
      if (!device) throw new Error(`energyid sandbox: no device ${deviceId} has said hello`);
      const { recordName, recordNumber } = claim(device);
      return { recordName, recordNumber };
    },
    /** What the webhook accepted, per record, without the credentials; readings once per (key, ts), by ts. */
    records,
    /** The accepted POSTs of every record, in arrival order: `{deviceId, recordNumber, at, count, duplicates}`. */
    posts: () => posts.map((post) => ({ ...post })),
    /** Every request outside /_sandbox/: `{ total, byPath, list: [{at, method, path, deviceId, status, ...}] }`. */
    requests,
    reset,
    /** Handle a request whose path starts after the service prefix; `base` is the service's base URL. */
    async handle(req, res, path, url, base) {
      if (path.startsWith('/_sandbox/')) return sandboxEndpoint(req, res, path, url);
      const entry = { at: now(), method: req.method, path, deviceId: null, status: 0 };
      log.push(entry);
      const fault = takeFault(path);
      if (fault && !(fault.drop && fault.afterRecording)) {
        applyFault(fault, path, res);
        entry.status = res.headersSent ? res.statusCode : 0; // 0: the connection was dropped
        entry.fault = true;
        if (fault.drop) entry.dropped = true;
        return;
      }
      const out = fault ? lostAnswer(res) : res;
      if (fault) entry.fault = true;
      try {
        await route(req, out, path, url, base, entry);
      } catch (err) {
        entry.status = err.status ?? 500;
        throw err;
      }
      entry.status = out.headersSent || fault ? out.statusCode : 0;
      if (fault) entry.dropped = true;
    },
  };

  function route(req, res, path, url, base, entry) {
    if (req.method === 'POST' && path === '/hello') return hello(req, res, base, entry);
    if (req.method === 'GET' && (path === '/claim' || path === '/integrations/webhook-in/new')) return visitClaim(res, url, entry);
    if (req.method === 'POST' && isWebhookPath(path)) return webhook(req, res, path, entry);
    if (req.method === 'GET' && (path === '/directives' || path.startsWith('/directives/'))) return directives(req, res, path, entry);
    return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
  }

  // ---- directives (contract §4) ----------------------------------------------

  // `Authorization: device <apiAccessToken>`; 401 once the token expired, until the next hello.
  function directives(req, res, path, entry) {
    const token = /^device (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const issued = token && apiTokens.get(token);
    if (!issued || issued.expiresAt <= now()) return sendJson(res, 401, { error: 'apiAccessToken expired or invalid; call hello again' });
    entry.deviceId = issued.deviceId;
    const id = path === '/directives' ? null : decodeURIComponent(path.slice('/directives/'.length));
    if (id === null) return sendJson(res, 200, DIRECTIVES.map(({ id: key, title, description }) => ({ id: key, title, description, properties: ['signal', 'color'], signalProvider: SIGNAL_PROVIDER })));
    const directive = DIRECTIVES.find((d) => d.id === id);
    if (!directive) return sendJson(res, 404, { error: `no directive ${id}` });
    // Four quarter-hours from the current one, a signal per step.
    const start = Math.floor(now() / 900_000) * 900_000;
    const data = [0, 1, 2, 3].map((i) => {
      const rawValue = directive.values[i];
      const signal = rawValue < 0.15 ? 'low' : rawValue < 0.3 ? 'normal' : 'high';
      return { timestamp: new Date(start + i * 900_000).toISOString().replace('.000Z', 'Z'), signal, color: { low: 'green', normal: 'orange', high: 'red' }[signal], rawValue };
    });
    return sendJson(res, 200, { title: directive.title, interval: 'PT15M', data });
  }
}

const SIGNAL_PROVIDER = { id: 'sandbox-grid', displayName: 'Sandbox grid operator', logoUrl: 'https://example.invalid/logo.png' };
const DIRECTIVES = [
  { id: 'dynamic-tariff', title: 'Dynamic tariff', description: 'Use electricity when it is cheap', values: [0.12, 0.21, 0.34, 0.09] },
  { id: 'grid-congestion', title: 'Grid congestion', description: 'Shift load away from busy hours', values: [0.31, 0.28, 0.1, 0.05] },
];

function badRequest(message) {
  return Object.assign(new Error(message), { status: 400 });
}

/** The contract's rules for one object of a webhook POST: null, or `{problem, error, key?}`. */
function validateReading(item) {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { problem: 'not_object', error: `every reading must be a JSON object with ts and metric values, got ${describe(item)}` };
  }
  if (!('ts' in item)) return { problem: 'missing_ts', error: 'missing ts (integer unix seconds, UTC)', key: 'ts' };
  const { ts } = item;
  if (!Number.isInteger(ts)) return { problem: 'bad_ts', error: `ts must be an integer of unix seconds, got ${describe(ts)}`, key: 'ts' };
  if (ts >= MILLISECONDS_TS) return { problem: 'bad_ts', error: `ts ${ts} is in milliseconds; send unix seconds`, key: 'ts' };
  if (ts < 0) return { problem: 'bad_ts', error: `ts ${ts} is before 1970; send unix seconds`, key: 'ts' };
  const keys = Object.keys(item).filter((key) => key !== 'ts');
  if (!keys.length) return { problem: 'no_values', error: `reading at ts ${ts} has no metric values` };
  for (const key of keys) {
    const dot = key.indexOf('.');
    const base = dot < 0 ? key : key.slice(0, dot);
    if (!METRICS.has(base) || (dot >= 0 && !SUFFIX.test(key.slice(dot + 1)))) {
      return {
        problem: 'unknown_key',
        error: `unknown metric key '${key}': use one of ${METRIC_KEYS.join(', ')}, optionally with a dot suffix such as el.t1`,
        key,
      };
    }
    const value = item[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return { problem: 'bad_value', error: `value of '${key}' must be a number, got ${describe(value)}`, key };
    }
  }
  return null;
}

/** Cumulative series (all but the gauges) that go down from one ts to the next. */
function decreasesOf(readings) {
  const last = new Map(); // key -> { ts, value }
  const found = [];
  for (const { ts, ...values } of readings) {
    for (const [key, value] of Object.entries(values)) {
      if (GAUGES.has(key.split('.')[0])) continue;
      const before = last.get(key);
      if (before && value < before.value) found.push({ key, ts, value, previousTs: before.ts, previous: before.value });
      last.set(key, { ts, value });
    }
  }
  return found;
}

function describe(value) {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// A strict stand-in of Jeedom 4.5.3's JSON-RPC API (`core/api/jeeApi.php`),
// built from ../shared/contracts/jeedom.md, for the tests and `demo`:
// - always HTTP 200: `{jsonrpc, id, result}` or `{jsonrpc, id, error: {code,
//   message}}`, codes −32000 − the thrown code, an empty result as "ok";
// - the key in `params.apikey` (or `api`), checked on every method but ping,
//   and the key's access mode (enable, whiteip, localhost, disable);
// - a body that is not a JSON-RPC 2.0 object is a bad `jsonrpc` (−32001);
// - ids and flags come back as strings; a new eqLogic is disabled and hidden
//   unless told otherwise, and events on a disabled one are dropped silently;
// - `eqLogic::save` with `cmd[]` deletes every other command and its history;
// - `cmd::event` always sets the current value, and with `isHistorized` writes
//   a history row keyed by (cmd_id, datetime), which a resend replaces;
//   datetimes are naive `YYYY-MM-DD HH:MM:SS`, in the box's time zone (so the
//   autumn's second 02:30 overwrites the first); a numeric value has its
//   commas made dots, a non-number becomes 0, then `historizeRound` and
//   min/maxValue apply;
// - `archive(now)` runs the nightly archive: numeric rows older than
//   `historyArchiveTime` hours reduced per hour by `historizeMode` (avg,
//   min, max; none keeps every point), rounded to `historizeRound`, else 2;
// - the unit field is `unite` (`unit` is ignored, like any unknown field).
// Not modelled: the HTTP API, bans, plugin keys, user hashes, calculValueOffset.

import { readBody, sendJson } from './http.js';

/** The core API key of the sandbox box. */
export const SANDBOX_JEEDOM_API_KEY = 'sandbox-jeedom-core-key-0123456789abcdef';

const ERR = {
  noKey: [-32001, 'Vous n\'êtes pas autorisé à effectuer cette action (API désactivée ou clé absente)'],
  apiOff: [-32001, 'Vous n\'êtes pas autorisé à effectuer cette action (accès API désactivé pour cette adresse)'],
  badJsonRpc: [-32001, 'Requête invalide. Version JSON-RPC invalide'],
  wrongKey: [-32002, 'Vous n\'êtes pas autorisé à effectuer cette action'],
  unknownMethod: [-32500, 'Aucune méthode correspondante'],
  objectNotFound: [-32601, 'Objet introuvable'],
  eqNotFound: [-32602, 'EqLogic introuvable'],
  cmdNotFound: [-32702, 'Commande introuvable'],
};

class RpcError extends Error {
  constructor([code, message], detail = '') {
    super(detail ? `${message} : ${detail}` : message);
    this.code = code;
  }
}

const str = (value) => (value === undefined || value === null ? '' : String(value));

/** `YYYY-MM-DD HH:MM:SS` in `timeZone`. */
function localNow(ms, timeZone) {
  const parts = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(ms)) parts[type] = value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/**
 * @param {object} [options]
 * @param {string} [options.apiKey] the core key
 * @param {string} [options.timezone] config `timezone` (Jeedom's default: Europe/Brussels)
 * @param {{id: string, name: string}[]} [options.objects] the rooms
 * @param {() => number} [options.now] unix ms
 * @param {'enable'|'whiteip'|'localhost'|'disable'} [options.apiMode] the core key's API access (`config.apiMode`, may change)
 * @param {string[]} [options.whiteIps] addresses `whiteip` lets in
 */
export function createJeedomService({ apiKey = SANDBOX_JEEDOM_API_KEY, timezone = 'Europe/Brussels', objects = [{ id: '1', name: 'Maison' }, { id: '2', name: 'Garage' }], now = Date.now, apiMode = 'enable', whiteIps = [] } = {}) {
  const eqLogics = new Map(); // id -> eqLogic (string fields)
  const cmds = new Map(); // id -> cmd
  const history = new Map(); // cmd id -> Map(datetime -> value)
  const config = { timezone, apiMode, historyArchiveTime: 2 };
  const calls = []; // {method, params without the key}
  let nextEq = 1;
  let nextCmd = 1;

  const answer = (id, result) => ({ jsonrpc: '2.0', id, result: result === null || result === undefined || result === 0 || (Array.isArray(result) && result.length === 0) ? 'ok' : result });
  const failure = (id, error) => ({ jsonrpc: '2.0', id, error: { code: error.code, message: error.message } });

  const eqOf = (id) => {
    const eq = eqLogics.get(str(id));
    if (!eq) throw new RpcError(ERR.eqNotFound, str(id));
    return eq;
  };
  const cmdOf = (id, notFound = ERR.cmdNotFound) => {
    const cmd = cmds.get(str(id));
    if (!cmd) throw new RpcError(notFound, str(id));
    return cmd;
  };
  const withCmds = (eq) => ({ ...eq, cmds: [...cmds.values()].filter((c) => c.eqLogic_id === eq.id).map(withValue) });
  const withValue = (cmd) => ({ ...cmd, currentValue: cmd.currentValue });
  const merge = (target, fields, keys) => {
    for (const key of keys) if (fields[key] !== undefined) target[key] = typeof fields[key] === 'object' && fields[key] !== null ? fields[key] : str(fields[key]);
  };
  const EQ_FIELDS = ['name', 'logicalId', 'object_id', 'isEnable', 'isVisible', 'eqType_name'];
  const CMD_FIELDS = ['name', 'logicalId', 'type', 'subType', 'unite', 'isHistorized', 'isVisible', 'generic_type', 'eqType'];

  function deleteCmd(id) {
    cmds.delete(id);
    history.delete(id);
  }

  function saveCmd(params) {
    let cmd;
    if (params.id !== undefined && params.id !== null && params.id !== '') {
      cmd = cmdOf(params.id, ERR.cmdNotFound);
    } else {
      if (str(params.eqType_name) !== 'virtual') throw new RpcError([-32000, 'Type d\'équipement invalide'], str(params.eqType_name));
      const eq = eqOf(params.eqLogic_id);
      cmd = { id: String(nextCmd++), eqLogic_id: eq.id, eqType: 'virtual', name: '', logicalId: '', type: 'info', subType: 'string', unite: '', isHistorized: '0', isVisible: '1', generic_type: '', configuration: {}, currentValue: null };
    }
    const name = params.name === undefined ? cmd.name : str(params.name);
    if (!name) throw new RpcError([-32000, 'Le nom de la commande ne peut pas être vide']);
    if ([...cmds.values()].some((c) => c.id !== cmd.id && c.eqLogic_id === cmd.eqLogic_id && c.name === name)) throw new RpcError([-32000, 'Le nom de la commande doit être unique dans l\'équipement'], name);
    merge(cmd, params, CMD_FIELDS);
    cmd.configuration = { ...cmd.configuration, ...(params.configuration ?? {}) };
    cmds.set(cmd.id, cmd);
    return withValue(cmd);
  }

  function saveEq(params) {
    if (str(params.eqType_name) !== 'virtual') throw new RpcError([-32000, 'Type d\'équipement invalide'], str(params.eqType_name));
    let eq;
    if (params.id !== undefined && params.id !== null && params.id !== '') {
      eq = eqOf(params.id);
    } else {
      eq = { id: String(nextEq++), eqType_name: 'virtual', name: '', logicalId: '', object_id: null, isEnable: '0', isVisible: '0', category: {}, configuration: {} };
    }
    if (params.object_id !== undefined && params.object_id !== null && params.object_id !== '' && !objects.some((o) => o.id === str(params.object_id))) throw new RpcError(ERR.objectNotFound, str(params.object_id));
    const name = params.name === undefined ? eq.name : str(params.name);
    const object = params.object_id === undefined ? eq.object_id : str(params.object_id) || null;
    if (!name) throw new RpcError([-32000, 'Le nom de l\'équipement ne peut pas être vide']);
    if ([...eqLogics.values()].some((e) => e.id !== eq.id && e.object_id === object && e.name === name)) throw new RpcError([-32000, 'Un équipement portant ce nom existe déjà dans cet objet'], name);
    merge(eq, params, EQ_FIELDS);
    eq.object_id = object;
    eq.category = { ...eq.category, ...(params.category ?? {}) };
    eq.configuration = { ...eq.configuration, ...(params.configuration ?? {}) };
    eqLogics.set(eq.id, eq);
    if (Array.isArray(params.cmd)) {
      // Contract §2: every other cmd (and its history) goes, but virtual `refresh`.
      const keep = new Set();
      for (const fields of params.cmd) keep.add(saveCmd({ ...fields, eqType_name: 'virtual', eqLogic_id: eq.id }).id);
      for (const cmd of [...cmds.values()]) if (cmd.eqLogic_id === eq.id && !keep.has(cmd.id) && cmd.logicalId !== 'refresh') deleteCmd(cmd.id);
    }
    return eq;
  }

  /** A numeric value as Jeedom keeps it: `,` → `.`, a non-number → 0, then historizeRound and min/maxValue. */
  function numeric(cmd, text) {
    let value = Number(/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text.replaceAll(',', '.')) ? text.replaceAll(',', '.') : 0);
    const { historizeRound: round, minValue: min, maxValue: max } = cmd.configuration ?? {};
    if (str(round) !== '') value = Number(value.toFixed(Number(round)));
    if (str(min) !== '' && value < Number(min)) value = Number(min);
    if (str(max) !== '' && value > Number(max)) value = Number(max);
    return String(value);
  }

  function event(params) {
    const cmd = cmdOf(params.id);
    if (params.datetime && !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(str(params.datetime))) throw new RpcError([-32000, 'Date invalide (YYYY-MM-DD HH:MM:SS attendu)'], str(params.datetime));
    const eq = eqLogics.get(cmd.eqLogic_id);
    if (!eq || eq.isEnable !== '1') return 'ok'; // dropped silently
    const value = cmd.subType === 'numeric' ? numeric(cmd, str(params.value)) : str(params.value);
    const datetime = params.datetime ? str(params.datetime) : localNow(now(), config.timezone);
    cmd.currentValue = value;
    if (cmd.isHistorized === '1') {
      if (!history.has(cmd.id)) history.set(cmd.id, new Map());
      history.get(cmd.id).set(datetime, value);
    }
    return 'ok';
  }

  const METHODS = {
    ping: () => 'pong',
    version: () => '4.5.3',
    datetime: () => now() / 1000,
    'config::byKey': (p) => config[str(p.key)] ?? '',
    'jeeObject::all': () => objects.map((o) => ({ ...o })),
    'eqLogic::byType': (p) => [...eqLogics.values()].filter((e) => e.eqType_name === str(p.type)).map((e) => ({ ...e })),
    'eqLogic::byObjectId': (p) => [...eqLogics.values()].filter((e) => e.object_id === str(p.object_id) && e.isEnable === '1').map((e) => ({ ...e })),
    'eqLogic::fullById': (p) => withCmds(eqOf(p.id)),
    'eqLogic::save': saveEq,
    'cmd::byEqLogicId': (p) => [...cmds.values()].filter((c) => c.eqLogic_id === str(p.eqLogic_id)).map(withValue),
    'cmd::byId': (p) => withValue(cmdOf(p.id, [-32701, 'Commande introuvable'])),
    'cmd::save': saveCmd,
    'cmd::event': event,
    'cmd::getHistory': (p) => {
      const cmd = cmdOf(p.id);
      return rowsBetween(cmd, p).map(([datetime, value]) => ({ cmd_id: cmd.id, datetime, value }));
    },
    'cmd::getStatistique': (p) => {
      // Cast to DECIMAL(12,2), as Jeedom's SQL does (contract §7).
      const values = rowsBetween(cmdOf(p.id), p).map(([, value]) => Number(value));
      const two = (x) => Math.round(x * 100) / 100;
      const count = values.length;
      const sum = values.reduce((a, b) => a + b, 0);
      const avg = count ? sum / count : 0;
      const variance = count ? values.reduce((a, b) => a + (b - avg) ** 2, 0) / count : 0;
      return { avg: two(avg), min: two(count ? Math.min(...values) : 0), max: two(count ? Math.max(...values) : 0), sum: two(sum), count, std: two(Math.sqrt(variance)), variance: two(variance), last: two(values.at(-1) ?? 0) };
    },
  };

  /** A command's history rows `[datetime, value]` within `startTime`…`endTime`, ascending. */
  function rowsBetween(cmd, { startTime, endTime }) {
    const rows = [...(history.get(cmd.id) ?? new Map())].filter(([at]) => (!startTime || at >= str(startTime)) && (!endTime || at <= str(endTime)));
    return rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The nightly archive (contract §7), at `at` (unix ms). */
  function archive(at = now()) {
    const before = localNow(at - config.historyArchiveTime * 3_600_000, config.timezone);
    for (const [id, rows] of history) {
      const cmd = cmds.get(id);
      const mode = cmd?.configuration?.historizeMode ?? 'avg';
      if (!cmd || cmd.subType !== 'numeric' || mode === 'none') continue;
      const round = str(cmd.configuration.historizeRound) === '' ? 2 : Number(cmd.configuration.historizeRound);
      const hours = new Map();
      for (const [datetime, value] of rows) if (datetime < before) hours.set(datetime.slice(0, 13), [...(hours.get(datetime.slice(0, 13)) ?? []), [datetime, Number(value)]]);
      for (const [, points] of hours) {
        const values = points.map(([, v]) => v);
        const reduced = mode === 'min' ? Math.min(...values) : mode === 'max' ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / values.length;
        for (const [datetime] of points) rows.delete(datetime);
        rows.set(points[0][0], String(Number(reduced.toFixed(round))));
      }
    }
  }

  /** Whether the core key's access mode lets `address` in. */
  const allowed = (address) => {
    const ip = str(address).replace(/^::ffff:/, '');
    if (config.apiMode === 'enable') return true;
    if (config.apiMode === 'localhost') return ip === '127.0.0.1' || ip === '::1';
    if (config.apiMode === 'whiteip') return whiteIps.includes(ip);
    return false;
  };

  function call(request, address) {
    const id = request?.id === undefined ? 99999 : request.id;
    try {
      if (request?.jsonrpc !== '2.0') throw new RpcError(ERR.badJsonRpc);
      const params = request.params && typeof request.params === 'object' ? request.params : {};
      const key = params.apikey ?? params.api;
      const method = str(request.method);
      const { apikey: _k, api: _a, ...shown } = params;
      calls.push({ method, params: shown });
      if (method !== 'ping') {
        if (!key) throw new RpcError(ERR.noKey);
        if (key !== apiKey) throw new RpcError(ERR.wrongKey);
        if (!allowed(address)) throw new RpcError(ERR.apiOff);
      }
      const run = METHODS[method];
      if (!run) throw new RpcError(ERR.unknownMethod, method);
      return answer(id, run(params));
    } catch (err) {
      if (err instanceof RpcError) return failure(id, err);
      throw err;
    }
  }

  return {
    apiKey,
    config,
    calls,
    /** Equipments, commands and history as the box holds them (tests look, never touch). */
    eqLogics: () => [...eqLogics.values()].map((e) => ({ ...e })),
    cmds: (eqLogicId) => [...cmds.values()].filter((c) => eqLogicId === undefined || c.eqLogic_id === str(eqLogicId)).map((c) => ({ ...c })),
    /** `[[datetime, value], …]` of a command, by datetime. */
    history: (cmdId) => [...(history.get(str(cmdId)) ?? new Map())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    /** The number of `cmd::event` calls so far. */
    events: () => calls.filter((c) => c.method === 'cmd::event').length,
    archive,

    async handle(req, res, path, url) {
      if (path !== '/core/api/jeeApi.php') return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
      let text = url.searchParams.get('request');
      if (req.method === 'POST') {
        const body = await readBody(req);
        const form = /application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '') ? new URLSearchParams(body).get('request') : null;
        text = form ?? (body || text);
      }
      let request;
      try {
        request = JSON.parse(text ?? '');
      } catch {
        request = null; // not JSON: no `jsonrpc` of 2.0, so a bad-jsonrpc error as Jeedom answers it
      }
      // No batch: an array has no `jsonrpc` either.
      return sendJson(res, 200, call(Array.isArray(request) ? null : request, req.socket.remoteAddress));
    },
  };
}

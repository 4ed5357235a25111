// A small strict stand-in for Home Assistant's WebSocket API, built from
// ../shared/contracts/homeassistant.md (§1, §2): the auth handshake, ids rising
// per connection, the recorder's three statistics commands with the metadata
// schema of the release it claims to be, and fault switches. The real HA
// 2024.3.3 is tested in ha-real.test.mjs; this one covers what that release
// cannot: the ≥ 2025.11 schema, a non-admin user, a busy recorder.
import { WebSocketServer } from 'ws';

const OLD_KEYS = ['has_mean', 'has_sum', 'name', 'source', 'statistic_id', 'unit_of_measurement'];
const NEW_REQUIRED = ['has_sum', 'name', 'source', 'statistic_id', 'unit_of_measurement'];
const NEW_OPTIONAL = ['mean_type', 'unit_class', 'has_mean'];
const STATISTIC_ID = /^(?!.+__)(?!_)[\da-z_]+(?<!_):(?!_)[\da-z_]+(?<!_)$/;
const ENERGY_UNITS = ['Wh', 'kWh', 'MWh', 'GJ', 'MJ'];

const isNew = (version) => {
  const [year, month] = version.split('.').map(Number);
  return year > 2025 || (year === 2025 && month >= 11);
};

/**
 * @param {{version?: string, tokens?: Record<string, {admin: boolean}>, schemaOf?: string, authTimeoutMs?: number}} options
 *   `schemaOf`: check the metadata of this release whatever `version` says.
 *   `authTimeoutMs`: close a connection that sent no auth message within this
 *   long, as HA does after 10 s (websocket_api/http.py: "Did not receive auth
 *   message within 10 seconds").
 */
export async function startHaStandIn({ version = '2025.11.0', tokens = { 'admin-token': { admin: true } }, schemaOf, authTimeoutMs = 10_000 } = {}) {
  /** statistic_id → {metadata, rows: Map<startMs, {state, sum}>} */
  const db = new Map();
  const warnings = [];
  const frames = [];
  const faults = { busy: false };
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/api/websocket' });
  await new Promise((resolve) => server.on('listening', resolve));
  const newSchema = isNew(schemaOf ?? version);

  const importStatistics = (message, user) => {
    if (!user.admin) return ['unauthorized', 'Unauthorized'];
    const meta = message.metadata ?? {};
    const allowed = newSchema ? [...NEW_REQUIRED, ...NEW_OPTIONAL] : OLD_KEYS;
    const extra = Object.keys(meta).find((k) => !allowed.includes(k));
    if (extra) return ['invalid_format', `extra keys not allowed @ data['metadata']['${extra}']`];
    const missing = (newSchema ? NEW_REQUIRED : OLD_KEYS).find((k) => !(k in meta));
    if (missing) return ['invalid_format', `required key not provided @ data['metadata']['${missing}']`];
    if (newSchema && (!('mean_type' in meta) || !('unit_class' in meta))) {
      warnings.push(`${meta.statistic_id}: metadata without mean_type/unit_class will stop working in HA Core 2026.11`);
    }
    if (newSchema && meta.unit_class === 'energy' && !ENERGY_UNITS.includes(meta.unit_of_measurement)) {
      return ['home_assistant_error', `Unsupported unit_of_measurement ${meta.unit_of_measurement} for unit_class energy`];
    }
    if (!STATISTIC_ID.test(meta.statistic_id)) return ['home_assistant_error', 'Invalid statistic_id'];
    if (meta.source !== meta.statistic_id.split(':')[0]) return ['home_assistant_error', 'Invalid source'];
    const rows = [];
    for (const row of message.stats ?? []) {
      if (!/(Z|[+-]\d\d:\d\d)$/.test(row.start)) return ['invalid_format', `Naive timestamp @ data['stats'][0]['start']`];
      const ms = Date.parse(row.start);
      if (Number.isNaN(ms) || ms % 3_600_000 !== 0) return ['invalid_format', `Invalid timestamp @ data['stats'][0]['start']`];
      rows.push([ms, { state: row.state ?? null, sum: row.sum ?? null }]);
    }
    const entry = db.get(meta.statistic_id) ?? { metadata: meta, rows: new Map() };
    entry.metadata = { ...meta, source: entry.metadata.source };
    for (const [ms, row] of rows) entry.rows.set(ms, row); // the same start overwrites the row
    db.set(meta.statistic_id, entry);
    return null;
  };

  server.on('connection', (socket) => {
    let user = null;
    let lastId = 0;
    const send = (value) => socket.send(JSON.stringify(value));
    send({ type: 'auth_required', ha_version: version });
    const authWindow = setTimeout(() => socket.close(), authTimeoutMs);
    socket.on('close', () => clearTimeout(authWindow));
    socket.on('message', (data) => {
      const text = data.toString();
      frames.push(text);
      let message;
      try {
        message = JSON.parse(text);
      } catch {
        return socket.close(1003);
      }
      if (!user) {
        clearTimeout(authWindow);
        const found = message.type === 'auth' && tokens[message.access_token];
        if (!found) {
          send({ type: 'auth_invalid', message: 'Invalid access token or password' });
          return socket.close();
        }
        user = found;
        return send({ type: 'auth_ok', ha_version: version });
      }
      const { id, type } = message;
      const fail = (code, text) => send({ id, type: 'result', success: false, error: { code, message: text } });
      if (!Number.isInteger(id) || id <= lastId) return fail('id_reuse', 'Identifier values have to increase.');
      lastId = id;
      if (type === 'ping') return send({ id, type: 'pong' });
      if (faults.busy && type.startsWith('recorder/')) return fail('unknown_error', 'Unknown error');
      if (type === 'recorder/import_statistics') {
        const error = importStatistics(message, user);
        return error ? fail(...error) : send({ id, type: 'result', success: true, result: null });
      }
      if (type === 'recorder/list_statistic_ids') {
        const list = [...db.entries()].map(([statistic_id, { metadata }]) => ({
          statistic_id, source: metadata.source, name: metadata.name, has_sum: true, has_mean: false,
          statistics_unit_of_measurement: metadata.unit_of_measurement, unit_class: metadata.unit_class ?? null,
        }));
        return send({ id, type: 'result', success: true, result: list });
      }
      if (type === 'recorder/statistics_during_period') {
        if (message.period !== 'hour') return fail('invalid_format', 'only hour here');
        const from = Date.parse(message.start_time);
        const to = message.end_time ? Date.parse(message.end_time) : Infinity;
        const result = {};
        for (const statisticId of message.statistic_ids ?? []) {
          const entry = db.get(statisticId);
          if (!entry) continue;
          const rows = [...entry.rows.entries()].filter(([ms]) => ms >= from && ms < to).sort((a, b) => a[0] - b[0]);
          if (rows.length) result[statisticId] = rows.map(([ms, r]) => ({ start: ms, end: ms + 3_600_000, state: r.state, sum: r.sum }));
        }
        return send({ id, type: 'result', success: true, result });
      }
      return fail('unknown_command', 'Unknown command.');
    });
  });

  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    warnings,
    frames,
    faults,
    /** Rows of a statistic as [startMs, state, sum], oldest first. */
    rows: (statisticId) => [...(db.get(statisticId)?.rows.entries() ?? [])].sort((a, b) => a[0] - b[0]).map(([ms, r]) => [ms, r.state, r.sum]),
    imports: () => frames.map((f) => JSON.parse(f)).filter((m) => m.type === 'recorder/import_statistics'),
    close: () => new Promise((resolve) => {
      for (const client of server.clients) client.terminate();
      server.close(() => resolve());
    }),
  };
}

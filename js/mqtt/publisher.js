// The connection to the MQTT broker, through mqtt.js (Node: mqtt://, mqtts://,
// ws://, wss://; pages and the extension: ws:// and wss://, with the browser
// build the package carries in www/vendor/mqtt.esm.js, passed as `mqtt`). wattbridge is
// available while connected: `<base>/status` is `online` (retained) and the
// broker's last will sets it to `offline` when the process dies. When Home
// Assistant comes back (`homeassistant/status` → `online`) everything is announced
// again, as its discovery protocol asks.
import { WattbridgeError } from '../errors.js';
import { availabilityTopic, discoveryMessages, homeAssistantStatusTopic, stateMessages } from './discovery.js';

const PROVIDER = 'mqtt';
// CONNACK codes of a refused login: MQTT 3.1.1 (4, 5) and 5.0 (134, 135).
const REFUSED_LOGIN = new Set([4, 5, 134, 135]);

/** The broker's address for messages: scheme, host and port, never credentials. */
export function brokerLabel(url) {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'the MQTT broker';
  }
}

/** Check `mqtt.url` before anything connects: a clear `invalid_config` naming the problem. */
export function checkBrokerUrl(url) {
  // `host:1883` may even parse, with `host:` as its scheme: say what is missing rather than echo it.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new WattbridgeError('mqtt.url has no scheme: start it with mqtt:// (or mqtts://, ws://, wss://), e.g. mqtt://homeassistant.local:1883', { code: 'invalid_config', provider: PROVIDER });
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new WattbridgeError('mqtt.url is not a URL: use mqtt://host:1883, mqtts://host:8883 or ws(s)://host/mqtt', { code: 'invalid_config', provider: PROVIDER });
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(parsed.protocol)) {
    throw new WattbridgeError(`mqtt.url must start with mqtt://, mqtts://, ws:// or wss://, not ${parsed.protocol}//`, { code: 'invalid_config', provider: PROVIDER });
  }
  if (parsed.username || parsed.password) {
    throw new WattbridgeError('mqtt.url must not carry a user name or password: set mqtt.username and mqtt.password (a secret) instead', { code: 'invalid_config', provider: PROVIDER });
  }
  return parsed;
}

/** A connection error as wattbridge reports it: a refused login needs a person (exit 3), an unreachable broker is temporary (exit 4). */
function connectionError(err, url) {
  const where = brokerLabel(url);
  if (REFUSED_LOGIN.has(err?.code)) {
    return new WattbridgeError(`${where} refused the login (${err.message.replace(/^Connection refused: /, '')}): check mqtt.username and mqtt.password`, { code: 'invalid_credentials', provider: PROVIDER });
  }
  const tls = /^(mqtts|wss|ssl):/.test(where);
  return new WattbridgeError(`cannot reach the MQTT broker at ${where}: ${unreachable(err, tls)}`, { code: 'unavailable', provider: PROVIDER });
}

/**
 * Why a broker could not be reached, said so that a person knows what to
 * change: the usual slips are a port that is not MQTT's (HA's web port, a
 * plain port behind mqtts://) and a private CA. Node's own text can span lines.
 */
function unreachable(err, tls) {
  const code = typeof err?.code === 'string' ? err.code : '';
  if (err?.message === 'connack timeout') return "no MQTT answer: is mqtt.url the broker's MQTT port (1883, or 8883 for mqtts://)?";
  // A plain broker hangs up on a TLS hello (ECONNRESET); a plain web server answers garbage (EPROTO).
  if (code === 'EPROTO' || code.startsWith('ERR_SSL') || (tls && code === 'ECONNRESET')) return 'the TLS handshake failed: does this port speak TLS? (mqtts:// is usually port 8883, mqtt:// 1883)';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `its TLS certificate is made out to another host name (${code})`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) return `its TLS certificate is not signed by an authority this machine trusts (${code}): name the broker's CA in NODE_EXTRA_CA_CERTS`;
  if (code === 'ECONNREFUSED') return 'nothing listens on that port (ECONNREFUSED)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name could not be resolved (${code})`;
  return String(err?.message ?? err).split('\n')[0].trim() || 'the connection failed';
}

/**
 * Connect, with the last will `offline` on `<base>/status`, and publish
 * `online` there. Rejects with `invalid_credentials` or `unavailable`.
 * `mqtt`: the mqtt.js module to use (default: `import('mqtt')`, which Node and
 * bundlers resolve; a page without a bundler passes www/vendor/mqtt.esm.js).
 * @param {{url: string, username?: string, password?: string, naming: {base: string}, clientId?: string, keepalive?: number, reconnect?: boolean, connectTimeoutMs?: number, mqtt?: {connectAsync: Function}}} options
 */
export async function connectBroker({ url, username, password, naming, clientId, keepalive = 30, reconnect = false, connectTimeoutMs = 10_000, mqtt }) {
  checkBrokerUrl(url);
  const library = mqtt ?? (await import('mqtt')).default;
  const status = availabilityTopic(naming);
  let client;
  try {
    client = await library.connectAsync(url, {
      username: username || undefined,
      password: password || undefined,
      clientId: clientId ?? `wattbridge_${Math.random().toString(16).slice(2, 10)}`,
      keepalive,
      connectTimeout: connectTimeoutMs,
      reconnectPeriod: reconnect ? 1000 : 0,
      will: { topic: status, payload: 'offline', retain: true, qos: 1 },
    }, false);
  } catch (err) {
    throw connectionError(err, url);
  }
  await client.publishAsync(status, 'online', { retain: true, qos: 1 });
  return client;
}

/**
 * Publish the discovery configs (unless `states` only) and the states of
 * `devices`, each at QoS 1 and retained; resolves once the broker has them.
 * @returns {Promise<number>} messages published
 */
export async function publishDevices(client, devices, naming, { configs = true } = {}) {
  const messages = [...(configs ? discoveryMessages(devices, naming) : []), ...stateMessages(devices, naming)];
  await Promise.all(messages.map(({ topic, payload, retain }) => client.publishAsync(topic, payload, { retain, qos: 1 })));
  return messages.length;
}

/**
 * Delete the discovery configs and retained states of `devices` (empty
 * retained payloads). Both discovery forms go, per entity and per device: a
 * home that switched `deviceBased` still has the other form's retained configs,
 * and HA keeps an entity while its config stays on the broker.
 */
export async function removeDevices(client, devices, naming) {
  const configs = [false, true].flatMap((deviceBased) => discoveryMessages(devices, { ...naming, deviceBased, remove: true }));
  const topics = [...configs.map((m) => m.topic), ...stateMessages(devices, naming).map((m) => m.topic)];
  await Promise.all(topics.map((topic) => client.publishAsync(topic, '', { retain: true, qos: 1 })));
  return topics.length;
}

/**
 * Call `announce()` whenever Home Assistant says it is back online on its
 * birth topic (`homeassistant/status`, or `naming.haStatus`), so that a
 * restarted HA sees every entity again.
 */
export async function onHomeAssistantBirth(client, naming, announce) {
  const topic = homeAssistantStatusTopic(naming);
  client.on('message', (received, payload) => {
    if (received === topic && payload.toString() === 'online') announce();
  });
  await client.subscribeAsync(topic, { qos: 1 });
}

/**
 * Disconnect cleanly (the broker then drops the last will). With `offline`,
 * say so first: a stopped `mqtt run` makes its entities unavailable, while a
 * one-off publish from cron leaves them online until the next run.
 */
export async function disconnectBroker(client, naming, { offline = false } = {}) {
  try {
    if (offline && client.connected) await client.publishAsync(availabilityTopic(naming), 'offline', { retain: true, qos: 1 });
  } finally {
    await client.endAsync();
  }
}

// Home Assistant's long-term statistics: Linky and Weheat imported as external
// statistics over HA's WebSocket API. Everything HA-specific — the frames,
// authentication, which metadata a release takes, hourly rows, sums, resume,
// what to send — is Rust (src/homeassistant, src/bridge/sinks/homeassistant.rs);
// this file only opens the socket and moves text frames.

import { homeAssistantSocketUrl } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { SESSION } from './internal.js';

/** Inside a Home Assistant add-on (with `homeassistant_api: true`), with SUPERVISOR_TOKEN. */
export const SUPERVISOR_SOCKET_URL = 'ws://supervisor/core/websocket';

/** A frame must come within this long, or the connection counts as lost (exit 4). */
const SILENCE_MS = 120_000;

const network = (message, cause) => new WattbridgeError(message, { code: 'network', provider: 'homeassistant', cause });

/**
 * Open a WebSocket as `{send(text), receive(), close()}`: frames are queued as
 * they arrive, `receive()` resolves the next one and rejects (`network`) once
 * the socket closed, failed, or stayed silent for `silenceMs`.
 * @param {string} url ws:// or wss://
 * @param {{WebSocket?: any, silenceMs?: number}} [options]
 */
export async function openSocket(url, { WebSocket, silenceMs = SILENCE_MS } = {}) {
  const Socket = WebSocket ?? (await defaults.WebSocket());
  const host = new URL(url).host;
  const frames = [];
  const waiting = [];
  let failure = null;
  const socket = new Socket(url);
  const fail = (error) => {
    failure ??= error;
    for (const { reject } of waiting.splice(0)) reject(failure);
  };
  // Listen before the socket opens: the first frame may come in the same
  // chunk as the handshake's answer, before an awaited `open` resumes us.
  socket.onmessage = (event) => {
    const text = typeof event.data === 'string' ? event.data : String(event.data);
    const next = waiting.shift();
    if (next) next.resolve(text);
    else frames.push(text);
  };
  await new Promise((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(network(`Home Assistant at ${host} cannot be reached (is it running, and is ha.url right?)`));
    socket.onclose = () => reject(network(`Home Assistant at ${host} closed the connection before it opened`));
  });
  socket.onerror = () => fail(network(`the connection to Home Assistant at ${host} failed`));
  socket.onclose = () => fail(network(`Home Assistant at ${host} closed the connection`));
  return {
    send(text) {
      if (failure) throw failure;
      socket.send(text);
    },
    receive() {
      if (frames.length) return Promise.resolve(frames.shift());
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const entry = { resolve: (t) => (clearTimeout(timer), resolve(t)), reject: (e) => (clearTimeout(timer), reject(e)) };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(entry), 1);
          reject(network(`Home Assistant at ${host} sent nothing for ${Math.round(silenceMs / 1000)} s`));
        }, silenceMs);
        waiting.push(entry);
      });
    },
    close() {
      failure ??= network('closed');
      socket.close();
    },
  };
}

/**
 * A Home Assistant to import statistics into.
 * `url`: e.g. `http://homeassistant.local:8123` (https, or http to this
 * machine); or `socketUrl` directly (the add-on's `ws://supervisor/core/websocket`).
 * `token`: a long-lived access token of an admin user (never logged).
 */
export class HomeAssistant {
  #token;
  /**
   * @param {{url?: string, socketUrl?: string, token: string, currency?: string, correctionDays?: number, WebSocket?: any}} options
   */
  constructor({ url, socketUrl, token, currency, correctionDays, WebSocket } = {}) {
    if (!token) throw new WattbridgeError('Home Assistant needs a long-lived access token (ha.token, WATTBRIDGE_HA_TOKEN)', { code: 'invalid_config', provider: 'homeassistant' });
    if (!url && !socketUrl) throw new WattbridgeError('Home Assistant needs its URL (ha.url), e.g. http://homeassistant.local:8123', { code: 'invalid_config', provider: 'homeassistant' });
    this.socketUrl = socketUrl ?? homeAssistantSocketUrl(url);
    this.#token = token;
    this.options = { currency, correctionDays };
    this.WebSocket = WebSocket;
  }

  /** Open the connection for one run (package-internal: sync() uses it). */
  async [SESSION](tariff) {
    const socket = await openSocket(this.socketUrl, this.WebSocket ? { WebSocket: this.WebSocket } : {});
    return { socket, add: (job) => job.addHomeAssistant(socket, this.#token, this.options, tariff) };
  }

  /** `[redacted]`: the token never prints. */
  toJSON() {
    return { socketUrl: this.socketUrl, token: '[redacted]' };
  }
}

/**
 * Import new Linky and Weheat data into HA's statistics: sync() with Home
 * Assistant as the only target.
 * @param {Parameters<typeof import('./sync.js').sync>[0] & {homeassistant: HomeAssistant}} options
 */
export async function importStatistics(options) {
  const { sync } = await import('./sync.js');
  return sync({ ...options, energyid: null });
}

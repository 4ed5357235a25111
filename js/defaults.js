// What differs between Node and the browser, filled in by the entry that loaded
// the package (js/node.js or js/browser.js) before any user code runs.
import { WattbridgeError } from './errors.js';

export const defaults = {
  /** @type {() => {get: Function, put: Function, delete: Function}} */
  store: () => {
    throw new Error('wattbridge: import the package entry ("wattbridge"), not its internal modules (with wattbridge/init, `await init()` first)');
  },
  /** Whether the entry has instantiated the wasm module (Node: at import; wattbridge/init: after `init()`). */
  wasmReady: false,
  /** The WebSocket class (or a Promise of it): `ws` in Node, the platform's own in browsers. */
  WebSocket: () => globalThis.WebSocket,
  /**
   * The fetch that carries the OpenADR VEN's TLS options (js/tls.js in Node),
   * or null for the platform's own. A page's fetch trusts the browser's
   * certificates and always checks the host name: those options cannot apply.
   * @returns {Promise<{fetch: Function, close: () => Promise<void>} | null>}
   */
  venTlsFetch: async ({ caFile, checkHostname }) => {
    if (caFile !== undefined || checkHostname === false) {
      throw new WattbridgeError(
        'caFile and checkHostname work in Node only: in a web page or extension the browser checks the VTN\'s certificate itself, against the certificates it trusts; add the VTN\'s CA to the browser or the system instead',
        { code: 'invalid_input', provider: 'openadr' },
      );
    }
    return null;
  },
};

// What differs between Node and the browser, filled in by the entry that loaded
// the package (js/node.js or js/browser.js) before any user code runs.
export const defaults = {
  /** @type {() => {get: Function, put: Function, delete: Function}} */
  store: () => {
    throw new Error('wattbridge: import the package entry ("wattbridge"), not its internal modules (with wattbridge/init, `await init()` first)');
  },
  /** Whether the entry has instantiated the wasm module (Node: at import; wattbridge/init: after `init()`). */
  wasmReady: false,
  /** The WebSocket class (or a Promise of it): `ws` in Node, the platform's own in browsers. */
  WebSocket: () => globalThis.WebSocket,
};

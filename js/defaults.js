// What differs between Node and the browser, filled in by the entry that loaded
// the package (js/node.js or js/browser.js) before any user code runs.
export const defaults = {
  /** @type {() => {get: Function, put: Function, delete: Function}} */
  store: () => {
    throw new Error('wattbridge: import the package entry ("wattbridge"), not its internal modules');
  },
  /** The WebSocket class (or a Promise of it): `ws` in Node, the platform's own in browsers. */
  WebSocket: () => globalThis.WebSocket,
};

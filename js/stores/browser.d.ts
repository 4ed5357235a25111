// Types of `wattbridge/browser-stores` (js/stores/browser.js): the browser
// stores alone, without the wasm module, for code that reads the store first.
export type { Store } from '../index.js';
export { LocalStorageStore, ChromeStorageStore, defaultBrowserStore } from '../index.js';

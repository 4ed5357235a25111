// Browser and extension-page entry: fetch and compile the wasm next to
// pkg/wattbridge.js at import. A service worker may not await at the top
// level: it imports wattbridge/init (js/browser-init.js) and calls init().
import { init } from './browser-init.js';

await init();

export * from './browser-init.js';

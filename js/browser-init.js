// Browser entry without a top-level await (`wattbridge/init`): for an
// extension's service worker, which may not have one, and for a page that
// wants to paint before the wasm is compiled. The same exports as the
// "browser" entry (js/browser.js, which is this plus `await init()`); call
// `await init()` once before using a class.
import initWasm, { setErrorClass } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { defaultBrowserStore } from './stores/browser.js';

let loading = null;

/**
 * Fetch and compile the wasm next to pkg/wattbridge.js (once: later calls
 * share the first); resolves when the classes can be used. A failed load
 * (offline) may be tried again.
 */
export function init() {
  loading ??= initWasm().then(() => {
    setErrorClass(WattbridgeError);
    defaults.store = defaultBrowserStore;
    defaults.wasmReady = true;
  }, (err) => {
    loading = null;
    throw err;
  });
  return loading;
}

export { WattbridgeError } from './errors.js';
export { setDebugLogger, disposition, exitCodeOf } from '../pkg/wattbridge.js';
export { EnergyId, Sensor } from './energyid.js';
export { OAuthClient } from './oauth.js';
export { OpenAdrVen } from './openadr.js';
export { Linky, LINKY_SERIES, parseEnedisAnswer } from './linky.js';
export { Weheat, WEHEAT_INTERVALS, energyFromWeheatLogs } from './weheat.js';
export { weheatStateNames } from '../pkg/wattbridge.js';
export { sync, DEFAULT_MAPPING } from './sync.js';
export { HomeAssistant, importStatistics } from './homeassistant.js';
export { Jeedom, pushToJeedom } from './jeedom.js';
export { MemoryStore } from './stores/memory.js';
export { LocalStorageStore, ChromeStorageStore, defaultBrowserStore } from './stores/browser.js';

// Browser and extension-page entry: fetch and compile the wasm next to this file.
import init, { setErrorClass } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { defaultBrowserStore } from './stores/browser.js';

await init(); // finds wattbridge_bg.wasm next to pkg/wattbridge.js
setErrorClass(WattbridgeError);
defaults.store = defaultBrowserStore;

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

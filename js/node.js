// Node entry: the wasm is instantiated synchronously by node-wasm.js, then every class is exported.
import './node-wasm.js';

/** Node instantiates the wasm at import: nothing to wait for (code shared with wattbridge/init may still call it). */
export const init = async () => {};

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
export { startLoopbackReceiver } from './loopback.js';
export { MemoryStore } from './stores/memory.js';
export { FileStore } from './stores/file.js';
export { LocalStorageStore, ChromeStorageStore } from './stores/browser.js';

// Node entry: load the wasm bytes next to this file and instantiate them synchronously.
import { readFileSync } from 'node:fs';
import { initSync, setErrorClass, setDebugLogger } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { FileStore } from './stores/file.js';
import { wattbridgePaths } from './paths.js';

initSync({ module: readFileSync(new URL('../pkg/wattbridge_bg.wasm', import.meta.url)) });
setErrorClass(WattbridgeError);
defaults.store = () => new FileStore(wattbridgePaths().state);
// WATTBRIDGE_DEBUG=1: one line per request on stderr (method, URL without
// query, status, time; never headers or bodies).
if (process.env.WATTBRIDGE_DEBUG && process.env.WATTBRIDGE_DEBUG !== '0') {
  setDebugLogger((line) => process.stderr.write(`wattbridge debug: ${line}\n`));
}

export { WattbridgeError } from './errors.js';
export { setDebugLogger, disposition, exitCodeOf } from '../pkg/wattbridge.js';
export { EnergyId } from './energyid.js';
export { OAuthClient } from './oauth.js';
export { OpenAdrVen } from './openadr.js';
export { Linky, LINKY_SERIES, parseEnedisAnswer } from './linky.js';
export { Weheat, WEHEAT_INTERVALS, energyFromWeheatLogs } from './weheat.js';
export { sync, DEFAULT_MAPPING } from './sync.js';
export { startLoopbackReceiver } from './loopback.js';
export { MemoryStore } from './stores/memory.js';
export { FileStore } from './stores/file.js';
export { LocalStorageStore, ChromeStorageStore } from './stores/browser.js';

// Package-internal handles: how `sync()` reaches the wasm session behind a
// Linky, Weheat or EnergyId object without making it public API.
import { defaults } from './defaults.js';
import { WattbridgeError } from './errors.js';

export const SESSION = Symbol('wattbridge.session');

/**
 * Before a class touches the wasm module: a clear error when `wattbridge/init`
 * was imported but `init()` not yet awaited (the glue would fail with a bare
 * TypeError about an undefined export).
 */
export function requireWasm() {
  if (!defaults.wasmReady) throw new WattbridgeError('the wasm module is not loaded yet: `await init()` from wattbridge/init before using its classes', { code: 'invalid_config' });
}

// Instantiate the wasm module for Node, once, from the bytes next to the
// package: the Node entry (node.js) imports this, and so does the CLI, which
// loads only the classes a command uses rather than the whole entry.
import { readFileSync } from 'node:fs';
import { initSync, setErrorClass, setDebugLogger } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { FileStore } from './stores/file.js';
import { wattbridgePaths } from './paths.js';

initSync({ module: readFileSync(new URL('../pkg/wattbridge_bg.wasm', import.meta.url)) });
setErrorClass(WattbridgeError);
defaults.wasmReady = true;
defaults.store = () => new FileStore(wattbridgePaths().state);
// Node 20 has no global WebSocket: `ws`, loaded only when a command opens one.
defaults.WebSocket = async () => (await import('ws')).WebSocket;
// The OpenADR VEN's TLS options through an undici dispatcher, loaded only by a VEN.
defaults.venTlsFetch = async (options) => (await import('./tls.js')).venTlsFetch(options);
// WATTBRIDGE_DEBUG=1: one line per request on stderr (method, URL without
// query, status, time; never headers or bodies).
if (process.env.WATTBRIDGE_DEBUG && process.env.WATTBRIDGE_DEBUG !== '0') {
  setDebugLogger((line) => process.stderr.write(`wattbridge debug: ${line}\n`));
}

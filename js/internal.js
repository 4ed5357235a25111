// Package-internal handles: how `sync()` reaches the wasm session behind a
// Linky, Weheat or EnergyId object without making it public API.
export const SESSION = Symbol('wattbridge.session');

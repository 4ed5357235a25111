// Browser stores. Documents are small (see DESIGN.md: big histories are chunked),
// so localStorage's synchronous API and ~5 MB quota are fine for them.
//
// Every page, worker and (in an extension) service worker of an origin sees
// the same storage, so a change of a document is made holding its Web Lock
// (`navigator.locks`), which spans all of them: two pages flushing one outbox
// lose nothing. Where the API is missing, the wasm side still serializes the
// changes of this page.

import { MemoryStore } from './memory.js';
import { WattbridgeError } from '../errors.js';

/**
 * Hold `key` of the store named `prefix` across the origin's pages and
 * workers while wattbridge changes it; resolves to the release function.
 */
function lockDocument(prefix, key) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve, reject) => {
    // The lock is held until the promise its callback returns settles: until release() is called.
    locks.request(`${prefix}${key}`, () => new Promise((release) => resolve(release))).catch(reject);
  });
}

export class LocalStorageStore {
  /** @param {{prefix?: string, storage?: Storage}} [options] */
  constructor({ prefix = 'wattbridge:', storage = globalThis.localStorage } = {}) {
    if (!storage) throw new WattbridgeError('localStorage is not available here', { code: 'invalid_config' });
    this.prefix = prefix;
    this.storage = storage;
  }

  async get(key) {
    return this.storage.getItem(this.prefix + key);
  }

  async put(key, document) {
    try {
      this.storage.setItem(this.prefix + key, document);
    } catch (err) {
      // QuotaExceededError: nothing was written, say so rather than lose data quietly.
      throw new WattbridgeError(`browser storage refused '${key}': ${err.message}`, { code: 'storage', cause: err });
    }
  }

  async delete(key) {
    this.storage.removeItem(this.prefix + key);
  }

  /** Hold `key` against the other pages and workers of this origin (Web Locks); resolves to the release function. */
  lock(key) {
    return lockDocument(this.prefix, key);
  }
}

/** `chrome.storage.local`, for extension pages: shared by all pages of the extension. */
export class ChromeStorageStore {
  constructor({ prefix = 'wattbridge:', area = globalThis.chrome?.storage?.local } = {}) {
    if (!area) throw new WattbridgeError('chrome.storage.local is not available here', { code: 'invalid_config' });
    this.prefix = prefix;
    this.area = area;
  }

  async get(key) {
    const name = this.prefix + key;
    const items = await this.area.get(name);
    return items[name] ?? null;
  }

  async put(key, document) {
    try {
      await this.area.set({ [this.prefix + key]: document });
    } catch (err) {
      throw new WattbridgeError(`extension storage refused '${key}': ${err.message}`, { code: 'storage', cause: err });
    }
  }

  async delete(key) {
    await this.area.remove(this.prefix + key);
  }

  /** Hold `key` against the extension's other pages and its service worker (Web Locks); resolves to the release function. */
  lock(key) {
    return lockDocument(this.prefix, key);
  }
}

/** The best store this page has: extension storage, then localStorage, then memory. */
export function defaultBrowserStore() {
  if (globalThis.chrome?.storage?.local) return new ChromeStorageStore();
  if (globalThis.localStorage) return new LocalStorageStore();
  return new MemoryStore();
}

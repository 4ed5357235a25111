// A store that lives as long as the process or page: tests, one-off scripts, demos.
export class MemoryStore {
  #docs = new Map();

  async get(key) {
    return this.#docs.has(key) ? this.#docs.get(key) : null;
  }

  async put(key, document) {
    if (typeof document !== 'string') throw new TypeError('MemoryStore.put: document must be a string');
    this.#docs.set(key, document);
  }

  async delete(key) {
    this.#docs.delete(key);
  }

  /** Every key held, for inspection. */
  keys() {
    return [...this.#docs.keys()];
  }
}

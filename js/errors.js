// The one error class the package throws. Errors from the Rust core arrive as
// instances of this class too (the entries register it with the wasm module).

/** Error codes (stable, part of the API): see README "Errors". */
export class WattbridgeError extends Error {
  /**
   * @param {string} message what happened and what to do about it
   * @param {{code: string, provider?: string|null, status?: number|null, retryAfter?: number|null, cause?: unknown}} details
   */
  constructor(message, { code, provider = null, status = null, retryAfter = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WattbridgeError';
    this.code = code ?? 'unknown';
    this.provider = provider;
    this.status = status;
    this.retryAfter = retryAfter;
  }

  toJSON() {
    const { code, provider, status, retryAfter, message } = this;
    return { code, provider, status, retryAfter, message };
  }
}

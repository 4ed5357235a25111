// Public types of the `wattbridge` package (Node and browser entries alike).

/** Stable error codes; see the README's "Errors" section. */
export type ErrorCode =
  | 'invalid_input'
  | 'invalid_config'
  | 'network'
  | 'bad_response'
  | 'unavailable'
  | 'unexpected_status'
  | 'auth_required'
  | 'invalid_credentials'
  | 'rate_limited'
  | 'not_claimed'
  | 'webhook_disabled'
  | 'rejected'
  | 'corrupt_state'
  | 'storage';

export class WattbridgeError extends Error {
  constructor(
    message: string,
    details: { code: ErrorCode | string; provider?: string | null; status?: number | null; retryAfter?: number | null; cause?: unknown },
  );
  readonly name: 'WattbridgeError';
  /** Machine-readable reason, stable across versions. */
  readonly code: ErrorCode;
  /** `'energyid'`, `'linky'`, `'weheat'`, `'openadr'`, or null for core errors. */
  readonly provider: string | null;
  /** HTTP status that caused the error, when there was one. */
  readonly status: number | null;
  /** Seconds to wait before retrying, when the service said so. */
  readonly retryAfter: number | null;
  toJSON(): { code: ErrorCode; provider: string | null; status: number | null; retryAfter: number | null; message: string };
}

/** Where wattbridge keeps small JSON documents. Methods may return values or Promises. */
export interface Store {
  get(key: string): Promise<string | null> | string | null;
  put(key: string, document: string): Promise<void> | void;
  delete(key: string): Promise<void> | void;
}

export class MemoryStore implements Store {
  get(key: string): Promise<string | null>;
  put(key: string, document: string): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): string[];
}

/** Node only: one 0600 file per key in `dir`, written atomically. */
export class FileStore implements Store {
  constructor(dir: string);
  readonly dir: string;
  pathOf(key: string): string;
  get(key: string): Promise<string | null>;
  put(key: string, document: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export class LocalStorageStore implements Store {
  constructor(options?: { prefix?: string; storage?: Storage });
  get(key: string): Promise<string | null>;
  put(key: string, document: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export class ChromeStorageStore implements Store {
  constructor(options?: { prefix?: string; area?: unknown });
  get(key: string): Promise<string | null>;
  put(key: string, document: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Browser entry only: chrome.storage.local, else localStorage, else memory. */
export function defaultBrowserStore(): Store;

export interface EnergyIdOptions {
  provisioningKey: string;
  provisioningSecret: string;
  /** Default `https://hooks.energyid.eu/hello`; plain http only for loopback hosts. */
  helloUrl?: string;
  /** Generated (`wattbridge-…`) and remembered in the store when not given. */
  deviceId?: string;
  /** Default `wattbridge`. */
  deviceName?: string;
  firmwareVersion?: string;
  /** Default: a FileStore under WATTBRIDGE_HOME (Node) or the browser's storage. */
  store?: Store;
}

export interface UploadPolicy {
  /** Minimum seconds between two POSTs. */
  uploadInterval?: number;
  [field: string]: unknown;
}

export type HelloResult =
  | { status: 'needs_claiming'; deviceId: string; claimCode: string; claimUrl: string; /** unix seconds */ expiresAt: number }
  | {
      status: 'claimed';
      deviceId: string;
      webhookUrl: string;
      policy: UploadPolicy;
      recordName: string | null;
      recordNumber: string | null;
    };

/** A reading: `ts` (unix seconds, Date or ISO string; default now) plus values by metric key (`el`, `pv`, `el.t1`, …). */
export interface Reading {
  ts?: number | Date | string;
  [key: string]: number | Date | string | undefined;
}

export class EnergyId {
  constructor(options: EnergyIdOptions);
  /** Introduce the device to EnergyID; tells claimed from unclaimed. Never returns the webhook headers. */
  hello(): Promise<HelloResult>;
  /** Send one reading or several in one request. */
  send(readings: Reading | Reading[]): Promise<{ readings: number; requests: number }>;
}

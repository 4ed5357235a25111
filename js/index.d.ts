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
  | 'storage'
  | 'busy'
  | 'consent_required'
  | 'no_data'
  | 'wrong_direction'
  | 'before_history_limit'
  | 'before_activation'
  | 'signature_invalid';

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
  /** Readings (timestamps) per POST, default 1000. */
  batchCap?: number;
  /** Custom metric keys accepted besides the standard ones. */
  allowedKeys?: string[];
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
  /** The official client's authenticate(): true when claimed. */
  authenticate(): Promise<boolean>;
  claimInfo(): Promise<
    | { status: 'needs_claiming'; claim_code: string; claim_url: string; valid_until: number }
    | { status: 'already_claimed'; record_name: string | null; record_number: string | null }
    | { status: 'not_authenticated' }
  >;
  /** Hello every `pollSeconds` until claimed; each new claim code goes to `onClaimCode`. */
  waitForClaim(options?: { onClaimCode?: (claim: { claimCode: string; claimUrl: string; expiresAt: number }) => void; pollSeconds?: number; timeoutSeconds?: number }): Promise<HelloResult>;
  /** Queue readings in the durable outbox, then send what the upload policy allows now. */
  send(readings: Reading | Reading[]): Promise<SendReport>;
  /** Queue readings only; the same key and ts queued again replaces the value. */
  enqueue(readings: Reading | Reading[]): Promise<number>;
  /** Send the outbox in batches, waiting for the policy up to `maxWaitSeconds` (default 0). */
  flush(options?: { maxWaitSeconds?: number; onProgress?: (p: { sent: number; total: number }) => void }): Promise<SendReport>;
  status(): Promise<EnergyIdStatus>;
  /** Readings still queued, oldest first (ts in unix seconds). */
  pending(): Promise<{ ts: number; [key: string]: number }[]>;
  /** Directives (needs the hello's apiAccessToken), as EnergyID sends them. */
  directives(id?: string): Promise<unknown>;
  /** Queue a sensor value; every update is kept, not only the last. */
  updateSensor(key: string, value: number, ts?: number | Date | string): Promise<number>;
  synchronizeSensors(): Promise<SendReport>;
  startAutoSync(seconds: number, options?: { onError?: (err: WattbridgeError) => void }): void;
  stopAutoSync(): void;
  close(): void;
}

export interface SendReport {
  /** Values queued by this call (send), 0 for a flush. */
  queued: number;
  /** Readings (timestamps) delivered. */
  readings: number;
  /** Webhook POSTs made. */
  requests: number;
  /** Values still queued. */
  remaining: number;
  /** Readings EnergyID refused (HTTP 400), set aside with its reason. */
  quarantined: number;
  /** When the policy allows the next POST (unix ms), if values remain. */
  nextUploadAtMs: number | null;
}

export interface EnergyIdStatus {
  deviceId: string;
  claimed: boolean;
  claim: { claimCode: string; claimUrl: string; expiresAt: number } | null;
  recordName: string | null;
  recordNumber: string | null;
  webhookUrl: string | null;
  policy: UploadPolicy | null;
  helloAtMs: number | null;
  lastPostMs: number | null;
  nextUploadAtMs: number | null;
  /** Values waiting in the outbox. */
  outbox: number;
  quarantined: number;
}

export interface OAuthOptions {
  /** Name used in messages and the default store key `tokens/<provider>`. */
  provider: string;
  clientId: string;
  /** Confidential clients only (sent as client_secret_post). */
  clientSecret?: string;
  tokenUrl: string;
  /** RFC 8628 device authorization endpoint. */
  deviceAuthorizationUrl?: string;
  /** Authorization endpoint for code + PKCE. */
  authorizationUrl?: string;
  /** Keycloak end-session endpoint (form `refresh_token`). */
  logoutUrl?: string;
  /** RFC 7009 revocation endpoint (form `token`); preferred by logout when set. */
  revocationUrl?: string;
  scopes?: string[];
  /** Refresh this many seconds before expiry (default 60). */
  refreshMarginSecs?: number;
  storeKey?: string;
  /** Token-answer fields sent back with each refresh (the Enedis gateway wants `usage_points_id`). */
  refreshEchoFields?: string[];
  /** How to log in again, quoted in `auth_required` messages. */
  loginHint?: string;
  store?: Store;
}

export interface DeviceVerification {
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string | null;
  /** Seconds the code stays valid. */
  expires_in: number;
}

export interface TokenStatus {
  loggedIn: boolean;
  expiresAtMs: number | null;
  scopes: string[];
  hasRefreshToken: boolean;
  /** Extra fields of the token answer (e.g. `usage_points_id`). */
  extra: Record<string, unknown>;
}

export class OAuthClient {
  constructor(options: OAuthOptions);
  loginWithDeviceCode(options: { onVerification: (v: DeviceVerification) => void; timeoutSeconds?: number }): Promise<TokenStatus>;
  /** The password is used for this one request and never stored. */
  loginWithPassword(credentials: { username: string; password: string }): Promise<TokenStatus>;
  authorizationUrl(options: { redirectUri: string }): Promise<{ url: string; state: string }>;
  completeAuthorization(callbackUrl: string): Promise<TokenStatus>;
  /**
   * Code + PKCE in one call: `open(url)` resolves to the URL the person was
   * redirected to; in an extension page without `open`, chrome.identity's
   * launchWebAuthFlow and getRedirectURL are used.
   */
  loginWithRedirect(options?: { redirectUri?: string; open?: (url: string) => Promise<string> }): Promise<TokenStatus>;
  accessToken(): Promise<string>;
  /** An API call with the bearer token; a 401 gets one refresh and one retry. */
  fetch(url: string, init?: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  status(): Promise<TokenStatus>;
  logout(): Promise<void>;
}

export type LinkySeries = 'daily' | 'load-curve' | 'max-power' | 'production' | 'production-load-curve';
export const LINKY_SERIES: LinkySeries[];

export interface LinkyOptions {
  /** Default: `conso` when `consoToken` is set, else `gateway`. */
  access?: 'gateway' | 'conso' | 'enedis';
  /** Device-flow gateway, default `https://enedis.domoticz.russandol.pro`. */
  gatewayUrl?: string;
  /** Client id at the gateway, default `wattbridge`. */
  clientId?: string;
  /** Conso API, default `https://conso.boris.sh/api`. */
  consoApiUrl?: string;
  /** A Conso API token: enough on its own to fetch. */
  consoToken?: string;
  /** Own Enedis app: the Data Connect API, default `https://gw.ext.prod.api.enedis.fr`. */
  enedisApiUrl?: string;
  appClientId?: string;
  appClientSecret?: string;
  /** Own Enedis app: the consent page. */
  consentUrl?: string;
  /** The meter (PRM, 14 digits) when the consent covers several; default its first. */
  meter?: string;
  /** Recent days fetched again on every run (default 3). */
  correctionDays?: number;
  /** Default 5, Enedis' per-application quota. */
  maxRequestsPerSecond?: number;
  store?: Store;
}

/** A gap (UTC unix ms, `[start, end)`) for which Enedis sent nothing. */
export interface Hole {
  start: number;
  end: number;
}

export interface LinkyFetchReport {
  meter: string;
  series: LinkySeries;
  /** The range after clamping to Enedis' history and to yesterday (Paris dates, `to` exclusive). */
  from: string;
  to: string;
  /** Windows planned: days already stored are not asked again, except the correction window. */
  windows: number;
  /** Requests sent, retries and probes included. */
  requests: number;
  /** The fewest requests the whole range could take with nothing stored. */
  minimumRequests: number;
  points: number;
  holes: Hole[];
  /** Windows Enedis refused for good (before activation, no data). */
  skipped: { start: string; end: string; code: ErrorCode; message: string }[];
}

/** One stored value; times in Paris wall time with offset. */
export interface LinkyRow {
  start: string;
  end: string;
  /** Wh (daily), average W (load curves) or VA (max power). */
  value: number;
  unit: 'Wh' | 'W' | 'VA';
  /** Load curves: energy of the interval. */
  wh?: number;
  /** Max power: when the peak happened. */
  peak_at?: string;
}

export interface LinkyStatus {
  access: 'gateway' | 'conso' | 'enedis';
  loggedIn: boolean;
  tokenExpiresAtMs: number | null;
  meters: string[];
  meter: string | null;
  /** Why no meter can be used (not logged in, no consent). */
  problem: { code: ErrorCode; message: string; atMs: number } | null;
  /** Today in Paris. */
  today: string;
  series: {
    series: LinkySeries;
    firstDay: string | null;
    lastDay: string | null;
    /** Days since the first stored day not fetched yet. */
    missingDays: number;
    /** Gaps inside the fetched days. */
    holes: number;
    /** Enedis has nothing before this date. */
    earliest: string | null;
    lastError: { code: ErrorCode; message: string; atMs: number } | null;
  }[];
}

/** Read an Enedis metering answer you already have into UTC intervals (unix ms). */
export function parseEnedisAnswer(series: LinkySeries, body: string | object): {
  points: { start: number; end: number; value: number; at?: number }[];
  holes: Hole[];
};

export class Linky {
  constructor(options?: LinkyOptions);
  readonly access: 'gateway' | 'conso' | 'enedis';
  /** The OAuth client of the gateway or the app; null with a Conso token. */
  oauth(): OAuthClient | null;
  /** Device-flow login at the gateway. */
  login(options: { onVerification: (v: DeviceVerification) => void; timeoutSeconds?: number }): Promise<TokenStatus>;
  logout(): Promise<void>;
  meters(): Promise<string[]>;
  /** Fetch into the local history; by default everything Enedis keeps, up to yesterday. */
  fetch(series: LinkySeries, options?: { from?: string | Date; to?: string | Date; onProgress?: (p: { done: number; total: number }) => void }): Promise<LinkyFetchReport>;
  history(series: LinkySeries, options?: { from?: string | Date; to?: string | Date }): Promise<LinkyRow[]>;
  export(series: LinkySeries, options?: { from?: string | Date; to?: string | Date; format?: 'csv' | 'json' }): Promise<string>;
  status(): Promise<LinkyStatus>;
  consentUrl(options?: { redirectUri?: string }): Promise<string>;
  completeConsent(callbackUrl: string): Promise<string[]>;
}

export type WeheatInterval = 'Minute' | 'FiveMinute' | 'FifteenMinute' | 'Hour' | 'Day' | 'Week' | 'Month' | 'Year';
export const WEHEAT_INTERVALS: WeheatInterval[];
/** A Date, an ISO 8601 string or unix seconds. */
export type TimeInput = Date | string | number;

export interface WeheatOptions {
  /** Keycloak realm, default `https://auth.weheat.nl/auth/realms/Weheat` (newer: `…/realms/Weheat`). */
  authUrl?: string;
  /** Default `https://api.weheat.nl` (newer: `https://api.weheat.nl/third_party`). */
  apiUrl?: string;
  /** Default `WeheatCommunityAPI`. */
  clientId?: string;
  /** Requests per hour for the account, retries included (default 30). */
  budgetPerHour?: number;
  /** Heat pump id when the account has several (default: the first). */
  pump?: string;
  store?: Store;
}

export interface WeheatPump {
  id: string;
  name: string | null;
  /** 0 BlackBird P80, 1 BlackBird P60, 2–4 Sparrow P60, 5 Flint P40. */
  model: number | null;
  serialNumber: string | null;
  state: number | null;
  dhwType: number | null;
  /** Above 1: a hybrid set-up with a boiler. */
  boilerType: number | null;
  firmwareVersion: string | null;
}

export interface WeheatEnergy {
  /** Sum of the six electricity inputs (kWh); null when one is missing. */
  electricityKwh: number | null;
  /** Heating + DHW + both defrosts − cooling (kWh), as the API gives them. */
  heatKwh: number | null;
  /** Null when the input is not positive or a value is missing. */
  cop: number | null;
}

export interface WeheatLatest {
  pump: string;
  timestamp: string | null;
  state: number | null;
  stateName: string;
  online: boolean | null;
  outside: number | null;
  waterIn: number | null;
  waterOut: number | null;
  /** Null when the pump has no room sensor (-1). */
  room: number | null;
  roomTarget: number | null;
  /** DHW tank; null on hybrids. */
  dhwTop: number | null;
  compressorPercent: number | null;
  powerInW: number | null;
  powerOutW: number | null;
  cop: number | null;
  /** The log as Weheat sent it. */
  log: Record<string, unknown>;
}

export interface WeheatFillReport {
  pump: string;
  interval: WeheatInterval;
  from: string | null;
  to: string;
  requests: number;
  /** ⌈gap / window⌉: the fewest requests the gap can take. */
  minimumRequests: number;
  buckets: number;
}

/** Integrate the power fields of raw logs you already have (null energy when Weheat sent none). */
export function energyFromWeheatLogs(body: string | object[]): { logs: number; energy: WeheatEnergy | null };

export class Weheat {
  constructor(options?: WeheatOptions);
  /** The Keycloak client: loginWithPassword, loginWithRedirect, logout, status. */
  oauth(): OAuthClient;
  me(): Promise<Record<string, unknown>>;
  pumps(): Promise<WeheatPump[]>;
  pump(id?: string): Promise<WeheatPump>;
  latest(options?: { pump?: string }): Promise<WeheatLatest>;
  /** Raw logs (no interval; 4-hour windows) or aggregated logs. */
  logs(options: { pump?: string; from: TimeInput; to?: TimeInput; interval?: WeheatInterval; onProgress?: (p: { done: number; total: number }) => void }): Promise<Record<string, unknown>[]>;
  energy(options: { pump?: string; from: TimeInput; to?: TimeInput; interval?: 'Hour' | 'Day' | 'Week' | 'Month' | 'Year'; onProgress?: (p: { done: number; total: number }) => void }): Promise<{
    pump: string;
    interval: string;
    buckets: (WeheatEnergy & { timeBucket: string | null })[];
    total: WeheatEnergy;
    requests: number;
  }>;
  totals(options?: { pump?: string }): Promise<WeheatEnergy & { timeBucket: null }>;
  fillEnergy(options?: { pump?: string; interval?: WeheatInterval; since?: TimeInput; onProgress?: (p: { done: number; total: number }) => void }): Promise<WeheatFillReport>;
  storedEnergy(options: { pump?: string; interval?: WeheatInterval; from: TimeInput; to?: TimeInput }): Promise<(WeheatEnergy & { timeBucket: string | null })[]>;
  fillFeed(options?: { pump?: string; resolutionSeconds?: number; since?: TimeInput; onProgress?: (p: { done: number; total: number }) => void }): Promise<WeheatFillReport>;
  feed(options: { pump?: string; from: TimeInput; to?: TimeInput }): Promise<{ ts: number; state?: number; outside?: number; waterIn?: number; waterOut?: number; room?: number; rpm?: number; powerIn?: number; powerOut?: number }[]>;
  watch(options?: {
    pump?: string;
    resolutionSeconds?: number;
    durationSeconds?: number;
    onEvent?: (event: ({ event: 'latest' } & WeheatLatest) | ({ event: 'energy' | 'gapFill' } & WeheatFillReport) | { event: 'error'; code: ErrorCode; message: string }) => void;
  }): Promise<void>;
  budgetLeft(): Promise<number>;
}

/** Node only: a one-shot listener on 127.0.0.1 for an OAuth redirect (RFC 8252). */
export function startLoopbackReceiver(options?: { path?: string; timeoutSeconds?: number }): Promise<{
  redirectUri: string;
  callbackUrl: Promise<string>;
  close(): Promise<void>;
}>;

// ---------------------------------------------------------------- the main job

/** What an error code asks for: a person must act, retry later, or fix the input or settings. */
export type Disposition = 'person' | 'retry_later' | 'bad_input';
/** The disposition of a code (undefined for a code wattbridge does not know). */
export function disposition(code: ErrorCode | string): Disposition | undefined;
/** The CLI's exit code for an error code: 2 bad input, 3 a person must act, 4 retry later, 1 unknown. */
export function exitCodeOf(code: ErrorCode | string): number;

/** Which EnergyID key each source fills; null skips it. */
export interface SyncMapping {
  linkyConsumption: string | null;
  linkyProduction: string | null;
  heat: string | null;
  heatPumpElectricity: string | null;
}
export const DEFAULT_MAPPING: SyncMapping;

export interface SyncOptions {
  linky?: Linky | null;
  weheat?: Weheat | null;
  energyid: EnergyId;
  mapping?: Partial<SyncMapping>;
  /** kWh meter reading per EnergyID key at the first data. */
  startIndex?: Record<string, number>;
  /** Limit the first backfill (Linky takes the Paris day of this instant). */
  since?: Date | string | number;
  /** Linky: the load curve (falling back to daily values) or daily values. */
  resolution?: 'half-hour' | 'hour' | 'day';
  dryRun?: boolean;
  /** Wait at most this long for EnergyID's next upload slot (default 900). */
  maxWaitSeconds?: number;
  /** Also try sources paused by an error a person had to resolve. */
  retryBlocked?: boolean;
  onProgress?: (progress: { stage: string; done: number; total: number }) => void;
  /** Where cursors and pauses live (default: the package's store). */
  store?: Store;
}

export interface SyncError {
  code: ErrorCode;
  message: string;
  provider: string | null;
  status: number | null;
  retryAfter: number | null;
  disposition: Disposition;
}

export type SyncSourceReport =
  | {
      status: 'ok';
      series: string[];
      requests: number;
      minimumRequests: number;
      holes: number;
      readings: number;
      /** Linky */
      meter?: string | null;
      /** Weheat: the pump and the new data's energy */
      pump?: string | null;
      heatKwh?: number;
      electricityKwh?: number;
      cop?: number | null;
    }
  | { status: 'error'; error: SyncError; retry: boolean }
  | { status: 'skipped'; error: SyncError & { atMs: number }; retry: false };

export interface SyncReport {
  ok: boolean;
  dryRun: boolean;
  seconds: number;
  sources: { linky?: SyncSourceReport; weheat?: SyncSourceReport };
  energyid:
    | ({ status: 'ok'; queued: number } & SendReport)
    | { status: 'error'; queued: number; error: SyncError; retry: boolean }
    | { wouldQueue: number; values: number; first: Reading[]; last: Reading[] };
}

/** One run of the main job: Linky and Weheat into EnergyID as meter readings. */
export function sync(options: SyncOptions): Promise<SyncReport>;

/**
 * Receive one debug line per HTTP request (method, URL without its query,
 * status, time; never headers or bodies), or pass null to stop. In Node,
 * WATTBRIDGE_DEBUG=1 installs a logger that writes to stderr.
 */
export function setDebugLogger(logger: ((line: string) => void) | null): void;

// ---------------------------------------------------------------- OpenADR 2.0b VEN

/**
 * An OpenADR event as OpenLEADR's VEN hands it to its handler (snake_case,
 * the same dict). Date-times are ISO 8601 UTC strings, durations seconds.
 */
export interface OpenAdrEvent {
  event_descriptor: {
    event_id: string;
    modification_number: number;
    priority: number | null;
    market_context: string | null;
    /** 'none' | 'far' | 'near' | 'active' | 'completed' | 'cancelled' */
    event_status: string;
    test_event: boolean;
    created_date_time: string | null;
  };
  active_period: { dtstart: string; duration: number };
  event_signals: Array<{
    signal_name: string;
    signal_type: string;
    signal_id: string;
    current_value: number | null;
    intervals: Array<{ dtstart: string; duration: number; uid: string | null; signal_payload: number | null }>;
  }>;
  /** Each target alone, e.g. `[{ ven_id: 'ven-1' }, { resource_id: 'meter1' }]`. */
  targets: Array<Partial<Record<'ven_id' | 'resource_id' | 'group_id' | 'party_id' | 'group_name', string>>>;
  targets_by_type: Partial<Record<'ven_id' | 'resource_id' | 'group_id' | 'party_id' | 'group_name', string[]>>;
  /** 'always' | 'never' */
  response_required: string;
}

export type OpenAdrOpt = 'optIn' | 'optOut';

/** What the VEN reports as it goes (camelCase; only `event` keeps OpenLEADR's shape). */
export type OpenAdrNotice =
  | { type: 'registered'; venId: string; registrationId: string; pollSecs: number }
  | { type: 'reportRequested'; reportRequestId: string; rIds: string[]; intervalSecs: number }
  | { type: 'event'; event: OpenAdrEvent; opt: OpenAdrOpt | null; modified: boolean }
  | { type: 'cancelled'; eventId: string; implied: boolean }
  | { type: 'reportSent'; reportRequestId: string; values: Array<[rId: string, value: number]> }
  | { type: 'reregistering' }
  | { type: 'error'; code: ErrorCode; message: string }
  | { type: 'registrationCancelled' };

export interface OpenAdrVenOptions {
  /** e.g. `http://127.0.0.1:8080/OpenADR2/Simple/2.0b` (https except on loopback). */
  vtnUrl: string;
  venName: string;
  /** PEM certificate to sign our messages with (with `key`). */
  cert?: string;
  /** PEM private key: PKCS#8, PKCS#1 RSA or encrypted PKCS#8 (PBES2). */
  key?: string;
  /** For an encrypted key; used to decrypt it, never stored or printed. */
  passphrase?: string;
  /** `AA:BB:…` (last 10 bytes of the SHA-256 of the VTN certificate): unsigned or badly signed VTN messages are then refused. */
  vtnFingerprint?: string;
  onNotice?: (notice: OpenAdrNotice) => void;
}

export type OpenAdrMeasurement =
  | 'voltage' | 'current' | 'energyReal' | 'energyReactive' | 'energyApparent'
  | 'powerReal' | 'powerReactive' | 'powerApparent' | 'frequency' | 'temperature' | 'pulseCount';

export interface OpenAdrReportOptions {
  resourceId: string;
  measurement: OpenAdrMeasurement;
  /** Default: the measurement's usual unit (W, Wh, V, …). */
  unit?: string;
  /** SI scale code: 'p' 'n' 'micro' 'm' 'c' 'd' 'k' 'M' 'G' 'T' 'none' (default). */
  scale?: string;
  /** Seconds between samples (default 10). */
  samplingRate?: number;
  /** Default 'TELEMETRY_USAGE'. */
  reportName?: 'TELEMETRY_USAGE' | 'TELEMETRY_STATUS';
  /** Default `${resourceId}_${measurement}`. */
  rId?: string;
}

/** An OpenADR 2.0b VEN (pull mode); its wasm module loads on first `start()`. */
export class OpenAdrVen {
  constructor(options: OpenAdrVenOptions);
  /** Decide each new or modified event; a throw or rejection counts as 'optOut'. Default: opt in. */
  onEvent(handler: (event: OpenAdrEvent) => OpenAdrOpt | Promise<OpenAdrOpt>): this;
  onNotice(listener: (notice: OpenAdrNotice) => void): this;
  /** Offer a reading before `start()`; `callback` gives its current value when a report is due. */
  addReport(callback: () => number | Promise<number>, options: OpenAdrReportOptions): this;
  /** Register, register reports, request events; polling then goes on in the background. */
  start(): Promise<{ venId: string }>;
  /** End the loop and cancel the registration at the VTN. */
  stop(): Promise<void>;
}

// Types of `wattbridge/sandbox` (Node only): local stand-ins for the real services.

export const SANDBOX_PROVISIONING_KEY: string;
export const SANDBOX_PROVISIONING_SECRET: string;
/** The public client id of Weheat's community API. */
export const WEHEAT_CLIENT_ID: string;
/** The sandbox realm's one user, for the password grant. */
export const SANDBOX_WEHEAT_USER: { username: string; password: string };
/** The sandbox heat pumps by situation (ids); see js/sandbox/weheat-data.js. */
export const SANDBOX_WEHEAT_PUMPS: Readonly<{
  /** BlackBird P80 (model 0), all-electric with DHW, room thermostat; since 2024-11-01 */
  blackbird: string;
  /** Sparrow P60 (model 3) with an OpenTherm boiler (boilerType 3): t1/t2/dhwFlow/DhwValve null, tRoom/tRoomTarget -1; since 2025-02-01 */
  hybrid: string;
  /** BlackBird P60 (model 1); logs from 2025-01-06 until 2025-09-14T07:11:00Z, then none (status 1, isOnline false) */
  offline: string;
}>;
/** The core API key of the sandbox Jeedom box. */
export const SANDBOX_JEEDOM_API_KEY: string;
/** The gateway's production client id (wattbridge's default), which the sandbox gateway accepts. */
export const LINKY_CLIENT_ID: string;
/** The gateway's test client id, which the sandbox gateway accepts too. */
export const LINKY_TEST_CLIENT_ID: string;
/** The meters (PRM) a sandbox consent grants, household first. */
export const SANDBOX_METERS: string[];
/** The sandbox meters by situation (PRM values); see js/sandbox/linky-data.js. */
export const SANDBOX_LINKY_METERS: Readonly<{
  /** consumption only, since 2019-01-01; the recorded fixtures for 2023-04-01 … 2023-04-03 */
  household: string;
  /** consumption and PV production, since 2022-05-01 */
  producer: string;
  /** PT60M until 2024-06-01, PT60M/PT15M/PT30M that day, PT30M after; `T` separators */
  dst: string;
  /** missing days (10th, 20th, 30th) and missing half-hours (10:00–11:00 on even days) */
  holes: string;
  /** 403 ADAM-DC-0008 on every call */
  noconsent: string;
  /** daily data only; load curves 404 no_data_found */
  nocollection: string;
  /** 429 on two calls out of three (first with Retry-After: 1, then without) */
  storm: string;
  /** yesterday not published yet: data end the day before yesterday; a window of only newer days 404 no_data_found */
  late: string;
}>;
/** The Conso API token of the sandbox consent (JWT-shaped; `sub` lists the meters). */
export const SANDBOX_CONSO_TOKEN: string;
/** The sandbox's own Enedis app (client credentials at `/oauth2/v3/token`). */
export const ENEDIS_APP_CLIENT_ID: string;
export const ENEDIS_APP_CLIENT_SECRET: string;

export type Fault =
  | { status: number; body?: unknown; retryAfter?: number; path?: string }
  | { drop: true; path?: string }
  | { html: true; path?: string }
  | { truncate: true; path?: string };

export interface SandboxReading {
  ts: number;
  [key: string]: number;
}

/** Options of the EnergyID sandbox (`startSandbox({ energyid })`). */
export interface EnergyIdSandboxOptions {
  /** seconds between two accepted POSTs of a record (default 60); fractions are fine for fast tests */
  uploadInterval?: number;
  /** the first N hellos of a device answer unclaimed, hello N+1 claims it (default null: wait for a claim URL visit) */
  claimAfterHellos?: number | null;
  /** older name of `claimAfterHellos` */
  autoClaimAfterHellos?: number | null;
  /** life of a claim code in seconds (default 900); a hello after it gives a new code */
  claimCodeTtlSecs?: number;
  /** life of the webhook credentials of one hello in seconds (default 48 h) */
  credentialTtlSecs?: number;
  /** extra `webhookPolicy` fields of the claimed hello, e.g. `{ allowedInterval: 'PT15M' }` */
  policy?: Record<string, unknown>;
  /** POSTs of more readings answer 413 (default null: no limit) */
  maxBatchSize?: number | null;
  /** unix ms: claim code and credential expiry, arrival times */
  now?: () => number;
  /** monotonic ms for the upload policy (default performance.now) */
  clock?: () => number;
}

/** FaultQueue's faults, plus a lost answer: the request is handled in full, then the connection drops. */
export type EnergyIdFault = Fault | { drop: true; afterRecording: true; path?: string };

/** An accepted webhook POST: arrival time (unix ms), readings in it, (key, ts) values it overwrote. */
export interface EnergyIdPost {
  at: number;
  count: number;
  duplicates: number;
}

export interface EnergyIdSandboxRecord {
  deviceId: string;
  deviceName: string;
  /** the optional hello fields the device sent (firmwareVersion, ipAddress, macAddress, localDeviceUrl) */
  deviceInfo?: Record<string, string>;
  recordName: string;
  recordNumber: string;
  /** unix ms */
  claimedAt: number;
  webhookEnabled: boolean;
  /** one object per ts, sorted by ts; a resend of a (key, ts) overwrites its value */
  readings: SandboxReading[];
  posts: EnergyIdPost[];
  /** cumulative series (all keys but pwr, pwr-i, bat-soc, temperature) that go down */
  decreases: Array<{ key: string; ts: number; value: number; previousTs: number; previous: number }>;
}

export interface EnergyIdRequest {
  /** unix ms */
  at: number;
  method: string;
  /** e.g. `/hello`, `/claim`, `/webhook-in` */
  path: string;
  deviceId: string | null;
  /** the answer's status; 0 when a fault dropped the connection before it was handled */
  status: number;
  /** readings accepted */
  count?: number;
  /** the 400 (or 413) reason */
  error?: string;
  /** a queued fault answered or dropped it */
  fault?: true;
  /** the connection was dropped (with `status` the answer that was lost, if any) */
  dropped?: true;
}

export interface EnergyIdSandbox {
  faults: { push(...faults: EnergyIdFault[]): void; clear(): void; list(): EnergyIdFault[] };
  /** What the webhook accepted, per claimed device, without the credentials. */
  records(): EnergyIdSandboxRecord[];
  /** Every accepted POST, in arrival order. */
  posts(): Array<EnergyIdPost & { deviceId: string; recordNumber: string }>;
  /** Every request outside `/_sandbox/`. */
  requests(): { total: number; byPath: Record<string, number>; list: EnergyIdRequest[] };
  /** Forget readings, posts, the request log, faults and policy timers; `devices: true` also forgets devices and credentials. */
  reset(options?: { devices?: boolean }): void;
  /** Claim a device that said hello, as a visit of its claim URL does. */
  claim(deviceId: string): { recordName: string; recordNumber: string };
  /** The next `count` webhook POSTs answer `status` (default 500). */
  failPosts(count?: number, status?: number): void;
  /** The next `count` webhook POSTs lose their connection; `afterRecording`: once the readings are stored. */
  dropPosts(count?: number, options?: { afterRecording?: boolean }): void;
  /** The credentials issued so far (of one device, or all) answer 401; the next hello issues new ones. */
  expireCredentials(deviceId?: string): void;
  /** The webhook answers 403 for this device's record (or all) until enableWebhook. */
  disableWebhook(deviceId?: string): void;
  enableWebhook(deviceId?: string): void;
  /** The webhook URL changes: the old one answers 404 until the device says hello again. */
  moveWebhook(): void;
  /** Forget queued faults and enable every webhook again. */
  clearFaults(): void;
}

export interface AuthSandbox {
  faults: { push(...faults: Fault[]): void; clear(): void };
  auth: { endAllSessions(): void };
}

export interface LinkyRequest {
  method: string;
  /** path under the service, e.g. `/data/proxy/metering_data_dc/v5/daily_consumption` */
  path: string;
  meter: string | null;
  start: string | null;
  end: string | null;
  /** the answer's status; 0 when a fault dropped the connection */
  status: number;
}

export interface LinkySandbox extends AuthSandbox {
  /** The data requests so far (token calls not included). */
  requests(): { total: number; byPath: Record<string, number>; list: LinkyRequest[] };
  /** Forget the logged requests, the 5 req/s window, the Conso API's 12 h counts and bans, and the storm meter's count. */
  resetRequests(): void;
  /** From now on this meter answers 403 ADAM-DC-0008. */
  revokeConsent(prm: string): void;
  /** From now on this meter's holes have data (Enedis completed them late). */
  fillHoles(prm: string): void;
}

export interface WeheatRequest {
  method: string;
  /** path under the service, e.g. `/third_party/api/v1/heat-pumps` */
  path: string;
  query: Record<string, string>;
  /** the answer's status; 0 when a fault dropped the connection */
  status: number;
  /** unix ms, from the service's `now` */
  at: number;
}

export interface WeheatSandbox extends AuthSandbox {
  /** The API requests so far (token calls not included). */
  requests(): { total: number; list: WeheatRequest[] };
  /** Forget the logged requests and the budget's sliding hour. */
  resetRequests(): void;
  /** The next `count` API requests answer 503 (0 switches it off). */
  setUnavailable(count: number): void;
}

export interface Sandbox {
  url: string;
  urls: {
    energyid: { helloUrl: string };
    weheat: {
      /** realm at the old Keycloak path `/auth/realms/Weheat` (the default's shape) */
      authUrl: string;
      /** the old API root: `/api/v1/...`, heat-pump list as a plain array */
      apiUrl: string;
      /** the same realm at the newer path `/realms/Weheat` */
      newAuthUrl: string;
      /** the newer API base `/third_party`: `/third_party/api/v1/...`, heat-pump list paged */
      newApiUrl: string;
    };
    linky: { gatewayUrl: string; consoApiUrl: string; enedisApiUrl: string };
    /** jeedom.url: the API is at `${url}/core/api/jeeApi.php` */
    jeedom: { url: string };
  };
  energyid: EnergyIdSandbox;
  weheat: WeheatSandbox;
  linky: LinkySandbox;
  jeedom: JeedomSandbox;
  close(): Promise<void>;
}

/** The Jeedom JSON-RPC stand-in, as tests read it. */
export interface JeedomSandbox {
  apiKey: string;
  /** `apiMode` may change during a test: the core key's API access */
  config: { timezone: string; apiMode: 'enable' | 'whiteip' | 'localhost' | 'disable'; historyArchiveTime: number } & Record<string, unknown>;
  /** Every call, its params without the key. */
  calls: { method: string; params: Record<string, unknown> }[];
  eqLogics(): Record<string, any>[];
  cmds(eqLogicId?: string): Record<string, any>[];
  /** `[[datetime, value], …]` of a command, by datetime (naive local time). */
  history(cmdId: string): [string, string][];
  /** `cmd::event` calls so far. */
  events(): number;
  /** Jeedom's nightly archive as of `at` (unix ms, default now): numeric rows older than `historyArchiveTime` hours reduced per hour */
  archive(at?: number): void;
}

export function startSandbox(options?: {
  port?: number;
  host?: string;
  energyid?: EnergyIdSandboxOptions;
  weheat?: {
    /** seconds (default 300, like Keycloak) */
    accessTokenTtl?: number;
    /** unix ms: token expiry, and "now" for the pumps' logs */
    now?: () => number;
    /** monotonic ms for the hourly budget (default performance.now) */
    clock?: () => number;
    /** API requests per account in any sliding hour (default 30; 0 turns it off); beyond: 429, empty body */
    budgetPerHour?: number;
    /** send cmMassPowerIn/cmMassPowerOut in logs (default true) */
    powerFields?: boolean;
    /** heat-pump list shape: `auto` (default: plain at apiUrl, paged at newApiUrl), `paged` or `plain` everywhere */
    pumpList?: 'auto' | 'paged' | 'plain';
  };
  jeedom?: {
    apiKey?: string;
    /** config `timezone` (default Europe/Brussels, Jeedom's own default) */
    timezone?: string;
    objects?: { id: string; name: string }[];
    now?: () => number;
    /** the core key's API access (default enable); disable, or an address the mode leaves out, is −32001 */
    apiMode?: 'enable' | 'whiteip' | 'localhost' | 'disable';
    /** the addresses `whiteip` lets in */
    whiteIps?: string[];
  };
  linky?: {
    deviceApproveAfterMs?: number | null;
    /** unix ms: token expiry, and "today" (Europe/Paris) for the data */
    now?: () => number;
    /** the meters a gateway or app consent grants (default SANDBOX_METERS) */
    meters?: string[];
    /** data requests served per second across meters (default 5; 0 turns the quota off) */
    rateLimit?: number;
    /** monotonic ms for the quota and the Conso API's 12 h (default performance.now) */
    clock?: () => number;
    /**
     * Conso API requests a client (IP address) may send in any 12 h (default
     * 100, contract §1); the next one bans it: 403 with an HTML "Sorry, you
     * have been blocked" page on every Conso API request until
     * `resetRequests()`. 0 turns the limit off.
     */
    consoLimitPer12h?: number;
  };
}): Promise<Sandbox>;

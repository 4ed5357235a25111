// Types of `wattbridge/sandbox` (Node only): local stand-ins for the real services.

export const SANDBOX_PROVISIONING_KEY: string;
export const SANDBOX_PROVISIONING_SECRET: string;
/** The public client id of Weheat's community API. */
export const WEHEAT_CLIENT_ID: string;
/** The sandbox realm's one user, for the password grant. */
export const SANDBOX_WEHEAT_USER: { username: string; password: string };
/** The client id the sandbox Enedis gateway accepts. */
export const LINKY_CLIENT_ID: string;
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

export interface EnergyIdSandbox {
  faults: { push(...faults: Fault[]): void; clear(): void };
  records(): Array<{
    deviceId: string;
    recordName: string;
    recordNumber: string;
    posts: Array<{ at: number; count: number }>;
    readings: SandboxReading[];
  }>;
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
  /** Forget the logged requests, the 5 req/s window and the storm meter's count. */
  resetRequests(): void;
  /** From now on this meter answers 403 ADAM-DC-0008. */
  revokeConsent(prm: string): void;
}

export interface Sandbox {
  url: string;
  urls: {
    energyid: { helloUrl: string };
    weheat: { authUrl: string; apiUrl: string };
    linky: { gatewayUrl: string; consoApiUrl: string; enedisApiUrl: string };
  };
  energyid: EnergyIdSandbox;
  weheat: AuthSandbox;
  linky: LinkySandbox;
  close(): Promise<void>;
}

export function startSandbox(options?: {
  port?: number;
  host?: string;
  energyid?: { uploadInterval?: number; autoClaimAfterHellos?: number | null; now?: () => number };
  weheat?: { accessTokenTtl?: number; now?: () => number };
  linky?: {
    deviceApproveAfterMs?: number | null;
    /** unix ms: token expiry, and "today" (Europe/Paris) for the data */
    now?: () => number;
    /** the meters a gateway or app consent grants (default SANDBOX_METERS) */
    meters?: string[];
    /** data requests served per second across meters (default 5; 0 turns the quota off) */
    rateLimit?: number;
    /** monotonic ms for the quota (default performance.now) */
    clock?: () => number;
  };
}): Promise<Sandbox>;

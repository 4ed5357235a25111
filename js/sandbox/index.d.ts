// Types of `wattbridge/sandbox` (Node only): local stand-ins for the real services.

export const SANDBOX_PROVISIONING_KEY: string;
export const SANDBOX_PROVISIONING_SECRET: string;
/** The public client id of Weheat's community API. */
export const WEHEAT_CLIENT_ID: string;
/** The sandbox realm's one user, for the password grant. */
export const SANDBOX_WEHEAT_USER: { username: string; password: string };
/** The client id the sandbox Enedis gateway accepts. */
export const LINKY_CLIENT_ID: string;
/** The meters (PRM) a sandbox gateway login is granted. */
export const SANDBOX_METERS: string[];

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

export interface Sandbox {
  url: string;
  urls: {
    energyid: { helloUrl: string };
    weheat: { authUrl: string; apiUrl: string };
    linky: { gatewayUrl: string };
  };
  energyid: EnergyIdSandbox;
  weheat: AuthSandbox;
  linky: AuthSandbox;
  close(): Promise<void>;
}

export function startSandbox(options?: {
  port?: number;
  host?: string;
  energyid?: { uploadInterval?: number; autoClaimAfterHellos?: number | null; now?: () => number };
  weheat?: { accessTokenTtl?: number; now?: () => number };
  linky?: { deviceApproveAfterMs?: number | null; now?: () => number };
}): Promise<Sandbox>;

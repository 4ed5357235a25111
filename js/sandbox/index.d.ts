// Types of `wattbridge/sandbox` (Node only): local stand-ins for the real services.

export const SANDBOX_PROVISIONING_KEY: string;
export const SANDBOX_PROVISIONING_SECRET: string;

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

export interface Sandbox {
  url: string;
  urls: { energyid: { helloUrl: string } };
  energyid: EnergyIdSandbox;
  close(): Promise<void>;
}

export function startSandbox(options?: {
  port?: number;
  host?: string;
  energyid?: { uploadInterval?: number; autoClaimAfterHellos?: number | null; now?: () => number };
}): Promise<Sandbox>;

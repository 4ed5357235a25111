// Types of `wattbridge/mqtt` (js/mqtt/index.js).
import type { Linky, Weheat, EnergyId, OpenAdrNotice } from '../index.js';

export interface Naming {
  /** Discovery prefix, `homeassistant`. */
  prefix: string;
  /** Base topic, `wattbridge`. */
  base: string;
  /** wattbridge's version, for the origin block and sw_version. */
  version: string;
  currency?: string;
  weheatStates?: string[];
  /** This process's availability topic (default `<base>/status`). */
  availability?: string;
  /** Where Home Assistant says `online` when it (re)starts (default `homeassistant/status`, whatever the prefix). */
  haStatus?: string;
  /** One device-based discovery message per device (HA 2024.11 and later). */
  deviceBased?: boolean;
}

export interface Device {
  kind: 'linky' | 'weheat' | 'energyid' | 'openadr';
  id: string;
  name: string;
  manufacturer: string;
  model: string;
  swVersion?: string;
  values: Record<string, string | number | boolean | null>;
  omit?: string[];
}

export interface Message { topic: string; payload: string; retain: true }

/** An mqtt.js client (the type is mqtt.js's own `MqttClient`). */
export type MqttClient = { publishAsync(topic: string, payload: string, options?: object): Promise<unknown>; endAsync(): Promise<void>; connected: boolean };

export function connectBroker(options: { url: string; username?: string; password?: string; naming: Naming; clientId?: string; keepalive?: number; reconnect?: boolean; connectTimeoutMs?: number; mqtt?: unknown }): Promise<MqttClient>;
export function publishDevices(client: MqttClient, devices: Device[], naming: Naming, options?: { configs?: boolean }): Promise<number>;
export function removeDevices(client: MqttClient, devices: Device[], naming: Naming): Promise<number>;
export function disconnectBroker(client: MqttClient, naming: Naming, options?: { offline?: boolean }): Promise<void>;
export function onHomeAssistantBirth(client: MqttClient, naming: Naming, announce: () => void): Promise<void>;
export function checkBrokerUrl(url: string): URL;
export function discoveryMessages(devices: Device[], naming: Naming & { remove?: boolean }): Message[];
export function stateMessages(devices: Device[], naming: Naming): Message[];
export function availabilityTopic(naming: Naming): string;
export const ENTITY_OBJECTS: Record<Device['kind'], string[]>;
export function collectDevices(sources: {
  linky?: Linky | null;
  weheat?: Weheat | null;
  energyid?: EnergyId | null;
  energy?: Record<string, { ts: number; kwh: number }>;
  tariff?: object;
  refresh?: boolean;
  energyidError?: { code: string } | null;
}): Promise<{ devices: Device[]; problems: { device: string; code: string; message: string }[] }>;
export class VenEvents {
  notice(notice: OpenAdrNotice): void;
  values(nowMs: number): { active: boolean; signal: number | null; opt: string | null; event_id: string | null; next_event: string | null };
}
export function venDevice(venName: string, values: Record<string, string | number | boolean | null>): Device;

// The provider accounts the CLI logs in to, built from the settings. The token
// documents live in the default store (WATTBRIDGE_HOME/state, mode 0600).
// The classes alone, not the whole Node entry (sync, OpenADR, the loopback
// server…): `wattbridge status` loads this module and should load no more.
import '../node-wasm.js';
import { WattbridgeError } from '../errors.js';
import { SETTINGS } from '../config.js';
import { Linky } from '../linky.js';
import { Weheat } from '../weheat.js';
import { EnergyId } from '../energyid.js';
import { HomeAssistant, SUPERVISOR_SOCKET_URL } from '../homeassistant.js';
import { Jeedom } from '../jeedom.js';

const trim = (url) => url.replace(/\/+$/, '');
/** A numeric setting, or undefined when not set. */
const number = (settings, key) => (settings.get(key) === undefined ? undefined : Number(settings.get(key)));

/**
 * A whole-number setting ≥ 1 (`unit`: requests, seconds), or an error naming
 * it; called inside build(), which adds where the value came from.
 */
function count(settings, key, provider, unit = 'requests') {
  const value = number(settings, key);
  if (value === undefined || (Number.isInteger(value) && value >= 1)) return value;
  throw new WattbridgeError(`${key} is "${settings.get(key)}": give a whole number of ${unit}, at least 1`, { code: 'invalid_config', provider });
}

/** Build an account; a settings error names the setting and where its value came from. */
/** Longest first, so that linky.gateway_url is found before linky.gateway. */
const SETTING_NAMES = Object.keys(SETTINGS).sort((a, b) => b.length - a.length);

function build(settings, make) {
  try {
    return make();
  } catch (err) {
    // The library names the setting at fault; say where its value came from.
    const key = err.code === 'invalid_config' && SETTING_NAMES.find((name) => err.message.includes(name));
    if (key) err.message += ` (${key} is set by ${settings.source(key)})`;
    throw err;
  }
}

/** Weheat from the settings: Keycloak realm (password, code + PKCE), tokens under `tokens/weheat`. */
export function weheatClient(settings, { pump } = {}) {
  return build(settings, () => new Weheat({
    authUrl: trim(settings.get('weheat.auth_url')),
    apiUrl: trim(settings.get('weheat.api_url')),
    clientId: settings.get('weheat.client_id'),
    budgetPerHour: count(settings, 'weheat.budget_per_hour', 'weheat'),
    pump: pump ?? settings.get('weheat.pump'),
    gapFillSecs: count(settings, 'weheat.gap_fill_seconds', 'weheat', 'seconds'),
    firstLoadSecs: count(settings, 'weheat.first_load_seconds', 'weheat', 'seconds'),
  }));
}

/**
 * Linky from the settings: the device-flow gateway by default, a Conso API
 * token when one is set (enough on its own), or an own Enedis app.
 * @param {{meter?: string}} [flags]
 */
export function linkyClient(settings, { meter } = {}) {
  return build(settings, () => new Linky({
    access: settings.get('linky.access'),
    gateway: settings.get('linky.gateway'),
    gatewayUrl: settings.get('linky.gateway_url') && trim(settings.get('linky.gateway_url')),
    clientId: settings.get('linky.client_id'),
    refreshPath: settings.get('linky.refresh_path'),
    userAgent: settings.get('linky.user_agent'),
    consoApiUrl: trim(settings.get('linky.conso_api_url')),
    consoToken: settings.get('linky.conso_token'),
    consoBudget: count(settings, 'linky.conso_budget', 'linky'),
    enedisApiUrl: trim(settings.get('linky.enedis_api_url')),
    appClientId: settings.get('linky.app_client_id'),
    appClientSecret: settings.get('linky.app_client_secret'),
    consentUrl: settings.get('linky.consent_url'),
    meter: meter ?? settings.get('linky.meter'),
    correctionDays: number(settings, 'linky.correction_days'),
  }));
}

/**
 * The Conso API's 12-hour budget as both status commands say it, e.g. "62 of
 * 90 Conso API requests left in 12 h" (and when one frees up, when none is left).
 */
export function consoBudgetText({ left, limit, windowSecs, freesAtMs }) {
  const next = left === 0 && freesAtMs ? `, the next at ${new Date(freesAtMs).toISOString()}` : '';
  return `${left} of ${limit} Conso API requests left in ${windowSecs / 3600} h${next}`;
}

/** The tariff of `linky stats` (and of HA's cost statistic), as Linky.stats takes it. */
export function linkyTariff(settings) {
  const price = (key) => (settings.get(key) === undefined ? undefined : Number(settings.get(key)));
  return {
    tariff: settings.get('linky.tariff'),
    priceBase: price('linky.price_base'),
    priceHp: price('linky.price_hp'),
    priceHc: price('linky.price_hc'),
    offpeakHours: settings.get('linky.offpeak_hours'),
  };
}

/** True when a Home Assistant is configured: ha.url, or an add-on's SUPERVISOR_TOKEN. */
export const homeAssistantConfigured = (settings, env = process.env) => Boolean(settings.get('ha.url') || env.SUPERVISOR_TOKEN);

/**
 * Home Assistant from the settings: ha.url and ha.token; inside an add-on with
 * ha.url unset, the Supervisor's proxy and SUPERVISOR_TOKEN.
 */
export function homeAssistantClient(settings, env = process.env) {
  const url = settings.get('ha.url');
  const options = { currency: settings.get('ha.currency'), correctionDays: settings.get('linky.correction_days') === undefined ? undefined : Number(settings.get('linky.correction_days')) };
  if (!url && env.SUPERVISOR_TOKEN) return new HomeAssistant({ socketUrl: SUPERVISOR_SOCKET_URL, token: env.SUPERVISOR_TOKEN, ...options });
  if (!url) {
    throw new WattbridgeError('Home Assistant has no URL: set ha.url (e.g. -c ha.url=http://homeassistant.local:8123, or WATTBRIDGE_HA_URL)', { code: 'invalid_config', provider: 'homeassistant' });
  }
  const token = settings.get('ha.token');
  if (!token) {
    throw new WattbridgeError('Home Assistant needs a long-lived access token (HA: your profile → Security → Long-lived access tokens): set WATTBRIDGE_HA_TOKEN or keep it in the state file with `wattbridge config init`', { code: 'invalid_config', provider: 'homeassistant' });
  }
  return build(settings, () => new HomeAssistant({ url, token, ...options }));
}

/** Jeedom from the settings: jeedom.url and the jeedom.api_key secret. */
export function jeedomClient(settings) {
  const url = settings.get('jeedom.url');
  if (!url) throw new WattbridgeError('Jeedom has no URL: set jeedom.url (e.g. -c jeedom.url=https://jeedom.local, or WATTBRIDGE_JEEDOM_URL)', { code: 'invalid_config', provider: 'jeedom' });
  // Said here, not by the constructor: build() would add "check jeedom.url" to it.
  if (!settings.get('jeedom.api_key')) {
    throw new WattbridgeError('Jeedom needs its API key (Jeedom: Settings → System → Configuration → API, "Clé API"): set WATTBRIDGE_JEEDOM_API_KEY or keep it in the state file with `wattbridge config init`', { code: 'invalid_config', provider: 'jeedom' });
  }
  return build(settings, () => new Jeedom({
    url: trim(url),
    apiKey: settings.get('jeedom.api_key'),
    object: settings.get('jeedom.object'),
    timezone: settings.get('jeedom.timezone'),
    correctionDays: settings.get('linky.correction_days') === undefined ? undefined : Number(settings.get('linky.correction_days')),
  }));
}

const TARGETS = ['energyid', 'ha', 'mqtt', 'jeedom'];

/**
 * The targets `sync` feeds: `sync.targets` (comma list of energyid, ha, mqtt,
 * jeedom), by default every one that is configured. With none configured there
 * is nothing to sync to: the error says how to set one up (or try the demo).
 */
export function syncTargets(settings, env = process.env) {
  const given = settings.get('sync.targets');
  if (given === undefined || given.trim() === '') {
    const targets = new Set();
    if (settings.get('energyid.provisioning_key')) targets.add('energyid');
    if (homeAssistantConfigured(settings, env)) targets.add('ha');
    if (settings.get('mqtt.url')) targets.add('mqtt');
    if (settings.get('jeedom.url')) targets.add('jeedom');
    if (!targets.size) {
      throw new WattbridgeError(
        'sync has no target yet: set up EnergyID (energyid.provisioning_key and _secret), Home Assistant (ha.url and ha.token), MQTT (mqtt.url) or Jeedom (jeedom.url and jeedom.api_key); `wattbridge config init` asks for each, and `wattbridge demo` tries the whole job on the built-in sandbox',
        { code: 'invalid_config' },
      );
    }
    return targets;
  }
  const targets = new Set(given.split(',').map((t) => t.trim()).filter(Boolean));
  for (const target of targets) {
    if (!TARGETS.includes(target)) throw new WattbridgeError(`sync.targets: "${target}" is not one of ${TARGETS.join(', ')}`, { code: 'invalid_config' });
  }
  return targets;
}

/** The sources `sync` moves (and `status` shows): `sync.sources`, comma separated. */
export const syncSources = (settings) => new Set(String(settings.get('sync.sources') ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** The EnergyID device from the settings; the provisioning key and secret are required. */
export async function energyIdDevice(settings) {
  const key = settings.get('energyid.provisioning_key');
  const secret = settings.get('energyid.provisioning_secret');
  if (!key || !secret) {
    throw new WattbridgeError('EnergyID needs a provisioning key and secret: set WATTBRIDGE_ENERGYID_PROVISIONING_KEY and _SECRET (or energyid.provisioning_key/_secret in the config file)', { code: 'invalid_config', provider: 'energyid' });
  }
  const allowed = settings.get('energyid.allowed_keys');
  return new EnergyId({
    helloUrl: settings.get('energyid.hello_url'),
    provisioningKey: key,
    provisioningSecret: secret,
    deviceId: settings.get('energyid.device_id'),
    deviceName: settings.get('energyid.device_name'),
    firmwareVersion: settings.get('energyid.firmware_version'),
    batchCap: Number(settings.get('energyid.batch_cap')),
    allowedKeys: allowed ? allowed.split(',').map((k) => k.trim()).filter(Boolean) : [],
  });
}

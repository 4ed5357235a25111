// Settings: every key has a default (where one makes sense), a place in the
// config file and an environment variable (WATTBRIDGE_ + the key in upper snake
// case); flags win over both. See DESIGN.md "Configuration names".
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WattbridgeError } from './errors.js';
import { wattbridgePaths } from './paths.js';
import { FileStore } from './stores/file.js';

export const SETTINGS = {
  'linky.gateway': { default: 'prod', about: 'device-flow gateway deployment: prod or test (sets its URL and client id together)' },
  'linky.gateway_url': { presetBy: 'linky.gateway', about: 'device-flow gateway URL (prod https://enedis.domoticz.russandol.pro, test …/domoticzlinkyconnect)' },
  'linky.client_id': { presetBy: 'linky.gateway', about: 'client id at the gateway (prod d198fd52-61c0-4b77-8725-06a1ef90da9f, test 9c551777-9d1b-447c-9e68-bfe6896ee002)' },
  'linky.refresh_path': { default: '/device/token', about: 'path where the gateway renews tokens (/device/proxy for a gateway of the old scenario)' },
  'linky.user_agent': { about: 'User-Agent sent on every gateway call (default wattbridge/<version>)' },
  'linky.conso_api_url': { default: 'https://conso.boris.sh/api', about: 'Conso API base URL' },
  'linky.conso_token': { secret: true, about: 'Conso API token' },
  'linky.conso_budget': { default: '90', about: 'Conso API requests allowed in any 12 h, retries included (it bans an IP after about 100)' },
  'linky.meter': { about: 'meter (PRM) to use when a consent covers several' },
  'linky.access': { about: 'gateway, conso or enedis (default: conso when a Conso token is set, else gateway)' },
  'linky.enedis_api_url': { default: 'https://gw.ext.prod.api.enedis.fr', about: 'Data Connect API (own Enedis app)' },
  'linky.consent_url': { default: 'https://mon-compte-particulier.enedis.fr/dataconnect/v1/oauth2/authorize', about: 'own Enedis app: consent page' },
  'linky.app_client_id': { about: 'own Enedis app: client id' },
  'linky.app_client_secret': { secret: true, about: 'own Enedis app: client secret' },
  'linky.correction_days': { default: '3', about: 'recent days fetched again on every run' },
  'linky.tariff': { default: 'base', about: 'base or hphc (peak/off-peak)' },
  'linky.price_base': { about: 'EUR per kWh, base tariff' },
  'linky.price_hp': { about: 'EUR per kWh, peak hours' },
  'linky.price_hc': { about: 'EUR per kWh, off-peak hours' },
  'linky.offpeak_hours': { default: '22:00-06:00', about: 'off-peak slots, e.g. "22:00-06:00" or "mon-fri=22:00-06:00;sat,sun=00:00-24:00"' },
  'weheat.auth_url': { default: 'https://auth.weheat.nl/auth/realms/Weheat', about: 'Keycloak realm (issuer)' },
  'weheat.api_url': { default: 'https://api.weheat.nl', about: 'Weheat API base URL' },
  'weheat.client_id': { default: 'WeheatCommunityAPI', about: 'public client id' },
  'weheat.budget_per_hour': { default: '30', about: 'requests per hour for the account, retries included' },
  'weheat.pump': { about: 'heat pump id when the account has several (default: the first)' },
  'weheat.gap_fill_seconds': { default: '600', about: 'seconds between two runs of `weheat watch`\'s gap filler (±10 % jitter; at least 60)' },
  'weheat.first_load_seconds': { default: '7200', about: 'how far back a new install\'s first load reaches (seconds; 7200 = 2 h)' },
  'energyid.hello_url': { default: 'https://hooks.energyid.eu/hello', about: 'EnergyID provisioning endpoint' },
  'energyid.provisioning_key': { secret: true, about: 'EnergyID provisioning key' },
  'energyid.provisioning_secret': { secret: true, about: 'EnergyID provisioning secret' },
  'energyid.device_id': { about: 'device id (generated and remembered when not set)' },
  'energyid.device_name': { default: 'wattbridge', about: 'device name shown in EnergyID' },
  'energyid.firmware_version': { about: 'firmware version the device reports to EnergyID (optional)' },
  'energyid.batch_cap': { default: '1000', about: 'readings per POST' },
  'energyid.allowed_keys': { about: 'custom metric keys to accept, comma separated' },
  'ha.url': { about: 'Home Assistant, e.g. http://homeassistant.local:8123 (https, or http on this machine)' },
  'ha.token': { secret: true, about: 'Home Assistant long-lived access token of an admin user' },
  'ha.currency': { default: 'EUR', about: 'unit of the Linky cost in Home Assistant (its statistic and the MQTT sensor)' },
  'jeedom.url': { about: 'Jeedom, e.g. https://jeedom.local (or ending in /jeedom; https, or http on this machine)' },
  'jeedom.api_key': { secret: true, about: 'Jeedom API key (Settings → System → Configuration → API)' },
  'jeedom.object': { about: 'Jeedom object (room) new equipments go in, by name or id (default: none)' },
  'jeedom.timezone': { about: 'Jeedom\'s time zone (default: read from Jeedom, else Jeedom\'s default, Europe/Brussels)' },
  'sync.targets': { about: 'targets sync feeds, comma separated (energyid, ha, mqtt, jeedom; default: every one configured)' },
  'sync.sources': { default: 'linky,weheat', about: 'sources to sync, comma separated (linky, weheat)' },
  'sync.linky_key': { default: 'el', about: 'EnergyID key for Linky consumption' },
  'sync.linky_production_key': { default: 'el-i', about: 'EnergyID key for Linky production (pv for full-sale installs; none to skip)' },
  'sync.heat_key': { default: 'heat', about: 'EnergyID key for the heat the heat pump delivers' },
  'sync.heatpump_electricity_key': { default: 'el.heatpump', about: 'EnergyID key for the heat pump\'s electricity' },
  'sync.linky_start_index': { about: 'kWh on the consumption meter at the first data (default 0)' },
  'sync.linky_production_start_index': { about: 'kWh on the production meter at the first data (default 0)' },
  'sync.heat_start_index': { about: 'kWh of heat at the first data (default 0)' },
  'sync.heatpump_electricity_start_index': { about: 'kWh of heat-pump electricity at the first data (default 0)' },
  'sync.resolution': { default: 'half-hour', about: 'Linky resolution: half-hour (load curve, else daily) or day' },
  'mqtt.url': { about: 'MQTT broker: mqtt://host:1883, mqtts://host:8883 or ws(s)://host/mqtt (no credentials in it)' },
  'mqtt.username': { about: 'MQTT user name' },
  'mqtt.password': { secret: true, about: 'MQTT password' },
  'mqtt.discovery_prefix': { default: 'homeassistant', about: 'Home Assistant discovery prefix' },
  'mqtt.ha_status_topic': { default: 'homeassistant/status', about: 'where Home Assistant says online when it starts (its birth topic; it does not follow the prefix)' },
  'mqtt.base_topic': { default: 'wattbridge', about: 'topic under which states and <base>/status go' },
  'mqtt.device_discovery': { default: 'false', about: 'true: one device-based discovery message per device (HA 2024.11 and later)' },
  'mqtt.interval': { default: '300', about: 'mqtt run: seconds between two readings of the live values' },
  'openadr.ca_file': { about: 'openadr run: PEM file of the CA certificates the VTN\'s TLS certificate must chain to (instead of the usual authorities)' },
  'openadr.check_hostname': { default: 'true', about: 'openadr run: false accepts a VTN certificate made out to another name, e.g. a VTN reached by IP (the chain is still checked)' },
  'sync.max_wait': { default: '900', about: 'seconds a sync may wait for EnergyID\'s next upload slot' },
};

/** Where `config init` keeps secrets: the 0600 state store, not config.json. */
export const SECRETS_KEY = 'settings/secrets';

export const envName = (key) => `WATTBRIDGE_${key.replace(/[.-]/g, '_').toUpperCase()}`;

/**
 * Read settings from defaults, `<config dir>/config.json`, the environment and
 * `overrides` (flags), later ones winning.
 * @returns {Promise<{get(key: string): string | undefined, source(key: string): string, file: string}>}
 */
/** Settings given on the command line (`-c key=value`), applied over everything else. */
const flagSettings = {};

/** Record `-c key=value` flags; an unknown key is refused with the list of known ones. */
export function setFlagSettings(pairs) {
  for (const pair of pairs) {
    const match = /^([a-z_]+\.[a-z_]+)=(.*)$/s.exec(pair);
    if (!match) throw new WattbridgeError(`-c expects key=value (e.g. -c linky.meter=12345678901234), not "${pair}"`, { code: 'invalid_input' });
    if (!SETTINGS[match[1]]) throw new WattbridgeError(`unknown setting "${match[1]}": see \`wattbridge config show\` for the list`, { code: 'invalid_input' });
    if (SETTINGS[match[1]].secret) {
      // A command line shows in `ps` and stays in shell history.
      throw new WattbridgeError(
        `${match[1]} is a secret and is not taken from the command line (ps and shell history would show it): set ${envName(match[1])} in the environment, or run \`wattbridge config init\`, which keeps it in the 0600 state file`,
        { code: 'invalid_input' },
      );
    }
    flagSettings[match[1]] = match[2];
  }
}

/** Say once per process that config.json holds secrets, and where they belong. */
let warned = false;
export function warnOfSecretsIn(file, config, warn) {
  const found = Object.keys(SETTINGS).filter((key) => SETTINGS[key].secret && config?.[key.split('.')[0]]?.[key.split('.')[1]] !== undefined);
  if (found.length && !warned) {
    warned = true;
    warn(`${file} holds ${found.join(', ')}: keep secrets in the 0600 state file (\`wattbridge config init\`) or in the environment instead`);
  }
}

export async function loadSettings({ env = process.env, overrides = flagSettings, warn = (text) => process.stderr.write(`wattbridge: warning: ${text}\n`) } = {}) {
  const paths = wattbridgePaths(env);
  const file = join(paths.config, 'config.json');
  const fromFile = await readConfigFile(file);
  warnOfSecretsIn(file, fromFile, warn);
  // Secrets written by `config init` live in the 0600 state store.
  const secrets = JSON.parse((await new FileStore(paths.state).get(SECRETS_KEY)) ?? '{}');
  const lookup = settingsLookup({ file, fromFile, secrets, env, overrides });
  return { file, stateDir: paths.state, get: (key) => lookup(key)[0], source: (key) => lookup(key)[1] };
}

/** A setting's value and where it came from: flag, environment, state file, config.json, default. */
export function settingsLookup({ file, fromFile, secrets, env, overrides }) {
  return (key) => {
    if (overrides[key] !== undefined) return [overrides[key], 'flag'];
    if (env[envName(key)] !== undefined && env[envName(key)] !== '') return [env[envName(key)], envName(key)];
    if (secrets[key] !== undefined) return [String(secrets[key]), 'state file (secret)'];
    const [section, name] = key.split('.');
    const value = fromFile?.[section]?.[name];
    if (value !== undefined) return [String(value), file];
    return [SETTINGS[key]?.default, 'default'];
  };
}

/**
 * Write config.json whole or not at all (a temporary file, fsync, rename),
 * readable by its owner only: a crash never leaves half a file.
 */
export async function writeConfigFile(file, config) {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(config, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file).catch(async (err) => {
    await unlink(temporary).catch(() => {});
    throw err;
  });
}

export async function readConfigFile(file) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw unreadable(file, err);
  }
  return parseConfig(text, file);
}

const unreadable = (file, err) => new WattbridgeError(`config file ${file} cannot be read (${err.message}); fix or remove it`, { code: 'invalid_config', cause: err });

/**
 * config.json's text, read and checked (fuzzed: fuzz/js-targets.mjs): an
 * object of sections, each an object of settings, each a string, number or
 * boolean. Anything else would be turned into text (or fail to be).
 */
export function parseConfig(text, file) {
  let config;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw unreadable(file, err);
  }
  const invalid = (what) => new WattbridgeError(`config file ${file}: ${what}; fix or remove it`, { code: 'invalid_config' });
  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isObject(config)) throw invalid('it must hold a JSON object, e.g. {"linky": {"meter": "12345678901234"}}');
  for (const key of Object.keys(SETTINGS)) {
    const [section, name] = key.split('.');
    if (!Object.hasOwn(config, section)) continue;
    if (!isObject(config[section])) throw invalid(`"${section}" must be an object of settings`);
    if (Object.hasOwn(config[section], name) && !['string', 'number', 'boolean'].includes(typeof config[section][name])) {
      throw invalid(`${key} must be a string or a number`);
    }
  }
  return config;
}

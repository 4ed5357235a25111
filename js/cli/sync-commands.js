// `wattbridge sync` and `wattbridge config init|show` (status: status-command.js):
// the main job from cron, a systemd timer or a terminal.
import { FileStore, WattbridgeError, sync } from '../node.js';
import { loadSettings, readConfigFile, writeConfigFile, SETTINGS, SECRETS_KEY } from '../config.js';
import { linkyClient, weheatClient, energyIdDevice, syncSources, syncTargets, homeAssistantClient, jeedomClient, linkyTariff } from './accounts.js';
import { takeLock } from '../lock.js';
import { progressBar } from './progress.js';
import { exitCodeOf } from './exit-codes.js';

const number = (settings, key) => (settings.get(key) === undefined ? undefined : Number(settings.get(key)));

/** Everything sync needs, from the settings (the same for the CLI and `syncFromSettings`). */
export async function syncOptions(settings) {
  const sources = syncSources(settings);
  const production = settings.get('sync.linky_production_key');
  const mapping = {
    linkyConsumption: settings.get('sync.linky_key'),
    linkyProduction: production === 'none' || production === '' ? null : production,
    heat: settings.get('sync.heat_key'),
    heatPumpElectricity: settings.get('sync.heatpump_electricity_key'),
  };
  const startIndex = {};
  for (const [key, setting] of [[mapping.linkyConsumption, 'sync.linky_start_index'], [mapping.linkyProduction, 'sync.linky_production_start_index'], [mapping.heat, 'sync.heat_start_index'], [mapping.heatPumpElectricity, 'sync.heatpump_electricity_start_index']]) {
    if (key && settings.get(setting) !== undefined) startIndex[key] = Number(settings.get(setting));
  }
  const targets = syncTargets(settings);
  return {
    linky: sources.has('linky') ? linkyClient(settings) : null,
    weheat: sources.has('weheat') ? weheatClient(settings) : null,
    energyid: targets.has('energyid') ? await energyIdDevice(settings) : null,
    homeassistant: targets.has('ha') ? homeAssistantClient(settings) : null,
    jeedom: targets.has('jeedom') ? jeedomClient(settings) : null,
    tariff: linkyTariff(settings),
    mqtt: targets.has('mqtt'),
    mapping,
    startIndex,
    resolution: settings.get('sync.resolution'),
    maxWaitSeconds: number(settings, 'sync.max_wait'),
  };
}

/**
 * One sync under the state lock (sources' history is shared), with progress
 * bars; sets the exit code from what failed. `args()` gives sync's options,
 * inside the lock. Resolves to the report.
 */
export async function runLocked(settings, args, { json }) {
  const release = await takeLock(settings.stateDir);
  const bars = new Map();
  try {
    const report = await sync({
      ...(await args()),
      onProgress: ({ stage, done, total }) => {
        if (!bars.has(stage)) bars.set(stage, progressBar(stage, { quiet: json }));
        bars.get(stage).onProgress({ done, total });
      },
    });
    for (const bar of bars.values()) bar.stop();
    if (report.mqtt && !report.dryRun) {
      // The broker's turn comes after EnergyID's: a broker that is down costs EnergyID nothing.
      const { publishAfterSync } = await import('./mqtt-commands.js');
      report.mqtt = { ...report.mqtt, ...(await publishAfterSync(settings, { energy: report.mqtt.energy, energyidError: report.energyid?.error })) };
    }
    const failures = [...Object.values(report.sources), report.energyid, report.ha, report.jeedom, report.mqtt].filter((s) => s?.status === 'error');
    if (failures.length) process.exitCode = Math.max(...(await Promise.all(failures.map((f) => exitCodeOf(f.error)))));
    return report;
  } finally {
    for (const bar of bars.values()) bar.stop();
    await release();
  }
}

export async function syncCommand(options, { json }) {
  const settings = await loadSettings();
  const report = await runLocked(settings, async () => ({
    ...(await syncOptions(settings)),
    since: options.since,
    dryRun: options.dryRun,
    retryBlocked: options.retryBlocked,
    ...(options.maxWait === undefined ? {} : { maxWaitSeconds: options.maxWait }),
  }), { json });
  return { result: report, text: renderSync(report) };
}

/**
 * A command that feeds one target (`ha statistics`, `jeedom push`): the
 * configured sources into `target.make(settings)` given as `target.option`;
 * the report's part `target.field` rendered by `target.render`.
 */
export async function runTarget(options, { json }, target) {
  const settings = await loadSettings();
  const client = target.make(settings);
  const sources = syncSources(settings);
  const report = await runLocked(settings, async () => ({
    linky: sources.has('linky') ? linkyClient(settings) : null,
    weheat: sources.has('weheat') ? weheatClient(settings) : null,
    [target.option]: client,
    tariff: linkyTariff(settings),
    resolution: settings.get('sync.resolution'),
    since: options.since,
    dryRun: options.dryRun,
  }), { json });
  const part = report[target.field];
  const lines = [report.dryRun ? target.dryRun : target.title];
  for (const [name, s] of Object.entries(report.sources)) {
    if (s.status === 'ok') lines.push(`  ${name.padEnd(8)} ${name === 'linky' ? `meter ${s.meter}` : `pump ${s.pump}`}: ${s.requests} requests${s.holes ? `, ${s.holes} gaps left as gaps` : ''}`);
    else lines.push(`  ${name.padEnd(8)} ${s.status === 'skipped' ? 'skipped' : 'failed'}: ${s.error.message} [${s.error.code}]`);
  }
  lines.push(target.render(part, report.dryRun));
  if (!report.dryRun && part.status === 'ok') lines.push(target.hint);
  return { result: report, text: lines.join('\n') };
}

function renderSync(report) {
  const lines = [report.dryRun ? 'Dry run: nothing was queued or sent.' : 'Sync finished.'];
  for (const [name, s] of Object.entries(report.sources)) {
    if (s.status === 'ok') {
      const extra = name === 'linky' ? `meter ${s.meter}, ${s.series.join(' + ')}${s.holes ? `, ${s.holes} gaps left as gaps` : ''}` : `pump ${s.pump}, COP ${s.cop === null ? '–' : s.cop.toFixed(2)} over the new data`;
      lines.push(`  ${name.padEnd(8)} ${s.readings} new readings; ${s.requests} requests (at least ${s.minimumRequests} needed); ${extra}`);
    } else {
      lines.push(`  ${name.padEnd(8)} ${s.status === 'skipped' ? 'skipped' : 'failed'}: ${s.error.message} [${s.error.code}]${s.retry ? '' : ' — not retried until you act (or --retry-blocked)'}`);
    }
  }
  const e = report.energyid;
  if (report.mqtt) {
    const m = report.mqtt;
    lines.push(m.status === 'error' ? `  mqtt     not published: ${m.error.message} [${m.error.code}]` : `  mqtt     published ${m.devices ?? 0} devices (${m.messages ?? 0} messages)`);
  }
  if (!e) {
    // No EnergyID (sync.targets without it).
  } else if (report.dryRun) {
    lines.push(`  energyid would queue ${e.values} values in ${e.wouldQueue} readings`);
  } else if (e.status === 'error') {
    lines.push(`  energyid queued ${e.queued} values; upload failed: ${e.error.message} [${e.error.code}]`);
  } else {
    lines.push(`  energyid queued ${e.queued} values; sent ${e.readings} readings in ${e.requests} POSTs; ${e.remaining} values wait${e.nextUploadAtMs ? ` (next upload allowed ${new Date(e.nextUploadAtMs).toISOString()})` : ''}`);
  }
  if (report.ha) lines.push(renderHa(report.ha, report.dryRun));
  if (report.jeedom) lines.push(renderJeedom(report.jeedom, report.dryRun));
  lines.push(`done in ${report.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

/** One line for Home Assistant's part of a report (sync and `ha statistics`). */
export function renderHa(ha, dryRun) {
  if (ha.status === 'error') return `  ha       failed: ${ha.error.message} [${ha.error.code}]`;
  if (dryRun) return `  ha       would import from ${ha.values} readings (${ha.wouldQueue} instants); nothing sent`;
  const ids = Object.keys(ha.statistics ?? {});
  const holes = ha.holes ? `; ${ha.holes} hole${ha.holes === 1 ? '' : 's'} kept as holes until the source fills them` : '';
  // The holes stay recorded: a later run asks again.
  const refill = ha.refillError ? `\n  ha       could not ask again for the older holes: ${ha.refillError.message} [${ha.refillError.code}]` : '';
  return `  ha       imported ${ha.imported} hourly rows (${ha.unchanged} already there) into ${ids.length} statistic${ids.length === 1 ? '' : 's'}${ids.length ? `: ${ids.join(', ')}` : ''}; Home Assistant ${ha.haVersion}${holes}${refill}`;
}

/** One line for Jeedom's part of a report (sync and `jeedom push`). */
export function renderJeedom(jeedom, dryRun) {
  if (jeedom.status === 'error') return `  jeedom   failed: ${jeedom.error.message} [${jeedom.error.code}]`;
  if (dryRun) return `  jeedom   would write from ${jeedom.values} readings; nothing sent`;
  const names = Object.values(jeedom.equipments ?? {}).map((e) => `${e.name}${e.created ? ' (created)' : ''}`);
  const skipped = (jeedom.skipped ?? []).map((s) => `\n  jeedom   left out ${s.source}'s current values: ${s.message} [${s.code}]`).join('');
  return `  jeedom   wrote ${jeedom.written} values (${jeedom.unchanged} already there) into ${names.length ? names.join(', ') : 'no equipment'}; time zone ${jeedom.timezone}${skipped}`;
}

/** All settings with their value and where it came from; secrets redacted. */
export async function configShow() {
  const settings = await loadSettings();
  const result = {};
  const lines = [`config file: ${settings.file}`, `state (secrets, tokens, history): ${settings.stateDir}`, ''];
  for (const [key, meta] of Object.entries(SETTINGS)) {
    const value = settings.get(key);
    const shown = value === undefined ? null : meta.secret ? '[redacted]' : value;
    result[key] = { value: shown, source: settings.source(key) };
    // A setting a preset fills in (linky.gateway_url from linky.gateway) is not "not set".
    const unset = meta.presetBy && settings.source(key) === 'default' ? `(from ${meta.presetBy})` : '(not set)';
    lines.push(`${key.padEnd(36)} ${String(shown ?? unset).padEnd(40)} ${settings.source(key)}`);
  }
  return { result, text: lines.join('\n') };
}

/** Walk a person through the set-up: sources, accounts, keys. Secrets go to the 0600 state file. */
export async function configInit() {
  if (!process.stdin.isTTY) {
    throw new WattbridgeError('config init asks questions: run it in a terminal (or write config.json and set WATTBRIDGE_* variables)', { code: 'invalid_input' });
  }
  const { checkbox, input, password, select } = await import('@inquirer/prompts');
  const settings = await loadSettings();
  const config = await readConfigFile(settings.file);
  const store = new FileStore(settings.stateDir);
  const secrets = JSON.parse((await store.get(SECRETS_KEY)) ?? '{}');
  const set = (key, value) => {
    if (value === undefined || value === '') return;
    if (SETTINGS[key]?.secret) secrets[key] = value;
    else {
      const [section, name] = key.split('.');
      config[section] = { ...(config[section] ?? {}), [name]: value };
    }
  };
  const ask = (key, message) => input({ message, default: settings.get(key) });
  const sources = await checkbox({ message: 'Which sources should go to EnergyID?', choices: [{ name: 'Linky (Enedis)', value: 'linky', checked: true }, { name: 'Weheat heat pump', value: 'weheat', checked: true }] });
  set('sync.sources', sources.join(','));
  if (sources.includes('linky')) {
    const access = await select({ message: 'How do you reach Enedis?', choices: [{ name: 'the device-flow gateway (wattbridge linky login)', value: 'gateway' }, { name: 'a Conso API token (conso.boris.sh)', value: 'conso' }, { name: 'my company\'s own Enedis app', value: 'enedis' }] });
    set('linky.access', access);
    if (access === 'conso') set('linky.conso_token', await password({ message: 'Conso API token', mask: '*' }));
    if (access === 'enedis') {
      set('linky.app_client_id', await ask('linky.app_client_id', 'App client id'));
      set('linky.app_client_secret', await password({ message: 'App client secret', mask: '*' }));
    }
    set('linky.meter', await ask('linky.meter', 'Meter (PRM, 14 digits; empty: the first of the consent)'));
    set('sync.linky_key', await ask('sync.linky_key', 'EnergyID key for consumption'));
    set('sync.linky_production_key', await ask('sync.linky_production_key', 'EnergyID key for production (pv for full-sale, none to skip)'));
    set('sync.linky_start_index', await ask('sync.linky_start_index', 'Meter reading in kWh at the first data (empty: 0)'));
  }
  if (sources.includes('weheat')) {
    set('weheat.pump', await ask('weheat.pump', 'Heat pump id (empty: the first of the account)'));
    set('sync.heat_key', await ask('sync.heat_key', 'EnergyID key for delivered heat'));
    set('sync.heatpump_electricity_key', await ask('sync.heatpump_electricity_key', 'EnergyID key for the heat pump\'s electricity'));
  }
  set('energyid.provisioning_key', await password({ message: 'EnergyID provisioning key', mask: '*' }));
  set('energyid.provisioning_secret', await password({ message: 'EnergyID provisioning secret', mask: '*' }));
  set('energyid.device_name', await ask('energyid.device_name', 'Device name shown in EnergyID'));
  const jeedomUrl = await ask('jeedom.url', 'Jeedom URL, to also write the values into Jeedom (empty: no Jeedom)');
  set('jeedom.url', jeedomUrl);
  if (jeedomUrl) set('jeedom.api_key', await password({ message: 'Jeedom API key (Jeedom: Settings → System → Configuration → API)', mask: '*' }));
  const broker = await ask('mqtt.url', 'MQTT broker for Home Assistant / jMQTT, e.g. mqtt://homeassistant.local:1883 (empty: none)');
  if (broker) {
    set('mqtt.url', broker);
    set('mqtt.username', await ask('mqtt.username', 'MQTT user name (empty: none)'));
    set('mqtt.password', await password({ message: 'MQTT password (empty: none)', mask: '*' }));
  }
  await writeConfigFile(settings.file, config);
  await store.put(SECRETS_KEY, JSON.stringify(secrets));
  const next = ['Saved. Next:', ...(sources.includes('linky') && config.linky?.access === 'gateway' ? ['  wattbridge linky login'] : []), ...(sources.includes('weheat') ? ['  wattbridge weheat login'] : []), '  wattbridge energyid login', '  wattbridge sync'];
  return { result: { file: settings.file, sources }, text: `${next.join('\n')}\n(settings in ${settings.file}; secrets in the 0600 state file)` };
}

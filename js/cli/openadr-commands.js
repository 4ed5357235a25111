// `wattbridge openadr run`: a VEN that stays connected to an OpenADR 2.0b VTN,
// logs what happens, answers events by a rule and offers one report.
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { OpenAdrVen, WattbridgeError } from '../node.js';

const invalid = (message) => new WattbridgeError(message, { code: 'invalid_input', provider: 'openadr' });

/**
 * `signal>2` (also >=, <, <=): opt out of an event when any interval's signal
 * payload compares so with the number; opt in otherwise.
 * @returns {(event: object) => 'optIn' | 'optOut'}
 */
export function parseOptOutRule(rule) {
  const match = /^signal\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)$/.exec(String(rule).trim());
  if (!match) throw invalid(`--opt-out-if: expected a rule like signal>2 (operators > >= < <=), not "${rule}"`);
  const [, op, number] = match;
  const limit = Number(number);
  const compare = { '>': (v) => v > limit, '>=': (v) => v >= limit, '<': (v) => v < limit, '<=': (v) => v <= limit }[op];
  return (event) => {
    const payloads = event.event_signals.flatMap((s) => s.intervals.map((i) => i.signal_payload)).filter((v) => typeof v === 'number');
    return payloads.some(compare) ? 'optOut' : 'optIn';
  };
}

async function readSecretFile(path, what) {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new WattbridgeError(`cannot read the ${what} file ${path}: ${err.code ?? err.message}`, { code: 'invalid_config', provider: 'openadr' });
  }
}

/** The passphrase from stdin or from an environment variable: never from the command line. */
async function passphrase({ passphraseStdin, passphraseEnv }) {
  if (passphraseStdin && passphraseEnv) throw invalid('give the passphrase with --passphrase-stdin or --passphrase-env, not both');
  if (passphraseStdin) return (await text(process.stdin)).replace(/\r?\n$/, '');
  if (passphraseEnv) {
    const value = process.env[passphraseEnv];
    if (value === undefined) throw invalid(`--passphrase-env: the variable ${passphraseEnv} is not set`);
    return value;
  }
  return undefined;
}

const payloadsOf = (event) => event.event_signals.map((s) => `${s.signal_name}/${s.signal_type} ${s.intervals.map((i) => i.signal_payload).join(',')}`).join('; ');

/** A reading: a number as it is, a resource status as JSON. */
const shown = (value) => (typeof value === 'number' ? String(value) : JSON.stringify(value));

/** One line for a person per notice (null: nothing worth a line). */
function describe(notice) {
  switch (notice.type) {
    case 'registered': return `registered as ${notice.venId} (registration ${notice.registrationId}), polling every ${notice.pollSecs} s`;
    case 'reportRequested': return `the VTN asked for report ${notice.reportRequestId} (${notice.rIds.join(', ')}) every ${notice.intervalSecs} s`;
    case 'event': {
      const d = notice.event.event_descriptor;
      return `${notice.modified ? 'modified' : 'new'} event ${d.event_id} (modification ${d.modification_number}, ${d.event_status}) starting ${notice.event.active_period.dtstart} for ${notice.event.active_period.duration} s: ${payloadsOf(notice.event)} → ${notice.opt}`;
    }
    case 'cancelled': return `event ${notice.eventId} cancelled${notice.implied ? ' (no longer listed by the VTN)' : ''}`;
    case 'reportSent': return `report ${notice.reportRequestId} sent: ${notice.values.map(([rId, value]) => `${rId}=${shown(value)}`).join(', ')}`;
    case 'reportReceived': return `the VTN sent report ${notice.requestId}: ${notice.values.map((v) => `${v.rId}=${shown(v.value)} at ${v.dtstart}`).join(', ')}`;
    case 'reregistering': return 'the VTN asked us to register again';
    case 'reportCancelled': return `the VTN cancelled report ${notice.reportRequestId}`;
    case 'error': return `problem: ${notice.message} [${notice.code}] (carrying on)`;
    case 'registrationCancelled': return 'registration cancelled';
    default: return null;
  }
}

/**
 * The TLS options: a flag wins over the openadr.* settings (config file or
 * WATTBRIDGE_OPENADR_CA_FILE / WATTBRIDGE_OPENADR_CHECK_HOSTNAME).
 */
export function tlsOptions(options, settings) {
  const checkHostname = options.checkHostname === false ? 'false' : settings.get('openadr.check_hostname');
  if (checkHostname !== undefined && checkHostname !== 'true' && checkHostname !== 'false') {
    throw new WattbridgeError(`openadr.check_hostname must be true or false, not "${checkHostname}" (from ${settings.source('openadr.check_hostname')})`, { code: 'invalid_config', provider: 'openadr' });
  }
  return { caFile: options.caFile ?? settings.get('openadr.ca_file'), checkHostname: checkHostname !== 'false' };
}

export async function openAdrRun(options, { json }) {
  const { loadSettings } = await import('../config.js');
  const settings = await loadSettings();
  const reportValue = Number(options.reportValue);
  if (!Number.isFinite(reportValue)) throw invalid(`--report-value must be a number, not "${options.reportValue}"`);
  if (Boolean(options.cert) !== Boolean(options.key)) throw invalid('signing needs both --cert and --key');
  const decide = options.optOutIf ? parseOptOutRule(options.optOutIf) : () => 'optIn';
  const keyPassphrase = await passphrase(options);

  const print = (notice) => {
    if (json) return process.stdout.write(`${JSON.stringify(notice)}\n`);
    const line = describe(notice);
    if (line) process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);
  };
  const mqtt = options.mqtt ? await venOverMqtt(options.venName, settings, print) : null;
  const ven = new OpenAdrVen({
    vtnUrl: options.vtn,
    venName: options.venName,
    cert: options.cert && (await readSecretFile(options.cert, 'certificate')),
    key: options.key && (await readSecretFile(options.key, 'key')),
    passphrase: keyPassphrase,
    vtnFingerprint: options.vtnFingerprint,
    ...tlsOptions(options, settings),
    onNotice: (notice) => {
      print(notice);
      mqtt?.notice(notice);
    },
  });
  ven.onEvent(decide);
  ven.addReport(() => reportValue, { resourceId: options.resourceId, measurement: 'powerReal', unit: 'W', samplingRate: options.reportInterval });

  // Until Ctrl-C or SIGTERM; then leave politely (cancel the registration).
  let stopRequested;
  const stopSignal = new Promise((resolve) => { stopRequested = resolve; });
  const onSignal = (signal) => stopRequested(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await ven.start();
    const signal = await stopSignal;
    if (!json) process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${signal}: stopping\n`);
    await ven.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await mqtt?.stop();
  }
  return undefined;
}

/**
 * `--mqtt`: the VEN as a Home Assistant device (event active, signal level,
 * opt state, next event start), on the broker of the mqtt.* settings, with its
 * own availability topic so that it comes and goes independently of `mqtt run`.
 * Values are recomputed on every notice and every few seconds (an event
 * starts without a message).
 */
async function venOverMqtt(venName, settings, print) {
  const [mqttCommands, { connectBroker, disconnectBroker }, { VenEvents, venDevice }] = await Promise.all([
    import('./mqtt-commands.js'),
    import('../mqtt/publisher.js'),
    import('../mqtt/openadr.js'),
  ]);
  const target = mqttCommands.mqttSettings(settings);
  const device = (values) => venDevice(venName, values);
  const naming = { ...target.naming, availability: `${target.naming.base}/${device({}).id}/status` };
  const client = await connectBroker({ ...target, naming, reconnect: true });
  const live = mqttCommands.livePublisher(settings, client, naming);
  const report = (err) => print({ type: 'error', code: err.code ?? 'unavailable', message: `mqtt: ${err.message}` });
  await mqttCommands.stayAnnounced(client, naming, () => live.announce().catch(report), report);
  const events = new VenEvents();
  const refresh = (configs = false) => live.update([device(events.values(Date.now()))], { configs }).catch(report);
  await refresh(true);
  const timer = setInterval(refresh, 5000);
  return {
    notice(notice) {
      events.notice(notice);
      refresh();
    },
    async stop() {
      clearInterval(timer);
      await refresh();
      await disconnectBroker(client, naming, { offline: true });
    },
  };
}

// `wattbridge status`: every source, the EnergyID record and its outbox, and
// the other targets set up, at a glance, from stored state only (no request). A module of its own so that it
// loads only what it reads: the wasm module and the three accounts, not the
// sync, the prompts, the progress bars or the CSV parser.
import { FileStore } from '../stores/file.js';
import { loadSettings } from '../config.js';
import { linkyClient, weheatClient, energyIdDevice, syncSources, homeAssistantConfigured, consoBudgetText } from './accounts.js';

/**
 * Every source and the outbox at a glance. The three parts only read their own
 * documents, so they run concurrently; the output keeps the order linky,
 * weheat, energyid.
 */
export async function statusCommand() {
  const settings = await loadSettings();
  const sources = syncSources(settings);
  const store = new FileStore(settings.stateDir);
  const blocked = async (name) => {
    const text = await store.get(`sync/blocked/${name}`);
    return text ? JSON.parse(text) : null;
  };
  /** `[name, result, line]`: the part's result, or its error (reported, not thrown). */
  const guard = async (name, work) => {
    try {
      return [name, ...(await work())];
    } catch (err) {
      return [name, { error: err.toJSON?.() ?? { message: String(err) } }, `${name}: ${err.message}${err.code ? ` [${err.code}]` : ''}`];
    }
  };
  const parts = [];
  if (sources.has('linky')) {
    parts.push(guard('linky', async () => {
      const [s, b] = await Promise.all([linkyClient(settings).status(), blocked('linky')]);
      const curve = s.series.find((x) => x.series === 'load-curve');
      const budget = s.consoBudget ? `, ${consoBudgetText(s.consoBudget)}` : '';
      return [{ ...s, blocked: b }, `linky: ${s.problem ? s.problem.message : `meter ${s.meter}, data up to ${curve?.lastDay ?? 'nothing yet'}`}${budget}${b ? ` — sync paused: ${b.message} [${b.code}]` : ''}`];
    }));
  }
  if (sources.has('weheat')) {
    parts.push(guard('weheat', async () => {
      const weheat = weheatClient(settings);
      const [tokens, b, left] = await Promise.all([weheat.oauth().status(), blocked('weheat'), weheat.budgetLeft()]);
      return [{ loggedIn: tokens.loggedIn, budgetLeft: left, blocked: b }, `weheat: ${tokens.loggedIn ? 'logged in' : 'not logged in (wattbridge weheat login)'}, ${left} requests left this hour${b ? ` — sync paused: ${b.message} [${b.code}]` : ''}`];
    }));
  }
  parts.push(guard('energyid', async () => {
    if (!settings.get('energyid.provisioning_key')) return [{ configured: false }, 'energyid: not set up (wattbridge config init asks for its provisioning key)'];
    const s = await (await energyIdDevice(settings)).status();
    return [s, `energyid: ${s.claimed ? `record "${s.recordName}"` : 'not claimed (wattbridge energyid login)'}, ${s.outbox} values in the outbox${s.quarantined ? `, ${s.quarantined} refused` : ''}${s.outbox && s.nextUploadAtMs ? `, next upload ${new Date(s.nextUploadAtMs).toISOString()}` : ''}`];
  }));
  const done = await Promise.all(parts);
  // The other targets, from the settings alone (status makes no request).
  // Secrets are only said to be set or not.
  const targets = [
    ['ha', homeAssistantConfigured(settings) && { url: settings.get('ha.url') ?? 'the add-on\'s Supervisor', secret: settings.get('ha.url') ? settings.get('ha.token') : true, missing: 'no token (WATTBRIDGE_HA_TOKEN or wattbridge config init)' }],
    ['mqtt', settings.get('mqtt.url') && { url: settings.get('mqtt.url'), secret: true }],
    ['jeedom', settings.get('jeedom.url') && { url: settings.get('jeedom.url'), secret: settings.get('jeedom.api_key'), missing: 'no API key (WATTBRIDGE_JEEDOM_API_KEY or wattbridge config init)' }],
  ];
  for (const [name, target] of targets) {
    if (!target) continue;
    done.push([name, { configured: true, url: target.url, ready: Boolean(target.secret) }, `${name}: ${target.url}${target.secret ? '' : ` — ${target.missing}`}`]);
  }
  return { result: Object.fromEntries(done.map(([name, result]) => [name, result])), text: done.map(([, , line]) => line).join('\n') };
}

// `wattbridge demo`: the whole job against the in-process sandbox, with state
// in a throw-away directory so nothing of the user's is touched. It logs in to
// the three services (the sandbox approves by itself), backfills 90 days of
// the Linky household and the Weheat all-electric pump into EnergyID, and
// says what happened.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyId, FileStore, Linky, Weheat, sync } from '../node.js';
import { printable } from './terminal.js';
import {
  startSandbox,
  SANDBOX_PROVISIONING_KEY,
  SANDBOX_PROVISIONING_SECRET,
  SANDBOX_WEHEAT_USER,
  SANDBOX_WEHEAT_PUMPS,
  SANDBOX_LINKY_METERS,
} from '../sandbox/index.js';

const DAYS = 90;
/** The French regulated base price (TTC, 2026), for the cost lines. */
const BASE_PRICE_EUR_PER_KWH = 0.1952;

/** @param {{ say?: (line: string) => void }} [options] `say` gets one line per step as it happens */
export async function runDemo({ say = () => {} } = {}) {
  const started = performance.now();
  // A fast upload policy so the demo ends in seconds; the real record's is 60 s or more.
  const sandbox = await startSandbox({ energyid: { claimAfterHellos: 1, uploadInterval: 1 }, linky: { deviceApproveAfterMs: 0 } });
  const stateDir = await mkdtemp(join(tmpdir(), 'wattbridge-demo-'));
  try {
    const store = new FileStore(stateDir);
    const linky = new Linky({ gatewayUrl: sandbox.urls.linky.gatewayUrl, meter: SANDBOX_LINKY_METERS.household, store });
    const weheat = new Weheat({ authUrl: sandbox.urls.weheat.newAuthUrl, apiUrl: sandbox.urls.weheat.newApiUrl, pump: SANDBOX_WEHEAT_PUMPS.blackbird, store });
    const energyid = new EnergyId({ helloUrl: sandbox.urls.energyid.helloUrl, provisioningKey: SANDBOX_PROVISIONING_KEY, provisioningSecret: SANDBOX_PROVISIONING_SECRET, deviceName: 'wattbridge demo', store });

    say('Logging in to Linky through the Enedis gateway (device code; the sandbox consents by itself)…');
    const linkyLogin = await linky.login({ onVerification: (v) => say(printable(`  code ${v.user_code} at ${v.verification_uri}`)) });
    say('Logging in to Weheat (Keycloak password grant; the password is used once, never stored)…');
    await weheat.oauth().loginWithPassword(SANDBOX_WEHEAT_USER);
    say('Provisioning the EnergyID device and waiting for the claim…');
    let claim = null;
    const record = await energyid.waitForClaim({ pollSeconds: 0.2, timeoutSeconds: 30, onClaimCode: (c) => { claim = c; say(`  claim code ${c.claimCode}`); } });

    say(`Backfilling ${DAYS} days into EnergyID…`);
    const since = new Date(Date.now() - DAYS * 86_400_000);
    const report = await sync({ linky, weheat, energyid, since, maxWaitSeconds: 30, store, onProgress: ({ stage, done, total }) => done === total && say(`  ${stage}: ${done}/${total}`) });

    say('Computing the Linky statistics…');
    const { requests: statsRequests } = await linky.fetch('daily', { from: `${new Date().getUTCFullYear()}-01-01` });
    const stats = await linky.stats({ tariff: { tariff: 'base', priceBase: BASE_PRICE_EUR_PER_KWH } });
    const heat = await weheat.storedEnergy({ interval: 'Hour', from: since });
    const sum = (key) => heat.reduce((s, b) => s + (b[key] ?? 0), 0);
    const pump = { electricityKwh: sum('electricityKwh'), heatKwh: sum('heatKwh') };
    pump.cop = pump.electricityKwh > 0 ? pump.heatKwh / pump.electricityKwh : null;

    const [device] = sandbox.energyid.records();
    const received = {};
    for (const reading of device?.readings ?? []) {
      for (const key of Object.keys(reading)) if (key !== 'ts') received[key] = (received[key] ?? 0) + 1;
    }
    return {
      sandbox: sandbox.url,
      meters: linkyLogin.extra?.usage_points_id ?? null,
      claim,
      record: { name: record.recordName, number: record.recordNumber, uploadInterval: record.policy.uploadInterval },
      sync: report,
      requests: {
        linky: sandbox.linky.requests().total,
        // The sync's windows, plus the daily series of this year for the statistics.
        linkyMinimum: (report.sources.linky?.minimumRequests ?? 0) + statsRequests,
        weheat: sandbox.weheat.requests().total,
        weheatMinimum: (report.sources.weheat?.minimumRequests ?? 0) + 1,
        energyidPosts: sandbox.energyid.posts().length,
        energyidMinimum: Math.ceil((device?.readings.length ?? 0) / 1000),
      },
      received: { readings: device?.readings.length ?? 0, byKey: received },
      stats,
      pump,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    };
  } finally {
    await rm(stateDir, { recursive: true, force: true });
    await sandbox.close();
  }
}

const kwh = (n) => (n === null || n === undefined ? '–' : `${n.toFixed(1)} kWh`);
const eur = (n) => (n === null || n === undefined ? '' : `  ${n.toFixed(2)} EUR`);

export function renderDemo(d) {
  const s = d.sync;
  const periods = [['yesterday', 'yesterday'], ['thisWeek', 'this week'], ['lastWeek', 'last week'], ['thisMonth', 'this month'], ['lastMonth', 'last month'], ['thisYear', 'this year']];
  return [
    `wattbridge demo: Linky and Weheat into EnergyID, on the built-in sandbox (${d.sandbox}; no account needed)`,
    '',
    `Logged in: Linky (consent for ${String(d.meters).split(',').length} meters), Weheat, and EnergyID record "${d.record.name}" (${d.record.number}) after claim code ${d.claim?.claimCode ?? '–'}.`,
    '',
    `Fetched ${DAYS} days:`,
    `  Linky    ${s.sources.linky?.status === 'ok' ? `${s.sources.linky.series.join(' + ')} of meter ${s.sources.linky.meter}: ${s.sources.linky.readings} meter readings` : s.sources.linky?.error?.message}`,
    `  Weheat   ${s.sources.weheat?.status === 'ok' ? `hourly energy of pump ${s.sources.weheat.pump}: ${s.sources.weheat.readings} meter readings (heat and electricity)` : s.sources.weheat?.error?.message}`,
    `Sent to EnergyID: ${d.received.readings} timestamps (${Object.entries(d.received.byKey).map(([k, n]) => `${k} ${n}`).join(', ')}), ${s.energyid.remaining ?? 0} values left to send.`,
    '',
    'Requests (used / fewest possible):',
    `  Linky     ${d.requests.linky} / ${d.requests.linkyMinimum}  (load curve in windows of 6 days, at most 5 per second)`,
    `  Weheat    ${d.requests.weheat} / ${d.requests.weheatMinimum}  (of a budget of 30 per hour)`,
    `  EnergyID  ${d.requests.energyidPosts} POSTs / ${d.requests.energyidMinimum}  (batches of 1000, one per upload interval of ${d.record.uploadInterval} s)`,
    '',
    `Linky statistics of meter ${d.stats.meter} (today ${d.stats.today}, Europe/Paris; base tariff):`,
    ...periods.map(([key, label]) => `  ${label.padEnd(11)} ${kwh(d.stats.periods[key].kwh).padStart(12)}${eur(d.stats.periods[key].cost)}`),
    '',
    `Heat pump over ${DAYS} days: ${kwh(d.pump.electricityKwh)} of electricity gave ${kwh(d.pump.heatKwh)} of heat, COP ${d.pump.cop === null ? '–' : d.pump.cop.toFixed(2)}.`,
    '',
    `Done in ${d.seconds} s.`,
  ].join('\n');
}

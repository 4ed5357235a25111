// `wattbridge demo`: the EnergyID slice end to end against the in-process
// sandbox, with state in a throw-away directory so nothing of the user's is touched.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyId, FileStore } from '../node.js';
import { startSandbox, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from '../sandbox/index.js';

export async function runDemo() {
  const started = performance.now();
  const sandbox = await startSandbox();
  const stateDir = await mkdtemp(join(tmpdir(), 'wattbridge-demo-'));
  try {
    const energyid = new EnergyId({
      helloUrl: sandbox.urls.energyid.helloUrl,
      provisioningKey: SANDBOX_PROVISIONING_KEY,
      provisioningSecret: SANDBOX_PROVISIONING_SECRET,
      deviceName: 'wattbridge demo',
      store: new FileStore(stateDir),
    });
    const unclaimed = await energyid.hello();
    // What the person does: open the claim URL in the EnergyID app.
    const visit = await fetch(unclaimed.claimUrl);
    if (!visit.ok) throw new Error(`the sandbox refused the claim URL (HTTP ${visit.status})`);
    const claimed = await energyid.hello();
    const ts = Math.floor(Date.now() / 900_000) * 900; // this quarter hour
    const reading = { ts, el: 1250.5, pv: 3560.2 };
    const sent = await energyid.send(reading);
    const [record] = sandbox.energyid.records();
    return {
      sandbox: sandbox.url,
      unclaimed,
      claimed,
      sent: { ...sent, reading },
      received: record?.readings ?? [],
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    };
  } finally {
    await rm(stateDir, { recursive: true, force: true });
    await sandbox.close();
  }
}

export function renderDemo({ sandbox, unclaimed, claimed, sent, received, seconds }) {
  const when = (unix) => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');
  const values = (r) => Object.entries(r).filter(([k]) => k !== 'ts').map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    'wattbridge demo: the EnergyID slice against the built-in sandbox (no account needed)',
    `  sandbox    ${sandbox}`,
    `  hello      device ${unclaimed.deviceId} is not claimed yet: code ${unclaimed.claimCode}, valid until ${when(unclaimed.expiresAt)}`,
    `  claim      opened ${unclaimed.claimUrl} as the person would in the EnergyID app`,
    `  hello      claimed by record "${claimed.recordName}" (${claimed.recordNumber}), at most one upload every ${claimed.policy.uploadInterval} s`,
    `  send       ${values(sent.reading)} at ${when(sent.reading.ts)}: queued, then ${sent.readings} reading sent in ${sent.requests} request`,
    `  read back  EnergyID (sandbox) holds ${received.length} reading(s): ${received.map((r) => `${values(r)} at ${when(r.ts)}`).join('; ')}`,
    `done in ${seconds} s. Linky and Weheat join this demo as their providers land.`,
  ].join('\n');
}

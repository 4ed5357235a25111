// Secrets never show up where a person or a log could see them: results,
// error messages, CLI output. Only the private state file may hold them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { EnergyId, FileStore } from 'wattbridge';
import { sandbox, scratchDir, energyIdSettings, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from './helpers.mjs';

test('provisioning credentials and webhook headers appear only in the 0600 state file', async () => {
  const sb = await sandbox({ energyid: { uploadInterval: 0.5 } });
  const dir = await scratchDir();
  const seen = [];
  const keep = (value) => seen.push(typeof value === 'string' ? value : JSON.stringify(value));
  const keepError = (err) => seen.push(err.message, JSON.stringify(err), String(err.stack));

  const energyid = new EnergyId(energyIdSettings(sb, { store: new FileStore(dir) }));
  const unclaimed = await energyid.hello();
  keep(unclaimed);
  await fetch(unclaimed.claimUrl);
  keep(await energyid.hello());
  keep(await energyid.send({ el: 1 }));
  keep(await energyid.send({ el: 2 })); // queued: the policy allows no second POST yet
  keep(await energyid.status());
  sb.energyid.faults.push({ status: 400, body: { error: 'bad keys' }, path: '/webhook-in' });
  await energyid.flush({ maxWaitSeconds: 2 }).then(keep, keepError);
  sb.energyid.faults.push({ truncate: true, path: '/hello' });
  await energyid.hello().catch(keepError);

  const state = JSON.parse(await readFile(new FileStore(dir).pathOf('energyid'), 'utf8'));
  const webhookSecrets = Object.values(state.webhook.headers);
  assert.ok(webhookSecrets.length >= 2, 'the state file keeps the webhook headers to replay them');
  const output = seen.join('\n');
  for (const secret of [SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET, ...webhookSecrets]) {
    assert.ok(!output.includes(secret), `a secret leaked into:\n${output}`);
  }
});

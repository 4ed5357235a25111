// The EnergyID notebook's walk-through (energyid-webhooks, client_v2), in JS.
//   WATTBRIDGE_ENERGYID_PROVISIONING_KEY=… WATTBRIDGE_ENERGYID_PROVISIONING_SECRET=… node examples/energyid-notebook.mjs
// WATTBRIDGE_ENERGYID_HELLO_URL points it elsewhere (`wattbridge sandbox` prints the sandbox's).
// tests/js/energyid-parity.test.mjs runs this file, and checks that the README shows it as it is.
// --- notebook ---
import { EnergyId } from 'wattbridge';

// 1. Provisioning: who the device is.
const { WATTBRIDGE_ENERGYID_HELLO_URL: helloUrl, WATTBRIDGE_ENERGYID_PROVISIONING_KEY: provisioningKey, WATTBRIDGE_ENERGYID_PROVISIONING_SECRET: provisioningSecret } = process.env;
const energyid = new EnergyId({
  ...(helloUrl && { helloUrl }), // default https://hooks.energyid.eu/hello
  provisioningKey,
  provisioningSecret,
  deviceId: 'notebook-demo',
  deviceName: 'Notebook demo',
  firmwareVersion: '1.0.0',
});
console.log(`device ${energyid.deviceName}, firmware ${energyid.firmwareVersion}`);

// 2. Claim: the person opens the claim URL (or types the code in the EnergyID app).
if (!(await energyid.authenticate())) {
  const info = await energyid.claimInfo(); // {status: 'needs_claiming', claim_code, claim_url, valid_until}
  console.log(`claim it: open ${info.claim_url} or enter ${info.claim_code}`);
  await energyid.waitForClaim({ pollSeconds: 2 });
}
console.log(`claimed: ${energyid.isClaimed}; credentials valid until ${energyid.authValidUntil.toISOString()}`);
await energyid.refreshWebhook(); // the notebook's refresh_webhook(): a hello again

// 3. Sending: one metric, several at once, at a time of your choice, a batch.
await energyid.send({ el: 1250.5 });
await energyid.send({ el: 1251.0, pv: 3560.2 });
await energyid.send({ ts: new Date('2026-01-01T12:00:00Z'), el: 1249.0 });
await energyid.send([
  { ts: '2026-01-01T12:15:00Z', el: 1249.2 },
  { ts: '2026-01-01T12:30:00Z', el: 1249.4 },
]);
// Readings the upload policy does not allow yet wait in the durable outbox; nothing is lost.

// 4. Sensors: values with state; a sync sends only what changed.
const living = energyid.sensor('temperature.living');
await living.update(21.5);
await energyid.updateSensor('el', 1252.0);
console.log(`${living.key} = ${living.value} at ${living.lastUpdate.toISOString()}, changed: ${living.changed}`);
await energyid.synchronizeSensors();

// The notebook reuses `gas` for a temperature. gas is a cumulative meter (m³),
// so a value that goes down is refused, and nothing is queued:
await energyid.updateSensor('gas', 21.5, '2026-01-01T13:00:00Z');
try {
  await energyid.updateSensor('gas', 20.9, '2026-01-01T13:15:00Z');
} catch (err) {
  console.log(`refused: ${err.code}: ${err.message}`);
}
// The fix: a temperature is a gauge; give it a temperature key, as `living` above.

// 5. Auto-sync: synchronizeSensors() every 60 s (with jitter) until close().
energyid.startAutoSync(60, { onError: (err) => console.error(err.message) });
await living.update(21.7);
energyid.close();
const report = await energyid.flush({ maxWaitSeconds: 120 }); // what is still queued, within the policy
console.log(`done: ${report.remaining} values still queued`);

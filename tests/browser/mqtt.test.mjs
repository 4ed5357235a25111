// MQTT from a page: the publisher with the browser build of mqtt.js the
// package carries (www/vendor/mqtt.esm.js), over the browser's WebSocket.
// Debian's Mosquitto cannot open a websockets listener here, so the test puts
// a plain WebSocket-to-TCP relay (the `mqtt` subprotocol, bytes unchanged) in
// front of the real broker; our Node subscriber reads what the page published.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { launchChromium, startMosquitto, until } from '../js/helpers.mjs';
import { serveRepo, mqttOverWebSocket } from './static.mjs';

const PAGE = `<!doctype html><script type="module">
  import mqtt from '/www/vendor/mqtt.esm.js';
  import { connectBroker, publishDevices, disconnectBroker } from '/js/mqtt/publisher.js';
  window.run = async ({ url, username, password }) => {
    const naming = { prefix: 'homeassistant', base: 'wattbridge', version: 'test', currency: 'EUR' };
    const client = await connectBroker({ url, username, password, naming, mqtt });
    const device = { kind: 'energyid', id: 'energyid_page', name: 'EnergyID', manufacturer: 'EnergyID', model: 'Webhook', values: { outbox: 3, last_upload: null, status: 'waiting' } };
    const messages = await publishDevices(client, [device], naming);
    await disconnectBroker(client, naming);
    return messages;
  };
  window.ready = true;
</script>`;

test('a page publishes discovery and states over MQTT on WebSocket, with the vendored mqtt.js', async () => {
  const broker = await startMosquitto({ home: 'page-password-7' });
  const url = await mqttOverWebSocket(broker.port);
  const site = await serveRepo({ '/mqtt.html': PAGE });
  const browser = await launchChromium();
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${site}/mqtt.html`);
  await page.waitForFunction(() => window.ready === true);
  const messages = await page.evaluate((args) => window.run(args), { url, username: 'home', password: 'page-password-7' });
  assert.equal(messages, 4, 'three configs and one state');

  const sub = await mqtt.connectAsync(broker.url, { username: 'home', password: 'page-password-7', reconnectPeriod: 0 });
  after(() => sub.end(true));
  const got = new Map();
  sub.on('message', (topic, payload) => got.set(topic, payload.toString()));
  await sub.subscribeAsync(['homeassistant/#', 'wattbridge/#']);
  await until(() => got.size >= 5, 'the retained messages');
  assert.deepEqual(JSON.parse(got.get('wattbridge/energyid_page/state')), { outbox: 3, last_upload: null, status: 'waiting' });
  assert.equal(JSON.parse(got.get('homeassistant/sensor/wattbridge_energyid_page/status/config')).device_class, 'enum');
  assert.equal(got.get('wattbridge/status'), 'online');
  assert.deepEqual(problems, []);
});

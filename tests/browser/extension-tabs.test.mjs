// Two pages of the extension share chrome.storage.local, and so one outbox:
// each queues readings and flushes while the other does (a page and a second
// window, or a page and the service worker). The browser stores lock each
// document across the extension's pages and workers (Web Locks), so EnergyID
// gets every reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandbox, energyIdSettings } from '../js/helpers.mjs';
import { loadExtension } from './static.mjs';

test('two extension pages queue and flush into one outbox in chrome.storage at once: EnergyID gets every reading', async () => {
  const sb = await sandbox({ energyid: { claimAfterHellos: 0, uploadInterval: 0 } });
  const { context, id } = await loadExtension();
  assert.ok(id, 'the unpacked extension loaded');

  const pages = [await context.newPage(), await context.newPage()];
  const problems = [];
  for (const page of pages) {
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`chrome-extension://${id}/www/index.html`);
  }
  const settings = energyIdSettings(sb, { deviceId: 'two-pages' });
  const T0 = Math.floor(Date.now() / 1000) - 30 * 86_400;
  const TOTAL = 200;
  // Dealt round-robin; `el` rises with time, so any order of queuing is a valid meter.
  const dealt = [0, 1].map((p) => Array.from({ length: TOTAL / 2 }, (_, k) => 2 * k + p).map((i) => ({ ts: T0 + i * 300, el: 1000 + i })));
  const queueAndFlush = async ([s, readings]) => {
    const { EnergyId, ChromeStorageStore } = await import(chrome.runtime.getURL('js/browser.js'));
    const energyid = new EnergyId({ ...s, store: new ChromeStorageStore() });
    for (const reading of readings) {
      await energyid.enqueue(reading);
      await energyid.flush();
    }
    await energyid.flush();
    return energyid.status();
  };
  await Promise.all(pages.map((page, p) => page.evaluate(queueAndFlush, [settings, dealt[p]])));
  const status = await pages[0].evaluate(queueAndFlush, [settings, []]);

  const [record] = sb.energyid.records();
  const delivered = new Set(record.readings.map((r) => r.ts));
  const missing = dealt.flat().filter((r) => !delivered.has(r.ts));
  assert.equal(missing.length, 0, `${missing.length} of ${TOTAL} readings never reached EnergyID (the outbox says ${status.outbox} wait)`);
  assert.equal(status.outbox, 0);
  assert.deepEqual(problems, []);
});

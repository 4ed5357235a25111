// The extension's background service worker: syncs by itself on a schedule
// (chrome.alarms, every hour unless the page's settings say otherwise) with
// the same run as the page's "Sync now" (jobs.js), and shows the number of
// problems on the action's badge. A service worker may not have a top-level
// await, so it takes the package's wattbridge/init entry and loads the wasm
// on the first alarm. Nor may it import() later: the MQTT publisher
// (wattbridge/mqtt) and mqtt.js come in up front.
import * as lib from '../js/browser-init.js';
import * as mqttKit from '../js/mqtt/index.js';
import mqtt from './vendor/mqtt.esm.js';
import { makeJobs, DEFAULT_SETTINGS, scheduleSync, SYNC_ALARM } from './jobs.js';

const jobs = makeJobs(lib, new lib.ChromeStorageStore(), { loadMqtt: async () => ({ kit: mqttKit, library: mqtt }) });

async function schedule() {
  const settings = await jobs.load('settings', DEFAULT_SETTINGS);
  await scheduleSync(settings);
}

chrome.runtime.onInstalled.addListener(schedule);
chrome.runtime.onStartup.addListener(schedule);

chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== SYNC_ALARM) return;
  let count;
  try {
    await lib.init();
  } catch (err) {
    // Without the wasm there is no sync, and no table of dispositions to word the error.
    await jobs.save('last-sync', { atMs: Date.now(), problems: [{ service: 'sync', code: 'unavailable', message: `The background sync could not load its WebAssembly module (${err.message}).`, action: 'Reload the extension; the page syncs while it is open.' }] });
    await showProblems(1);
    return;
  }
  try {
    count = (await jobs.syncAll()).problems.length;
  } catch (err) {
    count = 1;
    await jobs.save('last-sync', { atMs: Date.now(), problems: [jobs.problem('sync', err)] });
  }
  await showProblems(count);
});

async function showProblems(count) {
  await chrome.action.setBadgeBackgroundColor({ color: '#b42318' });
  await chrome.action.setBadgeText({ text: count ? String(count) : '' });
}

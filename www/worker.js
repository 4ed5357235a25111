// The extension's background service worker: syncs by itself on a schedule
// (chrome.alarms, every hour unless the page's settings say otherwise) with
// the same run as the page's "Sync now" (jobs.js), and shows the number of
// problems on the action's badge. A service worker may not have a top-level
// await, so it loads the wasm itself, on the first alarm, instead of
// importing js/browser.js.
import init, { setErrorClass, disposition } from '../pkg/wattbridge.js';
import { WattbridgeError } from '../js/errors.js';
import { EnergyId } from '../js/energyid.js';
import { Linky } from '../js/linky.js';
import { Weheat } from '../js/weheat.js';
import { sync } from '../js/sync.js';
import { ChromeStorageStore } from '../js/stores/browser.js';
import { makeJobs, DEFAULT_SETTINGS, scheduleSync, SYNC_ALARM } from './jobs.js';

const jobs = makeJobs({ EnergyId, Linky, Weheat, sync, disposition }, new ChromeStorageStore());
let ready = null;

async function schedule() {
  const settings = await jobs.load('settings', DEFAULT_SETTINGS);
  await scheduleSync(settings);
}

chrome.runtime.onInstalled.addListener(schedule);
chrome.runtime.onStartup.addListener(schedule);

chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== SYNC_ALARM) return;
  ready ??= init().then(() => setErrorClass(WattbridgeError));
  await ready;
  let count;
  try {
    count = (await jobs.syncAll()).problems.length;
  } catch (err) {
    count = 1;
    await jobs.save('last-sync', { atMs: Date.now(), problems: [jobs.problem('sync', err)] });
  }
  await chrome.action.setBadgeBackgroundColor({ color: '#b42318' });
  await chrome.action.setBadgeText({ text: count ? String(count) : '' });
});

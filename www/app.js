// The page (also the extension's popup and options page): connect the
// services, sync, and draw what is stored. All provider logic is in the
// package; this file only asks it and renders the answers.
import * as lib from '../js/browser.js';
import { safeHref } from './links.js';
import { dailyChart, curveChart, monthsChart, weheatChart, followColorScheme, round } from './charts.js';
import { makeJobs, scheduleSync, SYNC_ALARM, DEFAULT_SETTINGS, SERVICE, DAY_MS, daysAgo } from './jobs.js';

const $ = (selector) => document.querySelector(selector);
// The extension's action popup (manifest: index.html?view=popup) sizes itself to the page: give it the popup's width.
if (new URLSearchParams(location.search).get('view') === 'popup') document.documentElement.classList.add('popup');
const store = lib.defaultBrowserStore();
const { load, save, clients, actionFor, syncAll } = makeJobs(lib, store);

let settings = await load('settings', DEFAULT_SETTINGS);
const secrets = await load('secrets', {});
let accounts = await load('accounts', {});

const tariff = () => clients({ settings, secrets }).tariff();
const linkyClient = () => clients({ settings, secrets }).linky();
const weheatClient = () => clients({ settings, secrets }).weheat();
const energyidClient = () => clients({ settings, secrets }).energyid();

function say(text, kind = 'info') {
  const status = $('#status');
  status.dataset.kind = kind;
  status.textContent = text;
}

function setCard(service, state, text) {
  $(`#card-${service}`).dataset.state = state;
  $(`#${service}-state`).textContent = text;
}

function countdown(el, expiresAtMs, done) {
  clearInterval(el.timer);
  const tick = () => {
    const left = Math.max(0, Math.round((expiresAtMs - Date.now()) / 1000));
    el.textContent = left ? `Waiting… the code is valid for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}.` : 'The code has expired.';
    if (!left) { clearInterval(el.timer); done?.(); }
  };
  tick();
  el.timer = setInterval(tick, 1000);
}

function setLink(a, href) {
  const safe = safeHref(href);
  if (safe) a.href = safe; else a.removeAttribute('href');
  a.textContent = safe ? a.textContent : `${a.textContent} (${href})`;
}

// ------------------------------------------------------------ connect: Linky

async function linkyState() {
  const linky = linkyClient();
  if (!secrets.consoToken && !(await linky.oauth().status()).loggedIn) return { connected: false };
  const how = secrets.consoToken ? 'a Conso API token' : 'Enedis';
  try {
    const status = await linky.status();
    const meters = { meters: status.meters, meter: status.meter };
    if (status.problem) return { connected: true, ...meters, attention: `${status.problem.message} ${actionFor(status.problem.code, 'linky')}` };
    return { connected: true, ...meters, text: `Connected with ${how}${status.meter ? `, meter ${status.meter}` : ''}.` };
  } catch (err) {
    return { connected: true, attention: `${err.message} ${actionFor(err.code, 'linky')}` };
  }
}

async function showLinky() {
  const s = await linkyState();
  if (!s.connected) setCard('linky', 'none', 'Not connected.');
  else if (s.attention) setCard('linky', 'attention', `Needs attention: ${s.attention}`);
  else setCard('linky', 'ok', s.text);
  $('#linky-actions').hidden = s.connected && !s.attention;
  $('#linky-disconnect').hidden = !s.connected;
  const picker = $('#linky-meter-select');
  $('#linky-meter-pick').hidden = !(s.meters?.length > 1);
  if (s.meters?.length > 1) {
    picker.replaceChildren(...s.meters.map((m) => new Option(m, m, false, m === s.meter)));
  }
  return s.connected;
}

$('#linky-device').addEventListener('click', async () => {
  const box = $('#linky-verification');
  const button = $('#linky-device');
  button.disabled = true;
  try {
    if (secrets.consoToken) { delete secrets.consoToken; await save('secrets', secrets); }
    setCard('linky', 'waiting', 'Waiting for your consent at Enedis…');
    await linkyClient().login({
      onVerification: (v) => {
        $('#linky-code').textContent = v.user_code;
        const link = $('#linky-link');
        link.textContent = 'Open the consent page';
        setLink(link, v.verification_uri_complete ?? v.verification_uri);
        box.hidden = false;
        countdown($('#linky-countdown'), Date.now() + v.expires_in * 1000);
        link.focus();
      },
    });
    say('Linky is connected.');
  } catch (err) {
    setCard('linky', 'attention', `Needs attention: ${err.message} ${actionFor(err.code, 'linky')}`);
    say(`Linky: ${err.message}`, 'error');
  } finally {
    clearInterval($('#linky-countdown').timer);
    box.hidden = true;
    button.disabled = false;
  }
  await refresh();
});

$('#linky-token-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('#linky-token');
  secrets.consoToken = input.value.trim();
  input.value = '';
  await save('secrets', secrets);
  say('The Conso API token is saved in this browser.');
  await refresh();
});

$('#linky-meter-select').addEventListener('change', async (event) => {
  settings = { ...settings, meter: event.target.value };
  await save('settings', settings);
  say(`Linky: meter ${settings.meter} picked.`);
  await refresh();
});

$('#linky-disconnect').addEventListener('click', async () => {
  await linkyClient().logout().catch(() => {});
  delete secrets.consoToken;
  await save('secrets', secrets);
  await refresh();
});

// ------------------------------------------------------------ connect: Weheat

async function showWeheat() {
  const status = await weheatClient().oauth().status();
  const who = accounts.weheatUser ? `as ${accounts.weheatUser}` : 'through the Weheat sign-in page';
  if (status.loggedIn) setCard('weheat', 'ok', `Connected ${who}.`);
  else if (accounts.weheatUser || accounts.weheatVia) setCard('weheat', 'attention', `Needs attention: the sign-in ${who} has ended. Sign in again.`);
  else setCard('weheat', 'none', 'Not connected.');
  $('#weheat-actions').hidden = status.loggedIn;
  $('#weheat-disconnect').hidden = !status.loggedIn;
  return status.loggedIn;
}

$('#weheat-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const username = form.username.value.trim();
  const password = form.password.value;
  form.password.value = ''; // used for this one request, never kept
  setCard('weheat', 'waiting', 'Signing in…');
  try {
    await weheatClient().oauth().loginWithPassword({ username, password });
    accounts = { ...accounts, weheatUser: username };
    delete accounts.weheatVia;
    await save('accounts', accounts);
    say('Weheat is connected.');
  } catch (err) {
    setCard('weheat', 'attention', `Needs attention: ${err.message} ${actionFor(err.code, 'weheat')}`);
    say(`Weheat: ${err.message}`, 'error');
    return;
  }
  await refresh();
});

// Code + PKCE: chrome.identity in the extension; on a plain page, away to
// Weheat's sign-in page and back here, where finishWeheatRedirect() ends it.
$('#weheat-redirect').addEventListener('click', async () => {
  const oauth = weheatClient().oauth();
  try {
    if (globalThis.chrome?.identity) {
      setCard('weheat', 'waiting', 'Signing in on the Weheat page…');
      await oauth.loginWithRedirect();
      await signedInByPage();
      await refresh();
    } else {
      const { url } = await oauth.authorizationUrl({ redirectUri: location.origin + location.pathname });
      location.assign(url);
    }
  } catch (err) {
    setCard('weheat', 'attention', `Needs attention: ${err.message} ${actionFor(err.code, 'weheat')}`);
  }
});

async function signedInByPage() {
  accounts = { ...accounts, weheatVia: 'page' };
  delete accounts.weheatUser;
  await save('accounts', accounts);
}

/** Back from Weheat's sign-in page: finish the login, then take the code out of the address bar. */
async function finishWeheatRedirect() {
  const params = new URLSearchParams(location.search);
  if (!params.has('state') || !(params.has('code') || params.has('error'))) return;
  const callback = location.href;
  history.replaceState(null, '', location.pathname);
  try {
    await weheatClient().oauth().completeAuthorization(callback);
    await signedInByPage();
    say('Weheat is connected.');
  } catch (err) {
    say(`Weheat: ${err.message} ${actionFor(err.code, 'weheat')}`, 'error');
  }
}

$('#weheat-disconnect').addEventListener('click', async () => {
  await weheatClient().oauth().logout().catch(() => {});
  delete accounts.weheatUser;
  delete accounts.weheatVia;
  await save('accounts', accounts);
  await refresh();
});

// ------------------------------------------------------------ connect: EnergyID

let claiming = null;

function showClaim(claim) {
  $('#claim-code').textContent = claim.claimCode;
  const link = $('#claim-link');
  link.textContent = 'Open the claim page';
  setLink(link, claim.claimUrl);
  $('#energyid-claim').hidden = false;
  countdown($('#claim-countdown'), claim.expiresAt * 1000);
}

/** Wait until a person claims this browser in EnergyID, showing each new claim code. */
function waitForClaim(energyid) {
  claiming ??= energyid.waitForClaim({ onClaimCode: showClaim, pollSeconds: 3 })
    .then((hello) => say(`EnergyID: connected to record "${hello.recordName}".`))
    .catch((err) => setCard('energyid', 'attention', `Needs attention: ${err.message} ${actionFor(err.code, 'energyid')}`))
    .finally(() => { claiming = null; clearInterval($('#claim-countdown').timer); $('#energyid-claim').hidden = true; refresh(); });
  setCard('energyid', 'waiting', 'Waiting until this browser is claimed in EnergyID…');
}

async function showEnergyId() {
  const energyid = energyidClient();
  $('#energyid-form').hidden = !!energyid;
  if (!energyid) { setCard('energyid', 'none', 'Not connected.'); return null; }
  const status = await energyid.status();
  if (status.claimed) {
    setCard('energyid', 'ok', `Connected to record "${status.recordName}" (${status.recordNumber}).`);
    return status;
  }
  if (!claiming) waitForClaim(energyid);
  return null;
}

$('#energyid-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  secrets.provisioningKey = form.provisioningKey.value.trim();
  secrets.provisioningSecret = form.provisioningSecret.value;
  form.reset();
  await save('secrets', secrets);
  await refresh();
});

// ------------------------------------------------------------ look

/** YYYY-MM-DD `n` days before the Paris day `date`. */
const dayBefore = (date, n) => new Date(Date.parse(`${date}T12:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);

const PERIODS = [['yesterday', 'Yesterday'], ['thisWeek', 'This week'], ['lastWeek', 'Last week'], ['thisMonth', 'This month'], ['lastMonth', 'Last month'], ['thisYear', 'This year']];
const kwh = (n) => n.toLocaleString('en', { maximumFractionDigits: 1 });
const eur = (n) => n == null ? '–' : `${n.toFixed(2)} €`;

/** Cumulated kWh of each day of `month` (YYYY-MM) before `today`; null after the last day with data. */
function cumulated(byDate, month, today) {
  const values = [];
  let sum = 0;
  for (let d = 1; d <= 31; d += 1) {
    const date = `${month}-${String(d).padStart(2, '0')}`;
    if (date >= today || dayBefore(date, 0) !== date) break;
    const wh = byDate.get(date);
    if (wh === undefined) { values.push(null); continue; }
    sum += wh;
    values.push(round(sum / 1000, 2));
  }
  return values;
}

async function drawLinky() {
  const linky = linkyClient();
  const stats = await linky.stats({ tariff: tariff(), from: daysAgo(62) });
  const { periods, today } = stats;
  const byDate = new Map(stats.daily.map((d) => [d.date, d.wh]));
  const first = dayBefore(today, 30);
  const last30 = stats.daily.filter((d) => d.date >= first && d.date < today);
  $('#linky').hidden = false;
  $('#linky-meter').textContent = `meter ${stats.meter}`;
  dailyChart($('#chart-daily'), last30, Number(settings.priceBase) || 0);
  const total = last30.reduce((s, d) => s + d.wh, 0) / 1000;
  $('#daily-cost').textContent = `${kwh(total)} kWh${settings.priceBase ? `, ${eur(total * settings.priceBase)}` : ''} in all`;
  const curve = await linky.history('load-curve', { from: periods.yesterday.from, to: periods.yesterday.to });
  curveChart($('#chart-curve'), curve);
  monthsChart($('#chart-months'), cumulated(byDate, periods.thisMonth.from.slice(0, 7), today), cumulated(byDate, periods.lastMonth.from.slice(0, 7), today));
  $('#linky-stats tbody').replaceChildren(...PERIODS.map(([key, label]) => {
    const p = periods[key];
    const tr = document.createElement('tr');
    tr.dataset.period = key;
    const th = Object.assign(document.createElement('th'), { scope: 'row', textContent: label });
    tr.append(th, ...[kwh(p.kwh), eur(p.cost), `${p.daysWithData} / ${p.days}`].map((text) => Object.assign(document.createElement('td'), { textContent: text })));
    return tr;
  }));
  return linky.status();
}

const TEMPERATURES = [['outside', 'Outside'], ['room', 'Room'], ['roomTarget', 'Room target'], ['waterIn', 'Water in'], ['waterOut', 'Water out'], ['dhwTop', 'Hot water tank']];

function facts(dl, entries) {
  dl.replaceChildren(...entries.map(([term, value]) => {
    const pair = document.createElement('div');
    pair.append(Object.assign(document.createElement('dt'), { textContent: term }), Object.assign(document.createElement('dd'), { textContent: value }));
    return pair;
  }));
}

async function drawWeheat() {
  const buckets = await weheatClient().storedEnergy({ interval: 'Day', from: daysAgo(30) });
  const latest = (await load('weheat-latest', {})).latest;
  $('#weheat').hidden = false;
  weheatChart($('#chart-weheat'), buckets);
  if (latest) {
    facts($('#weheat-now'), [
      ['State', `${latest.stateName}${latest.online === false ? ' (offline)' : ''}`],
      ...TEMPERATURES.filter(([key]) => latest[key] != null).map(([key, label]) => [label, `${latest[key].toFixed(1)} °C`]),
      ...(latest.cop != null ? [['COP now', latest.cop.toFixed(2)]] : []),
      ['As of', latest.timestamp ? new Date(latest.timestamp).toLocaleString() : '–'],
    ]);
  }
  return buckets;
}

async function drawSync({ linkyStatus, weheatBuckets, energyidStatus }) {
  const last = await load('last-sync', {});
  const when = (ms) => ms ? new Date(ms).toLocaleString() : 'never';
  const entries = [];
  if (linkyStatus) entries.push(['Linky data up to', linkyStatus.series.find((s) => s.series === 'daily')?.lastDay ?? 'none yet']);
  if (weheatBuckets) entries.push(['Weheat data up to', weheatBuckets.filter((b) => b.heatKwh != null).at(-1)?.timeBucket?.slice(0, 10) ?? 'none yet']);
  if (energyidStatus) {
    entries.push(['EnergyID outbox', `${energyidStatus.outbox} value(s) waiting`]);
    entries.push(['Last upload', when(energyidStatus.lastPostMs)]);
  }
  entries.push(['Last sync', when(last.atMs)]);
  // In the extension the background worker syncs on its alarm; a plain page syncs while it is open.
  const alarm = globalThis.chrome?.alarms && (await chrome.alarms.get(SYNC_ALARM));
  const next = alarm ? alarm.scheduledTime : nextSyncAt;
  entries.push(['Next sync', next ? `${new Date(next).toLocaleTimeString()}${alarm ? ' (in the background)' : ' (while this page is open)'}` : 'when you press Sync now']);
  facts($('#sync-facts'), entries);
  $('#problems').replaceChildren(...(last.problems ?? []).map((p) => {
    const li = document.createElement('li');
    li.dataset.code = p.code;
    li.append(Object.assign(document.createElement('strong'), { textContent: `${SERVICE[p.service] ?? p.service}: ` }), `${p.message} `, Object.assign(document.createElement('span'), { className: 'action', textContent: p.action }));
    return li;
  }));
  if (last.atMs) $('#sync-state').textContent = last.problems?.length ? 'The last sync had problems (below); nothing is lost.' : `Synced at ${when(last.atMs)}.`;
}

// ------------------------------------------------------------ sync

const periodMs = () => (Number(settings.syncMinutes) || DEFAULT_SETTINGS.syncMinutes) * 60_000;
let nextSyncAt = null;
let syncing = false;

async function runSync() {
  if (syncing) return;
  syncing = true;
  const button = $('#run-sync');
  button.disabled = true;
  try {
    await syncAll({ onStep: (text) => { $('#sync-state').textContent = text; } });
  } finally {
    syncing = false;
    button.disabled = false;
    nextSyncAt = Date.now() + periodMs();
  }
  await refresh();
}

$('#run-sync').addEventListener('click', runSync);
// A plain page syncs while it is open, every hour.
if (!globalThis.chrome?.alarms) setInterval(() => { if (nextSyncAt && Date.now() >= nextSyncAt) runSync(); }, 60_000);

// ------------------------------------------------------------ settings

const settingsForm = $('#settings-form');
for (const [name, value] of Object.entries(settings)) if (settingsForm[name]) settingsForm[name].value = value;
settingsForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  settings = { ...settings, ...Object.fromEntries(new FormData(settingsForm)) };
  await save('settings', settings);
  await scheduleSync(settings);
  say('Settings saved.');
  await refresh();
});

// ------------------------------------------------------------ everything from the store

async function refresh() {
  const drawn = {};
  const guard = async (service, fn) => {
    try { return await fn(); } catch (err) { say(`${SERVICE[service]}: ${err.message} ${actionFor(err.code, service)}`, 'error'); return null; }
  };
  const [linkyOn, weheatOn] = await Promise.all([guard('linky', showLinky), guard('weheat', showWeheat)]);
  document.body.dataset.connected = String(Boolean(linkyOn || weheatOn)); // nothing yet: the accounts come first
  if (!linkyOn) $('#linky').hidden = true;
  if (!weheatOn) $('#weheat').hidden = true;
  [drawn.energyidStatus, drawn.linkyStatus, drawn.weheatBuckets] = await Promise.all([
    guard('energyid', showEnergyId),
    linkyOn && guard('linky', drawLinky),
    weheatOn && guard('weheat', drawWeheat),
  ]);
  $('#run-sync').disabled = syncing || !(linkyOn || weheatOn);
  if ((linkyOn || weheatOn) && !nextSyncAt) nextSyncAt = Date.now() + periodMs();
  await drawSync(drawn);
  if (!document.body.dataset.ready) performance.mark('wattbridge:drawn'); // the first paint with data (bench/page.mjs)
  document.body.dataset.ready = 'true';
}

followColorScheme(refresh);
await finishWeheatRedirect();
await refresh();

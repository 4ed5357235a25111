// The page (also the extension's popup and options page): connect the
// services, sync, and draw what is stored. All provider logic is in the
// package; this file only asks it and renders the answers (view.js).
import { defaultBrowserStore } from '../js/stores/browser.js';
import { safeHref } from './links.js';
import { followColorScheme, round } from './charts.js';
import { render, renderCard } from './view.js';
import { makeJobs, documents, scheduleSync, SYNC_ALARM, DEFAULT_SETTINGS, SERVICE, TARGETS, DAY_MS, daysAgo, withoutCliAdvice } from './jobs.js';

// The library (wattbridge/init: a dozen modules and the wasm) loads while the
// last view paints from the store (wattbridge/browser-stores): a person sees
// their data without waiting for it (bench/page.mjs measures both moments).
const library = import('../js/browser-init.js').then(async (lib) => { await lib.init(); return lib; });
const $ = (selector) => document.querySelector(selector);
// The extension's action popup (manifest: index.html?view=popup) sizes itself to the page: give it the popup's width.
if (new URLSearchParams(location.search).get('view') === 'popup') document.documentElement.classList.add('popup');
const store = defaultBrowserStore();
const { load, save } = documents(store);
const [lastView, storedSettings, secrets, storedAccounts] = await Promise.all([load('view', {}), load('settings', DEFAULT_SETTINGS), load('secrets', {}), load('accounts', {})]);
let settings = storedSettings;
let accounts = storedAccounts;
if (lastView.cards) {
  render(lastView, { busy: true }); // Sync now waits for the library
  performance.mark('wattbridge:drawn'); // the first paint with data (bench/page.mjs)
}

// The MQTT publisher and mqtt.js (~100 KB) load only when a broker is set.
const loadMqtt = async () => {
  const [kit, mqtt] = await Promise.all([import('../js/mqtt/index.js'), import('./vendor/mqtt.esm.js')]);
  return { kit, library: mqtt.default };
};
const { clients, actionFor, syncAll, checkTarget, saveTargets } = makeJobs(await library, store, { loadMqtt });

const tariff = () => clients({ settings, secrets }).tariff();
const linkyClient = () => clients({ settings, secrets }).linky();
const weheatClient = () => clients({ settings, secrets }).weheat();
const energyidClient = () => clients({ settings, secrets }).energyid();

function say(text, kind = 'info') {
  const status = $('#status');
  status.dataset.kind = kind;
  status.textContent = text;
}

/** A card's passing state (waiting, a failed attempt) until the next refresh. */
const setCard = (service, state, text) => renderCard(service, { state, text });

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
    if (status.problem) return { connected: true, ...meters, attention: `${withoutCliAdvice(status.problem.message)} ${actionFor(status.problem.code, 'linky')}` };
    return { connected: true, ...meters, text: `Connected with ${how}${status.meter ? `, meter ${status.meter}` : ''}.` };
  } catch (err) {
    return { connected: true, attention: `${withoutCliAdvice(err.message)} ${actionFor(err.code, 'linky')}` };
  }
}

async function linkyCard() {
  const s = await linkyState();
  const show = { actions: !s.connected || Boolean(s.attention), disconnect: s.connected, 'meter-pick': s.meters?.length > 1 };
  const card = { connected: s.connected, show, meters: s.meters, meter: s.meter };
  if (!s.connected) return { ...card, state: 'none', text: 'Not connected.' };
  if (s.attention) return { ...card, state: 'attention', text: `Needs attention: ${s.attention}` };
  return { ...card, state: 'ok', text: s.text };
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
    setCard('linky', 'attention', `Needs attention: ${withoutCliAdvice(err.message)} ${actionFor(err.code, 'linky')}`);
    say(`Linky: ${withoutCliAdvice(err.message)}`, 'error');
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

async function weheatCard() {
  const { loggedIn } = await weheatClient().oauth().status();
  const who = accounts.weheatUser ? `as ${accounts.weheatUser}` : 'through the Weheat sign-in page';
  const card = { connected: loggedIn, show: { actions: !loggedIn, disconnect: loggedIn } };
  if (loggedIn) return { ...card, state: 'ok', text: `Connected ${who}.` };
  if (accounts.weheatUser || accounts.weheatVia) return { ...card, state: 'attention', text: `Needs attention: the sign-in ${who} has ended. Sign in again.` };
  return { ...card, state: 'none', text: 'Not connected.' };
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
    setCard('weheat', 'attention', `Needs attention: ${withoutCliAdvice(err.message)} ${actionFor(err.code, 'weheat')}`);
    say(`Weheat: ${withoutCliAdvice(err.message)}`, 'error');
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
    setCard('weheat', 'attention', `Needs attention: ${withoutCliAdvice(err.message)} ${actionFor(err.code, 'weheat')}`);
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
    say(`Weheat: ${withoutCliAdvice(err.message)} ${actionFor(err.code, 'weheat')}`, 'error');
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
let claimError = null; // why the last wait for a claim failed, until the keys are entered again

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
    .catch((err) => { claimError = err; })
    .finally(() => { claiming = null; clearInterval($('#claim-countdown').timer); $('#energyid-claim').hidden = true; refresh(); });
}

/** EnergyID's card, and its status when the record is claimed. */
async function energyIdCard() {
  const energyid = energyidClient();
  if (!energyid) return { card: { state: 'none', text: 'Not connected.', show: { form: true } } };
  if (claimError) return { card: { state: 'attention', text: `Needs attention: ${withoutCliAdvice(claimError.message)} ${actionFor(claimError.code, 'energyid')}`, show: { form: true } } };
  const status = await energyid.status();
  if (status.claimed) return { card: { state: 'ok', text: `Connected to record "${status.recordName}" (${status.recordNumber}).`, show: { form: false } }, status };
  if (!claiming) waitForClaim(energyid);
  return { card: { state: 'waiting', text: 'Waiting until this browser is claimed in EnergyID…', show: { form: false } } };
}

$('#energyid-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  secrets.provisioningKey = form.provisioningKey.value.trim();
  secrets.provisioningSecret = form.provisioningSecret.value;
  form.reset();
  claimError = null;
  await save('secrets', secrets);
  await refresh();
});

// ------------------------------------------------------------ connect: Home Assistant, MQTT

/** An optional target's card: set or not, and how its last check or sync went. */
function targetCard(service, targets) {
  const set = service === 'mqtt' ? Boolean(settings.mqttUrl) : Boolean(settings.haUrl && secrets.haToken);
  if (!set) return { state: 'none', text: 'Not connected.', show: { form: true, disconnect: false } };
  const where = hostOf(service === 'mqtt' ? settings.mqttUrl : settings.haUrl);
  const last = targets[service];
  if (!last) return { state: 'waiting', text: `Set to ${where}; not tried yet.`, show: { form: false, disconnect: true } };
  if (!last.ok) return { state: 'attention', text: `Needs attention: ${last.message.replace(/[.!]?$/, '.')} ${last.action}`, show: { form: true, disconnect: true } };
  return { state: 'ok', text: `Connected to ${where}: ${last.detail}.`, show: { form: false, disconnect: true } };
}

const hostOf = (url) => { try { return new URL(url).host; } catch { return url; } };

// The address and user name are settings (shown again in the form); the
// token and password are secrets, kept in the store and never put back.
const TARGET_FIELDS = {
  homeassistant: { settings: ['haUrl'], secrets: ['haToken'] },
  mqtt: { settings: ['mqttUrl', 'mqttUsername'], secrets: ['mqttPassword'] },
};

for (const service of TARGETS) {
  const form = $(`#${service}-form`);
  const fields = TARGET_FIELDS[service];
  for (const name of fields.settings) form[name].value = settings[name] ?? '';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    settings = { ...settings, ...Object.fromEntries(fields.settings.map((name) => [name, form[name].value.trim()])) };
    for (const name of fields.secrets) {
      if (form[name].value) secrets[name] = form[name].value; else delete secrets[name];
      form[name].value = '';
    }
    await Promise.all([save('settings', settings), save('secrets', secrets)]);
    setCard(service, 'waiting', `Connecting to ${hostOf(settings[fields.settings[0]])}…`);
    const result = await checkTarget(service);
    say(result.ok ? `${SERVICE[service]} is connected.` : `${SERVICE[service]}: ${result.message}`, result.ok ? 'info' : 'error');
    await refresh();
  });
  $(`#${service}-disconnect`).addEventListener('click', async () => {
    settings = { ...settings, ...Object.fromEntries(fields.settings.map((name) => [name, ''])) };
    for (const name of fields.secrets) delete secrets[name];
    for (const name of fields.settings) form[name].value = '';
    await Promise.all([save('settings', settings), save('secrets', secrets), saveTargets({ [service]: null })]);
    say(`${SERVICE[service]} is disconnected.`);
    await refresh();
  });
}

// ------------------------------------------------------------ look

/** YYYY-MM-DD `n` days before the Paris day `date`. */
const dayBefore = (date, n) => new Date(Date.parse(`${date}T12:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);

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

/** Linky's panel from the local history, and the status the sync card reads. */
async function linkyView() {
  const linky = linkyClient();
  const stats = await linky.stats({ tariff: tariff(), from: daysAgo(62) });
  const { periods, today } = stats;
  const byDate = new Map(stats.daily.map((d) => [d.date, d.wh]));
  const first = dayBefore(today, 30);
  const view = {
    meter: stats.meter,
    days: stats.daily.filter((d) => d.date >= first && d.date < today).map(({ date, wh }) => ({ date, wh })),
    price: Number(settings.priceBase) || 0,
    curve: (await linky.history('load-curve', { from: periods.yesterday.from, to: periods.yesterday.to })).map(({ start, value }) => ({ start, value })),
    thisMonth: cumulated(byDate, periods.thisMonth.from.slice(0, 7), today),
    lastMonth: cumulated(byDate, periods.lastMonth.from.slice(0, 7), today),
    periods: Object.fromEntries(Object.entries(periods).map(([key, p]) => [key, { kwh: p.kwh, cost: p.cost, daysWithData: p.daysWithData, days: p.days }])),
  };
  return { view, status: await linky.status() };
}

async function weheatView() {
  const buckets = await weheatClient().storedEnergy({ interval: 'Day', from: daysAgo(30) });
  const { latest } = await load('weheat-latest', {});
  return { buckets: buckets.map(({ timeBucket, heatKwh, electricityKwh, cop }) => ({ timeBucket, heatKwh, electricityKwh, cop })), latest: latest ?? null };
}

async function syncView({ linkyStatus, weheatBuckets, energyidStatus }) {
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
  const stateText = last.atMs ? (last.problems?.length ? 'The last sync had problems (below); nothing is lost.' : `Synced at ${when(last.atMs)}.`) : null;
  return { entries, problems: last.problems ?? [], stateText };
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
  const guard = async (service, fn) => {
    try { return await fn(); } catch (err) { say(`${SERVICE[service]}: ${withoutCliAdvice(err.message)} ${actionFor(err.code, service)}`, 'error'); return null; }
  };
  const [linky, weheat, targets] = await Promise.all([guard('linky', linkyCard), guard('weheat', weheatCard), load('targets', {})]);
  const connected = Boolean(linky?.connected || weheat?.connected);
  const [energyid, linkyData, weheatData] = await Promise.all([
    guard('energyid', energyIdCard),
    linky?.connected && guard('linky', linkyView),
    weheat?.connected && guard('weheat', weheatView),
  ]);
  if (connected && !nextSyncAt) nextSyncAt = Date.now() + periodMs();
  const view = {
    connected,
    cards: { linky, weheat, energyid: energyid?.card, homeassistant: targetCard('homeassistant', targets), mqtt: targetCard('mqtt', targets) },
    linky: linkyData?.view ?? null,
    weheat: weheatData || null,
    sync: await syncView({ linkyStatus: linkyData?.status, weheatBuckets: weheatData?.buckets, energyidStatus: energyid?.status }),
  };
  render(view, { busy: syncing });
  if (!document.body.dataset.ready) {
    if (!lastView.cards) performance.mark('wattbridge:drawn');
    performance.mark('wattbridge:live'); // drawn from the library's answers (bench/page.mjs)
  }
  document.body.dataset.ready = 'true';
  // What the next opening paints before the wasm is ready.
  await save('view', view);
}

followColorScheme(refresh);
await finishWeheatRedirect();
await refresh();

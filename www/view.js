// The page drawn from a view: plain data (each card's state, the charts'
// inputs, the tables) that app.js computes with the library. app.js keeps the
// last view in the store, so the next opening paints it at once, before the
// wasm module is compiled, then draws the fresh one over it.
import { dailyChart, curveChart, monthsChart, weheatChart } from './charts.js';
import { SERVICE } from './jobs.js';

const $ = (selector) => document.querySelector(selector);

const PERIODS = [['yesterday', 'Yesterday'], ['thisWeek', 'This week'], ['lastWeek', 'Last week'], ['thisMonth', 'This month'], ['lastMonth', 'Last month'], ['thisYear', 'This year']];
const TEMPERATURES = [['outside', 'Outside'], ['room', 'Room'], ['roomTarget', 'Room target'], ['waterIn', 'Water in'], ['waterOut', 'Water out'], ['dhwTop', 'Hot water tank']];
export const kwh = (n) => n.toLocaleString('en', { maximumFractionDigits: 1 });
const eur = (n) => n == null ? '–' : `${n.toFixed(2)} €`;

/**
 * One service card: its state (none, waiting, ok, attention) and text, which
 * of its parts show (`show`: part id suffix → shown), and for Linky the meters
 * to pick from.
 */
export function renderCard(service, { state, text, show = {}, meters, meter }) {
  $(`#card-${service}`).dataset.state = state;
  $(`#${service}-state`).textContent = text;
  for (const [part, shown] of Object.entries(show)) $(`#${service}-${part}`).hidden = !shown;
  if (meters?.length > 1) $(`#${service}-meter-select`).replaceChildren(...meters.map((m) => new Option(m, m, false, m === meter)));
}

export function facts(dl, entries) {
  dl.replaceChildren(...entries.map(([term, value]) => {
    const pair = document.createElement('div');
    pair.append(Object.assign(document.createElement('dt'), { textContent: term }), Object.assign(document.createElement('dd'), { textContent: value }));
    return pair;
  }));
}

/** Linky's panel: 30 days with cost, yesterday's curve, this month against last, the periods. */
function renderLinky({ meter, days, price, curve, thisMonth, lastMonth, periods }) {
  $('#linky-meter').textContent = `meter ${meter}`;
  dailyChart($('#chart-daily'), days, price);
  const total = days.reduce((s, d) => s + d.wh, 0) / 1000;
  $('#daily-cost').textContent = `${kwh(total)} kWh${price ? `, ${eur(total * price)}` : ''} in all`;
  curveChart($('#chart-curve'), curve);
  monthsChart($('#chart-months'), thisMonth, lastMonth);
  $('#linky-stats tbody').replaceChildren(...PERIODS.map(([key, label]) => {
    const p = periods[key];
    const tr = document.createElement('tr');
    tr.dataset.period = key;
    const th = Object.assign(document.createElement('th'), { scope: 'row', textContent: label });
    tr.append(th, ...[kwh(p.kwh), eur(p.cost), `${p.daysWithData} / ${p.days}`].map((text) => Object.assign(document.createElement('td'), { textContent: text })));
    return tr;
  }));
}

/** The heat pump's panel: heat against electricity with the COP per day, its state and temperatures. */
function renderWeheat({ buckets, latest }) {
  weheatChart($('#chart-weheat'), buckets);
  if (!latest) return;
  facts($('#weheat-now'), [
    ['State', `${latest.stateName}${latest.online === false ? ' (offline)' : ''}`],
    ...TEMPERATURES.filter(([key]) => latest[key] != null).map(([key, label]) => [label, `${latest[key].toFixed(1)} °C`]),
    ...(latest.cop != null ? [['COP now', latest.cop.toFixed(2)]] : []),
    ['As of', latest.timestamp ? new Date(latest.timestamp).toLocaleString() : '–'],
  ]);
}

/** The sync card: facts, the last sync's problems with their action, and a line about it. */
function renderSync({ entries, problems, stateText }) {
  facts($('#sync-facts'), entries);
  $('#problems').replaceChildren(...problems.map((p) => {
    const li = document.createElement('li');
    li.dataset.code = p.code;
    li.append(Object.assign(document.createElement('strong'), { textContent: `${SERVICE[p.service] ?? p.service}: ` }), `${p.message} `, Object.assign(document.createElement('span'), { className: 'action', textContent: p.action }));
    return li;
  }));
  if (stateText) $('#sync-state').textContent = stateText;
}

/** Everything in `view`; a part the view lacks (a card that could not be read) is left as it is. `busy`: Sync now stays disabled. */
export function render(view, { busy = false } = {}) {
  document.body.dataset.connected = String(view.connected); // nothing yet: the accounts come first
  for (const [service, card] of Object.entries(view.cards)) if (card) renderCard(service, card);
  $('#linky').hidden = !view.linky;
  if (view.linky) renderLinky(view.linky);
  $('#weheat').hidden = !view.weheat;
  if (view.weheat) renderWeheat(view.weheat);
  renderSync(view.sync);
  $('#run-sync').disabled = busy || !view.connected;
}

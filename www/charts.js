// The page's charts: uPlot (vendored in www/vendor at build time; an
// extension may not load remote code). Each chart element keeps its uPlot
// instance as `.uplot`, so tests can read the plotted data.
import uPlot from './vendor/uPlot.esm.js';

const HEIGHT = 220;

/** Colours from the page's CSS variables, so charts follow the light or dark scheme. */
function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return { fg: v('--fg'), muted: v('--muted'), grid: v('--grid'), a: v('--accent'), b: v('--accent-2'), c: v('--accent-3') };
}

/** The x and y axes, and a second y axis on the right for the scale `y2.scale` when given. */
function axes(p, y2) {
  const axis = { stroke: p.muted, grid: { stroke: p.grid, width: 1 }, ticks: { stroke: p.grid } };
  const list = [{ ...axis }, { ...axis, size: 48 }];
  if (y2) list.push({ ...axis, scale: y2.scale, side: 1, grid: { show: false }, size: 56, ...(y2.values && { values: y2.values }) });
  return list;
}

/** Bars grow from zero. */
const fromZero = { range: (_, min, max) => [0, max > 0 ? max * 1.08 : 1] };

/** Draw (or redraw) `data` in `el`: one uPlot, resized with its box. */
function draw(el, opts, data) {
  el.uplot?.destroy();
  const width = Math.max(240, el.clientWidth || el.parentElement.clientWidth);
  const u = new uPlot({ width, height: HEIGHT, cursor: { points: { show: false } }, ...opts }, data, el);
  el.uplot = u;
  if (!el.resizer) {
    el.resizer = new ResizeObserver(() => el.uplot?.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT }));
    el.resizer.observe(el);
  }
  return u;
}

const bars = (size) => uPlot.paths.bars({ size: [size, 40], align: 0 });
const noon = (date) => Date.parse(`${date}T12:00:00Z`) / 1000;

/** Daily kWh as bars, with the cost per day as a line on its own axis when a price is known. */
export function dailyChart(el, days, price) {
  const p = palette();
  const x = days.map((d) => noon(d.date));
  const kwh = days.map((d) => round(d.wh / 1000, 3));
  const series = [{}, { label: 'kWh', stroke: p.a, fill: p.a, width: 0, paths: bars(0.7), value: (_, v) => v == null ? '–' : `${v} kWh` }];
  const data = [x, kwh];
  if (price) {
    // The cost is kWh × price: no second shape to draw, but the legend shows it for the day under the cursor.
    series.push({ label: 'cost', scale: 'y', stroke: p.c, width: 0, paths: () => null, points: { show: false }, value: (_, v) => v == null ? '–' : `${v.toFixed(2)} €` });
    data.push(kwh.map((k) => round(k * price, 2)));
  }
  return draw(el, { series, axes: axes(p), scales: { x: { time: true }, y: fromZero } }, data);
}

/** A load curve: average W per step (Linky rows, Paris times with offset). */
export function curveChart(el, rows) {
  const p = palette();
  const x = rows.map((r) => Date.parse(r.start) / 1000);
  const w = rows.map((r) => r.value);
  return draw(el, {
    scales: { y: fromZero },
    series: [{}, { label: 'W', stroke: p.a, fill: `${p.a}33`, width: 2, paths: uPlot.paths.stepped({ align: 1 }) }],
    axes: axes(p),
  }, [x, w]);
}

/** Two months, cumulated kWh by day of the month. */
export function monthsChart(el, thisMonth, lastMonth) {
  const p = palette();
  const days = Math.max(thisMonth.length, lastMonth.length, 1);
  const x = Array.from({ length: days }, (_, i) => i + 1);
  const pad = (values) => x.map((_, i) => values[i] ?? null);
  return draw(el, {
    scales: { x: { time: false } },
    series: [{ label: 'day' }, { label: 'this month', stroke: p.a, width: 2 }, { label: 'last month', stroke: p.muted, width: 2, dash: [6, 4] }],
    axes: axes(p),
  }, [x, pad(thisMonth), pad(lastMonth)]);
}

/** Weheat per day: heat and electricity as bars, the COP as a line on its own axis. */
export function weheatChart(el, buckets) {
  const p = palette();
  const x = buckets.map((b) => Date.parse(b.timeBucket) / 1000);
  const heat = buckets.map((b) => b.heatKwh == null ? null : round(b.heatKwh, 2));
  const elec = buckets.map((b) => b.electricityKwh == null ? null : round(b.electricityKwh, 2));
  const cop = buckets.map((b) => b.cop == null ? null : round(b.cop, 2));
  return draw(el, {
    series: [{},
      { label: 'heat kWh', stroke: p.c, fill: p.c, width: 0, paths: bars(0.8) },
      { label: 'electricity kWh', stroke: p.a, fill: p.a, width: 0, paths: bars(0.4) },
      { label: 'COP', scale: 'cop', stroke: p.b, width: 2 }],
    scales: { y: fromZero, cop: fromZero },
    axes: axes(p, { scale: 'cop', values: (_, ticks) => ticks.map((t) => `COP ${t}`) }),
  }, [x, heat, elec, cop]);
}

export function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Redraw every chart in the new colours when the color scheme changes. */
export function followColorScheme(redraw) {
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', redraw);
}

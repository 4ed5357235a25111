import { MemoryStore } from 'wattbridge';
const stats = new Map();
const orig = MemoryStore.prototype.put;
MemoryStore.prototype.put = async function (key, doc) {
  const k = key.replace(/\d{4}-\d{2}(-\d{2})?/g, 'D').replace(/\d{6,}/g, 'N');
  const s = stats.get(k) ?? { n: 0, bytes: 0, max: 0 };
  s.n += 1; s.bytes += doc.length; s.max = Math.max(s.max, doc.length); stats.set(k, s);
  return orig.call(this, key, doc);
};
const origGet = MemoryStore.prototype.get;
let gets = 0, getBytes = 0;
MemoryStore.prototype.get = async function (key) { const v = await origGet.call(this, key); gets++; getBytes += v?.length ?? 0; return v; };
process.on('exit', () => { console.error([...stats].sort((a, b) => b[1].bytes - a[1].bytes).map(([k, s]) => `${k} n=${s.n} MB=${(s.bytes / 1e6).toFixed(1)} max=${s.max}`).join('\n')); console.error('gets', gets, (getBytes/1e6).toFixed(1),'MB'); });
await import('./_bf.mjs');

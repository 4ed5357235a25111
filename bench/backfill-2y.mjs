// A 2-year backfill through sync() in its own process, for `npm run bench`:
// prints JSON with the work done and this process's peak memory (max RSS).
// The sandbox runs in a child process, and gives the credentials too, so this
// process never loads the sandbox's code: the memory measured is the sync's.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Linky, Weheat, EnergyId, MemoryStore, sync } from 'wattbridge';

// Pacing and budgets lifted for the bench: it measures memory and work, not the services' quotas
// (a real first backfill over the Conso API takes two runs 12 h apart: ~130 requests, budget 90).
const options = { linky: { rateLimit: 0, consoLimitPer12h: 0 }, weheat: { budgetPerHour: 0 }, energyid: { claimAfterHellos: 0, uploadInterval: 0.01 } };
const child = spawn(process.execPath, [new URL('./sandbox-child.mjs', import.meta.url).pathname, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(createInterface({ input: child.stdout }), 'line');
const sandbox = JSON.parse(line);

const store = new MemoryStore();
const linky = new Linky({ consoApiUrl: sandbox.urls.linky.consoApiUrl, consoToken: sandbox.consoToken, consoBudget: 100_000, maxRequestsPerSecond: 1000, store });
const weheat = new Weheat({ authUrl: sandbox.urls.weheat.newAuthUrl, apiUrl: sandbox.urls.weheat.newApiUrl, budgetPerHour: 100_000, store });
await weheat.oauth().loginWithPassword(sandbox.weheatUser);
const energyid = new EnergyId({ helloUrl: sandbox.urls.energyid.helloUrl, provisioningKey: sandbox.provisioning.key, provisioningSecret: sandbox.provisioning.secret, store });
const started = performance.now();
const report = await sync({ linky, weheat, energyid, since: new Date(Date.now() - 730 * 86_400_000), maxWaitSeconds: 60, store });
const seconds = (performance.now() - started) / 1000;
const records = await (await fetch(`${sandbox.url}/energyid/_sandbox/records`)).json();
child.kill('SIGTERM');
process.stdout.write(`${JSON.stringify({
  seconds,
  readings: records[0]?.readings.length ?? 0,
  posts: report.energyid.requests,
  linkyRequests: report.sources.linky?.requests,
  weheatRequests: report.sources.weheat?.requests,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  ok: report.ok,
  // A source or sink that failed says why.
  errors: [...Object.entries(report.sources), ['energyid', report.energyid]].filter(([, s]) => s?.status === 'error').map(([name, s]) => `${name}: ${s.error.code} ${s.error.message}`),
})}\n`);

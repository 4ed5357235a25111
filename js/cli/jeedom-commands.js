// `wattbridge jeedom push`: Linky and Weheat values, with their history, into
// the info commands of Jeedom virtual equipments, over Jeedom's JSON-RPC API.
import { sync } from '../node.js';
import { loadSettings } from '../config.js';
import { linkyClient, weheatClient, syncSources, jeedomClient, linkyTariff } from './accounts.js';
import { takeLock } from './lock.js';
import { progressBar } from './progress.js';
import { exitCodeOf } from './exit-codes.js';
import { renderJeedom } from './sync-commands.js';

export async function jeedomPush(options, { json }) {
  const settings = await loadSettings();
  const jeedom = jeedomClient(settings);
  const sources = syncSources(settings);
  // The same lock as sync: both read and write the sources' local history.
  const release = await takeLock(settings.stateDir);
  const bars = new Map();
  try {
    const report = await sync({
      linky: sources.has('linky') ? linkyClient(settings) : null,
      weheat: sources.has('weheat') ? weheatClient(settings) : null,
      jeedom,
      tariff: linkyTariff(settings),
      resolution: settings.get('sync.resolution'),
      since: options.since,
      dryRun: options.dryRun,
      onProgress: ({ stage, done, total }) => {
        if (!bars.has(stage)) bars.set(stage, progressBar(stage, { quiet: json }));
        bars.get(stage).onProgress({ done, total });
      },
    });
    for (const bar of bars.values()) bar.stop();
    const failures = [...Object.values(report.sources), report.jeedom].filter((s) => s?.status === 'error');
    if (failures.length) process.exitCode = Math.max(...(await Promise.all(failures.map((f) => exitCodeOf(f.error)))));
    const lines = [report.dryRun ? 'Dry run: nothing was written.' : 'Jeedom:'];
    for (const [name, s] of Object.entries(report.sources)) {
      if (s.status === 'ok') lines.push(`  ${name.padEnd(8)} ${name === 'linky' ? `meter ${s.meter}` : `pump ${s.pump}`}: ${s.requests} requests${s.holes ? `, ${s.holes} gaps left as gaps` : ''}`);
      else lines.push(`  ${name.padEnd(8)} ${s.status === 'skipped' ? 'skipped' : 'failed'}: ${s.error.message} [${s.error.code}]`);
    }
    lines.push(renderJeedom(report.jeedom, report.dryRun));
    if (!report.dryRun && report.jeedom.status === 'ok') lines.push('In Jeedom: Plugins → Programming → Virtual, or the dashboard; each command\'s history from its gear icon.');
    return { result: report, text: lines.join('\n') };
  } finally {
    for (const bar of bars.values()) bar.stop();
    await release();
  }
}

// What a user gets: the packed tarball installed into a fresh project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });

test('npm pack -> npm install -> import works in a fresh project', async () => {
  const project = await scratchDir('wattbridge-user-');
  const [{ filename, files }] = JSON.parse(npm(['pack', '--json', '--pack-destination', project], ROOT));
  const paths = files.map((f) => f.path);
  for (const needed of ['pkg/wattbridge_bg.wasm', 'pkg/wattbridge.js', 'js/node.js', 'js/browser.js', 'js/index.d.ts', 'js/cli/main.js', 'www/index.html', 'www/app.js', 'www/charts.js', 'www/jobs.js', 'www/worker.js', 'www/vendor/uPlot.esm.js', 'www/vendor/uPlot.min.css', 'www/vendor/uPlot.LICENSE']) {
    assert.ok(paths.includes(needed), `${needed} is missing from the tarball`);
  }
  assert.ok(!paths.some((p) => /^(src|tests|target|node_modules)\//.test(p)), `sources leaked into the tarball: ${paths}`);

  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', join(project, filename)], project);

  await writeFile(
    join(project, 'slice.mjs'),
    `import { EnergyId, MemoryStore, WattbridgeError } from 'wattbridge';
     import { startSandbox, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from 'wattbridge/sandbox';
     const sb = await startSandbox();
     const energyid = new EnergyId({ helloUrl: sb.urls.energyid.helloUrl, provisioningKey: SANDBOX_PROVISIONING_KEY,
       provisioningSecret: SANDBOX_PROVISIONING_SECRET, store: new MemoryStore() });
     const { claimUrl } = await energyid.hello();
     await fetch(claimUrl);
     await energyid.hello();
     const sent = await energyid.send({ ts: 1790000000, el: 42 });
     const err = await energyid.send({ el: NaN }).catch((e) => e);
     console.log(JSON.stringify({ sent, received: sb.energyid.records()[0].readings, isError: err instanceof WattbridgeError, code: err.code }));
     await sb.close();`,
  );
  const out = JSON.parse(execFileSync(process.execPath, ['slice.mjs'], { cwd: project, encoding: 'utf8' }));
  assert.deepEqual(out, { sent: { queued: 1, readings: 1, requests: 1, remaining: 0, quarantined: 0, nextUploadAtMs: null }, received: [{ ts: 1790000000, el: 42 }], isError: true, code: 'invalid_input' });

  const version = execFileSync(join(project, 'node_modules/.bin/wattbridge'), ['--version'], { encoding: 'utf8' });
  assert.match(version, /^\d+\.\d+\.\d+\n$/);
});

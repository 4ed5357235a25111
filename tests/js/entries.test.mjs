// The package's entry points as the page and the extension's service worker
// use them: www/ imports only what package.json exports (so it works the same
// from node_modules/wattbridge and needs no internal path), and
// wattbridge/init in Node is the Node entry with an init() to await.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, normalize } from 'node:path';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The files package.json exports to a browser (the "browser" or "default" condition), repository-relative. */
async function browserExports() {
  const { exports } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  const files = new Set();
  for (const target of Object.values(exports)) {
    const file = typeof target === 'string' ? target : target.browser ?? target.default;
    if (file) files.add(normalize(file));
  }
  return files;
}

/** Every module specifier `file` imports, statically or with import() (comments, with their JSDoc types, aside). */
async function importsOf(file) {
  const text = (await readFile(join(ROOT, file), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

test('the page and the service worker import only the package\'s public entry points', async () => {
  const exported = await browserExports();
  for (const file of ['www/worker.js', 'www/app.js', 'www/jobs.js', 'www/view.js', 'www/charts.js']) {
    const specifiers = await importsOf(file);
    for (const specifier of specifiers) {
      const target = normalize(join('www', specifier));
      if (target.startsWith('www/')) continue; // the page's own modules and its vendored libraries
      assert.ok(exported.has(target), `${file} imports ${specifier}, which package.json does not export`);
    }
  }
  // The worker may not await at the top level: it takes the entry without one, as the page does.
  for (const file of ['www/worker.js', 'www/app.js']) assert.ok((await importsOf(file)).includes('../js/browser-init.js'), file);
  assert.doesNotMatch(await readFile(join(ROOT, 'js/browser-init.js'), 'utf8'), /^await /m);
});

test('wattbridge/init in Node: the Node entry, with an init() that resolves at once', async () => {
  const entry = await import('wattbridge/init');
  const node = await import('wattbridge');
  assert.equal(entry.Linky, node.Linky);
  await entry.init();
  assert.equal(entry.disposition('auth_required'), 'person');
});

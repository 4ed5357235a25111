import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStore, MemoryStore, LocalStorageStore, ChromeStorageStore, WattbridgeError } from 'wattbridge';
import { scratchDir } from './helpers.mjs';

test('FileStore writes private files atomically and reads them back', async () => {
  const dir = join(await scratchDir(), 'state');
  const store = new FileStore(dir);
  assert.equal(await store.get('linky/history/2026-11'), null);
  await store.put('linky/history/2026-11', '{"v":1}');
  await store.put('linky/history/2026-11', '{"v":2}');
  assert.equal(await store.get('linky/history/2026-11'), '{"v":2}');
  const files = await readdir(dir);
  assert.deepEqual(files, ['linky%2Fhistory%2F2026-11.json'], 'keys are encoded, never used as paths');
  assert.equal((await stat(join(dir, files[0]))).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  await store.delete('linky/history/2026-11');
  await store.delete('never-there');
  assert.deepEqual(await readdir(dir), []);
});

test('FileStore reports a corrupt file with its path and leaves it alone', async () => {
  const dir = await scratchDir();
  await writeFile(join(dir, 'tokens.json'), 'not json at all');
  const err = await new FileStore(dir).get('tokens').catch((e) => e);
  assert.ok(err instanceof WattbridgeError);
  assert.equal(err.code, 'corrupt_state');
  assert.ok(err.message.includes(join(dir, 'tokens.json')), err.message);
});

test('FileStore: a failed write reports storage, leaves no temp file and no partial document', async () => {
  const dir = await scratchDir();
  const store = new FileStore(dir);
  await store.put('good', '{"v":1}');
  // A directory where the document should go makes the final rename fail,
  // even for root, after the temp file was fully written.
  await mkdir(join(dir, 'blocked.json', 'inside'), { recursive: true });
  const err = await store.put('blocked', '{"v":2}').catch((e) => e);
  assert.ok(err instanceof WattbridgeError);
  assert.equal(err.code, 'storage');
  assert.match(err.message, /blocked\.json/);
  assert.deepEqual((await readdir(dir)).sort(), ['blocked.json', 'good.json']);
  assert.equal(await store.get('good'), '{"v":1}');
});

test('MemoryStore and LocalStorageStore keep documents by key', async () => {
  const fakeStorage = new Map();
  const storage = {
    getItem: (k) => fakeStorage.get(k) ?? null,
    setItem: (k, v) => fakeStorage.set(k, v),
    removeItem: (k) => fakeStorage.delete(k),
  };
  for (const store of [new MemoryStore(), new LocalStorageStore({ storage })]) {
    assert.equal(await store.get('a'), null);
    await store.put('a', '{}');
    assert.equal(await store.get('a'), '{}');
    await store.delete('a');
    assert.equal(await store.get('a'), null);
  }
  assert.deepEqual([...fakeStorage.keys()], []);
});

test('ChromeStorageStore keeps documents in chrome.storage.local and reports a refused write', async () => {
  // The promise-based chrome.storage.local API of MV3, over a Map.
  const items = new Map();
  let quotaLeft = 2;
  const area = {
    get: async (name) => (items.has(name) ? { [name]: items.get(name) } : {}),
    set: async (object) => {
      if (quotaLeft-- <= 0) throw new Error('QUOTA_BYTES quota exceeded');
      for (const [k, v] of Object.entries(object)) items.set(k, v);
    },
    remove: async (name) => { items.delete(name); },
  };
  const store = new ChromeStorageStore({ area });
  assert.equal(await store.get('energyid'), null);
  await store.put('energyid', '{"deviceId":"d"}');
  assert.deepEqual([...items], [['wattbridge:energyid', '{"deviceId":"d"}']]);
  assert.equal(await store.get('energyid'), '{"deviceId":"d"}');
  await store.put('other', '{}');
  const err = await store.put('energyid', '{"deviceId":"e"}').catch((e) => e);
  assert.ok(err instanceof WattbridgeError);
  assert.equal(err.code, 'storage');
  assert.match(err.message, /quota/);
  assert.equal(await store.get('energyid'), '{"deviceId":"d"}', 'the refused write changed nothing');
  await store.delete('energyid');
  assert.equal(await store.get('energyid'), null);
  assert.throws(() => new ChromeStorageStore({ area: undefined }), /chrome\.storage\.local is not available/);
});

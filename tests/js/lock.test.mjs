// The lock files (js/lock.js), of sync and of each state document: a dead
// owner's lock is taken over, a live one's never, even when pids are reused; a
// lock being written is not stale; release removes only one's own lock; many
// takers of a stale lock, one winner; a document's lock is waited for, boundedly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile, utimes } from 'node:fs/promises';
import { existsSync, watch } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { takeLock, takeOver, processStartMs } from '../../js/lock.js';
import { FileStore } from '../../js/stores/file.js';
import { scratchDir } from './helpers.mjs';

const LOCK_JS = new URL('../../js/lock.js', import.meta.url).href;
const lockOf = async (dir) => JSON.parse(await readFile(join(dir, 'sync.lock'), 'utf8'));

test('a lock left by an earlier process with our own pid (a restarted container) is taken over', async () => {
  const dir = await scratchDir();
  await writeFile(join(dir, 'sync.lock'), JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-01-01T00:00:00Z', token: 'an-earlier-life' }));
  const release = await takeLock(dir);
  assert.notEqual((await lockOf(dir)).token, 'an-earlier-life');
  await release();
  assert.ok(!existsSync(join(dir, 'sync.lock')));
});

test('a lock whose pid now belongs to another process (a reused pid) is taken over; the real owner keeps it', { skip: processStartMs(process.pid) === null && 'no /proc to read start times from' }, async () => {
  const dir = await scratchDir();
  // The parent process is alive, but it is not the process that wrote this lock: that one started earlier.
  await writeFile(join(dir, 'sync.lock'), JSON.stringify({ pid: process.ppid, host: hostname(), startedMs: processStartMs(process.ppid) - 3_600_000, since: 'earlier', token: 'reused' }));
  const release = await takeLock(dir);
  await release();
  // The same pid with its true start time is alive: busy.
  await writeFile(join(dir, 'sync.lock'), JSON.stringify({ pid: process.ppid, host: hostname(), startedMs: processStartMs(process.ppid), since: 'now', token: 'live' }));
  await assert.rejects(takeLock(dir), (err) => err.code === 'busy' && new RegExp(`pid ${process.ppid}\\b`).test(err.message));
});

test('an empty lock file is being written: busy at first, stale only once it has stayed empty', async () => {
  const dir = await scratchDir();
  const path = join(dir, 'sync.lock');
  await writeFile(path, '');
  await assert.rejects(takeLock(dir), (err) => err.code === 'busy' && /being written/.test(err.message));
  const past = new Date(Date.now() - 60_000);
  await utimes(path, past, past);
  const release = await takeLock(dir);
  assert.equal((await lockOf(dir)).pid, process.pid);
  await release();
});

test('release removes only its own lock, not one another process took meanwhile', async () => {
  const dir = await scratchDir();
  const release = await takeLock(dir);
  const other = JSON.stringify({ pid: process.ppid, host: hostname(), startedMs: processStartMs(process.ppid), since: 'later', token: 'someone-else' });
  await writeFile(join(dir, 'sync.lock'), other);
  await release();
  assert.equal(await readFile(join(dir, 'sync.lock'), 'utf8'), other, "the other process's lock is still there");
});

test('eight processes finding the same stale lock: exactly one takes it', async () => {
  const dir = await scratchDir();
  await writeFile(join(dir, 'sync.lock'), JSON.stringify({ pid: 2 ** 22 + 12_345, host: hostname(), since: 'long ago', token: 'dead' }));
  const script = `
    import { takeLock } from ${JSON.stringify(LOCK_JS)};
    try {
      const release = await takeLock(${JSON.stringify(dir)});
      process.stdout.write('got');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await release();
    } catch (err) {
      process.stdout.write(err.code === 'busy' ? 'busy' : String(err));
    }`;
  const runs = Array.from({ length: 8 }, () => new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('exit', () => resolve(out));
  }));
  const outcomes = await Promise.all(runs);
  assert.equal(outcomes.filter((o) => o === 'got').length, 1, outcomes.join(' '));
  assert.equal(outcomes.filter((o) => o === 'busy').length, 7, outcomes.join(' '));
});

test('a process that judged a lock stale never moves the fresh lock it finds in its place', async () => {
  // The interleaving the eight processes above hit now and then under load:
  // B reads a dead owner's lock; A takes it over and writes its own; B, late,
  // takes over what it judged. B must leave A's lock where it is: moving it
  // even for a moment lets a third process create one too.
  const dir = await scratchDir();
  const stale = { pid: 2 ** 22 + 12_345, host: hostname(), since: 'long ago', token: 'dead' };
  await writeFile(join(dir, 'sync.lock'), JSON.stringify(stale));
  const releaseA = await takeLock(dir);
  const fresh = await readFile(join(dir, 'sync.lock'), 'utf8');
  const touched = [];
  const watcher = watch(dir, (event, file) => { if (file === 'sync.lock') touched.push(event); });
  try {
    assert.equal(await takeOver(join(dir, 'sync.lock'), stale), true);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the watcher report
  } finally {
    watcher.close();
  }
  assert.deepEqual(touched, [], 'the fresh lock was never moved or removed');
  assert.equal(await readFile(join(dir, 'sync.lock'), 'utf8'), fresh);
  await releaseA();
});

/** A child process that takes `key`'s document lock in `dir`, says "held", and releases it when told (a line on stdin). */
function holder(dir, key) {
  const script = `
    import { FileStore } from ${JSON.stringify(new URL('../../js/stores/file.js', import.meta.url).href)};
    const release = await new FileStore(${JSON.stringify(dir)}).lock(${JSON.stringify(key)});
    process.stdout.write('held\\n');
    process.stdin.once('data', async () => { await release(); process.stdout.write('released\\n'); process.exit(0); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const said = (word) => new Promise((resolve) => {
    const check = () => (out.includes(word) ? resolve() : child.stdout.once('data', (chunk) => { out += chunk; check(); }));
    check();
  });
  return { child, held: said('held'), release: () => { child.stdin.write('go\n'); return said('released'); } };
}

test("a document lock held by another process is waited for, then taken", async () => {
  const dir = await scratchDir();
  const other = holder(dir, 'energyid/outbox');
  await other.held;
  let taken = false;
  const waiting = new FileStore(dir).lock('energyid/outbox').then((release) => { taken = true; return release; });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(taken, false, 'taken while the other process held it');
  await other.release();
  const release = await waiting;
  await release();
});

test('a document lock held past the wait fails with busy, naming the holder and the document', async () => {
  const dir = await scratchDir();
  const other = holder(dir, 'tokens/weheat');
  await other.held;
  await assert.rejects(
    new FileStore(dir, { lockWaitSeconds: 0.3 }).lock('tokens/weheat'),
    (err) => err.code === 'busy' && new RegExp(`changing 'tokens/weheat' for over 0.3 s \\(pid ${other.child.pid}\\b`).test(err.message),
  );
  await other.release();
});

// The sync lock (js/lock.js): a dead owner's lock is taken over, a live
// one's never, even when pids are reused; a lock being written is not stale;
// release removes only one's own lock; many takers of a stale lock, one winner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile, utimes } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { takeLock, processStartMs } from '../../js/lock.js';
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

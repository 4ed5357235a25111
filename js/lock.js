// A lock file created exclusively (O_EXCL) in the state directory, naming its
// owner: pid, host, the process's start time and a random token. `sync` takes
// one for the whole run (one sync at a time); the FileStore takes one per
// document around each change of it (see FileStore.lock). A lock whose owner is gone (kill -9, a power cut, a container
// restarted with the same pid) is taken over. A takeover is made holding a
// second O_EXCL file, `<lock>.takeover`: under it the lock is read again and
// removed only if it is still the stale one, so two processes that both found
// it stale cannot remove a fresh lock, and the lock itself is only ever created
// with O_EXCL.
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { WattbridgeError } from './errors.js';

/** A lock file still empty this long after its creation is a writer that died. */
const EMPTY_GRACE_MS = 10_000;
/** Start times are compared to this precision (clock ticks, rounding). */
const START_SLACK_MS = 2_000;
/** While waiting, look again after this long at first, doubling up to POLL_MAX_MS (most holds last milliseconds). */
const POLL_FIRST_MS = 2;
const POLL_MAX_MS = 100;
/** Stale locks taken over in a row before giving up: others keep taking it. */
const MAX_TAKEOVERS = 5;

/** When a process started (unix ms), from /proc on Linux; null where unknown. */
export function processStartMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks since boot) counts from after the command's closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(boot)) return null;
    return boot * 1000 + Math.round((ticks * 1000) / 100); // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

const me = () => ({
  pid: process.pid,
  host: hostname(),
  startedMs: processStartMs(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000),
  since: new Date().toISOString(),
  token: randomUUID(),
});

/** Whether the owner a lock names may still be running; `ours` is this process. */
function ownerAlive(owner, ours) {
  if (owner.host && owner.host !== ours.host) return true; // another machine: we cannot tell, so we wait
  if (owner.pid === ours.pid) return owner.token === ours.token; // our pid, an earlier life (a restarted container)
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  // The pid is in use: by the owner, or by a process that got its number since.
  const started = processStartMs(owner.pid);
  return started === null || typeof owner.startedMs !== 'number' || Math.abs(started - owner.startedMs) <= START_SLACK_MS;
}

/** The lock's owner as written, `'empty'` while it is being written, or null when gone. */
async function readOwner(path) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch {
    return 'empty';
  }
}

/**
 * Take the lock `name` in `dir`; resolves to a release function that removes
 * only this lock. While a live process holds it, wait up to `waitMs` (default:
 * not at all), then fail with `busy` naming the holder. `what` says what the
 * holder is doing, for that message.
 */
export async function takeLock(dir, name = 'sync', { waitMs = 0, what = `another wattbridge ${name} is running` } = {}) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${name}.lock`);
  const ours = me();
  const deadline = Date.now() + waitMs;
  let poll = POLL_FIRST_MS;
  let takeovers = 0;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(ours));
      await handle.close();
      return () => release(path, ours.token);
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(path);
    if (owner === null) continue; // released meanwhile: try again
    const age = owner === 'empty' ? Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs : 0;
    const held = owner === 'empty' ? age < EMPTY_GRACE_MS : ownerAlive(owner, ours);
    if (!held) {
      takeovers += 1;
      if (takeovers > MAX_TAKEOVERS) throw new WattbridgeError(`cannot take the lock ${path}: other processes keep taking it`, { code: 'busy' });
      // Taken over: try to create it. Another process taking it over: wait as for a holder.
      if (await takeOver(path, owner)) continue;
    }
    if (Date.now() >= deadline) {
      if (!held) throw new WattbridgeError(`${what}: another process is taking over the stale lock ${path}; this one stops`, { code: 'busy' });
      if (owner === 'empty') throw new WattbridgeError(`${what}: its lock ${path} is being written; this one stops`, { code: 'busy' });
      const where = owner.host && owner.host !== ours.host ? ` on ${owner.host}` : '';
      throw new WattbridgeError(`${what} (pid ${owner.pid}${where}, since ${owner.since}); this one stops. If that is wrong, delete ${path}`, { code: 'busy' });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(poll * (0.5 + Math.random()), deadline - Date.now())));
    poll = Math.min(poll * 2, POLL_MAX_MS);
  }
}

/**
 * Remove a stale lock, holding `<lock>.takeover` (created with O_EXCL) so that
 * no other process removes or replaces it meanwhile: read again under it, the
 * lock is removed only if it is still the one judged stale. Resolves to false
 * when another process holds the takeover (a guard left by a process that
 * died is cleared once it is old).
 */
export async function takeOver(path, judged) {
  const guard = `${path}.takeover`;
  let handle;
  try {
    handle = await open(guard, 'wx', 0o600);
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    const age = Date.now() - (await stat(guard).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > EMPTY_GRACE_MS) await unlink(guard).catch(() => {});
    return false;
  }
  try {
    await handle.close();
    const now = await readOwner(path);
    const same = judged === 'empty' ? now === 'empty' : now !== null && now !== 'empty' && now.token === judged.token && now.pid === judged.pid;
    if (same) await unlink(path).catch(() => {});
    return true;
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/** Remove the lock only while it is still ours. */
async function release(path, token) {
  const owner = await readOwner(path).catch(() => null);
  if (owner && owner !== 'empty' && owner.token === token) await unlink(path).catch(() => {});
}

// One sync at a time: a lock file created exclusively in the state directory,
// holding the owner's pid. A lock left by a process that died (kill -9, a
// power cut) is taken over, since that process can no longer be syncing.
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { WattbridgeError } from '../node.js';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Take the lock `name` in `dir`; resolves to a release function. */
export async function takeLock(dir, name = 'sync') {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${name}.lock`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      await handle.close();
      return () => unlink(path).catch(() => {});
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = null;
      try {
        owner = JSON.parse(await readFile(path, 'utf8'));
      } catch {
        // Half-written by a process that died while taking it: stale.
      }
      if (owner && alive(owner.pid)) {
        throw new WattbridgeError(`another wattbridge ${name} is running (pid ${owner.pid}, since ${owner.since}); this one stops. If that is wrong, delete ${path}`, { code: 'busy' });
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new WattbridgeError(`cannot take the ${name} lock ${path}`, { code: 'busy' });
}

// Node store: one JSON file per key in a private directory.
//
// Writes are atomic (temp file in the same directory, fsync, rename, fsync of the
// directory): a crash leaves the old document or the new one, never half of one.
// Files are created 0600 and the directory 0700 because documents hold tokens.
// A file that is not valid JSON is reported, never replaced: it may be the only
// copy of someone's tokens or unsent readings.
//
// Several processes may share the directory (cron's sync, a manual `energyid
// send`, `weheat watch`, a script): each change of a document is made holding
// its lock file (`lock`), so none is lost to another process's change.

import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WattbridgeError } from '../errors.js';
import { takeLock } from '../lock.js';

/** How long a change waits for another process's change of the same document. */
const LOCK_WAIT_SECONDS = 60;

export class FileStore {
  /**
   * @param {string} dir directory that holds the documents (created on first write)
   * @param {{lockWaitSeconds?: number}} [options] how long a change waits for another process's (default 60 s)
   */
  constructor(dir, { lockWaitSeconds = LOCK_WAIT_SECONDS } = {}) {
    if (typeof dir !== 'string' || dir === '') {
      throw new WattbridgeError('FileStore needs a directory path', { code: 'invalid_config' });
    }
    this.dir = dir;
    this.lockWaitSeconds = lockWaitSeconds;
  }

  /** The file that holds `key` (keys may contain `/`; they are encoded, never paths). */
  pathOf(key) {
    if (typeof key !== 'string' || key === '') {
      throw new WattbridgeError('store keys must be non-empty strings', { code: 'invalid_input' });
    }
    return join(this.dir, `${encodeURIComponent(key)}.json`);
  }

  async get(key) {
    const path = this.pathOf(key);
    let text;
    try {
      // Documents are small: a synchronous read takes microseconds, where the
      // promise API's open/stat/read/close take four thread-pool round trips
      // (measured: `wattbridge status` 8 ms faster of about 95).
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw storageError(`cannot read ${path}`, err);
    }
    try {
      JSON.parse(text);
    } catch (err) {
      throw new WattbridgeError(
        `state file ${path} is corrupt (${err.message}); it was left untouched: ` +
          'restore it from a backup, or move it away to start over',
        { code: 'corrupt_state', cause: err },
      );
    }
    return text;
  }

  async put(key, document) {
    if (typeof document !== 'string') throw new TypeError('FileStore.put: document must be a string');
    const path = this.pathOf(key);
    await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((err) => {
      throw storageError(`cannot create ${this.dir}`, err);
    });
    // node:crypto is loaded on the first write only: reading commands (status) never pay for it.
    const { randomBytes } = await import('node:crypto');
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(document, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw storageError(`cannot write ${path}`, err);
    }
    await syncDir(this.dir);
  }

  /**
   * Hold `key` for a read-modify-write against other processes: a lock file
   * next to the document, held for the change only (milliseconds, or one
   * token refresh). Waits for another holder up to `lockWaitSeconds`, then
   * fails with `busy` naming it. Resolves to the release function.
   * (Within one process the wasm side already serializes changes per key.)
   */
  async lock(key) {
    return takeLock(this.dir, `${encodeURIComponent(key)}.json`, {
      waitMs: this.lockWaitSeconds * 1000,
      what: `another wattbridge process has been changing '${key}' for over ${this.lockWaitSeconds} s`,
    }).catch((err) => {
      throw err instanceof WattbridgeError ? err : storageError(`cannot lock ${this.pathOf(key)}`, err);
    });
  }

  async delete(key) {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (err.code !== 'ENOENT') throw storageError(`cannot delete ${path}`, err);
    }
  }
}

// Make the rename itself durable. Not every platform lets a directory be
// fsynced (Windows); there the rename is as durable as the OS makes it.
async function syncDir(dir) {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort, see above
  } finally {
    await handle?.close();
  }
}

function storageError(what, err) {
  return new WattbridgeError(`${what}: ${err.message}`, { code: 'storage', cause: err });
}

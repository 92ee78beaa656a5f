import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { VirtError } from './errors.js';
import { processAlive } from './host-process.js';

/** How long a modifying job waits for another one on the same object before failing. */
export const DEFAULT_JOB_WAIT_MS = 30_000;

interface Waiter {
  resolve: () => void;
}

/**
 * One modifying job per object at a time, inside a process. Query jobs do
 * not take it. A second modifier waits up to `timeoutMs`, then gets
 * OPERATION_INVALID naming the object and the job that holds it.
 */
export class JobLock {
  private readonly held = new Map<string, { job: string; waiters: Waiter[] }>();

  async run<T>(key: string, job: string, fn: () => Promise<T>, timeoutMs = DEFAULT_JOB_WAIT_MS): Promise<T> {
    await this.acquire(key, job, timeoutMs);
    try {
      return await fn();
    } finally {
      this.release(key);
    }
  }

  isHeld(key: string): boolean {
    return this.held.has(key);
  }

  private acquire(key: string, job: string, timeoutMs: number): Promise<void> {
    const cur = this.held.get(key);
    if (!cur) {
      this.held.set(key, { job, waiters: [] });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const h = this.held.get(key);
        if (h) h.waiters = h.waiters.filter((w) => w !== waiter);
        reject(new VirtError('OPERATION_INVALID', `cannot acquire the job lock of ${key} for '${job}': '${h?.job ?? '?'}' has held it for over ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref?.();
      cur.waiters.push(waiter);
    });
  }

  private release(key: string): void {
    const cur = this.held.get(key);
    if (!cur) return;
    const next = cur.waiters.shift();
    if (next) next.resolve();
    else this.held.delete(key);
  }
}


/**
 * A lock held across processes: a file created exclusively, holding the
 * owner's pid. A lock whose owner died is broken by the next taker (Node has
 * no flock(2); a crashed holder must not block an object forever).
 *
 * The file operations are synchronous: a few microseconds each on a local
 * folder, where the promise versions wait a thread-pool round trip each
 * (tens of microseconds, more on a busy host) and taking plus releasing a
 * lock is six of them.
 */
export class FileLock {
  private constructor(readonly path: string, private readonly token: string) {}

  /** Creates the lock file if nobody holds it. */
  private static tryCreate(path: string, token: string, what: string): boolean {
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, token);
        } finally {
          closeSync(fd);
        }
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        if (code === 'ENOENT' && attempt === 0) {
          mkdirSync(dirname(path), { recursive: true });
          continue;
        }
        throw new VirtError('SYSTEM_ERROR', `cannot create lock file ${path} for ${what}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  private static readOwner(path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  }

  static async acquire(path: string, what: string, timeoutMs = DEFAULT_JOB_WAIT_MS): Promise<FileLock> {
    const token = `${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}`;
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      if (FileLock.tryCreate(path, token, what)) return new FileLock(path, token);
      const owner = FileLock.readOwner(path);
      const pid = Number(owner.split(':')[0]);
      if (owner && Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
        // Move the stale file aside first so two breakers cannot remove a fresh lock.
        const aside = `${path}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
        try {
          renameSync(path, aside);
          if (FileLock.readOwner(aside) === owner) FileLock.remove(aside);
          else renameSync(aside, path);
        } catch {
          /* someone else broke it */
        }
        continue;
      }
      if (Date.now() >= deadline) {
        throw new VirtError('OPERATION_INVALID', `${what} is locked by another process (pid ${owner.split(':')[0] || '?'}) for over ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
  }

  private static remove(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  }

  async release(): Promise<void> {
    if (FileLock.readOwner(this.path) === this.token) FileLock.remove(this.path);
  }

  static async with<T>(path: string, what: string, fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
    const lock = await FileLock.acquire(path, what, timeoutMs);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }
}

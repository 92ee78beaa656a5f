import { FileLock } from '@virtkit/core';

/** How long a job waits for another process's job on the same domain. */
export const DOMAIN_LOCK_WAIT_MS = 60_000;

// One chain per lock file in this process: FileLock polls with a backoff,
// so callers of one process queue here instead of polling each other.
const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding a lock file: first this process's queue for the file,
 * then the cross-process FileLock (whose holder's death breaks it). Two
 * virtkit processes acting on one guest are serialised, not interleaved.
 */
export async function withLock<T>(path: string, what: string, fn: () => Promise<T>, timeoutMs = DOMAIN_LOCK_WAIT_MS): Promise<T> {
  const prev = chains.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  chains.set(path, tail);
  try {
    await prev;
    const lock = await FileLock.acquire(path, what, timeoutMs);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  } finally {
    release();
    if (chains.get(path) === tail) chains.delete(path);
  }
}

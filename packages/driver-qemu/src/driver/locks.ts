import { AsyncLocalStorage } from 'node:async_hooks';
import { FileLock } from '@virtkit/core';

/** How long a job waits for another process's job on the same domain. */
export const DOMAIN_LOCK_WAIT_MS = 60_000;

// One chain per lock file in this process: FileLock polls with a backoff,
// so callers of one process queue here instead of polling each other.
const chains = new Map<string, Promise<unknown>>();

// The lock files the current async flow holds, so a job can call helpers
// that take the same lock (re-entrant within one flow, never across flows).
const held = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Runs `fn` holding a lock file: first this process's queue for the file,
 * then the cross-process FileLock (whose holder's death breaks it). Two
 * virtkit processes acting on one guest are serialised, not interleaved.
 * Re-entrant: a flow already holding the lock runs `fn` at once.
 */
export async function withLock<T>(path: string, what: string, fn: () => Promise<T>, timeoutMs = DOMAIN_LOCK_WAIT_MS): Promise<T> {
  const mine = held.getStore();
  if (mine?.has(path)) return fn();
  const prev = chains.get(path) ?? Promise.resolve();
  let release!: () => void;
  const turn = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => turn);
  chains.set(path, tail);
  try {
    await prev;
    const lock = await FileLock.acquire(path, what, timeoutMs);
    try {
      return await held.run(new Set([...(mine ?? []), path]), fn);
    } finally {
      await lock.release();
    }
  } finally {
    release();
    if (chains.get(path) === tail) chains.delete(path);
  }
}

/**
 * Runs `fn` holding a lock file only if nobody holds it now (a flow that
 * already holds it runs `fn` at once); `undefined` when it is busy, in
 * this process or another. For work that may be skipped, such as checking
 * a record while a job is changing it.
 */
export async function tryWithLock<T>(path: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (held.getStore()?.has(path)) return fn();
  if (chains.has(path)) return undefined;
  let started = false;
  try {
    return await withLock(path, what, () => {
      started = true;
      return fn();
    }, 0);
  } catch (err) {
    // FileLock with no time to wait: another process holds it.
    if (!started && (err as { code?: string }).code === 'OPERATION_INVALID') return undefined;
    throw err;
  }
}

/**
 * Runs background work (exit handlers, watchers) as a flow of its own:
 * callbacks registered inside a job would otherwise inherit the job's
 * held locks and skip taking them.
 */
export function outsideLocks<T>(fn: () => T): T {
  return held.run(new Set(), fn);
}

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtError } from './errors.js';
import { FileLock, JobLock } from './locks.js';

describe('JobLock', () => {
  it('serialises jobs on one key and lets other keys run', async () => {
    const lock = new JobLock();
    const order: string[] = [];
    const slow = (tag: string, ms: number) => async () => {
      order.push(`${tag}+`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${tag}-`);
    };
    await Promise.all([lock.run('a', 'one', slow('a1', 30)), lock.run('a', 'two', slow('a2', 1)), lock.run('b', 'three', slow('b1', 1))]);
    expect(order.indexOf('a1-')).toBeLessThan(order.indexOf('a2+'));
    expect(order.indexOf('b1+')).toBeLessThan(order.indexOf('a1-'));
  });

  it('fails a waiter with OPERATION_INVALID after the timeout', async () => {
    const lock = new JobLock();
    const first = lock.run('k', 'long', () => new Promise((r) => setTimeout(r, 200)));
    await expect(lock.run('k', 'impatient', async () => 1, 20)).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
    await first;
    expect(await lock.run('k', 'after', async () => 2)).toBe(2);
  });

  it('releases the lock when a job throws', async () => {
    const lock = new JobLock();
    await expect(lock.run('k', 'bad', async () => { throw new Error('x'); })).rejects.toThrow('x');
    expect(lock.isHeld('k')).toBe(false);
  });
});

describe('FileLock', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('excludes a second holder and breaks a lock whose owner died', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-lock-'));
    const path = join(dir, 'obj.lock');
    const a = await FileLock.acquire(path, 'object');
    await expect(FileLock.acquire(path, 'object', 50)).rejects.toBeInstanceOf(VirtError);
    await a.release();
    // A lock file left by a process that no longer exists is taken over.
    await writeFile(path, '999999999:0:stale');
    const b = await FileLock.acquire(path, 'object', 200);
    expect(await readFile(path, 'utf8')).toMatch(new RegExp(`^${process.pid}:`));
    await b.release();
  });
});

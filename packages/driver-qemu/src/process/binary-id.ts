import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { systemError } from '@virtkit/core';

/** What a probe result depends on: the binary file as it is now. */
export interface BinaryIdentity {
  path: string;
  mtimeMs: number;
  size: number;
}

export async function binaryIdentity(binary: string): Promise<BinaryIdentity> {
  try {
    const path = await realpath(binary);
    const st = await stat(path);
    return { path, mtimeMs: Math.trunc(st.mtimeMs), size: st.size };
  } catch (err) {
    throw systemError(`cannot inspect QEMU binary ${binary}`, err, 'qemu');
  }
}

/** A short stable key for cache file names. */
export function cacheKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Where probe results are cached unless the caller says otherwise. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'virtkit', 'qemu');
}

/** Changes at every boot: KVM availability is only cached for one. */
export async function bootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return 'unknown';
  }
}

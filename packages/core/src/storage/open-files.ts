import { readFileSync, realpathSync, statSync } from 'node:fs';
import { readdir, readlink, realpath } from 'node:fs/promises';

/** glibc's major()/minor() of a dev_t. */
function devNumbers(dev: number): [number, number] {
  const hi = Math.floor(dev / 2 ** 32);
  const lo = dev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | (hi & ~0xfff);
  const minor = (lo & 0xff) | ((lo >>> 12) & ~0xff);
  return [major >>> 0, minor >>> 0];
}

/** Who holds a file: whether anyone locks it, and the pids that are known. */
export interface FileHolders {
  inUse: boolean;
  /** Holders by pid (OFD locks, which QEMU takes, do not name one). */
  pids: number[];
}

/**
 * Locks held on a file, from /proc/locks (Linux). QEMU locks every image
 * it opens (OFD locks on bytes 100-201), so a running guest's disk shows
 * here; so do flock(1) and fcntl users. One small read, no caching.
 */
export async function fileLockHolders(path: string): Promise<FileHolders> {
  // Synchronous: three quick calls, where promises would cost three thread-pool round trips on every volume change.
  let target = path;
  try {
    target = realpathSync(path);
  } catch {
    /* a dangling path: look at it as given */
  }
  const st = statSync(target, { throwIfNoEntry: false });
  if (!st) return { inUse: false, pids: [] };
  let text = '';
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    /* not Linux: nobody is known to hold it */
  }
  const [major, minor] = devNumbers(st.dev);
  let inUse = false;
  const pids = new Set<number>();
  for (const line of text.split('\n')) {
    // "1: OFDLCK ADVISORY  READ -1 fe:00:2148110 100 101", "2: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF"
    const f = line.trim().split(/\s+/);
    if (f[1] === '->') continue; // a waiter, not a holder
    const id = f[5]?.split(':');
    if (!id || id.length !== 3 || Number(id[2]) !== st.ino) continue;
    if (parseInt(id[0]!, 16) !== major || parseInt(id[1]!, 16) !== minor) continue;
    const pid = Number(f[4]);
    if (pid === process.pid) continue;
    inUse = true;
    if (pid > 0) pids.add(pid);
  }
  return { inUse, pids: [...pids].sort((a, b) => a - b) };
}

/**
 * Every process with a descriptor on a file, from a walk of
 * /proc/PID/fd (Linux): thorough, and as costly as the host has open
 * files, so the storage driver does it only when asked
 * (`checkOpenFiles: 'all'`).
 */
export async function processesWithOpen(path: string): Promise<number[]> {
  const target = await realpath(path).catch(() => path);
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return [];
  }
  const out: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      if (Number(pid) === process.pid) return;
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        if (link === target || link === path) {
          out.push(Number(pid));
          return;
        }
      }
    }),
  );
  return out.sort((a, b) => a - b);
}

/** Whether a file is in use: locked (always checked), or open in any process (`all`). */
export async function fileInUse(path: string, mode: 'locks' | 'all'): Promise<FileHolders> {
  const locks = await fileLockHolders(path);
  if (mode === 'locks' || locks.inUse) return locks;
  const pids = await processesWithOpen(path);
  return { inUse: pids.length > 0, pids };
}

import { readdir, readlink, realpath } from 'node:fs/promises';

/**
 * Processes that hold a file or device open, found through /proc/PID/fd
 * (Linux). A running guest keeps its disk images open, so this tells
 * whether deleting or wiping a volume would pull it from under one.
 * Returns an empty list where /proc is not readable.
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
      let fds: string[];
      try {
        fds = await readdir(`/proc/${pid}/fd`);
      } catch {
        return;
      }
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

import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';

/** glibc's major()/minor() of a dev_t. */
function devNumbers(dev: number): [number, number] {
  const hi = Math.floor(dev / 2 ** 32);
  const lo = dev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | (hi & ~0xfff);
  const minor = (lo & 0xff) | ((lo >>> 12) & ~0xff);
  return [major >>> 0, minor >>> 0];
}

/** Pids holding a lock on a file, from /proc/locks (QEMU locks the images it opens). */
async function lockHolders(path: string): Promise<number[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return [];
  const text = await readFile('/proc/locks', 'utf8').catch(() => '');
  const [major, minor] = devNumbers(st.dev);
  const out = new Set<number>();
  for (const line of text.split('\n')) {
    // "1: OFDLCK ADVISORY READ -1 fd:01:1234 100 100", "2: POSIX ADVISORY WRITE 4242 08:01:1234 0 EOF"
    const f = line.trim().split(/\s+/);
    const id = f[5]?.split(':');
    if (!id || id.length !== 3 || Number(id[2]) !== st.ino) continue;
    if (parseInt(id[0]!, 16) !== major || parseInt(id[1]!, 16) !== minor) continue;
    const pid = Number(f[4]);
    if (pid > 0) out.add(pid);
  }
  return [...out];
}

const SNAPSHOT_MS = 1000;
let snapshot: { at: number; links: Promise<Map<string, number[]>> } | undefined;

/** Every open file of every process, as link target → pids: one walk of /proc, kept a second. */
function openFileSnapshot(): Promise<Map<string, number[]>> {
  if (snapshot && Date.now() - snapshot.at < SNAPSHOT_MS) return snapshot.links;
  const links = (async () => {
    const map = new Map<string, number[]>();
    let pids: string[];
    try {
      pids = (await readdir('/proc')).filter((p) => /^[0-9]+$/.test(p));
    } catch {
      return map;
    }
    await Promise.all(
      pids.map(async (pid) => {
        if (Number(pid) === process.pid) return;
        const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
        const seen = new Set<string>();
        for (const fd of fds) {
          const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
          if (!link.startsWith('/') || seen.has(link)) continue;
          seen.add(link);
          const list = map.get(link);
          if (list) list.push(Number(pid));
          else map.set(link, [Number(pid)]);
        }
      }),
    );
    return map;
  })();
  snapshot = { at: Date.now(), links };
  return links;
}

/**
 * Processes that hold a file or device open (Linux): lock holders from
 * /proc/locks, read fresh each time (QEMU locks every image it opens), and
 * every process with a descriptor on it, from a walk of /proc/PID/fd that
 * is reused for a second (deleting many volumes walks /proc once). A
 * running guest keeps its disks open, so this tells whether deleting or
 * wiping a volume would pull it from under one. Empty where /proc is not
 * readable.
 */
export async function processesWithOpen(path: string, o: { fresh?: boolean } = {}): Promise<number[]> {
  if (o.fresh) snapshot = undefined;
  const target = await realpath(path).catch(() => path);
  const pids = new Set(await lockHolders(target));
  const open = await openFileSnapshot();
  for (const p of [target, path]) for (const pid of open.get(p) ?? []) pids.add(pid);
  pids.delete(process.pid);
  return [...pids].sort((a, b) => a - b);
}

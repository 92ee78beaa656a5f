/**
 * A container's control groups, on cgroup v1, v2 or a hybrid of both:
 * where each controller is mounted, which LXC keys set a limit
 * (`lxc.cgroup.*` for v1 controllers, `lxc.cgroup2.*` for v2), reading
 * CPU and memory use, and changing the memory limit and CPU weight of a
 * running container.
 */
import { readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtError } from '@virtkit/core';

export interface CgroupLayout {
  /** v1 controller (cpu, memory, freezer, name=systemd, …) → mount point. */
  v1: Map<string, string>;
  /** The cgroup2 mount point, if any. */
  unified?: string;
  /** Controllers enabled on the cgroup2 root. */
  unifiedControllers: Set<string>;
}

/** Parses /proc/self/mountinfo for cgroup (v1) and cgroup2 mounts. */
export function parseCgroupMounts(mountinfo: string, unifiedControllers = ''): CgroupLayout {
  const layout: CgroupLayout = { v1: new Map(), unifiedControllers: new Set(unifiedControllers.split(/\s+/).filter(Boolean)) };
  for (const line of mountinfo.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(' ');
    const post = line.slice(dash + 3).split(' ');
    const mountPoint = pre[4]?.replace(/\\040/g, ' ');
    if (!mountPoint) continue;
    if (post[0] === 'cgroup2') layout.unified ??= mountPoint;
    else if (post[0] === 'cgroup') {
      for (const opt of (post[2] ?? '').split(',')) {
        if (['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr', 'noprefix'].includes(opt)) continue;
        if (opt.startsWith('release_agent=')) continue;
        if (!layout.v1.has(opt)) layout.v1.set(opt, mountPoint);
      }
    }
  }
  return layout;
}

let cachedLayout: Promise<CgroupLayout> | undefined;

/** This host's cgroup layout (read once per process). */
export function cgroupLayout(): Promise<CgroupLayout> {
  cachedLayout ??= (async () => {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    const pre = parseCgroupMounts(info);
    const controllers = pre.unified ? await readFile(join(pre.unified, 'cgroup.controllers'), 'utf8').catch(() => '') : '';
    return parseCgroupMounts(info, controllers);
  })();
  return cachedLayout;
}

/** Which hierarchy serves a controller: v1, v2, or none. */
export function controllerVersion(layout: CgroupLayout, controller: string): 1 | 2 | undefined {
  if (layout.v1.has(controller)) return 1;
  if (layout.unifiedControllers.has(controller)) return 2;
  return undefined;
}

/** The folders of a process's cgroups: v1 controller → folder, plus `unified`. */
export async function cgroupFoldersOf(pid: number, layout: CgroupLayout): Promise<{ v1: Map<string, string>; unified?: string }> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  const out: { v1: Map<string, string>; unified?: string } = { v1: new Map() };
  for (const line of text.split('\n')) {
    const m = /^([0-9]+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, hid, ctrls, path] = m;
    if (hid === '0' && ctrls === '') {
      if (layout.unified) out.unified = join(layout.unified, path!);
      continue;
    }
    for (const c of ctrls!.split(',')) {
      const mount = layout.v1.get(c);
      if (mount) out.v1.set(c, join(mount, path!));
    }
  }
  return out;
}

/** One controller's folder for a process (v1 mount, else the unified one when it has the controller). */
async function folderFor(pid: number, controller: string): Promise<{ dir: string; version: 1 | 2 } | undefined> {
  const layout = await cgroupLayout();
  const f = await cgroupFoldersOf(pid, layout);
  const v1 = f.v1.get(controller);
  if (v1) return { dir: v1, version: 1 };
  if (f.unified && (layout.unifiedControllers.has(controller) || controller === 'cpu-stat')) return { dir: f.unified, version: 2 };
  return undefined;
}

async function readNumber(path: string): Promise<number | undefined> {
  try {
    const t = (await readFile(path, 'utf8')).trim();
    if (t === 'max') return Number.POSITIVE_INFINITY;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function readKeyed(path: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  try {
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      if (k && v !== undefined && Number.isFinite(Number(v))) m.set(k, Number(v));
    }
  } catch {
    /* missing controller: no numbers */
  }
  return m;
}

export interface CgroupStats {
  /** CPU time in ns (total, user, system). */
  cpuTimeNs?: number;
  cpuUserNs?: number;
  cpuSystemNs?: number;
  /** Memory in use (bytes) and its limit (bytes, Infinity when unlimited). */
  memoryBytes?: number;
  memoryLimitBytes?: number;
  /** Times the memory limit was hit (v1 failcnt, v2 events max). */
  memoryLimitHits?: number;
  /** CPU weight as v1 shares. */
  cpuShares?: number;
  frozen?: boolean;
}

const USER_HZ_NS = 1e9 / 100;

/** CPU, memory and freezer figures of the cgroups a process is in. */
export async function readCgroupStats(pid: number): Promise<CgroupStats> {
  const s: CgroupStats = {};
  const acct = await folderFor(pid, 'cpuacct');
  if (acct?.version === 1) {
    s.cpuTimeNs = await readNumber(join(acct.dir, 'cpuacct.usage'));
    const st = await readKeyed(join(acct.dir, 'cpuacct.stat'));
    if (st.has('user')) s.cpuUserNs = st.get('user')! * USER_HZ_NS;
    if (st.has('system')) s.cpuSystemNs = st.get('system')! * USER_HZ_NS;
  } else {
    const f = await cgroupFoldersOf(pid, await cgroupLayout());
    if (f.unified) {
      const st = await readKeyed(join(f.unified, 'cpu.stat'));
      if (st.has('usage_usec')) s.cpuTimeNs = st.get('usage_usec')! * 1000;
      if (st.has('user_usec')) s.cpuUserNs = st.get('user_usec')! * 1000;
      if (st.has('system_usec')) s.cpuSystemNs = st.get('system_usec')! * 1000;
    }
  }
  const mem = await folderFor(pid, 'memory');
  if (mem?.version === 1) {
    s.memoryBytes = await readNumber(join(mem.dir, 'memory.usage_in_bytes'));
    const lim = await readNumber(join(mem.dir, 'memory.limit_in_bytes'));
    // v1 reports "unlimited" as a huge page-aligned number.
    s.memoryLimitBytes = lim !== undefined && lim >= 2 ** 62 ? Number.POSITIVE_INFINITY : lim;
    s.memoryLimitHits = await readNumber(join(mem.dir, 'memory.failcnt'));
  } else if (mem?.version === 2) {
    s.memoryBytes = await readNumber(join(mem.dir, 'memory.current'));
    s.memoryLimitBytes = await readNumber(join(mem.dir, 'memory.max'));
    s.memoryLimitHits = (await readKeyed(join(mem.dir, 'memory.events'))).get('max');
  }
  const cpu = await folderFor(pid, 'cpu');
  if (cpu?.version === 1) s.cpuShares = await readNumber(join(cpu.dir, 'cpu.shares'));
  else if (cpu?.version === 2) {
    const w = await readNumber(join(cpu.dir, 'cpu.weight'));
    if (w !== undefined) s.cpuShares = weightToShares(w);
  }
  const fr = await folderFor(pid, 'freezer');
  if (fr?.version === 1) s.frozen = (await readFile(join(fr.dir, 'freezer.state'), 'utf8').catch(() => '')).trim() === 'FROZEN';
  else {
    const f = await cgroupFoldersOf(pid, await cgroupLayout());
    if (f.unified) s.frozen = (await readNumber(join(f.unified, 'cgroup.freeze'))) === 1;
  }
  return s;
}

/** cgroup v1 cpu.shares → v2 cpu.weight, as systemd and libvirt convert. */
export function sharesToWeight(shares: number): number {
  const w = Math.floor(1 + ((Math.min(Math.max(shares, 2), 262144) - 2) * 9999) / 262142);
  return Math.min(Math.max(w, 1), 10000);
}

export function weightToShares(weight: number): number {
  return Math.floor(2 + ((weight - 1) * 262142) / 9999);
}

async function writeControl(dir: string, file: string, value: string, what: string): Promise<void> {
  try {
    await writeFile(join(dir, file), value);
  } catch (err) {
    throw new VirtError('SYSTEM_ERROR', `${what}: cannot write '${value}' to ${join(dir, file)}: ${(err as Error).message}`, { origin: 'lxc', cause: err });
  }
}

/** Sets a running container's memory limit (bytes). */
export async function setMemoryLimit(pid: number, bytes: number, what: string): Promise<void> {
  const mem = await folderFor(pid, 'memory');
  if (!mem) throw new VirtError('NO_SUPPORT', `${what}: the memory cgroup controller is not available on this host`, { origin: 'lxc' });
  if (mem.version === 1) await writeControl(mem.dir, 'memory.limit_in_bytes', String(bytes), what);
  else await writeControl(mem.dir, 'memory.max', String(bytes), what);
}

/** Sets a running container's CPU weight from v1-style shares. */
export async function setCpuShares(pid: number, shares: number, what: string): Promise<void> {
  const cpu = await folderFor(pid, 'cpu');
  if (!cpu) throw new VirtError('NO_SUPPORT', `${what}: the cpu cgroup controller is not available on this host`, { origin: 'lxc' });
  if (cpu.version === 1) await writeControl(cpu.dir, 'cpu.shares', String(shares), what);
  else await writeControl(cpu.dir, 'cpu.weight', String(sharesToWeight(shares)), what);
}

/** Sets a running container's CFS quota/period (µs; quota -1 = none). */
export async function setCpuBandwidth(pid: number, period: number | undefined, quota: number | undefined, what: string): Promise<void> {
  const cpu = await folderFor(pid, 'cpu');
  if (!cpu) throw new VirtError('NO_SUPPORT', `${what}: the cpu cgroup controller is not available on this host`, { origin: 'lxc' });
  if (cpu.version === 1) {
    if (period !== undefined) await writeControl(cpu.dir, 'cpu.cfs_period_us', String(period), what);
    if (quota !== undefined) await writeControl(cpu.dir, 'cpu.cfs_quota_us', String(quota), what);
  } else {
    const cur = (await readFile(join(cpu.dir, 'cpu.max'), 'utf8').catch(() => 'max 100000')).trim().split(/\s+/);
    const q = quota === undefined ? cur[0] : quota < 0 ? 'max' : String(quota);
    const p = period === undefined ? cur[1] ?? '100000' : String(period);
    await writeControl(cpu.dir, 'cpu.max', `${q} ${p}`, what);
  }
}

/**
 * The folders, in every mounted hierarchy, that a cgroup name relative to
 * a base (this process's own cgroup, or the root) stands for.
 */
export async function cgroupFoldersNamed(name: string, relativeToSelf: boolean): Promise<string[]> {
  const layout = await cgroupLayout();
  const bases = relativeToSelf ? await cgroupFoldersOf(process.pid, layout) : undefined;
  const dirs: string[] = [];
  const seen = new Set<string>();
  for (const [ctrl, mount] of layout.v1) {
    if (seen.has(mount)) continue;
    seen.add(mount);
    dirs.push(join(bases?.v1.get(ctrl) ?? mount, name));
  }
  if (layout.unified) dirs.push(join(bases?.unified ?? layout.unified, name));
  return dirs;
}

/** Removes a cgroup folder and its (empty) sub-cgroups, deepest first; busy or missing ones stay. */
async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(join(dir, e.name));
  await rmdir(dir).catch(() => {});
}

/** Removes cgroup folders LXC leaves behind (the monitor's pivot and its lxc.pivot child). */
export async function removeCgroupFolders(dirs: string[]): Promise<void> {
  for (const d of dirs) await removeCgroupTree(d);
}

async function readPids(dirs: string[]): Promise<number[]> {
  for (const d of dirs) {
    const t = await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => undefined);
    if (t !== undefined) return t.split('\n').filter(Boolean).map(Number);
  }
  return [];
}

/**
 * A running container's monitor and init pids from its cgroups (cheaper
 * than asking lxc-info): the monitor alone in its cgroup, the init the
 * container process whose parent it is.
 */
export async function containerPids(monitorDirs: string[], containerDirs: string[]): Promise<{ monitor: number; init: number } | undefined> {
  const monitors = await readPids(monitorDirs);
  if (monitors.length !== 1) return undefined;
  for (const pid of await readPids(containerDirs)) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === monitors[0]) return { monitor: monitors[0]!, init: pid };
  }
  return undefined;
}

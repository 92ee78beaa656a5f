import { readFile } from 'node:fs/promises';
import { DOMAIN_STATES, type DomainDef, type DomainStats } from '@virtkit/core';
import type { QmpClient } from '../qmp/client.js';
import type { QemuDomains } from './domains.js';
import { monitors } from './monitors.js';
import { isActive } from './views.js';

// Linux's USER_HZ: /proc times are in 1/100 s.
const NS_PER_TICK = 10_000_000;

async function procTimes(path: string): Promise<{ user: number; system: number } | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[11], [12] are utime, stime (fields 14 and 15 of stat)
    return { user: Number(f[11]) * NS_PER_TICK, system: Number(f[12]) * NS_PER_TICK };
  } catch {
    return undefined;
  }
}

/** CPU time QEMU has used (all its threads), ns, as libvirt reads it from /proc. */
export async function cpuTimeNs(pid: number): Promise<number> {
  const t = await procTimes(`/proc/${pid}/stat`);
  return t ? t.user + t.system : 0;
}

interface BlockStats {
  device?: string;
  qdev?: string;
  'node-name'?: string;
  stats: {
    rd_bytes: number; wr_bytes: number; rd_operations: number; wr_operations: number; flush_operations: number;
    rd_total_time_ns: number; wr_total_time_ns: number; flush_total_time_ns: number;
  };
}

interface BlockInfo {
  device?: string;
  qdev?: string;
  inserted?: { file: string; image?: { 'virtual-size'?: number; 'actual-size'?: number } };
}

/** /proc/net/dev counters of a host device: the guest's rx is the tap's tx (libvirt swaps them too). */
async function netDevCounters(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  try {
    const text = await readFile('/proc/net/dev', 'utf8');
    for (const line of text.split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
      if (m) out.set(m[1]!, m[2]!.trim().split(/\s+/).map(Number));
    }
  } catch {
    // no /proc/net/dev
  }
  return out;
}

async function vcpuStats(qmp: QmpClient, pid: number, def: DomainDef, s: DomainStats): Promise<void> {
  s['vcpu.current'] = def.vcpu.current;
  s['vcpu.maximum'] = def.vcpu.max;
  const cpus = await qmp.execute<Array<{ 'cpu-index': number; 'thread-id': number }>>('query-cpus-fast');
  for (const c of cpus) {
    const t = await procTimes(`/proc/${pid}/task/${c['thread-id']}/stat`);
    s[`vcpu.${c['cpu-index']}.state`] = 1;
    if (t) s[`vcpu.${c['cpu-index']}.time`] = t.user + t.system;
  }
}

/**
 * virDomainListGetStats for one domain: state, cpu (from /proc), balloon
 * (query-balloon), vcpu (query-cpus-fast + /proc task times), block
 * (query-blockstats), net (/proc/net/dev of the guest's taps), with
 * libvirt's key names.
 */
export async function domainStats(d: QemuDomains, uuid: string, groups?: string[]): Promise<DomainStats> {
  const want = (g: string) => !groups || groups.length === 0 || groups.includes(g);
  const v = await d.views.byUuid(uuid);
  const s: DomainStats = {};
  const state = isActive(v) ? v.record.state : 'shutoff';
  if (want('state')) {
    s['state.state'] = DOMAIN_STATES.indexOf(state);
    s['state.reason'] = isActive(v) ? v.record.reason : v.record?.reason ?? 'unknown';
  }
  if (!isActive(v)) return s;
  const pid = v.record.process.pid;
  const def = v.live;
  if (want('cpu')) {
    const t = await procTimes(`/proc/${pid}/stat`);
    if (t) {
      s['cpu.time'] = t.user + t.system;
      s['cpu.user'] = t.user;
      s['cpu.system'] = t.system;
    }
  }
  const needMonitor = want('balloon') || want('vcpu') || want('block');
  if (needMonitor) {
    const m = await monitors.monitor(v.record.process);
    try {
      if (want('balloon')) {
        s['balloon.maximum'] = def.memory.total;
        const b = await m.qmp.execute<{ actual: number }>('query-balloon').catch(() => undefined);
        s['balloon.current'] = b ? Math.floor(b.actual / 1024) : def.memory.current || def.memory.total;
      }
      if (want('vcpu')) await vcpuStats(m.qmp, pid, def, s);
      if (want('block')) {
        const [stats, info] = await Promise.all([
          m.qmp.execute<BlockStats[]>('query-blockstats'),
          m.qmp.execute<BlockInfo[]>('query-block'),
        ]);
        const disks = def.devices.disks;
        s['block.count'] = disks.length;
        disks.forEach((disk, i) => {
          s[`block.${i}.name`] = disk.dst;
          if (disk.src.path) s[`block.${i}.path`] = disk.src.path;
          const alias = disk.info.alias;
          const st = stats.find((x) => x.qdev === alias || x.qdev === `/machine/peripheral/${alias}/virtio-backend` || x.device === `drive-${alias}`);
          if (st) {
            s[`block.${i}.rd.reqs`] = st.stats.rd_operations;
            s[`block.${i}.rd.bytes`] = st.stats.rd_bytes;
            s[`block.${i}.rd.times`] = st.stats.rd_total_time_ns;
            s[`block.${i}.wr.reqs`] = st.stats.wr_operations;
            s[`block.${i}.wr.bytes`] = st.stats.wr_bytes;
            s[`block.${i}.wr.times`] = st.stats.wr_total_time_ns;
            s[`block.${i}.fl.reqs`] = st.stats.flush_operations;
            s[`block.${i}.fl.times`] = st.stats.flush_total_time_ns;
          }
          const bi = info.find((x) => x.qdev === alias || x.qdev === `/machine/peripheral/${alias}/virtio-backend`);
          const img = bi?.inserted?.image;
          if (img?.['virtual-size'] !== undefined) s[`block.${i}.capacity`] = img['virtual-size'];
          if (img?.['actual-size'] !== undefined) s[`block.${i}.allocation`] = img['actual-size'];
        });
      }
    } finally {
      await m.release();
    }
  }
  if (want('net')) {
    const nets = def.devices.interfaces;
    const counters = nets.some((n) => n.ifname) ? await netDevCounters() : new Map<string, number[]>();
    s['net.count'] = nets.length;
    nets.forEach((n, i) => {
      s[`net.${i}.name`] = n.ifname ?? n.info.alias ?? `net${i}`;
      const c = n.ifname ? counters.get(n.ifname) : undefined;
      if (!c) return;
      // /proc/net/dev: rx bytes packets errs drop fifo frame compressed multicast | tx bytes packets errs drop …
      s[`net.${i}.rx.bytes`] = c[8]!;
      s[`net.${i}.rx.pkts`] = c[9]!;
      s[`net.${i}.rx.errs`] = c[10]!;
      s[`net.${i}.rx.drop`] = c[11]!;
      s[`net.${i}.tx.bytes`] = c[0]!;
      s[`net.${i}.tx.pkts`] = c[1]!;
      s[`net.${i}.tx.errs`] = c[2]!;
      s[`net.${i}.tx.drop`] = c[3]!;
    });
  }
  return s;
}

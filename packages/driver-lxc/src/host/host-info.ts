/** The host as the LXC driver reports it: node info, free memory, capabilities XML, LXC version. */
import { readFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { formatCapabilitiesXml, type CapabilitiesDef, type NodeInfo } from '@virtkit/core';
import { hostArchName, LXC_DEFAULT_EMULATOR, lxcGuestArches } from '../domain-xml.js';
import { runCommand } from './command.js';

function meminfoKiB(key: string): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+([0-9]+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function lxcNodeInfo(): NodeInfo {
  const list = cpus();
  const n = list.length || 1;
  let sockets = 1;
  let threads = 1;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const ids = new Set([...info.matchAll(/^physical id\s*:\s*([0-9]+)/gm)].map((m) => m[1]));
    if (ids.size) sockets = ids.size;
    const sib = /^siblings\s*:\s*([0-9]+)/m.exec(info);
    const cores = /^cpu cores\s*:\s*([0-9]+)/m.exec(info);
    if (sib && cores && Number(cores[1]) > 0) threads = Math.max(1, Math.floor(Number(sib[1]) / Number(cores[1])));
  } catch {
    /* defaults */
  }
  return {
    model: hostArchName(),
    memoryKiB: meminfoKiB('MemTotal') ?? Math.floor(totalmem() / 1024),
    cpus: n,
    mhz: Math.round(list[0]?.speed ?? 0),
    nodes: 1,
    sockets,
    cores: Math.max(1, Math.floor(n / sockets / threads)),
    threads,
  };
}

export function lxcFreeMemoryBytes(): number {
  const avail = meminfoKiB('MemFree');
  return avail !== undefined ? avail * 1024 : freemem();
}

/** libvirt's LXC capabilities: exe guests of the host arch and its 32-bit sibling, emulator libvirt_lxc. */
export function lxcCapabilitiesXml(hostUuid?: string): string {
  const arch = hostArchName();
  const caps: CapabilitiesDef = {
    host: {
      ...(hostUuid ? { uuid: hostUuid } : {}),
      cpu: { arch, features: [], pages: [] },
      secmodels: [],
    },
    guests: lxcGuestArches(arch).map((a) => ({
      osType: 'exe',
      arch: a,
      wordsize: /64|s390x/.test(a) ? 64 : 32,
      emulator: LXC_DEFAULT_EMULATOR,
      machines: [],
      domains: [{ type: 'lxc', machines: [] }],
      features: [],
    })),
  };
  return formatCapabilitiesXml(caps);
}

let versionCache: Promise<string> | undefined;

/** The installed LXC version (`lxc-start --version`), e.g. 5.0.2. */
export function lxcVersion(): Promise<string> {
  versionCache ??= runCommand(['lxc-start', '--version'], { what: 'LXC version', timeoutMs: 10_000 })
    .then((r) => /([0-9]+\.[0-9]+\.[0-9]+)/.exec(r.stdout)?.[1] ?? '0.0.0')
    .catch(() => {
      versionCache = undefined;
      return '0.0.0';
    });
  return versionCache;
}

/** The host's UUID as libvirt reads it (SMBIOS product UUID, else machine-id). */
export function hostUuid(): string | undefined {
  for (const f of ['/sys/class/dmi/id/product_uuid', '/etc/machine-id']) {
    try {
      const t = readFileSync(f, 'utf8').trim().toLowerCase();
      if (/^[0-9a-f-]{32,36}$/.test(t)) {
        const h = t.replace(/-/g, '');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
      }
    } catch {
      /* next */
    }
  }
  return undefined;
}

import { readFile } from 'node:fs/promises';
import { arch, cpus, totalmem } from 'node:os';
import { formatCapabilitiesXml, type CapabilitiesDef, type CapsMachine, type NodeInfo } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/capabilities.js';
import type { Accelerator } from '../process/accel.js';

const ARCH: Record<string, string> = { x64: 'x86_64', ia32: 'i686', arm64: 'aarch64', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x' };

export function hostArch(): string {
  return ARCH[arch()] ?? arch();
}

async function procText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** virNodeGetInfo from /proc/cpuinfo and /proc/meminfo (libvirt's linuxNodeInfoCPUPopulate, simplified). */
export async function nodeInfo(): Promise<NodeInfo> {
  const [cpuinfo, meminfo] = await Promise.all([procText('/proc/cpuinfo'), procText('/proc/meminfo')]);
  const blocks = cpuinfo.split(/\n\s*\n/).filter((b) => b.includes('processor'));
  const field = (b: string, k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(b)?.[1]?.trim();
  const n = blocks.length || cpus().length;
  const sockets = new Set(blocks.map((b) => field(b, 'physical id') ?? '0')).size || 1;
  const coresPerSocket = Number(field(blocks[0] ?? '', 'cpu cores')) || Math.max(1, Math.floor(n / sockets));
  const siblings = Number(field(blocks[0] ?? '', 'siblings')) || coresPerSocket;
  const threads = Math.max(1, Math.floor(siblings / coresPerSocket));
  const mhz = Math.round(Number(field(blocks[0] ?? '', 'cpu MHz')) || cpus()[0]?.speed || 0);
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1]) || Math.floor(totalmem() / 1024);
  return { model: hostArch(), memoryKiB: memKiB, cpus: n, mhz, nodes: 1, sockets, cores: coresPerSocket, threads };
}

export async function freeMemoryBytes(): Promise<number> {
  const meminfo = await procText('/proc/meminfo');
  const kib = Number(/^MemFree:\s+(\d+)/m.exec(meminfo)?.[1]);
  return Number.isFinite(kib) ? kib * 1024 : 0;
}

async function hostUuid(): Promise<string | undefined> {
  const id = (await procText('/sys/class/dmi/id/product_uuid')).trim() || (await procText('/etc/machine-id')).trim();
  if (/^[0-9a-f]{32}$/i.test(id)) return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`.toLowerCase();
  return /^[0-9a-f-]{36}$/i.test(id) ? id.toLowerCase() : undefined;
}

function capsMachines(caps: QemuCapabilities, accel: Accelerator): CapsMachine[] {
  const out: CapsMachine[] = [];
  for (const m of caps.machines(accel)) {
    out.push({ name: m.name, maxCpus: m.maxCpus });
    if (m.alias) out.push({ name: m.alias, canonical: m.name, maxCpus: m.maxCpus });
  }
  return out;
}

/** libvirt's capabilities XML for the QEMU driver: the host, and the guests the emulator runs. */
export async function capabilitiesXml(caps: QemuCapabilities, kvm: boolean): Promise<string> {
  const uuid = await hostUuid();
  const a = caps.arch || hostArch();
  const doc: CapabilitiesDef = {
    host: {
      ...(uuid ? { uuid } : {}),
      cpu: { arch: hostArch(), features: [], pages: [{ size: 4 }, { size: 2048 }, { size: 1048576 }] },
      powerManagement: [],
      iommu: false,
      migration: { live: true, uriTransports: ['tcp', 'rdma'] },
      secmodels: [{ model: 'none', doi: '0', baselabels: [] }],
    },
    guests: [
      {
        osType: 'hvm',
        arch: a,
        wordsize: a === 'i686' ? 32 : 64,
        emulator: caps.binary,
        machines: capsMachines(caps, 'tcg'),
        domains: [{ type: 'qemu', machines: [] }, ...(kvm ? [{ type: 'kvm', machines: [] }] : [])],
        features: [{ name: 'acpi', default: true, toggle: true }, { name: 'apic', default: true, toggle: false }, { name: 'cpuselection' }, { name: 'deviceboot' }, { name: 'disksnapshot', default: true, toggle: false }],
      },
    ],
  };
  return formatCapabilitiesXml(doc);
}

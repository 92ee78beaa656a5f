/**
 * The Xen host: finding `xl`, deciding whether a Xen hypervisor runs here
 * (the reasons become NO_CONNECT messages), and the host facts `xl info`
 * reports (version, node info, guest kinds for the capabilities XML).
 */
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { hostname } from 'node:os';
import { formatCapabilitiesXml, VirtError, type CapsGuest, type NodeInfo, type VersionInfo } from '@virtkit/core';
import { DEFAULT_DEVICE_MODEL, DEFAULT_FIRMWARE_DIR, type XenGuestCaps } from './conversion/index.js';
import { parseXlInfo } from './xl/output.js';
import type { XlRunner } from './xl/runner.js';

/** Where xl is, and whether the user chose it (VIRTKIT_XL or an option). */
export interface XlLocation {
  path: string;
  chosen: boolean;
}

async function executable(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks for xl: the option, then $VIRTKIT_XL, then PATH plus the sbin folders xl installs into. */
export async function findXl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<XlLocation | undefined> {
  const chosen = option ?? env.VIRTKIT_XL;
  if (chosen) return { path: chosen, chosen: true };
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'].filter((d) => d && isAbsolute(d));
  for (const d of dirs) {
    const p = join(d, 'xl');
    if (await executable(p)) return { path: p, chosen: false };
  }
  return undefined;
}

/** What /proc/xen says about this host, for messages and the dom0 check. */
async function procXenState(): Promise<{ dom0: boolean; why: string }> {
  try {
    const caps = await readFile('/proc/xen/capabilities', 'utf8');
    if (caps.includes('control_d')) return { dom0: true, why: 'this host is a Xen dom0' };
    return { dom0: false, why: 'this host runs under Xen but is not its control domain (dom0): /proc/xen/capabilities has no control_d' };
  } catch {
    return { dom0: false, why: 'no Xen hypervisor is running on this host (/proc/xen/capabilities does not exist)' };
  }
}

/**
 * Decides whether `uri` can be opened: xl must exist and `xl info` must
 * answer. A system xl is only tried on a dom0; an xl chosen through
 * VIRTKIT_XL is asked directly (it answers for the host it manages).
 * Throws NO_CONNECT naming the reason.
 */
export async function probeXenHost(uri: string, xl: XlLocation | undefined, runner: (path: string) => XlRunner): Promise<Map<string, string>> {
  const fail = (why: string, cause?: unknown): never => {
    throw new VirtError('NO_CONNECT', `cannot open ${uri}: ${why}`, { origin: 'xen', ...(cause ? { cause } : {}) });
  };
  if (!xl) {
    const proc = await procXenState();
    return fail(`the Xen toolstack is not installed (no 'xl' in PATH or /usr/sbin; set VIRTKIT_XL to another xl), and ${proc.why}`);
  }
  if (!xl.chosen) {
    const proc = await procXenState();
    if (!proc.dom0) return fail(proc.why);
  }
  try {
    const out = await runner(xl.path).run(['info'], 'xl info', { timeoutMs: 30_000 });
    const info = parseXlInfo(out.stdout);
    if (!info.has('xen_major') && !info.has('xen_version')) return fail(`'${xl.path} info' did not report a Xen version`);
    return info;
  } catch (err) {
    if (err instanceof VirtError && err.code === 'NO_CONNECT') throw err;
    const full = err instanceof VirtError && err.cause instanceof Error ? err.cause.message.split('\n').map((l) => l.trim()).filter(Boolean).join('; ') : (err as Error).message;
    return fail(`no running Xen hypervisor answers '${xl.path} info' (${full})`, err);
  }
}

export function xenVersion(info: Map<string, string>): VersionInfo {
  const major = Number(info.get('xen_major') ?? '0');
  const minor = Number(info.get('xen_minor') ?? '0');
  const extra = info.get('xen_extra') ?? '';
  const micro = /^\.?([0-9]+)/.exec(extra)?.[1] ?? '0';
  return { hypervisor: 'Xen', version: `${major}.${minor}.${micro}` };
}

export function xenNodeInfo(info: Map<string, string>): NodeInfo {
  const n = (k: string, d = 0) => {
    const v = Number.parseFloat(info.get(k) ?? '');
    return Number.isFinite(v) ? v : d;
  };
  const cpus = n('nr_cpus', 1);
  const nodes = Math.max(1, n('nr_nodes', 1));
  const cores = Math.max(1, n('cores_per_socket', 1));
  const threads = Math.max(1, n('threads_per_core', 1));
  return {
    model: info.get('machine') ?? 'x86_64',
    memoryKiB: n('total_memory') * 1024,
    cpus,
    mhz: Math.floor(n('cpu_mhz')),
    nodes,
    sockets: Math.max(1, Math.floor(cpus / (cores * threads) / nodes)),
    cores,
    threads,
  };
}

export function xenHostname(info: Map<string, string>): string {
  return info.get('host') || hostname();
}

const XEN_ARCH: Record<string, string> = { x86_32: 'i686', x86_64: 'x86_64', aarch64: 'aarch64', armv7l: 'armv7l' };

/**
 * The guest kinds of the host from `xen_caps` (libxlCapsInitGuests): PV
 * (`xen-3.0-ARCH`), HVM (`hvm-3.0-ARCH`), and PVH on x86_64 when HVM is
 * there. Guests of the host's own architecture come first, as libvirt
 * prefers them when a config names no architecture.
 */
export function xenGuests(info: Map<string, string>, firmwareDir = DEFAULT_FIRMWARE_DIR): XenGuestCaps[] {
  const out: XenGuestCaps[] = [];
  const add = (g: XenGuestCaps) => {
    if (!out.some((x) => x.osType === g.osType && x.arch === g.arch)) out.push(g);
  };
  for (const tok of (info.get('xen_caps') ?? '').split(/\s+/)) {
    const m = /^(xen|hvm)-[0-9]+\.[0-9]+-(aarch64|armv7l|x86_32|x86_64)(p|be)?$/.exec(tok);
    if (!m) continue;
    const arch = XEN_ARCH[m[2]!]!;
    if (m[1] === 'hvm') add({ osType: 'hvm', arch, machine: 'xenfv', emulator: DEFAULT_DEVICE_MODEL, loader: `${firmwareDir}/hvmloader` });
    else add({ osType: 'xen', arch, machine: 'xenpv' });
  }
  if (out.some((g) => g.osType === 'hvm' && g.arch === 'x86_64')) add({ osType: 'xenpvh', arch: 'x86_64', machine: 'xenpvh' });
  const hostArch = info.get('machine') ?? 'x86_64';
  return [...out.filter((g) => g.arch === hostArch), ...out.filter((g) => g.arch !== hostArch)];
}

/** libvirt's capabilities XML for the host. */
export function xenCapabilitiesXml(info: Map<string, string>, guests: XenGuestCaps[]): string {
  const node = xenNodeInfo(info);
  const caps: CapsGuest[] = guests.map((g) => ({
    osType: g.osType,
    arch: g.arch,
    wordsize: g.arch === 'i686' || g.arch === 'armv7l' ? 32 : 64,
    ...(g.emulator ? { emulator: g.emulator } : {}),
    ...(g.loader ? { loader: g.loader } : {}),
    machines: [{ name: g.machine }],
    domains: [{ type: 'xen', machines: [] }],
    features: g.osType === 'hvm' ? [{ name: 'acpi', default: true, toggle: true }, { name: 'apic', default: true, toggle: false }, { name: 'hap', default: true, toggle: true }] : [],
  }));
  return formatCapabilitiesXml({
    host: {
      cpu: { arch: node.model, features: [], pages: [], topology: { sockets: node.sockets, dies: 1, cores: node.cores, threads: node.threads } },
      migration: { live: true, uriTransports: ['xenmigr'] },
      secmodels: [],
    },
    guests: caps,
  });
}

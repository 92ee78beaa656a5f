/**
 * `domxml-from-native lxc-tools`: an LXC container config file (LXC 3.0
 * keys and the older `lxc.network.*` / `lxc.utsname` / … ones) turned
 * into LXC domain XML, as libvirt 9.0's lxc_native.c
 * (lxcParseConfigString) does it. The result goes through the LXC
 * driver's parser, so it gets the same post-parse as a definition.
 */
import { isIP } from 'node:net';
import { parseMac, VirtError, XmlWriter, type DomainDef, type DomainParserConfig } from '@virtkit/core';
import { LXC_PARSER_CONFIG, formatLxcDomain, parseLxcDomain } from '../domain-xml.js';
import { firstValue, firstValueOf, readLxcConf, type LxcConfEntry } from './lxc-conf.js';

/** The native format name libvirt's LXC driver accepts. */
export const LXC_NATIVE_FORMAT = 'lxc-tools';

const ORIGIN = { origin: 'lxc' };

function fail(code: 'CONFIG_UNSUPPORTED' | 'CONF_SYNTAX' | 'ARGUMENT_UNSUPPORTED' | 'INVALID_ARG', msg: string): never {
  throw new VirtError(code, `LXC config: ${msg}`, ORIGIN);
}

/** virStrToLong_ull on a whole string (no negatives). */
function toULong(s: string, what: string): bigint {
  if (!/^\s*\+?[0-9]+$/.test(s)) fail('CONF_SYNTAX', `failed to parse ${what}: '${s}'`);
  return BigInt(s.trim());
}

/** virStrToLong_ll on a whole string. */
function toLong(s: string, what: string): bigint {
  if (!/^\s*[+-]?[0-9]+$/.test(s)) fail('CONF_SYNTAX', `failed to parse ${what}: '${s}'`);
  return BigInt(s.trim());
}

const SCALE: Record<string, bigint> = { k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n, e: 1n << 60n };
const ULLONG_MAX = (1n << 64n) - 1n;

/** lxcConvertSize: a number with an optional unit (`8m`, `1G`, `512KiB`, `100MB`) in bytes; `%` is refused. */
export function convertLxcSize(size: string): bigint {
  const m = /^\s*\+?([0-9]+)(.*)$/.exec(size);
  if (!m) fail('CONF_SYNTAX', `failed to convert size: '${size}'`);
  const n = BigInt(m[1]!);
  const unit = m[2]!;
  if (unit === '%') fail('CONF_SYNTAX', `can't convert relative size: '${size}'`);
  let scale = 1n;
  if (unit !== '') {
    const u = unit.toLowerCase();
    if (u === 'b' || u === 'byte' || u === 'bytes') scale = 1n;
    else {
      const base = u.length === 1 || u.slice(1) === 'ib' ? 1024n : u.length === 2 && u[1] === 'b' ? 1000n : 0n;
      const exp = 'kmgtpe'.indexOf(u[0]!);
      if (!base || exp < 0) fail('CONF_SYNTAX', `failed to convert size: '${size}'`);
      scale = base === 1024n ? SCALE[u[0]!]! : 1000n ** BigInt(exp + 1);
    }
  }
  if (n !== 0n && n > ULLONG_MAX / scale) fail('CONF_SYNTAX', `failed to convert size: '${size}'`);
  return n * scale;
}

/** KiB limit as libvirt's virMemoryLimitTruncate caps it (2^53 - 1 = unlimited). */
function memoryLimitKiB(kib: bigint): number {
  const UNLIMITED = 9007199254740991n;
  return Number(kib > UNLIMITED ? UNLIMITED : kib);
}

// ------------------------------------------------------------------ mounts

/** Mount points the container always gets (lxcBasicMounts): entries for them are left out. */
const BASIC_MOUNTS = new Set(['/proc', '/proc/sys', '/proc/sys/net/ipv4', '/proc/sys/net/ipv6', '/sys', '/sys/kernel/security', '/sys/fs/selinux']);

interface FsSpec {
  type: 'mount' | 'block' | 'ram';
  src?: string;
  dst: string;
  readonly: boolean;
  /** RAM size in bytes. */
  usage?: bigint;
}

function splitFields(s: string): string[] {
  return s.replace(/\t/g, ' ').split(' ').filter((x) => x !== '');
}

function fstabEntry(line: string): FsSpec | undefined {
  const parts = splitFields(line);
  if (parts.length < 4) fail('CONF_SYNTAX', `invalid lxc.mount.entry '${line}': expecting source, target, type and options`);
  const [src, rawDst, fsType, options] = parts as [string, string, string, string];
  const opts = options.split(',');
  const dst = rawDst.startsWith('/') ? rawDst : `/${rawDst}`;
  if (BASIC_MOUNTS.has(dst)) return undefined;
  let type: FsSpec['type'] = 'mount';
  let usage: bigint | undefined;
  let source: string | undefined = src;
  if (fsType === 'tmpfs') {
    type = 'ram';
    source = undefined;
    const size = opts.find((o) => o.startsWith('size='));
    if (size === undefined) fail('CONF_SYNTAX', `missing tmpfs size for '${dst}', set the size option`);
    usage = convertLxcSize(size.slice(5));
  }
  if (src.startsWith('/dev/')) type = 'block';
  return { type, ...(source !== undefined ? { src: source } : {}), dst, readonly: opts.includes('ro'), ...(usage !== undefined ? { usage } : {}) };
}

// ------------------------------------------------------------------ networks

interface IpSpec {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

interface NetSpec {
  index: number;
  type?: string;
  link?: string;
  mac?: string;
  flag?: string;
  macvlanMode?: string;
  vlanId?: string;
  name?: string;
  ips: IpSpec[];
  gateway4?: string;
  gateway6?: string;
}

const NET_KEYS = [
  'name', 'type', 'link', 'hwaddr', 'flags', 'macvlan.mode', 'vlan.id', 'ipv4', 'ipv4.gateway', 'ipv4.address', 'ipv6', 'ipv6.gateway', 'ipv6.address',
] as const;

function parseCidr(value: string, key: string): IpSpec {
  const family = key === 'ipv6' || key === 'ipv6.address' ? 'ipv6' : 'ipv4';
  const slash = value.indexOf('/');
  const addr = slash < 0 ? '' : value.slice(0, slash);
  const prefix = slash < 0 ? '' : value.slice(slash + 1);
  if (!addr || isIP(addr) !== (family === 'ipv4' ? 4 : 6) || !/^\s*\+?[0-9]+$/.test(prefix) || Number(prefix) > 0xffffffff) {
    fail('INVALID_ARG', `Invalid CIDR address: '${value}'`);
  }
  return { address: addr, family, prefix: Number(prefix) };
}

function setNetProperty(net: NetSpec, key: string, value: string, fullKey: string): void {
  if (!(NET_KEYS as readonly string[]).includes(key)) fail('CONFIG_UNSUPPORTED', `unhandled network property '${fullKey} = ${value}'`);
  switch (key as (typeof NET_KEYS)[number]) {
    case 'type': net.type = value; break;
    case 'link': net.link = value; break;
    case 'hwaddr': net.mac = value; break;
    case 'flags': net.flag = value; break;
    case 'macvlan.mode': net.macvlanMode = value; break;
    case 'vlan.id': net.vlanId = value; break;
    case 'name': net.name = value; break;
    case 'ipv4.gateway': net.gateway4 = value; break;
    case 'ipv6.gateway': net.gateway6 = value; break;
    default: net.ips.push(parseCidr(value, key));
  }
}

/** lxcNetworkWalkCallback: `lxc.network.*` stacks on the last `type`, `lxc.net.N.*` goes to interface N. */
function collectNetworks(entries: readonly LxcConfEntry[]): NetSpec[] {
  const nets: NetSpec[] = [];
  for (const { key, value } of entries) {
    if (key.startsWith('lxc.network.')) {
      const sub = key.slice('lxc.network.'.length);
      if (sub === 'type') nets.push({ index: nets.length + 1, ips: [] });
      const net = nets[nets.length - 1];
      if (!net) fail('CONF_SYNTAX', `'${key}' appears before any lxc.network.type`);
      setNetProperty(net, sub, value, key);
    } else if (key.startsWith('lxc.net.')) {
      const m = /^lxc\.net\.([0-9]+)\.(.+)$/.exec(key);
      if (!m) fail('CONF_SYNTAX', `invalid network key '${key}' (expecting lxc.net.<index>.<property>)`);
      const index = Number(m[1]);
      let net = nets.find((n) => n.index === index);
      if (!net) nets.push((net = { index, ips: [] }));
      setNetProperty(net, m[2]!, value, key);
    }
  }
  return nets;
}

function macOf(value: string | undefined): string {
  if (value !== undefined) {
    try {
      return parseMac(value);
    } catch {
      /* libvirt leaves an unparsable hwaddr unset */
    }
  }
  return '00:00:00:00:00:00';
}

function writeGuestIp(w: XmlWriter, net: NetSpec): void {
  for (const ip of net.ips) w.empty('ip', [['address', ip.address], ['family', ip.family], ['prefix', ip.prefix || undefined]]);
  for (const [gw, family, zero] of [[net.gateway4, 'ipv4', '0.0.0.0'], [net.gateway6, 'ipv6', '::']] as const) {
    if (gw === undefined) continue;
    if (isIP(gw) === 0) fail('INVALID_ARG', `Bad gateway address '${gw}' in route definition`);
    w.empty('route', [['family', family], ['address', zero], ['gateway', gw]]);
  }
}

/** lxcAddNetworkDefinition: phys/vlan become host devices, the rest interfaces. Returns false for empty/none. */
function writeNetwork(w: XmlWriter, hostdevs: XmlWriter, net: NetSpec): boolean {
  const type = net.type;
  if (type === undefined || type === 'empty' || type === '' || type === 'none') return false;
  if (type === 'phys' || type === 'vlan') {
    if (net.link === undefined) fail('CONFIG_UNSUPPORTED', `Missing 'link' attribute for NIC ${net.index}`);
    const ifname = type === 'vlan' && net.vlanId !== undefined ? `${net.link}.${net.vlanId}` : net.link;
    hostdevs.open('hostdev', [['mode', 'capabilities'], ['type', 'net']]);
    hostdevs.open('source').text('interface', ifname).close('source');
    writeGuestIp(hostdevs, net);
    hostdevs.close('hostdev');
    return true;
  }
  let netType = 'user'; // what libvirt's zeroed NIC is for a type it does not map
  if (type === 'veth') netType = net.link !== undefined ? 'bridge' : 'ethernet';
  else if (type === 'macvlan') {
    if (net.link === undefined) fail('CONFIG_UNSUPPORTED', `Missing 'link' attribute for macvlan NIC ${net.index}`);
    netType = 'direct';
  }
  w.open('interface', [['type', netType]]);
  w.empty('mac', [['address', macOf(net.mac)]]);
  if (netType === 'bridge') w.empty('source', [['bridge', net.link!]]);
  if (netType === 'direct') {
    const mode = net.macvlanMode === 'private' || net.macvlanMode === undefined ? 'private' : net.macvlanMode === 'bridge' ? 'bridge' : 'vepa';
    w.empty('source', [['dev', net.link!], ['mode', mode]]);
  }
  writeGuestIp(w, net);
  if (net.name !== undefined) w.empty('guest', [['dev', net.name]]);
  w.empty('link', [['state', net.flag === 'up' ? 'up' : 'down']]);
  w.close('interface');
  return true;
}

// ------------------------------------------------------------------ tuning

interface BlkioDevice {
  path: string;
  values: Array<[string, bigint]>;
}

const BLKIO_KEYS: Record<string, [string, string]> = {
  'lxc.cgroup.blkio.device_weight': ['weight', 'device weight'],
  'lxc.cgroup.blkio.throttle.read_bps_device': ['read_bytes_sec', 'read_bps_device'],
  'lxc.cgroup.blkio.throttle.write_bps_device': ['write_bytes_sec', 'write_bps_device'],
  'lxc.cgroup.blkio.throttle.read_iops_device': ['read_iops_sec', 'read_iops_device'],
  'lxc.cgroup.blkio.throttle.write_iops_device': ['write_iops_sec', 'write_iops_device'],
};

function blkioDevices(entries: readonly LxcConfEntry[]): BlkioDevice[] {
  const devices: BlkioDevice[] = [];
  for (const { key, value } of entries) {
    if (!key.startsWith('lxc.cgroup.blkio.') || key === 'lxc.cgroup.blkio.weight') continue;
    const parts = splitFields(value);
    if (parts.length < 2) fail('CONF_SYNTAX', `invalid ${key} value: '${value}'`);
    const path = `/dev/block/${parts[0]}`;
    let dev = devices.find((d) => d.path === path);
    if (!dev) devices.push((dev = { path, values: [] }));
    const known = BLKIO_KEYS[key];
    if (!known) continue; // libvirt warns and keeps the (empty) device
    const [elem, what] = known;
    const n = toULong(parts[1]!, what);
    if (elem.endsWith('iops_sec') || elem === 'weight') {
      if (n > 0xffffffffn) fail('CONF_SYNTAX', `failed to parse ${what}: '${parts[1]}'`);
    }
    dev.values = dev.values.filter(([k]) => k !== elem);
    dev.values.push([elem, n]);
  }
  return devices;
}

const BLKIO_ORDER = ['weight', 'read_iops_sec', 'write_iops_sec', 'read_bytes_sec', 'write_bytes_sec'];

// ------------------------------------------------------------------ the document

const ARCHES = new Set([
  'i686', 'x86_64', 'aarch64', 'alpha', 'armv6l', 'armv7l', 'armv7b', 'cris', 'ia64', 'lm32', 'loongarch64', 'm68k', 'microblaze', 'microblazeel',
  'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle', 'ppc64', 'ppc64le', 'ppcemb', 'riscv32', 'riscv64',
  's390', 's390x', 'sh4', 'sh4eb', 'sparc', 'sparc64', 'unicore32', 'xtensa', 'xtensaeb',
]);

const CAPS = [
  'audit_control', 'audit_write', 'block_suspend', 'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'ipc_lock', 'ipc_owner',
  'kill', 'lease', 'linux_immutable', 'mac_admin', 'mac_override', 'mknod', 'net_admin', 'net_bind_service', 'net_broadcast', 'net_raw',
  'setgid', 'setfcap', 'setpcap', 'setuid', 'sys_admin', 'sys_boot', 'sys_chroot', 'sys_module', 'sys_nice', 'sys_pacct', 'sys_ptrace',
  'sys_rawio', 'sys_resource', 'sys_time', 'sys_tty_config', 'syslog', 'wake_alarm',
];

type IdmapTriple = [start: number, target: number, count: number];

/**
 * Builds the domain XML libvirt's converter would produce, before its
 * post-parse. The idmap comes back separately: libvirt sets it without
 * the XML parser's checks (it reads `u A B N` as target A, start B).
 */
function buildDomainXml(entries: readonly LxcConfEntry[]): { xml: string; idmap?: { uid: IdmapTriple[]; gid: IdmapTriple[] } } {
  const name = firstValueOf(entries, 'lxc.uts.name', 'lxc.utsname');
  if (name === undefined) fail('CONFIG_UNSUPPORTED', 'missing lxc.uts.name (or lxc.utsname): the container has no name');
  const rootfs = firstValueOf(entries, 'lxc.rootfs.path', 'lxc.rootfs');
  if (rootfs === undefined) fail('CONFIG_UNSUPPORTED', 'missing lxc.rootfs.path (or lxc.rootfs)');
  if (firstValue(entries, 'lxc.mount.fstab') !== undefined || firstValue(entries, 'lxc.mount') !== undefined) {
    fail('ARGUMENT_UNSUPPORTED', 'lxc.mount.fstab or lxc.mount found, use lxc.mount.entry lines instead');
  }

  let arch: string | undefined;
  const archValue = firstValue(entries, 'lxc.arch');
  if (archValue !== undefined) arch = ARCHES.has(archValue) ? archValue : archValue === 'x86' ? 'i686' : archValue === 'amd64' ? 'x86_64' : undefined;

  const fss: FsSpec[] = [{ type: rootfs.startsWith('/dev/') ? 'block' : 'mount', src: rootfs, dst: '/', readonly: false }];
  for (const { key, value } of entries) {
    if (key !== 'lxc.mount.entry') continue;
    const fs = fstabEntry(value);
    if (fs) fss.push(fs);
  }

  const nets = collectNetworks(entries);

  const ttyValue = firstValueOf(entries, 'lxc.tty.max', 'lxc.tty');
  let ttys = 0;
  if (ttyValue !== undefined) {
    if (!/^\s*[+-]?[0-9]+$/.test(ttyValue)) fail('CONF_SYNTAX', `failed to parse int: '${ttyValue}'`);
    ttys = Math.max(0, Number(ttyValue));
  }

  const uids: IdmapTriple[] = [];
  const gids: IdmapTriple[] = [];
  for (const { key, value } of entries) {
    if (key !== 'lxc.idmap' && key !== 'lxc.id_map') continue;
    // sscanf("%c %lu %lu %lu"): type, target, start, count.
    const m = /^(.)\s*\+?([0-9]+)\s+\+?([0-9]+)\s+\+?([0-9]+)/.exec(value);
    if (!m) fail('CONF_SYNTAX', `invalid ${key}: '${value}'`);
    const entry: IdmapTriple = [Number(m[3]), Number(m[2]), Number(m[4])];
    if (m[1] === 'u') uids.push(entry);
    else if (m[1] === 'g') gids.push(entry);
    else fail('CONF_SYNTAX', `invalid ${key}: '${value}' (expecting 'u' or 'g')`);
  }

  // Memory: 64 MiB unless the cgroup limit says otherwise.
  let memoryKiB = 64n * 1024n;
  let hardLimit: number | undefined;
  let softLimit: number | undefined;
  let swapLimit: number | undefined;
  const limit = firstValue(entries, 'lxc.cgroup.memory.limit_in_bytes');
  if (limit !== undefined) {
    memoryKiB = convertLxcSize(limit) / 1024n;
    hardLimit = memoryLimitKiB(memoryKiB);
  }
  const soft = firstValue(entries, 'lxc.cgroup.memory.soft_limit_in_bytes');
  if (soft !== undefined) softLimit = memoryLimitKiB(convertLxcSize(soft) / 1024n);
  const swap = firstValue(entries, 'lxc.cgroup.memory.memsw.limit_in_bytes');
  if (swap !== undefined) swapLimit = memoryLimitKiB(convertLxcSize(swap) / 1024n);

  const shares = firstValue(entries, 'lxc.cgroup.cpu.shares');
  const quota = firstValue(entries, 'lxc.cgroup.cpu.cfs_quota_us');
  const period = firstValue(entries, 'lxc.cgroup.cpu.cfs_period_us');
  const sharesN = shares !== undefined ? toULong(shares, 'integer') : undefined;
  const quotaN = quota !== undefined ? toLong(quota, 'integer') : undefined;
  const periodN = period !== undefined ? toULong(period, 'integer') : undefined;

  const cpus = firstValue(entries, 'lxc.cgroup.cpuset.cpus');
  const mems = firstValue(entries, 'lxc.cgroup.cpuset.mems');

  const blkioWeight = firstValue(entries, 'lxc.cgroup.blkio.weight');
  const blkioWeightN = blkioWeight !== undefined ? toULong(blkioWeight, 'integer') : undefined;
  const devices = blkioDevices(entries);

  const drop = firstValue(entries, 'lxc.cap.drop')?.split(' ') ?? [];

  const w = new XmlWriter();
  w.open('domain', [['type', 'lxc']]);
  w.text('name', name);
  w.text('memory', memoryKiB, [['unit', 'KiB']]);
  if (blkioWeightN !== undefined || devices.length) {
    w.open('blkiotune');
    if (blkioWeightN !== undefined) w.text('weight', blkioWeightN);
    for (const d of devices) {
      w.open('device').text('path', d.path);
      for (const k of BLKIO_ORDER) {
        const v = d.values.find(([x]) => x === k);
        if (v) w.text(k, v[1]);
      }
      w.close('device');
    }
    w.close('blkiotune');
  }
  if (hardLimit !== undefined || softLimit !== undefined || swapLimit !== undefined) {
    w.open('memtune');
    if (hardLimit !== undefined) w.text('hard_limit', hardLimit, [['unit', 'KiB']]);
    if (softLimit !== undefined) w.text('soft_limit', softLimit, [['unit', 'KiB']]);
    if (swapLimit !== undefined) w.text('swap_hard_limit', swapLimit, [['unit', 'KiB']]);
    w.close('memtune');
  }
  w.text('vcpu', 1, [['placement', 'static'], ['cpuset', cpus]]);
  if (sharesN !== undefined || quotaN || periodN) {
    w.open('cputune');
    if (sharesN !== undefined) w.text('shares', sharesN);
    if (periodN) w.text('period', periodN);
    if (quotaN) w.text('quota', quotaN);
    w.close('cputune');
  }
  if (mems !== undefined) w.open('numatune').empty('memory', [['mode', 'strict'], ['nodeset', mems]]).close('numatune');
  w.open('os').text('type', 'exe', [['arch', arch]]).text('init', '/sbin/init').close('os');
  w.open('features');
  // No network entry at all: LXC gives the container only a loopback device.
  if (nets.length === 0) w.empty('privnet');
  w.open('capabilities', [['policy', 'allow']]);
  for (const cap of CAPS) if (drop.includes(cap)) w.empty(cap, [['state', 'off']]);
  w.close('capabilities');
  w.close('features');
  w.text('on_poweroff', 'destroy').text('on_reboot', 'restart').text('on_crash', 'destroy');
  w.open('devices');
  for (const fs of fss) {
    w.open('filesystem', [['type', fs.type], ['accessmode', 'passthrough']]);
    if (fs.type === 'ram') w.empty('source', [['usage', (fs.usage ?? 0n) / 1024n], ['units', 'KiB']]);
    else if (fs.type === 'block') w.empty('source', [['dev', fs.src]]);
    else w.empty('source', [['dir', fs.src]]);
    w.empty('target', [['dir', fs.dst]]);
    if (fs.readonly) w.empty('readonly');
    w.close('filesystem');
  }
  const hostdevs = new XmlWriter(w.indentation);
  for (const net of nets) writeNetwork(w, hostdevs, net);
  w.raw(hostdevs.toString());
  for (let i = 0; i < ttys; i++) w.open('console', [['type', 'pty']]).empty('target', [['type', 'lxc'], ['port', i]]).close('console');
  w.close('devices');
  w.close('domain');
  return { xml: w.toString(), ...(uids.length || gids.length ? { idmap: { uid: uids, gid: gids } } : {}) };
}

export interface FromNativeOptions {
  /** Parser configuration (default: the LXC driver's for this host). */
  config?: DomainParserConfig;
}

/** Converts LXC config text to a domain definition (with a fresh UUID). */
export function lxcConfigToDomainDef(config: string, opts: FromNativeOptions = {}): DomainDef {
  if (typeof config !== 'string') fail('INVALID_ARG', 'the native config must be a string');
  const entries = readLxcConf(config);
  const { xml, idmap } = buildDomainXml(entries);
  const def = parseLxcDomain(xml, { config: opts.config ?? LXC_PARSER_CONFIG, what: 'domain XML converted from the LXC config' });
  if (idmap) {
    const conv = ([start, target, count]: IdmapTriple) => ({ start, target, count });
    def.idmap = { uid: idmap.uid.map(conv), gid: idmap.gid.map(conv) };
  }
  return def;
}

/** Converts LXC config text to domain XML (`virsh domxml-from-native lxc-tools FILE`). */
export function lxcConfigToDomainXml(config: string, opts: FromNativeOptions = {}): string {
  const def = lxcConfigToDomainDef(config, opts);
  return formatLxcDomain(def, { config: opts.config ?? LXC_PARSER_CONFIG });
}

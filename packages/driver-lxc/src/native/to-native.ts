/**
 * Domain definition → LXC container config: what the driver writes to
 * `<lxcpath>/<name>/config` before `lxc-start`, and what
 * `domxml-to-native lxc-tools` prints. Root and extra filesystems, RAM
 * filesystems, memory/CPU/blkio limits (cgroup v1 or v2 keys, whichever
 * hierarchy serves the controller on this host), the user namespace from
 * `<idmap>`, hostname, environment, init directory/user, capabilities,
 * consoles, shared namespaces and the NIC lines.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatIdList, VirtError, type DomainDef } from '@virtkit/core';
import { controllerVersion, sharesToWeight, type CgroupLayout } from '../host/cgroups.js';
import { lxcShares, parseLxcDomain, type LxcShareKind } from '../domain-xml.js';
import { cgroupLayout } from '../host/cgroups.js';

export interface LxcConfigOptions {
  /** This host's cgroup layout (decides lxc.cgroup.* vs lxc.cgroup2.* keys). */
  layout: CgroupLayout;
  /** `lxc.net.*` lines made by prepareNics; without them NICs are written as LXC veth devices. */
  nicLines?: Array<[string, string]>;
  /** Paths of namespaces to join instead of making new ones (`lxc:namespace`), by kind. */
  sharePaths?: Partial<Record<LxcShareKind, string>>;
  /** Console output log (`lxc.console.logfile`). */
  consoleLogFile?: string;
  /** cgroup folder names (`lxc.cgroup.dir.*`) and whether they sit under the caller's cgroup. */
  cgroupDirs?: { container: string; monitor: string; pivot: string; relative: boolean };
  /** Checks that bind-mount sources exist (start time); off for domxml-to-native. */
  checkSources?: boolean;
}

export interface LxcConfig {
  /** The config file text. */
  text: string;
  /** The init command and its arguments (given to lxc-start after `--`). */
  argv: string[];
}

const ORIGIN = { origin: 'lxc' };

function unsupported(def: DomainDef, what: string): never {
  throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': ${what}`, ORIGIN);
}

/** fstab field escaping (getmntent decodes \040, \011, \012, \134). */
function fstabField(s: string): string {
  return s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
}

/** A config value must stay on its line. */
function lineValue(def: DomainDef, key: string, v: string): string {
  if (/[\n\r\0]/.test(v)) unsupported(def, `the value of ${key} cannot contain a line break`);
  return v;
}

/** libvirt's hostname from the domain name: letters, digits and '-', no leading '-'. */
export function containerHostname(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, '').replace(/^-/, '');
}

/** The capabilities dropped by default, as libvirt's LXC driver drops them. */
const DEFAULT_DROPPED_CAPS = ['sys_module', 'sys_time', 'audit_control', 'mac_admin', 'mac_override'];

function capabilityLines(def: DomainDef, lines: Array<[string, string]>): void {
  const caps = def.features?.capabilities;
  const policy = caps?.policy ?? 'default';
  const states = caps?.caps ?? {};
  if (policy === 'deny') {
    const keep = Object.entries(states).filter(([, on]) => on).map(([c]) => c);
    lines.push(['lxc.cap.keep', keep.length ? keep.join(' ') : 'none']);
    return;
  }
  const drop = new Set(policy === 'default' ? DEFAULT_DROPPED_CAPS : []);
  for (const [c, on] of Object.entries(states)) {
    if (on) drop.delete(c);
    else drop.add(c);
  }
  if (drop.size) lines.push(['lxc.cap.drop', [...drop].join(' ')]);
}

/** A uid/gid given by number or by name in the container's /etc/passwd or /etc/group. */
function resolveId(def: DomainDef, rootfs: string | undefined, value: string, kind: 'user' | 'group'): string {
  if (/^[0-9]+$/.test(value)) return value;
  const file = join(rootfs ?? '/', 'etc', kind === 'user' ? 'passwd' : 'group');
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === value && f[2] !== undefined && /^[0-9]+$/.test(f[2])) return f[2];
    }
  } catch {
    /* no such file: not found */
  }
  return unsupported(def, `init ${kind} '${value}' is not a number and not found in ${file}`);
}

function rootFilesystem(def: DomainDef) {
  return def.devices.filesystems.find((f) => f.dst === '/');
}

/** Host path of the container's root directory (undefined: the host's own root). */
export function rootfsDir(def: DomainDef): string | undefined {
  const root = rootFilesystem(def);
  return root && root.type === 'mount' ? root.src : undefined;
}

function cgroupLines(def: DomainDef, layout: CgroupLayout, lines: Array<[string, string]>): void {
  const need = (controller: string, what: string): 1 | 2 => {
    const v = controllerVersion(layout, controller);
    if (!v) unsupported(def, `${what} needs the '${controller}' cgroup controller, which this host does not have`);
    return v;
  };
  const v1Has = (controller: string, file: string) => {
    const mount = layout.v1.get(controller);
    return !!mount && existsSync(join(mount, file));
  };
  const memKiB = def.memtune?.hardLimit ?? def.memory.total;
  const UNLIMITED = 9007199254740991;
  if (memKiB && memKiB < UNLIMITED) {
    const v = need('memory', 'a memory limit');
    lines.push(v === 1 ? ['lxc.cgroup.memory.limit_in_bytes', String(memKiB * 1024)] : ['lxc.cgroup2.memory.max', String(memKiB * 1024)]);
  }
  const soft = def.memtune?.softLimit;
  if (soft !== undefined && soft < UNLIMITED) {
    const v = need('memory', 'a memory soft limit');
    lines.push(v === 1 ? ['lxc.cgroup.memory.soft_limit_in_bytes', String(soft * 1024)] : ['lxc.cgroup2.memory.high', String(soft * 1024)]);
  }
  const swap = def.memtune?.swapHardLimit;
  if (swap !== undefined && swap < UNLIMITED) {
    const v = need('memory', 'a swap limit');
    if (v === 1) {
      if (!v1Has('memory', 'memory.memsw.limit_in_bytes')) unsupported(def, 'a swap limit needs swap accounting (memory.memsw), which this host does not have');
      lines.push(['lxc.cgroup.memory.memsw.limit_in_bytes', String(swap * 1024)]);
    } else lines.push(['lxc.cgroup2.memory.swap.max', String(Math.max(0, swap - (memKiB ?? 0)) * 1024)]);
  }
  const ct = def.cputune;
  if (ct?.shares !== undefined) {
    const v = need('cpu', 'CPU shares');
    lines.push(v === 1 ? ['lxc.cgroup.cpu.shares', String(ct.shares)] : ['lxc.cgroup2.cpu.weight', String(sharesToWeight(ct.shares))]);
  }
  if (ct?.period || ct?.quota) {
    const v = need('cpu', 'a CPU quota');
    if (v === 1) {
      if (ct.period) lines.push(['lxc.cgroup.cpu.cfs_period_us', String(ct.period)]);
      if (ct.quota) lines.push(['lxc.cgroup.cpu.cfs_quota_us', String(ct.quota)]);
    } else lines.push(['lxc.cgroup2.cpu.max', `${ct.quota && ct.quota > 0 ? ct.quota : 'max'} ${ct.period || 100000}`]);
  }
  const cpus = def.vcpu.cpuset;
  if (cpus?.length) {
    const v = need('cpuset', 'CPU pinning (<vcpu cpuset>)');
    lines.push([v === 1 ? 'lxc.cgroup.cpuset.cpus' : 'lxc.cgroup2.cpuset.cpus', formatIdList(cpus)]);
  }
  const nodeset = def.numatune?.memory?.nodeset;
  if (nodeset?.length) {
    const v = need('cpuset', 'memory node binding (<numatune>)');
    lines.push([v === 1 ? 'lxc.cgroup.cpuset.mems' : 'lxc.cgroup2.cpuset.mems', formatIdList(nodeset)]);
  }
  const bw = def.blkiotune?.weight;
  if (bw) {
    const v1 = layout.v1.has('blkio');
    if (v1 && v1Has('blkio', 'blkio.weight')) lines.push(['lxc.cgroup.blkio.weight', String(bw)]);
    else if (v1 && v1Has('blkio', 'blkio.bfq.weight')) lines.push(['lxc.cgroup.blkio.bfq.weight', String(bw)]);
    else if (!v1 && layout.unifiedControllers.has('io')) lines.push(['lxc.cgroup2.io.weight', String(bw)]);
    else unsupported(def, 'a block I/O weight needs a proportional I/O scheduler (blkio.weight), which this host does not have');
  }
  for (const d of def.blkiotune?.devices ?? []) {
    let rdev: number;
    try {
      rdev = Number(statSync(d.path).rdev);
    } catch (err) {
      unsupported(def, `blkiotune device '${d.path}': ${(err as Error).message}`);
    }
    const majmin = `${Math.floor(rdev / 256) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`;
    const v = need(layout.v1.has('blkio') ? 'blkio' : 'io', 'block I/O throttling');
    const pairs: Array<[number | undefined, string, string]> = [
      [d.readBytes, 'blkio.throttle.read_bps_device', 'rbps'],
      [d.writeBytes, 'blkio.throttle.write_bps_device', 'wbps'],
      [d.readIops, 'blkio.throttle.read_iops_device', 'riops'],
      [d.writeIops, 'blkio.throttle.write_iops_device', 'wiops'],
    ];
    for (const [val, v1file, v2key] of pairs) {
      if (!val) continue;
      lines.push(v === 1 ? [`lxc.cgroup.${v1file}`, `${majmin} ${val}`] : ['lxc.cgroup2.io.max', `${majmin} ${v2key}=${val}`]);
    }
  }
}

/** The veth lines a standalone LXC would use for the definition's NICs (domxml-to-native). */
function standaloneNicLines(def: DomainDef): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  def.devices.interfaces.forEach((nic, i) => {
    const key = `lxc.net.${i}`;
    if (nic.type === 'direct') lines.push([`${key}.type`, 'macvlan'], [`${key}.link`, nic.dev ?? ''], [`${key}.macvlan.mode`, nic.mode ?? 'vepa']);
    else {
      lines.push([`${key}.type`, 'veth']);
      if (nic.type === 'bridge' && nic.bridge) lines.push([`${key}.link`, nic.bridge]);
      if (nic.type === 'network' && nic.network) lines.push([`${key}.link`, `${nic.network}`]);
      if (nic.ifname) lines.push([`${key}.veth.pair`, nic.ifname]);
    }
    lines.push([`${key}.hwaddr`, nic.mac]);
    lines.push([`${key}.name`, nic.guestDev ?? `eth${i}`]);
    if (nic.linkState !== 'down') lines.push([`${key}.flags`, 'up']);
    for (const ip of nic.ips) lines.push([`${key}.${ip.family ?? 'ipv4'}.address`, `${ip.address}/${ip.prefix ?? (ip.address.includes(':') ? 64 : 24)}`]);
  });
  return lines;
}

/** Builds the LXC config and init command of a definition. Throws CONFIG_UNSUPPORTED for what LXC cannot do. */
export function buildLxcConfig(def: DomainDef, opts: LxcConfigOptions): LxcConfig {
  const lines: Array<[string, string]> = [];
  const shares = lxcShares(def);
  const sharePaths = opts.sharePaths ?? {};

  // Root file system: a host directory (or block device); none means the host's own.
  const root = rootFilesystem(def);
  const rootfs = rootfsDir(def);
  if (root) {
    if (root.type === 'mount') lines.push(['lxc.rootfs.path', `dir:${lineValue(def, 'lxc.rootfs.path', root.src ?? '')}`]);
    else if (root.type === 'block' && root.src) lines.push(['lxc.rootfs.path', lineValue(def, 'lxc.rootfs.path', root.src)]);
    else unsupported(def, `a root filesystem of type '${root.type}' is not supported (use type='mount' with a directory)`);
    if (root.readonly) lines.push(['lxc.rootfs.options', 'ro']);
    if (opts.checkSources && root.type === 'mount' && !existsSync(root.src ?? '')) unsupported(def, `root filesystem directory '${root.src}' does not exist`);
  }

  if (!shares.some((s) => s.kind === 'shareuts')) {
    const hostname = containerHostname(def.name);
    if (hostname) lines.push(['lxc.uts.name', hostname]);
  }

  // Private /proc and /sys, a /dev of its own with the standard nodes, ptys for consoles.
  lines.push(['lxc.mount.auto', 'proc:mixed sys:ro'], ['lxc.autodev', '1'], ['lxc.pty.max', '1024']);
  const consoles = def.devices.consoles.length;
  lines.push(['lxc.tty.max', String(Math.max(0, consoles - 1))]);
  if (opts.consoleLogFile) lines.push(['lxc.console.logfile', opts.consoleLogFile]);
  lines.push(['lxc.apparmor.profile', 'unconfined']);

  for (const fs of def.devices.filesystems) {
    if (fs === root) continue;
    const ro = fs.readonly ? ',ro' : '';
    const target = fstabField(rootfs ? fs.dst.replace(/^\/+/, '') : fs.dst);
    if (fs.type === 'ram') {
      const size = fs.usage ? `size=${fs.usage}k,` : '';
      lines.push(['lxc.mount.entry', `tmpfs ${target} tmpfs ${size}mode=0755,create=dir${ro} 0 0`]);
    } else if (fs.type === 'mount' || fs.type === 'bind') {
      if (!fs.src) unsupported(def, `filesystem '${fs.dst}' has no source directory`);
      const src = fs.type === 'bind' && rootfs ? join(rootfs, fs.src) : fs.src;
      let isDir = true;
      if (opts.checkSources) {
        try {
          isDir = statSync(src).isDirectory();
        } catch (err) {
          unsupported(def, `filesystem source '${src}' for '${fs.dst}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
        }
      }
      lines.push(['lxc.mount.entry', `${fstabField(src)} ${target} none bind,create=${isDir ? 'dir' : 'file'}${ro} 0 0`]);
    } else unsupported(def, `filesystem type '${fs.type}' (for '${fs.dst}') is not supported; use mount, bind or ram`);
  }

  // User namespace: <idmap> start = container id, target = host id.
  for (const m of def.idmap?.uid ?? []) lines.push(['lxc.idmap', `u ${m.start} ${m.target} ${m.count}`]);
  for (const m of def.idmap?.gid ?? []) lines.push(['lxc.idmap', `g ${m.start} ${m.target} ${m.count}`]);
  if ((def.idmap?.uid.length ?? 0) !== (def.idmap?.gid.length ?? 0) && (!def.idmap?.uid.length || !def.idmap?.gid.length)) {
    unsupported(def, '<idmap> needs both uid and gid maps');
  }

  // Network: none at all shares the host's network (as libvirt's LXC driver does); privnet gives only loopback.
  const kinds: Array<[LxcShareKind, string]> = [['sharenet', 'net'], ['shareipc', 'ipc'], ['shareuts', 'uts']];
  for (const [kind, ns] of kinds) {
    const s = shares.find((x) => x.kind === kind);
    if (!s) continue;
    const path = sharePaths[kind] ?? (s.type === 'pid' ? `/proc/${s.value}/ns/${ns}` : s.type === 'netns' ? `/run/netns/${s.value}` : s.value);
    lines.push([`lxc.namespace.share.${ns}`, lineValue(def, 'lxc.namespace.share', path)]);
  }
  const nicLines = opts.nicLines ?? standaloneNicLines(def);
  const netHostdevs = def.devices.hostdevs.some((h) => h.mode === 'capabilities' && h.type === 'net');
  if (shares.some((s) => s.kind === 'sharenet')) {
    if (nicLines.length) unsupported(def, 'a container that shares another network namespace cannot have interfaces of its own');
  } else if (nicLines.length) lines.push(...nicLines.map(([k, v]) => [k, lineValue(def, k, v)] as [string, string]));
  else if (def.features?.states.privnet || netHostdevs) lines.push(['lxc.net.0.type', 'empty']);
  else lines.push(['lxc.net.0.type', 'none']);

  cgroupLines(def, opts.layout, lines);
  if (opts.cgroupDirs) {
    lines.push(['lxc.cgroup.relative', opts.cgroupDirs.relative ? '1' : '0']);
    lines.push(['lxc.cgroup.dir.container', opts.cgroupDirs.container], ['lxc.cgroup.dir.monitor', opts.cgroupDirs.monitor]);
    lines.push(['lxc.cgroup.dir.monitor.pivot', opts.cgroupDirs.pivot]);
  }
  capabilityLines(def, lines);

  // Init: environment as libvirt's LXC driver gives it, then the definition's.
  const env: Array<[string, string]> = [
    ['PATH', '/bin:/usr/bin:/sbin:/usr/sbin'],
    ['container', 'lxc-libvirt'],
    ['container_uuid', def.uuid],
    ['LIBVIRT_LXC_UUID', def.uuid],
    ['LIBVIRT_LXC_NAME', def.name],
  ];
  if (consoles > 1) env.push(['container_ttys', Array.from({ length: consoles - 1 }, (_, i) => `pts/${i + 1}`).join(' ')]);
  for (const e of def.os.initenv) env.push([e.name, e.value]);
  for (const [k, v] of env) lines.push(['lxc.environment', lineValue(def, 'lxc.environment', `${k}=${v}`)]);
  if (def.os.initdir) lines.push(['lxc.init.cwd', lineValue(def, 'lxc.init.cwd', def.os.initdir)]);
  if (def.os.inituser) lines.push(['lxc.init.uid', resolveId(def, rootfs, def.os.inituser, 'user')]);
  if (def.os.initgroup) lines.push(['lxc.init.gid', resolveId(def, rootfs, def.os.initgroup, 'group')]);

  const init = def.os.init ?? '/sbin/init';
  const argv = [init, ...def.os.initargs];
  // lxc.init.cmd is informational here (LXC splits it on blanks); lxc-start gets argv itself.
  if (argv.every((a) => a !== '' && !/\s/.test(a))) lines.push(['lxc.init.cmd', argv.join(' ')]);

  const text = `# Written by virtkit for domain '${def.name.replace(/[\n\r]/g, ' ')}' (${def.uuid}); changes are overwritten at start.\n${lines.map(([k, v]) => `${k} = ${v}`).join('\n')}\n`;
  return { text, argv };
}

/**
 * `domxml-to-native lxc-tools`: the LXC config a standalone LXC would use
 * for a definition on this host (NICs as LXC veth devices; the init
 * command as a comment when it has arguments LXC's lxc.init.cmd cannot hold).
 */
export async function lxcDomainXmlToConfig(xml: string): Promise<string> {
  const def = parseLxcDomain(xml);
  const cfg = buildLxcConfig(def, { layout: await cgroupLayout() });
  const initLine = cfg.text.includes('\nlxc.init.cmd = ') ? '' : `# init command (give it to lxc-start after --): ${JSON.stringify(cfg.argv)}\n`;
  return cfg.text + initLine;
}

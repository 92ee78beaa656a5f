/**
 * xl.cfg → domain definition, step by step as libvirt's xenParseXL
 * (src/libxl/xen_xl.c) and xenParseConfigCommon (src/libxl/xen_common.c)
 * build it, followed by the generic post-parse with the Xen driver's hooks.
 */
import {
  emptyDevices, generateUuid, parseConf, parseIdList, parseUuid, postParseDomain, VirtError,
  type BootDevice, type ChrDef, type ControllerDef, type CpuDef, type DiskDef, type DomainDef,
  type DomainParserConfig, type GraphicsDef, type HostdevDef, type LifecycleAction, type NumaCell,
  type OsType, type SoundDef, type TimerDef,
} from '@virtkit/core';
import { XlConfReader, confError } from './conf-access.js';
import { parseCharSpec } from './char-spec.js';
import { cpuFeatureFromLibxl } from './cpuid.js';
import { parseXlDiskSpec } from './disk-spec.js';
import { type XenGuestCaps } from './parser-config.js';
import { parseRbdColonString } from './rbd.js';
import { parseVif } from './vif.js';
import { setXenNamespaceData } from './xen-namespace.js';

export interface XlParseOptions {
  guests: XenGuestCaps[];
  firmwareDir: string;
  /** The host CPU's hardware virtualisation flag, for `nestedhvm = 0` (vmx or svm). */
  hwVirtFeature: 'vmx' | 'svm';
  config: DomainParserConfig;
}

const LIFECYCLE: readonly LifecycleAction[] = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'];
const SOUND_MODELS = ['sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'ich7', 'virtio'];
/** libvirt's MIN_XEN_GUEST_SIZE (MiB); a config without `memory` gets twice that. */
const MIN_XEN_GUEST_SIZE = 64;

function emptyDef(): DomainDef {
  return {
    type: 'xen', id: -1, name: '', uuid: '',
    memory: { total: 0, current: 0 },
    vcpu: { max: 1, current: 1, placement: 'static' },
    iothreads: 0, iothreadids: [],
    os: { type: 'xen', initargs: [], initenv: [], bootDevs: [] },
    clock: { offset: 'utc', timers: [] },
    lifecycle: { onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy' },
    devices: emptyDevices(),
    seclabels: [],
  };
}

function features(def: DomainDef) {
  return (def.features ??= { states: {} });
}

function parseGeneralMeta(c: XlConfReader, def: DomainDef, opts: XlParseOptions): void {
  def.name = c.requiredString('name');
  const uuid = c.string('uuid');
  if (uuid === undefined) def.uuid = generateUuid();
  else if (uuid === '') throw confError("uuid can't be empty");
  else {
    try {
      def.uuid = parseUuid(uuid);
    } catch {
      throw confError(`${uuid} not parseable`);
    }
  }
  let osType: OsType = 'xen';
  let type: string | undefined;
  try {
    type = c.string('type');
  } catch {
    type = undefined; // a non-string `type` falls back to `builder`, as in libvirt
  }
  if (type !== undefined) {
    if (type === 'pv') osType = 'xen';
    else if (type === 'pvh') osType = 'xenpvh';
    else if (type === 'hvm') osType = 'hvm';
    else throw new VirtError('CONFIG_UNSUPPORTED', `xl.cfg: type ${type} is not supported`, { origin: 'xen' });
  } else if (c.string('builder', 'linux') === 'hvm') osType = 'hvm';
  def.os.type = osType;
  const guest = opts.guests.find((g) => g.osType === osType);
  if (!guest) throw new VirtError('CONFIG_UNSUPPORTED', `xl.cfg: no guest of os type '${osType}' on this Xen host`, { origin: 'xen' });
  def.os.arch = guest.arch;
  def.os.machine = guest.machine;
}

function parseMem(c: XlConfReader, def: DomainDef): void {
  const cur = c.ulong('memory', MIN_XEN_GUEST_SIZE * 2);
  const max = c.ulong('maxmem', cur);
  def.memory.current = cur * 1024;
  def.memory.total = max * 1024;
}

function parseEventsActions(c: XlConfReader, def: DomainDef): void {
  const action = (name: string, dflt: LifecycleAction): LifecycleAction => {
    const v = c.string(name, dflt)!;
    if (!(LIFECYCLE as readonly string[]).includes(v)) throw confError(`unexpected value ${v} for ${name}`);
    return v as LifecycleAction;
  };
  def.lifecycle.onPoweroff = action('on_poweroff', 'destroy');
  def.lifecycle.onReboot = action('on_reboot', 'restart');
  def.lifecycle.onCrash = action('on_crash', 'restart');
}

function parseCpu(c: XlConfReader, def: DomainDef): void {
  const count = c.ulong('vcpus', 1);
  if (count < 1) throw confError(`domain '${def.name}': vcpus must be at least 1`);
  def.vcpu.max = count;
  def.vcpu.current = count;
  if (c.has('maxvcpus')) {
    const max = c.ulong('maxvcpus', 0);
    if (max < 1) throw confError(`domain '${def.name}': maxvcpus must be at least 1`);
    def.vcpu.max = max;
    if (def.vcpu.current > max) def.vcpu.current = max;
  }
  const cpus = c.string('cpus');
  if (cpus !== undefined) {
    try {
      def.vcpu.cpuset = parseIdList(cpus, 'cpus', 4095);
    } catch {
      throw confError(`Failed to parse bitmap '${cpus}'`);
    }
  }
}

function parseHypervisorFeatures(c: XlConfReader, def: DomainDef): void {
  const tsc = c.string('tsc_mode');
  if (tsc !== undefined) {
    const t: TimerDef = { name: 'tsc', present: true, mode: 'auto' };
    if (tsc === 'always_emulate') t.mode = 'emulate';
    else if (tsc === 'native') t.mode = 'native';
    else if (tsc === 'native_paravirt') t.mode = 'paravirt';
    def.clock.timers.push(t);
  }
  const pt = c.string('passthrough');
  if (pt !== undefined) {
    const f = features(def);
    if (pt === 'disabled') {
      f.states.xen = false;
    } else if (pt === 'enabled' || pt === 'sync_pt' || pt === 'share_pt') {
      f.states.xen = true;
      f.xen = { ...f.xen, passthrough: true };
      if (pt !== 'enabled') f.xen.passthroughMode = pt;
    } else throw confError(`Invalid passthrough mode ${pt}`);
  }
  if (def.os.type === 'hvm') {
    const f = features(def);
    if (c.bool('pae', 1)) f.states.pae = true;
    if (c.bool('acpi', 1)) f.states.acpi = true;
    if (c.bool('apic', 1)) f.states.apic = true;
    if (!c.bool('hap', 1)) f.states.hap = false;
    if (c.bool('viridian', 0)) f.states.viridian = true;
    const hpet = c.bool('hpet', -1);
    if (hpet !== -1) def.clock.timers.push({ name: 'hpet', present: hpet === 1 });
  } else if (c.bool('e820_host', 0)) {
    const f = features(def);
    f.states.xen = true;
    f.xen = { ...f.xen, e820Host: true };
  }
  if (def.features && Object.keys(def.features.states).length === 0 && !def.features.xen) delete def.features;
}

function parseTimeOffset(c: XlConfReader, def: DomainDef): void {
  const localtime = c.bool('localtime', 0);
  if (def.os.type === 'hvm') {
    def.clock.offset = 'variable';
    // libvirt reads the offset as unsigned long and keeps it as an int.
    def.clock.adjustment = c.ulong('rtc_timeoffset', 0) | 0;
    def.clock.basis = localtime ? 'localtime' : 'utc';
  } else {
    def.clock.offset = localtime ? 'localtime' : 'utc';
    def.clock.reset = true;
  }
}

function parseHex(s: string, what: string): number {
  if (!/^\s*[+]?(0[xX])?[0-9a-fA-F]+$/.test(s)) throw confError(`Malformed PCI address ${what}`);
  return parseInt(s.trim().replace(/^\+/, ''), 16);
}

/** `[DDDD:]BB:SS.F[,permissive=N]` (xenParsePCI). */
function parsePci(entry: string): HostdevDef {
  const parts = entry.split(':');
  const tokens = parts.length > 3 ? [parts[0]!, parts[1]!, parts.slice(2).join(':')] : parts;
  let next = 0;
  let domain = 0;
  if (tokens.length === 3) domain = parseHex(tokens[next++]!, entry);
  if (tokens.length < 2) throw confError(`Malformed PCI address ${entry}`);
  const bus = parseHex(tokens[next++]!, entry);
  const rest = tokens[next]!;
  const dot = rest.indexOf('.');
  if (dot < 0) throw confError(`Malformed PCI address ${rest}`);
  const slot = parseHex(rest.slice(0, dot), entry);
  const after = rest.slice(dot + 1);
  const comma = after.indexOf(',');
  const func = parseHex(comma >= 0 ? after.slice(0, comma) : after, entry);
  const h: HostdevDef = {
    mode: 'subsystem', type: 'pci', managed: false,
    pciAddress: { type: 'pci', domain, bus, slot, function: func },
    info: {},
  };
  if (comma >= 0) {
    const optStr = after.slice(comma + 1);
    for (const o of optStr.split(',')) {
      const eq = o.indexOf('=');
      if (eq < 0) throw confError(`Malformed PCI options ${optStr}`);
      if (o.slice(0, eq) === 'permissive') {
        const v = o.slice(eq + 1);
        if (!/^\s*[+-]?[0-9]+$/.test(v)) throw confError(`Malformed PCI options ${optStr}`);
        // xl.cfg(5): permissive=0 keeps config-space writes filtered.
        h.writeFiltering = Number(v) === 0;
      }
    }
  }
  return h;
}

function parseSound(def: DomainDef, str: string): void {
  if (str === 'all') {
    // Only the two models Xen's old QEMU had (libvirt's compatibility code).
    def.devices.sounds.push({ model: 'sb16', codecs: [], info: {} }, { model: 'es1370', codecs: [], info: {} });
    return;
  }
  for (const m of str.split(',')) {
    if (!SOUND_MODELS.includes(m)) throw confError(`unknown sound model '${m}' in soundhw`);
    const sound: SoundDef = { model: m, codecs: [], info: {} };
    def.devices.sounds.push(sound);
  }
}

function vncGraphics(): GraphicsDef {
  return { type: 'vnc', listens: [] };
}

function parseVfb(c: XlConfReader, def: DomainDef): void {
  const hvm = def.os.type === 'hvm';
  if (hvm) {
    if (c.bool('vnc', 0)) {
      const g = vncGraphics();
      g.autoport = c.bool('vncunused', 1) === 1;
      if (!g.autoport) g.port = c.ulong('vncdisplay', 0) + 5900;
      const listen = c.string('vnclisten');
      g.listens.push(listen !== undefined ? { type: 'address', address: listen } : { type: 'address' });
      const pw = c.string('vncpasswd');
      if (pw !== undefined) g.auth = { passwd: pw };
      const km = c.string('keymap');
      if (km !== undefined) g.keymap = km;
      def.devices.graphics.push(g);
    } else if (c.bool('sdl', 0)) {
      const g: GraphicsDef = { type: 'sdl', listens: [] };
      const d = c.string('display');
      if (d !== undefined) g.display = d;
      const x = c.string('xauthority');
      if (x !== undefined) g.xauth = x;
      def.devices.graphics.push(g);
    }
  }
  if (!hvm && def.devices.graphics.length === 0) {
    const vfbs = c.stringList('vfb');
    if (vfbs && vfbs.length > 0) {
      const vfb = vfbs[0]!;
      const sdl = vfb.includes('type=sdl');
      const g: GraphicsDef = sdl ? { type: 'sdl', listens: [] } : vncGraphics();
      let listen: string | undefined;
      let rest: string | undefined = vfb;
      while (rest !== undefined) {
        const comma: number = rest.indexOf(',');
        const key = comma >= 0 ? rest.slice(0, comma) : rest;
        let next: string | undefined = comma >= 0 ? rest.slice(comma + 1) : undefined;
        if (!key.includes('=')) break;
        if (!sdl) {
          if (key.startsWith('vncunused=')) {
            if (key.slice(10) === '1') g.autoport = true;
          } else if (key.startsWith('vnclisten=')) listen = key.slice(10);
          else if (key.startsWith('vncpasswd=')) g.auth = { passwd: key.slice(10) };
          else if (key.startsWith('keymap=')) g.keymap = key.slice(7);
          else if (key.startsWith('vncdisplay=')) {
            const v = key.slice(11);
            if (!/^\s*[+-]?[0-9]+$/.test(v)) throw confError(`invalid vncdisplay value '${v}'`);
            g.port = Number(v) + 5900;
          }
        } else if (key.startsWith('display=')) g.display = key.slice(8);
        else if (key.startsWith('xauthority=')) g.xauth = key.slice(11);
        while (next !== undefined && /^[, \t]/.test(next)) next = next.slice(1);
        rest = next;
      }
      if (!sdl) g.listens.push(listen !== undefined ? { type: 'address', address: listen } : { type: 'address' });
      def.devices.graphics.push(g);
    }
  }
}

function chr(deviceType: ChrDef['deviceType'], spec: string, port: number): ChrDef {
  return { deviceType, source: parseCharSpec(spec), port, info: {} };
}

function parseCharDev(c: XlConfReader, def: DomainDef): void {
  if (def.os.type === 'hvm') {
    const parallel = c.string('parallel');
    if (parallel !== undefined && parallel !== 'none') def.devices.parallels.push(chr('parallel', parallel, 0));
    const serials = c.stringList('serial');
    if (serials) {
      serials.forEach((s, port) => {
        if (s !== 'none') def.devices.serials.push(chr('serial', s, port));
      });
    } else {
      const serial = c.string('serial');
      if (serial !== undefined && serial !== 'none') def.devices.serials.push(chr('serial', serial, 0));
    }
  } else {
    def.devices.consoles.push({ deviceType: 'console', source: { type: 'pty' }, targetType: 'xen', port: 0, info: {} });
  }
}

function parseCommon(c: XlConfReader, def: DomainDef, opts: XlParseOptions): void {
  parseGeneralMeta(c, def, opts);
  parseMem(c, def);
  parseEventsActions(c, def);
  parseCpu(c, def);
  parseHypervisorFeatures(c, def);
  parseTimeOffset(c, def);
  const dm = c.string('device_model_override');
  if (dm !== undefined) def.devices.emulator = dm;
  const vif = c.get('vif');
  if (vif?.type === 'list') {
    for (const item of vif.items) if (item.type === 'string') def.devices.interfaces.push(parseVif(item.value, 'vif'));
  }
  for (const p of c.stringList('pci') ?? []) def.devices.hostdevs.push(parsePci(p));
  if (def.os.type === 'hvm') {
    const snd = c.string('soundhw');
    if (snd !== undefined) parseSound(def, snd);
  }
  parseVfb(c, def);
  parseCharDev(c, def);
}

/** `cmdline`, else `root=` + `extra` (xenParseCmdline). */
function parseCmdline(c: XlConfReader): string | undefined {
  const cmdline = c.string('cmdline');
  const root = c.string('root');
  const extra = c.string('extra');
  if (cmdline !== undefined) return cmdline;
  if (root !== undefined && extra !== undefined) return `root=${root} ${extra}`;
  if (root !== undefined) return `root=${root}`;
  return extra;
}

function parseOs(c: XlConfReader, def: DomainDef, opts: XlParseOptions): void {
  const os = def.os;
  if (os.type === 'hvm') {
    const bios = c.string('bios');
    const biosPath = c.string('bios_path_override');
    if (bios === 'ovmf') {
      os.loader = { type: 'pflash', readonly: true, path: biosPath ?? `${opts.firmwareDir}/ovmf.bin` };
    } else {
      const g = opts.guests.find((x) => x.osType === 'hvm' && x.arch === os.arch);
      if (g?.loader) os.loader = { type: 'rom', path: g.loader };
    }
    const slic = c.string('acpi_firmware');
    if (slic !== undefined) os.slicTable = slic;
    const kernel = c.string('kernel');
    if (kernel !== undefined) os.kernel = kernel;
    const ramdisk = c.string('ramdisk');
    if (ramdisk !== undefined) os.initrd = ramdisk;
    const cmdline = parseCmdline(c);
    if (cmdline !== undefined) os.cmdline = cmdline;
    const boot = c.string('boot', 'c')!;
    const devs: BootDevice[] = [];
    for (const ch of boot.slice(0, 4)) devs.push(ch === 'a' ? 'fd' : ch === 'd' ? 'cdrom' : ch === 'n' ? 'network' : 'hd');
    os.bootDevs = devs;
    const nested = c.bool('nestedhvm', -1);
    if (nested !== -1) {
      def.cpu ??= { mode: 'host-passthrough', features: [] };
      if (nested === 0) def.cpu.features.push({ name: opts.hwVirtFeature, policy: 'disable' });
    }
  } else {
    const bl = c.string('bootloader');
    if (bl !== undefined) os.bootloader = bl;
    const ba = c.string('bootargs');
    if (ba !== undefined) os.bootloaderArgs = ba;
    const kernel = c.string('kernel');
    if (kernel !== undefined) os.kernel = kernel;
    const ramdisk = c.string('ramdisk');
    if (ramdisk !== undefined) os.initrd = ramdisk;
    const cmdline = parseCmdline(c);
    if (cmdline !== undefined) os.cmdline = cmdline;
  }
}

/** `vnuma = [ [ "pnode=0", "size=2048", "vcpus=0-1", "vdistances=10,20" ], … ]` (xenParseXLVnuma). */
function parseVnuma(c: XlConfReader, def: DomainDef): void {
  const list = c.get('vnuma');
  if (!list || list.type !== 'list') return;
  let nrNodes = 0;
  for (const v of list.items) {
    if (v.type !== 'list') break;
    nrNodes++;
  }
  const cells: NumaCell[] = [];
  let vcpus = 0;
  list.items.forEach((vnode, idx) => {
    let pnode = -1;
    let cpus: number[] | undefined;
    let memory = 0;
    const cell: NumaCell = { id: idx, memory: 0 };
    if (vnode.type === 'list') {
      for (const item of vnode.items) {
        if (item.type !== 'string') break;
        const str = item.value;
        const eq = str.lastIndexOf('=');
        if (eq < 0) throw new VirtError('INTERNAL_ERROR', `xl.cfg: vnuma vnode invalid format '${str}'`, { origin: 'xen' });
        const data = str.slice(eq + 1);
        if (!data) continue;
        if (str.startsWith('pnode')) {
          const id = /^[0-9]+$/.test(data) ? Number(data) : -1;
          if (id < 0 || id >= nrNodes) {
            throw new VirtError('CONFIG_UNSUPPORTED', `xl.cfg: vnuma vnode ${idx} contains invalid pnode value '${data}'`, { origin: 'xen' });
          }
          pnode = id;
        } else if (str.startsWith('size')) {
          if (!/^[0-9]+$/.test(data)) throw confError(`vnuma vnode ${idx}: invalid size '${data}'`);
          memory = Number(data);
          cell.memory = memory * 1024;
        } else if (str.startsWith('vcpus')) {
          try {
            cpus = parseIdList(data, 'vnuma vcpus', 4095);
          } catch {
            throw confError(`vnuma vnode ${idx}: invalid vcpus '${data}'`);
          }
          cell.cpus = cpus;
          vcpus += cpus.length;
        } else if (str.startsWith('vdistances')) {
          const tokens = data.split(',');
          if (tokens.length !== nrNodes) {
            throw new VirtError('CONFIG_UNSUPPORTED', `xl.cfg: vnuma pnode ${pnode} configured '${str}' (count ${tokens.length}) doesn't fit the number of specified vnodes ${nrNodes}`, { origin: 'xen' });
          }
          cell.distances = tokens.map((t, i) => {
            if (!/^[0-9]+$/.test(t)) throw confError(`vnuma vnode ${idx}: invalid distance '${t}'`);
            return { id: i, value: Number(t) };
          });
        } else throw confError(`Invalid vnuma configuration for vnode ${idx}`);
      }
    }
    if (pnode < 0 || !cpus || memory === 0) throw confError(`Incomplete vnuma configuration for vnode ${idx}`);
    cells.push(cell);
  });
  if (def.vcpu.max < vcpus) {
    throw new VirtError('CONFIG_UNSUPPORTED', `xl.cfg: vnuma configuration contains ${vcpus} vcpus, which is greater than ${def.vcpu.max} maxvcpus`, { origin: 'xen' });
  }
  // libvirt replaces any CPU definition made so far with a plain one holding the cells.
  const cpu: CpuDef = { mode: 'custom', features: [] };
  if (cells.length) cpu.numa = { cells };
  def.cpu = cpu;
}

function parseXenbusLimits(c: XlConfReader, def: DomainDef): void {
  let bus = def.devices.controllers.find((x) => x.type === 'xenbus');
  if (!bus) {
    let idx = 0;
    while (def.devices.controllers.some((x) => x.type === 'xenbus' && x.index === idx)) idx++;
    bus = { type: 'xenbus', index: idx, info: {} };
    def.devices.controllers.push(bus);
  }
  const ev = c.ulong('max_event_channels', 0);
  if (ev > 0) bus.maxEventChannels = ev;
  const gf = c.ulong('max_grant_frames', 0);
  if (gf > 0) bus.maxGrantFrames = gf;
}

/** `cpuid = "host,feature=1,…"` in libxl's syntax (xenParseXLCPUID). */
function parseCpuid(c: XlConfReader, def: DomainDef): void {
  const s = c.string('cpuid');
  if (s === undefined) return;
  def.cpu ??= { mode: 'host-passthrough', features: [] };
  const pairs = s.split(',');
  if (pairs.length === 0 || (pairs.length === 1 && pairs[0] === '')) return;
  if (pairs[0] !== 'host') throw confError(`cpuid starting with ${pairs[0]} is not supported, only libxl format is`);
  for (const p of pairs.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) throw confError(`Invalid libxl cpuid key=value element: ${p}`);
    const v = p.slice(eq + 1);
    let policy: CpuDef['features'][number]['policy'];
    if (v === '1') policy = 'force';
    else if (v === '0') policy = 'disable';
    else if (v === 'x' || v === 'k' || v === 's') policy = 'optional';
    else throw confError(`Invalid libxl cpuid value: ${p}`);
    def.cpu.features.push({ name: cpuFeatureFromLibxl(p.slice(0, eq)), policy });
  }
}

const DISK_FORMATS: Record<string, string | undefined> = { qcow: 'qcow', qcow2: 'qcow2', vhd: 'vhd', raw: 'raw', qed: 'qed', empty: undefined };

function parseDisks(c: XlConfReader, def: DomainDef): void {
  const list = c.get('disk');
  if (!list || list.type !== 'list') return;
  for (const item of list.items) {
    if (item.type !== 'string') continue;
    const x = parseXlDiskSpec(item.value);
    const vdev = x.vdev!;
    const disk: DiskDef = { device: 'disk', src: { type: 'file' }, dst: vdev, driver: {}, info: {} };
    if (x.target !== undefined && x.target !== '') {
      if (x.target.startsWith('rbd:')) disk.src = parseRbdColonString(x.target.replace(/\\\\/g, '\\'));
      else disk.src.path = x.target;
    }
    if (!x.readwrite) disk.readonly = true;
    if (x.removable) disk.removable = true;
    if (x.isCdrom) {
      disk.driver.name = 'qemu';
      disk.src.type = 'file';
      disk.device = 'cdrom';
      if (disk.src.path) disk.src.format = 'raw';
    } else {
      if (!(x.format in DISK_FORMATS)) throw new VirtError('CONFIG_UNSUPPORTED', `xl.cfg: disk image format not supported: ${x.format}`, { origin: 'xen' });
      const f = DISK_FORMATS[x.format];
      if (f) disk.src.format = f;
      switch (x.backend) {
        case 'qdisk':
        case 'unknown':
          disk.driver.name = 'qemu';
          break;
        case 'tap':
          disk.driver.name = 'tap';
          disk.src.type = 'file';
          break;
        case 'phy':
          disk.driver.name = 'phy';
          disk.src.type = 'block';
          break;
        default:
          throw new VirtError('CONFIG_UNSUPPORTED', `xl.cfg: disk backend not supported: ${x.backend}`, { origin: 'xen' });
      }
    }
    if (vdev.startsWith('xvd') || def.os.type !== 'hvm') disk.bus = 'xen';
    else if (vdev.startsWith('sd')) disk.bus = 'scsi';
    else disk.bus = 'ide';
    def.devices.disks.push(disk);
  }
}

function parseSpice(c: XlConfReader, def: DomainDef): void {
  if (def.os.type !== 'hvm' || !c.bool('spice', 0)) return;
  const host = c.string('spicehost');
  const g: GraphicsDef = { type: 'spice', listens: [host !== undefined ? { type: 'address', address: host } : { type: 'address' }] };
  g.tlsPort = c.ulong('spicetls_port', 0) | 0;
  g.port = c.ulong('spiceport', 0) | 0;
  g.autoport = !g.tlsPort && !g.port;
  if (!c.bool('spicedisable_ticketing', 0)) g.auth = { passwd: c.requiredString('spicepasswd') };
  g.mouseMode = c.bool('spiceagent_mouse', 0) ? 'client' : 'server';
  g.copypaste = c.bool('spice_clipboard_sharing', 0) === 1;
  // SPICE replaces whatever VNC/SDL display was configured (libvirt keeps one graphics device).
  def.devices.graphics = [g];
}

function parseInputDevs(c: XlConfReader, def: DomainDef): void {
  if (def.os.type !== 'hvm') return;
  const v = c.get('usbdevice');
  if (!v) return;
  const items = v.type === 'list' ? v.items : [v];
  for (const it of items) {
    if (it.type !== 'string') throw new VirtError('INTERNAL_ERROR', 'xl.cfg: config value usbdevice was malformed', { origin: 'xen' });
    const t = it.value === 'mouse' ? 'mouse' : it.value === 'tablet' ? 'tablet' : it.value === 'keyboard' ? 'keyboard' : undefined;
    if (t) def.devices.inputs.push({ type: t, bus: 'usb', info: {} });
  }
}

/** Walks `key=value,key=value` as the usbdev/usbctrl/channel parsers do; returns false when a key has no `=`. */
function eachKey(spec: string, fn: (key: string, value: string) => void): boolean {
  let rest: string | undefined = spec;
  while (rest !== undefined) {
    const comma: number = rest.indexOf(',');
    const key = comma >= 0 ? rest.slice(0, comma) : rest;
    let next: string | undefined = comma >= 0 ? rest.slice(comma + 1) : undefined;
    const eq = key.indexOf('=');
    if (eq < 0) return false;
    fn(key, key.slice(eq + 1));
    while (next !== undefined && /^[, \t]/.test(next)) next = next.slice(1);
    rest = next;
  }
  return true;
}

function hex(s: string): number | undefined {
  return /^\s*[+-]?(0[xX])?[0-9a-fA-F]+$/.test(s) ? parseInt(s.trim(), 16) : undefined;
}

function parseUsb(c: XlConfReader, def: DomainDef): void {
  for (const spec of c.stringItems('usbdev')) {
    let bus = 0;
    let device = 0;
    let ok = true;
    ok = eachKey(spec, (key, value) => {
      if (key.startsWith('hostbus=')) {
        const v = hex(value);
        if (v === undefined) ok = false;
        else bus = v;
      } else if (key.startsWith('hostaddr=')) {
        const v = hex(value);
        if (v === undefined) ok = false;
        else device = v;
      }
    }) && ok;
    if (!ok) continue;
    def.devices.hostdevs.push({ mode: 'subsystem', type: 'usb', managed: false, usbBus: bus, usbDevice: device, info: {} });
  }
}

function parseUsbController(c: XlConfReader, def: DomainDef): void {
  for (const spec of c.stringItems('usbctrl')) {
    let version = 2;
    let ports = 8;
    let ok = true;
    ok = eachKey(spec, (key, value) => {
      if (key.startsWith('type=')) {
        if (!value.startsWith('qusb')) ok = false;
      } else if (key.startsWith('version=')) {
        const v = hex(value);
        if (v === undefined) ok = false;
        else version = v;
      } else if (key.startsWith('ports=')) {
        const v = hex(value);
        if (v === undefined) ok = false;
        else ports = v;
      }
    }) && ok;
    if (!ok) continue;
    const ctl: ControllerDef = { type: 'usb', index: -1, model: version === 1 ? 'qusb1' : 'qusb2', ports, info: {} };
    def.devices.controllers.push(ctl);
  }
}

function parseChannels(c: XlConfReader, def: DomainDef): void {
  for (const spec of c.stringItems('channel')) {
    let type: string | undefined;
    let name: string | undefined;
    let path: string | undefined;
    const ok = eachKey(spec, (key, value) => {
      if (key.startsWith('connection=')) type = value;
      else if (name === undefined && key.startsWith('name=')) name = value;
      else if (path === undefined && key.startsWith('path=')) path = value;
    });
    if (!ok) continue;
    const ch: ChrDef = { deviceType: 'channel', source: { type: 'pty' }, targetType: 'xen', port: -1, info: {} };
    if (type?.startsWith('socket')) ch.source = { type: 'unix', listen: true, ...(path !== undefined ? { path } : {}) };
    else if (type?.startsWith('pty')) ch.source = { type: 'pty' };
    else throw confError(`channel '${spec}': unsupported connection type '${type ?? ''}'`);
    if (name !== undefined) ch.name = name;
    def.devices.channels.push(ch);
  }
}

function parseNamespaceData(c: XlConfReader, def: DomainDef): void {
  const v = c.get('device_model_args');
  if (!v || v.type !== 'list') return;
  const args = v.items.filter((x) => x.type === 'string').map((x) => (x as { value: string }).value);
  if (args.length) setXenNamespaceData(def, { args });
}

/** Builds a domain definition from xl.cfg text, as libvirt's domxml-from-native xen-xl does. */
export function xlConfigToDomainDef(text: string, opts: XlParseOptions): DomainDef {
  const c = new XlConfReader(parseConf(text, { filename: 'xl.cfg' }));
  const def = emptyDef();
  parseCommon(c, def, opts);
  parseOs(c, def, opts);
  parseVnuma(c, def);
  parseXenbusLimits(c, def);
  parseCpuid(c, def);
  parseDisks(c, def);
  parseSpice(c, def);
  parseInputDevs(c, def);
  parseUsb(c, def);
  parseUsbController(c, def);
  parseChannels(c, def);
  parseNamespaceData(c, def);
  postParseDomain(def, { inactive: false, config: opts.config, opts: { abiUpdate: true, config: opts.config } });
  return def;
}

/**
 * The generic post-parse libvirt runs on every domain (domain_postparse.c):
 * controller indexes, device defaults that do not depend on the hypervisor,
 * implicit controllers, console compatibility, memory totals — with the
 * driver's hooks called at the same points as libvirt's callbacks.
 */
import { VirtError } from '../../errors.js';
import type { ParseContext } from './context.js';
import type { DomainDef } from './domain.js';
import { xmlError, unsupported } from './reader.js';
import { fillIothreadIds } from './vcpu.js';
import { numaMemory } from './cpu.js';
import { diskNameToIndex, type DiskDef } from './devices/disk.js';
import { listDevices, type DomainDevice } from './devices/index.js';
import type { ControllerDef, ControllerType } from './devices/controller.js';
import type { ChrDef } from './devices/chardev.js';
import { defaultVideoRam, roundUpPowerOfTwo, type VideoDef } from './devices/video.js';

const USB2_MODELS = ['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'];

function isUsb2(c: ControllerDef): boolean {
  return c.type === 'usb' && c.model !== undefined && USB2_MODELS.includes(c.model);
}

/** Lowest index not used by a controller of this type. */
export function unusedControllerIndex(def: DomainDef, type: ControllerType): number {
  const used = new Set(def.devices.controllers.filter((c) => c.type === type).map((c) => c.index));
  let i = 0;
  while (used.has(i)) i++;
  return i;
}

/** libvirt's virDomainAssignControllerIndexes. */
export function assignControllerIndexes(def: DomainDef): void {
  const list = def.devices.controllers;
  for (let outer = 0; outer < list.length; outer++) {
    const cont = list[outer]!;
    if (cont.index !== -1) continue;
    let prev: ControllerDef | undefined;
    if (outer > 0 && isUsb2(cont)) {
      let p = outer - 1;
      while (p >= 0 && list[p]!.type !== 'usb') p--;
      if (p >= 0) prev = list[p];
      if (prev && !isUsb2(prev)) prev = undefined;
      if (prev && list.some((c) => c.type === 'usb' && c.index === prev!.index && c.model === cont.model)) prev = undefined;
      if (prev) cont.index = prev.index;
    }
    if (!prev) cont.index = unusedControllerIndex(def, cont.type);
  }
}

/** Adds `<controller type index>` unless one exists (virDomainDefMaybeAddController). */
export function maybeAddController(def: DomainDef, type: ControllerType, index: number, model?: string): ControllerDef | undefined {
  if (def.devices.controllers.some((c) => c.type === type && c.index === index)) return undefined;
  const c: ControllerDef = { type, index, info: {} };
  if (model !== undefined) c.model = model;
  // virDomainDefAddController appends; only parsed controllers are kept sorted.
  def.devices.controllers.push(c);
  return c;
}

/** libvirt's virDomainDiskDefAssignAddress: a drive address derived from the target name. */
export function assignDiskAddress(disk: DiskDef, wideScsi: boolean): void {
  const idx = diskNameToIndex(disk.dst);
  if (idx < 0) throw xmlError(`disk '${disk.dst}'`, `Unknown disk name '${disk.dst}' and no address specified`);
  switch (disk.bus) {
    case 'scsi': {
      let controller: number;
      let unit: number;
      if (wideScsi) {
        controller = Math.floor(idx / 15);
        unit = idx % 15;
        if (unit >= 7) unit++;
      } else {
        controller = Math.floor(idx / 7);
        unit = idx % 7;
      }
      disk.info.address = { type: 'drive', controller, bus: 0, target: 0, unit };
      break;
    }
    case 'fdc':
      disk.info.address = { type: 'drive', controller: Math.floor(idx / 2), bus: 0, target: 0, unit: idx % 2 };
      break;
    case 'ide':
      disk.info.address = { type: 'drive', controller: Math.floor(idx / 4), bus: Math.floor((idx % 4) / 2), target: 0, unit: idx % 2 };
      break;
    case 'sata':
      disk.info.address = { type: 'drive', controller: Math.floor(idx / 6), bus: 0, target: 0, unit: idx % 6 };
      break;
    default:
      break;
  }
}

function chrList(def: DomainDef, chr: ChrDef): ChrDef[] {
  switch (chr.deviceType) {
    case 'serial': return def.devices.serials;
    case 'parallel': return def.devices.parallels;
    case 'console': return def.devices.consoles;
    default: return def.devices.channels;
  }
}

function postParseChr(def: DomainDef, chr: ChrDef): void {
  const list = chrList(def, chr);
  if (chr.port === -1 && chr.deviceType !== 'channel') {
    let max = -1;
    for (const c of list) if (c.port > max) max = c.port;
    chr.port = max + 1;
  }
  const a = chr.info.address;
  if (a?.type === 'virtio-serial' && a.port === 0) {
    let max = 0;
    for (const c of list) {
      const b = c.info.address;
      if (b?.type === 'virtio-serial' && b.controller === a.controller && b.bus === a.bus && b.port > max) max = b.port;
    }
    a.port = max + 1;
  }
}

function postParseVideo(def: DomainDef, v: VideoDef): void {
  if (!v.ram && v.type === 'qxl') {
    const r = defaultVideoRam(v.type, def.type);
    if (r) v.ram = r;
  }
  if (!v.vram) {
    const r = defaultVideoRam(v.type, def.type);
    if (r) v.vram = r;
  }
  if (v.ram) v.ram = roundUpPowerOfTwo(v.ram);
  if (v.vram) v.vram = roundUpPowerOfTwo(v.vram);
}

/** The device part of libvirt's post-parse that does not depend on the driver (virDomainDeviceDefPostParseCommon). */
function postParseDeviceCommon(def: DomainDef, dev: DomainDevice, ctx: ParseContext): void {
  switch (dev.kind) {
    case 'chr':
      postParseChr(def, dev.def);
      break;
    case 'disk': {
      const d = dev.def;
      const src = d.src;
      if (!(src.type === 'network' && src.protocol === 'rbd')) {
        if (src.snapshot !== undefined) throw xmlError(`disk '${d.dst}'`, "<snapshot> element is currently supported only with 'rbd' disks");
        if (src.configFile !== undefined) throw xmlError(`disk '${d.dst}'`, "<config> element is currently supported only with 'rbd' disks");
      }
      if (src.type === 'vhostuser' && !d.snapshot) d.snapshot = 'no';
      if (!d.info.address) assignDiskAddress(d, !!ctx.config.features?.wideScsi);
      if (src.type === 'network' && src.protocol === 'iscsi' && src.path && !src.path.includes('/')) src.path += '/0';
      break;
    }
    case 'video':
      postParseVideo(def, dev.def);
      break;
    case 'controller': {
      const c = dev.def;
      if (c.driver?.iothread && !(c.type === 'scsi' && (c.model === 'virtio-scsi' || c.model === 'virtio-transitional' || c.model === 'virtio-non-transitional'))) {
        throw unsupported(`controller type='${c.type}'`, "'iothread' attribute only supported for virtio scsi controllers");
      }
      break;
    }
    case 'hostdev': {
      const h = dev.def;
      if (h.mode === 'subsystem' && h.type === 'scsi' && !h.info.address) {
        // virDomainHostdevAssignAddress: next free unit on SCSI controller buses.
        const used = new Set<string>();
        for (const d of def.devices.disks) {
          const a = d.info.address;
          if (d.bus === 'scsi' && a?.type === 'drive') used.add(`${a.controller}:${a.bus}:${a.target}:${a.unit}`);
        }
        for (const o of def.devices.hostdevs) {
          const a = o.info.address;
          if (o !== h && a?.type === 'drive') used.add(`${a.controller}:${a.bus}:${a.target}:${a.unit}`);
        }
        const maxUnit = ctx.config.features?.wideScsi ? 16 : 7;
        outer: for (let controller = 0; ; controller++) {
          for (let unit = 0; unit < maxUnit; unit++) {
            if (maxUnit === 16 && unit === 7) continue;
            if (!used.has(`${controller}:0:0:${unit}`)) {
              h.info.address = { type: 'drive', controller, bus: 0, target: 0, unit };
              break outer;
            }
          }
          if (controller > 1000) break;
        }
      }
      break;
    }
    case 'vsock': {
      const v = dev.def;
      if (v.autoCid === undefined) v.autoCid = !v.cid;
      break;
    }
    case 'rng': {
      const r = dev.def;
      if (r.backend === 'random' && !r.file) r.file = '/dev/urandom';
      break;
    }
    default:
      break;
  }
}

function addConsoleCompat(def: DomainDef): void {
  const d = def.devices;
  for (let i = 1; i < d.consoles.length; i++) {
    if (d.consoles[i]!.targetType === 'serial') throw unsupported('<console>', 'Only the first console can be a serial port');
  }
  const c0 = d.consoles[0];
  if (c0 && def.os.type === 'hvm' && (c0.targetType === 'serial' || c0.targetType === undefined)) {
    if (d.serials.length === 0) {
      const serial: ChrDef = { ...c0, deviceType: 'serial', port: 0 };
      delete serial.targetType;
      d.serials.push(serial);
      d.consoles[0] = { deviceType: 'console', source: { type: 'null' }, targetType: 'serial', port: 0, info: {} };
    } else {
      d.consoles[0] = { deviceType: 'console', source: { type: 'null' }, targetType: 'serial', port: 0, info: {} };
    }
  } else if (def.os.type === 'hvm' && d.serials.length > 0 && (d.serials[0]!.targetType === 'isa-serial' || d.serials[0]!.targetType === undefined)) {
    // A serial port without a target type (Xen's) gets its console alias too.
    d.consoles.unshift({ deviceType: 'console', source: { type: 'null' }, targetType: 'serial', port: 0, info: {} });
  }
}

function addImplicitControllers(def: DomainDef): void {
  const d = def.devices;
  const diskBus: Array<[ControllerType, string]> = [['scsi', 'scsi'], ['fdc', 'fdc'], ['ide', 'ide'], ['sata', 'sata']];
  for (const [ctype, bus] of diskBus) {
    let max = -1;
    for (const disk of d.disks) {
      const a = disk.info.address;
      if (disk.bus === bus && a?.type === 'drive' && a.controller > max) max = a.controller;
    }
    for (let i = 0; i <= max; i++) maybeAddController(def, ctype, i);
  }
  for (const ch of [...d.channels, ...d.consoles]) {
    const isVirtio = ch.targetType === 'virtio';
    if (!isVirtio) continue;
    const a = ch.info.address;
    const idx = a?.type === 'virtio-serial' ? a.controller : 0;
    maybeAddController(def, 'virtio-serial', idx);
  }
  for (const sc of d.smartcards) {
    let idx = 0;
    const a = sc.info.address;
    if (a?.type === 'ccid') idx = a.controller;
    else if (!a) {
      let max = -1;
      for (const o of d.smartcards) {
        const b = o.info.address;
        if (b?.type === 'ccid' && b.controller === 0 && b.slot > max) max = b.slot;
      }
      sc.info.address = { type: 'ccid', controller: 0, slot: max + 1 };
    }
    maybeAddController(def, 'ccid', idx);
  }
  let maxScsi = -1;
  for (const h of d.hostdevs) {
    const a = h.info.address;
    if (h.mode === 'subsystem' && h.type === 'scsi' && a?.type === 'drive' && a.controller > maxScsi) maxScsi = a.controller;
  }
  for (let i = 0; i <= maxScsi; i++) maybeAddController(def, 'scsi', i);
}

function postParseMemory(def: DomainDef, ctx: ParseContext): void {
  const mem = def.memory;
  let numa = 0;
  if (mem.total === 0 || ctx.opts.abiUpdate) numa = numaMemory(def.cpu);
  let hotplug = 0;
  for (const m of def.devices.memories) hotplug += m.size;
  if (numa) mem.total = numa + hotplug;
  else if (hotplug > mem.total) throw new VirtError('XML_DETAIL', '<memory>: Total size of memory devices exceeds the total memory size', { origin: 'domain' });
  const initial = numaMemory(def.cpu) || mem.total - hotplug;
  if (initial === 0 && mem.total === 0) throw xmlError('<memory>', 'Memory size must be specified via <memory> or in the <numa> configuration');
  if (mem.current > mem.total || mem.current === 0) mem.current = mem.total;
  if ((mem.max || mem.slots) && !(mem.max && mem.slots)) throw xmlError('<maxMemory>', 'both maximum memory size and memory slot count must be specified');
  if (mem.max && mem.max < mem.total) throw xmlError('<maxMemory>', 'maximum memory size must be equal or greater than the actual memory size');
}

function bootOrderPostParse(def: DomainDef): void {
  let deviceBoot = false;
  for (const dev of listDevices(def.devices)) {
    const info = 'info' in dev.def ? (dev.def as { info: { bootOrder?: number } }).info : undefined;
    if (info?.bootOrder) deviceBoot = true;
  }
  if (def.os.bootDevs.length > 0 && deviceBoot) throw xmlError('<os><boot>', 'per-device boot elements cannot be used together with os/boot elements');
  if (def.os.bootDevs.length === 0 && !deviceBoot) def.os.bootDevs = ['hd'];
}

function rejectDuplicates(def: DomainDef): void {
  const seen = new Set<string>();
  for (const c of def.devices.controllers) {
    const k = `${c.type}/${c.index}`;
    if (seen.has(k) && c.info.usbMasterStartport === undefined) {
      if (!(c.type === 'usb' && def.devices.controllers.some((o) => o !== c && o.type === 'usb' && o.index === c.index && (isUsb2(o) || isUsb2(c))))) {
        throw unsupported('<controller>', `Multiple '${c.type}' controllers with index '${c.index}'`);
      }
    }
    seen.add(k);
  }
  const models = new Set<string>();
  for (const p of def.devices.panics) {
    const m = p.model ?? 'default';
    if (models.has(m)) throw xmlError('<panic>', `Multiple panic devices with model '${m}'`);
    models.add(m);
  }
}

function postParseGraphics(def: DomainDef): void {
  for (const g of def.devices.graphics) {
    if (g.type !== 'spice') continue;
    const l = g.listens[0];
    if (g.listens.length === 1 && l && l.type === 'address' && !g.port && !g.tlsPort && !g.autoport) {
      delete l.address;
      l.type = 'none';
    }
  }
}

/** Runs libvirt's generic post-parse plus the driver hooks (virDomainDefPostParse). */
export function postParseDomain(def: DomainDef, ctx: ParseContext): void {
  const cfg = ctx.config;
  const opts = ctx.opts;
  if (!def.devices.emulator && cfg.defaultEmulator) {
    const e = cfg.defaultEmulator(def);
    if (e) def.devices.emulator = e;
  }
  cfg.domainPostParseBasic?.(def, opts);
  assignControllerIndexes(def);
  cfg.domainPostParse?.(def, opts);
  // The console/serial back-compat aliasing exists before devices are post-parsed (the
  // serial made from a console gets the driver's serial defaults).
  addConsoleCompat(def);
  for (const dev of listDevices(def.devices)) {
    cfg.devicePostParse?.(dev, def, opts);
    postParseDeviceCommon(def, dev, ctx);
  }

  // virDomainDefPostParseCommon
  if (def.os.type === 'exe' && !def.os.init) throw xmlError('<os>', 'init binary must be specified');
  if (def.vcpu.vcpus) {
    def.vcpu.vcpus.forEach((v, i) => {
      if (v.hotpluggable === undefined) v.hotpluggable = !v.enabled;
      else if (v.hotpluggable === false && !v.enabled) throw unsupported('<vcpus>', `vcpu '${i}' is both offline and not hotpluggable`);
    });
  }
  fillIothreadIds(def.iothreads, def.iothreadids);
  postParseMemory(def, ctx);
  rejectDuplicates(def);
  if (def.os.type === 'hvm' && !cfg.features?.noBootOrder) bootOrderPostParse(def);
  addImplicitControllers(def);
  if (def.devices.graphics.length > 0 && def.devices.videos.length === 0 && cfg.implicitVideoModel) {
    const model = cfg.implicitVideoModel(def);
    if (model !== undefined) {
      const v: VideoDef = { heads: 1, info: {} };
      if (model) v.type = model;
      def.devices.videos.push(v);
    }
  }
  const v0 = def.devices.videos[0];
  if (v0) {
    v0.primary = true;
    const dev: DomainDevice = { kind: 'video', def: v0 };
    cfg.devicePostParse?.(dev, def, opts);
    postParseDeviceCommon(def, dev, ctx);
  }
  // Newly added implicit controllers get the driver's device defaults too.
  for (const c of def.devices.controllers) {
    if (c.index === -1) c.index = unusedControllerIndex(def, c.type);
  }
  // Implicit SCSI controllers added above have no model yet: give them the driver's default.
  for (const c of def.devices.controllers) {
    if (c.type !== 'scsi' || c.model !== undefined) continue;
    const dev: DomainDevice = { kind: 'controller', def: c };
    cfg.devicePostParse?.(dev, def, opts);
    postParseDeviceCommon(def, dev, ctx);
  }
  postParseGraphics(def);
  if (def.numatune?.memory && !def.numatune.memory.placementGiven && def.vcpu.placement === 'auto' && !def.numatune.memory.nodeset) {
    def.numatune.memory.placement = 'auto';
  }
  if (def.numatune?.memory?.placement === 'auto' && !def.vcpu.placementGiven) def.vcpu.placement = 'auto';
  cfg.assignAddresses?.(def, opts);
  cfg.domainPostParseLate?.(def, opts);
}

/**
 * The QEMU driver's define-time defaults (qemuDomainDefPostParse and
 * qemuDomainDeviceDefPostParse of libvirt 9.0): machine type, implicit
 * controllers and devices, the default CPU model, device models.
 */
import {
  VirtError, maybeAddController,
  type AudioDef, type ChrDef, type ControllerDef, type DiskDef, type DomainDef, type DomainDevice, type DomainParseOptions, type InputDef,
  type StorageSource,
} from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import type { QemuDriverConfig } from './config.js';
import { hasPCIeRoot, isARMVirt, isI440FX, isPSeries, isQ35, isS390CCW, isX86, isXenFV, supportsPCI } from './machine.js';

export interface QemuDefaultsContext {
  caps: QemuCapabilities;
  config: QemuDriverConfig;
}

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}

function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

export function accelOf(def: DomainDef): 'kvm' | 'tcg' {
  return def.type === 'kvm' ? 'kvm' : 'tcg';
}

// ---------------------------------------------------------------- machine

function machinePostParse(def: DomainDef, caps: QemuCapabilities): void {
  const accel = accelOf(def);
  if (!def.os.machine) {
    const m = caps.defaultMachine(accel);
    if (!m) throw new VirtError('INVALID_ARG', `could not get preferred machine for ${def.devices.emulator ?? ''} type=${def.type}`, { origin: 'qemu' });
    def.os.machine = m.name;
  }
  const m = caps.machine(def.os.machine, accel);
  if (m && m.name !== def.os.machine) def.os.machine = m.name;
}

// ---------------------------------------------------------------- implicit devices

function supportsI8042(def: DomainDef, caps: QemuCapabilities): boolean {
  if (!caps.has('i8042')) return false;
  return isI440FX(def) || isQ35(def) || isXenFV(def);
}

function maybeAddInput(def: DomainDef, type: InputDef['type'], bus: string): void {
  if (def.devices.inputs.some((i) => i.type === type && i.bus === bus)) return;
  def.devices.inputs.push({ type, bus, info: {} });
}

function addDefaultAudio(def: DomainDef, cfg: QemuDriverConfig): void {
  if (def.devices.audios.length > 0) return;
  let addAudio = false;
  let passthrough = false;
  let backend = 'none';
  for (const g of def.devices.graphics) {
    switch (g.type) {
      case 'vnc':
        if (cfg.vncAllowHostAudio) passthrough = true;
        else {
          passthrough = false;
          backend = 'none';
        }
        addAudio = true;
        break;
      case 'spice':
        passthrough = false;
        backend = 'spice';
        addAudio = true;
        break;
      case 'sdl':
        passthrough = true;
        addAudio = true;
        break;
      default:
        break;
    }
  }
  if (def.devices.graphics.length === 0) {
    if (cfg.nogfxAllowHostAudio) passthrough = true;
    else {
      passthrough = false;
      backend = 'none';
    }
    addAudio = true;
  }
  if (!addAudio) return;
  if (passthrough) {
    const env = cfg.env.QEMU_AUDIO_DRV;
    if (env === undefined) backend = 'none';
    else {
      const map: Record<string, string> = {
        none: 'none', alsa: 'alsa', coreaudio: 'coreaudio', jack: 'jack', oss: 'oss', pa: 'pulseaudio', sdl: 'sdl', spice: 'spice', wav: 'file', dbus: 'dbus',
      };
      const t = map[env];
      if (!t) throw internal(`unknown QEMU_AUDIO_DRV setting ${env}`);
      backend = t;
    }
  }
  const audio: AudioDef = { id: 1, type: backend, extra: [] };
  if (backend === 'sdl') {
    const drv = cfg.env.SDL_AUDIODRIVER;
    if (drv !== undefined) {
      if (!['esd', 'alsa', 'arts', 'pulseaudio'].includes(drv)) throw internal(`unknown SDL_AUDIODRIVER setting ${drv}`);
      audio.extra.push(['driver', drv]);
    }
  }
  def.devices.audios.push(audio);
}

function addDefaultDevices(def: DomainDef, ctx: QemuDefaultsContext): void {
  const { caps } = ctx;
  let addDefaultUSB = false;
  let usbModel: string | undefined;
  let addImplicitSATA = false;
  let addPCIRoot = false;
  let addPCIeRoot = false;
  let addDefaultMemballoon = false;
  let addDefaultUSBKBD = false;
  let addDefaultUSBMouse = false;
  let addPanicDevice = false;

  if (supportsI8042(def, caps) && def.features?.states.ps2 !== false) {
    maybeAddInput(def, 'mouse', 'ps2');
    maybeAddInput(def, 'keyboard', 'ps2');
  }

  const arch = def.os.arch ?? '';
  const machine = def.os.machine ?? '';
  switch (arch) {
    case 'i686':
    case 'x86_64':
      if (machine === 'isapc' || machine === 'microvm') break;
      addDefaultMemballoon = true;
      addDefaultUSB = true;
      if (isQ35(def)) {
        addPCIeRoot = true;
        addImplicitSATA = true;
        if (caps.has('qemu-xhci')) usbModel = 'qemu-xhci';
        else if (caps.has('nec-usb-xhci')) usbModel = 'nec-xhci';
        else if (caps.has('ich9-usb-ehci1')) usbModel = 'ich9-ehci1';
        else addDefaultUSB = false;
        break;
      }
      if (isI440FX(def)) addPCIRoot = true;
      break;
    case 'armv6l':
    case 'armv7l':
    case 'armv7b':
    case 'aarch64':
      if (machine === 'versatilepb' || machine.startsWith('realview-eb')) {
        addPCIRoot = true;
        addDefaultUSB = true;
      }
      if (isARMVirt(def)) addPCIeRoot = true;
      break;
    case 'ppc64':
    case 'ppc64le':
      addPCIRoot = true;
      addDefaultUSB = true;
      addDefaultUSBKBD = true;
      addDefaultUSBMouse = true;
      addDefaultMemballoon = true;
      if (isPSeries(def)) addPanicDevice = true;
      break;
    case 'alpha':
    case 'ppc':
    case 'ppcemb':
    case 'sh4':
    case 'sh4eb':
    case 'sparc64':
      addDefaultUSB = true;
      addDefaultMemballoon = true;
      addPCIRoot = true;
      break;
    case 's390':
    case 's390x':
      addDefaultMemballoon = true;
      addPanicDevice = true;
      addPCIRoot = caps.has('zpci');
      break;
    default:
      break;
  }

  if ((addPCIRoot || addPCIeRoot) && !supportsPCI(def)) throw internal(`Machine type '${machine}' wants PCI but PCI is not supported`);

  const d = def.devices;
  if (addDefaultUSB && !d.controllers.some((c) => c.type === 'usb' && c.index === 0)) {
    const c: ControllerDef = { type: 'usb', index: 0, info: {} };
    if (usbModel) c.model = usbModel;
    d.controllers.push(c);
  }
  if (addImplicitSATA) maybeAddController(def, 'sata', 0);

  const pciRoot = d.controllers.find((c) => c.type === 'pci' && c.index === 0);
  if (addPCIRoot) {
    if (pciRoot) {
      if (pciRoot.model !== 'pci-root') {
        throw new VirtError('XML_ERROR', `The PCI controller with index='0' must be model='pci-root' for this machine type, but model='${pciRoot.model ?? ''}' was found instead`, { origin: 'qemu' });
      }
    } else d.controllers.push({ type: 'pci', index: 0, model: 'pci-root', info: {} });
  }
  if (addPCIeRoot) {
    if (pciRoot) {
      if (pciRoot.model !== 'pcie-root') {
        throw new VirtError('XML_ERROR', `The PCI controller with index='0' must be model='pcie-root' for this machine type, but model='${pciRoot.model ?? ''}' was found instead`, { origin: 'qemu' });
      }
    } else d.controllers.push({ type: 'pci', index: 0, model: 'pcie-root', info: {} });
  }
  if (addDefaultMemballoon && !d.memballoon) d.memballoon = { model: 'virtio', info: {} };
  if (addDefaultUSBMouse && d.inputs.some((i) => i.type === 'tablet' && i.bus === 'usb')) addDefaultUSBMouse = false;
  if (addDefaultUSBKBD && d.graphics.length > 0) maybeAddInput(def, 'keyboard', 'usb');
  if (addDefaultUSBMouse && d.graphics.length > 0) maybeAddInput(def, 'mouse', 'usb');
  if (addPanicDevice) {
    const dflt = defaultPanicModel(def);
    if (!d.panics.some((p) => p.model === undefined || p.model === dflt)) d.panics.push({ info: {} });
  }
  addDefaultAudio(def, ctx.config);
}

export function defaultPanicModel(def: DomainDef): 'pseries' | 's390' | 'isa' {
  if (isPSeries(def)) return 'pseries';
  if (def.os.arch === 's390' || def.os.arch === 's390x') return 's390';
  return 'isa';
}

// ---------------------------------------------------------------- CPU

function setDefaultCpu(def: DomainDef, caps: QemuCapabilities): void {
  if (def.cpu && (def.cpu.mode !== 'custom' || def.cpu.model)) return;
  const arch = def.os.arch ?? '';
  if (!isX86(arch) && arch !== 's390' && arch !== 's390x' && arch !== 'ppc64' && arch !== 'ppc64le' && def.type !== 'qemu') return;
  const accel = accelOf(def);
  const machine = caps.machines(accel).find((m) => m.name === def.os.machine);
  const cpuType = machine?.defaultCpu;
  if (!cpuType) return;
  const model = caps.cpuModels(accel).find((c) => c.typename === cpuType)?.name;
  if (!model) return;
  if (model === 'host' && def.type !== 'kvm') throw internal('QEMU reports invalid default CPU model "host" for non-kvm domain virt type');
  if (!def.cpu) def.cpu = { mode: 'custom', features: [] };
  if (model === 'host') {
    def.cpu.mode = 'host-passthrough';
  } else {
    def.cpu.check = 'none';
    def.cpu.mode = 'custom';
    def.cpu.match = 'exact';
    def.cpu.fallback = 'forbid';
    def.cpu.model = model;
  }
}

function cpuPostParse(def: DomainDef, caps: QemuCapabilities): void {
  const cpu = def.cpu;
  if (!cpu) return;
  if (def.id === -1 && cpu.mode === 'host-passthrough' && cpu.migratable === undefined) {
    if (caps.has('cpu.migratable')) cpu.migratable = true;
    else if (isX86(def.os.arch)) cpu.migratable = false;
  }
  if (cpu.mode === 'custom' && !cpu.model) return;
  if (cpu.check !== undefined) return;
  switch (cpu.mode) {
    case 'host-passthrough':
    case 'maximum':
      cpu.check = 'none';
      break;
    case 'host-model':
      cpu.check = 'partial';
      break;
    case 'custom':
      cpu.check = def.type === 'qemu' ? 'none' : 'partial';
      break;
  }
}

function vcpusPostParse(def: DomainDef): void {
  const v = def.vcpu.vcpus;
  if (!v || v.length === 0) return;
  const v0 = v[0]!;
  if (!v0.enabled) throw unsupported("vcpu 0 can't be offline");
  if (v0.hotpluggable === true) throw unsupported("vcpu0 can't be hotpluggable");
  const o0 = v0.order ?? 0;
  if (o0 !== 0 && o0 !== 1) throw unsupported('vcpu0 must be enabled first');
  const hasOrder = o0 !== 0;
  let prev = v0;
  for (let i = 1; i < v.length; i++) {
    const cur = v[i]!;
    if (cur.enabled && ((cur.order ?? 0) !== 0) !== hasOrder) throw unsupported('all vcpus must have either set or unset order');
    if (cur.hotpluggable === false) {
      if (prev.hotpluggable === true) throw unsupported('online non-hotpluggable vcpus need to be ordered prior to hotpluggable vcpus');
      if ((prev.order ?? 0) > (cur.order ?? 0)) throw unsupported('online non-hotpluggable vcpus must be ordered in ascending order');
    }
    prev = cur;
  }
}

function tsegPostParse(def: DomainDef, caps: QemuCapabilities): void {
  if (def.features?.states.smm !== true) return;
  const tseg = def.features.smmTseg;
  if (tseg === undefined) return;
  if (!isQ35(def)) throw unsupported('SMM TSEG is only supported with q35 machine type');
  if (!caps.has('mch.extended-tseg-mbytes')) throw unsupported('Setting TSEG size is not supported with this QEMU binary');
  if (tseg % (1024 * 1024) !== 0) throw unsupported('SMM TSEG size must be divisible by 1 MiB');
}

/** qemuDomainDefNumaCPUsRectify: vCPUs no NUMA cell lists go to cell 0. */
function numaCpusRectify(def: DomainDef): void {
  const cells = def.cpu?.numa?.cells;
  if (!cells || cells.length === 0) return;
  const max = def.vcpu.max;
  let total = 0;
  for (const c of cells) total += c.cpus?.length ?? 0;
  if (total >= max) return;
  const used = new Set<number>();
  cells.forEach((c, i) => {
    if (i !== 0) for (const x of c.cpus ?? []) used.add(x);
  });
  const cpus: number[] = [];
  for (let i = 0; i < max; i++) if (!used.has(i)) cpus.push(i);
  cells[0]!.cpus = cpus;
}

function enableDefaultFeatures(def: DomainDef): void {
  const iommu = def.devices.iommu;
  if (iommu && iommu.intremap === true && def.features?.ioapicDriver === undefined) {
    def.features ??= { states: {} };
    def.features.states.ioapic = true;
    def.features.ioapicDriver = 'qemu';
  }
}

/** qemuDomainRecheckInternalPaths: VNC sockets under libDir from old configs. */
function recheckInternalPaths(def: DomainDef, cfg: QemuDriverConfig, inactive: boolean): void {
  for (const g of def.devices.graphics) {
    if (g.type !== 'vnc') continue;
    for (const l of g.listens) {
      if (l.type === 'socket' && l.socket && !l.autoGenerated && l.socket.startsWith(cfg.libDir)) {
        if (inactive) {
          delete l.socket;
          l.type = 'address';
        } else l.fromConfig = true;
      }
    }
  }
}

/** Firmware autoselection: asking for enrolled keys implies Secure Boot. */
function firmwarePostParse(def: DomainDef): void {
  const feats = def.os.firmwareFeatures;
  if (!def.os.firmware || !feats) return;
  if (feats.some((f) => f.name === 'enrolled-keys' && f.enabled) && !feats.some((f) => f.name === 'secure-boot')) {
    feats.push({ name: 'secure-boot', enabled: true });
  }
}

/** qemuDomainDefPostParse. */
export function qemuDomainDefPostParse(def: DomainDef, opts: DomainParseOptions, ctx: QemuDefaultsContext): void {
  const { caps } = ctx;
  machinePostParse(def, caps);
  firmwarePostParse(def);
  addDefaultDevices(def, ctx);
  setDefaultCpu(def, caps);
  enableDefaultFeatures(def);
  recheckInternalPaths(def, ctx.config, !!opts.inactive);
  vcpusPostParse(def);
  cpuPostParse(def, caps);
  tsegPostParse(def, caps);
  numaCpusRectify(def);
}

// ---------------------------------------------------------------- devices

function defaultNetModel(def: DomainDef, caps: QemuCapabilities): string {
  const arch = def.os.arch ?? '';
  if (arch === 's390' || arch === 's390x') return 'virtio';
  if (arch.startsWith('arm') || arch === 'aarch64') {
    if (def.os.machine === 'versatilepb') return 'smc91c111';
    if (isARMVirt(def)) return 'virtio';
    return 'lan9118';
  }
  if (caps.has('rtl8139')) return 'rtl8139';
  if (caps.has('e1000')) return 'e1000';
  if (caps.has('virtio-net')) return 'virtio';
  return 'rtl8139';
}

function forEachChainSource(src: StorageSource, fn: (s: StorageSource) => void): void {
  let n: StorageSource | null | undefined = src;
  while (n) {
    fn(n);
    n = n.backingStore;
  }
}

function diskPostParse(disk: DiskDef): void {
  if (!disk.driver.name) disk.driver.name = 'qemu';
  if (!disk.src.format && disk.src.type !== 'volume') disk.src.format = 'raw';
  forEachChainSource(disk.src, (s) => {
    if (s.encryption && !s.encryption.engine) s.encryption.engine = 'qemu';
  });
}

export function defaultVideoType(def: DomainDef, caps: QemuCapabilities): string | undefined {
  const arch = def.os.arch ?? '';
  if (arch === 'ppc64' || arch === 'ppc64le') return 'vga';
  if (isARMVirt(def) || arch === 's390' || arch === 's390x') return 'virtio';
  if (caps.has('cirrus-vga')) return 'cirrus';
  if (caps.has('VGA')) return 'vga';
  return undefined;
}

export function defaultScsiControllerModel(def: DomainDef, caps: QemuCapabilities): string | undefined {
  if (isPSeries(def)) return 'ibmvscsi';
  if (def.os.arch === 's390' || def.os.arch === 's390x') return 'virtio-scsi';
  if (caps.has('lsi')) return 'lsilogic';
  if (caps.has('virtio-scsi-pci')) return 'virtio-scsi';
  return undefined;
}

function controllerPostParse(cont: ControllerDef, def: DomainDef, caps: QemuCapabilities): void {
  switch (cont.type) {
    case 'scsi':
      if (cont.model === undefined || cont.model === 'auto') {
        const m = defaultScsiControllerModel(def, caps);
        if (m) cont.model = m;
        else if (cont.model === undefined) throw internal(`Unable to determine model for SCSI controller idx=${cont.index}`);
      }
      break;
    case 'usb': {
      if (cont.model === undefined) {
        if (caps.has('piix3-usb-uhci')) cont.model = 'piix3-uhci';
        const arch = def.os.arch ?? '';
        if (arch === 's390' || arch === 's390x') {
          if (!cont.info.address) cont.model = 'none';
        } else if (arch === 'ppc64' || arch === 'ppc64le') {
          if (caps.has('pci-ohci')) cont.model = 'pci-ohci';
        } else if (arch === 'aarch64' || arch.startsWith('arm')) {
          if (caps.has('qemu-xhci')) cont.model = 'qemu-xhci';
          else if (caps.has('nec-usb-xhci')) cont.model = 'nec-xhci';
        }
      }
      if (cont.model === 'none') delete cont.info.address;
      if (cont.model === 'qusb1' || cont.model === 'qusb2') {
        throw unsupported(`USB controller model type 'qusb1' or 'qusb2' is not supported in ${def.type}`);
      }
      if ((cont.model === 'nec-xhci' || cont.model === 'qemu-xhci') && (cont.ports ?? 0) > 15) {
        throw unsupported(`'${cont.model}' controller only supports up to '15' ports`);
      }
      break;
    }
    case 'pci':
      if (!isPSeries(def) && (cont.model === 'pci-root' || cont.model === 'pcie-root') && cont.index !== 0) {
        throw new VirtError('XML_ERROR', 'pci-root and pcie-root controllers should have index 0', { origin: 'qemu' });
      }
      if (cont.model === 'pci-expander-bus' && !isI440FX(def)) {
        throw unsupported('pci-expander-bus controllers are only supported on 440fx-based machinetypes');
      }
      if (cont.model === 'pcie-expander-bus' && !(isQ35(def) || isARMVirt(def))) {
        throw unsupported('pcie-expander-bus controllers are not supported with this machine type');
      }
      if (cont.pci?.numaNode !== undefined && cont.pci.numaNode >= (def.cpu?.numa?.cells.length ?? 0)) {
        throw new VirtError('XML_ERROR', `${cont.model ?? ''} with index ${cont.index} is configured for a NUMA node (${cont.pci.numaNode}) not present in the domain's <cpu><numa> array (${def.cpu?.numa?.cells.length ?? 0})`, { origin: 'qemu' });
      }
      break;
    default:
      break;
  }
}

function chrPostParse(chr: ChrDef, def: DomainDef, cfg: QemuDriverConfig, inactive: boolean): void {
  if (chr.deviceType === 'serial' && chr.targetType === 'isa-serial') delete chr.targetType;
  if (chr.deviceType === 'serial' && chr.targetType === undefined) {
    if (isX86(def.os.arch)) chr.targetType = 'isa-serial';
    else if (isPSeries(def)) chr.targetType = 'spapr-vio-serial';
    else if (isARMVirt(def)) chr.targetType = 'system-serial';
    else if (def.os.arch === 's390' || def.os.arch === 's390x') chr.targetType = 'sclp-serial';
  }
  if (chr.deviceType === 'serial' && chr.targetModel === undefined) {
    const models: Record<string, string> = {
      'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', 'spapr-vio-serial': 'spapr-vty',
      'sclp-serial': 'sclpconsole', 'isa-debug': 'isa-debugcon',
    };
    if (chr.targetType === 'system-serial') {
      if (isARMVirt(def)) chr.targetModel = 'pl011';
    } else if (chr.targetType && models[chr.targetType]) chr.targetModel = models[chr.targetType];
  }
  if (inactive) {
    dropDefaultChrPath(chr, def, cfg);
    if (chr.source.type === 'unix' && !chr.source.path) chr.source.listen = true;
  }
}

/** qemuDomainChrDefDropDefaultPath: auto-made channel sockets are not part of the persistent config. */
function dropDefaultChrPath(chr: ChrDef, _def: DomainDef, cfg: QemuDriverConfig): void {
  if (chr.deviceType !== 'channel' || chr.targetType !== 'virtio' || chr.source.type !== 'unix' || !chr.source.path) return;
  const prefix = `${cfg.channelTargetDir}/`;
  const p = chr.source.path;
  if (!p.startsWith(prefix)) return;
  const rest = p.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0 || !rest.startsWith('domain-')) return;
  if (chr.name && rest.slice(slash + 1) === chr.name) delete chr.source.path;
}

/** qemuDomainDeviceDefPostParse. */
export function qemuDeviceDefPostParse(dev: DomainDevice, def: DomainDef, opts: DomainParseOptions, ctx: QemuDefaultsContext): void {
  const { caps } = ctx;
  switch (dev.kind) {
    case 'interface': {
      const net = dev.def;
      if ((net.type === 'vdpa' || net.type === 'vhostuser') && !net.model) net.model = 'virtio';
      else if (net.type !== 'hostdev' && !net.model) net.model = defaultNetModel(def, caps);
      break;
    }
    case 'disk':
      diskPostParse(dev.def);
      break;
    case 'video': {
      const v = dev.def;
      if (v.type === undefined || v.type === 'default') {
        const t = defaultVideoType(def, caps);
        if (t) v.type = t;
      }
      if (v.type === 'qxl' && !v.vgamem) v.vgamem = 16 * 1024;
      break;
    }
    case 'panic':
      if (dev.def.model === undefined) dev.def.model = defaultPanicModel(def);
      break;
    case 'controller':
      controllerPostParse(dev.def, def, caps);
      break;
    case 'shmem': {
      const shm = dev.def;
      if (shm.model !== 'ivshmem-doorbell' && !shm.size) shm.size = 4 << 20;
      if (shm.model === 'ivshmem') break;
      if (!shm.server) {
        if (shm.model === 'ivshmem-doorbell') throw unsupported(`shmem model '${shm.model}' is supported only with server option enabled`);
      } else {
        if (shm.model === 'ivshmem-plain') throw unsupported(`shmem model '${shm.model}' is supported only with server option disabled`);
        shm.msi ??= {};
        if (shm.msi.ioeventfd === undefined) shm.msi.ioeventfd = true;
      }
      break;
    }
    case 'chr':
      chrPostParse(dev.def, def, ctx.config, !!opts.inactive);
      break;
    case 'vsock':
      if (!dev.def.model) dev.def.model = 'virtio';
      break;
    case 'hostdev': {
      const h = dev.def;
      if (h.mode === 'subsystem' && h.type === 'mdev' && h.mdevModel === 'vfio-pci' && h.display === undefined) h.display = false;
      break;
    }
    case 'tpm': {
      const tpm = dev.def;
      if (!tpm.model || tpm.model === 'default') tpm.model = def.os.arch === 'ppc64' || def.os.arch === 'ppc64le' ? 'tpm-spapr' : 'tpm-tis';
      if (tpm.backend === 'emulator' && !tpm.version) {
        tpm.version = tpm.model === 'tpm-tis' && isX86(def.os.arch) ? '1.2' : '2.0';
      }
      break;
    }
    default:
      break;
  }
}

/** True when the domain has a pcie-root (used by address assignment). */
export { hasPCIeRoot };

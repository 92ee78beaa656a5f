/**
 * PCI address assignment as libvirt's qemu_domain_address.c and
 * domain_addr.c do it: every device gets connect flags (PCI or PCIe,
 * hotplug, integrated…), existing addresses are reserved, the chipset's
 * fixed slots are claimed, then free slots are handed out in libvirt's
 * device order; a dry run first finds out how many buses (pci-bridge,
 * pcie-root-port, …) have to be added.
 */
import { VirtError, listDevices, deviceInfoOf, type ControllerDef, type DeviceInfo, type DomainDef, type DomainDevice, type PciAddress } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import { hasPCIeRoot, hasPCIRoot, isI440FX, isPSeries, isQ35, supportsPCI } from './machine.js';

// virDomainPCIConnectFlags
export const AUTOASSIGN = 1 << 0;
export const HOTPLUGGABLE = 1 << 1;
export const AGGREGATE_SLOT = 1 << 2;
export const INTEGRATED = 1 << 3;
export const PCI_DEVICE = 1 << 4;
export const PCIE_DEVICE = 1 << 5;
export const PCIE_ROOT_PORT = 1 << 6;
export const PCIE_SWITCH_UPSTREAM_PORT = 1 << 7;
export const PCIE_SWITCH_DOWNSTREAM_PORT = 1 << 8;
export const DMI_TO_PCI_BRIDGE = 1 << 9;
export const PCI_EXPANDER_BUS = 1 << 10;
export const PCIE_EXPANDER_BUS = 1 << 11;
export const PCI_BRIDGE = 1 << 12;
export const PCIE_TO_PCI_BRIDGE = 1 << 13;
const TYPES_MASK = PCI_DEVICE | PCIE_DEVICE | PCIE_ROOT_PORT | PCIE_SWITCH_UPSTREAM_PORT | PCIE_SWITCH_DOWNSTREAM_PORT | DMI_TO_PCI_BRIDGE
  | PCI_EXPANDER_BUS | PCIE_EXPANDER_BUS | PCI_BRIDGE | PCIE_TO_PCI_BRIDGE;
const TYPES_ENDPOINT = PCI_DEVICE | PCIE_DEVICE;
const SLOT_LAST = 31;

function xmlError(msg: string): VirtError {
  return new VirtError('XML_ERROR', msg, { origin: 'qemu' });
}
function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

interface Slot {
  functions: number;
  aggregate: boolean;
}
interface Bus {
  model?: string;
  flags: number;
  minSlot: number;
  maxSlot: number;
  slots: Slot[];
}

function newBus(): Bus {
  return { flags: 0, minSlot: 0, maxSlot: 0, slots: Array.from({ length: SLOT_LAST + 1 }, () => ({ functions: 0, aggregate: false })) };
}

export function pciControllerConnectType(model: string | undefined): number {
  switch (model) {
    case 'pci-bridge': return PCI_BRIDGE;
    case 'pci-expander-bus': return PCI_EXPANDER_BUS;
    case 'pcie-expander-bus': return PCIE_EXPANDER_BUS;
    case 'dmi-to-pci-bridge': return DMI_TO_PCI_BRIDGE;
    case 'pcie-to-pci-bridge': return PCIE_TO_PCI_BRIDGE;
    case 'pcie-root-port': return PCIE_ROOT_PORT | AGGREGATE_SLOT;
    case 'pcie-switch-upstream-port': return PCIE_SWITCH_UPSTREAM_PORT;
    case 'pcie-switch-downstream-port': return PCIE_SWITCH_DOWNSTREAM_PORT;
    default: return 0;
  }
}

function connectTypeToModel(flags: number): string | undefined {
  if (flags & PCIE_ROOT_PORT) return 'pcie-root-port';
  if (flags & PCIE_SWITCH_UPSTREAM_PORT) return 'pcie-switch-upstream-port';
  if (flags & PCIE_SWITCH_DOWNSTREAM_PORT) return 'pcie-switch-downstream-port';
  if (flags & DMI_TO_PCI_BRIDGE) return 'dmi-to-pci-bridge';
  if (flags & PCI_EXPANDER_BUS) return 'pci-expander-bus';
  if (flags & PCIE_EXPANDER_BUS) return 'pcie-expander-bus';
  if (flags & PCI_BRIDGE) return 'pci-bridge';
  return undefined;
}

function busSetModel(bus: Bus, model: string, allowHotplug: boolean): void {
  const hp = allowHotplug ? HOTPLUGGABLE : 0;
  switch (model) {
    case 'pci-root':
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | PCI_EXPANDER_BUS | hp;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case 'pci-bridge':
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case 'pci-expander-bus':
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    case 'pcie-root':
      bus.flags = PCIE_DEVICE | PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE | PCIE_EXPANDER_BUS;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case 'dmi-to-pci-bridge':
      bus.flags = PCI_DEVICE | PCI_BRIDGE;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    case 'pcie-to-pci-bridge':
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case 'pcie-root-port':
    case 'pcie-switch-downstream-port':
      bus.flags = AUTOASSIGN | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT | PCIE_TO_PCI_BRIDGE | hp;
      bus.minSlot = 0;
      bus.maxSlot = 0;
      break;
    case 'pcie-switch-upstream-port':
      bus.flags = PCIE_SWITCH_DOWNSTREAM_PORT;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    case 'pcie-expander-bus':
      bus.flags = PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    default:
      throw internal('PCI controller model was not set correctly');
  }
  bus.model = model;
}

export function pciAddrString(a: { domain: number; bus: number; slot: number; function: number }): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${h(a.domain, 4)}:${h(a.bus, 2)}:${h(a.slot, 2)}.${a.function.toString(16)}`;
}

interface Addr {
  domain: number;
  bus: number;
  slot: number;
  function: number;
  multifunction?: boolean;
}

/** A PCI address set (virDomainPCIAddressSet). */
export class PciAddressSet {
  buses: Bus[];
  isPCIeToPCIBridgeSupported = false;
  areMultipleRootsSupported = false;

  constructor(nbuses: number, readonly dryRun: boolean) {
    this.buses = Array.from({ length: nbuses }, () => newBus());
  }

  private flagsCompatible(addr: Addr, busFlags: number, devFlags: number, report: boolean, fromConfig: boolean): boolean {
    const addrStr = pciAddrString(addr);
    if (devFlags & INTEGRATED) {
      if (addr.bus === 0) busFlags |= AUTOASSIGN;
      else {
        if (report) throw (fromConfig ? xmlError : internal)(`The device at PCI address ${addrStr} needs to be an integrated device (bus=0)`);
        return false;
      }
    }
    if (fromConfig) {
      if (busFlags & TYPES_ENDPOINT) busFlags |= TYPES_ENDPOINT;
      if (devFlags & PCI_BRIDGE) devFlags |= PCI_DEVICE;
    } else if (devFlags & AUTOASSIGN && !(busFlags & AUTOASSIGN)) {
      if (report) {
        throw internal(`The device at PCI address ${addrStr} was auto-assigned this address, but the PCI controller with index='${addr.bus}' doesn't allow auto-assignment`);
      }
      return false;
    }
    if (devFlags & HOTPLUGGABLE && !(busFlags & HOTPLUGGABLE)) {
      if (report) {
        throw (fromConfig ? xmlError : internal)(`The device at PCI address ${addrStr} requires hotplug capability, but the PCI controller with index='${addr.bus}' doesn't support hotplug`);
      }
      return false;
    }
    if (!(devFlags & busFlags & TYPES_MASK)) {
      if (!report) return false;
      let what = 'device';
      if (devFlags & PCI_DEVICE) what = 'standard PCI device';
      else if (devFlags & PCIE_DEVICE) what = 'PCI Express device';
      else if (devFlags & PCIE_ROOT_PORT) what = 'pcie-root-port';
      else if (devFlags & PCIE_SWITCH_UPSTREAM_PORT) what = 'pcie-switch-upstream-port';
      else if (devFlags & PCIE_SWITCH_DOWNSTREAM_PORT) what = 'pcie-switch-downstream-port';
      else if (devFlags & DMI_TO_PCI_BRIDGE) what = 'dmi-to-pci-bridge';
      else if (devFlags & PCIE_TO_PCI_BRIDGE) what = 'pcie-to-pci-bridge';
      else if (devFlags & PCI_EXPANDER_BUS) what = 'pci-expander-bus';
      else if (devFlags & PCIE_EXPANDER_BUS) what = 'pcie-expander-bus';
      else if (devFlags & PCI_BRIDGE) what = 'pci-bridge';
      throw (fromConfig ? xmlError : internal)(
        `The device at PCI address ${addrStr} cannot be plugged into the PCI controller with index='${addr.bus}'. It requires a controller that accepts a ${what}.`,
      );
    }
    return true;
  }

  /** virDomainPCIAddressValidate (throws). */
  validate(addr: Addr, flags: number, fromConfig: boolean): void {
    const err = fromConfig ? xmlError : internal;
    const s = pciAddrString(addr);
    if (this.buses.length === 0) throw err('No PCI buses available');
    if (addr.domain !== 0) throw err(`Invalid PCI address ${s}. Only PCI domain 0 is available`);
    if (addr.bus >= this.buses.length) throw err(`Invalid PCI address ${s}. Only PCI buses up to ${this.buses.length - 1} are available`);
    const bus = this.buses[addr.bus]!;
    this.flagsCompatible(addr, bus.flags, flags, true, fromConfig);
    if (bus.minSlot && addr.slot < bus.minSlot) throw err(`Invalid PCI address ${s}. slot must be >= ${bus.minSlot}`);
    if (addr.slot > bus.maxSlot) throw err(`Invalid PCI address ${s}. slot must be <= ${bus.maxSlot}`);
    if (addr.function > 7) throw err(`Invalid PCI address ${s}. function must be <= 7`);
  }

  /** virDomainPCIAddressSetGrow: returns the number of buses added. */
  private grow(addr: Addr, flags: number): number {
    let add = addr.bus - this.buses.length + 1;
    if (add <= 0) return 0;
    let model: string;
    let needDMI = false;
    let needPCIeToPCI = false;
    if (flags & PCI_DEVICE) {
      if (this.areMultipleRootsSupported) model = 'pci-root';
      else {
        model = 'pci-bridge';
        needDMI = true;
        needPCIeToPCI = true;
        if (this.buses.some((b) => b.flags & PCI_BRIDGE)) {
          needDMI = false;
          needPCIeToPCI = false;
        }
        if (this.isPCIeToPCIBridgeSupported) needDMI = false;
        else needPCIeToPCI = false;
        if ((needDMI || needPCIeToPCI) && add === 1) {
          add++;
          addr.bus++;
        }
      }
    } else if (flags & (PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT)) {
      model = 'pcie-root-port';
    } else {
      const existing = connectTypeToModel(flags);
      if (existing) throw internal(`a PCI slot is needed to connect a PCI controller model='${existing}', but none is available, and it cannot be automatically added`);
      throw internal(`Cannot automatically add a new PCI bus for a device with connect flags ${flags.toString(16)}`);
    }
    let i = this.buses.length;
    for (let k = 0; k < add; k++) this.buses.push(newBus());
    if (needDMI) busSetModel(this.buses[i++]!, 'dmi-to-pci-bridge', false);
    if (needPCIeToPCI) {
      busSetModel(this.buses[i]!, 'pcie-root-port', true);
      this.buses[i]!.flags = PCIE_TO_PCI_BRIDGE;
      i++;
      busSetModel(this.buses[i++]!, 'pcie-to-pci-bridge', true);
    }
    for (; i < this.buses.length; i++) busSetModel(this.buses[i]!, model, true);
    return add;
  }

  slotInUse(addr: Addr): boolean {
    return this.buses[addr.bus]!.slots[addr.slot]!.functions !== 0;
  }

  /** virDomainPCIAddressReserveAddrInternal. */
  reserveAddr(addr: Addr, flags: number, fromConfig: boolean): void {
    if (this.dryRun) this.grow(addr, flags);
    this.validate(addr, flags, fromConfig);
    const bus = this.buses[addr.bus]!;
    const slot = bus.slots[addr.slot]!;
    if (slot.functions & (1 << addr.function)) {
      throw (fromConfig ? xmlError : internal)(`Attempted double use of PCI Address ${pciAddrString(addr)}`);
    }
    if (!slot.functions && flags & AGGREGATE_SLOT) slot.aggregate = true;
    slot.functions |= 1 << addr.function;
  }

  busIsFullyReserved(bus: Bus): boolean {
    for (let i = bus.minSlot; i <= bus.maxSlot; i++) if (!bus.slots[i]!.functions) return false;
    return true;
  }

  private findUnusedFunctionOnBus(bus: Bus, a: Addr, fn: number, flags: number): boolean {
    if (!this.flagsCompatible(a, bus.flags, flags, false, false)) return false;
    while (a.slot <= bus.maxSlot) {
      const slot = bus.slots[a.slot]!;
      if (slot.functions === 0) return true;
      if (flags & AGGREGATE_SLOT && slot.aggregate) {
        if ((slot.functions & (1 << a.function)) === 0) return true;
        if (fn === -1) {
          while (a.function < 8) {
            if ((slot.functions & (1 << a.function)) === 0) return true;
            a.function++;
          }
          a.function = 0;
        }
      }
      a.slot++;
    }
    return false;
  }

  /** virDomainPCIAddressGetNextAddr (isolation groups are not modelled: all devices share group 0). */
  private nextAddr(flags: number, fn: number): Addr {
    if (this.buses.length === 0) throw xmlError('No PCI buses available');
    const a: Addr = { domain: 0, bus: 0, slot: 0, function: fn === -1 ? 0 : fn };
    for (a.bus = 0; a.bus < this.buses.length; a.bus++) {
      const bus = this.buses[a.bus]!;
      a.slot = bus.minSlot;
      if (this.findUnusedFunctionOnBus(bus, a, fn, flags)) return a;
    }
    if (this.dryRun) {
      this.grow(a, flags);
      a.slot = this.buses[a.bus]!.minSlot;
      return a;
    }
    throw internal('No more available PCI slots');
  }

  /** virDomainPCIAddressReserveNextAddr: sets info.address unless this is the dry run. */
  reserveNextAddr(info: DeviceInfo, flags: number, fn = -1): Addr {
    const addr = this.nextAddr(flags, fn);
    this.reserveAddr(addr, flags, false);
    if (!this.dryRun) {
      const a: PciAddress = { type: 'pci', domain: addr.domain, bus: addr.bus, slot: addr.slot, function: addr.function };
      const old = info.address;
      if (old?.type === 'pci' && old.zpci) a.zpci = old.zpci;
      info.address = a;
    }
    return addr;
  }
}

// ---------------------------------------------------------------- device flags

function isPresent(info: DeviceInfo | undefined): info is DeviceInfo & { address: PciAddress } {
  const a = info?.address;
  return a?.type === 'pci' && (a.domain !== 0 || a.bus !== 0 || a.slot !== 0 || a.function !== 0);
}

function isWanted(info: DeviceInfo | undefined): boolean {
  const a = info?.address;
  return !a || (a.type === 'pci' && a.domain === 0 && a.bus === 0 && a.slot === 0 && a.function === 0);
}

export const isPciAddressPresent = isPresent;
export const isPciAddressWanted = isWanted;

const KNOWN_NET_MODELS = new Set([
  'virtio', 'virtio-transitional', 'virtio-non-transitional', 'e1000', 'e1000e', 'igb', 'rtl8139', 'netfront', 'usb-net', 'spapr-vlan',
  'lan9118', 'smc91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'Am79C970A', 'Am79C973', '82540EM', '82545EM', '82543GC',
]);

function deviceConnectFlags(dev: DomainDevice, pcieFlags: number, virtioFlags: number): number {
  const pciFlags = PCI_DEVICE | AUTOASSIGN;
  const virtioModel = (m: string | undefined): number => {
    if (m === 'virtio-transitional') return pciFlags;
    return virtioFlags;
  };
  switch (dev.kind) {
    case 'controller': {
      const c = dev.def;
      switch (c.type) {
        case 'pci': return pciControllerConnectType(c.model);
        case 'sata': return pciFlags;
        case 'usb':
          switch (c.model) {
            case undefined: return pciFlags;
            case 'nec-xhci':
            case 'qemu-xhci': return pcieFlags;
            case 'qusb1':
            case 'qusb2':
            case 'none': return 0;
            default: return pciFlags;
          }
        case 'ide': return pciFlags;
        case 'scsi':
          switch (c.model) {
            case undefined:
            case 'ncr53c90': return 0;
            case 'virtio-scsi':
            case 'virtio-non-transitional': return virtioFlags;
            default: return pciFlags;
          }
        case 'virtio-serial':
          return c.model === 'virtio-transitional' ? pciFlags : virtioFlags;
        default: return 0;
      }
    }
    case 'filesystem': {
      const fs = dev.def;
      const drv = fs.driver?.type;
      if (drv === undefined || drv === 'path' || drv === 'handle') return virtioModel(fs.model);
      if (drv === 'virtiofs') return virtioFlags;
      return 0;
    }
    case 'interface': {
      const net = dev.def;
      if (net.type === 'hostdev' || net.model === 'usb-net') return 0;
      if (net.model === 'virtio' || net.model === 'virtio-non-transitional') return virtioFlags;
      if (net.model === 'virtio-transitional') return pciFlags;
      if (net.model === 'e1000e' || net.model === 'igb') return pcieFlags;
      if (!net.model || !KNOWN_NET_MODELS.has(net.model)) return pcieFlags;
      return pciFlags;
    }
    case 'sound':
      return ['es1370', 'ac97', 'ich6', 'ich9'].includes(dev.def.model) ? pciFlags : 0;
    case 'disk':
      if (dev.def.bus !== 'virtio') return 0;
      return virtioModel(dev.def.model);
    case 'hostdev': {
      const h = dev.def;
      const isMdev = h.mode === 'subsystem' && h.type === 'mdev';
      if (!isMdev && (h.mode !== 'subsystem' || (h.type !== 'pci' && h.type !== 'scsi_host'))) return 0;
      if (pciFlags === pcieFlags) return pciFlags;
      if (isPresent(h.info)) return pcieFlags;
      if (isMdev) return pcieFlags;
      if (h.type === 'scsi_host') return virtioModel(h.scsiHostModel);
      // The host device is not inspected: assume PCI Express like libvirt does for absent devices.
      return pcieFlags;
    }
    case 'memballoon':
      switch (dev.def.model) {
        case 'virtio-transitional': return pciFlags;
        case 'virtio':
        case 'virtio-non-transitional': return virtioFlags;
        default: return 0;
      }
    case 'rng':
      return virtioModel(dev.def.model);
    case 'watchdog':
      return dev.def.model === 'i6300esb' ? pciFlags : 0;
    case 'video':
      switch (dev.def.type) {
        case 'virtio': return virtioFlags;
        case 'vga':
        case 'cirrus':
        case 'vmvga':
        case 'xen':
        case 'vbox':
        case 'qxl':
        case 'parallels': return pciFlags;
        case 'bochs': return pcieFlags;
        default: return 0;
      }
    case 'shmem':
      return pciFlags;
    case 'input':
      if (dev.def.bus !== 'virtio') return 0;
      return virtioModel(dev.def.model);
    case 'chr':
      return dev.def.deviceType === 'serial' && dev.def.targetType === 'pci-serial' ? pciFlags : 0;
    case 'iommu':
      return dev.def.model === 'virtio' ? virtioFlags | INTEGRATED : 0;
    case 'vsock':
      return dev.def.model ? virtioModel(dev.def.model) : 0;
    case 'memory':
      return dev.def.model === 'virtio-pmem' || dev.def.model === 'virtio-mem' ? virtioFlags : 0;
    case 'crypto':
      return pciFlags;
    case 'panic':
      return dev.def.model === 'pvpanic' ? pciFlags | INTEGRATED : 0;
    default:
      return 0;
  }
}

interface FlagsData {
  pcieFlags: number;
  virtioFlags: number;
}

function flagsData(def: DomainDef, caps: QemuCapabilities): FlagsData {
  const pcieFlags = hasPCIeRoot(def) ? PCIE_DEVICE | AUTOASSIGN : PCI_DEVICE | AUTOASSIGN;
  const virtioFlags = caps.has('virtio-pci-non-transitional') ? pcieFlags : PCI_DEVICE | AUTOASSIGN;
  return { pcieFlags, virtioFlags };
}

/** Devices in virDomainDeviceInfoIterate order, with their info block. */
function devicesWithInfo(def: DomainDef): Array<{ dev: DomainDevice; info: DeviceInfo }> {
  const out: Array<{ dev: DomainDevice; info: DeviceInfo }> = [];
  for (const dev of listDevices(def.devices)) {
    if (dev.kind === 'graphics' || dev.kind === 'audio' || dev.kind === 'lease') continue;
    const info = deviceInfoOf(dev);
    if (info) out.push({ dev, info });
  }
  return out;
}

// ---------------------------------------------------------------- assignment

class PciAssigner {
  readonly flags = new Map<DeviceInfo, number>();

  constructor(readonly def: DomainDef, readonly caps: QemuCapabilities) {}

  fillAllFlags(): void {
    const data = flagsData(this.def, this.caps);
    for (const { dev, info } of devicesWithInfo(this.def)) this.flags.set(info, deviceConnectFlags(dev, data.pcieFlags, data.virtioFlags));
  }

  fillDeviceFlags(dev: DomainDevice): void {
    const info = deviceInfoOf(dev);
    if (!info) return;
    const data = flagsData(this.def, this.caps);
    this.flags.set(info, deviceConnectFlags(dev, data.pcieFlags, data.virtioFlags));
  }

  flagsOf(info: DeviceInfo): number {
    return this.flags.get(info) ?? 0;
  }

  reserveNext(addrs: PciAddressSet, info: DeviceInfo): void {
    addrs.reserveNextAddr(info, this.flagsOf(info), -1);
  }

  createSet(nbuses: number, dryRun: boolean): PciAddressSet {
    const def = this.def;
    const addrs = new PciAddressSet(nbuses, dryRun);
    if (isPSeries(def)) addrs.areMultipleRootsSupported = true;
    if (this.caps.has('pcie-pci-bridge')) addrs.isPCIeToPCIBridgeSupported = true;
    let pcieRoot = false;
    for (const c of def.devices.controllers) {
      if (c.type !== 'pci') continue;
      if (c.index >= addrs.buses.length) throw internal(`Inappropriate new pci controller index ${c.index} exceeds addrs array length`);
      busSetModel(addrs.buses[c.index]!, c.model ?? 'pci-root', c.pci?.hotplug !== false);
      if (c.model === 'pcie-root') pcieRoot = true;
    }
    if (nbuses > 0 && !addrs.buses[0]!.model) busSetModel(addrs.buses[0]!, 'pci-root', true);
    const defaultModel = isPSeries(def) ? 'pci-root' : pcieRoot ? 'pcie-root-port' : 'pci-bridge';
    for (let i = 1; i < addrs.buses.length; i++) if (!addrs.buses[i]!.model) busSetModel(addrs.buses[i]!, defaultModel, true);
    // qemuDomainCollectPCIAddress
    for (const { dev, info } of devicesWithInfo(def)) {
      if (!isPresent(info)) continue;
      const addr = info.address;
      if (!this.flagsOf(info)) this.flags.set(info, PCI_DEVICE);
      if (dev.kind === 'controller' && addr.domain === 0 && addr.bus === 0 && addr.slot === 1) {
        const c = dev.def;
        if ((c.type === 'ide' && c.index === 0 && addr.function === 1)
          || (c.type === 'usb' && c.index === 0 && (c.model === 'piix3-uhci' || c.model === undefined) && addr.function === 2)) {
          if (addrs.buses.length > 0 && !(addrs.buses[0]!.flags & PCI_DEVICE)) throw internal('Bus 0 must be PCI for integrated PIIX3 USB or IDE controllers');
          continue;
        }
      }
      addrs.reserveAddr(addr, this.flagsOf(info), true);
    }
    return addrs;
  }

  validateSlotsPIIX3(addrs: PciAddressSet): void {
    const def = this.def;
    const flags = AUTOASSIGN | PCI_DEVICE;
    for (const c of def.devices.controllers) {
      let want: Addr | undefined;
      if (c.type === 'ide' && c.index === 0) {
        want = { domain: 0, bus: 0, slot: 1, function: 1 };
        if (isPresent(c.info)) {
          if (!sameAddr(c.info.address, want)) throw internal('Primary IDE controller must have PCI address 0:0:1.1');
        } else c.info.address = { type: 'pci', ...want };
      } else if (c.type === 'usb' && c.index === 0 && (c.model === 'piix3-uhci' || c.model === undefined)) {
        want = { domain: 0, bus: 0, slot: 1, function: 2 };
        if (isPresent(c.info)) {
          if (!sameAddr(c.info.address, want)) throw internal('PIIX3 USB controller at index 0 must have PCI address 0:0:1.2');
        } else c.info.address = { type: 'pci', ...want };
      } else continue;
      if (addrs.buses.length) addrs.reserveAddr(c.info.address as PciAddress, flags, true);
    }
    if (addrs.buses.length) {
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 1, function: 0 }, flags, true);
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 1, function: 3 }, flags, true);
    }
    this.primaryVideoSlot(addrs, 2, flags);
  }

  private primaryVideoSlot(addrs: PciAddressSet, slot: number, flags: number): void {
    const v = this.def.devices.videos[0];
    if (!v || v.type === 'none' || v.type === 'ramfb') return;
    if (!isWanted(v.info)) return;
    const tmp: Addr = { domain: 0, bus: 0, slot, function: 0 };
    addrs.validate(tmp, flags, true);
    if (addrs.slotInUse(tmp)) this.reserveNext(addrs, v.info);
    else {
      addrs.reserveAddr(tmp, flags, true);
      v.info.address = { type: 'pci', domain: 0, bus: 0, slot, function: 0 };
    }
  }

  validateSlotsQ35(addrs: PciAddressSet): void {
    const def = this.def;
    const flags = PCIE_DEVICE;
    for (const c of def.devices.controllers) {
      if (c.type === 'sata') {
        if (c.index !== 0) continue;
        const want = { domain: 0, bus: 0, slot: 0x1f, function: 2 };
        if (isPresent(c.info)) {
          if (!sameAddr(c.info.address, want)) throw internal('Primary SATA controller must have PCI address 0:0:1f.2');
        } else c.info.address = { type: 'pci', ...want };
      } else if (c.type === 'usb') {
        if (c.model === 'ich9-uhci1' && !c.info.address) {
          let slot: number | undefined;
          if (!addrs.slotInUse({ domain: 0, bus: 0, slot: 0x1d, function: 0 })) slot = 0x1d;
          else if (!addrs.slotInUse({ domain: 0, bus: 0, slot: 0x1a, function: 0 })) slot = 0x1a;
          if (slot !== undefined) {
            addrs.reserveAddr({ domain: 0, bus: 0, slot, function: 0 }, flags, true);
            c.info.address = { type: 'pci', domain: 0, bus: 0, slot, function: 0, multifunction: true };
          }
        }
      } else if (c.type === 'pci') {
        if (c.model === 'dmi-to-pci-bridge' && !c.info.address) {
          const tmp = { domain: 0, bus: 0, slot: 0x1e, function: 0 };
          if (!addrs.slotInUse(tmp)) {
            addrs.reserveAddr(tmp, flags, true);
            c.info.address = { type: 'pci', ...tmp };
          }
        }
      }
    }
    if (addrs.buses.length) {
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 0x1f, function: 0 }, flags, true);
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 0x1f, function: 3 }, flags, true);
    }
    this.primaryVideoSlot(addrs, 1, flags);
    const tmp = { domain: 0, bus: 0, slot: 0x1b, function: 0 };
    if (!addrs.slotInUse(tmp)) {
      for (const s of def.devices.sounds) {
        if (s.model !== 'ich9' || !isWanted(s.info)) continue;
        addrs.reserveAddr(tmp, flags, true);
        s.info.address = { type: 'pci', ...tmp };
        break;
      }
    }
  }

  validateSlotsChipsets(addrs: PciAddressSet): void {
    if (isI440FX(this.def)) this.validateSlotsPIIX3(addrs);
    if (isQ35(this.def)) this.validateSlotsQ35(addrs);
  }

  /** qemuDomainAssignDevicePCISlots. */
  assignDeviceSlots(addrs: PciAddressSet): void {
    const d = this.def.devices;
    const next = (info: DeviceInfo) => this.reserveNext(addrs, info);
    for (const c of d.controllers) {
      if (c.type !== 'pci') continue;
      if (c.model === 'pci-root' || c.model === 'pcie-root' || !isWanted(c.info)) continue;
      next(c.info);
    }
    for (const fs of d.filesystems) if (isWanted(fs.info) && this.flagsOf(fs.info)) next(fs.info);
    for (const net of d.interfaces) {
      if (net.type === 'hostdev' || !isWanted(net.info)) continue;
      if (!this.flagsOf(net.info)) continue;
      next(net.info);
    }
    for (const s of d.sounds) {
      if (!isWanted(s.info)) continue;
      if (s.model === 'sb16' || s.model === 'pcspk' || s.model === 'usb' || s.model === 'ich7') continue;
      next(s.info);
    }
    for (const c of d.controllers) {
      if (c.type === 'pci') continue;
      if (c.type === 'usb' && c.model === 'none') continue;
      if (c.type === 'fdc' || c.type === 'ccid') continue;
      if (c.type === 'ide' && c.index === 0) continue;
      if (c.type === 'scsi' && c.model === 'ncr53c90') continue;
      if (!isWanted(c.info)) continue;
      if (!this.flagsOf(c.info)) continue;
      if (isUsb2(c)) {
        let addr: Addr = { domain: 0, bus: 0, slot: 0, function: 0 };
        let found = false;
        for (const o of d.controllers) {
          if (isUsb2(o) && o.index === c.index && isPresent(o.info)) {
            const a = o.info.address as PciAddress;
            addr = { domain: a.domain, bus: a.bus, slot: a.slot, function: a.function };
            found = true;
            break;
          }
        }
        let multi: boolean | undefined;
        switch (c.model) {
          case 'ich9-ehci1': addr.function = 7; break;
          case 'ich9-uhci1': addr.function = 0; multi = true; break;
          case 'ich9-uhci2': addr.function = 1; break;
          case 'ich9-uhci3': addr.function = 2; break;
        }
        if (found) {
          addrs.reserveAddr(addr, this.flagsOf(c.info), true);
          c.info.address = { type: 'pci', domain: addr.domain, bus: addr.bus, slot: addr.slot, function: addr.function };
          if (multi !== undefined) (c.info.address as PciAddress).multifunction = multi;
        } else {
          addrs.reserveNextAddr(c.info, this.flagsOf(c.info), addr.function);
          const a = c.info.address;
          if (a?.type === 'pci') {
            if (multi !== undefined) a.multifunction = multi;
            else delete a.multifunction;
          }
        }
      } else next(c.info);
    }
    for (const disk of d.disks) {
      if (disk.bus !== 'virtio') continue;
      if (isPresent(disk.info) || disk.info.address?.type === 'ccw') continue;
      if (disk.info.address?.type === 'virtio-mmio' && this.caps.has('virtio-mmio')) continue;
      if (!isWanted(disk.info)) {
        throw new VirtError('CONFIG_UNSUPPORTED', `virtio disk cannot have an address of type '${disk.info.address?.type}'`, { origin: 'qemu' });
      }
      next(disk.info);
    }
    for (const h of d.hostdevs) {
      if (!isWanted(h.info) || h.mode !== 'subsystem') continue;
      if (h.type !== 'pci' && h.type !== 'scsi_host' && !(h.type === 'mdev' && h.mdevModel === 'vfio-pci')) continue;
      if (h.info.address?.type === 'unassigned') continue;
      next(h.info);
    }
    if (d.memballoon && d.memballoon.model !== 'none' && isWanted(d.memballoon.info)) next(d.memballoon.info);
    for (const r of d.rngs) if (isWanted(r.info)) next(r.info);
    for (const w of d.watchdogs) if (w.model === 'i6300esb' && isWanted(w.info)) next(w.info);
    for (const v of d.videos) {
      if (v.type === 'none' || v.type === 'ramfb') continue;
      if (!isWanted(v.info)) continue;
      if (!this.flagsOf(v.info)) continue;
      next(v.info);
    }
    for (const s of d.shmems) if (isWanted(s.info)) next(s.info);
    for (const i of d.inputs) if (i.bus === 'virtio' && isWanted(i.info)) next(i.info);
    for (const s of d.serials) if (s.targetType === 'pci-serial' && isWanted(s.info)) next(s.info);
    if (d.iommu?.model === 'virtio' && isWanted(d.iommu.info)) next(d.iommu.info);
    if (d.vsock && isWanted(d.vsock.info)) next(d.vsock.info);
    for (const m of d.memories) if ((m.model === 'virtio-pmem' || m.model === 'virtio-mem') && isWanted(m.info)) next(m.info);
    for (const c of d.cryptos) if (isWanted(c.info)) next(c.info);
    for (const p of d.panics) if (p.model === 'pvpanic' && isWanted(p.info)) next(p.info);
  }

  /** virDomainPCIAddressSetAllMulti. */
  setAllMulti(): void {
    const infos = devicesWithInfo(this.def).map((x) => x.info);
    for (const info of infos) {
      const t = info.address;
      if (t?.type !== 'pci' || t.function === 0) continue;
      for (const o of infos) {
        const a = o.address;
        if (a?.type === 'pci' && a.domain === t.domain && a.bus === t.bus && a.slot === t.slot && a.function === 0) {
          if (a.multifunction === undefined) a.multifunction = true;
          break;
        }
      }
    }
  }
}

function sameAddr(a: PciAddress | undefined | { type: string }, b: Addr): boolean {
  const p = a as PciAddress;
  return p.domain === b.domain && p.bus === b.bus && p.slot === b.slot && p.function === b.function;
}

function isUsb2(c: ControllerDef): boolean {
  return c.type === 'usb' && ['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'].includes(c.model ?? '');
}

function findNewBusNr(def: DomainDef): number {
  let lowest = 256;
  for (const c of def.devices.controllers) {
    if (c.type !== 'pci') continue;
    const n = c.pci?.busNr;
    if (n !== undefined && n >= 0 && n < lowest) lowest = n;
  }
  if (lowest <= 2) return -1;
  return lowest - 2;
}

function setDefaultModelName(c: ControllerDef, def: DomainDef, caps: QemuCapabilities): void {
  if (c.pci?.modelName) return;
  let name: string | undefined;
  switch (c.model) {
    case 'pci-bridge': name = 'pci-bridge'; break;
    case 'dmi-to-pci-bridge': name = 'i82801b11-bridge'; break;
    case 'pcie-to-pci-bridge': name = 'pcie-pci-bridge'; break;
    case 'pcie-root-port': name = caps.has('pcie-root-port') ? 'pcie-root-port' : 'ioh3420'; break;
    case 'pcie-switch-upstream-port': name = 'x3130-upstream'; break;
    case 'pcie-switch-downstream-port': name = 'xio3130-downstream'; break;
    case 'pci-expander-bus': name = 'pxb'; break;
    case 'pcie-expander-bus': name = 'pxb-pcie'; break;
    case 'pci-root': if (isPSeries(def)) name = 'spapr-pci-host-bridge'; break;
    default: break;
  }
  if (name) (c.pci ??= {}).modelName = name;
}

/** qemuDomainAssignPCIAddresses. */
export function assignPciAddresses(def: DomainDef, caps: QemuCapabilities): void {
  const as = new PciAssigner(def, caps);
  let maxIdx = -1;
  for (const c of def.devices.controllers) if (c.type === 'pci' && c.index > maxIdx) maxIdx = c.index;
  let nbuses = maxIdx + 1;
  as.fillAllFlags();

  if (nbuses > 0) {
    const addrs = as.createSet(nbuses, true);
    as.validateSlotsChipsets(addrs);
    if (hasPCIRoot(def)) {
      const dummy: DeviceInfo = {};
      as.flags.set(dummy, AUTOASSIGN | PCI_DEVICE);
      if (!addrs.buses.every((b) => addrs.busIsFullyReserved(b))) as.reserveNext(addrs, dummy);
    }
    as.assignDeviceSlots(addrs);
    if (maxIdx <= 0 && addrs.buses.length > maxIdx + 1 && hasPCIeRoot(def)) {
      const dummy: DeviceInfo = {};
      as.flags.set(dummy, AUTOASSIGN | PCIE_DEVICE);
      as.reserveNext(addrs, dummy);
    }
    for (let i = 1; i < addrs.buses.length; i++) {
      const bus = addrs.buses[i]!;
      if (def.devices.controllers.some((c) => c.type === 'pci' && c.index === i)) continue;
      const cont: ControllerDef = { type: 'pci', index: i, model: bus.model!, info: {} };
      def.devices.controllers.push(cont);
      as.fillDeviceFlags({ kind: 'controller', def: cont });
      if (bus.model !== 'pci-root' && bus.model !== 'pcie-root') as.reserveNext(addrs, cont.info);
    }
    nbuses = addrs.buses.length;
  }

  const addrs = as.createSet(nbuses, false);
  if (!supportsPCI(def)) return;
  as.validateSlotsChipsets(addrs);
  as.assignDeviceSlots(addrs);
  as.setAllMulti();
  for (const c of def.devices.controllers) {
    if (c.type !== 'pci') continue;
    setDefaultModelName(c, def, caps);
    const a = c.info.address?.type === 'pci' ? c.info.address : undefined;
    const o = (c.pci ??= {});
    switch (c.model) {
      case 'pci-bridge':
        if (o.chassisNr === undefined) o.chassisNr = c.index;
        break;
      case 'pcie-root-port':
        if (o.chassis === undefined) o.chassis = c.index;
        if (o.port === undefined && a) o.port = (a.slot << 3) + a.function;
        break;
      case 'pcie-switch-downstream-port':
        if (o.chassis === undefined) o.chassis = c.index;
        if (o.port === undefined && a) o.port = a.slot;
        break;
      case 'pci-expander-bus':
      case 'pcie-expander-bus':
        if (o.busNr === undefined) {
          const n = findNewBusNr(def);
          if (n === -1) {
            throw new VirtError('CONFIG_UNSUPPORTED', `No free busNr lower than current lowest busNr is available to auto-assign to bus ${a?.bus ?? 0}. Must be manually assigned`, { origin: 'qemu' });
          }
          o.busNr = n;
        }
        break;
      default:
        break;
    }
    if (Object.keys(o).length === 0) delete c.pci;
    if (c.model === 'pci-bridge' && a && c.index <= a.bus) {
      const h = (n: number) => n.toString(16).padStart(2, '0');
      throw new VirtError('CONFIG_UNSUPPORTED', `PCI controller at index ${c.index} (0x${h(c.index)}) has bus='0x${h(a.bus)}', but index must be larger than bus`, { origin: 'qemu' });
    }
  }
}

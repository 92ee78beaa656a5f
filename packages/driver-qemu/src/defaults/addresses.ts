/**
 * Address assignment of the QEMU driver (qemuDomainAssignAddresses):
 * virtio-serial ports, PCI slots, USB ports (with hubs added when the
 * controllers run out of ports) and memory-module slots.
 */
import { VirtError, deviceInfoOf, listDevices, maybeAddController, type DeviceInfo, type DomainDef, type HubDef, type UsbAddress } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import { assignPciAddresses } from './pci-address.js';
import { isPSeries } from './machine.js';

function xmlError(msg: string): VirtError {
  return new VirtError('XML_ERROR', msg, { origin: 'qemu' });
}

// ---------------------------------------------------------------- virtio-serial

const DEFAULT_VIRTIO_SERIAL_PORTS = 31;

interface VsController {
  idx: number;
  ports: boolean[];
}

class VirtioSerialAddrSet {
  controllers: VsController[] = [];

  addController(idx: number, ports: number | undefined): void {
    const n = ports === undefined ? DEFAULT_VIRTIO_SERIAL_PORTS : ports;
    const c: VsController = { idx, ports: new Array<boolean>(n).fill(false) };
    const at = this.controllers.findIndex((x) => x.idx > idx);
    if (at < 0) this.controllers.push(c);
    else this.controllers.splice(at, 0, c);
  }

  reserve(controller: number, port: number): void {
    const c = this.controllers.find((x) => x.idx === controller);
    if (!c) throw xmlError(`virtio serial controller ${controller} is missing`);
    if (port >= c.ports.length) throw xmlError(`virtio serial controller ${controller} does not have port ${port}`);
    if (c.ports[port]) throw xmlError(`virtio serial port ${port} on controller ${controller} is already occupied`);
    c.ports[port] = true;
  }
}

function nextClear(map: boolean[], after: number): number {
  for (let i = after + 1; i < map.length; i++) if (!map[i]) return i;
  return -1;
}

function assignVirtioSerialAddresses(def: DomainDef): void {
  const addrs = new VirtioSerialAddrSet();
  for (const c of def.devices.controllers) if (c.type === 'virtio-serial') addrs.addController(c.index, c.ports);
  const all = [...def.devices.serials, ...def.devices.parallels, ...def.devices.channels, ...def.devices.consoles];
  for (const chr of all) {
    const a = chr.info.address;
    if (a?.type === 'virtio-serial' && a.port !== 0) addrs.reserve(a.controller, a.port);
  }
  const assign = (info: DeviceInfo, allowZero: boolean): void => {
    const a = info.address;
    if (a?.type === 'virtio-serial' && a.port !== 0) return;
    const startPort = allowZero ? -1 : 0;
    let controller = 0;
    let port = -1;
    if (a?.type === 'virtio-serial') {
      // portOnly: a controller was chosen, pick its first free port.
      const c = addrs.controllers.find((x) => x.idx === a.controller);
      if (!c) throw new VirtError('INTERNAL_ERROR', `virtio-serial controller ${a.controller} not available`, { origin: 'qemu' });
      port = nextClear(c.ports, 0);
      if (port <= 0) throw xmlError(`Unable to find a free port on virtio-serial controller ${a.controller}`);
      controller = a.controller;
    } else {
      if (addrs.controllers.length === 0) throw new VirtError('INTERNAL_ERROR', 'no virtio-serial controllers are available', { origin: 'qemu' });
      for (const c of addrs.controllers) {
        const p = nextClear(c.ports, startPort);
        if (p >= 0) {
          controller = c.idx;
          port = p;
          break;
        }
      }
      if (port < 0) {
        for (let i = 0; ; i++) {
          if (!def.devices.controllers.some((c) => c.type === 'virtio-serial' && c.index === i)) {
            const c = maybeAddController(def, 'virtio-serial', i);
            addrs.addController(i, c?.ports);
            controller = i;
            port = startPort + 1;
            break;
          }
        }
      }
    }
    addrs.reserve(controller, port);
    // Consoles get a port reserved but keep no address (libvirt assigns into a scratch info).
    if (!allowZero) info.address = { type: 'virtio-serial', controller, bus: 0, port };
  };
  for (const chr of def.devices.consoles) if (chr.targetType === 'virtio') assign(chr.info, true);
  for (const chr of def.devices.channels) if (chr.targetType === 'virtio') assign(chr.info, false);
}

// ---------------------------------------------------------------- USB

const USB_HUB_PORTS = 8;

interface UsbHub {
  portmap: boolean[];
  ports: Array<UsbHub | undefined>;
}

function newHub(n: number): UsbHub {
  return { portmap: new Array<boolean>(n).fill(false), ports: new Array<UsbHub | undefined>(n).fill(undefined) };
}

function usbControllerPorts(model: string | undefined, ports: number | undefined): number {
  switch (model) {
    case undefined:
    case 'piix3-uhci':
    case 'piix4-uhci':
    case 'vt82c686b-uhci':
      return 2;
    case 'ehci':
    case 'ich9-ehci1':
      return 6;
    case 'ich9-uhci1':
    case 'ich9-uhci2':
    case 'ich9-uhci3':
      return 0;
    case 'pci-ohci':
      return 3;
    case 'nec-xhci':
    case 'qemu-xhci':
      return ports ?? 4;
    case 'qusb1':
    case 'qusb2':
      return ports ?? 8;
    default:
      return 0;
  }
}

function portPath(a: UsbAddress): number[] {
  return a.port ? a.port.split('.').map(Number) : [];
}

/** Infos of every USB device in virDomainUSBDeviceDefForeach order. */
export function usbDeviceInfos(def: DomainDef, skipHubs: boolean): DeviceInfo[] {
  const d = def.devices;
  const out: DeviceInfo[] = [];
  if (!skipHubs) for (const h of d.hubs) if (h.type === 'usb') out.push(h.info);
  for (const h of d.hostdevs) if (h.mode === 'subsystem' && h.type === 'usb') out.push(h.info);
  for (const disk of d.disks) if (disk.bus === 'usb') out.push(disk.info);
  for (const c of d.controllers) if (c.type === 'ccid') out.push(c.info);
  for (const i of d.inputs) if (i.bus === 'usb') out.push(i.info);
  for (const s of d.serials) if (s.targetType === 'usb-serial') out.push(s.info);
  for (const s of d.sounds) if (s.model === 'usb') out.push(s.info);
  for (const r of d.redirdevs) if (r.bus === 'usb') out.push(r.info);
  return out;
}

class UsbAddressSet {
  buses: Array<UsbHub | undefined> = [];

  addControllers(def: DomainDef): void {
    for (const c of def.devices.controllers) {
      if (c.type !== 'usb') continue;
      const n = usbControllerPorts(c.model, c.ports);
      if (n === 0) continue;
      if (this.buses[c.index]) throw xmlError(`Duplicate USB controllers with index ${c.index}`);
      this.buses[c.index] = newHub(n);
    }
    for (const hub of def.devices.hubs) {
      const a = hub.info.address;
      if (hub.type === 'usb' && a?.type === 'usb' && a.port) this.addHub(hub);
    }
  }

  private findPort(a: UsbAddress): { hub: UsbHub; idx: number } {
    const portStr = a.port ?? '';
    let hub = this.buses[a.bus];
    if (!hub) throw xmlError(`Missing USB bus ${a.bus}`);
    const path = portPath(a);
    for (let i = 0; i < path.length - 1; i++) {
      const idx = path[i]! - 1;
      if (hub.ports.length <= idx) throw xmlError(`port ${path[i]} out of range in USB address bus: ${a.bus} port: ${portStr}`);
      const next: UsbHub | undefined = hub.ports[idx];
      if (!next) throw xmlError(`there is no hub at port ${path[i]} in USB address bus: ${a.bus} port: ${portStr}`);
      hub = next;
    }
    const target = path[path.length - 1]! - 1;
    if (target >= hub.portmap.length) throw xmlError(`requested USB port ${portStr} not present on USB bus ${a.bus}`);
    return { hub, idx: target };
  }

  addHub(hub: HubDef): void {
    const a = hub.info.address;
    if (a?.type !== 'usb') throw xmlError('Wrong address type for USB hub');
    const { hub: target, idx } = this.findPort(a);
    if (target.ports[idx]) throw xmlError(`Duplicate USB hub on bus ${a.bus} port ${a.port ?? ''}`);
    target.portmap[idx] = true;
    target.ports[idx] = newHub(USB_HUB_PORTS);
  }

  reserve(info: DeviceInfo): void {
    const a = info.address;
    if (a?.type !== 'usb' || !a.port) return;
    const { hub, idx } = this.findPort(a);
    if (hub.portmap[idx]) throw xmlError(`Duplicate USB address bus ${a.bus} port ${a.port}`);
    hub.portmap[idx] = true;
  }

  private findFree(hub: UsbHub, path: number[], level: number): boolean {
    const free = hub.portmap.findIndex((x) => !x);
    if (free >= 0) {
      path[level] = free + 1;
      return true;
    }
    if (level >= 3) return false;
    for (let i = 0; i < hub.ports.length; i++) {
      const h = hub.ports[i];
      if (!h) continue;
      if (!this.findFree(h, path, level + 1)) continue;
      path[level] = i + 1;
      return true;
    }
    return false;
  }

  private assignFromBus(info: DeviceInfo, bus: number): boolean {
    const hub = this.buses[bus];
    if (!hub) return false;
    const path: number[] = [];
    if (!this.findFree(hub, path, 0)) return false;
    info.address = { type: 'usb', bus, port: path.join('.') };
    this.reserve(info);
    return true;
  }

  assign(info: DeviceInfo): void {
    const a = info.address;
    if (a?.type === 'usb') {
      if (!this.buses[a.bus]) throw xmlError(`USB bus ${a.bus} requested but no controller with that index is present`);
      if (this.assignFromBus(info, a.bus)) return;
    } else {
      for (let i = 0; i < this.buses.length; i++) if (this.assignFromBus(info, i)) return;
    }
    throw new VirtError('INTERNAL_ERROR', 'No free USB ports', { origin: 'qemu' });
  }
}

function hasUsb(def: DomainDef): boolean {
  return def.devices.controllers.some((c) => c.type === 'usb' && c.model !== 'none');
}

function usbAddressPresent(info: DeviceInfo): boolean {
  const a = info.address;
  return a?.type === 'usb' && !!a.port;
}

function assignUsbAddresses(def: DomainDef, newDomain: boolean): void {
  if (!newDomain && !usbDeviceInfos(def, false).every(usbAddressPresent)) return;
  const set = new UsbAddressSet();
  // qemuDomainUSBAddressAddHubs
  let available = 0;
  for (const c of def.devices.controllers) if (c.type === 'usb') available += usbControllerPorts(c.model, c.ports);
  for (const h of def.devices.hubs) if (h.type === 'usb') available += USB_HUB_PORTS;
  const count = usbDeviceInfos(def, false).length;
  if (count > 0 && !hasUsb(def)) {
    throw new VirtError('CONFIG_UNSUPPORTED', 'USB is disabled for this domain, but USB devices are present in the domain XML', { origin: 'qemu' });
  }
  if (count > available) {
    const needed = Math.ceil((count - available + 1) / (USB_HUB_PORTS - 1));
    for (let i = 0; i < needed; i++) def.devices.hubs.push({ type: 'usb', info: {} });
  }
  set.addControllers(def);
  for (const info of usbDeviceInfos(def, true)) set.reserve(info);
  for (const hub of def.devices.hubs) {
    if (hub.type !== 'usb') continue;
    if (usbAddressPresent(hub.info)) continue;
    set.assign(hub.info);
    set.addHub(hub);
  }
  for (const info of usbDeviceInfos(def, true)) {
    const a = info.address;
    if (a && a.type !== 'usb') continue;
    if (usbAddressPresent(info)) continue;
    set.assign(info);
  }
}

// ---------------------------------------------------------------- memory slots

function assignMemorySlots(def: DomainDef): void {
  const mem = def.memory;
  if (!mem.max || !mem.slots) return;
  const used = new Array<boolean>(mem.slots).fill(false);
  for (const m of def.devices.memories) {
    const a = m.info.address;
    if (a?.type === 'dimm' && a.slot < used.length) used[a.slot] = true;
  }
  for (const m of def.devices.memories) {
    if (m.model !== 'dimm' && m.model !== 'nvdimm') continue;
    if (m.info.address?.type === 'dimm') continue;
    const slot = used.findIndex((x) => !x);
    if (slot < 0) throw new VirtError('INTERNAL_ERROR', 'failed to find an empty memory slot', { origin: 'qemu' });
    used[slot] = true;
    m.info.address = { type: 'dimm', slot };
  }
}

/** Default spapr-vio registers (QEMU's spapr_llan/vscsi/vty/nvram/tpm). */
const VIO_ADDR = { net: 0x1000, scsi: 0x2000, serial: 0x30000000, nvram: 0x3000, tpm: 0x4000 };

/** qemuDomainAssignSpaprVIOAddress: the default register, moved on by 0x1000 while taken. */
function assignSpaprVio(def: DomainDef, info: DeviceInfo, defaultReg: number): void {
  const a = info.address;
  if (a?.type !== 'spapr-vio') return;
  const user = a.reg !== undefined;
  if (!user) a.reg = defaultReg;
  const infos = listDevices(def.devices).map(deviceInfoOf).filter((x): x is DeviceInfo => !!x && x !== info);
  const taken = () => infos.some((x) => x.address?.type === 'spapr-vio' && x.address.reg === a.reg);
  while (taken()) {
    if (user) throw new VirtError('XML_ERROR', `spapr-vio address 0x${a.reg!.toString(16)} already in use`, { origin: 'qemu' });
    a.reg! += 0x1000;
  }
}

/** qemuDomainAssignSpaprVIOAddresses. */
function assignSpaprVioAddresses(def: DomainDef): void {
  const pseries = isPSeries(def);
  for (const n of def.devices.interfaces) {
    if (n.model === 'spapr-vlan') n.info.address = n.info.address?.type === 'spapr-vio' ? n.info.address : { type: 'spapr-vio' };
    assignSpaprVio(def, n.info, VIO_ADDR.net);
  }
  for (const c of def.devices.controllers) {
    if (c.type === 'scsi' && c.model === 'ibmvscsi') c.info.address = c.info.address?.type === 'spapr-vio' ? c.info.address : { type: 'spapr-vio' };
    assignSpaprVio(def, c.info, VIO_ADDR.scsi);
  }
  for (const s of def.devices.serials) {
    if (pseries && s.targetType !== 'isa-serial' && !s.info.address) s.info.address = { type: 'spapr-vio' };
    assignSpaprVio(def, s.info, VIO_ADDR.serial);
  }
  if (def.devices.nvram) {
    if (pseries && !def.devices.nvram.info.address) def.devices.nvram.info.address = { type: 'spapr-vio' };
    assignSpaprVio(def, def.devices.nvram.info, VIO_ADDR.nvram);
  }
  for (const t of def.devices.tpms) {
    if (pseries && t.model !== 'spapr-tpm-proxy' && !t.info.address) t.info.address = { type: 'spapr-vio' };
    assignSpaprVio(def, t.info, VIO_ADDR.tpm);
  }
}

/** qemuDomainAssignAddresses (virtio-mmio and CCW are not modelled). */
export function assignQemuAddresses(def: DomainDef, caps: QemuCapabilities, newDomain: boolean): void {
  assignVirtioSerialAddresses(def);
  assignSpaprVioAddresses(def);
  assignPciAddresses(def, caps);
  assignUsbAddresses(def, newDomain);
  assignMemorySlots(def);
}

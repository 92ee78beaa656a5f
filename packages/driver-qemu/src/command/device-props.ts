/**
 * -device JSON of the guest devices (qemuBuild*DevProps): bus addresses,
 * virtio model names and per-device properties.
 */
import {
  VirtError, diskNameToIndex,
  type ControllerDef, type DeviceInfo, type DiskDef, type DomainDef, type VirtioOptions,
} from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import { isPSeries, isQ35 } from '../defaults/machine.js';
import { findScsiController, hasBuiltinIDE } from './alias.js';
import { addProps, nz, onOff, props, type JsonObject } from './json.js';
import { cachemodeFlags } from './storage.js';
import type { BuildState } from './state.js';

function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

function controllerAlias(def: DomainDef, type: string, index: number): string {
  const c = def.devices.controllers.find((x) => x.type === type && x.index === index);
  if (!c?.info.alias) throw internal(`Could not find ${type} controller with index ${index} required for device`);
  return c.info.alias;
}

function pciBus(def: DomainDef, bus: number): string {
  const c = def.devices.controllers.find((x) => x.type === 'pci' && x.index === bus);
  if (!c?.info.alias) throw internal(`Could not find PCI controller with index '${bus}' required for device`);
  let alias = c.info.alias;
  if (alias.startsWith('ua-')) {
    if (!isPSeries(def) && c.model === 'pci-root') alias = 'pci.0';
    else if (c.model === 'pcie-root') alias = 'pcie.0';
  }
  return alias;
}

/** qemuBuildDeviceAddressProps: appends bus/addr (or port, nr, unit…) to a device. */
export function addAddressProps(o: JsonObject, def: DomainDef, info: DeviceInfo, diskBus?: string): JsonObject {
  const a = info.address;
  if (!a) return o;
  switch (a.type) {
    case 'pci': {
      const addr = a.function !== 0 ? `0x${a.slot.toString(16)}.0x${a.function.toString(16)}` : `0x${a.slot.toString(16)}`;
      return addProps(o, [['bus', pciBus(def, a.bus)], ['multifunction', a.multifunction], ['addr', addr], ['acpi-index', nz(info.acpiIndex)]]);
    }
    case 'usb':
      return addProps(o, [['bus', `${controllerAlias(def, 'usb', a.bus)}.0`], ['port', a.port || undefined]]);
    case 'isa':
      return addProps(o, [['iobase', a.iobase ?? 0], ['irq', nz(a.irq)]]);
    case 'dimm':
      return addProps(o, [['slot', a.slot], ['addr', a.base !== undefined && a.base !== 0n ? Number(a.base) : undefined]]);
    case 'virtio-serial':
      return addProps(o, [['bus', `${controllerAlias(def, 'virtio-serial', a.controller)}.${a.bus}`], ['nr', a.port]]);
    case 'ccw': {
      const h = (n: number | undefined, w: number) => (n ?? 0).toString(16).padStart(w, '0');
      return addProps(o, [['devno', `${h(a.cssid, 1)}.${h(a.ssid, 1)}.${h(a.devno, 4)}`]]);
    }
    case 'drive':
      return addDriveAddress(o, def, info, diskBus);
    case 'spapr-vio':
      return addProps(o, [['reg', a.reg]]);
    default:
      return o;
  }
}

function addDriveAddress(o: JsonObject, def: DomainDef, info: DeviceInfo, diskBus: string | undefined): JsonObject {
  const a = info.address;
  if (a?.type !== 'drive') return o;
  switch (diskBus) {
    case 'ide': {
      const alias = hasBuiltinIDE(def) ? 'ide' : controllerAlias(def, 'ide', a.controller);
      return addProps(o, [['bus', `${alias}.${a.bus}`], ['unit', a.unit]]);
    }
    case 'sata': {
      const alias = isQ35(def) && a.controller === 0 ? 'ide' : controllerAlias(def, 'sata', a.controller);
      return addProps(o, [['bus', `${alias}.${a.unit}`]]);
    }
    case 'fdc':
      return addProps(o, [['unit', a.unit]]);
    case 'scsi': {
      const c = findScsiController(def, a.controller);
      if (!c) throw internal(`unable to find a SCSI controller for idx=${a.controller}`);
      switch (c.model) {
        case 'lsilogic':
        case 'ncr53c90':
        case 'dc390':
        case 'am53c974':
          return addProps(o, [['bus', `${c.info.alias}.${a.bus}`], ['scsi-id', a.unit]]);
        default:
          return addProps(o, [['bus', `${c.info.alias}.0`], ['channel', a.bus], ['scsi-id', a.target], ['lun', a.unit]]);
      }
    }
    default:
      throw internal(`address type drive is not supported for bus '${diskBus ?? ''}'`);
  }
}

/** qemuBuildVirtioDevProps: "<base>-pci" (+ -transitional/-non-transitional) and the virtio switches. */
export function virtioDevProps(base: string, info: DeviceInfo, caps: QemuCapabilities, model: string | undefined, virtio: VirtioOptions | undefined, busSuffix = true): JsonObject {
  let name = base;
  const a = info.address;
  let impl: string;
  switch (a?.type) {
    case 'pci': impl = 'pci'; break;
    case 'virtio-mmio': impl = 'device'; break;
    case 'ccw': impl = 'ccw'; break;
    default:
      throw internal(`Unexpected address type for '${base}'`);
  }
  if (busSuffix) name += `-${impl}`;
  if (model === 'virtio-transitional') {
    if (caps.has('virtio-pci-non-transitional')) name += '-transitional';
  } else if (model === 'virtio-non-transitional') {
    if (!caps.has('virtio-pci-non-transitional')) throw new VirtError('CONFIG_UNSUPPORTED', 'virtio non-transitional model not supported for this qemu', { origin: 'qemu' });
    name += '-non-transitional';
  }
  return props([
    ['driver', name], ['iommu_platform', virtio?.iommu], ['ats', virtio?.ats], ['packed', virtio?.packed], ['page-per-vq', virtio?.pagePerVq],
  ]);
}

/** qemuBuildRomProps. */
export function addRomProps(o: JsonObject, info: DeviceInfo): JsonObject {
  const rom = info.rom;
  if (!rom || (rom.enabled === undefined && rom.bar === undefined && rom.file === undefined)) return o;
  if (info.address?.type !== 'pci') throw new VirtError('CONFIG_UNSUPPORTED', 'ROM tuning is only supported for PCI devices', { origin: 'qemu' });
  let romfile: string | undefined;
  let rombar: number | undefined;
  if (rom.enabled === false) romfile = '';
  else {
    romfile = rom.file;
    if (rom.bar !== undefined) rombar = rom.bar ? 1 : 0;
  }
  return addProps(o, [['rombar', rombar], ['romfile', romfile]]);
}

/** The block node a disk device uses (qemuDomainDiskGetBackendAlias). */
export function diskBackendNode(state: BuildState, disk: DiskDef): string | undefined {
  const cor = state.corNodes.get(disk.dst);
  if (cor) return cor;
  const p = state.srcPriv(disk.src);
  return p?.formatNode;
}

function escapeSpaces(s: string): string {
  return s.replace(/ /g, '\\ ');
}

/** qemuBuildDiskDeviceProps. */
export function diskDeviceProps(state: BuildState, disk: DiskDef, bootindex: number | undefined, emptyDrive: boolean): JsonObject {
  const { def, caps } = state;
  let o: JsonObject = {};
  let driver: string | undefined;
  let scsiVPD: string | undefined;
  let removable: boolean | undefined;
  switch (disk.bus) {
    case 'ide':
    case 'sata':
      driver = disk.device === 'cdrom' ? 'ide-cd' : 'ide-hd';
      break;
    case 'scsi':
      if (disk.device === 'lun') driver = 'scsi-block';
      else {
        if (disk.device === 'cdrom') driver = 'scsi-cd';
        else {
          driver = 'scsi-hd';
          removable = disk.removable;
        }
        scsiVPD = disk.serial ?? `drive-${disk.info.alias ?? ''}`;
      }
      break;
    case 'virtio': {
      let scsi: boolean | undefined;
      if (disk.src.type !== 'vhostuser' && caps.has('virtio-blk-pci.scsi')) {
        if (disk.device === 'lun') scsi = true;
        else if (!caps.has('virtio-blk-pci.scsi.default.disabled')) scsi = false;
      }
      const base = disk.src.type === 'vhostuser' ? 'vhost-user-blk' : 'virtio-blk';
      o = virtioDevProps(base, disk.info, caps, disk.model, disk.virtio);
      addProps(o, [
        ['iothread', disk.driver.iothread ? `iothread${disk.driver.iothread}` : undefined], ['ioeventfd', disk.driver.ioeventfd],
        ['event_idx', disk.driver.eventIdx], ['scsi', scsi], ['num-queues', nz(disk.driver.queues)], ['queue-size', nz(disk.driver.queueSize)],
      ]);
      break;
    }
    case 'usb':
      driver = 'usb-storage';
      removable = disk.removable ?? false;
      break;
    case 'fdc':
      driver = 'floppy';
      break;
    default:
      throw internal(`unsupported disk bus '${disk.bus ?? ''}' with device setup`);
  }
  if (driver) o.driver = driver;
  addAddressProps(o, def, disk.info, disk.bus);
  let writeCache: boolean | undefined;
  if (disk.device !== 'lun') {
    const f = cachemodeFlags(disk.driver.cache ?? (disk.shareable && !disk.readonly ? 'none' : undefined));
    if (f) writeCache = f.writeback;
  }
  let wpolicy = disk.driver.errorPolicy;
  let rpolicy = disk.driver.rerrorPolicy;
  if (wpolicy === 'enospace') wpolicy = 'enospc';
  else if (!rpolicy) rpolicy = wpolicy;
  let wwn: number | bigint | undefined;
  const drive = disk.src.type === 'vhostuser' || emptyDrive ? undefined : diskBackendNode(state, disk);
  addProps(o, [
    ['device_id', scsiVPD], ['share-rw', disk.shareable ? true : undefined], ['drive', drive],
    ['chardev', disk.src.type === 'vhostuser' ? `chr-vu-${disk.info.alias ?? ''}` : undefined], ['id', disk.info.alias ?? ''],
    ['bootindex', disk.device !== 'floppy' ? nz(bootindex) : undefined],
    ['logical_block_size', nz(disk.blockio?.logicalBlockSize)], ['physical_block_size', nz(disk.blockio?.physicalBlockSize)],
    ['discard_granularity', nz(disk.blockio?.discardGranularity)],
  ]);
  if (disk.wwn) {
    wwn = BigInt(`0x${disk.wwn.replace(/^0x/, '')}`);
    o.wwn = wwn;
  }
  addProps(o, [
    ['rotation_rate', nz(disk.rotationRate)], ['vendor', disk.vendor], ['product', disk.product], ['removable', removable],
    ['write-cache', onOff(writeCache)], ['cyls', nz(disk.geometry?.cylinders)], ['heads', nz(disk.geometry?.heads)], ['secs', nz(disk.geometry?.sectors)],
    ['bios-chs-trans', disk.geometry?.trans], ['serial', disk.serial !== undefined ? escapeSpaces(disk.serial) : undefined],
    ['werror', wpolicy], ['rerror', rpolicy],
  ]);
  return o;
}

export function diskIndex(disk: DiskDef): number {
  return diskNameToIndex(disk.dst);
}

// ---------------------------------------------------------------- controllers

const USB_MODEL_DRIVER: Record<string, string> = {
  'piix3-uhci': 'piix3-usb-uhci', 'piix4-uhci': 'piix4-usb-uhci', ehci: 'usb-ehci', 'ich9-ehci1': 'ich9-usb-ehci1', 'ich9-uhci1': 'ich9-usb-uhci1',
  'ich9-uhci2': 'ich9-usb-uhci2', 'ich9-uhci3': 'ich9-usb-uhci3', 'vt82c686b-uhci': 'vt82c686b-usb-uhci', 'pci-ohci': 'pci-ohci',
  'nec-xhci': 'nec-usb-xhci', 'qemu-xhci': 'qemu-xhci',
};

const USB_MODEL_CAP: Record<string, string> = {
  'piix3-uhci': 'piix3-usb-uhci', 'piix4-uhci': 'piix4-usb-uhci', ehci: 'usb-ehci', 'ich9-ehci1': 'ich9-usb-ehci1', 'ich9-uhci1': 'ich9-usb-ehci1',
  'ich9-uhci2': 'ich9-usb-ehci1', 'ich9-uhci3': 'ich9-usb-ehci1', 'vt82c686b-uhci': 'vt82c686b-usb-uhci', 'pci-ohci': 'pci-ohci',
  'nec-xhci': 'nec-usb-xhci', 'qemu-xhci': 'qemu-xhci',
};

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}

export function controllerDevProps(def: DomainDef, c: ControllerDef, caps: QemuCapabilities): JsonObject | undefined {
  let o: JsonObject | undefined;
  switch (c.type) {
    case 'scsi':
      switch (c.model) {
        case 'virtio-scsi':
        case 'virtio-transitional':
        case 'virtio-non-transitional':
          o = virtioDevProps('virtio-scsi', c.info, caps, c.model === 'virtio-scsi' ? undefined : c.model, c.driver?.virtio);
          addProps(o, [
            ['iothread', c.driver?.iothread ? `iothread${c.driver.iothread}` : undefined], ['id', c.info.alias ?? ''], ['num_queues', nz(c.driver?.queues)],
            ['cmd_per_lun', nz(c.driver?.cmdPerLun)], ['max_sectors', nz(c.driver?.maxSectors)], ['ioeventfd', c.driver?.ioeventfd],
          ]);
          break;
        default: {
          const drivers: Record<string, string> = {
            lsilogic: 'lsi', ibmvscsi: 'spapr-vscsi', lsisas1068: 'mptsas1068', lsisas1078: 'megasas', vmpvscsi: 'pvscsi', am53c974: 'am53c974', dc390: 'dc-390',
          };
          const d = drivers[c.model ?? ''];
          if (!d) throw unsupported(`Unsupported controller model: ${c.model ?? ''}`);
          o = props([['driver', d], ['id', c.info.alias ?? '']]);
        }
      }
      break;
    case 'virtio-serial':
      o = virtioDevProps('virtio-serial', c.info, caps, c.model === 'virtio' ? undefined : c.model, c.driver?.virtio);
      addProps(o, [['id', c.info.alias ?? ''], ['max_ports', c.ports], ['vectors', c.vectors]]);
      break;
    case 'ccid':
      o = props([['driver', 'usb-ccid'], ['id', c.info.alias ?? '']]);
      break;
    case 'sata':
      o = props([['driver', 'ahci'], ['id', c.info.alias ?? '']]);
      break;
    case 'usb': {
      if (!c.model) throw unsupported('no model provided for USB controller');
      const cap = USB_MODEL_CAP[c.model];
      if (!cap || !caps.has(cap)) throw unsupported(`USB controller model '${c.model}' not supported in this QEMU binary`);
      if (c.ports !== undefined && c.model !== 'nec-xhci' && c.model !== 'qemu-xhci') {
        throw unsupported(`usb controller type '${c.model}' doesn't support 'ports' with this QEMU binary`);
      }
      o = props([['driver', USB_MODEL_DRIVER[c.model]!], ['p2', c.ports], ['p3', c.ports]]);
      if (c.info.usbMasterStartport !== undefined) {
        const master = def.devices.controllers.find((x) => x.type === 'usb' && x.index === c.index && x.info.usbMasterStartport === undefined);
        if (!master?.info.alias) throw internal('masterbus not found');
        addProps(o, [['masterbus', `${master.info.alias}.0`], ['firstport', c.info.usbMasterStartport]]);
      } else o.id = c.info.alias ?? '';
      break;
    }
    case 'pci': {
      const p = c.pci ?? {};
      const name = p.modelName;
      if (c.model === 'pci-root' && name === 'spapr-pci-host-bridge' && p.targetIndex === 0) return undefined;
      if (!name) throw internal(`Unknown PCI controller model name for controller ${c.index}`);
      switch (c.model) {
        case 'pci-bridge':
          o = props([['driver', name], ['chassis_nr', p.chassisNr ?? c.index], ['id', c.info.alias ?? '']]);
          break;
        case 'pci-expander-bus':
        case 'pcie-expander-bus':
          o = props([['driver', name], ['bus_nr', p.busNr ?? -1], ['id', c.info.alias ?? ''], ['numa_node', p.numaNode]]);
          break;
        case 'dmi-to-pci-bridge':
        case 'pcie-switch-upstream-port':
        case 'pcie-to-pci-bridge':
          o = props([['driver', name], ['id', c.info.alias ?? '']]);
          break;
        case 'pcie-root-port':
        case 'pcie-switch-downstream-port':
          o = props([['driver', name], ['port', p.port ?? 0], ['chassis', p.chassis ?? 0], ['id', c.info.alias ?? ''], ['hotplug', p.hotplug]]);
          break;
        case 'pci-root':
          o = props([['driver', name], ['index', p.targetIndex ?? 0], ['id', c.info.alias ?? ''], ['numa_node', p.numaNode]]);
          break;
        default:
          throw unsupported('Unsupported PCI Express root controller');
      }
      break;
    }
    default:
      throw unsupported(`Unsupported controller type: ${c.type}`);
  }
  if (!o) return undefined;
  return addAddressProps(o, def, c.info);
}

/**
 * The QMP arguments hot-plug needs for one device (blockdev-add,
 * device_add, netdev_add, object-add), in the shape the command line
 * builder (src/command/) gives the same devices at start. The builder
 * exposes them per domain only; these cover the hot-pluggable kinds
 * (virtio/SCSI disks, NICs, DIMMs) until it exports per-device functions.
 */
import { diskNameToIndex, VirtError, type DiskDef, type DomainDef, type DomainInterfaceDef, type MemoryDeviceDef, type PciAddress } from '@virtkit/core';

export type Json = Record<string, unknown>;

function pciAddrProps(a: PciAddress | undefined): Json {
  if (!a || a.type !== 'pci') return {};
  const o: Json = { bus: a.bus === 0 ? 'pci.0' : `pci.${a.bus}`, addr: `0x${a.slot.toString(16)}` };
  if (a.function) o.addr = `${o.addr}.0x${a.function.toString(16)}`;
  if (a.multifunction) o.multifunction = true;
  return o;
}

/** Node names of a disk's storage and format layers. */
export function diskNodeNames(index: number): { storage: string; format: string } {
  return { storage: `libvirt-${index}-storage`, format: `libvirt-${index}-format` };
}

/** blockdev-add arguments of a file/block disk: the protocol layer, then the format layer. */
export function diskBlockdevs(disk: DiskDef, index: number): Json[] {
  const names = diskNodeNames(index);
  const path = disk.src.path;
  if (!path) throw new VirtError('CONFIG_UNSUPPORTED', `disk '${disk.dst}' has no source path`, { origin: 'qemu' });
  const driver = disk.src.type === 'block' ? (disk.device === 'cdrom' ? 'host_cdrom' : 'host_device') : 'file';
  const ro = !!disk.readonly || disk.device === 'cdrom';
  const storage: Json = { driver, filename: path, 'node-name': names.storage, 'auto-read-only': true, discard: 'unmap' };
  const format: Json = { 'node-name': names.format, 'read-only': ro, driver: disk.src.format ?? 'raw', file: names.storage };
  return [storage, format];
}

/** device_add arguments of a disk's frontend. */
export function diskDevice(disk: DiskDef, formatNode: string | undefined): Json {
  const id = disk.info.alias ?? `${disk.bus ?? 'virtio'}-disk${diskNameToIndex(disk.dst)}`;
  switch (disk.bus) {
    case 'virtio':
      return { driver: 'virtio-blk-pci', ...pciAddrProps(disk.info.address as PciAddress), ...(formatNode ? { drive: formatNode } : {}), id, ...(disk.info.bootOrder ? { bootindex: disk.info.bootOrder } : {}) };
    case 'scsi': {
      const a = disk.info.address;
      const addr = a?.type === 'drive' ? a : { controller: 0, bus: 0, target: 0, unit: 0 };
      return {
        driver: disk.device === 'cdrom' ? 'scsi-cd' : 'scsi-hd', bus: `scsi${addr.controller}.0`, channel: addr.bus, 'scsi-id': addr.target, lun: addr.unit,
        ...(formatNode ? { drive: formatNode } : {}), id,
      };
    }
    case 'ide':
    case 'sata': {
      const a = disk.info.address;
      const addr = a?.type === 'drive' ? a : { controller: 0, bus: 0, target: 0, unit: 0 };
      const bus = disk.bus === 'sata' ? `ide.${addr.unit}` : `ide.${addr.bus}`;
      return { driver: disk.device === 'cdrom' ? 'ide-cd' : 'ide-hd', bus, ...(disk.bus === 'ide' ? { unit: addr.unit } : {}), ...(formatNode ? { drive: formatNode } : {}), id };
    }
    default:
      throw new VirtError('CONFIG_UNSUPPORTED', `disk bus '${disk.bus}' of '${disk.dst}' is not supported here`, { origin: 'qemu' });
  }
}

/** netdev_add arguments of a NIC backend (tap given by name, or user networking). */
export function nicNetdev(net: DomainInterfaceDef, tap: string | undefined): Json {
  const id = `host${net.info.alias ?? 'net0'}`;
  if (net.type === 'user') return { type: 'user', id };
  if (!tap) throw new VirtError('CONFIG_UNSUPPORTED', `interface ${net.mac}: no tap device`, { origin: 'qemu' });
  return { type: 'tap', ifname: tap, script: 'no', downscript: 'no', id };
}

const NIC_DRIVERS: Record<string, string> = { virtio: 'virtio-net-pci', e1000: 'e1000', rtl8139: 'rtl8139', 'e1000e': 'e1000e' };

export function nicDevice(net: DomainInterfaceDef): Json {
  const driver = NIC_DRIVERS[net.model ?? 'virtio'] ?? net.model ?? 'virtio-net-pci';
  const alias = net.info.alias ?? 'net0';
  return { driver, netdev: `host${alias}`, id: alias, mac: net.mac, ...pciAddrProps(net.info.address as PciAddress) };
}

/** object-add + device_add arguments of a DIMM. */
export function dimmObjects(mem: MemoryDeviceDef): { backend: Json; device: Json } {
  const alias = mem.info.alias ?? 'dimm0';
  const slot = mem.info.address?.type === 'dimm' ? mem.info.address.slot : undefined;
  return {
    backend: { 'qom-type': 'memory-backend-ram', id: `mem${alias}`, size: mem.size * 1024 },
    device: { driver: 'pc-dimm', node: mem.targetNode ?? 0, memdev: `mem${alias}`, id: alias, ...(slot !== undefined ? { slot } : {}) },
  };
}

/**
 * INTERIM: a small command line for the devices the runtime tests use,
 * until src/command/ (libvirt's qemu_command.c, being written alongside)
 * exports its builder. Also the per-device QMP objects hot-plug needs
 * (blockdev-add / device_add / netdev_add / object-add arguments).
 */
import { diskNameToIndex, VirtError, type DiskDef, type DomainDef, type DomainInterfaceDef, type MemoryDeviceDef, type PciAddress } from '@virtkit/core';
import type { Accelerator } from '../process/accel.js';

export type Json = Record<string, unknown>;

export interface InterimCommandOptions {
  accel: Accelerator;
  /** Monitor socket passed as this descriptor. */
  monitorFd: number;
}

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

/** The command line of a domain, for the devices above. */
export function interimCommandLine(def: DomainDef, opts: InterimCommandOptions): string[] {
  const a: string[] = [];
  a.push('-name', `guest=${def.name},debug-threads=on`, '-S');
  a.push('-machine', `${def.os.machine ?? 'pc'},usb=off,dump-guest-core=off`, '-accel', opts.accel);
  const cpuMode = def.cpu?.mode;
  a.push('-cpu', cpuMode === 'host-passthrough' || cpuMode === 'host-model' ? (opts.accel === 'kvm' ? 'host' : 'max') : def.cpu?.model ?? 'qemu64');
  const memMiB = Math.floor(def.memory.total / 1024) - def.devices.memories.reduce((s, m) => s + Math.floor(m.size / 1024), 0);
  a.push('-m', def.memory.max && def.memory.slots ? `size=${memMiB * 1024}k,slots=${def.memory.slots},maxmem=${def.memory.max}k` : String(memMiB));
  const topo = def.cpu?.topology;
  const smp = [`${def.vcpu.current}`];
  if (def.vcpu.max !== def.vcpu.current || topo) smp.push(`maxcpus=${def.vcpu.max}`);
  smp.push(`sockets=${topo?.sockets ?? def.vcpu.max}`, `cores=${topo?.cores ?? 1}`, `threads=${topo?.threads ?? 1}`);
  a.push('-smp', smp.join(','));
  a.push('-uuid', def.uuid, '-display', 'none', '-no-user-config', '-nodefaults');
  a.push('-chardev', `socket,id=charmonitor,fd=${opts.monitorFd},server=on,wait=off`, '-mon', 'chardev=charmonitor,id=monitor,mode=control');
  a.push('-rtc', 'base=utc');
  if (def.lifecycle.onReboot === 'destroy') a.push('-no-reboot');
  a.push('-boot', 'strict=on');
  if (def.os.kernel) a.push('-kernel', def.os.kernel);
  if (def.os.initrd) a.push('-initrd', def.os.initrd);
  if (def.os.cmdline) a.push('-append', def.os.cmdline);
  let node = def.devices.disks.length;
  for (const disk of def.devices.disks) {
    const idx = node--;
    if (disk.src.path) {
      const [storage, format] = diskBlockdevs(disk, idx);
      a.push('-blockdev', JSON.stringify(storage), '-blockdev', JSON.stringify(format));
      a.push('-device', JSON.stringify(diskDevice(disk, diskNodeNames(idx).format)));
    } else a.push('-device', JSON.stringify(diskDevice(disk, undefined)));
  }
  for (const net of def.devices.interfaces) {
    const nd = nicNetdev(net, net.ifname);
    a.push('-netdev', Object.entries(nd).map(([k, v]) => `${k}=${v}`).join(','));
    a.push('-device', JSON.stringify(nicDevice(net)));
  }
  for (const s of def.devices.serials) {
    const id = `char${s.info.alias ?? `serial${s.port}`}`;
    if (s.source.type === 'pty') a.push('-chardev', `pty,id=${id}`);
    else if (s.source.type === 'unix') a.push('-chardev', `socket,id=${id},path=${s.source.path},server=on,wait=off`);
    else if (s.source.type === 'file') a.push('-chardev', `file,id=${id},path=${s.source.path}`);
    else a.push('-chardev', `null,id=${id}`);
    a.push('-device', JSON.stringify({ driver: 'isa-serial', chardev: id, id: s.info.alias ?? `serial${s.port}`, index: s.port }));
  }
  for (const m of def.devices.memories) {
    if (m.model !== 'dimm') continue;
    const o = dimmObjects(m);
    a.push('-object', JSON.stringify(o.backend), '-device', JSON.stringify(o.device));
  }
  const mb = def.devices.memballoon;
  if (mb && mb.model !== 'none') a.push('-device', JSON.stringify({ driver: 'virtio-balloon-pci', id: mb.info.alias ?? 'balloon0', ...pciAddrProps(mb.info.address as PciAddress) }));
  a.push('-msg', 'timestamp=on');
  return a;
}

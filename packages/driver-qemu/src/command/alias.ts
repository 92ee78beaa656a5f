/**
 * Device aliases (QEMU's `id=`), as libvirt's qemu_alias.c assigns them
 * when a domain starts. User aliases ("ua-…") are kept.
 */
import { diskNameToIndex, type ControllerDef, type DeviceInfo, type DiskDef, type DomainDef } from '@virtkit/core';
import { isI440FX, isQ35 } from '../defaults/machine.js';

/** The number N of an alias "prefixN", or -1. */
export function aliasIndex(info: DeviceInfo, prefix: string): number {
  const a = info.alias;
  if (!a || !a.startsWith(prefix)) return -1;
  const rest = a.slice(prefix.length);
  return /^[0-9]+$/.test(rest) ? Number(rest) : -1;
}

function nextIndex(infos: DeviceInfo[], prefix: string): number {
  let idx = 0;
  for (const i of infos) {
    const n = aliasIndex(i, prefix);
    if (n >= idx) idx = n + 1;
  }
  return idx;
}

/** The machine has a built-in IDE controller with id "ide" (qemuDomainHasBuiltinIDE). */
export function hasBuiltinIDE(def: DomainDef): boolean {
  return isI440FX(def) || def.os.machine === 'isapc';
}

export function findScsiController(def: DomainDef, controller: number): ControllerDef | undefined {
  return def.devices.controllers.find((c) => c.type === 'scsi' && c.index === controller);
}

function diskAlias(def: DomainDef, disk: DiskDef): void {
  if (disk.info.alias) return;
  const a = disk.info.address;
  const prefix = disk.bus ?? 'ide';
  if (a?.type === 'drive') {
    const model = disk.bus === 'scsi' ? findScsiController(def, a.controller)?.model : undefined;
    if (disk.bus !== 'scsi' || model === 'lsilogic') disk.info.alias = `${prefix}${a.controller}-${a.bus}-${a.unit}`;
    else disk.info.alias = `${prefix}${a.controller}-${a.bus}-${a.target}-${a.unit}`;
  } else {
    disk.info.alias = `${prefix}-disk${diskNameToIndex(disk.dst)}`;
  }
}

function controllerAlias(def: DomainDef, c: ControllerDef): void {
  if (c.info.alias) return;
  if (c.type === 'pci') {
    c.info.alias = c.model === 'pcie-root' ? `pcie.${c.index}` : `pci.${c.index}`;
    return;
  }
  if (c.type === 'ide' && hasBuiltinIDE(def) && c.index === 0) {
    c.info.alias = 'ide';
    return;
  }
  if (c.type === 'sata' && isQ35(def) && c.index === 0) {
    c.info.alias = 'ide';
    return;
  }
  if (c.type === 'usb' && c.index === 0) {
    c.info.alias = 'usb';
    return;
  }
  if (c.type === 'scsi' && c.model === 'ncr53c90' && c.index === 0) {
    c.info.alias = 'scsi';
    return;
  }
  c.info.alias = `${c.type}${c.index}`;
}

function hostdevAlias(def: DomainDef, info: DeviceInfo): void {
  if (info.alias) return;
  const infos = [...def.devices.hostdevs.map((h) => h.info), ...def.devices.interfaces.filter((n) => n.type === 'hostdev').map((n) => n.info)];
  info.alias = `hostdev${nextIndex(infos, 'hostdev')}`;
}

const MEMORY_PREFIX: Record<string, string> = { dimm: 'dimm', nvdimm: 'nvdimm', 'virtio-pmem': 'virtiopmem', 'virtio-mem': 'virtiomem', 'sgx-epc': 'epc' };

/** qemuAssignDeviceAliases. */
export function assignDeviceAliases(def: DomainDef): void {
  const d = def.devices;
  for (const disk of d.disks) diskAlias(def, disk);
  for (const net of d.interfaces) {
    if (net.info.alias) continue;
    if (net.type === 'hostdev') {
      hostdevAlias(def, net.info);
      continue;
    }
    net.info.alias = `net${nextIndex(d.interfaces.map((n) => n.info), 'net')}`;
  }
  for (const fs of d.filesystems) if (!fs.info.alias) fs.info.alias = `fs${nextIndex(d.filesystems.map((f) => f.info), 'fs')}`;
  d.sounds.forEach((s, i) => {
    if (!s.info.alias) s.info.alias = `sound${i}`;
  });
  for (const h of d.hostdevs) hostdevAlias(def, h.info);
  d.redirdevs.forEach((r, i) => {
    if (!r.info.alias) r.info.alias = `redir${i}`;
  });
  d.videos.forEach((v, i) => {
    if (!v.info.alias) v.info.alias = `video${i}`;
  });
  for (const c of d.controllers) controllerAlias(def, c);
  d.inputs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `input${i}`;
  });
  d.parallels.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `parallel${i}`;
  });
  d.serials.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `serial${i}`;
  });
  d.channels.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `channel${i}`;
  });
  d.consoles.forEach((x, i) => {
    if (x.info.alias) return;
    // A console aliasing serial 0 takes the serial's alias.
    if (i === 0 && x.targetType === 'serial' && d.serials[0]) x.info.alias = d.serials[0].info.alias;
    else x.info.alias = `console${i}`;
  });
  d.hubs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `hub${i}`;
  });
  for (const s of d.shmems) if (!s.info.alias) s.info.alias = `shmem${nextIndex(d.shmems.map((x) => x.info), 'shmem')}`;
  d.smartcards.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `smartcard${i}`;
  });
  d.watchdogs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `watchdog${i}`;
  });
  if (d.memballoon && !d.memballoon.info.alias) d.memballoon.info.alias = 'balloon0';
  d.rngs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `rng${i}`;
  });
  d.tpms.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `tpm${i}`;
  });
  for (const m of d.memories) {
    if (m.info.alias) continue;
    const prefix = MEMORY_PREFIX[m.model] ?? 'dimm';
    let max = 0;
    for (const o of d.memories) {
      const n = aliasIndex(o.info, prefix);
      if (n >= max) max = n + 1;
    }
    m.info.alias = `${prefix}${max}`;
  }
  if (d.vsock && !d.vsock.info.alias) d.vsock.info.alias = 'vsock0';
  if (d.iommu && !d.iommu.info.alias) d.iommu.info.alias = 'iommu0';
  d.cryptos.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `crypto${i}`;
  });
}

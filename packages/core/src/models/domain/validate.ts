/**
 * Checks libvirt's generic code runs after post-parse (domain_validate.c),
 * then the driver's validation hooks. Throws VirtError with the code libvirt
 * uses for each check.
 */
import type { DomainParseOptions, DomainParserConfig } from './context.js';
import type { DomainDef } from './domain.js';
import type { StorageSource } from './devices/storage-source.js';
import { unsupported, xmlError } from './reader.js';
import { validateChrSource } from './devices/chardev.js';
import { listDevices } from './devices/index.js';

function checkChrDevices(def: DomainDef): void {
  const d = def.devices;
  for (const chr of [...d.serials, ...d.parallels, ...d.consoles, ...d.channels]) {
    const where = `<${chr.deviceType}>`;
    const pathOptional = chr.deviceType === 'channel' && (chr.targetType === 'virtio' || chr.targetType === 'xen');
    // A stub console standing for serial 0 has no source of its own.
    if (chr.deviceType === 'console' && chr.source.type === 'null' && chr.targetType === 'serial') continue;
    validateChrSource(chr.source, where, pathOptional);
  }
  for (const sc of d.smartcards) if (sc.passthrough) validateChrSource(sc.passthrough, '<smartcard>');
  for (const rd of d.redirdevs) validateChrSource(rd.source, '<redirdev>');
  for (const rng of d.rngs) if (rng.chardev) validateChrSource(rng.chardev, '<rng><backend>');
}

function checkDisks(def: DomainDef): void {
  const seen = new Set<string>();
  for (const disk of def.devices.disks) {
    if (seen.has(disk.dst)) throw xmlError(`disk '${disk.dst}'`, `target '${disk.dst}' duplicated for disk sources`);
    seen.add(disk.dst);
    const src = disk.src;
    const empty = src.type !== 'network' && src.type !== 'volume' && src.type !== 'nvme' && !src.path;
    if (empty && disk.device !== 'cdrom' && disk.device !== 'floppy' && disk.device !== 'lun' && src.type !== 'vhostuser') {
      throw xmlError(`disk '${disk.dst}'`, `missing source information for device ${disk.dst}`);
    }
    if (disk.device !== 'lun' && (disk.rawio !== undefined || disk.sgio !== undefined)) {
      throw xmlError(`disk '${disk.dst}'`, "rawio and sgio can be used only with device='lun'");
    }
    if (disk.device === 'floppy' && disk.bus !== 'fdc' && disk.bus !== undefined && def.type !== 'xen') {
      // libvirt leaves the combination to the drivers.
    }
  }
}

const SECRET_USAGE_TYPES = ['none', 'volume', 'ceph', 'iscsi', 'tls', 'vtpm'];

/** virDomainDiskDefValidateSourceChainOne: secret types of network auth, LUKS cipher, rbd-only elements. */
function checkDiskSourceChain(def: DomainDef): void {
  for (const disk of def.devices.disks) {
    const where = `disk '${disk.dst}'`;
    for (let src: StorageSource | null | undefined = disk.src; src; src = src.backingStore) {
      if (src.type === 'network' && src.auth) {
        const t = src.auth.secret.type;
        if (t === undefined || !SECRET_USAGE_TYPES.includes(t)) throw unsupported(where, `unknown secret type '${t ?? '<null>'}'`);
        if ((src.protocol === 'iscsi' && t !== 'iscsi') || (src.protocol === 'rbd' && t !== 'ceph')) {
          throw unsupported(where, `invalid secret type '${t}'`);
        }
      }
      if (src.encryption?.format === 'luks' && src.encryption.cipher) {
        throw unsupported(where, 'supplying <cipher> for domain disk definition is unnecessary');
      }
    }
  }
}

/** virDomainDefMemtuneValidate: hugepage node sets may not overlap and must name guest NUMA nodes. */
function checkHugepages(def: DomainDef): void {
  const pages = def.memoryBacking?.hugepages ?? [];
  const cells = def.cpu?.numa?.cells.length ?? 0;
  for (let i = 0; i < pages.length; i++) {
    const p = pages[i]!;
    for (let j = 0; j < i; j++) {
      const q = pages[j]!;
      if (p.nodeset && q.nodeset && p.nodeset.some((n) => q.nodeset!.includes(n))) {
        throw xmlError('<hugepages>', `nodeset attribute of hugepages of sizes ${q.size} and ${p.size} intersect`);
      }
      if (!p.nodeset && !q.nodeset) throw xmlError('<hugepages>', `two master hugepages detected: ${q.size} and ${p.size}`);
    }
    if (!p.nodeset) continue;
    if (cells === 0) throw xmlError('<hugepages>', 'hugepages: node 0 not found');
    const missing = p.nodeset.find((n) => n >= cells);
    if (missing !== undefined) throw xmlError('<hugepages>', `hugepages: node ${missing} not found`);
  }
}

const DRIVE_BUSES = ['ide', 'fdc', 'scsi', 'sata'];

/** virDomainDiskAddressDiskBusCompatibility. */
function addressFitsBus(bus: string | undefined, type: string | undefined): boolean {
  if (!type) return true;
  if (bus && DRIVE_BUSES.includes(bus)) return type === 'drive';
  if (bus === 'usb') return type === 'usb';
  if (bus === 'virtio') return type !== 'drive';
  return true;
}

function checkDiskDetails(def: DomainDef): void {
  const driveUse = new Map<string, string>();
  for (const disk of def.devices.disks) {
    const where = `disk '${disk.dst}'`;
    const at = disk.info.address?.type;
    if (!addressFitsBus(disk.bus, at)) throw unsupported(where, `Invalid address type '${at}' for the disk '${disk.dst}' with the bus type '${disk.bus}'`);
    if (disk.device === 'lun') {
      if (disk.src.type !== 'block' && disk.src.type !== 'network') throw unsupported(where, "disk device='lun' is only valid for block type disk source");
      if (disk.src.type === 'network' && disk.src.protocol !== 'iscsi') throw unsupported(where, "disk device='lun' is not supported for protocol '" + disk.src.protocol + "'");
    }
    const a = disk.info.address;
    if (disk.bus === 'scsi' && a?.type === 'drive') driveUse.set(`${a.controller}:${a.bus}:${a.target}:${a.unit}`, disk.dst);
  }
  const hostUse = new Set<string>();
  for (const h of def.devices.hostdevs) {
    const a = h.info.address;
    if (h.mode !== 'subsystem' || h.type !== 'scsi' || a?.type !== 'drive') continue;
    const key = `${a.controller}:${a.bus}:${a.target}:${a.unit}`;
    const addr = `controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'`;
    const dst = driveUse.get(key);
    if (dst) throw unsupported('<hostdev>', `using disk target name '${dst}' conflicts with SCSI host device address ${addr}`);
    if (hostUse.has(key)) throw unsupported('<hostdev>', `SCSI host address ${addr} in use by another SCSI host device`);
    hostUse.add(key);
  }
}

function checkOs(def: DomainDef, cfg: DomainParserConfig): void {
  const os = def.os;
  const feats = os.firmwareFeatures;
  if (os.firmware) {
    if (!cfg.features?.fwAutoselect && cfg.name) throw unsupported('<os>', 'firmware auto selection not implemented for this driver');
    const enrolled = feats?.find((f) => f.name === 'enrolled-keys');
    const secure = feats?.find((f) => f.name === 'secure-boot');
    if (enrolled?.enabled && secure && !secure.enabled) {
      throw unsupported('<os><firmware>', "firmware feature 'enrolled-keys' cannot be enabled when firmware feature 'secure-boot' is disabled");
    }
    if (os.firmware === 'bios' && os.nvram) throw unsupported('<os>', "firmware type 'bios' does not support nvram");
  } else if (feats && feats.length) {
    throw xmlError('<os><firmware>', 'cannot use feature-based firmware autoselection when firmware autoselection is disabled');
  }
  if (os.loader?.stateless && os.nvram) throw unsupported('<os><loader>', 'NVRAM is not permitted when loader is stateless');
}

function checkDevicesMisc(def: DomainDef): void {
  const d = def.devices;
  if (d.hostdevs.filter((h) => h.type === 'mdev' && h.ramfb).length > 1) throw unsupported('<hostdev>', "Only one vgpu device can have 'ramfb' enabled");
  for (const v of d.videos) {
    if (v.type === 'ramfb' && v.info.address) throw unsupported('<video>', 'address not supported for video type ramfb');
  }
  if (d.graphics.some((g) => g.type === 'egl-headless')) {
    const other = d.graphics.find((g) => g.type !== 'egl-headless' && g.type !== 'vnc' && g.type !== 'spice');
    if (other) throw unsupported('<graphics>', "graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' graphics types");
  }
  for (const fs of d.filesystems) {
    if (fs.driver?.type === 'virtiofs' && fs.readonly) throw unsupported(`filesystem '${fs.dst}'`, 'virtiofs does not yet support read-only mode');
  }
}

/**
 * Generic validation (libvirt's virDomainDefValidate without the driver
 * part), then `cfg.validateDomain` and `cfg.validateDevice` for each device.
 */
export function validateDomainDef(def: DomainDef, cfg: DomainParserConfig = {}, opts: DomainParseOptions = {}): void {
  if (def.name.includes('/') && !cfg.features?.nameSlash) throw xmlError('<name>', `name ${def.name} cannot contain '/'`);
  if (def.name.includes('\n')) throw xmlError('<name>', "name can't contain newlines");
  if (cfg.domainTypes && !cfg.domainTypes.includes(def.type)) {
    throw unsupported('<domain>', `domain type '${def.type}' is not supported by the ${cfg.name ?? 'driver'} driver`);
  }
  checkOs(def, cfg);
  checkChrDevices(def);
  checkDisks(def);
  checkDiskDetails(def);
  checkDiskSourceChain(def);
  checkHugepages(def);
  checkDevicesMisc(def);
  for (const g of def.devices.graphics) {
    if (g.type === 'vnc' && g.listens.length > 1) {
      throw unsupported(`graphics type='vnc'`, 'only one listen is supported for VNC graphics');
    }
  }
  if (def.vcpu.current === 0 && def.vcpu.vcpus) throw unsupported('<vcpus>', 'Guest must have at least one vCPU online');
  if (cfg.validateDomain) cfg.validateDomain(def, opts);
  if (cfg.validateDevice) for (const dev of listDevices(def.devices)) cfg.validateDevice(dev, def, opts);
}

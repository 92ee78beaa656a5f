/**
 * QEMU-specific checks of a domain definition (libvirt's qemu_validate.c
 * and qemuDomainValidateStorageSource): what this QEMU binary, machine
 * type and architecture can run. Runs after post-parse and address
 * assignment; every failure is a VirtError naming the device.
 */
import {
  VirtError, diskNameToIndex,
  type ChrDef, type ChrSourceDef, type ControllerDef, type DeviceInfo, type DiskDef, type DomainDef, type DomainDevice,
  type DomainInterfaceDef, type DomainParseOptions, type FilesystemDef, type GraphicsDef, type HostdevDef, type InputDef,
  type StorageSource, type TpmDef, type VideoDef, type WatchdogDef,
} from '@virtkit/core';
import { accelOf, type QemuDefaultsContext } from './postparse.js';
import { isARMVirt, isI440FX, isPSeries, isQ35, isS390CCW, isX86 } from './machine.js';

export interface QemuValidateContext extends QemuDefaultsContext {
  /** TPM versions the host's swtpm supports. */
  swtpmVersions: string[];
}

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}
function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}
function xmlError(msg: string): VirtError {
  return new VirtError('XML_ERROR', msg, { origin: 'qemu' });
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
const isPPC64 = (arch: string | undefined) => arch === 'ppc64' || arch === 'ppc64le';
const isS390 = (arch: string | undefined) => arch === 's390' || arch === 's390x';

// ---------------------------------------------------------------- domain

function validateFeatures(def: DomainDef, ctx: QemuValidateContext): void {
  const f = def.features;
  if (!f) return;
  const arch = def.os.arch;
  const where = `architecture '${arch ?? ''}' or machine type '${def.os.machine ?? ''}'`;
  if (f.ioapicDriver && !isX86(arch)) throw unsupported(`The 'ioapic' feature is not supported for ${where}`);
  for (const name of ['hpt', 'htm', 'nested-hv', 'ccf-assist'] as const) {
    if (f.states[name] !== undefined && !isPSeries(def)) throw unsupported(`The '${name}' feature is not supported for ${where}`);
  }
  for (const [name, v] of [['cfpc', f.cfpc], ['sbbc', f.sbbc], ['ibs', f.ibs]] as const) {
    if (v !== undefined && !isPSeries(def)) throw unsupported(`The '${name}' feature is not supported for ${where}`);
  }
  if (f.states.gic === true && !isARMVirt(def)) throw unsupported(`The 'gic' feature is not supported for ${where}`);
  if (f.states.vmport !== undefined && !(isX86(arch) && ctx.caps.has('machine-vmport-opt'))) {
    throw unsupported('vmport is not available with this QEMU binary');
  }
  if (f.states.vmcoreinfo === true && !ctx.caps.has('vmcoreinfo')) throw unsupported('vmcoreinfo is not available with this QEMU binary');
  if (f.states.apic !== undefined && f.apicEoi !== undefined && !isX86(arch)) {
    throw unsupported(`The 'eoi' attribute of the 'apic' feature is not supported for ${where}`);
  }
  if (f.states.pvspinlock !== undefined && !isX86(arch)) throw unsupported(`The 'pvspinlock' feature is not supported for ${where}`);
  if (f.hyperv && f.hyperv.mode !== undefined && !isX86(arch) && !isARMVirt(def)) {
    throw unsupported(`Hyperv features are not supported for ${where}`);
  }
  if (f.states.pmu === false && isPPC64(arch)) throw unsupported(`PMU is always enabled for architecture '${arch ?? ''}'`);
  if (f.states.tcg === true) {
    if (def.type !== 'qemu') throw unsupported(`TCG features are incompatible with domain type '${def.type}'`);
    if (((f.tcgTbCache ?? 0) & 0x3ff) !== 0) throw unsupported('tb-cache size must be an integer multiple of MiB');
  }
}

function validateCpu(def: DomainDef, ctx: QemuValidateContext): void {
  const cpu = def.cpu;
  if (!cpu) return;
  const arch = def.os.arch;
  if (cpu.maxphysaddr) {
    if (!isX86(arch)) throw unsupported(`CPU maximum physical address bits specification is not supported for '${arch ?? ''}' architecture`);
    if (cpu.maxphysaddr.mode === 'passthrough' && cpu.maxphysaddr.bits !== undefined) {
      throw unsupported("CPU maximum physical address bits number specification cannot be used with mode='passthrough'");
    }
  }
  if (cpu.cache) {
    const c = cpu.cache;
    if (!isX86(arch)) throw unsupported(`CPU cache specification is not supported for '${arch ?? ''}' architecture`);
    if (c.mode === 'emulate' && c.level !== 3) throw unsupported("CPU cache mode 'emulate' can only be used with level='3'");
    if (c.mode === 'passthrough') {
      if (cpu.mode !== 'host-passthrough' && cpu.mode !== 'maximum') {
        throw unsupported("CPU cache mode 'passthrough' can only be used with 'host-passthrough' / 'maximum' CPUs");
      }
      if (c.level !== undefined) throw unsupported("unsupported CPU cache level for mode 'passthrough'");
    }
    if (c.mode === 'disable' && c.level !== undefined) throw unsupported("unsupported CPU cache level for mode 'disable'");
  }
  if (cpu.mode === 'host-passthrough' && cpu.migratable === true && !ctx.caps.has('cpu.migratable')) {
    throw unsupported('Migratable attribute for host-passthrough CPU is not supported by this QEMU binary');
  }
}

function validateClock(def: DomainDef, ctx: QemuValidateContext): void {
  const arch = def.os.arch;
  const who = () => `virtType=${def.type} arch=${arch ?? ''} machine=${def.os.machine ?? ''} guests`;
  for (const t of def.clock.timers) {
    switch (t.name) {
      case 'platform':
        throw unsupported("unsupported timer type (name) 'platform'");
      case 'tsc':
      case 'kvmclock':
      case 'hypervclock':
        if (!isX86(arch) && t.present === true) throw unsupported(`Configuring the '${t.name}' timer is not supported for ${who()}`);
        break;
      case 'rtc':
        if (t.track === 'boot') throw unsupported("unsupported rtc timer track 'boot'");
        if (t.tickpolicy === 'merge' || t.tickpolicy === 'discard') throw unsupported(`unsupported rtc timer tickpolicy '${t.tickpolicy}'`);
        break;
      case 'pit':
        if (t.tickpolicy === 'merge' || (t.tickpolicy === 'catchup' && !ctx.caps.has('kvm-pit-lost-tick-policy'))) {
          throw unsupported(`unsupported pit tickpolicy '${t.tickpolicy}'`);
        }
        break;
      case 'hpet':
        if (t.present === true && arch !== 'i686' && arch !== 'x86_64') throw unsupported('hpet timer is not supported by this architecture');
        break;
      case 'armvtimer':
        if (def.type !== 'kvm' || !isARMVirt(def)) throw unsupported(`Configuring the 'armvtimer' timer is not supported for ${who()}`);
        if (t.present === false) throw unsupported("The 'armvtimer' timer can't be disabled");
        if (t.tickpolicy === 'catchup' || t.tickpolicy === 'merge') {
          throw unsupported(`The 'armvtimer' timer does not support tickpolicy '${t.tickpolicy}'`);
        }
        break;
      default:
        break;
    }
  }
  if (def.clock.offset === 'absolute' && (def.clock.start ?? 0) > 253402300799) {
    throw unsupported("The maximum 'start' value for <clock offset='absolute'> is 253402300799");
  }
}

function validateBoot(def: DomainDef): void {
  if (def.os.bootloader || def.os.bootloaderArgs) throw unsupported('bootloader is not supported by QEMU');
  const loader = def.os.loader;
  if (!loader) return;
  if (def.os.firmware) {
    // Autoselection picks the image; a hand-picked image or disabled secure boot contradicts it.
    if (loader.path) throw unsupported("loader attribute 'type' cannot be specified when firmware autoselection is enabled");
    if (loader.secure === false) throw unsupported("loader attribute 'secure' cannot be specified when firmware autoselection is enabled");
  }
  if (loader.secure) {
    if (!isQ35(def)) throw unsupported('Secure boot is supported with q35 machine types only');
    if (def.os.arch !== 'x86_64') throw unsupported('Secure boot is supported for x86_64 architecture only');
    if (!def.os.firmware && def.features?.states.smm !== true) throw unsupported('Secure boot requires SMM feature enabled');
  }
  const nv = def.os.nvram?.source;
  if (nv) {
    if (nv.type !== 'file' && nv.type !== 'block' && nv.type !== 'network') throw unsupported(`unsupported nvram disk type '${nv.type}'`);
    if (nv.slices?.length) throw unsupported('slices are not supported with NVRAM');
    if (nv.reservations) throw unsupported('persistent reservations are not supported with NVRAM');
    if (nv.backingStore) throw unsupported('backingStore is not supported with NVRAM');
    validateStorageSource(nv, 'nvram');
  }
}

function validateVcpus(def: DomainDef, ctx: QemuValidateContext): void {
  const machine = ctx.caps.machine(def.os.machine ?? '', accelOf(def));
  const max = def.vcpu.max;
  if (def.vcpu.current === 0) throw unsupported('Domain requires at least 1 vCPU');
  if (machine && machine.maxCpus > 0 && max > machine.maxCpus) {
    throw unsupported(`Maximum CPUs greater than specified machine type limit ${machine.maxCpus}`);
  }
  const t = def.cpu?.topology;
  if (t && t.sockets) {
    const n = t.sockets * (t.dies || 1) * (t.clusters || 1) * t.cores * t.threads;
    if (n !== max) throw unsupported("CPU topology doesn't match maximum vcpu count");
    const granularity = isPSeries(def) ? t.threads : 1;
    if (def.vcpu.current % granularity !== 0) {
      throw unsupported(`vCPUs count must be a multiple of the vCPU hotplug granularity (${granularity})`);
    }
  }
  if (isX86(def.os.arch) && max > 255) {
    if (!isQ35(def)) throw unsupported('more than 255 vCPUs are only supported on q35-based machine types');
    if (def.devices.iommu?.eim !== true) throw unsupported('more than 255 vCPUs require extended interrupt mode enabled on the iommu device');
  }
}

function validateMemory(def: DomainDef, ctx: QemuValidateContext): void {
  const mb = def.memoryBacking;
  if (!mb?.hugepages) return;
  if (mb.allocation?.mode === 'ondemand') throw unsupported('hugepages are not allowed with memory allocation ondemand');
  if (mb.allocation?.threads && !ctx.caps.has('memory-backend-file.prealloc-threads')) {
    throw unsupported('preallocation threads are unsupported with this QEMU');
  }
  if (mb.source === 'anonymous') throw unsupported('hugepages are not allowed with anonymous memory source');
  if (mb.source === 'memfd' && !ctx.caps.has('memory-backend-memfd.hugetlb')) throw unsupported('hugepages is not supported with memfd memory source');
  const ramId = ctx.caps.machine(def.os.machine ?? '', accelOf(def))?.defaultRamId;
  const first = mb.hugepages[0]?.size ?? 0;
  if (!ramId && first !== ctx.config.hostPageSizeKiB && !def.cpu?.numa?.cells.length && mb.access === 'shared') {
    throw unsupported("memory access mode 'shared' not supported without guest numa node");
  }
}

function validateConsoles(def: DomainDef, ctx: QemuValidateContext): void {
  for (const c of def.devices.consoles) {
    switch (c.targetType) {
      case 'sclp':
        if (!ctx.caps.has('s390-sclp')) throw unsupported('sclpconsole is not supported in this QEMU binary');
        break;
      case 'sclplm':
        if (!ctx.caps.has('sclplmconsole')) throw unsupported('sclplmconsole is not supported in this QEMU binary');
        break;
      case 'virtio':
      case 'serial':
      case undefined:
        break;
      default:
        throw unsupported(`unsupported console target type ${c.targetType}`);
    }
  }
}

function validatePanics(def: DomainDef, ctx: QemuValidateContext): void {
  for (const p of def.devices.panics) {
    const addr = p.info.address?.type;
    switch (p.model) {
      case 's390':
        if (!isS390(def.os.arch)) throw unsupported("only S390 guests support panic device of model 's390'");
        if (addr) throw unsupported("setting the panic device address is not supported for model 's390'");
        break;
      case 'hyperv':
        if (!isX86(def.os.arch)) throw unsupported("only i686 and x86_64 guests support panic device of model 'hyperv'");
        if (addr) throw unsupported("setting the panic device address is not supported for model 'hyperv'");
        break;
      case 'pseries':
        if (!isPSeries(def)) throw unsupported("only pSeries guests support panic device of model 'pseries'");
        if (addr) throw unsupported("setting the panic device address is not supported for model 'pseries'");
        break;
      case 'isa':
        if (!ctx.caps.has('pvpanic')) throw unsupported('the QEMU binary does not support the ISA panic device');
        if (addr && addr !== 'isa') throw unsupported('panic is supported only with ISA address type');
        break;
      case 'pvpanic':
        if (addr !== 'pci') throw unsupported('pvpanic is supported only with PCI address type');
        break;
      default:
        break;
    }
  }
}

function validateLifecycle(def: DomainDef): void {
  const { onPoweroff, onReboot, onCrash } = def.lifecycle;
  if (onPoweroff === 'rename-restart' || onReboot === 'rename-restart' || onCrash === 'rename-restart') {
    throw unsupported("qemu driver doesn't support the 'rename-restart' action for 'on_reboot'/'on_poweroff'/'on_crash'");
  }
  if (onPoweroff === 'preserve' || onReboot === 'preserve') {
    throw unsupported("qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'");
  }
  if (onPoweroff === 'restart' && onReboot === 'destroy') {
    throw unsupported("qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to 'reboot'");
  }
}

/** qemuValidateDomainDef. */
export function qemuValidateDomain(def: DomainDef, _opts: DomainParseOptions, ctx: QemuValidateContext): void {
  const { caps } = ctx;
  const emulator = def.devices.emulator ?? '';
  if (def.os.type !== 'hvm') throw unsupported(`Emulator '${emulator}' does not support os type '${def.os.type}'`);
  if (def.os.arch && caps.arch && def.os.arch !== caps.arch && !(caps.arch === 'x86_64' && def.os.arch === 'i686')) {
    throw unsupported(`Emulator '${emulator}' does not support arch '${def.os.arch}'`);
  }
  const accel = accelOf(def);
  if (def.type === 'hvf' || (def.type === 'kvm' && !caps.machines('kvm').length)) {
    throw unsupported(`Emulator '${emulator}' does not support virt type '${def.type}'`);
  }
  if (def.os.machine && caps.machines(accel).length && !caps.machine(def.os.machine, accel)) {
    throw unsupported(`Emulator '${emulator}' does not support machine type '${def.os.machine}'`);
  }
  if (caps.machine(def.os.machine ?? '', accel)?.acpi === false && def.features?.states.acpi === true) {
    throw unsupported(`machine type '${def.os.machine ?? ''}' does not support ACPI`);
  }
  if (def.memtune?.minGuarantee) throw unsupported("Parameter 'min_guarantee' not supported by QEMU.");
  const oldStyleUefi = def.os.loader?.type === 'pflash';
  if ((def.os.firmware === 'efi' || oldStyleUefi) && isX86(def.os.arch) && def.features?.states.acpi !== true) {
    throw unsupported('UEFI requires ACPI on this architecture');
  }
  if (def.features?.states.acpi === true && def.os.arch === 'aarch64' && def.os.firmware !== 'efi' && !oldStyleUefi) {
    throw unsupported('ACPI requires UEFI on this architecture');
  }
  if (def.genid && !caps.has('vmgenid')) throw unsupported("this QEMU does not support the 'genid' capability");
  if (def.os.bios?.useserial) {
    if (!isX86(def.os.arch)) throw unsupported('BIOS serial console only supported on x86 architectures');
    if (!def.devices.serials.length) throw xmlError('need at least one serial port to use BIOS serial output');
  }
  validateLifecycle(def);
  validateCpu(def, ctx);
  if (def.iothreadids.some((t) => t.threadPoolMin !== undefined || t.threadPoolMax !== undefined) && !caps.has('iothread.thread-pool-max')) {
    throw unsupported('thread_pool_min and thread_pool_max is not supported by this QEMU binary');
  }
  validateClock(def, ctx);
  if ((def.pm?.suspendToMem !== undefined || def.pm?.suspendToDisk !== undefined) && !isX86(def.os.arch)) {
    throw unsupported('setting ACPI S3/S4 not supported');
  }
  validateBoot(def);
  validateVcpus(def, ctx);
  if (def.cputune?.resctrls.length && def.type !== 'kvm') throw unsupported('cachetune is only supported for KVM domains');
  validateFeatures(def, ctx);
  validateMemory(def, ctx);
  const numa = def.cpu?.numa;
  if ((numa?.interconnects?.length || numa?.cells.some((c) => c.caches?.length)) && !caps.has('numa.hmat')) {
    throw unsupported('HMAT is not supported with this QEMU');
  }
  validateConsoles(def, ctx);
  validatePanics(def, ctx);
  const tpms = def.devices.tpms;
  if (tpms.filter((t) => t.model === 'spapr-tpm-proxy').length > 1) throw unsupported('only a single TPM Proxy device is supported');
  if (tpms.filter((t) => t.model !== 'spapr-tpm-proxy').length > 1) throw unsupported('only a single TPM non-proxy device is supported');
  const seen = new Set<string>();
  for (const w of def.devices.watchdogs) {
    if (w.model === 'i6300esb') continue;
    if (seen.has(w.model)) throw unsupported(`domain can only have one watchdog with model '${w.model}'`);
    seen.add(w.model);
  }
}

// ---------------------------------------------------------------- storage

const HTTP_LIKE = ['http', 'https', 'ftp', 'ftps'];

/** qemuDomainValidateStorageSource: formats and protocol options QEMU can't do. */
function validateStorageSource(src: StorageSource, what: string): void {
  const fmt = src.format;
  if (fmt === 'cow') throw unsupported("'cow' storage format is not supported");
  if (fmt === 'dir') throw unsupported("'directory' storage format is not directly supported by QEMU, use 'dir' disk type instead");
  if (fmt === 'iso') throw unsupported("storage format 'iso' is not directly supported by QEMU, use 'raw' instead");
  const enc = src.encryption;
  if ((fmt === 'qcow' || fmt === 'qcow2') && enc && (enc.format === undefined || enc.format === 'qcow' || enc.format === 'default')) {
    throw unsupported('old qcow/qcow2 encryption is not supported');
  }
  if (fmt === 'fat' && src.type !== 'volume' && src.type !== 'dir') throw unsupported("storage format 'fat' is supported only with 'dir' storage type");
  if (src.type === 'dir' && fmt && fmt !== 'fat' && fmt !== 'raw') throw unsupported("storage type 'dir' requires use of storage format 'fat'");
  const proto = src.type === 'network' ? src.protocol : undefined;
  if (src.sslverify !== undefined && proto !== 'https' && proto !== 'ftps') throw unsupported('ssl verification is supported only with HTTPS/FTPS protocols');
  if (src.cookies?.length && proto !== 'http' && proto !== 'https') throw unsupported('http cookies are supported only with HTTP(S) protocol');
  if (src.readahead && !(proto && HTTP_LIKE.includes(proto))) throw unsupported('readahead is supported only with HTTP(S)/FTP(s) protocols');
  if (src.timeout && !(proto && HTTP_LIKE.includes(proto))) throw unsupported('timeout is supported only with HTTP(S)/FTP(s) protocols');
  if (src.query && proto !== 'http' && proto !== 'https') throw unsupported('query is supported only with HTTP(S) protocols');
  if (proto === 'tftp') throw unsupported("'tftp' protocol is not supported with this QEMU binary");
  if (src.metadataCacheMaxSize && fmt !== 'qcow2') throw unsupported('metadata cache max size control is supported only with qcow2 images');
  if (enc) {
    if (enc.engine === 'librbd') {
      if (proto !== 'rbd') throw unsupported('librbd encryption is supported only with RBD backed disks');
      if (enc.format === 'qcow') throw unsupported('librbd encryption engine only supports luks/luks2 formats');
    } else {
      if (enc.format === 'luks2' || enc.format === 'luks-any') {
        throw unsupported(`'${enc.format}' is currently not supported by the qemu encryption engine`);
      }
      if (enc.format === 'luks' && fmt && fmt !== 'raw' && fmt !== 'qcow2') {
        throw unsupported("encryption is supported only with 'raw' and 'qcow2' image format");
      }
    }
  }
  void what;
}

const SERIAL_CHARS = /^[a-zA-Z0-9\-_ .+]*$/;

function iotuneHasAny(d: DiskDef): boolean {
  const t = d.iotune;
  if (!t) return false;
  return Object.entries(t).some(([k, v]) => k !== 'groupName' && typeof v === 'number' && v > 0);
}

const IOTUNE_MAX = 1_000_000_000_000_000;

function validateDisk(disk: DiskDef, def: DomainDef, ctx: QemuValidateContext): void {
  const where = `disk '${disk.dst}'`;
  const bus = disk.bus;
  const g = disk.geometry;
  if (g && g.cylinders > 0 && g.heads > 0 && g.sectors > 0) {
    if (bus === 'usb' || bus === 'sd') throw unsupported(`CHS geometry can not be set for '${bus}' bus`);
    if (g.trans && g.trans !== 'default' && bus !== 'ide') throw unsupported(`CHS translation mode can only be set for 'ide' bus not '${bus ?? ''}'`);
  }
  if (disk.serial && bus === 'sd') throw internal(`Serial property not supported for drive bus '${bus}'`);
  if (disk.device === 'cdrom' && (bus === 'virtio' || bus === 'sd')) throw unsupported(`disk type of '${disk.dst}' does not support ejectable media`);
  if (disk.driver.copyOnRead === true) {
    if (disk.readonly) throw unsupported(`copy_on_read is not compatible with read-only disk '${disk.dst}'`);
    if (disk.device === 'cdrom' || disk.device === 'floppy') throw unsupported(`copy_on_read is not supported with removable disk '${disk.dst}'`);
  }
  if (disk.wwn && bus !== 'ide' && bus !== 'scsi') throw unsupported('Only ide and scsi disk support wwn');
  if ((disk.vendor || disk.product) && bus !== 'scsi') throw unsupported('Only scsi disk supports vendor and product');
  if (disk.device === 'lun') {
    if (bus !== 'virtio' && bus !== 'scsi') throw unsupported(`disk device='lun' is not supported for bus='${bus ?? ''}'`);
    if (disk.driver.copyOnRead === true) throw unsupported(`copy_on_read is not compatible with 'lun' disk '${disk.dst}'`);
    if (disk.wwn) throw unsupported('Setting wwn is not supported for lun device');
    if (disk.vendor || disk.product) throw unsupported('Setting vendor or product is not supported for lun device');
  }
  if (disk.rotationRate) {
    if (bus !== 'scsi' && bus !== 'ide' && bus !== 'sata') throw internal('rotation rate is only valid for SCSI/IDE/SATA bus');
    if (disk.device !== 'disk') throw internal('rotation rate is only valid for disk device');
  }
  const at = disk.info.address?.type;
  if ((bus === 'scsi' || bus === 'ide' || bus === 'fdc' || bus === 'sata') && at !== 'drive') {
    throw internal(`unexpected address type for ${bus} disk`);
  }
  if (bus === 'usb' && at && at !== 'usb') throw internal('unexpected address type for usb disk');
  if (disk.readonly && disk.device === 'disk') {
    if (bus === 'ide') throw unsupported('readonly ide disks are not supported');
    if (bus === 'sata') throw unsupported('readonly sata disks are not supported');
  }
  if (disk.driver.io === 'native' && disk.driver.cache !== 'directsync' && disk.driver.cache !== 'none') {
    throw unsupported("io='native' needs either no disk cache or directsync cache mode");
  }
  if (disk.serial && bus === 'scsi' && disk.device === 'lun') throw unsupported("scsi-block 'lun' devices do not support the serial property");
  if (disk.serial && !SERIAL_CHARS.test(disk.serial)) throw internal(`driver serial '${disk.serial}' contains unsafe characters`);
  if (disk.driver.iothread) {
    if (bus !== 'virtio') throw unsupported(`IOThreads not available for bus ${bus ?? ''} target ${disk.dst}`);
    if (!def.iothreadids.some((t) => t.id === disk.driver.iothread)) throw unsupported(`Disk iothread '${disk.driver.iothread}' not defined in iothreadid`);
  }
  // Block I/O tuning.
  const t = disk.iotune;
  if (t?.groupName && !iotuneHasAny(disk)) throw unsupported('group_name can be configured only together with settings');
  if (bus === 'sd' && iotuneHasAny(disk)) throw unsupported("<iotune> is not supported with bus='sd'");
  if (t) {
    for (const [k, v] of Object.entries(t)) {
      if (k.endsWith('Length') || typeof v !== 'number') continue;
      if (v > IOTUNE_MAX) throw new VirtError('ARGUMENT_UNSUPPORTED', `block I/O throttle limit must be no more than ${IOTUNE_MAX} using QEMU`, { origin: 'qemu' });
    }
  }
  // Transient disks.
  if (disk.transient) {
    const empty = disk.src.type !== 'network' && !disk.src.path;
    if (empty) throw unsupported(`transient disk '${disk.dst}' must not be empty`);
    if (disk.readonly) throw unsupported(`transient disk '${disk.dst}' must not be read-only`);
    if (disk.src.type !== 'file') throw unsupported(`transient disk supported only with 'file' type (${disk.dst})`);
    if (disk.device !== 'disk') throw unsupported(`transient disk supported only with 'disk' device (${disk.dst})`);
    if (disk.transientShareBacking && bus !== 'usb' && bus !== 'virtio' && bus !== 'scsi') {
      throw unsupported(`disk bus '${bus ?? ''}' doesn't support transiend disk backing image sharing`);
    }
  }
  if (disk.shareable && !disk.readonly && disk.src.format !== 'raw') {
    throw unsupported(`shared access for disk '${disk.dst}' requires use of supported storage format`);
  }
  if (disk.driver.name && disk.driver.name !== 'qemu') throw unsupported(`unsupported driver name '${disk.driver.name}' for disk '${disk.dst}'`);
  const m = /^(?:fd|hd|vd|sd|xvd|ubd)[a-z]+([0-9]*)$/.exec(disk.dst);
  if (!m || diskNameToIndex(disk.dst) < 0) throw unsupported(`invalid disk target '${disk.dst}'`);
  if (m[1]) throw unsupported(`invalid disk target '${disk.dst}', partitions can't appear in disk targets`);
  for (let n: StorageSource | null | undefined = disk.src; n; n = n.backingStore) validateStorageSource(n, where);
  if (bus === 'sd' && (disk.src.encryption?.secrets.length ?? 0) > 1) {
    throw unsupported(`sd card '${disk.dst}' does not support multiple encryption secrets`);
  }
  if (disk.src.type === 'vhostuser') requireSharedMemory(def, 'vhostuser');
  void ctx;
}

/** qemuValidateDomainDefVhostUserRequireSharedMemory. */
function requireSharedMemory(def: DomainDef, name: string): void {
  const cells = def.cpu?.numa?.cells ?? [];
  const shared = def.memoryBacking?.access === 'shared';
  if (!cells.length && !shared) throw unsupported(`'${name}' requires shared memory`);
  for (const c of cells) {
    if (c.memAccess === 'private' || (!c.memAccess && !shared)) throw unsupported(`'${name}' requires shared memory`);
  }
}

// ---------------------------------------------------------------- devices

function validateDeviceInfo(dev: DomainDevice, def: DomainDef): void {
  const info = (dev.def as { info?: DeviceInfo }).info;
  if (!info) return;
  const a = info.address;
  switch (a?.type) {
    case 'virtio-s390':
      throw unsupported("'virtio-s390' addresses are no longer supported");
    case 'ccw':
      if (!isS390CCW(def)) throw unsupported(`cannot use CCW address type for device '${info.alias ?? ''}' using machine type '${def.os.machine ?? ''}'`);
      break;
    case 'spapr-vio':
      if (a.reg !== undefined && a.reg > 0xffffffff) throw unsupported(`spapr-vio reg='0x${a.reg.toString(16)}' exceeds maximum possible value (0xffffffff)`);
      break;
    case 'drive': {
      const bus = dev.kind === 'disk' ? dev.def.bus : 'scsi';
      if (bus === 'scsi') {
        if (a.bus !== 0) throw internal('SCSI controller only supports 1 bus');
        const ctrl = def.devices.controllers.find((c) => c.type === 'scsi' && c.index === a.controller);
        if (ctrl?.model === 'lsilogic' && a.target !== 0) throw unsupported("target must be 0 for controller model 'lsilogic'");
      } else if (bus === 'ide') {
        if (a.controller !== 0) throw internal('Only 1 IDE controller is supported');
        if (a.target !== 0) throw unsupported('target must be 0 for ide controller');
      } else if (bus === 'fdc') {
        if (a.controller !== 0) throw internal('Only 1 fdc controller is supported');
        if (a.bus !== 0) throw internal('Only 1 fdc bus is supported');
        if (a.target !== 0) throw unsupported('target must be 0 for controller fdc');
      } else if (bus === 'sata') {
        if (a.bus !== 0) throw unsupported('bus must be 0 for sata controller');
        if (a.target !== 0) throw unsupported('target must be 0 for sata controller');
      }
      break;
    }
    default:
      break;
  }
  if (info.acpiIndex && a && a.type !== 'pci') throw unsupported('ACPI index is only supported for PCI devices');
  if (info.rom && a && a.type !== 'pci' && a.type !== 'unassigned') throw unsupported('ROM tuning is only supported for PCI devices');
}

function validateNet(net: DomainInterfaceDef, ctx: QemuValidateContext): void {
  if (net.type === 'user') {
    if (net.backend?.type === 'passt' && !ctx.caps.has('netdev.stream')) throw unsupported('the passt network backend is not supported with this QEMU binary');
    if (net.routes.length) throw unsupported('Invalid attempt to set network interface guest-side IP route, not supported by QEMU');
    let v4 = false;
    let v6 = false;
    for (const ip of net.ips) {
      if (ip.peer) throw unsupported('Invalid attempt to set peer IP for guest');
      if (ip.address.includes(':')) {
        if (v6) throw unsupported('Only one IPv6 address per interface is allowed');
        v6 = true;
        if (ip.prefix && ip.prefix !== 64) throw unsupported(`unsupported IPv6 address prefix='${ip.prefix}' - must be 64`);
      } else {
        if (v4) throw unsupported('Only one IPv4 address per interface is allowed');
        v4 = true;
        if (ip.prefix && (ip.prefix < 4 || ip.prefix > 27)) throw xmlError('invalid prefix, must be in range of 4-27');
      }
    }
  } else if (net.type === 'vdpa') {
    if (!ctx.caps.has('netdev.vhost-vdpa')) throw unsupported('vDPA devices are not supported with this QEMU binary');
    if (net.model !== 'virtio') throw unsupported(`invalid model for interface of type '${net.type}': '${net.model ?? ''}'`);
  } else if (net.ips.length || net.routes.length) {
    throw unsupported('Invalid attempt to set network interface guest-side IP route and/or address info, not supported by QEMU');
  }
  const virtio = net.model === 'virtio' || net.model === 'virtio-transitional' || net.model === 'virtio-non-transitional';
  if (virtio) {
    const d = net.driver;
    if (d?.rxQueueSize && !isPow2(d.rxQueueSize)) throw unsupported('rx_queue_size has to be a power of two');
    if (d?.txQueueSize && !isPow2(d.txQueueSize)) throw unsupported('tx_queue_size has to be a power of two');
    if (d?.rss && !ctx.caps.has('virtio-net.rss')) throw unsupported('virtio rss is not supported with this QEMU binary');
    if (d?.rssHashReport && !ctx.caps.has('virtio-net.rss')) throw unsupported('virtio rss hash report is not supported with this QEMU binary');
  }
  if (net.mtu) {
    const ok = ['network', 'bridge', 'ethernet', 'vhostuser'].includes(net.type) || (net.type === 'user' && net.backend?.type === 'passt');
    if (!ok) throw unsupported(`setting MTU on interface type ${net.type} is not supported yet`);
  }
  if (net.teaming?.type === 'persistent' && !virtio) {
    throw unsupported(`virtio-net teaming persistent interface must be <model type='virtio'/>, not '${net.model ?? ''}'`);
  }
  if (net.teaming?.type === 'transient' && net.type !== 'hostdev' && net.type !== 'network') {
    throw unsupported(`virtio-net teaming transient interface must be type='hostdev', not '${net.type}'`);
  }
  if (net.coalesceRxFrames !== undefined && net.type !== 'network' && net.type !== 'bridge') {
    throw unsupported(`coalesce settings on interface type ${net.type} are not supported`);
  }
}

function validateChrSource(src: ChrSourceDef, def: DomainDef, ctx: QemuValidateContext): void {
  if ((src.type === 'tcp' || src.type === 'unix') && src.reconnect?.enabled === true && !src.reconnect.timeout) {
    throw new VirtError('INVALID_ARG', "chardev reconnect source timeout cannot be '0'", { origin: 'qemu' });
  }
  if (src.type === 'qemu-vdagent' && !ctx.caps.has('chardev.qemu-vdagent')) throw unsupported(`chardev '${src.type}' not supported in this QEMU binary`);
  if ((src.type === 'spicevmc' || src.type === 'spiceport') && !def.devices.graphics.some((g) => g.type === 'spice')) {
    throw unsupported(`chardev '${src.type}' not supported without spice graphics`);
  }
}

const SERIAL_TARGET_ADDRESS: Record<string, string> = { 'isa-serial': 'isa', 'isa-debug': 'isa', 'usb-serial': 'usb', 'pci-serial': 'pci', 'spapr-vio-serial': 'spapr-vio' };
const SERIAL_MODEL_TARGET: Record<string, string> = {
  'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', 'spapr-vty': 'spapr-vio-serial', pl011: 'system-serial',
  '16550a': 'system-serial', sclpconsole: 'sclp-serial', sclplmconsole: 'sclp-serial', 'isa-debugcon': 'isa-debug',
};

function validateChr(chr: ChrDef, def: DomainDef, ctx: QemuValidateContext): void {
  validateChrSource(chr.source, def, ctx);
  if (chr.deviceType === 'serial') {
    const tt = chr.targetType;
    const at = chr.info.address?.type;
    if (tt && SERIAL_TARGET_ADDRESS[tt] && at && at !== SERIAL_TARGET_ADDRESS[tt]) {
      throw unsupported(`Target type '${tt}' requires address type '${SERIAL_TARGET_ADDRESS[tt]}'`);
    }
    if ((tt === 'system-serial' || tt === 'sclp-serial') && at) throw unsupported(`Target type '${tt}' cannot have an associated address`);
    const model = chr.targetModel;
    if (model && SERIAL_MODEL_TARGET[model] && tt !== SERIAL_MODEL_TARGET[model]) {
      throw unsupported(`Target model '${model}' requires target type '${SERIAL_MODEL_TARGET[model]}'`);
    }
    let compatible = true;
    if (tt === 'system-serial') {
      if (model === 'pl011' && !isARMVirt(def)) compatible = false;
      if (model === '16550a' && !(def.os.arch?.startsWith('riscv') && def.os.machine?.startsWith('virt'))) compatible = false;
    }
    if (!isPSeries(def) && (tt === 'spapr-vio-serial' || model === 'spapr-vty')) compatible = false;
    if (!isS390(def.os.arch) && (tt === 'sclp-serial' || model === 'sclpconsole' || model === 'sclplmconsole')) compatible = false;
    if (!compatible) {
      throw unsupported(`Serial device with target type '${tt ?? ''}' and target model '${model ?? ''}' not compatible with guest architecture or machine type`);
    }
  }
  if (chr.deviceType === 'parallel' && (isS390(def.os.arch) || isPSeries(def))) throw unsupported('parallel ports are not supported');
}

function validateWatchdog(w: WatchdogDef, def: DomainDef): void {
  const first = def.devices.watchdogs[0];
  if (first && first.action !== w.action) throw unsupported('watchdogs with different actions are not supported with this QEMU binary');
  const at = w.info.address?.type;
  switch (w.model) {
    case 'i6300esb':
      if (at && at !== 'pci') throw unsupported('i6300esb model of watchdog can go only on PCI bus');
      break;
    case 'ib700':
      if (!isI440FX(def)) throw unsupported('ib700 model of watchdog cannot be used with this machine type');
      if (at) throw unsupported('ib700 model of watchdog does not support configuring the address');
      break;
    case 'diag288':
      if (at) throw unsupported('diag288 model of watchdog is virtual and cannot go on any bus.');
      if (!isS390(def.os.arch)) throw unsupported('diag288 model of watchdog is allowed for s390 and s390x only');
      break;
    case 'itco':
      if (at) throw unsupported('itco model of watchdog is part of the machine and cannot have any address set.');
      if (!isQ35(def)) throw unsupported('itco model of watchdog is only part of q35 machine');
      break;
    default:
      break;
  }
}

function validateHostdev(h: HostdevDef, def: DomainDef, ctx: QemuValidateContext): void {
  if (h.mode === 'capabilities') throw unsupported(`hostdev mode 'capabilities' is not supported in ${def.type}`);
  switch (h.type) {
    case 'usb':
      if (h.guestReset && !ctx.caps.has('usb-host.guest-resets-all')) throw unsupported('guestReset is not supported with this version of QEMU');
      break;
    case 'pci':
      if (h.writeFiltering !== undefined) throw unsupported('Write filtering of PCI device configuration space is not supported by qemu');
      break;
    case 'scsi_host':
      if (h.info.bootOrder) throw unsupported('booting from assigned devices is not supported by vhost SCSI devices');
      if (!ctx.caps.has('vhost-scsi')) throw unsupported("This QEMU doesn't support vhost-scsi devices");
      break;
    case 'mdev': {
      const model = h.mdevModel ?? 'vfio-pci';
      if (h.info.bootOrder && (model === 'vfio-pci' || model === 'vfio-ap')) {
        throw unsupported(`booting from assigned devices is not supported by mediated devices of model ${model}`);
      }
      if (h.display !== undefined && model !== 'vfio-pci') throw unsupported("<hostdev> attribute 'display' is only supported with model='vfio-pci'");
      if (h.display === true && !def.devices.graphics.length) throw unsupported("graphics device is needed for attribute value 'display=on' in <hostdev>");
      if (model === 'vfio-ap' && def.devices.hostdevs.filter((x) => x.type === 'mdev' && x.mdevModel === 'vfio-ap').length > 1) {
        throw unsupported('Only one hostdev of model vfio-ap is supported');
      }
      break;
    }
    default:
      break;
  }
}

function videoModelSupported(type: string, ctx: QemuValidateContext): boolean {
  switch (type) {
    case 'vga': case 'none': return true;
    case 'cirrus': return ctx.caps.has('cirrus-vga');
    case 'vmvga': return ctx.caps.has('vmware-svga');
    case 'qxl': return ctx.caps.has('qxl');
    case 'virtio': return ctx.caps.has('virtio-gpu');
    case 'bochs': return ctx.caps.has('bochs-display');
    case 'ramfb': return ctx.caps.has('ramfb');
    default: return false;
  }
}

function validateVideo(v: VideoDef, def: DomainDef, ctx: QemuValidateContext): void {
  const type = v.type ?? '';
  if (type === 'none') return;
  if (!videoModelSupported(type, ctx)) throw unsupported(`domain configuration does not support video model '${type}'`);
  if (type !== 'qxl' && type !== 'virtio') {
    if (!v.primary && def.devices.videos[0] !== v) throw unsupported(`video type '${type}' is only valid as primary video device`);
    if ((v.heads ?? 1) !== 1) throw unsupported(`video type '${type}' doesn't support multiple 'heads'`);
  }
  if (v.accel?.accel2d === true) throw unsupported('qemu does not support the accel2d setting');
  if (type === 'qxl') {
    const max = Math.floor(0xffffffff / 1024);
    if ((v.vram ?? 0) > max) throw unsupported(`value for 'vram' must be less than '${max}'`);
    if ((v.ram ?? 0) > max) throw unsupported(`value for 'ram' must be less than '${max}'`);
    if (v.vgamem) {
      if (v.vgamem < 1024) throw unsupported("value for 'vgamem' must be at least 1 MiB (1024 KiB)");
      if (!isPow2(v.vgamem)) throw unsupported("value for 'vgamem' must be power of two");
    }
  }
  if (!['vga', 'qxl', 'virtio', 'bochs'].includes(type) && v.resolution) throw xmlError('model resolution is not supported');
  if ((type === 'vga' || type === 'vmvga') && v.vram && v.vram < 1024) throw unsupported("value for 'vram' must be at least 1 MiB (1024 KiB)");
  if (v.backend === 'vhostuser') {
    if (type === 'virtio' && !ctx.caps.has('vhost-user-gpu')) throw unsupported("this QEMU does not support 'vhost-user' video device");
  } else if (v.accel?.accel3d === true) {
    if (type !== 'virtio') throw unsupported("3d acceleration is supported only with 'virtio' video device");
    if (!ctx.caps.has('virtio-gpu.virgl') && !ctx.caps.has('virtio-gpu-gl-pci') && !ctx.caps.has('virtio-vga-gl')) {
      throw unsupported('3d acceleration is not supported by this QEMU binary');
    }
  }
  if (type === 'ramfb' && v.info.address) throw unsupported("'address' is not supported for 'ramfb' video devices");
}

const SCSI_MODEL_CAPS: Record<string, string> = {
  lsilogic: 'lsi', 'virtio-scsi': 'virtio-scsi-pci', 'virtio-transitional': 'virtio-scsi-pci', 'virtio-non-transitional': 'virtio-scsi-pci',
  lsisas1068: 'mptsas1068', lsisas1078: 'megasas', vmpvscsi: 'pvscsi',
};

function hasBuiltinIDE(def: DomainDef): boolean {
  return isI440FX(def) || def.os.machine === 'malta' || def.os.machine === 'sun4u' || def.os.machine === 'g3beige';
}

function validateController(c: ControllerDef, def: DomainDef, ctx: QemuValidateContext): void {
  const virtioScsi = c.type === 'scsi' && (c.model === 'virtio-scsi' || c.model === 'virtio-transitional' || c.model === 'virtio-non-transitional');
  if (c.type === 'scsi') {
    if (c.model === 'auto' || c.model === 'buslogic') throw unsupported(`Unsupported controller model: ${c.model}`);
    const cap = c.model ? SCSI_MODEL_CAPS[c.model] : undefined;
    if (cap && !ctx.caps.has(cap)) throw unsupported(`This QEMU doesn't support the ${c.model ?? ''} SCSI controller`);
    if (c.model === 'ncr53c90' && c.index !== 0) throw unsupported('ncr53c90 can only be used as first SCSI controller');
  }
  if (!virtioScsi) {
    const d = c.driver;
    if (d?.queues) throw unsupported("'queues' is only supported by virtio-scsi controller");
    if (d?.cmdPerLun) throw unsupported("'cmd_per_lun' is only supported by virtio-scsi controller");
    if (d?.maxSectors) throw unsupported("'max_sectors' is only supported by virtio-scsi controller");
    if (d?.ioeventfd !== undefined) throw unsupported("'ioeventfd' is only supported by virtio-scsi controller");
    if (d?.iothread) throw unsupported("'iothread' is only supported for virtio-scsi controller");
  } else if (c.driver?.iothread) {
    const at = c.info.address?.type;
    if (at && at !== 'pci' && at !== 'ccw') throw unsupported('virtio-scsi IOThreads only available for virtio pci and virtio ccw controllers');
    if (!def.iothreadids.some((t) => t.id === c.driver?.iothread)) throw unsupported(`controller iothread '${c.driver.iothread}' not defined in iothreadid`);
  }
  switch (c.type) {
    case 'ide':
      if (c.index === 0 && hasBuiltinIDE(def)) break;
      if (hasBuiltinIDE(def)) throw unsupported('Only a single IDE controller is supported for this machine type');
      throw unsupported('IDE controllers are unsupported for this QEMU binary or machine type');
    case 'sata':
      if (!(c.index === 0 && isQ35(def)) && !ctx.caps.has('ich9-ahci')) throw unsupported('SATA is not supported with this QEMU binary');
      break;
    case 'pci': {
      const m = c.model ?? '';
      if (m === 'pci-root' || m === 'pcie-root') {
        if (c.index !== 0 && c.pci?.modelName !== 'spapr-pci-host-bridge') throw unsupported(`Index for '${m}' controllers must be 0`);
        if (c.pci?.pcihole64 !== undefined) {
          if (m === 'pci-root' && !isI440FX(def)) throw unsupported(`Setting the 64-bit PCI hole size is not supported for machine '${def.os.machine ?? ''}'`);
          if (m === 'pcie-root' && !isQ35(def)) throw unsupported(`Setting the 64-bit PCI hole size is not supported for machine '${def.os.machine ?? ''}'`);
        }
      } else if (m) {
        if (c.index === 0) throw unsupported(`Index for '${m}' controllers must be > 0`);
        if (c.pci?.pcihole64 !== undefined) {
          throw unsupported(`Option 'pcihole64' is not valid for PCI controller with index '${c.index}', model '${m}' and modelName '${c.pci.modelName ?? 'none'}'`);
        }
      }
      if (c.pci?.hotplug !== undefined && !['pci-root', 'pcie-root-port', 'pcie-switch-downstream-port'].includes(m)) {
        throw unsupported(`Option 'hotplug' is not valid for PCI controller with index '${c.index}', model '${m}' and modelName '${c.pci.modelName ?? 'none'}'`);
      }
      break;
    }
    default:
      break;
  }
}

function validateGraphics(g: GraphicsDef, def: DomainDef, ctx: QemuValidateContext): void {
  const supported: Record<string, boolean> = {
    sdl: ctx.caps.has('sdl'), vnc: ctx.caps.has('vnc'), spice: ctx.caps.has('spice'), 'egl-headless': ctx.caps.has('egl-headless'),
    dbus: ctx.caps.has('display-dbus'),
  };
  if (!supported[g.type]) throw unsupported(`${g.type} graphics are not supported with this QEMU`);
  if (def.devices.graphics.some((x) => x.type === 'egl-headless')) {
    if (g.type !== 'egl-headless' && g.type !== 'vnc' && g.type !== 'spice') {
      throw unsupported("graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' graphics types");
    }
    if (g.type === 'spice' && g.gl?.enable === true) throw unsupported('multiple OpenGL displays are not supported by QEMU');
  }
  if (g.type === 'spice') {
    const l = g.listens[0];
    if ((!l || l.type === 'address' || l.type === 'network') && (g.tlsPort ?? 0) > 0 && !ctx.config.spiceTLS) {
      throw unsupported('spice TLS port set in XML configuration, but TLS is disabled in qemu.conf');
    }
    if (g.gl?.enable === true) {
      if (!ctx.caps.has('spice-gl')) throw unsupported("This QEMU doesn't support spice OpenGL");
      if (g.gl.rendernode && !ctx.caps.has('spice-rendernode')) throw unsupported("This QEMU doesn't support spice OpenGL rendernode");
    }
  } else if (g.type === 'egl-headless') {
    if (g.gl?.rendernode && !ctx.caps.has('egl-headless.rendernode')) {
      throw unsupported("This QEMU doesn't support OpenGL rendernode with egl-headless graphics type");
    }
  } else if (g.type === 'vnc') {
    if (g.powerControl !== undefined && !ctx.caps.has('vnc-power-control')) throw unsupported('VNC power control is not available');
    const pw = g.auth?.passwd;
    if (pw && Buffer.byteLength(pw) > 8) throw unsupported(`VNC password is ${Buffer.byteLength(pw)} characters long, only 8 permitted`);
  } else if (g.type === 'dbus' && g.audioId) {
    const audio = def.devices.audios.find((a) => a.id === g.audioId);
    if (audio && audio.type !== 'dbus') throw unsupported("The associated audio is not of 'dbus' kind.");
  }
}

function validateFilesystem(fs: FilesystemDef, def: DomainDef, ctx: QemuValidateContext): void {
  if (fs.type !== 'mount') throw unsupported('only supports mount filesystem type');
  if (fs.spaceHardLimit || fs.spaceSoftLimit) throw unsupported('filesystem usage limits are not supported with QEMU');
  if (fs.multidevs && !ctx.caps.has('fsdev.multidevs')) throw unsupported('multidevs is not supported with this QEMU binary');
  if ((fs.fmode || fs.dmode) && fs.accessmode !== 'mapped') throw unsupported('fmode and dmode must be used with accessmode=mapped');
  const drv = fs.driver?.type;
  if (drv !== 'virtiofs' && fs.binary?.sandboxMode) throw unsupported('sandbox can only be used with driver=virtiofs');
  switch (drv) {
    case undefined:
    case 'path':
      break;
    case 'handle':
      if (fs.accessmode && fs.accessmode !== 'passthrough') throw unsupported('only supports passthrough accessmode');
      break;
    case 'loop':
    case 'nbd':
    case 'ploop':
      throw unsupported('Filesystem driver type not supported');
    case 'virtiofs':
      if (!fs.socket) {
        if (fs.accessmode && fs.accessmode !== 'passthrough') throw unsupported('virtiofs only supports passthrough accessmode');
        if (fs.driver?.wrpolicy) throw unsupported('virtiofs does not support wrpolicy');
      }
      if (fs.readonly) throw unsupported('virtiofs does not support read-only access');
      if (fs.model) throw unsupported('virtiofs does not support model');
      if (fs.driver?.format) throw unsupported('virtiofs does not support format');
      if (!ctx.caps.has('vhost-user-fs')) throw unsupported('virtiofs is not supported with this QEMU binary');
      if (fs.multidevs) throw unsupported('virtiofs does not support multidevs');
      if (fs.fmode || fs.dmode) throw unsupported('virtiofs does not support fmode and dmode');
      requireSharedMemory(def, 'virtiofs');
      break;
    default:
      break;
  }
}

function validateTpm(tpm: TpmDef, def: DomainDef, ctx: QemuValidateContext): void {
  if (tpm.backend === 'emulator') {
    const version = tpm.version ?? '';
    if (version && !ctx.swtpmVersions.includes(version)) throw unsupported(`TPM version '${version}' is not supported`);
    if (version === '1.2') {
      if (tpm.model === 'tpm-crb') throw unsupported("Unsupported interface 'tpm-crb' for TPM 1.2");
      if (tpm.model === 'tpm-spapr') throw unsupported('TPM 1.2 is not supported with the SPAPR device model');
      if (isARMVirt(def)) throw unsupported('TPM 1.2 is not supported on ARM');
    }
  }
  const backendCap = tpm.backend === 'passthrough' ? 'tpm-passthrough' : tpm.backend === 'emulator' ? 'tpm-emulator' : 'tpm-emulator';
  if (!ctx.caps.has(backendCap)) {
    throw unsupported(`The QEMU executable ${def.devices.emulator ?? ''} does not support TPM backend type ${tpm.backend}`);
  }
  if (isPPC64(def.os.arch) && tpm.model === 'spapr-tpm-proxy' && tpm.backend !== 'passthrough') {
    throw unsupported(`TPM Proxy model ${tpm.model} requires 'Passthrough' backend`);
  }
  if (tpm.model && !ctx.caps.has(tpm.model)) {
    throw unsupported(`The QEMU executable ${def.devices.emulator ?? ''} does not support TPM model ${tpm.model}`);
  }
}

function validateInput(i: InputDef, def: DomainDef, ctx: QemuValidateContext): void {
  if (i.bus === 'ps2' && !isX86(def.os.arch) && !ctx.caps.has('i8042')) throw unsupported('ps2 is not supported by this QEMU binary');
  if (i.bus === 'usb' && i.type === 'keyboard' && !ctx.caps.has('usb-kbd')) throw unsupported('usb keyboard is not supported by this QEMU binary');
  if (i.bus !== 'virtio') return;
  if (i.model === 'virtio-transitional' || i.model === 'virtio-non-transitional') {
    throw unsupported(`virtio (non-)transitional models are not supported for input type=${i.type}`);
  }
  const base: Record<string, string> = { mouse: 'virtio-mouse', tablet: 'virtio-tablet', keyboard: 'virtio-keyboard', passthrough: 'virtio-input-host', evdev: 'input-linux' };
  const name = base[i.type];
  if (name && !ctx.caps.has(name)) throw unsupported(`${name} is not supported by this QEMU binary`);
}

function validateIommu(def: DomainDef, ctx: QemuValidateContext): void {
  const iommu = def.devices.iommu;
  if (!iommu) return;
  switch (iommu.model) {
    case 'intel':
      if (!isQ35(def)) throw unsupported("IOMMU device: 'intel' is only supported with Q35 machines");
      if (!ctx.caps.has('intel-iommu')) throw unsupported("IOMMU device: 'intel' is not supported with this QEMU binary");
      break;
    case 'smmuv3':
      if (!isARMVirt(def)) throw unsupported("IOMMU device: 'smmuv3' is only supported with ARM Virt machines");
      break;
    case 'virtio':
      if (!isARMVirt(def) && !isQ35(def)) throw unsupported("IOMMU device: 'virtio' is only supported with Q35 and ARM Virt machines");
      if (!ctx.caps.has('virtio-iommu-pci') || !ctx.caps.has('virtio-iommu.boot-bypass')) {
        throw unsupported("IOMMU device: 'virtio' is not supported with this QEMU binary");
      }
      if (def.features?.states.acpi !== true) throw unsupported("IOMMU device: 'virtio' requires ACPI");
      if (iommu.info.address && iommu.info.address.type !== 'pci') throw unsupported("IOMMU device: 'virtio' needs a PCI address");
      break;
    default:
      break;
  }
  if (iommu.intremap !== undefined && !ctx.caps.has('intel-iommu.intremap')) throw unsupported('iommu: interrupt remapping is not supported with this QEMU binary');
  if (iommu.cachingMode !== undefined && !ctx.caps.has('intel-iommu.caching-mode')) throw unsupported('iommu: caching mode is not supported with this QEMU binary');
  if (iommu.eim !== undefined && !ctx.caps.has('intel-iommu.eim')) throw unsupported('iommu: eim is not supported with this QEMU binary');
  if (iommu.iotlb !== undefined && !ctx.caps.has('intel-iommu.device-iotlb')) throw unsupported('iommu: device IOTLB is not supported with this QEMU binary');
  if (iommu.awBits && !ctx.caps.has('intel-iommu.aw-bits')) throw unsupported('iommu: aw_bits is not supported with this QEMU binary');
}

/** qemuValidateDomainDeviceDef. */
export function qemuValidateDevice(dev: DomainDevice, def: DomainDef, _opts: DomainParseOptions, ctx: QemuValidateContext): void {
  validateDeviceInfo(dev, def);
  const { caps } = ctx;
  switch (dev.kind) {
    case 'interface':
      validateNet(dev.def, ctx);
      break;
    case 'chr':
      validateChr(dev.def, def, ctx);
      break;
    case 'smartcard': {
      const sc = dev.def;
      const a = sc.info.address;
      if (def.devices.smartcards.length > 1 || (a && (a.type !== 'ccid' || a.controller !== 0 || a.slot !== 0))) {
        throw unsupported('this QEMU binary lacks multiple smartcard support');
      }
      if (sc.mode === 'passthrough') {
        if (!caps.has('ccid-passthru')) throw unsupported('this QEMU binary lacks smartcard passthrough mode support');
        if (sc.passthrough) validateChrSource(sc.passthrough, def, ctx);
      } else if (!caps.has('ccid-emulated')) throw unsupported('this QEMU binary lacks smartcard host mode support');
      break;
    }
    case 'rng': {
      const r = dev.def;
      const cap = r.backend === 'random' ? 'rng-random' : r.backend === 'egd' ? 'rng-egd' : 'rng-builtin';
      if (!caps.has(cap)) throw unsupported(`this qemu doesn't support the ${cap} backend`);
      if (r.chardev) validateChrSource(r.chardev, def, ctx);
      if (!['virtio', 'virtio-transitional', 'virtio-non-transitional'].includes(r.model)) {
        throw unsupported(`domain configuration does not support rng model '${r.model}'`);
      }
      break;
    }
    case 'redirdev':
      validateChrSource(dev.def.source, def, ctx);
      if (!caps.has('usb-redir')) throw unsupported('USB redirection is not supported by this version of QEMU');
      break;
    case 'watchdog':
      validateWatchdog(dev.def, def);
      break;
    case 'hostdev':
      validateHostdev(dev.def, def, ctx);
      break;
    case 'video':
      validateVideo(dev.def, def, ctx);
      break;
    case 'disk':
      validateDisk(dev.def, def, ctx);
      break;
    case 'controller':
      validateController(dev.def, def, ctx);
      break;
    case 'vsock':
      if (!caps.has('vhost-vsock')) throw unsupported('vsock device is not supported with this QEMU binary');
      break;
    case 'tpm':
      validateTpm(dev.def, def, ctx);
      break;
    case 'graphics':
      validateGraphics(dev.def, def, ctx);
      break;
    case 'input':
      validateInput(dev.def, def, ctx);
      break;
    case 'memballoon': {
      const b = dev.def;
      if (b.model !== 'none' && !['virtio', 'virtio-transitional', 'virtio-non-transitional'].includes(b.model)) {
        throw unsupported(`Memory balloon device type '${b.model}' is not supported by this version of qemu`);
      }
      break;
    }
    case 'iommu':
      validateIommu(def, ctx);
      break;
    case 'filesystem':
      validateFilesystem(dev.def, def, ctx);
      break;
    case 'nvram':
      if (!isPSeries(def)) throw unsupported('nvram device is only supported for PPC64');
      break;
    case 'hub':
      if (!caps.has('usb-hub')) throw unsupported('usb-hub not supported by QEMU binary');
      break;
    case 'sound': {
      const s = dev.def;
      if (s.model === 'usb' && !caps.has('usb-audio')) throw unsupported('usb-audio controller is not supported by this QEMU binary');
      if (s.model === 'ich9' && !caps.has('ich9-intel-hda')) throw unsupported('The ich9-intel-hda audio controller is not supported in this QEMU binary');
      if (s.model === 'ich7') throw internal("sound card model 'ich7' is not supported by qemu");
      if (s.model === 'ich6' || s.model === 'ich9') {
        for (const c of s.codecs) if (!caps.has(`hda-${c}`)) throw unsupported(`hda-${c} not supported in this QEMU binary`);
      }
      break;
    }
    case 'memory': {
      const m = dev.def;
      const cap: Record<string, string> = { dimm: 'pc-dimm', nvdimm: 'nvdimm', 'virtio-pmem': 'virtio-pmem-pci', 'virtio-mem': 'virtio-mem-pci', 'sgx-epc': 'sgx-epc' };
      if (cap[m.model] && !caps.has(cap[m.model]!)) throw unsupported(`${m.model} isn't supported by this QEMU binary`);
      break;
    }
    case 'shmem':
      if (dev.def.model === 'ivshmem') throw unsupported('ivshmem device is no longer supported');
      if (!caps.has(dev.def.model)) throw unsupported(`shmem model '${dev.def.model}' is not supported by this QEMU binary`);
      break;
    case 'audio':
      if (dev.def.type === 'spice' && !def.devices.graphics.some((g) => g.type === 'spice')) {
        throw unsupported('Spice audio is not supported without spice graphics');
      }
      if (dev.def.type === 'dbus' && !caps.has('display-dbus')) throw unsupported('D-Bus audio is not supported with this QEMU');
      break;
    default:
      break;
  }
}

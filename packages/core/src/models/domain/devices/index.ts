/**
 * <devices>: every device family of a domain, typed arrays by kind, parsed
 * and formatted in libvirt's order.
 */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { VirtError } from '../../../errors.js';
import { ElemReader, xmlError } from '../reader.js';
import type { FormatContext, ParseContext } from '../context.js';
import { chrSourceEqual, formatChr, parseChr, type ChrDef } from './chardev.js';
import { formatController, parseController, type ControllerDef } from './controller.js';
import { formatCrypto, parseCrypto, type CryptoDef } from './crypto.js';
import { diskNameToIndex, formatDisk, parseDisk, type DiskDef } from './disk.js';
import { formatFilesystem, parseFilesystem, type FilesystemDef } from './filesystem.js';
import { formatGraphics, parseGraphics, type GraphicsDef } from './graphics.js';
import { formatHostdev, parseHostdev, type HostdevDef } from './hostdev.js';
import type { DeviceInfo } from './info.js';
import { formatInput, parseInput, type InputDef } from './input.js';
import { formatInterface, parseInterface, type DomainInterfaceDef } from './interface.js';
import { formatIommu, parseIommu, type IommuDef } from './iommu.js';
import { formatLease, formatNvramDevice, parseLease, parseNvramDevice, type LeaseDef, type NvramDeviceDef } from './lease.js';
import { formatMemballoon, parseMemballoon, type MemballoonDef } from './memballoon.js';
import { formatMemoryDevice, parseMemoryDevice, type MemoryDeviceDef } from './memory-device.js';
import { formatPanic, parsePanic, type PanicDef } from './panic.js';
import { formatHub, formatRedirdev, formatRedirFilter, parseHub, parseRedirdev, parseRedirFilter, type HubDef, type RedirdevDef, type RedirFilterUsbDev } from './redirdev.js';
import { formatRng, parseRng, type RngDef } from './rng.js';
import { formatShmem, parseShmem, type ShmemDef } from './shmem.js';
import { formatSmartcard, parseSmartcard, type SmartcardDef } from './smartcard.js';
import { formatAudio, formatSound, parseAudio, parseSound, type AudioDef, type SoundDef } from './sound.js';
import { formatTpm, parseTpm, type TpmDef } from './tpm.js';
import { formatVideo, parseVideo, type VideoDef } from './video.js';
import { formatVsock, parseVsock, type VsockDef } from './vsock.js';
import { formatWatchdog, parseWatchdog, type WatchdogDef } from './watchdog.js';

export * from './info.js';
export * from './virtio.js';
export * from './storage-source.js';
export * from './disk.js';
export * from './controller.js';
export * from './net-common.js';
export * from './interface.js';
export * from './chardev.js';
export * from './graphics.js';
export * from './video.js';
export * from './input.js';
export * from './sound.js';
export * from './hostdev.js';
export * from './filesystem.js';
export * from './smartcard.js';
export * from './redirdev.js';
export * from './watchdog.js';
export * from './rng.js';
export * from './memballoon.js';
export * from './tpm.js';
export * from './panic.js';
export * from './shmem.js';
export * from './memory-device.js';
export * from './iommu.js';
export * from './vsock.js';
export * from './crypto.js';
export * from './lease.js';

export interface DomainDevices {
  emulator?: string;
  disks: DiskDef[];
  controllers: ControllerDef[];
  leases: LeaseDef[];
  filesystems: FilesystemDef[];
  interfaces: DomainInterfaceDef[];
  smartcards: SmartcardDef[];
  serials: ChrDef[];
  parallels: ChrDef[];
  consoles: ChrDef[];
  channels: ChrDef[];
  inputs: InputDef[];
  tpms: TpmDef[];
  graphics: GraphicsDef[];
  sounds: SoundDef[];
  audios: AudioDef[];
  videos: VideoDef[];
  hostdevs: HostdevDef[];
  redirdevs: RedirdevDef[];
  redirfilter?: RedirFilterUsbDev[];
  hubs: HubDef[];
  watchdogs: WatchdogDef[];
  memballoon?: MemballoonDef;
  rngs: RngDef[];
  nvram?: NvramDeviceDef;
  panics: PanicDef[];
  shmems: ShmemDef[];
  memories: MemoryDeviceDef[];
  iommu?: IommuDef;
  vsock?: VsockDef;
  cryptos: CryptoDef[];
  kept?: KeptXml;
}

/** One device with its kind, as handed to driver callbacks. */
export type DomainDevice =
  | { kind: 'disk'; def: DiskDef }
  | { kind: 'controller'; def: ControllerDef }
  | { kind: 'lease'; def: LeaseDef }
  | { kind: 'filesystem'; def: FilesystemDef }
  | { kind: 'interface'; def: DomainInterfaceDef }
  | { kind: 'smartcard'; def: SmartcardDef }
  | { kind: 'chr'; def: ChrDef }
  | { kind: 'input'; def: InputDef }
  | { kind: 'tpm'; def: TpmDef }
  | { kind: 'graphics'; def: GraphicsDef }
  | { kind: 'sound'; def: SoundDef }
  | { kind: 'audio'; def: AudioDef }
  | { kind: 'video'; def: VideoDef }
  | { kind: 'hostdev'; def: HostdevDef }
  | { kind: 'redirdev'; def: RedirdevDef }
  | { kind: 'hub'; def: HubDef }
  | { kind: 'watchdog'; def: WatchdogDef }
  | { kind: 'memballoon'; def: MemballoonDef }
  | { kind: 'rng'; def: RngDef }
  | { kind: 'nvram'; def: NvramDeviceDef }
  | { kind: 'panic'; def: PanicDef }
  | { kind: 'shmem'; def: ShmemDef }
  | { kind: 'memory'; def: MemoryDeviceDef }
  | { kind: 'iommu'; def: IommuDef }
  | { kind: 'vsock'; def: VsockDef }
  | { kind: 'crypto'; def: CryptoDef };

export function emptyDevices(): DomainDevices {
  return {
    disks: [], controllers: [], leases: [], filesystems: [], interfaces: [], smartcards: [], serials: [], parallels: [], consoles: [],
    channels: [], inputs: [], tpms: [], graphics: [], sounds: [], audios: [], videos: [], hostdevs: [], redirdevs: [], hubs: [],
    watchdogs: [], rngs: [], panics: [], shmems: [], memories: [], cryptos: [],
  };
}

/** Every device in libvirt's iteration order (consoles included). */
export function listDevices(d: DomainDevices): DomainDevice[] {
  const out: DomainDevice[] = [];
  for (const x of d.disks) out.push({ kind: 'disk', def: x });
  for (const x of d.interfaces) out.push({ kind: 'interface', def: x });
  for (const x of d.sounds) out.push({ kind: 'sound', def: x });
  for (const x of d.hostdevs) out.push({ kind: 'hostdev', def: x });
  for (const x of d.videos) out.push({ kind: 'video', def: x });
  for (const x of d.controllers) out.push({ kind: 'controller', def: x });
  for (const x of d.smartcards) out.push({ kind: 'smartcard', def: x });
  for (const x of d.serials) out.push({ kind: 'chr', def: x });
  for (const x of d.parallels) out.push({ kind: 'chr', def: x });
  for (const x of d.channels) out.push({ kind: 'chr', def: x });
  for (const x of d.consoles) out.push({ kind: 'chr', def: x });
  for (const x of d.inputs) out.push({ kind: 'input', def: x });
  for (const x of d.filesystems) out.push({ kind: 'filesystem', def: x });
  for (const x of d.watchdogs) out.push({ kind: 'watchdog', def: x });
  if (d.memballoon) out.push({ kind: 'memballoon', def: d.memballoon });
  for (const x of d.hubs) out.push({ kind: 'hub', def: x });
  for (const x of d.shmems) out.push({ kind: 'shmem', def: x });
  for (const x of d.tpms) out.push({ kind: 'tpm', def: x });
  for (const x of d.panics) out.push({ kind: 'panic', def: x });
  for (const x of d.memories) out.push({ kind: 'memory', def: x });
  for (const x of d.redirdevs) out.push({ kind: 'redirdev', def: x });
  for (const x of d.rngs) out.push({ kind: 'rng', def: x });
  if (d.nvram) out.push({ kind: 'nvram', def: d.nvram });
  if (d.iommu) out.push({ kind: 'iommu', def: d.iommu });
  if (d.vsock) out.push({ kind: 'vsock', def: d.vsock });
  for (const x of d.cryptos) out.push({ kind: 'crypto', def: x });
  for (const x of d.graphics) out.push({ kind: 'graphics', def: x });
  for (const x of d.audios) out.push({ kind: 'audio', def: x });
  for (const x of d.leases) out.push({ kind: 'lease', def: x });
  return out;
}

/** The device-info block of a device, when it has one. */
export function deviceInfoOf(dev: DomainDevice): DeviceInfo | undefined {
  return 'info' in dev.def ? (dev.def as { info: DeviceInfo }).info : undefined;
}

/**
 * libvirt's virDomainControllerInsertPreAlloced: keeps controllers of one
 * type together, ordered by index (unindexed ones after the last of their type).
 */
export function insertController(list: ControllerDef[], c: ControllerDef): void {
  let insertAt = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    const cur = list[i]!;
    if (cur.type !== c.type) continue;
    if (c.index === -1) {
      insertAt = i + 1;
      break;
    }
    if (cur.index > c.index) insertAt = i;
    else if (c.info.usbMasterStartport === undefined && cur.info.usbMasterStartport !== undefined && cur.index === c.index) insertAt = i;
    else if (insertAt === -1) insertAt = i + 1;
  }
  if (insertAt === -1) list.push(c);
  else list.splice(insertAt, 0, c);
}

/**
 * virDomainDiskInsert: a disk goes after the last disk of its bus, or
 * before the first disk of its bus with a higher target index.
 */
export function insertDisk(disks: DiskDef[], disk: DiskDef): void {
  let at = -1;
  const idx = diskNameToIndex(disk.dst);
  for (let i = disks.length - 1; i >= 0; i--) {
    const d = disks[i]!;
    if (d.bus !== disk.bus) continue;
    if (diskNameToIndex(d.dst) > idx) at = i;
    else if (at === -1) at = i + 1;
  }
  if (at < 0) disks.push(disk);
  else disks.splice(at, 0, disk);
}

export function parseDevices(el: XmlElement | undefined, ctx: ParseContext, osType: string, virtType: string): DomainDevices {
  const d = emptyDevices();
  if (!el) return d;
  const r = new ElemReader(el, '<devices>');
  const emu = r.childTrimmed('emulator');
  if (emu !== undefined) d.emulator = emu;
  for (const e of el.children) {
    if (typeof e === 'string') continue;
    switch (e.name) {
      case 'disk': insertDisk(d.disks, parseDisk(e, ctx)); break;
      case 'controller': {
        const c = parseController(e, ctx);
        if (c.type === 'usb') {
          const none = c.model === 'none';
          if (d.controllers.some((x) => x.type === 'usb' && (x.model === 'none') !== none)) {
            throw new VirtError('XML_DETAIL', "<controller>: Can't add another USB controller: USB is disabled for this domain", { origin: 'domain' });
          }
        }
        insertController(d.controllers, c);
        break;
      }
      case 'lease': d.leases.push(parseLease(e)); break;
      case 'filesystem': d.filesystems.push(parseFilesystem(e, ctx)); break;
      case 'interface': d.interfaces.push(parseInterface(e, ctx)); break;
      case 'smartcard': d.smartcards.push(parseSmartcard(e, ctx)); break;
      case 'serial': d.serials.push(parseChr(e, ctx)); break;
      case 'parallel': d.parallels.push(parseChr(e, ctx)); break;
      case 'console': d.consoles.push(parseChr(e, ctx)); break;
      case 'channel': d.channels.push(parseChr(e, ctx)); break;
      case 'input': d.inputs.push(parseInput(e, ctx, osType, virtType)); break;
      case 'tpm': d.tpms.push(parseTpm(e, ctx)); break;
      case 'graphics': d.graphics.push(parseGraphics(e, ctx)); break;
      case 'sound': d.sounds.push(parseSound(e, ctx)); break;
      case 'audio': {
        const a = parseAudio(e);
        if (d.audios.some((x) => x.id === a.id)) throw xmlError('<audio>', `audio id '${a.id}' is used multiple times`);
        d.audios.push(a);
        break;
      }
      case 'video': {
        const v = parseVideo(e, ctx);
        if (v.primary) {
          if (d.videos.some((x) => x.primary)) throw xmlError('<video>', 'Only one primary video device is supported');
          d.videos.unshift(v);
        } else d.videos.push(v);
        break;
      }
      case 'hostdev': d.hostdevs.push(parseHostdev(e, ctx)); break;
      case 'redirdev': d.redirdevs.push(parseRedirdev(e, ctx)); break;
      case 'redirfilter':
        if (d.redirfilter) throw xmlError('<redirfilter>', 'only one set of redir filter rules is supported');
        d.redirfilter = parseRedirFilter(e);
        break;
      case 'hub': d.hubs.push(parseHub(e, ctx)); break;
      case 'watchdog':
        if (d.watchdogs.length) throw xmlError('<watchdog>', 'only a single watchdog device is supported');
        d.watchdogs.push(parseWatchdog(e, ctx));
        break;
      case 'memballoon':
        if (d.memballoon) throw xmlError('<memballoon>', 'only a single memory balloon device is supported');
        d.memballoon = parseMemballoon(e, ctx);
        break;
      case 'rng': d.rngs.push(parseRng(e, ctx)); break;
      case 'nvram':
        if (d.nvram) throw xmlError('<nvram>', 'only a single nvram device is supported');
        d.nvram = parseNvramDevice(e, ctx);
        break;
      case 'panic': d.panics.push(parsePanic(e, ctx)); break;
      case 'shmem': d.shmems.push(parseShmem(e, ctx)); break;
      case 'memory': d.memories.push(parseMemoryDevice(e, ctx)); break;
      case 'iommu':
        if (d.iommu) throw xmlError('<iommu>', 'only a single IOMMU device is supported');
        d.iommu = parseIommu(e, ctx);
        break;
      case 'vsock':
        if (d.vsock) throw xmlError('<vsock>', 'only a single vsock device is supported');
        d.vsock = parseVsock(e, ctx);
        break;
      case 'crypto': d.cryptos.push(parseCrypto(e, ctx)); break;
      default:
        continue;
    }
    r.ignoreChildren(e.name);
  }
  const kept = r.kept();
  if (kept) d.kept = kept;
  return d;
}

export function formatDevices(w: XmlWriter, d: DomainDevices, ctx: FormatContext, osType: string): void {
  // libvirt always writes <devices> with an open and a close tag.
  const c = w;
  c.open('devices', d.kept?.attrs);
  {
    c.text('emulator', d.emulator);
    for (const x of d.disks) formatDisk(c, x, ctx);
    for (const x of d.controllers) formatController(c, x, ctx);
    for (const x of d.leases) formatLease(c, x);
    for (const x of d.filesystems) formatFilesystem(c, x, ctx);
    for (const x of d.interfaces) formatInterface(c, x, ctx);
    for (const x of d.smartcards) formatSmartcard(c, x, ctx);
    for (const x of d.serials) formatChr(c, x, ctx);
    for (const x of d.parallels) formatChr(c, x, ctx);
    d.consoles.forEach((x, i) => {
      // Back compat: on HVM a serial-type console is an alias of the serial port with the same index.
      const serial = d.serials[i];
      if (osType === 'hvm' && (x.targetType === 'serial' || x.targetType === undefined) && serial) {
        formatChr(c, { ...serial, deviceType: 'console', targetType: 'serial', kept: undefined, targetKept: undefined, targetModel: undefined } as ChrDef, ctx);
        return;
      }
      formatChr(c, x, ctx);
    });
    for (const x of d.channels) formatChr(c, x, ctx);
    for (const x of d.inputs) formatInput(c, x, ctx);
    for (const x of d.tpms) formatTpm(c, x, ctx);
    for (const x of d.graphics) formatGraphics(c, x, ctx);
    for (const x of d.sounds) formatSound(c, x, ctx);
    for (const x of d.audios) formatAudio(c, x);
    for (const x of d.videos) formatVideo(c, x, ctx);
    for (const x of d.hostdevs) formatHostdev(c, x, ctx);
    for (const x of d.redirdevs) formatRedirdev(c, x, ctx);
    formatRedirFilter(c, d.redirfilter);
    for (const x of d.hubs) formatHub(c, x, ctx);
    for (const x of d.watchdogs) formatWatchdog(c, x, ctx);
    if (d.memballoon) formatMemballoon(c, d.memballoon, ctx);
    for (const x of d.rngs) formatRng(c, x, ctx);
    if (d.nvram) formatNvramDevice(c, d.nvram, ctx);
    for (const x of d.panics) formatPanic(c, x, ctx);
    for (const x of d.shmems) formatShmem(c, x, ctx);
    for (const x of d.memories) formatMemoryDevice(c, x, ctx);
    if (d.iommu) formatIommu(c, d.iommu, ctx);
    if (d.vsock) formatVsock(c, d.vsock, ctx);
    for (const x of d.cryptos) formatCrypto(c, x, ctx);
    for (const k of d.kept?.children ?? []) c.node(k);
  }
  c.close('devices');
}

export { chrSourceEqual };

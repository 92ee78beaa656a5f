/**
 * What every device carries (libvirt's virDomainDeviceInfo): its address on
 * a bus, its alias, boot order, ACPI index, ROM settings and USB companion
 * master.
 */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { hex, oo, writeEl, yn, type AttrList } from '../writer.js';
import type { ParseContext, FormatContext } from '../context.js';

export const ADDRESS_TYPES = [
  'none', 'pci', 'drive', 'virtio-serial', 'ccid', 'usb', 'spapr-vio', 'virtio-s390', 'ccw', 'virtio-mmio', 'isa', 'dimm', 'unassigned',
] as const;
export type AddressType = (typeof ADDRESS_TYPES)[number];

export interface PciAddress {
  type: 'pci';
  domain: number;
  bus: number;
  slot: number;
  function: number;
  multifunction?: boolean;
  zpci?: { uid?: number; fid?: number };
}
export interface DriveAddress { type: 'drive'; controller: number; bus: number; target: number; unit: number }
export interface VirtioSerialAddress { type: 'virtio-serial'; controller: number; bus: number; port: number }
export interface CcidAddress { type: 'ccid'; controller: number; slot: number }
/** USB address; `port` is the dotted hub path ("1.2"). */
export interface UsbAddress { type: 'usb'; bus: number; port?: string }
export interface SpaprVioAddress { type: 'spapr-vio'; reg?: number }
export interface CcwAddress { type: 'ccw'; cssid?: number; ssid?: number; devno?: number }
export interface IsaAddress { type: 'isa'; iobase?: number; irq?: number }
export interface DimmAddress { type: 'dimm'; slot: number; base?: bigint }
export interface SimpleAddress { type: 'virtio-s390' | 'virtio-mmio' | 'unassigned' | 'none' }

export type DeviceAddress =
  | PciAddress | DriveAddress | VirtioSerialAddress | CcidAddress | UsbAddress | SpaprVioAddress
  | CcwAddress | IsaAddress | DimmAddress | SimpleAddress;

export interface RomSettings {
  enabled?: boolean;
  bar?: boolean;
  file?: string;
}

export interface DeviceInfo {
  address?: DeviceAddress;
  /** Kept attributes/children of <address> the model does not know. */
  addressKept?: KeptXml;
  alias?: string;
  bootOrder?: number;
  loadparm?: string;
  acpiIndex?: number;
  rom?: RomSettings;
  /** <master startport='N'/> of a USB companion controller. */
  usbMasterStartport?: number;
}

/** Which optional children a device type accepts (libvirt's ALLOW_BOOT / ALLOW_ROM). */
export interface InfoOptions {
  boot?: boolean;
  rom?: boolean;
}

function readAddress(el: XmlElement, where: string): { addr: DeviceAddress; kept?: KeptXml } {
  const r = new ElemReader(el, `${where} <address>`);
  const type = r.enum('type', ADDRESS_TYPES);
  if (type === undefined) throw xmlError(`${where} <address>`, "missing address type");
  let addr: DeviceAddress;
  const w = `${where} <address type='${type}'>`;
  switch (type) {
    case 'pci': {
      const a: PciAddress = {
        type,
        domain: r.uintAnyBase('domain') ?? 0,
        bus: r.uintAnyBase('bus') ?? 0,
        slot: r.uintAnyBase('slot') ?? 0,
        function: r.uintAnyBase('function') ?? 0,
      };
      if (a.domain > 0xffff) throw xmlError(w, `invalid PCI address domain='${hex(a.domain, 4)}', must be <= 0xFFFF`);
      if (a.bus > 0xff) throw xmlError(w, `invalid PCI address bus='${hex(a.bus, 2)}', must be <= 0xFF`);
      if (a.slot > 0x1f) throw xmlError(w, `invalid PCI address slot='${hex(a.slot, 2)}', must be <= 0x1F`);
      if (a.function > 7) throw xmlError(w, `invalid PCI address function='0x${a.function.toString(16)}', must be <= 7`);
      const multi = r.onOff('multifunction');
      if (multi !== undefined) a.multifunction = multi;
      const z = r.child('zpci');
      if (z) {
        const zr = new ElemReader(z, `${w} <zpci>`);
        const uid = zr.uintAnyBase('uid');
        const fid = zr.uintAnyBase('fid');
        if (uid !== undefined && (uid < 1 || uid > 0xffff)) throw xmlError(w, `Invalid PCI address uid='0x${uid.toString(16)}', must be > 0x0000 and <= 0xffff`);
        a.zpci = {};
        if (uid !== undefined) a.zpci.uid = uid;
        if (fid !== undefined) a.zpci.fid = fid;
      }
      addr = a;
      break;
    }
    case 'drive':
      addr = { type, controller: r.uint('controller') ?? 0, bus: r.uint('bus') ?? 0, target: r.uint('target') ?? 0, unit: r.uint('unit') ?? 0 };
      break;
    case 'virtio-serial':
      addr = { type, controller: r.uint('controller') ?? 0, bus: r.uint('bus') ?? 0, port: r.uint('port') ?? 0 };
      break;
    case 'ccid':
      addr = { type, controller: r.uint('controller') ?? 0, slot: r.uint('slot') ?? 0 };
      break;
    case 'usb': {
      const a: UsbAddress = { type, bus: r.uint('bus') ?? 0 };
      const port = r.str('port');
      if (port !== undefined) {
        const parts = port.split('.');
        if (parts.length > 4 || parts.some((p) => !/^[0-9]+$/.test(p))) throw xmlError(w, `Cannot parse <address> 'port' attribute '${port}'`);
        a.port = parts.map((p) => String(Number(p))).join('.');
      }
      addr = a;
      break;
    }
    case 'spapr-vio': {
      const reg = r.str('reg');
      addr = reg === undefined ? { type } : { type, reg: parseRegValue(reg, w) };
      break;
    }
    case 'ccw': {
      const a: CcwAddress = { type };
      const cssid = r.uintAnyBase('cssid');
      const ssid = r.uintAnyBase('ssid');
      const devno = r.uintAnyBase('devno');
      if (cssid !== undefined || ssid !== undefined || devno !== undefined) {
        if (cssid === undefined || ssid === undefined || devno === undefined) throw xmlError(w, 'Invalid partial specification for virtio ccw address');
        if (cssid > 0xfe || ssid > 3 || devno > 0xffff) throw xmlError(w, `Invalid specification for virtio ccw address: cssid='0x${cssid.toString(16)}' ssid='0x${ssid.toString(16)}' devno='0x${devno.toString(16).padStart(4, '0')}'`);
        a.cssid = cssid;
        a.ssid = ssid;
        a.devno = devno;
      }
      addr = a;
      break;
    }
    case 'isa': {
      const a: IsaAddress = { type };
      const iobase = r.uintAnyBase('iobase');
      const irq = r.uintAnyBase('irq');
      if (iobase !== undefined) a.iobase = iobase;
      if (irq !== undefined) a.irq = irq;
      addr = a;
      break;
    }
    case 'dimm': {
      const a: DimmAddress = { type, slot: r.uint('slot') ?? 0 };
      const base = r.str('base');
      if (base !== undefined) {
        const s = base.trim();
        if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(s)) throw xmlError(w, `invalid value '${base}' for attribute 'base'`);
        a.base = BigInt(s);
      }
      addr = a;
      break;
    }
    default:
      addr = { type } as SimpleAddress;
  }
  const kept = r.kept();
  return kept ? { addr, kept } : { addr };
}

function parseRegValue(v: string, where: string): number {
  const s = v.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^[0-9]+$/.test(s)) return Number(s);
  throw xmlError(where, `Cannot parse <address> 'reg' attribute '${v}'`);
}

/** Parses the device-info children of a device element through its reader. */
export function parseDeviceInfo(r: ElemReader, ctx: ParseContext, opts: InfoOptions = {}): DeviceInfo {
  const info: DeviceInfo = {};
  const where = r.where;
  const addrEl = r.child('address');
  if (addrEl) {
    const { addr, kept } = readAddress(addrEl, where);
    if (addr.type !== 'none') info.address = addr;
    if (kept) info.addressKept = kept;
  }
  const aliasEl = r.child('alias');
  if (aliasEl) {
    const name = aliasEl.attr('name');
    if (name !== undefined && name !== '') {
      const user = name.startsWith('ua-') && ctx.config.features?.userAlias === true;
      if (!ctx.inactive || user) info.alias = name;
    }
  }
  if (opts.boot) {
    const bootEl = r.child('boot');
    if (bootEl) {
      const br = new ElemReader(bootEl, `${where} <boot>`);
      const order = br.str('order');
      if (order === undefined) throw xmlError(`${where} <boot>`, 'missing boot order attribute');
      const n = /^\s*[0-9]+\s*$/.test(order) ? Number(order) : NaN;
      if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw xmlError(`${where} <boot>`, `incorrect boot order '${order}', expecting positive integer`);
      info.bootOrder = n;
      const loadparm = br.str('loadparm');
      if (loadparm !== undefined) {
        if (!/^[A-Za-z0-9. ]{1,8}$/.test(loadparm)) throw xmlError(`${where} <boot>`, `invalid loadparm value '${loadparm}', expecting 1 to 8 characters`);
        info.loadparm = loadparm.toUpperCase();
      }
    }
  }
  const acpiEl = r.child('acpi');
  if (acpiEl) {
    const ar = new ElemReader(acpiEl, `${where} <acpi>`);
    const idx = ar.uint('index');
    if (idx !== undefined) {
      if (idx === 0) throw xmlError(`${where} <acpi>`, "The value of 'index' must be greater than 0");
      info.acpiIndex = idx;
    }
  }
  if (opts.rom) {
    const romEl = r.child('rom');
    if (romEl) {
      const rr = new ElemReader(romEl, `${where} <rom>`);
      const rom: RomSettings = {};
      const enabled = rr.yesNo('enabled');
      const bar = rr.onOff('bar');
      const file = rr.str('file');
      if (enabled !== undefined) rom.enabled = enabled;
      if (bar !== undefined) rom.bar = bar;
      if (file !== undefined) rom.file = file;
      if (enabled === false && (bar !== undefined || file !== undefined)) {
        throw xmlError(`${where} <rom>`, "ROM tuning is not supported when ROM is disabled");
      }
      info.rom = rom;
    }
  }
  const masterEl = r.child('master');
  if (masterEl) {
    const sp = new ElemReader(masterEl, `${where} <master>`).uint('startport');
    if (sp !== undefined) info.usbMasterStartport = sp;
  }
  return info;
}

export function formatAddress(w: XmlWriter, addr: DeviceAddress | undefined, kept?: KeptXml): void {
  if (!addr || addr.type === 'none' || addr.type === 'virtio-s390') return;
  const a: AttrList = [['type', addr.type]];
  let body: ((w: XmlWriter) => void) | undefined;
  switch (addr.type) {
    case 'pci':
      if (addr.domain || addr.bus || addr.slot || addr.function) {
        a.push(['domain', hex(addr.domain, 4)], ['bus', hex(addr.bus, 2)], ['slot', hex(addr.slot, 2)], ['function', `0x${addr.function}`]);
      }
      if (addr.multifunction !== undefined) a.push(['multifunction', oo(addr.multifunction)]);
      if (addr.zpci && (addr.zpci.uid !== undefined || addr.zpci.fid !== undefined)) {
        const z = addr.zpci;
        body = (c) => c.empty('zpci', [['uid', hex(z.uid ?? 0, 4)], ['fid', hex(z.fid ?? 0, 8)]]);
      }
      break;
    case 'drive':
      a.push(['controller', addr.controller], ['bus', addr.bus], ['target', addr.target], ['unit', addr.unit]);
      break;
    case 'virtio-serial':
      a.push(['controller', addr.controller], ['bus', addr.bus], ['port', addr.port]);
      break;
    case 'ccid':
      a.push(['controller', addr.controller], ['slot', addr.slot]);
      break;
    case 'usb':
      a.push(['bus', addr.bus], ['port', addr.port]);
      break;
    case 'spapr-vio':
      if (addr.reg !== undefined) a.push(['reg', '0x' + addr.reg.toString(16)]);
      break;
    case 'ccw':
      if (addr.cssid !== undefined) {
        a.push(['cssid', '0x' + addr.cssid.toString(16)], ['ssid', '0x' + (addr.ssid ?? 0).toString(16)], ['devno', hex(addr.devno ?? 0, 4)]);
      }
      break;
    case 'isa':
      if (addr.iobase !== undefined) a.push(['iobase', '0x' + addr.iobase.toString(16)]);
      if (addr.irq !== undefined) a.push(['irq', '0x' + addr.irq.toString(16)]);
      break;
    case 'dimm':
      a.push(['slot', addr.slot]);
      if (addr.base !== undefined) a.push(['base', '0x' + addr.base.toString(16)]);
      break;
    default:
      break;
  }
  writeEl(w, 'address', a, body, kept);
}

/** Writes boot, alias, master, acpi, rom and address in libvirt's order. */
export function formatDeviceInfo(w: XmlWriter, info: DeviceInfo, ctx: FormatContext, opts: InfoOptions = {}): void {
  if (opts.boot && info.bootOrder) w.empty('boot', [['order', info.bootOrder], ['loadparm', info.loadparm]]);
  if (info.alias && (!ctx.inactive || info.alias.startsWith('ua-'))) w.empty('alias', [['name', info.alias]]);
  if (info.usbMasterStartport !== undefined) w.empty('master', [['startport', info.usbMasterStartport]]);
  if (info.acpiIndex) w.empty('acpi', [['index', info.acpiIndex]]);
  if (opts.rom && info.rom && (info.rom.enabled !== undefined || info.rom.bar !== undefined || info.rom.file !== undefined)) {
    w.empty('rom', [['enabled', yn(info.rom.enabled)], ['bar', oo(info.rom.bar)], ['file', info.rom.file]]);
  }
  formatAddress(w, info.address, info.addressKept);
}

export function isPciAddress(a: DeviceAddress | undefined): a is PciAddress {
  return a?.type === 'pci';
}

/** <disk>: block devices of the guest (virDomainDiskDef). */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { oo, writeEl, yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import {
  formatAuth, formatBackingStore, formatEncryption, formatMetadataCache, formatStorageSourceChildren, parseAuth, parseBackingStore,
  parseEncryption, parseMetadataCache, parseStorageSource, sourceAttrs, type StorageSource,
} from './storage-source.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export const DISK_DEVICES = ['disk', 'cdrom', 'floppy', 'lun'] as const;
export type DiskDevice = (typeof DISK_DEVICES)[number];
export const DISK_BUSES = ['ide', 'fdc', 'scsi', 'virtio', 'xen', 'usb', 'uml', 'sata', 'sd'] as const;
export type DiskBus = (typeof DISK_BUSES)[number];
const CACHE_MODES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
const ERROR_POLICIES = ['default', 'stop', 'report', 'ignore', 'enospace'] as const;
const IO_MODES = ['default', 'native', 'threads', 'io_uring'] as const;
const DISCARD = ['default', 'unmap', 'ignore'] as const;
const DETECT_ZEROES = ['default', 'off', 'on', 'unmap'] as const;

export interface DiskDriverDef {
  name?: string;
  cache?: string;
  errorPolicy?: string;
  rerrorPolicy?: string;
  io?: string;
  ioeventfd?: boolean;
  eventIdx?: boolean;
  copyOnRead?: boolean;
  discard?: string;
  iothread?: number;
  detectZeroes?: string;
  queues?: number;
  queueSize?: number;
  kept?: KeptXml;
}

export interface DiskIotune {
  totalBytesSec?: number;
  readBytesSec?: number;
  writeBytesSec?: number;
  totalIopsSec?: number;
  readIopsSec?: number;
  writeIopsSec?: number;
  totalBytesSecMax?: number;
  readBytesSecMax?: number;
  writeBytesSecMax?: number;
  totalIopsSecMax?: number;
  readIopsSecMax?: number;
  writeIopsSecMax?: number;
  sizeIopsSec?: number;
  groupName?: string;
  totalBytesSecMaxLength?: number;
  readBytesSecMaxLength?: number;
  writeBytesSecMaxLength?: number;
  totalIopsSecMaxLength?: number;
  readIopsSecMaxLength?: number;
  writeIopsSecMaxLength?: number;
}

// XML name → model key, in libvirt's output order.
const IOTUNE_FIELDS: Array<[string, keyof DiskIotune]> = [
  ['total_bytes_sec', 'totalBytesSec'],
  ['read_bytes_sec', 'readBytesSec'],
  ['write_bytes_sec', 'writeBytesSec'],
  ['total_iops_sec', 'totalIopsSec'],
  ['read_iops_sec', 'readIopsSec'],
  ['write_iops_sec', 'writeIopsSec'],
  ['total_bytes_sec_max', 'totalBytesSecMax'],
  ['read_bytes_sec_max', 'readBytesSecMax'],
  ['write_bytes_sec_max', 'writeBytesSecMax'],
  ['total_iops_sec_max', 'totalIopsSecMax'],
  ['read_iops_sec_max', 'readIopsSecMax'],
  ['write_iops_sec_max', 'writeIopsSecMax'],
  ['size_iops_sec', 'sizeIopsSec'],
  ['group_name', 'groupName'],
  ['total_bytes_sec_max_length', 'totalBytesSecMaxLength'],
  ['read_bytes_sec_max_length', 'readBytesSecMaxLength'],
  ['write_bytes_sec_max_length', 'writeBytesSecMaxLength'],
  ['total_iops_sec_max_length', 'totalIopsSecMaxLength'],
  ['read_iops_sec_max_length', 'readIopsSecMaxLength'],
  ['write_iops_sec_max_length', 'writeIopsSecMaxLength'],
];

export interface DiskDef {
  device: DiskDevice;
  /** Where the data is; `src.type` is the disk's `type` attribute. */
  src: StorageSource;
  /** Target device name ("vda"). */
  dst: string;
  bus?: DiskBus;
  model?: string;
  rawio?: boolean;
  sgio?: 'filtered' | 'unfiltered';
  snapshot?: 'no' | 'internal' | 'external' | 'manual';
  driver: DiskDriverDef;
  virtio?: VirtioOptions;
  /** <auth>/<encryption> were given under <disk> rather than under <source> (old style). */
  diskElementAuth?: boolean;
  diskElementEnc?: boolean;
  backendDomain?: string;
  geometry?: { cylinders: number; heads: number; sectors: number; trans?: string };
  blockio?: { logicalBlockSize?: number; physicalBlockSize?: number; discardGranularity?: number };
  tray?: 'open' | 'closed';
  removable?: boolean;
  rotationRate?: number;
  iotune?: DiskIotune;
  readonly?: boolean;
  shareable?: boolean;
  transient?: boolean;
  transientShareBacking?: boolean;
  serial?: string;
  wwn?: string;
  vendor?: string;
  product?: string;
  /** Live block-job mirror, kept only in live XML. */
  mirror?: XmlElement;
  info: DeviceInfo;
  kept?: KeptXml;
  targetKept?: KeptXml;
}

/** Guesses the bus from the target name as libvirt does when <target bus> is missing. */
export function busFromTarget(dst: string, device: DiskDevice): DiskBus {
  if (device === 'floppy') return 'fdc';
  if (dst.startsWith('hd')) return 'ide';
  if (dst.startsWith('sd')) return 'scsi';
  if (dst.startsWith('vd')) return 'virtio';
  if (dst.startsWith('xvd')) return 'xen';
  if (dst.startsWith('ubd')) return 'uml';
  return 'ide';
}

export function parseDisk(el: XmlElement, ctx: ParseContext): DiskDef {
  const r = new ElemReader(el, '<disk>');
  const typeStr = r.str('type') ?? 'file';
  const device = r.enum('device', DISK_DEVICES) ?? 'disk';
  const targetEl = r.child('target');
  if (!targetEl) throw xmlError('<disk>', 'missing target information for device');
  const tr = new ElemReader(targetEl, '<disk><target>');
  const dst = tr.str('dev');
  if (!dst) throw xmlError('<disk>', 'missing target information for device');
  const where = `disk '${dst}'`;
  (r as { where: string }).where = where;
  const srcEl = r.child('source');
  // virDomainDiskDefParseXML resets the type to 'file' when <source> is absent (an empty drive).
  const src = parseStorageSource(el, srcEl ? typeStr : 'file', srcEl, ctx, where);
  const disk: DiskDef = { device, src, dst, driver: {}, info: {} };
  const model = r.str('model');
  if (model !== undefined) {
    if (!['virtio', 'virtio-transitional', 'virtio-non-transitional', 'default'].includes(model)) throw xmlError(where, `Unknown disk model '${model}'`);
    if (model !== 'default') disk.model = model;
  }
  const rawio = r.yesNo('rawio');
  if (rawio !== undefined) disk.rawio = rawio;
  const sgio = r.enumNoDefault('sgio', ['default', 'filtered', 'unfiltered'] as const);
  if (sgio) disk.sgio = sgio;
  const snap = r.enumNoDefault('snapshot', ['default', 'no', 'internal', 'external', 'manual'] as const);
  if (snap) disk.snapshot = snap;

  const bus = tr.enum('bus', DISK_BUSES);
  disk.bus = bus ?? busFromTarget(dst, device);
  const tray = tr.enum('tray', ['closed', 'open'] as const);
  if (tray) disk.tray = tray;
  const removable = tr.onOff('removable');
  if (removable !== undefined) disk.removable = removable;
  const rr = tr.uint('rotation_rate');
  if (rr !== undefined) disk.rotationRate = rr;
  const tk = tr.kept();
  if (tk) disk.targetKept = tk;

  const drv = r.child('driver');
  if (drv) {
    const dr = new ElemReader(drv, `${where} <driver>`);
    const d = disk.driver;
    const name = dr.str('name');
    if (name !== undefined && name !== '') d.name = name;
    const fmt = dr.str('type');
    if (fmt !== undefined && fmt !== '') {
      if (fmt === 'aio') src.format = 'raw';
      else src.format = fmt;
    }
    const cache = dr.enumNoDefault('cache', CACHE_MODES);
    if (cache) d.cache = cache;
    const ep = dr.enumNoDefault('error_policy', ERROR_POLICIES);
    if (ep) d.errorPolicy = ep;
    const rep = dr.enumNoDefault('rerror_policy', ERROR_POLICIES);
    if (rep) {
      if (rep === 'enospace') throw xmlError(where, `unknown disk read error policy '${rep}'`);
      d.rerrorPolicy = rep;
    }
    const io = dr.enumNoDefault('io', IO_MODES);
    if (io) d.io = io;
    const ioe = dr.onOff('ioeventfd');
    if (ioe !== undefined) d.ioeventfd = ioe;
    const ei = dr.onOff('event_idx');
    if (ei !== undefined) d.eventIdx = ei;
    const cor = dr.onOff('copy_on_read');
    if (cor !== undefined) d.copyOnRead = cor;
    const disc = dr.enumNoDefault('discard', DISCARD);
    if (disc) d.discard = disc;
    const it = dr.uint('iothread');
    if (it !== undefined) {
      if (it === 0) throw xmlError(where, "Invalid iothread attribute in disk driver element: 0");
      d.iothread = it;
    }
    const dz = dr.enumNoDefault('detect_zeroes', DETECT_ZEROES);
    if (dz) d.detectZeroes = dz;
    const q = dr.uint('queues');
    if (q !== undefined) d.queues = q;
    const qs = dr.uint('queue_size');
    if (qs !== undefined) d.queueSize = qs;
    const v = parseVirtioOptions(dr);
    if (v) disk.virtio = v;
    const mc = dr.child('metadata_cache');
    if (mc) {
      const m = parseMetadataCache(mc, `${where} <driver>`);
      if (m !== undefined) src.metadataCacheMaxSize = m;
    }
    const k = dr.kept();
    if (k) d.kept = k;
  }
  const auth = r.child('auth');
  if (auth) {
    if (src.auth) throw xmlError(where, "an <auth> definition already found for disk source");
    src.auth = parseAuth(auth, where);
    disk.diskElementAuth = true;
  }
  const enc = r.child('encryption');
  if (enc) {
    if (src.encryption) throw xmlError(where, "an <encryption> definition already found for disk source");
    src.encryption = parseEncryption(enc, where);
    disk.diskElementEnc = true;
  }
  const bs = r.child('backingStore');
  if (bs) src.backingStore = parseBackingStore(bs, ctx, where);
  const bd = r.child('backenddomain');
  if (bd) {
    const n = bd.attr('name');
    if (n !== undefined) disk.backendDomain = n;
  }
  const geo = r.child('geometry');
  if (geo) {
    const gr = new ElemReader(geo, `${where} <geometry>`);
    const cyls = gr.uint('cyls');
    const heads = gr.uint('heads');
    const secs = gr.uint('secs');
    if (cyls === undefined) throw xmlError(where, 'missing geometry cyls');
    if (heads === undefined) throw xmlError(where, 'missing geometry heads');
    if (secs === undefined) throw xmlError(where, 'missing geometry secs');
    disk.geometry = { cylinders: cyls, heads, sectors: secs };
    const trans = gr.enumNoDefault('trans', ['default', 'none', 'auto', 'lba'] as const);
    if (trans) disk.geometry.trans = trans;
  }
  const bio = r.child('blockio');
  if (bio) {
    const br = new ElemReader(bio, `${where} <blockio>`);
    disk.blockio = {};
    const l = br.uint('logical_block_size');
    if (l !== undefined) disk.blockio.logicalBlockSize = l;
    const p = br.uint('physical_block_size');
    if (p !== undefined) disk.blockio.physicalBlockSize = p;
    const g = br.uint('discard_granularity');
    if (g !== undefined) disk.blockio.discardGranularity = g;
  }
  const mirror = r.child('mirror');
  if (mirror && !ctx.inactive) disk.mirror = mirror;
  const iot = r.child('iotune');
  if (iot) disk.iotune = parseIotune(iot, where);
  if (r.child('readonly')) disk.readonly = true;
  if (r.child('shareable')) disk.shareable = true;
  const tr2 = r.child('transient');
  if (tr2) {
    disk.transient = true;
    const sb = new ElemReader(tr2, `${where} <transient>`).yesNo('shareBacking');
    if (sb) disk.transientShareBacking = true;
  }
  const serial = r.childText('serial');
  if (serial !== undefined) {
    if (!/^[A-Za-z0-9_\-. +]*$/.test(serial)) throw xmlError(where, `disk serial '${serial}' contains invalid characters`);
    disk.serial = serial;
  }
  const wwn = r.childText('wwn');
  if (wwn !== undefined) {
    const w = wwn.replace(/^0x/, '');
    if (!/^[0-9a-fA-F]{16}$/.test(w)) throw xmlError(where, `Malformed wwn: ${wwn}`);
    disk.wwn = wwn;
  }
  const vendor = r.childText('vendor');
  if (vendor !== undefined) {
    if (vendor.length > 8) throw xmlError(where, 'disk vendor is more than 8 characters');
    if (!/^[\x20-\x7e]*$/.test(vendor)) throw xmlError(where, 'disk vendor is not printable string');
    disk.vendor = vendor;
  }
  const product = r.childText('product');
  if (product !== undefined) {
    if (product.length > 16) throw xmlError(where, 'disk product is more than 16 characters');
    if (!/^[\x20-\x7e]*$/.test(product)) throw xmlError(where, 'disk product is not printable string');
    disk.product = product;
  }
  disk.info = parseDeviceInfo(r, ctx, { boot: true });
  const kept = r.kept();
  if (kept) disk.kept = kept;
  return disk;
}

function parseIotune(el: XmlElement, where: string): DiskIotune {
  const r = new ElemReader(el, `${where} <iotune>`);
  const io: DiskIotune = {};
  for (const [name, key] of IOTUNE_FIELDS) {
    const t = r.childText(name);
    if (t === undefined) continue;
    if (key === 'groupName') {
      io.groupName = t;
      continue;
    }
    const s = t.trim();
    if (!/^[0-9]+$/.test(s)) throw xmlError(`${where} <iotune>`, `disk iotune field '${name}' must be an integer`);
    (io as Record<string, number>)[key] = Number(s);
  }
  if ((io.totalBytesSec && (io.readBytesSec || io.writeBytesSec)) || (io.totalIopsSec && (io.readIopsSec || io.writeIopsSec))) {
    throw xmlError(where, 'total and read/write of bytes_sec/iops_sec cannot be set at the same time');
  }
  if ((io.totalBytesSecMax && (io.readBytesSecMax || io.writeBytesSecMax)) || (io.totalIopsSecMax && (io.readIopsSecMax || io.writeIopsSecMax))) {
    throw xmlError(where, 'total and read/write of bytes_sec_max/iops_sec_max cannot be set at the same time');
  }
  return io;
}

function formatIotune(w: XmlWriter, io: DiskIotune | undefined): void {
  if (!io) return;
  const c: Array<[string, string | number]> = [];
  for (const [name, key] of IOTUNE_FIELDS) {
    const v = io[key];
    if (v === undefined || v === 0 || v === '') continue;
    c.push([name, v]);
  }
  if (c.length === 0) return;
  w.open('iotune');
  for (const [n, v] of c) w.text(n, v);
  w.close('iotune');
}

export function formatDisk(w: XmlWriter, disk: DiskDef, ctx: FormatContext): void {
  const src = disk.src;
  const attrs: AttrList = [['type', src.type], ['device', disk.device], ['model', disk.model], ['rawio', yn(disk.rawio)], ['sgio', disk.sgio]];
  if (disk.snapshot && !(disk.snapshot === 'no' && disk.readonly)) attrs.push(['snapshot', disk.snapshot]);
  writeEl(w, 'disk', attrs, (c) => {
    const d = disk.driver;
    const da: AttrList = [
      ['name', d.name], ['type', src.format], ['cache', d.cache], ['error_policy', d.errorPolicy], ['rerror_policy', d.rerrorPolicy],
      ['io', d.io], ['ioeventfd', oo(d.ioeventfd)], ['event_idx', oo(d.eventIdx)], ['copy_on_read', oo(d.copyOnRead)], ['discard', d.discard],
      ['iothread', d.iothread], ['detect_zeroes', d.detectZeroes], ['queues', d.queues], ['queue_size', d.queueSize],
    ];
    formatVirtioOptions(da, disk.virtio);
    writeEl(c, 'driver', da, src.metadataCacheMaxSize ? (x) => formatMetadataCache(x, src.metadataCacheMaxSize) : undefined, d.kept);
    if (src.auth && disk.diskElementAuth) formatAuth(c, src.auth);
    const sa = sourceAttrs(src, ctx);
    const hasSource = sa.some(([, v]) => v !== undefined) || src.sourceKept || hasSourceChildren(src, disk);
    if (hasSource) {
      writeEl(c, 'source', sa, (s) => {
        formatStorageSourceChildren(s, src, ctx, false);
        if (src.auth && !disk.diskElementAuth) formatAuth(s, src.auth);
        if (src.encryption && !disk.diskElementEnc) formatEncryption(s, src.encryption);
      }, src.sourceKept, true);
    }
    formatBackingStore(c, src, ctx);
    if (disk.backendDomain !== undefined) c.empty('backenddomain', [['name', disk.backendDomain]]);
    if (disk.geometry) {
      c.empty('geometry', [['cyls', disk.geometry.cylinders], ['heads', disk.geometry.heads], ['secs', disk.geometry.sectors], ['trans', disk.geometry.trans]]);
    }
    if (disk.blockio && (disk.blockio.logicalBlockSize || disk.blockio.physicalBlockSize || disk.blockio.discardGranularity)) {
      c.empty('blockio', [
        ['logical_block_size', disk.blockio.logicalBlockSize || undefined],
        ['physical_block_size', disk.blockio.physicalBlockSize || undefined],
        ['discard_granularity', disk.blockio.discardGranularity],
      ]);
    }
    if (disk.mirror && !ctx.inactive) c.node(disk.mirror);
    const ta: AttrList = [['dev', disk.dst], ['bus', disk.bus]];
    if (disk.tray && disk.tray !== 'closed') ta.push(['tray', disk.tray]);
    if (disk.bus === 'usb' && disk.removable !== undefined) ta.push(['removable', oo(disk.removable)]);
    if (disk.rotationRate) ta.push(['rotation_rate', disk.rotationRate]);
    writeEl(c, 'target', ta, undefined, disk.targetKept, true);
    formatIotune(c, disk.iotune);
    if (disk.readonly) c.empty('readonly');
    if (disk.shareable) c.empty('shareable');
    if (disk.transient) c.empty('transient', [['shareBacking', disk.transientShareBacking ? 'yes' : undefined]]);
    c.text('serial', disk.serial);
    c.text('wwn', disk.wwn);
    c.text('vendor', disk.vendor);
    c.text('product', disk.product);
    if (src.encryption && disk.diskElementEnc) formatEncryption(c, src.encryption);
    formatDeviceInfo(c, disk.info, ctx, { boot: true });
  }, disk.kept, true);
}

function hasSourceChildren(src: StorageSource, disk: DiskDef): boolean {
  return !!(
    (src.hosts && src.hosts.length) || src.slices?.length || src.seclabels?.length || (src.auth && !disk.diskElementAuth) ||
    (src.encryption && !disk.diskElementEnc) || src.reservations || src.nvme || src.reconnect || src.cookies?.length ||
    src.snapshot !== undefined || src.configFile !== undefined || src.initiatorIqn !== undefined
  );
}

/** libvirt's virDiskNameToIndex: "sda" → 0, "vdaa" → 26; -1 when the name is not a disk name. */
export function diskNameToIndex(name: string): number {
  const m = /^(?:fd|hd|vd|sd|xvd|ubd)([a-z]+)[0-9]*$/.exec(name);
  if (!m) return -1;
  let idx = 0;
  const letters = m[1]!;
  for (let i = 0; i < letters.length; i++) idx = (idx + (i < 1 ? 0 : 1)) * 26 + (letters.charCodeAt(i) - 97);
  return idx;
}

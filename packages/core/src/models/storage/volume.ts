import type { KeptXml } from '../../xml/keep.js';
import { keepUnknown, withKeptAttrs, writeKeptChildren } from '../../xml/keep.js';
import { parseXml, type XmlParseLimits } from '../../xml/parse.js';
import type { XmlElement } from '../../xml/tree.js';
import { unitScale } from '../../xml/values.js';
import { XmlWriter } from '../../xml/write.js';
import { parseStorageEncryption, writeStorageEncryption, type StorageEncryption } from './encryption.js';
import { parseStoragePerms, writeStoragePerms, type StoragePerms } from './perms.js';
import type { StoragePoolDef } from './pool.js';
import {
  STORAGE_FILE_FEATURES,
  STORAGE_VOL_TYPES,
  volFormatsOf,
  type StorageFileFeature,
  type StorageVolType,
} from './types.js';
import { parseULongLong, storageError, xpathAttr, xpathText } from './xpath.js';

export interface StorageVolTimestamp {
  sec: bigint;
  /** Nanoseconds; a negative value means "unknown" and is not printed. */
  nsec: number;
}

export interface StorageVolTimestamps {
  atime?: StorageVolTimestamp;
  mtime?: StorageVolTimestamp;
  ctime?: StorageVolTimestamp;
  btime?: StorageVolTimestamp;
}

/** A physical extent of a volume (LVM, partitions); filled in by a refresh, never read from XML. */
export interface StorageVolExtent {
  path: string;
  start: bigint;
  end: bigint;
}

export interface StorageVolTarget {
  path?: string;
  /** Image format (file pools: raw, qcow2, …) or partition type (disk pools); absent for pools without formats. */
  format?: string;
  perms: StoragePerms;
  /** Filled in by a refresh, never read from XML. */
  timestamps?: StorageVolTimestamps;
  encryption?: StorageEncryption;
  /** qcow2 compatibility level ("0.10", "1.1"). */
  compat?: string;
  nocow: boolean;
  /** qcow2 cluster size in bytes. */
  clusterSize?: bigint;
  /** qcow2 features; present (maybe empty) when <features> was given. */
  features?: StorageFileFeature[];
  kept?: KeptXml;
}

export interface StorageVolBackingStore {
  path: string;
  format?: string;
  perms: StoragePerms;
  kept?: KeptXml;
}

/** A storage volume definition, as libvirt's virStorageVolDef. */
export interface StorageVolDef {
  name: string;
  key?: string;
  type: StorageVolType;
  extents: StorageVolExtent[];
  /** Bytes. */
  capacity: bigint;
  allocation: bigint;
  /** Whether <allocation> was given (otherwise allocation = capacity). */
  hasAllocation: boolean;
  /** Bytes on disk, display only; filled in by a refresh. */
  physical?: bigint;
  target: StorageVolTarget;
  backingStore?: StorageVolBackingStore;
  kept?: KeptXml;
}

export interface StorageVolParseOptions extends XmlParseLimits {
  /** VIR_VOL_XML_PARSE_NO_CAPACITY: <capacity> may be missing. */
  noCapacity?: boolean;
  /** VIR_VOL_XML_PARSE_OPT_CAPACITY: <capacity> may be missing when there is a backing store. */
  optCapacity?: boolean;
}

const ROOT_CHILDREN = ['name', 'key', 'source', 'capacity', 'allocation', 'physical', 'target', 'backingStore'];
const TARGET_CHILDREN = ['path', 'format', 'permissions', 'timestamps', 'encryption', 'compat', 'nocow', 'clusterSize', 'features'];
const BACKING_CHILDREN = ['path', 'format', 'permissions', 'timestamps'];

/** A scaled size as virStorageSize / virParseScaledValue read it. */
function parseSize(value: string, unit: string | undefined, limit: bigint, what: string, element: string): bigint {
  const n = parseULongLong(value);
  if (n === undefined) throw storageError('XML_ERROR', what, `malformed ${element} element '${value}'`);
  let scale: bigint;
  try {
    scale = unitScale(unit, 1n, what);
  } catch {
    throw storageError('INVALID_ARG', what, `unknown suffix '${unit}' in <${element}>`);
  }
  if (n !== 0n && n > limit / scale) throw storageError('XML_ERROR', what, `value too large in <${element}>: ${value}`);
  return n * scale;
}

function parseVolFormat(el: XmlElement | undefined, pool: StoragePoolDef, what: string): string | undefined {
  const formats = volFormatsOf(pool.type);
  if (!formats) return undefined;
  const f = xpathAttr(el, 'format', 'type');
  if (f === undefined) return formats.defaultFormat;
  if (!formats.formats.includes(f)) throw storageError('CONFIG_UNSUPPORTED', what, `unknown volume format type ${f}`);
  return f;
}

function checkCompat(compat: string, what: string): void {
  const dot = compat.indexOf('.');
  const ok = (s: string) => /^[ \t\n\v\f\r]*[+-]?[0-9]+$/.test(s) && BigInt(s.trim()) <= 0xffffffffn;
  if (dot < 0 || !ok(compat.slice(0, dot)) || !ok(compat.slice(dot + 1))) {
    throw storageError('XML_ERROR', what, `forbidden characters in 'compat' attribute '${compat}'`);
  }
}

/** Parses a <volume> element in its pool's context (virStorageVolDefParseXML). */
export function storageVolFromElement(root: XmlElement, pool: StoragePoolDef, opts: StorageVolParseOptions = {}): StorageVolDef {
  let what = 'storage volume XML';
  if (root.name !== 'volume') throw storageError('XML_ERROR', what, `unexpected root element <${root.name}>, expecting <volume>`);
  const name = xpathText(root, 'name');
  if (name === undefined) throw storageError('XML_ERROR', what, 'missing volume name element');
  what = `storage volume '${name}'`;

  const def: StorageVolDef = {
    name,
    type: 'file',
    extents: [],
    capacity: 0n,
    allocation: 0n,
    hasAllocation: false,
    target: { perms: {}, nocow: false },
  };
  const key = xpathText(root, 'key');
  if (key !== undefined) def.key = key;
  const type = xpathAttr(root, '', 'type');
  if (type !== undefined) {
    if (!(STORAGE_VOL_TYPES as readonly string[]).includes(type)) throw storageError('CONFIG_UNSUPPORTED', what, `unknown volume type '${type}'`);
    def.type = type as StorageVolType;
  }

  const backingEl = root.child('backingStore');
  const backingPath = xpathText(root, 'backingStore/path');
  if (backingPath !== undefined) {
    const bs: StorageVolBackingStore = { path: backingPath, perms: parseStoragePerms(backingEl?.child('permissions'), what) };
    const bf = parseVolFormat(backingEl, pool, what);
    if (bf !== undefined) bs.format = bf;
    const kept = keepUnknown(backingEl!, [], BACKING_CHILDREN);
    if (kept) bs.kept = kept;
    def.backingStore = bs;
  }

  const capacity = xpathText(root, 'capacity');
  if (capacity !== undefined) {
    def.capacity = parseSize(capacity, xpathAttr(root, 'capacity', 'unit'), 0x7fffffffffffffffn, what, 'capacity');
  } else if (!opts.noCapacity && !(opts.optCapacity && def.backingStore)) {
    throw storageError('XML_ERROR', what, 'missing capacity element');
  }
  const allocation = xpathText(root, 'allocation');
  if (allocation !== undefined) {
    def.allocation = parseSize(allocation, xpathAttr(root, 'allocation', 'unit'), 0x7fffffffffffffffn, what, 'allocation');
    def.hasAllocation = true;
  } else def.allocation = def.capacity;

  const targetEl = root.child('target');
  const t = def.target;
  const path = xpathText(root, 'target/path');
  if (path !== undefined) t.path = path;
  const format = parseVolFormat(targetEl, pool, what);
  if (format !== undefined) t.format = format;
  t.perms = parseStoragePerms(targetEl?.child('permissions'), what);
  const encEl = targetEl?.child('encryption');
  if (encEl) t.encryption = parseStorageEncryption(encEl, what);
  const compat = xpathText(root, 'target/compat');
  if (compat !== undefined) {
    checkCompat(compat, what);
    t.compat = compat;
  }
  if (targetEl?.child('nocow')) t.nocow = true;
  const cluster = xpathText(root, 'target/clusterSize');
  if (cluster !== undefined) {
    const n = parseSize(cluster, xpathAttr(root, 'target/clusterSize', 'unit'), 0xffffffffffffffffn, what, 'clusterSize');
    if (n > 0n) t.clusterSize = n;
  }
  const featuresEl = targetEl?.child('features');
  if (featuresEl) {
    t.compat ??= '1.1';
    const features = new Set<StorageFileFeature>();
    for (const f of featuresEl.elements()) {
      if (!(STORAGE_FILE_FEATURES as readonly string[]).includes(f.name)) {
        throw storageError('CONFIG_UNSUPPORTED', what, `unsupported feature ${f.name}`);
      }
      features.add(f.name as StorageFileFeature);
    }
    t.features = STORAGE_FILE_FEATURES.filter((f) => features.has(f));
  }
  if (targetEl) {
    const kept = keepUnknown(targetEl, [], TARGET_CHILDREN);
    if (kept) t.kept = kept;
  }

  const kept = keepUnknown(root, ['type'], ROOT_CHILDREN);
  if (kept) def.kept = kept;
  return def;
}

/** Parses volume XML in the context of its pool, as `virsh vol-create` reads it. */
export function parseStorageVolXml(xml: string, pool: StoragePoolDef, opts: StorageVolParseOptions = {}): StorageVolDef {
  return storageVolFromElement(parseXml(xml, 'storage volume XML', opts), pool, opts);
}

function writeTimestamp(w: XmlWriter, name: string, ts: StorageVolTimestamp | undefined): void {
  if (!ts || ts.nsec < 0) return;
  w.text(name, ts.nsec ? `${ts.sec}.${String(ts.nsec).padStart(9, '0')}` : `${ts.sec}`);
}

function writeTargetFormat(w: XmlWriter, pool: StoragePoolDef, format: string | undefined, what: string): void {
  const formats = volFormatsOf(pool.type);
  if (!formats) return;
  const f = format ?? formats.defaultFormat;
  if (!formats.formats.includes(f)) throw storageError('INTERNAL_ERROR', what, `unknown volume format '${f}'`);
  w.empty('format', [['type', f]]);
}

/** Writes the volume's XML as libvirt's virStorageVolDefFormat does. */
export function formatStorageVolXml(vol: StorageVolDef, pool: StoragePoolDef): string {
  const what = `storage volume '${vol.name}'`;
  const w = new XmlWriter();
  w.open('volume', withKeptAttrs([['type', vol.type]], vol.kept));
  w.text('name', vol.name);
  w.text('key', vol.key);
  if (vol.extents.length) {
    w.open('source');
    let current: string | undefined;
    for (const e of vol.extents) {
      if (current !== e.path) {
        if (current !== undefined) w.close('device');
        w.open('device', [['path', e.path]]);
        current = e.path;
      }
      w.empty('extent', [['start', e.start], ['end', e.end]]);
    }
    w.close('device');
    w.close('source');
  }
  w.text('capacity', vol.capacity, [['unit', 'bytes']]);
  w.text('allocation', vol.allocation, [['unit', 'bytes']]);
  if (vol.physical) w.text('physical', vol.physical, [['unit', 'bytes']]);

  const t = vol.target;
  w.open('target');
  w.text('path', t.path);
  writeTargetFormat(w, pool, t.format, what);
  writeStoragePerms(w, t.perms);
  if (t.timestamps) {
    w.open('timestamps');
    writeTimestamp(w, 'atime', t.timestamps.atime);
    writeTimestamp(w, 'mtime', t.timestamps.mtime);
    writeTimestamp(w, 'ctime', t.timestamps.ctime);
    writeTimestamp(w, 'btime', t.timestamps.btime);
    w.close('timestamps');
  }
  if (t.encryption) writeStorageEncryption(w, t.encryption);
  w.text('compat', t.compat);
  if (t.clusterSize && t.clusterSize > 0n) w.text('clusterSize', t.clusterSize, [['unit', 'B']]);
  if (t.features) {
    if (t.features.length === 0) w.empty('features');
    else {
      w.open('features');
      for (const f of STORAGE_FILE_FEATURES) if (t.features.includes(f)) w.empty(f);
      w.close('features');
    }
  }
  writeKeptChildren(w, t.kept);
  w.close('target');

  const bs = vol.backingStore;
  if (bs) {
    w.open('backingStore');
    w.text('path', bs.path);
    writeTargetFormat(w, pool, bs.format, what);
    writeStoragePerms(w, bs.perms);
    writeKeptChildren(w, bs.kept);
    w.close('backingStore');
  }
  writeKeptChildren(w, vol.kept);
  w.close('volume');
  return w.toString();
}

import type { KeptXml } from '../../xml/keep.js';
import { keepUnknown, withKeptAttrs, writeKeptChildren } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseStorageAdapter, writeStorageAdapter, type StorageAdapter } from './adapter.js';
import { parseStorageAuth, writeStorageAuth, type StorageAuth } from './secret.js';
import { STORAGE_POOL_TYPE_INFO, poolUses, type StoragePoolType } from './types.js';
import { propInteger, propYesNo, sanitizePath, storageError, xpathAttr, xpathText } from './xpath.js';

export interface StoragePoolSourceHost {
  name: string;
  /** 0 / absent: the protocol's default port. */
  port?: number;
}

export interface StoragePoolFreeExtent {
  start: bigint;
  end: bigint;
}

export interface StoragePoolSourceDevice {
  path: string;
  /** part_separator='yes|no' of disk pools (multipath partition names). */
  partSeparator?: boolean;
  /** Free extents found by a refresh (disk pools); never read from XML. */
  freeExtents?: StoragePoolFreeExtent[];
}

/** <source> of a pool; also one entry of find-storage-pool-sources' <sources>. */
export interface StoragePoolSource {
  hosts: StoragePoolSourceHost[];
  devices: StoragePoolSourceDevice[];
  dir?: string;
  adapter?: StorageAdapter;
  name?: string;
  /** Source format (fs type, netfs protocol, partition table, VG format), for the pool types that have one. */
  format?: string;
  auth?: StorageAuth;
  initiatorIqn?: string;
  /** NFS protocol version for netfs pools ("3", "4.1"). */
  protocolVer?: string;
  vendor?: string;
  product?: string;
  kept?: KeptXml;
}

const SOURCE_CHILDREN = [
  'host', 'device', 'dir', 'adapter', 'name', 'format', 'auth', 'initiator', 'vendor', 'product', 'protocol',
] as const;

export function emptyPoolSource(type: StoragePoolType): StoragePoolSource {
  const src: StoragePoolSource = { hosts: [], devices: [] };
  const def = STORAGE_POOL_TYPE_INFO[type].defaultSourceFormat;
  if (def !== undefined) src.format = def;
  return src;
}

/** virStoragePoolDefParseSource. */
export function parsePoolSource(el: XmlElement, type: StoragePoolType, what: string): StoragePoolSource {
  const src = emptyPoolSource(type);
  const info = STORAGE_POOL_TYPE_INFO[type];

  const name = xpathText(el, 'name');
  if (name !== undefined) src.name = name;
  if (type === 'rbd' && name === undefined) throw storageError('XML_ERROR', what, "element 'name' is mandatory for RBD pool");

  if (info.sourceFormats) {
    const format = xpathAttr(el, 'format', 'type');
    if (format !== undefined) {
      if (!info.sourceFormats.includes(format)) throw storageError('CONFIG_UNSUPPORTED', what, `unknown pool format type ${format}`);
      src.format = format;
    }
  }

  for (const h of el.elements('host')) {
    const hostName = h.attr('name');
    if (hostName === undefined) throw storageError('XML_ERROR', what, 'missing storage pool host name');
    const host: StoragePoolSourceHost = { name: hostName };
    const port = propInteger(h, 'port', what, { signed: true });
    if (port) host.port = port;
    src.hosts.push(host);
  }

  const iqn = xpathAttr(el, 'initiator/iqn', 'name');
  if (iqn !== undefined) src.initiatorIqn = iqn;

  for (const d of el.elements('device')) {
    const path = d.attr('path');
    if (path === undefined) throw storageError('XML_ERROR', what, 'missing storage pool source device path');
    const dev: StoragePoolSourceDevice = { path };
    const sep = propYesNo(d, 'part_separator', what);
    if (sep !== undefined) dev.partSeparator = sep;
    src.devices.push(dev);
  }

  const dir = xpathAttr(el, 'dir', 'path');
  if (dir !== undefined) src.dir = sanitizePath(dir);
  else if (type === 'gluster') src.dir = '/';

  const adapterEl = el.child('adapter');
  if (adapterEl) {
    const adapter = parseStorageAdapter(adapterEl, what);
    if (adapter) src.adapter = adapter;
  }

  const authEl = el.child('auth');
  if (authEl) {
    const auth = parseStorageAuth(authEl, what);
    if (auth.type === undefined) throw storageError('CONFIG_UNSUPPORTED', what, 'storage pool missing auth type');
    src.auth = auth;
  }

  const ver = xpathAttr(el, 'protocol', 'ver');
  if (ver !== undefined) {
    // libvirt compares the enum value, so only netfs' auto/nfs (0/1) pass.
    const fmtIndex = info.sourceFormats && src.format !== undefined ? info.sourceFormats.indexOf(src.format) : 0;
    if (fmtIndex !== 0 && fmtIndex !== 1) {
      const netfsName = ['auto', 'nfs', 'glusterfs', 'cifs'][fmtIndex] ?? '(null)';
      throw storageError('CONFIG_UNSUPPORTED', what, `storage pool protocol ver unsupported for pool type '${netfsName}'`);
    }
    if (ver.includes(',')) throw storageError('XML_DETAIL', what, `storage pool protocol ver '${ver}' must not contain ','`);
    src.protocolVer = ver;
  }

  const vendor = xpathAttr(el, 'vendor', 'name');
  if (vendor !== undefined) src.vendor = vendor;
  const product = xpathAttr(el, 'product', 'name');
  if (product !== undefined) src.product = product;

  const kept = keepUnknown(el, [], SOURCE_CHILDREN);
  if (kept) src.kept = kept;
  return src;
}

/** virStoragePoolSourceFormat. */
export function writePoolSource(w: XmlWriter, type: StoragePoolType, src: StoragePoolSource): void {
  const info = STORAGE_POOL_TYPE_INFO[type];
  w.open('source', withKeptAttrs([], src.kept));
  if (poolUses(type, 'host')) {
    for (const h of src.hosts) w.empty('host', [['name', h.name], ['port', h.port || undefined]]);
  }
  if (poolUses(type, 'device')) {
    for (const d of src.devices) {
      const attrs = [
        ['path', d.path],
        ['part_separator', d.partSeparator === undefined ? undefined : d.partSeparator ? 'yes' : 'no'],
      ] as const;
      if (d.freeExtents?.length) {
        w.open('device', attrs);
        for (const e of d.freeExtents) w.empty('freeExtent', [['start', e.start], ['end', e.end]]);
        w.close('device');
      } else w.empty('device', attrs);
    }
  }
  if (poolUses(type, 'dir') && src.dir !== undefined) w.empty('dir', [['path', src.dir]]);
  if (poolUses(type, 'adapter') && src.adapter) writeStorageAdapter(w, src.adapter);
  if (poolUses(type, 'name')) w.text('name', src.name);
  if (poolUses(type, 'initiator') && src.initiatorIqn !== undefined) {
    w.open('initiator');
    w.empty('iqn', [['name', src.initiatorIqn]]);
    w.close('initiator');
  }
  if (info.sourceFormats) {
    const format = src.format ?? info.defaultSourceFormat!;
    if (!info.sourceFormats.includes(format)) {
      throw storageError('INTERNAL_ERROR', `storage pool source`, `unknown pool format '${format}' for pool type '${type}'`);
    }
    w.empty('format', [['type', format]]);
  }
  if (src.auth) writeStorageAuth(w, src.auth);
  if (src.protocolVer !== undefined) w.empty('protocol', [['ver', src.protocolVer]]);
  if (src.vendor !== undefined) w.empty('vendor', [['name', src.vendor]]);
  if (src.product !== undefined) w.empty('product', [['name', src.product]]);
  writeKeptChildren(w, src.kept);
  w.close('source');
}

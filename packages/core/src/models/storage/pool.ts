import type { KeptXml } from '../../xml/keep.js';
import { keepUnknown, withKeptAttrs, writeKeptChildren } from '../../xml/keep.js';
import { parseXml, type XmlParseLimits } from '../../xml/parse.js';
import type { XmlElement } from '../../xml/tree.js';
import { generateUuid, parseUuid } from '../../xml/values.js';
import { XmlWriter } from '../../xml/write.js';
import { validateStorageAdapter } from './adapter.js';
import { parseStoragePerms, writeStoragePerms, type StoragePerms } from './perms.js';
import {
  STORAGE_POOL_FS_NAMESPACE,
  STORAGE_POOL_RBD_NAMESPACE,
  isBackendNamespaceElement,
  namespaceOfPoolType,
  parseFsMountOptions,
  parseRbdConfigOptions,
  writeFsMountOptions,
  writeRbdConfigOptions,
  type RbdConfigOption,
} from './pool-namespaces.js';
import { emptyPoolSource, parsePoolSource, writePoolSource, type StoragePoolSource } from './pool-source.js';
import { STORAGE_POOL_TYPES, STORAGE_POOL_TYPE_INFO, poolUses, type StoragePoolType } from './types.js';
import { sanitizePath, storageError, xpathAttr, xpathText } from './xpath.js';

export interface StoragePoolTarget {
  path: string;
  perms: StoragePerms;
  kept?: KeptXml;
}

/** A storage pool definition, as libvirt's virStoragePoolDef. */
export interface StoragePoolDef {
  type: StoragePoolType;
  name: string;
  uuid: string;
  /** Sizes in bytes; filled in by a refresh, never read from XML. */
  capacity: bigint;
  allocation: bigint;
  available: bigint;
  /** <features><cow state=…/>: copy-on-write of dir/fs pools on btrfs. */
  cow?: boolean;
  source: StoragePoolSource;
  /** Absent for network pools (rbd, sheepdog, gluster, iscsi-direct). */
  target?: StoragePoolTarget;
  /** <refresh><volume allocation=…/>: how rbd volumes report allocation. */
  refreshVolumeAllocation?: 'default' | 'capacity';
  /** <fs:mount_opts> of fs/netfs pools: extra `mount -o` options. */
  mountOptions?: string[];
  /** <rbd:config_opts> of rbd pools: extra RADOS options. */
  rbdConfigOptions?: RbdConfigOption[];
  kept?: KeptXml;
}

export interface StoragePoolParseOptions extends XmlParseLimits {
  /** UUID for a definition without one (default: a random one, as libvirt). */
  generateUuid?: () => string;
}

const ROOT_CHILDREN = new Set([
  'name', 'uuid', 'capacity', 'allocation', 'available', 'features', 'source', 'target', 'refresh',
]);

function keptRoot(root: XmlElement): KeptXml | undefined {
  let attrs: Array<[string, string]> | undefined;
  for (const k in root.attrs) {
    if (k === 'type') continue;
    const v = root.attrs[k]!;
    if (k.startsWith('xmlns:') && (v === STORAGE_POOL_FS_NAMESPACE || v === STORAGE_POOL_RBD_NAMESPACE)) continue;
    (attrs ??= []).push([k, v]);
  }
  let children: XmlElement[] | undefined;
  for (const c of root.elements()) {
    if (ROOT_CHILDREN.has(c.name) || isBackendNamespaceElement(c, root)) continue;
    (children ??= []).push(c);
  }
  return attrs || children ? { ...(attrs ? { attrs } : {}), ...(children ? { children } : {}) } : undefined;
}

/** Parses a <pool> element (virStoragePoolDefParseXML). */
export function storagePoolFromElement(root: XmlElement, opts: StoragePoolParseOptions = {}): StoragePoolDef {
  let what = 'storage pool XML';
  if (root.name !== 'pool') throw storageError('XML_ERROR', what, `unexpected root element <${root.name}>, expecting <pool>`);
  const typeStr = root.attr('type');
  if (typeStr === undefined) throw storageError('XML_ERROR', what, "missing required attribute 'type' in element 'pool'");
  if (!(STORAGE_POOL_TYPES as readonly string[]).includes(typeStr)) {
    throw storageError('XML_ERROR', what, `invalid value for attribute 'type' in element 'pool': '${typeStr}'`);
  }
  const type = typeStr as StoragePoolType;
  const nameText = xpathText(root, 'name');
  if (nameText !== undefined) what = `storage pool '${nameText}'`;

  const sourceEl = root.child('source');
  const source = sourceEl ? parsePoolSource(sourceEl, type, what) : emptyPoolSource(type);

  let name = nameText;
  if (name === undefined && poolUses(type, 'name')) name = source.name;
  if (name === undefined) throw storageError('XML_ERROR', what, 'missing pool source name element');
  what = `storage pool '${name}'`;
  if (name.includes('/')) throw storageError('XML_ERROR', what, `name ${name} cannot contain '/'`);

  const uuidText = xpathText(root, 'uuid');
  let uuid: string;
  if (uuidText === undefined) uuid = (opts.generateUuid ?? generateUuid)();
  else {
    try {
      uuid = parseUuid(uuidText);
    } catch {
      throw storageError('XML_ERROR', what, `malformed uuid element '${uuidText}'`);
    }
  }

  const def: StoragePoolDef = { type, name, uuid, capacity: 0n, allocation: 0n, available: 0n, source };

  const cowEl = root.child('features')?.child('cow');
  const cowState = cowEl?.attr('state');
  if (cowState !== undefined) {
    if (cowState !== 'yes' && cowState !== 'no') {
      throw storageError('XML_ERROR', what, `invalid value for attribute 'state' in element 'cow': '${cowState}'. Expected 'yes' or 'no'`);
    }
    if (type !== 'fs' && type !== 'dir') throw storageError('NO_SUPPORT', what, "cow feature may only be used for 'fs' and 'dir' pools");
    def.cow = cowState === 'yes';
  }

  if (poolUses(type, 'host') && source.hosts.length === 0) throw storageError('XML_ERROR', what, 'missing storage pool source host name');
  if (poolUses(type, 'dir') && source.dir === undefined) throw storageError('XML_ERROR', what, 'missing storage pool source path');
  if (poolUses(type, 'name') && source.name === undefined) source.name = name;
  if (poolUses(type, 'adapter')) validateStorageAdapter(source.adapter, what);
  const parts = STORAGE_POOL_TYPE_INFO[type].source;
  if (parts.length === 1 && parts[0] === 'device' && source.devices.length === 0) {
    throw storageError('XML_ERROR', what, 'missing storage pool source device name');
  }

  if (!poolUses(type, 'network')) {
    let path: string | undefined;
    if (type === 'logical') path = `/dev/${source.name}`;
    else if (type === 'zfs') path = `/dev/zvol/${source.name}`;
    else {
      path = xpathText(root, 'target/path');
      if (path === undefined) throw storageError('XML_ERROR', what, 'missing storage pool target path');
    }
    const targetEl = root.child('target');
    def.target = { path: sanitizePath(path), perms: parseStoragePerms(targetEl?.child('permissions'), what) };
    const targetKept = targetEl ? keepUnknown(targetEl, [], ['path', 'permissions']) : undefined;
    if (targetKept) def.target.kept = targetKept;
  }

  if (type === 'iscsi-direct' && source.initiatorIqn === undefined) throw storageError('CONFIG_UNSUPPORTED', what, 'missing initiator IQN');

  const refresh = xpathAttr(root, 'refresh/volume', 'allocation');
  if (refresh !== undefined) {
    if (refresh !== 'default' && refresh !== 'capacity') {
      throw storageError('CONFIG_UNSUPPORTED', what, `unknown storage pool volume refresh allocation type ${refresh}`);
    }
    def.refreshVolumeAllocation = refresh;
  }

  const ns = namespaceOfPoolType(type);
  if (ns === STORAGE_POOL_FS_NAMESPACE) {
    const o = parseFsMountOptions(root, what);
    if (o) def.mountOptions = o;
  } else if (ns === STORAGE_POOL_RBD_NAMESPACE) {
    const o = parseRbdConfigOptions(root, what);
    if (o) def.rbdConfigOptions = o;
  }

  const kept = keptRoot(root);
  if (kept) def.kept = kept;
  return def;
}

/** Parses storage pool XML as `virsh pool-define` reads it. */
export function parseStoragePoolXml(xml: string, opts: StoragePoolParseOptions = {}): StoragePoolDef {
  return storagePoolFromElement(parseXml(xml, 'storage pool XML', opts), opts);
}

export interface StoragePoolFormatOptions {
  /** Leading indentation in spaces (libvirt nests the pool in <poolstate> with 2). */
  indent?: number;
}

/** Writes the pool's XML as libvirt's virStoragePoolDefFormat does. */
export function formatStoragePoolXml(def: StoragePoolDef, opts: StoragePoolFormatOptions = {}): string {
  const w = new XmlWriter(opts.indent ?? 0);
  const ns =
    def.mountOptions?.length && (def.type === 'fs' || def.type === 'netfs')
      ? (['xmlns:fs', STORAGE_POOL_FS_NAMESPACE] as const)
      : def.rbdConfigOptions?.length && def.type === 'rbd'
        ? (['xmlns:rbd', STORAGE_POOL_RBD_NAMESPACE] as const)
        : undefined;
  w.open('pool', withKeptAttrs([['type', def.type], ...(ns ? [ns] : [])], def.kept));
  w.text('name', def.name);
  w.text('uuid', def.uuid);
  w.text('capacity', def.capacity, [['unit', 'bytes']]);
  w.text('allocation', def.allocation, [['unit', 'bytes']]);
  w.text('available', def.available, [['unit', 'bytes']]);
  if (def.cow !== undefined) {
    w.open('features');
    w.empty('cow', [['state', def.cow ? 'yes' : 'no']]);
    w.close('features');
  }
  writePoolSource(w, def.type, def.source);
  if (def.type !== 'rbd' && def.type !== 'sheepdog' && def.type !== 'gluster' && def.type !== 'iscsi-direct') {
    w.open('target');
    w.text('path', def.target?.path);
    writeStoragePerms(w, def.target?.perms);
    writeKeptChildren(w, def.target?.kept);
    w.close('target');
  }
  if (def.refreshVolumeAllocation) {
    w.open('refresh');
    w.empty('volume', [['allocation', def.refreshVolumeAllocation]]);
    w.close('refresh');
  }
  if (ns?.[0] === 'xmlns:fs') writeFsMountOptions(w, def.mountOptions!);
  else if (ns?.[0] === 'xmlns:rbd') writeRbdConfigOptions(w, def.rbdConfigOptions!);
  writeKeptChildren(w, def.kept);
  w.close('pool');
  return w.toString();
}

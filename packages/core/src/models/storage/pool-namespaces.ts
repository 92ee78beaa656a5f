import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import type { StoragePoolType } from './types.js';
import { namespaceMap, splitQName, storageError } from './xpath.js';

/**
 * The backend XML namespaces of storage pools: extra mount options for
 * fs/netfs pools and extra RADOS options for rbd pools, each only on the
 * pool types whose backend registers it (as libvirt's backends do).
 */
export const STORAGE_POOL_FS_NAMESPACE = 'http://libvirt.org/schemas/storagepool/fs/1.0';
export const STORAGE_POOL_RBD_NAMESPACE = 'http://libvirt.org/schemas/storagepool/rbd/1.0';

export interface RbdConfigOption {
  name: string;
  value: string;
}

export function namespaceOfPoolType(type: StoragePoolType): string | undefined {
  if (type === 'fs' || type === 'netfs') return STORAGE_POOL_FS_NAMESPACE;
  if (type === 'rbd') return STORAGE_POOL_RBD_NAMESPACE;
  return undefined;
}

/** Children of `parent` named `local` in namespace `uri`, prefixes resolved against `scope`. */
function nsChildren(parent: XmlElement, uri: string, local: string, scope: XmlElement[]): XmlElement[] {
  return parent.elements().filter((c) => {
    const [prefix, name] = splitQName(c.name);
    return prefix !== '' && name === local && namespaceMap(...scope, c).get(prefix) === uri;
  });
}

/** Whether an element of the pool belongs to one of the backend namespaces (handled, not kept). */
export function isBackendNamespaceElement(el: XmlElement, root: XmlElement): boolean {
  const [prefix] = splitQName(el.name);
  if (prefix === '') return false;
  const uri = namespaceMap(root, el).get(prefix);
  return uri === STORAGE_POOL_FS_NAMESPACE || uri === STORAGE_POOL_RBD_NAMESPACE;
}

/** <fs:mount_opts><fs:option name=…/>… */
export function parseFsMountOptions(root: XmlElement, what: string): string[] | undefined {
  const opts: string[] = [];
  for (const group of nsChildren(root, STORAGE_POOL_FS_NAMESPACE, 'mount_opts', [root])) {
    for (const o of nsChildren(group, STORAGE_POOL_FS_NAMESPACE, 'option', [root, group])) {
      const name = o.attr('name');
      if (name === undefined) throw storageError('XML_ERROR', what, 'no fs mount option name specified');
      opts.push(name);
    }
  }
  return opts.length ? opts : undefined;
}

/** <rbd:config_opts><rbd:option name=… value=…/>… */
export function parseRbdConfigOptions(root: XmlElement, what: string): RbdConfigOption[] | undefined {
  const opts: RbdConfigOption[] = [];
  for (const group of nsChildren(root, STORAGE_POOL_RBD_NAMESPACE, 'config_opts', [root])) {
    for (const o of nsChildren(group, STORAGE_POOL_RBD_NAMESPACE, 'option', [root, group])) {
      const name = o.attr('name');
      if (name === undefined) throw storageError('XML_ERROR', what, 'no rbd option name specified');
      if (name === '') throw storageError('XML_ERROR', what, 'empty rbd option name specified');
      const value = o.attr('value');
      if (value === undefined) throw storageError('XML_ERROR', what, `no rbd option value specified for name '${name}'`);
      if (value === '') throw storageError('XML_ERROR', what, `empty rbd option value specified for name '${name}'`);
      opts.push({ name, value });
    }
  }
  return opts.length ? opts : undefined;
}

export function writeFsMountOptions(w: XmlWriter, opts: readonly string[]): void {
  w.open('fs:mount_opts');
  for (const o of opts) w.empty('fs:option', [['name', o]]);
  w.close('fs:mount_opts');
}

export function writeRbdConfigOptions(w: XmlWriter, opts: readonly RbdConfigOption[]): void {
  w.open('rbd:config_opts');
  for (const o of opts) w.empty('rbd:option', [['name', o.name], ['value', o.value]]);
  w.close('rbd:config_opts');
}

import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseCInteger } from '../../xml/values.js';
import { storageError, xpathText } from './xpath.js';

/**
 * <permissions> of a pool target or a volume. An absent field means
 * "leave it as it is" (libvirt's -1); owner/group -1 and 4294967295 read
 * as absent, as libvirt reads them.
 */
export interface StoragePerms {
  mode?: number;
  owner?: number;
  group?: number;
  label?: string;
}

function parseId(el: XmlElement, name: 'owner' | 'group', what: string): number | undefined {
  const node = el.child(name);
  if (!node) return undefined;
  const text = xpathText(el, name) ?? '';
  const n = parseCInteger(text.trim() === '' ? 'x' : text, 10);
  if (n === undefined || (n !== -1n && (n < 0n || n > 0xffffffffn))) {
    throw storageError('XML_ERROR', what, `malformed ${name} element '${text}'`);
  }
  return n === -1n || n === 0xffffffffn ? undefined : Number(n);
}

/** virStorageDefParsePerms over an optional <permissions> element. */
export function parseStoragePerms(el: XmlElement | undefined, what: string): StoragePerms {
  const perms: StoragePerms = {};
  if (!el) return perms;
  const mode = xpathText(el, 'mode');
  if (mode !== undefined) {
    const n = parseCInteger(mode, 8);
    if (n === undefined || n < -2147483648n || n > 2147483647n || (n & ~0o777n) !== 0n) {
      throw storageError('XML_ERROR', what, `malformed octal mode '${mode}'`);
    }
    perms.mode = Number(n);
  }
  const owner = parseId(el, 'owner', what);
  if (owner !== undefined) perms.owner = owner;
  const group = parseId(el, 'group', what);
  if (group !== undefined) perms.group = group;
  const label = xpathText(el, 'label');
  if (label !== undefined) perms.label = label;
  return perms;
}

export function hasStoragePerms(p: StoragePerms | undefined): boolean {
  return !!p && (p.mode !== undefined || p.owner !== undefined || p.group !== undefined || p.label !== undefined);
}

/** Owner/group print as C's "%d" of the id. */
const asInt32 = (n: number): number => (n > 0x7fffffff ? n - 0x100000000 : n);

export function writeStoragePerms(w: XmlWriter, p: StoragePerms | undefined): void {
  if (!p || !hasStoragePerms(p)) return;
  w.open('permissions');
  if (p.mode !== undefined) w.text('mode', `0${p.mode.toString(8)}`);
  if (p.owner !== undefined) w.text('owner', asInt32(p.owner));
  if (p.group !== undefined) w.text('group', asInt32(p.group));
  w.text('label', p.label);
  w.close('permissions');
}

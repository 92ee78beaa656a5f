import { VirtError } from '../errors.js';
import type { StoragePoolDef } from '../models/storage/pool.js';
import type { XmlElement } from '../xml/tree.js';

/**
 * virtkit's own pool settings live in a namespaced element of the pool XML,
 * as libvirt's backends keep theirs (`<fs:mount_opts>`), so a definition
 * stays valid libvirt XML and round-trips unchanged:
 *
 *   <pool type='logical' xmlns:virtkit='http://virtkit.dev/schemas/storagepool/1.0'>
 *     …
 *     <virtkit:options>
 *       <virtkit:option name='activation' value='no'/>
 *     </virtkit:options>
 *   </pool>
 */
export const VIRTKIT_POOL_NAMESPACE = 'http://virtkit.dev/schemas/storagepool/1.0';

function prefixesOf(def: StoragePoolDef): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of def.kept?.attrs ?? []) {
    if (k.startsWith('xmlns:') && v === VIRTKIT_POOL_NAMESPACE) out.add(k.slice(6));
  }
  return out;
}

function isVirtkit(el: XmlElement, local: string, prefixes: Set<string>): boolean {
  const i = el.name.indexOf(':');
  if (i < 0) return el.name === local && el.attr('xmlns') === VIRTKIT_POOL_NAMESPACE;
  return el.name.slice(i + 1) === local && (prefixes.has(el.name.slice(0, i)) || el.attr(`xmlns:${el.name.slice(0, i)}`) === VIRTKIT_POOL_NAMESPACE);
}

/** Every `<virtkit:option name= value=>` of a pool, by name (the last one wins). */
export function poolOptions(def: StoragePoolDef): Map<string, string> {
  const out = new Map<string, string>();
  const prefixes = prefixesOf(def);
  for (const el of def.kept?.children ?? []) {
    if (!isVirtkit(el, 'options', prefixes)) continue;
    for (const o of el.elements()) {
      // Inside <virtkit:options>, every child named `option` (whatever its prefix) is one.
      if (o.name.slice(o.name.indexOf(':') + 1) !== 'option') continue;
      const name = o.attr('name');
      const value = o.attr('value');
      if (name === undefined || value === undefined) {
        throw new VirtError('XML_ERROR', `storage pool '${def.name}': <option> needs 'name' and 'value' attributes`, { origin: 'storage' });
      }
      out.set(name, value);
    }
  }
  return out;
}

/** One option, checked against the values it may take. */
export function poolOption<T extends string>(def: StoragePoolDef, name: string, allowed: readonly T[], fallback: T): T {
  const v = poolOptions(def).get(name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new VirtError('XML_ERROR', `storage pool '${def.name}': invalid value '${v}' for option '${name}' (expected ${allowed.join(', ')})`, {
      origin: 'storage',
    });
  }
  return v as T;
}

/** The XML to add to a pool definition for the given options (for tools and tests building definitions). */
export function formatPoolOptionsXml(options: Record<string, string>, indent = '  '): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
  const lines = Object.entries(options).map(([k, v]) => `${indent}  <virtkit:option name='${esc(k)}' value='${esc(v)}'/>`);
  return `${indent}<virtkit:options xmlns:virtkit='${VIRTKIT_POOL_NAMESPACE}'>\n${lines.join('\n')}\n${indent}</virtkit:options>\n`;
}

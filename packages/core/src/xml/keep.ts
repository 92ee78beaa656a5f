import { VirtError } from '../errors.js';
import { XmlElement as XmlElementClass, type XmlElement } from './tree.js';
import type { XmlWriter } from './write.js';

/**
 * What a typed model did not understand in one element, kept so that it is
 * written back: unknown attributes (after the known ones) and unknown child
 * elements (after the known children).
 */
export interface KeptXml {
  attrs?: Array<[string, string]>;
  children?: XmlElement[];
}

/** Collects the attributes and child elements of `el` that are not in the known sets. */
export function keepUnknown(
  el: XmlElement,
  knownAttrs: ReadonlySet<string> | readonly string[],
  knownChildren: ReadonlySet<string> | readonly string[],
): KeptXml | undefined {
  const ka = knownAttrs instanceof Set ? knownAttrs : new Set(knownAttrs as readonly string[]);
  const kc = knownChildren instanceof Set ? knownChildren : new Set(knownChildren as readonly string[]);
  let attrs: Array<[string, string]> | undefined;
  for (const k in el.attrs) if (!ka.has(k)) (attrs ??= []).push([k, el.attrs[k]!]);
  let children: XmlElement[] | undefined;
  for (const c of el.children) if (typeof c !== 'string' && !kc.has(c.name)) (children ??= []).push(c);
  return attrs || children ? { ...(attrs ? { attrs } : {}), ...(children ? { children } : {}) } : undefined;
}

/** Writes kept child elements (call where the element's known children end). */
export function writeKeptChildren(w: XmlWriter, kept: KeptXml | undefined): void {
  if (kept?.children) for (const c of kept.children) w.node(c);
}

/** Known attributes followed by kept ones, for XmlWriter. */
export function withKeptAttrs(
  attrs: Array<readonly [string, string | number | bigint | boolean | undefined | null]>,
  kept: KeptXml | undefined,
): Array<readonly [string, string | number | bigint | boolean | undefined | null]> {
  return kept?.attrs ? [...attrs, ...kept.attrs] : attrs;
}

/** Where a model kept XML it did not know: the element path and what was kept. */
export interface UnknownXml {
  path: string;
  what: string;
}

/**
 * Finds XML a parsed model kept because it did not know it (any `kept` or
 * `…Kept` field), for `define --validate`: virtkit's typed models are its
 * schema, so content they do not know fails validation instead of being
 * carried along.
 */
export function findUnknownXml(model: unknown, path = ''): UnknownXml | undefined {
  if (!model || typeof model !== 'object' || model instanceof XmlElementClass || model instanceof Map) return undefined;
  if (Array.isArray(model)) {
    for (let i = 0; i < model.length; i++) {
      const r = findUnknownXml(model[i], `${path}[${i}]`);
      if (r) return r;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(model as Record<string, unknown>)) {
    if ((k === 'kept' || k.endsWith('Kept')) && v && typeof v === 'object') {
      const kept = v as KeptXml;
      const where = k === 'kept' ? path : `${path}.${k.slice(0, -4)}`;
      if (kept.children?.length) return { path: where, what: `element <${kept.children[0]!.name}>` };
      if (kept.attrs?.length) return { path: where, what: `attribute '${kept.attrs[0]![0]}'` };
      continue;
    }
    const r = findUnknownXml(v, path ? `${path}.${k}` : k);
    if (r) return r;
  }
  return undefined;
}

/**
 * `--validate` for a driver: fails with XML_ERROR naming the first content
 * the typed model does not know (findUnknownXml), where libvirt's schema
 * validation would fail.
 */
export function requireKnownXml(model: unknown, what: string, origin?: string): void {
  const u = findUnknownXml(model);
  if (!u) return;
  throw new VirtError('XML_ERROR', `${what}: XML document failed to validate against schema: unexpected ${u.what}${u.path ? ` in ${u.path}` : ''}`, {
    ...(origin ? { origin } : {}),
  });
}

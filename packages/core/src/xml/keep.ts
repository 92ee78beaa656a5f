import type { XmlElement } from './tree.js';
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

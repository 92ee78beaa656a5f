/**
 * XML namespace bookkeeping on the plain XmlElement tree, which keeps
 * qualified names ("dnsmasq:options") and xmlns attributes as they were
 * written.
 */
import type { XmlElement } from '../../xml/tree.js';

/** Prefix → URI in scope; '' is the default namespace. */
export type NamespaceScope = ReadonlyMap<string, string>;

export const EMPTY_SCOPE: NamespaceScope = new Map();

/** The scope inside `el`, given the scope of its parent. */
export function scopeOf(el: XmlElement, parent: NamespaceScope = EMPTY_SCOPE): NamespaceScope {
  let scope: Map<string, string> | undefined;
  for (const k in el.attrs) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      scope ??= new Map(parent);
      scope.set(k === 'xmlns' ? '' : k.slice(6), el.attrs[k]!);
    }
  }
  return scope ?? parent;
}

export function splitQName(name: string): { prefix: string; local: string } {
  const i = name.indexOf(':');
  return i < 0 ? { prefix: '', local: name } : { prefix: name.slice(0, i), local: name.slice(i + 1) };
}

/** The namespace URI of an element (or undefined when it has none), in the scope inside it. */
export function elementNamespace(el: XmlElement, inner: NamespaceScope): string | undefined {
  const uri = inner.get(splitQName(el.name).prefix);
  return uri === '' ? undefined : uri;
}

/** Whether `el` is {uri}local in the given parent scope. */
export function isNamespaced(el: XmlElement, parent: NamespaceScope, uri: string, local: string): boolean {
  return splitQName(el.name).local === local && elementNamespace(el, scopeOf(el, parent)) === uri;
}

/**
 * <metadata>: application elements kept verbatim. libvirt copies the node
 * (xmlCopyNode, which declares on <metadata> any namespace its content
 * borrows from outside), drops children without a namespace and all but
 * the first child of each namespace (virXMLNodeSanitizeNamespaces), and
 * prints it back with libxml2's serializer (xmlNodeDump, indented):
 * namespace declarations first, double-quoted attributes, non-ASCII as
 * character references. This module does the same on XmlElement trees.
 */
import { XmlElement } from '../../xml/tree.js';
import { EMPTY_SCOPE, scopeOf, splitQName, type NamespaceScope } from './namespaces.js';

const isNsAttr = (k: string) => k === 'xmlns' || k.startsWith('xmlns:');

/**
 * The sanitised copy of a <metadata> element found in `parentScope`, or
 * undefined when it has no child element (libvirt then drops it).
 */
export function extractMetadata(el: XmlElement, parentScope: NamespaceScope = EMPTY_SCOPE): XmlElement | undefined {
  if (!el.hasElementChildren()) return undefined;
  const copy = el.clone();
  // Declarations xmlCopyNode adds to the copy's root for prefixes declared outside it.
  const added = new Map<string, string>();
  const outer = scopeOf(el, parentScope);
  const reconcile = (node: XmlElement, inner: Map<string, string>, original: NamespaceScope) => {
    const origInner = scopeOf(node, original);
    const need = (prefix: string) => {
      if (prefix === 'xml' || inner.has(prefix) || added.has(prefix)) return;
      const uri = origInner.get(prefix);
      if (uri !== undefined && uri !== '') added.set(prefix, uri);
    };
    need(splitQName(node.name).prefix);
    for (const k in node.attrs) {
      if (isNsAttr(k)) continue;
      const p = splitQName(k).prefix;
      if (p) need(p);
    }
    for (const c of node.children) {
      if (typeof c === 'string') continue;
      const childInner = new Map(inner);
      for (const k in c.attrs) if (isNsAttr(k)) childInner.set(k === 'xmlns' ? '' : k.slice(6), c.attrs[k]!);
      reconcile(c, childInner, origInner);
    }
  };
  const rootInner = new Map<string, string>();
  for (const k in copy.attrs) if (isNsAttr(k)) rootInner.set(k === 'xmlns' ? '' : k.slice(6), copy.attrs[k]!);
  // The <metadata> element itself is resolved against the document.
  for (const c of copy.children) {
    if (typeof c === 'string') continue;
    const childInner = new Map(rootInner);
    for (const k in c.attrs) if (isNsAttr(k)) childInner.set(k === 'xmlns' ? '' : k.slice(6), c.attrs[k]!);
    reconcile(c, childInner, outer);
  }
  for (const [prefix, uri] of added) copy.attrs[prefix ? `xmlns:${prefix}` : 'xmlns'] = uri;

  // Sanitise: only namespaced child elements, one per namespace.
  const seen = new Set<string>();
  const rootScope = scopeOf(copy);
  copy.children = copy.children.filter((c) => {
    if (typeof c === 'string') return false;
    const uri = scopeOf(c, rootScope).get(splitQName(c.name).prefix);
    if (!uri || seen.has(uri)) return false;
    seen.add(uri);
    return true;
  });
  return copy;
}

function charRef(cp: number): string {
  return `&#x${cp.toString(16).toUpperCase()};`;
}

function escapeText(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '&') out += '&amp;';
    else if ((cp >= 0x20 && cp < 0x80) || ch === '\n' || ch === '\t') out += ch;
    else out += charRef(cp);
  }
  return out;
}

function escapeAttr(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '&') out += '&amp;';
    else if (ch === '"') out += '&quot;';
    else if (ch === '\n') out += '&#10;';
    else if (ch === '\r') out += '&#13;';
    else if (ch === '\t') out += '&#9;';
    else if (cp >= 0x80) out += charRef(cp);
    else out += ch;
  }
  return out;
}

function dump(el: XmlElement, level: number, format: boolean, out: string[]): void {
  out.push('<', el.name);
  for (const k in el.attrs) if (isNsAttr(k)) out.push(' ', k, '="', escapeAttr(el.attrs[k]!), '"');
  for (const k in el.attrs) if (!isNsAttr(k)) out.push(' ', k, '="', escapeAttr(el.attrs[k]!), '"');
  if (el.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  const fmt = format && el.children.every((c) => typeof c !== 'string');
  if (fmt) out.push('\n');
  for (const c of el.children) {
    if (typeof c === 'string') {
      out.push(escapeText(c));
      continue;
    }
    if (fmt) out.push(' '.repeat(2 * (level + 1)));
    dump(c, level + 1, fmt, out);
    if (fmt) out.push('\n');
  }
  if (fmt) out.push(' '.repeat(2 * level));
  out.push('</', el.name, '>');
}

/**
 * Serialises an element as libxml2's xmlNodeDump(level, format=1) does;
 * the first line carries no indentation (the caller's writer adds it).
 */
export function dumpXmlLikeLibxml(el: XmlElement, level: number): string {
  const out: string[] = [];
  dump(el, level, true, out);
  return out.join('');
}

/** A fresh element tree (for building metadata programmatically). */
export function metadataElement(children: XmlElement[]): XmlElement {
  return new XmlElement('metadata', {}, children);
}

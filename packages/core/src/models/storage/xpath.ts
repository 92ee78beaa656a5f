import { parseCInteger } from '../../xml/values.js';
import { VirtError } from '../../errors.js';
import type { XmlElement } from '../../xml/tree.js';

/**
 * The few XPath behaviours libvirt's storage parsers rely on, over the
 * XmlElement tree: `string(...)` is the concatenated text of every
 * descendant and counts as missing when empty (virXPathString), while an
 * attribute read with virXMLPropString keeps an empty value.
 */

export function storageError(code: VirtError['code'], what: string, message: string): VirtError {
  return new VirtError(code, `${what}: ${message}`, { origin: 'storage' });
}

/** All descendant text, as XPath's string() of an element. */
export function stringValue(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += typeof c === 'string' ? c : stringValue(c);
  return s;
}

/** First element along a path of child names ("target/format"). */
export function firstPath(el: XmlElement | undefined, path: string): XmlElement | undefined {
  let cur = el;
  for (const part of path.split('/')) {
    if (!cur) return undefined;
    cur = cur.child(part);
  }
  return cur;
}

/** virXPathString("string(./path)"): undefined when absent or empty. */
export function xpathText(el: XmlElement | undefined, path: string): string | undefined {
  const node = firstPath(el, path);
  if (!node) return undefined;
  const s = stringValue(node);
  return s === '' ? undefined : s;
}

/** virXPathString("string(./path/@attr)"): undefined when absent or empty. */
export function xpathAttr(el: XmlElement | undefined, path: string, attr: string): string | undefined {
  const node = path === '' ? el : firstPath(el, path);
  const v = node?.attr(attr);
  return v === undefined || v === '' ? undefined : v;
}


/** virStrToLong_ullp: unsigned 64-bit, no minus sign. */
export function parseULongLong(value: string): bigint | undefined {
  if (/^[ \t\n\v\f\r]*-/.test(value)) return undefined;
  const n = parseCInteger(value, 10);
  return n === undefined || n > 0xffffffffffffffffn ? undefined : n;
}

/** virXMLPropUInt / virXMLPropInt over an attribute; undefined when absent. */
export function propInteger(
  el: XmlElement,
  attr: string,
  what: string,
  opts: { base?: 0 | 10; signed?: boolean; required?: boolean } = {},
): number | undefined {
  const v = el.attr(attr);
  if (v === undefined) {
    if (opts.required) throw storageError('XML_ERROR', what, `missing required attribute '${attr}' in element '${el.name}'`);
    return undefined;
  }
  const n = parseCInteger(v, opts.base ?? 10);
  const [min, max] = opts.signed ? [-2147483648n, 2147483647n] : [0n, 4294967295n];
  if (n === undefined || n < min || n > max || (!opts.signed && /^\s*-/.test(v))) {
    throw storageError(
      'XML_ERROR',
      what,
      `invalid value for attribute '${attr}' in element '${el.name}': '${v}'. Expected ${opts.signed ? 'integer' : 'non-negative integer'} value`,
    );
  }
  return Number(n);
}

/** virXMLPropTristateBool: yes/no, undefined when absent. */
export function propYesNo(el: XmlElement | undefined, attr: string, what: string): boolean | undefined {
  const v = el?.attr(attr);
  if (v === undefined) return undefined;
  if (v === 'yes') return true;
  if (v === 'no') return false;
  throw storageError('XML_ERROR', what, `invalid value for attribute '${attr}' in element '${el!.name}': '${v}'. Expected 'yes' or 'no'`);
}

/**
 * virFileSanitizePath: collapses repeated slashes and drops a trailing one,
 * keeping a leading '//' (valid POSIX) and leaving URIs alone.
 */
export function sanitizePath(path: string): string {
  const uri = path.indexOf('://');
  if (uri >= 0) {
    const slash = path.indexOf('/');
    if (slash >= uri) return path;
  }
  let out = '';
  let i = 0;
  if (path[0] === '/' && path[1] === '/' && path[2] !== '/') {
    out = '//';
    i = 2;
  }
  while (i < path.length) {
    if (path[i] !== '/') {
      out += path[i++];
      continue;
    }
    while (path[++i] === '/');
    if (out.length !== 0 && i >= path.length) break;
    out += '/';
  }
  return out;
}

/** Prefix → namespace URI map from the xmlns:* declarations on the given elements (outermost first). */
export function namespaceMap(...els: XmlElement[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const el of els) {
    for (const k in el.attrs) if (k.startsWith('xmlns:')) map.set(k.slice(6), el.attrs[k]!);
  }
  return map;
}

/** Splits `prefix:local`; the prefix is '' for unprefixed names. */
export function splitQName(name: string): [string, string] {
  const i = name.indexOf(':');
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 1)];
}

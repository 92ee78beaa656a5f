import { VirtError } from '../../errors.js';
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import { parseUnsigned, parseSigned, parseScaled, parseUuid } from '../../xml/values.js';

/** XML_ERROR naming the element and the cause, as libvirt's VIR_ERR_XML_ERROR. */
export function xmlError(where: string, message: string): VirtError {
  return new VirtError('XML_ERROR', `${where}: ${message}`, { origin: 'domain' });
}

/** CONFIG_UNSUPPORTED, libvirt's VIR_ERR_CONFIG_UNSUPPORTED. */
export function unsupported(where: string, message: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', `${where}: ${message}`, { origin: 'domain' });
}

/** XML_DETAIL, libvirt's VIR_ERR_XML_DETAIL ("XML description ... is invalid or not well formed"). */
export function xmlDetail(where: string, message: string): VirtError {
  return new VirtError('XML_DETAIL', `${where}: ${message}`, { origin: 'domain' });
}

const NO_STRINGS: readonly string[] = [];

/**
 * Reads one element's attributes and children, remembering which ones were
 * looked at; whatever was not is returned by `kept()` so that it can be
 * written back. Errors name the element as `where` (e.g. "disk 'vda' <driver>").
 */
export class ElemReader {
  private usedAttrs: string[] | undefined;
  private usedKids: string[] | undefined;

  constructor(
    readonly el: XmlElement,
    readonly where: string = `<${el.name}>`,
  ) {}

  private markAttr(name: string): void {
    (this.usedAttrs ??= []).push(name);
  }

  /** Marks attributes as known without reading them (runtime-only data that is dropped on purpose). */
  ignoreAttrs(...names: string[]): void {
    for (const n of names) this.markAttr(n);
  }

  /** Marks child elements as known without reading them. */
  ignoreChildren(...names: string[]): void {
    for (const n of names) (this.usedKids ??= []).push(n);
  }

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.el.attrs, name);
  }

  str(name: string): string | undefined {
    this.markAttr(name);
    return Object.prototype.hasOwnProperty.call(this.el.attrs, name) ? this.el.attrs[name] : undefined;
  }

  /** Attribute that must be present (libvirt: "missing required attribute"). */
  req(name: string): string {
    const v = this.str(name);
    if (v === undefined) throw xmlError(this.where, `missing required attribute '${name}'`);
    return v;
  }

  /** Non-empty attribute or undefined (libvirt treats '' as absent for most strings). */
  nonEmpty(name: string): string | undefined {
    const v = this.str(name);
    return v === undefined || v === '' ? undefined : v;
  }

  uint(name: string, max = 0xffffffff): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    return parseUnsigned(v, `${this.where} attribute '${name}'`, max);
  }

  /** Unsigned accepting 0x-hex and leading-zero octal like strtoul with base 0. */
  uintAnyBase(name: string, max = 0xffffffff): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    return parseBase0(v, `${this.where} attribute '${name}'`, max);
  }

  ulong(name: string): number | undefined {
    return this.uint(name, Number.MAX_SAFE_INTEGER);
  }

  int(name: string, min = -0x80000000, max = 0x7fffffff): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    return parseSigned(v, `${this.where} attribute '${name}'`, min, max);
  }

  yesNo(name: string): boolean | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (v === 'yes') return true;
    if (v === 'no') return false;
    throw xmlError(this.where, `invalid value '${v}' for attribute '${name}': expected 'yes' or 'no'`);
  }

  onOff(name: string): boolean | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (v === 'on') return true;
    if (v === 'off') return false;
    throw xmlError(this.where, `invalid value '${v}' for attribute '${name}': expected 'on' or 'off'`);
  }

  enum<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if ((values as readonly string[]).includes(v)) return v as T;
    throw xmlError(this.where, `invalid value '${v}' for attribute '${name}' (expected one of: ${values.join(', ')})`);
  }

  /** Enum whose libvirt "default" value (index 0) reads as absent. */
  enumNoDefault<T extends string>(name: string, values: readonly T[]): Exclude<T, 'default'> | undefined {
    const v = this.enum(name, values);
    return v === 'default' ? undefined : (v as Exclude<T, 'default'> | undefined);
  }

  enumReq<T extends string>(name: string, values: readonly T[]): T {
    const v = this.enum(name, values);
    if (v === undefined) throw xmlError(this.where, `missing required attribute '${name}'`);
    return v;
  }

  uuid(name: string): string | undefined {
    const v = this.str(name);
    return v === undefined ? undefined : parseUuid(v, `${this.where} attribute '${name}'`);
  }

  child(name: string): XmlElement | undefined {
    (this.usedKids ??= []).push(name);
    return this.el.child(name);
  }

  children(name: string): XmlElement[] {
    (this.usedKids ??= []).push(name);
    const out: XmlElement[] = [];
    for (const c of this.el.children) if (typeof c !== 'string' && c.name === name) out.push(c);
    return out;
  }

  /** Text of a child element (undefined when absent). */
  childText(name: string): string | undefined {
    const c = this.child(name);
    return c ? c.text() : undefined;
  }

  /** Trimmed, non-empty text of a child element. */
  childTrimmed(name: string): string | undefined {
    const t = this.childText(name)?.trim();
    return t ? t : undefined;
  }

  /** Unknown attributes and children, for writing back. */
  kept(): KeptXml | undefined {
    const el = this.el;
    const ua = this.usedAttrs ?? NO_STRINGS;
    const uk = this.usedKids ?? NO_STRINGS;
    let attrs: Array<[string, string]> | undefined;
    for (const k in el.attrs) if (!ua.includes(k)) (attrs ??= []).push([k, el.attrs[k]!]);
    let children: XmlElement[] | undefined;
    for (const c of el.children) if (typeof c !== 'string' && !uk.includes(c.name)) (children ??= []).push(c);
    if (!attrs && !children) return undefined;
    const k: KeptXml = {};
    if (attrs) k.attrs = attrs;
    if (children) k.children = children;
    return k;
  }
}

/** strtoul(…, 0): 0x… hex, 0… octal, else decimal. */
export function parseBase0(v: string, where: string, max = 0xffffffff): number {
  const s = v.trim();
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) n = parseInt(s, 8);
  else if (/^\+?[0-9]+$/.test(s)) n = Number(s);
  else throw xmlError(where, `invalid value '${v}': expected an unsigned integer`);
  if (n > max) throw xmlError(where, `value '${v}' is out of range`);
  return n;
}

/** Reads a scaled size element (`<memory unit='MiB'>512</memory>`) as KiB, rounding up like libvirt. */
export function readScaledKiB(el: XmlElement, where: string, required = true, unitAttr = 'unit', defaultScale = 1024n): number | undefined {
  const text = el.text().trim();
  if (text === '') {
    if (required) throw xmlError(where, 'missing value');
    return undefined;
  }
  const bytes = parseScaled(text, el.attr(unitAttr), where, defaultScale, 0xffffffffffffffffn);
  return Number((bytes + 1023n) / 1024n);
}

/** Scaled size from an attribute pair (`size='…' unit='…'`) in KiB. */
export function readScaledAttrKiB(value: string, unit: string | undefined, where: string, defaultScale = 1024n): number {
  const bytes = parseScaled(value, unit, where, defaultScale, 0xffffffffffffffffn);
  return Number((bytes + 1023n) / 1024n);
}

/** Scaled value in bytes (no rounding). */
export function readScaledBytes(value: string, unit: string | undefined, where: string, defaultScale = 1n): number {
  return Number(parseScaled(value, unit, where, defaultScale));
}

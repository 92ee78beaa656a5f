import { randomBytes } from 'node:crypto';
import { VirtError } from '../errors.js';

/** An XML_ERROR that names the element (or attribute) and what is wrong with it. */
export function xmlValueError(where: string, message: string): VirtError {
  return new VirtError('XML_ERROR', `${where}: ${message}`, { origin: 'xml' });
}

const UNSIGNED_RE = /^\s*\+?[0-9]+\s*$/;
const SIGNED_RE = /^\s*[-+]?[0-9]+\s*$/;
const HEX_RE = /^\s*0[xX][0-9a-fA-F]+\s*$/;

/**
 * Parses an unsigned integer as libvirt's virStrToLong_ui/ull do (decimal,
 * or hex with 0x when `allowHex`), refusing junk and values above `max`.
 */
export function parseUnsigned(value: string, where: string, max = Number.MAX_SAFE_INTEGER, allowHex = false): number {
  let n: number;
  if (UNSIGNED_RE.test(value)) n = Number(value.trim());
  else if (allowHex && HEX_RE.test(value)) n = parseInt(value.trim().slice(2), 16);
  else throw xmlValueError(where, `invalid value '${value}': expected an unsigned integer`);
  if (!Number.isFinite(n) || n > max) throw xmlValueError(where, `value '${value}' is out of range (at most ${max})`);
  return n;
}

export function parseSigned(value: string, where: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (!SIGNED_RE.test(value)) throw xmlValueError(where, `invalid value '${value}': expected an integer`);
  const n = Number(value.trim());
  if (n < min || n > max) throw xmlValueError(where, `value '${value}' is out of range (${min}..${max})`);
  return n;
}

/** Like parseUnsigned, but exact for the whole unsigned 64-bit range. */
export function parseUnsignedBig(value: string, where: string, max: bigint = 0xffffffffffffffffn): bigint {
  if (!UNSIGNED_RE.test(value)) throw xmlValueError(where, `invalid value '${value}': expected an unsigned integer`);
  const n = BigInt(value.trim().replace(/^\+/, ''));
  if (n > max) throw xmlValueError(where, `value '${value}' is out of range`);
  return n;
}

export function parseEnum<T extends string>(value: string, allowed: readonly T[], where: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw xmlValueError(where, `unknown value '${value}' (expected one of: ${allowed.join(', ')})`);
}

/** libvirt's virTristateBool: yes/no. */
export function parseYesNo(value: string, where: string): boolean {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  throw xmlValueError(where, `invalid value '${value}': expected 'yes' or 'no'`);
}

/** libvirt's virTristateSwitch: on/off. */
export function parseOnOff(value: string, where: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw xmlValueError(where, `invalid value '${value}': expected 'on' or 'off'`);
}

export const yesNo = (b: boolean | undefined): string | undefined => (b === undefined ? undefined : b ? 'yes' : 'no');
export const onOff = (b: boolean | undefined): string | undefined => (b === undefined ? undefined : b ? 'on' : 'off');

/**
 * Multiplier for a unit suffix as libvirt's virScaleInteger reads it:
 * b/byte/bytes; k, KiB, M, MiB, … are powers of 1024; KB, MB, … of 1000
 * (case-insensitive); an empty suffix means `defaultScale`.
 */
export function unitScale(unit: string | undefined, defaultScale: bigint, where: string): bigint {
  if (unit === undefined || unit === '') return defaultScale;
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1n;
  let base: bigint;
  if (u.length === 1 || u.slice(1) === 'ib') base = 1024n;
  else if (u.length === 2 && u[1] === 'b') base = 1000n;
  else throw xmlValueError(where, `unknown suffix '${unit}'`);
  const exp = 'kmgtpe'.indexOf(u[0]!);
  if (exp < 0) throw xmlValueError(where, `unknown suffix '${unit}'`);
  return base ** BigInt(exp + 1);
}

/**
 * A scaled integer (`<memory unit='MiB'>512</memory>`, `capacity`) in bytes,
 * exact, refusing results above `limit` bytes.
 */
export function parseScaled(
  value: string,
  unit: string | undefined,
  where: string,
  defaultScale = 1n,
  limit: bigint = 0xffffffffffffffffn,
): bigint {
  const n = parseUnsignedBig(value, where);
  const scale = unitScale(unit, defaultScale, where);
  if (n !== 0n && n > limit / scale) throw xmlValueError(where, `value '${value}${unit ? ' ' + unit : ''}' is too large`);
  return n * scale;
}

/** Bytes to KiB, rounding up as libvirt's VIR_DIV_UP does. */
export function bytesToKiB(bytes: bigint): number {
  return Number((bytes + 1023n) / 1024n);
}

// ---- UUIDs ----

/**
 * Parses a UUID as libvirt's virUUIDParse does: 32 hex digits, dashes
 * allowed between byte pairs, surrounding blanks ignored. Returns the
 * canonical lowercase 8-4-4-4-12 form.
 */
export function parseUuid(value: string, where = 'uuid'): string {
  const s = value.trim();
  let hex = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '-') {
      if (hex.length % 2 !== 0) throw xmlValueError(where, `malformed uuid '${value}'`);
      continue;
    }
    if (!/[0-9a-fA-F]/.test(c)) throw xmlValueError(where, `malformed uuid '${value}'`);
    hex += c.toLowerCase();
  }
  if (hex.length !== 32) throw xmlValueError(where, `malformed uuid '${value}'`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isUuid(value: string): boolean {
  try {
    parseUuid(value);
    return true;
  } catch {
    return false;
  }
}

/** A source of random bytes (tests substitute a fixed sequence). */
export type RandomBytesSource = (n: number) => Uint8Array;

const defaultRandom: RandomBytesSource = (n) => randomBytes(n);

/** A random (version 4) UUID. */
export function generateUuid(random: RandomBytesSource = defaultRandom): string {
  const b = Buffer.from(random(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- MAC addresses ----

/** Parses a MAC address (six hex octets, ':' or '-' separated); returns it lowercase with ':'. */
export function parseMac(value: string, where = 'mac address'): string {
  const parts = value.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new VirtError('XML_ERROR', `${where}: unable to parse mac address '${value}'`, { origin: 'xml' });
  }
  return parts.map((p) => p.toLowerCase().padStart(2, '0')).join(':');
}

export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** A random MAC under a prefix (QEMU's 52:54:00 unless told otherwise). */
export function generateMac(prefix = '52:54:00', random: RandomBytesSource = defaultRandom): string {
  const p = prefix.split(':');
  const rnd = random(6 - p.length);
  return [...p, ...Array.from(rnd, (x) => x.toString(16).padStart(2, '0'))].join(':');
}

// ---- CPU/ID lists ("0-3,^2,8") ----

/**
 * Parses libvirt's bitmap syntax (`0-3,^1,8`) into a sorted array, as
 * virBitmapParse does. `max` bounds the highest id.
 */
export function parseIdList(value: string, where: string, max = 65535): number[] {
  const set = new Set<number>();
  const neg = new Set<number>();
  const s = value.trim();
  if (s === '') throw xmlValueError(where, `empty id list`);
  for (const raw of s.split(',')) {
    const part = raw.trim();
    const isNeg = part.startsWith('^');
    const body = isNeg ? part.slice(1) : part;
    const m = /^([0-9]+)(?:\s*-\s*([0-9]+))?$/.exec(body);
    if (!m) throw xmlValueError(where, `invalid id list '${value}'`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > max || (isNeg && m[2] !== undefined)) throw xmlValueError(where, `invalid id list '${value}'`);
    for (let i = lo; i <= hi; i++) (isNeg ? neg : set).add(i);
  }
  for (const n of neg) set.delete(n);
  return [...set].sort((a, b) => a - b);
}

/** Formats ids as libvirt's virBitmapFormat does (`0-3,5`). */
export function formatIdList(ids: Iterable<number>): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * strtol-style integer text as libvirt's virStrToLong_* accept it: leading
 * blanks, an optional sign, digits in `base` (0 = C prefixes), nothing after.
 */
export function parseCInteger(value: string, base: 0 | 8 | 10 | 16 = 10): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(.*)$/s.exec(value);
  if (!m) return undefined;
  const neg = m[1] === '-';
  let body = m[2]!;
  let b: number = base;
  if (b === 0) {
    if (/^0[xX][0-9a-fA-F]/.test(body)) {
      b = 16;
      body = body.slice(2);
    } else if (/^0[0-7]/.test(body)) b = 8;
    else b = 10;
  } else if (b === 16 && /^0[xX][0-9a-fA-F]/.test(body)) body = body.slice(2);
  const digits = b === 16 ? /^[0-9a-fA-F]+$/ : b === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(body)) return undefined;
  let n = 0n;
  for (const ch of body) n = n * BigInt(b) + BigInt(parseInt(ch, b));
  return neg ? -n : n;
}

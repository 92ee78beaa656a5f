/**
 * IPv4/IPv6 addresses as libvirt's virSocketAddr reads and prints them:
 * parsing follows glibc's getaddrinfo(AI_NUMERICHOST) (inet_aton forms for
 * IPv4, inet_pton for IPv6), printing follows inet_ntop, so the text that
 * comes out is what libvirt writes for the same input.
 */
import { VirtError } from '../../errors.js';

export type IpFamily = 'ipv4' | 'ipv6';

/** An address: its family and its value as an unsigned integer (32 or 128 bits). */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** Address width in bits. */
export function ipFamilyBits(family: IpFamily): number {
  return family === 'ipv4' ? 32 : 128;
}

// One inet_aton component: decimal, 0x-hex or 0-octal, as glibc reads it.
function parseAtonPart(s: string): bigint | undefined {
  if (!/^[0-9]/.test(s)) return undefined;
  if (/^0[xX][0-9a-fA-F]*$/.test(s)) return s.length === 2 ? 0n : BigInt('0x' + s.slice(2));
  if (/^0[0-7]*$/.test(s)) return s.length === 1 ? 0n : BigInt('0o' + s.slice(1));
  if (/^[1-9][0-9]*$/.test(s)) return BigInt(s);
  return undefined;
}

/** IPv4 as glibc's exact inet_aton: "a.b.c.d", "a.b.c", "a.b", "a", each part decimal, hex or octal. */
function parseIpv4(s: string): bigint | undefined {
  if (s.length === 0 || s.length > 64) return undefined;
  const parts = s.split('.');
  if (parts.length > 4) return undefined;
  const nums: bigint[] = [];
  for (const p of parts) {
    const n = parseAtonPart(p);
    if (n === undefined || n > 0xffffffffn) return undefined;
    nums.push(n);
  }
  const last = nums.pop()!;
  for (const n of nums) if (n > 0xffn) return undefined;
  const lastBits = BigInt(8 * (4 - nums.length));
  if (last >= 1n << lastBits) return undefined;
  let v = 0n;
  for (const n of nums) v = (v << 8n) | n;
  return (v << lastBits) | last;
}

/** Strict dotted quad, as inet_pton reads the IPv4 tail of an IPv6 address. */
function parseDottedQuad(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const p = m[i]!;
    if (p.length > 1 && p[0] === '0') return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

/** IPv6 as glibc's inet_pton. */
function parseIpv6(s: string): bigint | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (part: string, allowV4Tail: boolean): number[] | undefined => {
    if (part === '') return [];
    const items = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (allowV4Tail && i === items.length - 1 && it.includes('.')) {
        const v4 = parseDottedQuad(it);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s, true);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/** Parses an address, or returns undefined. `family` restricts the accepted family. */
export function tryParseIpAddress(text: string, family?: IpFamily): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (family !== 'ipv6' && !text.includes(':')) {
    const v = parseIpv4(text);
    if (v !== undefined) return { family: 'ipv4', value: v };
  }
  if (family !== 'ipv4' && text.includes(':')) {
    const v = parseIpv6(text);
    if (v !== undefined) return { family: 'ipv6', value: v };
  }
  return undefined;
}

/** Parses an address or throws XML_ERROR naming `where`. */
export function parseIpAddress(text: string, where: string, family?: IpFamily): IpAddress {
  const a = tryParseIpAddress(text, family);
  if (!a) {
    const kind = family === 'ipv4' ? 'IPv4 address' : family === 'ipv6' ? 'IPv6 address' : 'IP address';
    throw new VirtError('XML_ERROR', `${where}: invalid ${kind} '${text}'`, { origin: 'network' });
  }
  return a;
}

/** Prints an address as inet_ntop does (IPv6: longest zero run of two or more groups as "::"). */
export function formatIpAddress(a: IpAddress): string {
  if (a.family === 'ipv4') {
    const v = Number(a.value);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((a.value >> BigInt(16 * i)) & 0xffffn));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase >= 0) {
      if (bestBase < 0 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && (bestBase < 0 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase >= 0 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) tails.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIpAddress({ family: 'ipv4', value: a.value & 0xffffffffn });
      break;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Parses and prints back in canonical form (what libvirt stores and formats). */
export function canonicalIpAddress(text: string, where: string, family?: IpFamily): string {
  return formatIpAddress(parseIpAddress(text, where, family));
}

export function ipAddressEquals(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

/** The family of a textual address, or undefined when it is not one. */
export function ipAddressFamily(text: string): IpFamily | undefined {
  return tryParseIpAddress(text)?.family;
}

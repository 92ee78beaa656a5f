/**
 * Subnet arithmetic on IpAddress values, with libvirt's semantics
 * (virsocketaddr.c): prefix/netmask conversion, masking, the classful
 * default prefix, DHCP range sizes and their checks, PTR domains.
 */
import { VirtError } from '../../errors.js';
import { formatIpAddress, ipFamilyBits, type IpAddress, type IpFamily } from './address.js';

function allOnes(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** The netmask of `prefix` bits, or undefined when the prefix is too long for the family. */
export function ipPrefixToNetmask(prefix: number, family: IpFamily): IpAddress | undefined {
  const bits = ipFamilyBits(family);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  return { family, value: allOnes(bits) ^ allOnes(bits - prefix) };
}

/** The number of leading one bits of a netmask, or -1 when the ones are not contiguous. */
export function ipNetmaskToPrefix(mask: IpAddress): number {
  const bits = ipFamilyBits(mask.family);
  let n = 0;
  while (n < bits && ((mask.value >> BigInt(bits - 1 - n)) & 1n) === 1n) n++;
  const rest = mask.value & allOnes(bits - n);
  return rest === 0n ? n : -1;
}

/** The network address: host bits cleared. */
export function ipMaskByPrefix(a: IpAddress, prefix: number): IpAddress {
  const mask = ipPrefixToNetmask(prefix, a.family);
  if (!mask) throw new VirtError('INVALID_ARG', `invalid prefix ${prefix} for ${a.family} address ${formatIpAddress(a)}`);
  return { family: a.family, value: a.value & mask.value };
}

/** The IPv4 broadcast address of a.b.c.d/prefix. */
export function ipBroadcast(a: IpAddress, prefix: number): IpAddress {
  const bits = ipFamilyBits(a.family);
  const net = ipMaskByPrefix(a, prefix);
  return { family: a.family, value: net.value | allOnes(bits - prefix) };
}

/** Whether `addr` lies in network/prefix (families must match). */
export function ipInSubnet(addr: IpAddress, network: IpAddress, prefix: number): boolean {
  if (addr.family !== network.family) return false;
  return ipMaskByPrefix(addr, prefix).value === ipMaskByPrefix(network, prefix).value;
}

/** Whether two subnets share at least one address. */
export function ipSubnetsOverlap(a: IpAddress, prefixA: number, b: IpAddress, prefixB: number): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(prefixA, prefixB);
  return ipMaskByPrefix(a, p).value === ipMaskByPrefix(b, p).value;
}

/**
 * The prefix of an <ip> as libvirt's virSocketAddrGetIPPrefix works it out:
 * an explicit prefix (> 0), else the netmask's, else the classful default
 * for IPv4 (A/8, B/16, C/24, -1 beyond) and 64 for IPv6.
 */
export function ipEffectivePrefix(address: IpAddress | undefined, netmask?: IpAddress, prefix?: number): number {
  if (prefix !== undefined && prefix > 0) return prefix;
  if (netmask) return ipNetmaskToPrefix(netmask);
  if (address?.family === 'ipv4') {
    if (address.value === 0n) return 0;
    const octet = Number(address.value >> 24n);
    if ((octet & 0x80) === 0) return 8;
    if ((octet & 0xc0) === 0x80) return 16;
    if ((octet & 0xe0) === 0xc0) return 24;
    return -1;
  }
  if (address?.family === 'ipv6') return address.value === 0n ? 0 : 64;
  return 0;
}

/** RFC1918 / RFC4193 (and deprecated site-local fec0::/10) private space. */
export function ipIsPrivate(a: IpAddress): boolean {
  if (a.family === 'ipv4') {
    const v = a.value;
    return (v & 0xffff0000n) === 0xc0a80000n || (v & 0xfff00000n) === 0xac100000n || (v & 0xff000000n) === 0x0a000000n;
  }
  const top = Number(a.value >> 112n);
  return (top & 0xfe00) === 0xfc00 || (top & 0xffc0) === 0xfec0;
}

function rangeError(message: string): VirtError {
  return new VirtError('XML_ERROR', message, { origin: 'network' });
}

/**
 * Number of addresses in start..end, with libvirt's virSocketAddrGetRange
 * checks: same family; when `network`/`prefix` are given both ends lie in
 * the subnet and (IPv4) are neither the network nor the broadcast address;
 * at most 65535 wide (only the last 16 bits may differ); not reversed.
 * Throws XML_ERROR saying which check failed; `what` prefixes the message.
 */
export function ipRangeSize(start: IpAddress, end: IpAddress, network?: IpAddress, prefix?: number, what = 'range'): number {
  const s = formatIpAddress(start);
  const e = formatIpAddress(end);
  if (start.family !== end.family) throw rangeError(`${what}: mismatch of address family in range ${s} - ${e}`);
  if (network) {
    const n = formatIpAddress(network);
    if (network.family !== start.family) {
      throw rangeError(`${what}: mismatch of address family in range ${s} - ${e} for network ${n}`);
    }
    const p = prefix ?? -1;
    if (p < 0 || p > ipFamilyBits(network.family)) {
      throw rangeError(`${what}: bad prefix ${p} for network ${n} when checking range ${s} - ${e}`);
    }
    if (!ipInSubnet(start, network, p) || !ipInSubnet(end, network, p)) {
      throw rangeError(`${what}: range ${s} - ${e} is not entirely within network ${n}/${p}`);
    }
    if (start.family === 'ipv4') {
      if (start.value === ipMaskByPrefix(network, p).value) {
        throw rangeError(`${what}: start of range ${s} - ${e} in network ${n}/${p} is the network address`);
      }
      if (end.value === ipBroadcast(network, p).value) {
        throw rangeError(`${what}: end of range ${s} - ${e} in network ${n}/${p} is the broadcast address`);
      }
    }
  }
  // libvirt's legacy limit: everything but the last 16 bits must be equal.
  if (start.value >> 16n !== end.value >> 16n) throw rangeError(`${what}: range ${s} - ${e} is too large (> 65535)`);
  const size = Number((end.value & 0xffffn) - (start.value & 0xffffn));
  if (size < 0) throw rangeError(`${what}: range ${s} - ${e} is reversed`);
  return size + 1;
}

/**
 * The reverse-DNS zone of address/prefix (as virSocketAddrPTRDomain), or
 * undefined when the prefix does not fall on an octet (IPv4) or nibble
 * (IPv6) boundary, or is 0 or the full width.
 */
export function ipPtrDomain(a: IpAddress, prefix: number): string | undefined {
  const bits = ipFamilyBits(a.family);
  const step = a.family === 'ipv4' ? 8 : 4;
  if (prefix <= 0 || prefix >= bits || prefix % step !== 0) return undefined;
  const parts: string[] = [];
  for (let i = prefix / step; i > 0; i--) {
    const shift = BigInt(bits - i * step);
    const v = Number((a.value >> shift) & BigInt((1 << step) - 1));
    parts.push(a.family === 'ipv4' ? String(v) : v.toString(16));
  }
  return parts.join('.') + (a.family === 'ipv4' ? '.in-addr.arpa' : '.ip6.arpa');
}

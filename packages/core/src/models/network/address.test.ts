import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { canonicalIpAddress, formatIpAddress, ipAddressFamily, parseIpAddress, tryParseIpAddress } from './address.js';
import {
  ipBroadcast,
  ipEffectivePrefix,
  ipInSubnet,
  ipIsPrivate,
  ipMaskByPrefix,
  ipNetmaskToPrefix,
  ipPrefixToNetmask,
  ipPtrDomain,
  ipRangeSize,
  ipSubnetsOverlap,
} from './subnet.js';

const ip = (s: string) => parseIpAddress(s, 'test');
const fmt = (s: string) => canonicalIpAddress(s, 'test');

describe('IP address parsing and printing', () => {
  it('reads dotted quads and the inet_aton short forms getaddrinfo accepts', () => {
    expect(fmt('192.168.122.1')).toBe('192.168.122.1');
    expect(fmt('10.1')).toBe('10.0.0.1');
    expect(fmt('127.1.2')).toBe('127.1.0.2');
    expect(fmt('0x7f.1')).toBe('127.0.0.1');
    expect(fmt('010.0.0.1')).toBe('8.0.0.1');
    expect(fmt('3232266753')).toBe('192.168.122.1');
  });

  it('refuses malformed IPv4', () => {
    for (const bad of ['', '1.2.3.4.5', '256.1.1.1', '1.2.3.256', '1..2', '08.1.1.1', '1.2.3.4 ', ' 1.2.3.4', 'a.b.c.d', '1.2.65536']) {
      expect(tryParseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('prints IPv6 as inet_ntop does', () => {
    expect(fmt('2001:DB8:AC10:FD01:0:0:0:1')).toBe('2001:db8:ac10:fd01::1');
    expect(fmt('2001:db8:0:1:0:0:0:0')).toBe('2001:db8:0:1::');
    expect(fmt('0:0:0:0:0:0:0:0')).toBe('::');
    expect(fmt('::1')).toBe('::1');
    // A single zero group is not compressed; the first of equal runs is.
    expect(fmt('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(fmt('1:0:0:2:0:0:3:4')).toBe('1::2:0:0:3:4');
    expect(fmt('fd8f:1391:3a82:150::c0a8:9603')).toBe('fd8f:1391:3a82:150::c0a8:9603');
    expect(fmt('::ffff:192.168.1.1')).toBe('::ffff:192.168.1.1');
    expect(fmt('::192.168.1.1')).toBe('::192.168.1.1');
    expect(fmt('64:ff9b::1.2.3.4')).toBe('64:ff9b::102:304');
  });

  it('refuses malformed IPv6', () => {
    for (const bad of [':', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', ':1:2:3:4:5:6:7', 'fe80::1%eth0', '::ffff:1.2.3', '::1.2.3.04', 'g::1']) {
      expect(tryParseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('restricts to a family when asked, and names the place in errors', () => {
    expect(tryParseIpAddress('::1', 'ipv4')).toBeUndefined();
    expect(tryParseIpAddress('1.2.3.4', 'ipv6')).toBeUndefined();
    expect(ipAddressFamily('1.2.3.4')).toBe('ipv4');
    expect(ipAddressFamily('::')).toBe('ipv6');
    try {
      parseIpAddress('300.1.1.1', "network 'x'");
      expect.unreachable();
    } catch (e) {
      expect(VirtError.is(e, 'XML_ERROR')).toBe(true);
      expect((e as Error).message).toContain("network 'x'");
    }
  });
});

describe('subnet arithmetic', () => {
  it('converts prefixes and netmasks both ways', () => {
    expect(formatIpAddress(ipPrefixToNetmask(24, 'ipv4')!)).toBe('255.255.255.0');
    expect(formatIpAddress(ipPrefixToNetmask(0, 'ipv4')!)).toBe('0.0.0.0');
    expect(formatIpAddress(ipPrefixToNetmask(64, 'ipv6')!)).toBe('ffff:ffff:ffff:ffff::');
    expect(ipPrefixToNetmask(33, 'ipv4')).toBeUndefined();
    expect(ipNetmaskToPrefix(ip('255.255.254.0'))).toBe(23);
    expect(ipNetmaskToPrefix(ip('255.0.255.0'))).toBe(-1);
    expect(ipNetmaskToPrefix(ip('ffff:ffff:ffff:ff00::'))).toBe(56);
  });

  it('masks, broadcasts and tests membership', () => {
    expect(formatIpAddress(ipMaskByPrefix(ip('192.168.122.77'), 24))).toBe('192.168.122.0');
    expect(formatIpAddress(ipBroadcast(ip('192.168.122.77'), 24))).toBe('192.168.122.255');
    expect(ipInSubnet(ip('192.168.122.200'), ip('192.168.122.1'), 24)).toBe(true);
    expect(ipInSubnet(ip('192.168.123.1'), ip('192.168.122.1'), 24)).toBe(false);
    expect(ipInSubnet(ip('2001:db8::5'), ip('2001:db8::1'), 64)).toBe(true);
    expect(ipInSubnet(ip('::1'), ip('0.0.0.1'), 0)).toBe(false);
    expect(ipSubnetsOverlap(ip('10.0.0.0'), 8, ip('10.1.2.0'), 24)).toBe(true);
    expect(ipSubnetsOverlap(ip('10.0.0.0'), 16, ip('10.1.2.0'), 24)).toBe(false);
  });

  it('works out the effective prefix as libvirt (explicit, netmask, classful, 64)', () => {
    expect(ipEffectivePrefix(ip('10.24.10.1'))).toBe(8);
    expect(ipEffectivePrefix(ip('172.16.0.1'))).toBe(16);
    expect(ipEffectivePrefix(ip('192.168.1.1'))).toBe(24);
    expect(ipEffectivePrefix(ip('224.0.0.1'))).toBe(-1);
    expect(ipEffectivePrefix(ip('192.168.1.1'), ip('255.255.0.0'))).toBe(16);
    expect(ipEffectivePrefix(ip('192.168.1.1'), undefined, 20)).toBe(20);
    expect(ipEffectivePrefix(ip('2001:db8::1'))).toBe(64);
  });

  it('sizes DHCP ranges and rejects the ones libvirt rejects', () => {
    expect(ipRangeSize(ip('192.168.122.2'), ip('192.168.122.254'), ip('192.168.122.1'), 24)).toBe(253);
    expect(ipRangeSize(ip('2001:db8::1:10'), ip('2001:db8::1:ff'), ip('2001:db8::1'), 64)).toBe(240);
    expect(ipRangeSize(ip('10.0.0.5'), ip('10.0.0.5'))).toBe(1);
    const bad: Array<[string, string, string?, number?, RegExp?]> = [
      ['192.168.122.10', '192.168.122.2', undefined, undefined, /reversed/],
      ['10.0.0.1', '10.1.0.1', undefined, undefined, /too large/],
      ['192.168.123.2', '192.168.123.9', '192.168.122.1', 24, /not entirely within/],
      ['192.168.122.0', '192.168.122.9', '192.168.122.1', 24, /network address/],
      ['192.168.122.2', '192.168.122.255', '192.168.122.1', 24, /broadcast address/],
      ['192.168.122.2', '2001:db8::2', undefined, undefined, /family/],
      ['192.168.122.2', '192.168.122.9', '192.168.122.1', -1, /bad prefix/],
    ];
    for (const [s, e, n, p, re] of bad) {
      expect(() => ipRangeSize(ip(s), ip(e), n ? ip(n) : undefined, p), `${s}-${e}`).toThrow(re);
    }
  });

  it('builds PTR zones on octet/nibble boundaries only', () => {
    expect(ipPtrDomain(ip('192.168.122.1'), 24)).toBe('122.168.192.in-addr.arpa');
    expect(ipPtrDomain(ip('10.1.2.3'), 8)).toBe('10.in-addr.arpa');
    expect(ipPtrDomain(ip('2001:db8:ac10:fe01::1'), 64)).toBe('1.0.e.f.0.1.c.a.8.b.d.0.1.0.0.2.ip6.arpa');
    expect(ipPtrDomain(ip('192.168.122.1'), 23)).toBeUndefined();
    expect(ipPtrDomain(ip('192.168.122.1'), 32)).toBeUndefined();
  });

  it('knows private address space', () => {
    for (const p of ['10.1.2.3', '172.31.0.1', '192.168.0.1', 'fd00::1', 'fec0::1']) expect(ipIsPrivate(ip(p)), p).toBe(true);
    for (const p of ['8.8.8.8', '172.32.0.1', '2001:db8::1']) expect(ipIsPrivate(ip(p)), p).toBe(false);
  });
});

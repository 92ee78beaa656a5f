/** <ip> with its <tftp> and <dhcp> (virNetworkIPDefParseXML / virNetworkIPDefFormat). */
import { keepUnknown } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseMac, isMulticastMac, parseYesNo } from '../../xml/values.js';
import { formatIpAddress, tryParseIpAddress, type IpAddress } from './address.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';
import { ipEffectivePrefix, ipRangeSize } from './subnet.js';
import type { NetworkDhcpHost, NetworkDhcpLease, NetworkDhcpLeaseUnit, NetworkDhcpRange, NetworkIpDef } from './types.js';

const LEASE_UNITS: readonly NetworkDhcpLeaseUnit[] = ['seconds', 'minutes', 'hours'];

/** The parsed address of an <ip> (the model keeps text; this is for arithmetic). */
export function networkIpAddress(ip: NetworkIpDef): IpAddress | undefined {
  return tryParseIpAddress(ip.address);
}

/** The prefix of an <ip>: explicit, from the netmask, or the classful default (virNetworkIPDefPrefix). */
export function networkIpPrefix(ip: NetworkIpDef): number {
  const nm = ip.netmask !== undefined ? tryParseIpAddress(ip.netmask) : undefined;
  return ipEffectivePrefix(networkIpAddress(ip), nm, ip.prefix);
}

function parseLease(el: XmlElement | undefined, where: string): NetworkDhcpLease | undefined {
  if (!el) return undefined;
  const expiryText = el.attr('expiry');
  if (expiryText === undefined) return undefined;
  const expiry = parseCUnsigned(expiryText, 0);
  if (expiry === undefined || expiry > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw netError('XML_ERROR', where, `invalid value '${expiryText}' of attribute 'expiry' of <lease>`);
  }
  const unitText = el.attr('unit');
  let unit: NetworkDhcpLeaseUnit = 'minutes';
  if (unitText !== undefined) {
    if (!(LEASE_UNITS as readonly string[]).includes(unitText)) {
      throw netError('XML_ERROR', where, `invalid value '${unitText}' of attribute 'unit' of <lease> (expected seconds, minutes or hours)`);
    }
    unit = unitText as NetworkDhcpLeaseUnit;
  }
  // dnsmasq's minimum lease is two minutes; 0 means infinite.
  if (expiry > 0n && ((unit === 'seconds' && expiry < 120n) || (unit === 'minutes' && expiry < 2n))) {
    throw netError('CONFIG_UNSUPPORTED', where, 'The minimum lease time should be greater than 2 minutes');
  }
  return { expiry: Number(expiry), unit };
}

function parseRange(el: XmlElement, address: IpAddress, prefix: number, where: string): NetworkDhcpRange {
  const startText = el.attr('start');
  if (startText === undefined) throw netError('XML_ERROR', where, "Missing 'start' attribute in dhcp range");
  const start = tryParseIpAddress(startText);
  if (!start) throw netError('XML_ERROR', where, `Invalid dhcp range start address '${startText}'`);
  const endText = el.attr('end');
  if (endText === undefined) throw netError('XML_ERROR', where, "Missing 'end' attribute in dhcp range");
  const end = tryParseIpAddress(endText);
  if (!end) throw netError('XML_ERROR', where, `Invalid dhcp range end address '${endText}'`);
  ipRangeSize(start, end, address, prefix, where);
  const range: NetworkDhcpRange = { start: formatIpAddress(start), end: formatIpAddress(end) };
  const lease = parseLease(el.child('lease'), where);
  if (lease) range.lease = lease;
  return range;
}

function parseHost(el: XmlElement, address: IpAddress, where: string, partial = false): NetworkDhcpHost {
  const host: NetworkDhcpHost = {};
  const mac = el.attr('mac');
  if (mac !== undefined) {
    if (address.family === 'ipv6') {
      throw netError('XML_ERROR', where, `Invalid to specify MAC address '${mac}' in IPv6 static host definition`);
    }
    let norm: string;
    try {
      norm = parseMac(mac);
    } catch {
      throw netError('XML_ERROR', where, `Cannot parse MAC address '${mac}'`);
    }
    if (isMulticastMac(norm)) throw netError('XML_ERROR', where, `expected unicast mac address, found multicast '${mac}'`);
    host.mac = mac;
  }
  const id = el.attr('id');
  if (id !== undefined) {
    const bad = /[^0-9a-fA-F:]/.exec(id);
    if (bad) throw netError('XML_ERROR', where, `Invalid character '${bad[0]}' in id '${id}'`);
    host.id = id;
  }
  const name = el.attr('name');
  if (name !== undefined) {
    if (!/^[A-Za-z0-9]/.test(name)) throw netError('XML_ERROR', where, `Cannot use host name '${name}'`);
    host.name = name;
  }
  const ipText = el.attr('ip');
  if (ipText !== undefined) {
    const ip = tryParseIpAddress(ipText);
    if (!ip) throw netError('XML_ERROR', where, `Invalid IP address '${ipText}' in static host definition`);
    host.ip = formatIpAddress(ip);
  }
  if (partial) {
    // net-update delete: any one of the three identifies the entry.
    if (mac === undefined && name === undefined && ipText === undefined) {
      throw netError('XML_ERROR', where, 'At least one of name, mac, or ip attribute must be specified for static host definition');
    }
  } else {
    if (address.family === 'ipv6') {
      if (id === undefined && name === undefined) {
        throw netError('XML_ERROR', where, 'Static host definition in IPv6 network must have id or name attribute');
      }
    } else if (mac === undefined && name === undefined) {
      throw netError('XML_ERROR', where, 'Static host definition in IPv4 network must have mac or name attribute');
    }
    if (ipText === undefined) throw netError('XML_ERROR', where, 'Missing IP address in static host definition');
  }
  const lease = parseLease(el.child('lease'), where);
  if (lease) host.lease = lease;
  return host;
}

/** One <range> of an <ip>'s <dhcp> (for net-update). */
export function parseNetworkDhcpRange(el: XmlElement, address: IpAddress, prefix: number, where: string): NetworkDhcpRange {
  return parseRange(el, address, prefix, where);
}

/** One <host> of an <ip>'s <dhcp>; `partial` accepts any one of mac/name/ip (net-update delete). */
export function parseNetworkDhcpHost(el: XmlElement, address: IpAddress, where: string, opts: { partial?: boolean } = {}): NetworkDhcpHost {
  return parseHost(el, address, where, !!opts.partial);
}

export function parseNetworkIp(el: XmlElement, where: string): NetworkIpDef {
  const familyText = el.attr('family');
  const addressText = el.attr('address');
  if (addressText === undefined) throw netError('XML_ERROR', where, 'Missing required address attribute in <ip>');
  const address = tryParseIpAddress(addressText);
  if (!address) throw netError('XML_ERROR', where, `Invalid address '${addressText}' in <ip>`);
  const netmaskText = el.attr('netmask');
  let netmask: IpAddress | undefined;
  if (netmaskText !== undefined) {
    netmask = tryParseIpAddress(netmaskText);
    if (!netmask) throw netError('XML_ERROR', where, `Invalid netmask '${netmaskText}'`);
  }
  let prefix: number | undefined;
  const prefixText = el.attr('prefix');
  if (prefixText !== undefined) {
    const p = parseCUnsigned(prefixText);
    if (p === undefined || p > 0xffffffffn) throw netError('XML_ERROR', where, `Invalid prefix '${prefixText}' in <ip>`);
    prefix = Number(p);
  }
  const ip: NetworkIpDef = { address: formatIpAddress(address), ranges: [], hosts: [] };
  const localPtr = el.attr('localPtr');
  if (localPtr !== undefined) ip.localPtr = parseYesNo(localPtr, `${where}: attribute 'localPtr' of <ip>`);

  if (familyText === undefined || familyText === 'ipv4') {
    if (address.family !== 'ipv4') {
      throw netError('CONFIG_UNSUPPORTED', where, `${familyText ?? 'no'} family specified for non-IPv4 address '${addressText}'`);
    }
    if (netmask) {
      if (netmask.family !== 'ipv4') {
        throw netError('CONFIG_UNSUPPORTED', where, `Invalid netmask '${netmaskText}' for address '${addressText}' (both must be IPv4)`);
      }
      if (prefix !== undefined && prefix > 0) throw netError('CONFIG_UNSUPPORTED', where, 'IP address cannot have both a prefix and a netmask');
    } else if (prefix !== undefined && prefix > 32) {
      throw netError('CONFIG_UNSUPPORTED', where, `Invalid IPv4 prefix '${prefix}'`);
    }
  } else if (familyText === 'ipv6') {
    if (address.family !== 'ipv6') {
      throw netError('CONFIG_UNSUPPORTED', where, `Family 'ipv6' specified for non-IPv6 address '${addressText}'`);
    }
    if (netmask) throw netError('CONFIG_UNSUPPORTED', where, `netmask not allowed for IPv6 address '${addressText}'`);
    if (prefix !== undefined && prefix > 128) throw netError('CONFIG_UNSUPPORTED', where, `Invalid IPv6 prefix '${prefix}'`);
  } else {
    throw netError('XML_ERROR', where, `Unrecognized family '${familyText}'`);
  }
  if (familyText !== undefined) ip.family = familyText;
  if (netmask) ip.netmask = formatIpAddress(netmask);
  if (prefix !== undefined) ip.prefix = prefix;

  const dhcp = el.child('dhcp');
  if (dhcp) {
    const effPrefix = ipEffectivePrefix(address, netmask, prefix);
    for (const r of dhcp.elements('range')) ip.ranges.push(parseRange(r, address, effPrefix, where));
    for (const h of dhcp.elements('host')) ip.hosts.push(parseHost(h, address, where));
    const bootp = dhcp.child('bootp');
    if (bootp && address.family === 'ipv4') {
      const file = bootp.attr('file');
      if (file === undefined) throw netError('XML_ERROR', where, "Missing required attribute 'file' in element 'bootp'");
      ip.bootp = { file };
      const server = bootp.attr('server');
      if (server !== undefined) {
        const s = tryParseIpAddress(server);
        if (!s) throw netError('XML_ERROR', where, `Invalid bootp server address '${server}'`);
        ip.bootp.server = formatIpAddress(s);
      }
    }
    const dk = keepUnknown(dhcp, [], ['range', 'host', 'bootp']);
    if (dk) ip.dhcpKept = dk;
  }
  const tftp = el.child('tftp');
  if (tftp) {
    if (address.family !== 'ipv4') throw netError('CONFIG_UNSUPPORTED', where, 'Unsupported <tftp> element in an IPv6 element');
    const root = tftp.attr('root');
    if (root !== undefined) ip.tftpRoot = root;
  }
  const kept = keepUnknown(el, ['family', 'address', 'netmask', 'prefix', 'localPtr'], ['dhcp', 'tftp']);
  if (kept) ip.kept = kept;
  return ip;
}

function writeLease(w: XmlWriter, lease: NetworkDhcpLease): void {
  if (!lease.expiry) w.empty('lease', [['expiry', 0]]);
  else w.empty('lease', [['expiry', lease.expiry], ['unit', lease.unit]]);
}

export function writeNetworkIp(w: XmlWriter, ip: NetworkIpDef): void {
  // libvirt always writes <ip …> and </ip> on their own lines, even when empty.
  w.open('ip', [
    ['family', ip.family],
    ['address', ip.address],
    ['netmask', ip.netmask],
    ['prefix', ip.prefix ? ip.prefix : undefined],
    ['localPtr', ip.localPtr === undefined ? undefined : ip.localPtr ? 'yes' : 'no'],
    ...(ip.kept?.attrs ?? []),
  ]);
  if (ip.tftpRoot !== undefined) w.empty('tftp', [['root', ip.tftpRoot]]);
  if (ip.ranges.length || ip.hosts.length) {
    w.open('dhcp', ip.dhcpKept?.attrs);
    for (const r of ip.ranges) {
      const lease = r.lease;
      w.element('range', [['start', r.start], ['end', r.end]], lease ? (c) => writeLease(c, lease) : undefined, true);
    }
    for (const h of ip.hosts) {
      const lease = h.lease;
      w.element(
        'host',
        [['mac', h.mac], ['id', h.id], ['name', h.name], ['ip', h.ip]],
        lease ? (c) => writeLease(c, lease) : undefined,
        true,
      );
    }
    if (ip.bootp) w.empty('bootp', [['file', ip.bootp.file], ['server', ip.bootp.server]]);
    if (ip.dhcpKept?.children) for (const c of ip.dhcpKept.children) w.node(c);
    w.close('dhcp');
  }
  if (ip.kept?.children) for (const c of ip.kept.children) w.node(c);
  w.close('ip');
}

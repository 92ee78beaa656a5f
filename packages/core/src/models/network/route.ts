/** Static routes (<route>, libvirt's networkcommon_conf.c). */
import { keepUnknown, type KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { formatIpAddress, tryParseIpAddress, type IpFamily } from './address.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';
import { ipMaskByPrefix } from './subnet.js';

export interface NetworkRoute {
  family?: IpFamily;
  /** Destination network address (host bits must be zero). */
  address: string;
  netmask?: string;
  prefix?: number;
  gateway: string;
  metric?: number;
  kept?: KeptXml;
}

const ROUTE_ATTRS = ['family', 'address', 'netmask', 'prefix', 'gateway', 'metric'];

export function parseNetworkRoute(el: XmlElement, where: string): NetworkRoute {
  const familyText = el.attr('family');
  const addressText = el.attr('address');
  const netmaskText = el.attr('netmask');
  const gatewayText = el.attr('gateway');
  const prefixText = el.attr('prefix');
  const metricText = el.attr('metric');
  let prefix: number | undefined;
  if (prefixText !== undefined) {
    const p = parseCUnsigned(prefixText);
    if (p === undefined || p > 0xffffffffn) throw netError('XML_ERROR', where, 'Invalid prefix specified in route definition');
    prefix = Number(p);
  }
  let metric: number | undefined;
  if (metricText !== undefined) {
    const m = parseCUnsigned(metricText);
    if (m === undefined || m > 0xffffffffn) throw netError('XML_ERROR', where, 'Invalid metric specified in route definition');
    if (m === 0n) throw netError('XML_ERROR', where, 'Invalid metric value, must be > 0 in route definition');
    metric = Number(m);
  }
  if (addressText === undefined) throw netError('XML_ERROR', where, 'Missing required address attribute in route definition');
  if (gatewayText === undefined) throw netError('XML_ERROR', where, 'Missing required gateway attribute in route definition');
  const address = tryParseIpAddress(addressText);
  if (!address) throw netError('XML_ERROR', where, `Bad network address '${addressText}' in route definition`);
  const gateway = tryParseIpAddress(gatewayText);
  if (!gateway) throw netError('XML_ERROR', where, `Bad gateway address '${gatewayText}' in route definition`);
  let family: IpFamily | undefined;
  let netmask: ReturnType<typeof tryParseIpAddress>;
  if (familyText === undefined || familyText === 'ipv4') {
    const label = familyText === undefined ? 'No family specified for' : 'IPv4 family specified for';
    if (address.family !== 'ipv4') throw netError('XML_ERROR', where, `${label} non-IPv4 address '${addressText}' in route definition`);
    if (gateway.family !== 'ipv4') throw netError('XML_ERROR', where, `${label} non-IPv4 gateway '${gatewayText}' in route definition`);
    if (netmaskText !== undefined) {
      netmask = tryParseIpAddress(netmaskText);
      if (!netmask) throw netError('XML_ERROR', where, `Bad netmask address '${netmaskText}' in route definition`);
      if (netmask.family !== 'ipv4') {
        throw netError('XML_ERROR', where, `Invalid netmask '${netmaskText}' for address '${addressText}' (both must be IPv4)`);
      }
      if (prefix !== undefined) throw netError('XML_ERROR', where, 'Route definition cannot have both a prefix and a netmask');
    }
    if ((prefix ?? 0) > 32) throw netError('XML_ERROR', where, `Invalid prefix ${prefix} specified in route definition, must be 0 - 32`);
    if (familyText) family = 'ipv4';
  } else if (familyText === 'ipv6') {
    if (address.family !== 'ipv6') throw netError('XML_ERROR', where, `ipv6 family specified for non-IPv6 address '${addressText}' in route definition`);
    if (netmaskText !== undefined) {
      throw netError('XML_ERROR', where, `Specifying netmask invalid for IPv6 address '${addressText}' in route definition`);
    }
    if (gateway.family !== 'ipv6') throw netError('XML_ERROR', where, `ipv6 specified for non-IPv6 gateway address '${gatewayText}' in route definition`);
    if ((prefix ?? 0) > 128) throw netError('XML_ERROR', where, `Invalid prefix ${prefix} specified in route definition, must be 0 - 128`);
    family = 'ipv6';
  } else {
    throw netError('XML_ERROR', where, `Unrecognized family '${familyText}' in route definition`);
  }
  // The destination must be a network address.
  const masked = netmask ? { family: address.family, value: address.value & netmask.value } : ipMaskByPrefix(address, prefix ?? 0);
  if (masked.value !== address.value) {
    throw netError('XML_ERROR', where, `Address '${addressText}' in route definition is not a network address`);
  }
  const route: NetworkRoute = { address: formatIpAddress(address), gateway: formatIpAddress(gateway) };
  if (family) route.family = family;
  if (netmask) route.netmask = formatIpAddress(netmask);
  if (prefix !== undefined) route.prefix = prefix;
  if (metric !== undefined) route.metric = metric;
  const kept = keepUnknown(el, ROUTE_ATTRS, []);
  if (kept) route.kept = kept;
  return route;
}

export function writeNetworkRoute(w: XmlWriter, r: NetworkRoute): void {
  const attrs: Array<[string, string | number | undefined]> = [
    ['family', r.family],
    ['address', r.address],
    ['netmask', r.netmask],
    ['prefix', r.prefix],
    ['gateway', r.gateway],
    ['metric', r.metric],
  ];
  w.element('route', r.kept?.attrs ? [...attrs, ...r.kept.attrs] : attrs, r.kept?.children ? (c) => r.kept!.children!.forEach((k) => c.node(k)) : undefined, true);
}

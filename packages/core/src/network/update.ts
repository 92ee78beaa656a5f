/**
 * net-update on a NetworkDef: libvirt's virNetworkDefUpdateSection
 * (network_conf.c) — add/delete/modify DHCP hosts, add/delete DHCP ranges,
 * DNS host/SRV/TXT records, forward interfaces and portgroups; the
 * bridge, domain, ip, forward and forward-pf sections cannot be updated.
 * Pure: changes the definition it is given, touches nothing on the host.
 */
import type { NetworkUpdateCommand, NetworkUpdateSection } from '../driver.js';
import { VirtError, type ErrorCode } from '../errors.js';
import { ipAddressEquals, tryParseIpAddress, type IpFamily } from '../models/network/address.js';
import { parseNetworkDnsHost, parseNetworkDnsSrv, parseNetworkDnsTxt } from '../models/network/dns.js';
import { networkIpPrefix, parseNetworkDhcpHost, parseNetworkDhcpRange } from '../models/network/ip.js';
import { parseNetworkPortGroup } from '../models/network/portgroup.js';
import type { NetworkDef, NetworkDhcpHost, NetworkDns, NetworkIpDef } from '../models/network/types.js';
import { parseXml } from '../xml/parse.js';
import type { XmlElement } from '../xml/tree.js';
import { parseMac } from '../xml/values.js';

export const NETWORK_UPDATE_COMMANDS: readonly NetworkUpdateCommand[] = ['add-last', 'add-first', 'delete', 'modify'];
export const NETWORK_UPDATE_SECTIONS: readonly NetworkUpdateSection[] = [
  'bridge', 'domain', 'ip', 'ip-dhcp-host', 'ip-dhcp-range', 'forward', 'forward-interface',
  'forward-pf', 'portgroup', 'dns-host', 'dns-txt', 'dns-srv',
];

function fail(code: ErrorCode, def: NetworkDef, message: string): never {
  throw new VirtError(code, `network '${def.name}': ${message}`, { origin: 'network' });
}

function familyOf(ip: NetworkIpDef): IpFamily | undefined {
  return tryParseIpAddress(ip.address)?.family;
}

const hasDhcp = (ip: NetworkIpDef) => ip.ranges.length > 0 || ip.hosts.length > 0;

/** The <ip> whose <dhcp> a host/range update works on (virNetworkIPDefByIndex). */
function ipByIndex(def: NetworkDef, parentIndex: number | undefined, what: string): NetworkIpDef {
  if (parentIndex !== undefined && parentIndex >= 0) {
    const ip = def.ips[parentIndex];
    if (!ip) fail('OPERATION_INVALID', def, `couldn't update ${what} - no <ip> element found at index ${parentIndex}`);
    return ip;
  }
  const ip = def.ips.find(hasDhcp) ?? def.ips.find((i) => familyOf(i) === 'ipv4') ?? def.ips.find((i) => familyOf(i) === 'ipv6');
  if (!ip) fail('OPERATION_INVALID', def, `couldn't update ${what} - no <ip> element found`);
  return ip;
}

/** Only one <ip> of a family may serve DHCP. */
function checkMultiDhcp(def: NetworkDef, ipdef: NetworkIpDef): void {
  const family = familyOf(ipdef);
  for (const ip of def.ips) {
    if (ip !== ipdef && familyOf(ip) === family && hasDhcp(ip)) {
      fail('OPERATION_INVALID', def, `dhcp is supported only for a single ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address on each network`);
    }
  }
}

function expectElement(def: NetworkDef, el: XmlElement, name: string): void {
  if (el.name !== name) fail('XML_ERROR', def, `unexpected element <${el.name}>, expecting <${name}>, while updating network '${def.name}'`);
}

function insertAt<T>(list: T[], command: NetworkUpdateCommand, item: T): void {
  if (command === 'add-first') list.unshift(item);
  else list.push(item);
}

const isAdd = (c: NetworkUpdateCommand) => c === 'add-first' || c === 'add-last';

function sameMac(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  try {
    return parseMac(a) === parseMac(b);
  } catch {
    return a.toLowerCase() === b.toLowerCase();
  }
}

function sameIp(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = tryParseIpAddress(a);
  const y = tryParseIpAddress(b);
  return !!x && !!y && ipAddressEquals(x, y);
}

function updateDhcpHost(def: NetworkDef, command: NetworkUpdateCommand, el: XmlElement, parentIndex?: number): void {
  expectElement(def, el, 'host');
  const ipdef = ipByIndex(def, parentIndex, 'dhcp host entry');
  const where = `network '${def.name}'`;
  const address = tryParseIpAddress(ipdef.address)!;
  const partial = command === 'delete';
  const host = parseNetworkDhcpHost(el, address, where, { partial });
  if (!partial && tryParseIpAddress(host.ip ?? '')?.family !== address.family) {
    fail('OPERATION_INVALID', def, "the address family of a host entry IP must match the address family of the dhcp element's parent");
  }
  const describe = (h: NetworkDhcpHost) => `<host mac='${h.mac ?? 'unknown'}' name='${h.name ?? ''}' ip='${h.ip ?? 'unknown'}'/>`;
  if (command === 'modify') {
    const i = ipdef.hosts.findIndex((h) => sameMac(host.mac, h.mac) || sameIp(host.ip, h.ip) || (host.name !== undefined && host.name === h.name));
    if (i < 0) fail('OPERATION_INVALID', def, `couldn't locate an existing dhcp host entry with "mac='${host.mac ?? 'unknown'}'" "name='${host.name ?? ''}'" "ip='${host.ip ?? 'unknown'}'"`);
    ipdef.hosts[i] = host;
  } else if (isAdd(command)) {
    checkMultiDhcp(def, ipdef);
    if (ipdef.hosts.some((h) => sameMac(host.mac, h.mac) || (host.name !== undefined && host.name === h.name) || sameIp(host.ip, h.ip))) {
      fail('OPERATION_INVALID', def, `there is an existing dhcp host entry that matches "${describe(host)}"`);
    }
    insertAt(ipdef.hosts, command, host);
  } else {
    // Delete: every attribute given must match.
    const i = ipdef.hosts.findIndex(
      (h) =>
        (host.mac === undefined || h.mac === undefined || sameMac(host.mac, h.mac)) &&
        (host.name === undefined || host.name === h.name) &&
        (host.ip === undefined || sameIp(host.ip, h.ip)),
    );
    if (i < 0) fail('OPERATION_INVALID', def, "couldn't locate a matching dhcp host entry");
    ipdef.hosts.splice(i, 1);
  }
}

function updateDhcpRange(def: NetworkDef, command: NetworkUpdateCommand, el: XmlElement, parentIndex?: number): void {
  expectElement(def, el, 'range');
  const ipdef = ipByIndex(def, parentIndex, 'dhcp range entry');
  if (command === 'modify') fail('NO_SUPPORT', def, 'dhcp ranges cannot be modified, only added or deleted');
  const address = tryParseIpAddress(ipdef.address)!;
  const range = parseNetworkDhcpRange(el, address, networkIpPrefix(ipdef), `network '${def.name}'`);
  if (tryParseIpAddress(range.start)?.family !== address.family) {
    fail('OPERATION_INVALID', def, "the address family of a dhcp range must match the address family of the dhcp element's parent");
  }
  const i = ipdef.ranges.findIndex((r) => sameIp(r.start, range.start) && sameIp(r.end, range.end));
  if (isAdd(command)) {
    checkMultiDhcp(def, ipdef);
    if (i >= 0) fail('OPERATION_INVALID', def, `there is an existing dhcp range entry that matches "<range start='${range.start}' end='${range.end}'/>"`);
    insertAt(ipdef.ranges, command, range);
  } else {
    if (i < 0) fail('OPERATION_INVALID', def, "couldn't locate a matching dhcp range entry");
    ipdef.ranges.splice(i, 1);
  }
}

function updateForwardInterface(def: NetworkDef, command: NetworkUpdateCommand, el: XmlElement): void {
  expectElement(def, el, 'interface');
  if (command === 'modify') fail('NO_SUPPORT', def, 'forward interface entries cannot be modified, only added or deleted');
  const dev = el.attr('dev');
  if (dev === undefined) fail('XML_ERROR', def, 'missing dev attribute in <interface> element');
  if (!def.forward) fail('OPERATION_INVALID', def, `couldn't find an interface entry matching <interface dev='${dev}'>`);
  const list = def.forward.interfaces;
  const i = list.findIndex((f) => f.dev === dev);
  if (isAdd(command)) {
    if (i >= 0) fail('OPERATION_INVALID', def, `there is an existing interface entry that matches "<interface dev='${dev}'>"`);
    insertAt(list, command, { dev });
  } else {
    if (i < 0) fail('OPERATION_INVALID', def, `couldn't find an interface entry matching <interface dev='${dev}'>`);
    const used = list[i]!.connections ?? 0;
    if (used > 0) fail('OPERATION_INVALID', def, `unable to delete interface '${dev}'. It is currently being used by ${used} domains.`);
    list.splice(i, 1);
  }
}

function updatePortGroup(def: NetworkDef, command: NetworkUpdateCommand, el: XmlElement): void {
  expectElement(def, el, 'portgroup');
  const pg = parseNetworkPortGroup(el, `network '${def.name}'`);
  const found = def.portGroups.findIndex((p) => p.name === pg.name);
  const dflt = def.portGroups.findIndex((p) => p.isDefault);
  if (found < 0 && (command === 'modify' || command === 'delete')) {
    fail('OPERATION_INVALID', def, `couldn't find a portgroup entry matching <portgroup name='${pg.name}'>`);
  }
  if (found >= 0 && isAdd(command)) fail('OPERATION_INVALID', def, `there is an existing portgroup entry that matches "<portgroup name='${pg.name}'>"`);
  if (command !== 'delete' && pg.isDefault && dflt >= 0 && dflt !== found) {
    fail('OPERATION_INVALID', def, 'a different portgroup entry is already set as the default. Only one default is allowed.');
  }
  if (command === 'modify') def.portGroups[found] = pg;
  else if (isAdd(command)) insertAt(def.portGroups, command, pg);
  else def.portGroups.splice(found, 1);
}

function dnsOf(def: NetworkDef): NetworkDns {
  def.dns ??= { forwarders: [], txts: [], srvs: [], hosts: [] };
  return def.dns;
}

function updateDnsHost(def: NetworkDef, command: NetworkUpdateCommand, el: XmlElement): void {
  if (command === 'modify') fail('NO_SUPPORT', def, 'DNS HOST records cannot be modified, only added or deleted');
  expectElement(def, el, 'host');
  const add = isAdd(command);
  const host = parseNetworkDnsHost(el, `network '${def.name}'`, { partial: !add });
  const dns = dnsOf(def);
  // Adding checks the address only: one name on several addresses is legitimate.
  const matches = dns.hosts
    .map((h, i) => ({ h, i }))
    .filter(({ h }) => sameIp(host.ip, h.ip) || (!add && host.hostnames.some((n) => h.hostnames.includes(n))));
  if (add) {
    if (matches.length) fail('OPERATION_INVALID', def, 'there is already at least one DNS HOST record with a matching field');
    insertAt(dns.hosts, command, host);
  } else {
    if (matches.length === 0) fail('OPERATION_INVALID', def, "couldn't locate a matching DNS HOST record");
    if (matches.length > 1) fail('OPERATION_INVALID', def, 'multiple matching DNS HOST records were found');
    dns.hosts.splice(matches[0]!.i, 1);
  }
}

function updateDnsSrv(def: NetworkDef, command: NetworkUpdateCommand, el: XmlElement): void {
  if (command === 'modify') fail('NO_SUPPORT', def, 'DNS SRV records cannot be modified, only added or deleted');
  expectElement(def, el, 'srv');
  const add = isAdd(command);
  const srv = parseNetworkDnsSrv(el, `network '${def.name}'`, { partial: !add });
  const dns = dnsOf(def);
  const given = (v: string | undefined) => v !== undefined && v !== '';
  const matches = dns.srvs
    .map((s, i) => ({ s, i }))
    .filter(
      ({ s }) =>
        (!given(srv.domain) || srv.domain === s.domain) &&
        (!given(srv.service) || srv.service === s.service) &&
        (!given(srv.protocol) || srv.protocol === s.protocol) &&
        (!given(srv.target) || srv.target === s.target),
    );
  if (add) {
    if (matches.length) fail('OPERATION_INVALID', def, 'there is already at least one DNS SRV record matching all specified fields');
    insertAt(dns.srvs, command, srv);
  } else {
    if (matches.length === 0) fail('OPERATION_INVALID', def, "couldn't locate a matching DNS SRV record");
    if (matches.length > 1) fail('OPERATION_INVALID', def, 'multiple DNS SRV records matching all specified fields were found');
    dns.srvs.splice(matches[0]!.i, 1);
  }
}

function updateDnsTxt(def: NetworkDef, command: NetworkUpdateCommand, el: XmlElement): void {
  if (command === 'modify') fail('NO_SUPPORT', def, 'DNS TXT records cannot be modified, only added or deleted');
  expectElement(def, el, 'txt');
  const add = isAdd(command);
  const txt = parseNetworkDnsTxt(el, `network '${def.name}'`, { partial: !add });
  const dns = dnsOf(def);
  const i = dns.txts.findIndex((t) => t.name === txt.name);
  if (add) {
    if (i >= 0) fail('OPERATION_INVALID', def, `there is already a DNS TXT record with name '${txt.name}'`);
    insertAt(dns.txts, command, txt);
  } else {
    if (i < 0) fail('OPERATION_INVALID', def, "couldn't locate a matching DNS TXT record");
    dns.txts.splice(i, 1);
  }
}

/**
 * Applies one net-update to `def` (modified in place). Throws VirtError:
 * NO_SUPPORT for sections libvirt cannot update and commands a section
 * does not take, OPERATION_INVALID when the entry to change is missing or
 * already there, XML_ERROR / XML_DETAIL for a malformed element.
 */
export function applyNetworkUpdate(
  def: NetworkDef,
  command: NetworkUpdateCommand,
  section: NetworkUpdateSection,
  xml: string,
  parentIndex?: number,
): void {
  if (!NETWORK_UPDATE_COMMANDS.includes(command)) fail('NO_SUPPORT', def, `unrecognized network update command '${String(command)}'`);
  if (!NETWORK_UPDATE_SECTIONS.includes(section)) fail('NO_SUPPORT', def, "can't update unrecognized section of network");
  const el = parseXml(xml, 'network_update_xml');
  switch (section) {
    case 'bridge':
    case 'domain':
    case 'ip':
    case 'forward':
      return fail('NO_SUPPORT', def, `can't update '${section}' section of network '${def.name}'`);
    case 'forward-pf':
      return fail('NO_SUPPORT', def, `can't update 'forward pf' section of network '${def.name}'`);
    case 'ip-dhcp-host':
      return updateDhcpHost(def, command, el, parentIndex);
    case 'ip-dhcp-range':
      return updateDhcpRange(def, command, el, parentIndex);
    case 'forward-interface':
      return updateForwardInterface(def, command, el);
    case 'portgroup':
      return updatePortGroup(def, command, el);
    case 'dns-host':
      return updateDnsHost(def, command, el);
    case 'dns-srv':
      return updateDnsSrv(def, command, el);
    case 'dns-txt':
      return updateDnsTxt(def, command, el);
  }
}

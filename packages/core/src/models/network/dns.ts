/** <dns>: forwarders, TXT, SRV and host records (virNetworkDNSDefParseXML / Format). */
import { keepUnknown } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseYesNo } from '../../xml/values.js';
import { formatIpAddress, tryParseIpAddress } from './address.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';
import type { NetworkDns, NetworkDnsForwarder, NetworkDnsHost, NetworkDnsSrv, NetworkDnsTxt } from './types.js';

// Characters of /etc/services and /etc/protocols names, minus '.', the SRV field separator.
const PROTOCOL_RE = /^[A-Za-z0-9\-+/]*$/;
const SERVICE_RE = /^[A-Za-z0-9_\-+/*]*$/;
/** Longest SRV service name dnsmasq takes (libvirt's DNS_RECORD_LENGTH_SRV). */
const DNS_RECORD_LENGTH_SRV = 512 - 30;

function yesNoAttr(el: XmlElement, name: string, where: string): boolean | undefined {
  const v = el.attr(name);
  return v === undefined ? undefined : parseYesNo(v, `${where}: attribute '${name}' of <${el.name}>`);
}

function noLineBreaks(record: string, field: string, value: string | undefined, where: string): void {
  if (value !== undefined && /[\r\n]/.test(value)) {
    throw netError('XML_DETAIL', where, `invalid line break in DNS ${record} record ${field} attribute`);
  }
}

function parseForwarder(el: XmlElement, where: string): NetworkDnsForwarder {
  const fwd: NetworkDnsForwarder = {};
  const addr = el.attr('addr');
  if (addr !== undefined) {
    const a = tryParseIpAddress(addr);
    if (!a) throw netError('XML_ERROR', where, `Invalid forwarder IP address '${addr}'`);
    fwd.addr = formatIpAddress(a);
    const port = el.attr('port');
    if (port !== undefined) {
      const p = parseCUnsigned(port);
      if (p === undefined || p === 0n || p > 65535n) throw netError('INVALID_ARG', where, `DNS forwarder port '${port}' out of range`);
      fwd.port = Number(p);
    }
  }
  const domain = el.attr('domain');
  if (domain !== undefined) fwd.domain = domain;
  if (addr === undefined && domain === undefined) {
    throw netError('XML_ERROR', where, 'Invalid forwarder element, must contain at least one of addr or domain');
  }
  return fwd;
}

function parseHost(el: XmlElement, where: string, partial = false): NetworkDnsHost {
  const names = el.elements('hostname').map((h) => h.text());
  if ((names.length === 0 && !partial) || names.some((n) => n === '')) throw netError('XML_DETAIL', where, 'Missing hostname in DNS HOST record');
  const ip = el.attr('ip');
  if (ip === undefined) {
    if (!partial) throw netError('XML_DETAIL', where, 'Missing IP address in DNS HOST record');
    if (names.length === 0) throw netError('XML_DETAIL', where, 'Missing ip and hostname in DNS HOST record');
    return { ip: '', hostnames: names };
  }
  const a = tryParseIpAddress(ip);
  if (!a) throw netError('XML_DETAIL', where, `Invalid IP address '${ip}' in DNS HOST record`);
  return { ip: formatIpAddress(a), hostnames: names };
}

function srvNumber(el: XmlElement, attr: string, service: string, max: number, min: number, where: string): number | undefined {
  const v = el.attr(attr);
  if (v === undefined) return undefined;
  if (el.attr('target') === undefined) {
    throw netError('XML_DETAIL', where, `DNS SRV ${attr} attribute not permitted without target for service '${service}'`);
  }
  const n = parseCUnsigned(v);
  if (n === undefined || n > BigInt(max) || n < BigInt(min)) {
    throw netError('XML_DETAIL', where, `invalid DNS SRV ${attr} attribute '${v}' for service '${service}'`);
  }
  return Number(n);
}

function parseSrv(el: XmlElement, where: string, partial = false): NetworkDnsSrv {
  const service = el.attr('service');
  if (service === undefined && partial) return parsePartialSrv(el, where);
  if (service === undefined) throw netError('XML_DETAIL', where, 'missing required service attribute in DNS SRV record');
  if (service.length > DNS_RECORD_LENGTH_SRV) {
    throw netError('XML_DETAIL', where, `service attribute '${service}' is too long, limit is ${DNS_RECORD_LENGTH_SRV} bytes`);
  }
  if (!SERVICE_RE.test(service)) throw netError('XML_DETAIL', where, `invalid character in service attribute '${service}' in DNS SRV record`);
  const protocol = el.attr('protocol');
  if (protocol === undefined && partial) return parsePartialSrv(el, where);
  if (protocol === undefined) throw netError('XML_DETAIL', where, `missing required protocol attribute in DNS SRV record '${service}'`);
  if (!PROTOCOL_RE.test(protocol)) {
    throw netError('XML_DETAIL', where, `invalid character in protocol attribute '${protocol}' in DNS SRV record`);
  }
  const srv: NetworkDnsSrv = { service, protocol };
  const domain = el.attr('domain');
  const target = el.attr('target');
  noLineBreaks('SRV', 'domain', domain, where);
  noLineBreaks('SRV', 'target', target, where);
  if (domain !== undefined) srv.domain = domain;
  if (target !== undefined) srv.target = target;
  const port = srvNumber(el, 'port', service, 65535, 1, where);
  const priority = srvNumber(el, 'priority', service, 65535, 0, where);
  const weight = srvNumber(el, 'weight', service, 65535, 0, where);
  if (port !== undefined) srv.port = port;
  if (priority !== undefined) srv.priority = priority;
  if (weight !== undefined) srv.weight = weight;
  return srv;
}

/** An SRV record used as a search key (net-update delete): service and protocol may be missing (''). */
function parsePartialSrv(el: XmlElement, where: string): NetworkDnsSrv {
  const service = el.attr('service') ?? '';
  const protocol = el.attr('protocol') ?? '';
  if (!SERVICE_RE.test(service)) throw netError('XML_DETAIL', where, `invalid character in service attribute '${service}' in DNS SRV record`);
  if (!PROTOCOL_RE.test(protocol)) throw netError('XML_DETAIL', where, `invalid character in protocol attribute '${protocol}' in DNS SRV record`);
  const srv: NetworkDnsSrv = { service, protocol };
  const domain = el.attr('domain');
  const target = el.attr('target');
  if (domain !== undefined) srv.domain = domain;
  if (target !== undefined) srv.target = target;
  return srv;
}

function parseTxt(el: XmlElement, where: string, partial = false): NetworkDnsTxt {
  const name = el.attr('name');
  if (name === undefined) throw netError('XML_DETAIL', where, 'missing required name attribute in DNS TXT record');
  if (/[ ,]/.test(name)) throw netError('XML_DETAIL', where, `prohibited character in DNS TXT record name '${name}'`);
  const value = el.attr('value');
  if (value === undefined && partial) return { name, value: '' };
  if (value === undefined) throw netError('XML_DETAIL', where, `missing required value attribute in DNS TXT record named '${name}'`);
  noLineBreaks('TXT', 'value', value, where);
  return { name, value };
}

/**
 * One DNS record element (<host>, <srv>, <txt>) for net-update. With
 * `partial` (a delete's search key) required fields may be missing; they
 * come back as ''.
 */
export function parseNetworkDnsHost(el: XmlElement, where: string, opts: { partial?: boolean } = {}): NetworkDnsHost {
  return parseHost(el, where, !!opts.partial);
}
export function parseNetworkDnsSrv(el: XmlElement, where: string, opts: { partial?: boolean } = {}): NetworkDnsSrv {
  return parseSrv(el, where, !!opts.partial);
}
export function parseNetworkDnsTxt(el: XmlElement, where: string, opts: { partial?: boolean } = {}): NetworkDnsTxt {
  return parseTxt(el, where, !!opts.partial);
}

export function parseNetworkDns(el: XmlElement, where: string): NetworkDns {
  const dns: NetworkDns = { forwarders: [], txts: [], srvs: [], hosts: [] };
  const enable = yesNoAttr(el, 'enable', where);
  if (enable !== undefined) dns.enable = enable;
  const fpn = yesNoAttr(el, 'forwardPlainNames', where);
  if (fpn !== undefined) dns.forwardPlainNames = fpn;
  for (const f of el.elements('forwarder')) dns.forwarders.push(parseForwarder(f, where));
  for (const h of el.elements('host')) dns.hosts.push(parseHost(h, where));
  for (const s of el.elements('srv')) dns.srvs.push(parseSrv(s, where));
  for (const t of el.elements('txt')) dns.txts.push(parseTxt(t, where));
  if (dns.enable === false && (dns.forwarders.length || dns.hosts.length || dns.srvs.length || dns.txts.length)) {
    throw netError('XML_ERROR', where, 'Extra data in disabled network');
  }
  const kept = keepUnknown(el, ['enable', 'forwardPlainNames'], ['forwarder', 'host', 'srv', 'txt']);
  if (kept) dns.kept = kept;
  return dns;
}

export function writeNetworkDns(w: XmlWriter, dns: NetworkDns | undefined): void {
  if (!dns) return;
  const hasRecords = dns.forwarders.length || dns.hosts.length || dns.srvs.length || dns.txts.length || dns.kept?.children;
  if (dns.enable === undefined && dns.forwardPlainNames === undefined && !hasRecords && !dns.kept?.attrs) return;
  const attrs: Array<readonly [string, string | undefined]> = [
    ['enable', dns.enable === undefined ? undefined : dns.enable ? 'yes' : 'no'],
    ['forwardPlainNames', dns.forwardPlainNames === undefined ? undefined : dns.forwardPlainNames ? 'yes' : 'no'],
    ...(dns.kept?.attrs ?? []),
  ];
  if (!hasRecords) {
    w.empty('dns', attrs);
    return;
  }
  w.open('dns', attrs);
  for (const f of dns.forwarders) {
    w.empty('forwarder', [
      ['domain', f.domain],
      ['addr', f.addr],
      ['port', f.addr !== undefined && f.port ? f.port : undefined],
    ]);
  }
  for (const t of dns.txts) w.empty('txt', [['name', t.name], ['value', t.value]]);
  for (const s of dns.srvs) {
    w.empty('srv', [
      ['service', s.service],
      ['protocol', s.protocol],
      ['domain', s.domain],
      ['target', s.target],
      ['port', s.port || undefined],
      ['priority', s.priority || undefined],
      ['weight', s.weight || undefined],
    ]);
  }
  for (const h of dns.hosts) {
    w.open('host', [['ip', h.ip]]);
    for (const n of h.hostnames) w.text('hostname', n);
    w.close('host');
  }
  if (dns.kept?.children) for (const c of dns.kept.children) w.node(c);
  w.close('dns');
}

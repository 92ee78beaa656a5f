/** parseNetworkXml: libvirt's virNetworkDefParseXML on the XmlElement tree. */
import { parseXml, type XmlParseLimits } from '../../xml/parse.js';
import type { XmlElement } from '../../xml/tree.js';
import { generateUuid, isMulticastMac, parseMac, parseUuid, parseYesNo } from '../../xml/values.js';
import type { KeptXml } from '../../xml/keep.js';
import { tryParseIpAddress } from './address.js';
import { parseNetDevBandwidth } from './bandwidth.js';
import { parseNetworkDns } from './dns.js';
import { netError } from './errors.js';
import { parseNetworkForward } from './forward.js';
import { networkIpPrefix, parseNetworkIp } from './ip.js';
import { extractMetadata } from './metadata.js';
import { isNamespaced, scopeOf } from './namespaces.js';
import { parseCUnsigned } from './numbers.js';
import { parseNetworkPortGroup } from './portgroup.js';
import { parseNetworkRoute } from './route.js';
import { ipInSubnet } from './subnet.js';
import { DNSMASQ_NAMESPACE, type NetworkBridge, type NetworkDef, type NetworkDomain } from './types.js';
import { parseNetDevVPortProfile } from './virtualport.js';
import { parseNetDevVlan } from './vlan.js';

export interface NetworkParseOptions {
  /** Limits for the XML parser. */
  limits?: XmlParseLimits;
  /** Makes the UUID of a document without <uuid> (default: random). */
  generateUuid?: () => string;
}

const ROOT_ATTRS = new Set(['ipv6', 'trustGuestRxFilters', 'connections']);
const ROOT_CHILDREN = new Set([
  'name', 'uuid', 'metadata', 'forward', 'bridge', 'mtu', 'mac', 'domain', 'dns',
  'bandwidth', 'vlan', 'port', 'ip', 'route', 'virtualport', 'portgroup',
]);

/** XPath string(): the text of an element and all its descendants. */
function stringValue(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += typeof c === 'string' ? c : stringValue(c);
  return s;
}

function tristate(el: XmlElement | undefined, attr: string, where: string): boolean | undefined {
  const v = el?.attr(attr);
  return v === undefined ? undefined : parseYesNo(v, `${where}: attribute '${attr}' of <${el!.name}>`);
}

function keptOf(el: XmlElement, attrs: readonly string[], children: readonly string[]): KeptXml | undefined {
  const a: Array<[string, string]> = [];
  for (const k in el.attrs) if (!attrs.includes(k)) a.push([k, el.attrs[k]!]);
  const c = el.elements().filter((e) => !children.includes(e.name));
  return a.length || c.length ? { ...(a.length ? { attrs: a } : {}), ...(c.length ? { children: c } : {}) } : undefined;
}

function parseBridge(el: XmlElement, where: string): NetworkBridge {
  const br: NetworkBridge = {};
  const name = el.attr('name');
  if (name !== undefined) br.name = name;
  const zone = el.attr('zone');
  if (zone !== undefined) br.zone = zone;
  const stp = el.attr('stp');
  if (stp !== undefined) {
    if (stp !== 'on' && stp !== 'off') throw netError('XML_ERROR', where, `invalid stp setting '${stp}' of <bridge>: expected 'on' or 'off'`);
    br.stp = stp === 'on';
  }
  const delay = el.attr('delay');
  if (delay !== undefined) {
    const d = parseCUnsigned(delay);
    if (d === undefined || d > BigInt(Number.MAX_SAFE_INTEGER)) throw netError('XML_ERROR', where, `Invalid delay value '${delay}'`);
    br.delay = Number(d);
  }
  const mtm = el.attr('macTableManager');
  if (mtm !== undefined) {
    if (mtm !== 'kernel' && mtm !== 'libvirt') throw netError('XML_ERROR', where, `Invalid macTableManager setting '${mtm}'`);
    br.macTableManager = mtm;
  }
  const kept = keptOf(el, ['name', 'zone', 'stp', 'delay', 'macTableManager'], []);
  if (kept) br.kept = kept;
  return br;
}

function parseDomain(el: XmlElement, where: string): NetworkDomain {
  const d: NetworkDomain = {};
  const name = el.attr('name');
  if (name !== undefined) d.name = name;
  const lo = tristate(el, 'localOnly', where);
  if (lo !== undefined) d.localOnly = lo;
  const kept = keptOf(el, ['name', 'localOnly'], []);
  if (kept) d.kept = kept;
  return d;
}

function checkForwardModeRules(def: NetworkDef, bridgeEl: XmlElement | undefined, where: string): void {
  const fwd = def.forward;
  const mode = fwd?.mode ?? 'none';
  const nifs = (fwd?.interfaces.length ?? 0) + (fwd?.pciAddresses.length ?? 0);
  switch (mode) {
    case 'none':
      break;
    case 'nat':
    case 'route':
      if (def.ips.length === 0) throw netError('XML_ERROR', where, `${mode} forwarding requested, but no IP address provided`);
      if (nifs > 1) throw netError('XML_ERROR', where, 'multiple forwarding interfaces specified, only one is supported');
      break;
    case 'open':
      if (nifs) throw netError('XML_ERROR', where, "forward dev not allowed with forward mode='open'");
      break;
    case 'private':
    case 'vepa':
    case 'passthrough':
    case 'hostdev':
    case 'bridge':
      if (mode !== 'bridge') {
        if (def.bridge?.name !== undefined) throw netError('XML_ERROR', where, `bridge name not allowed in ${mode} mode`);
        if (def.bridge?.zone !== undefined) throw netError('XML_ERROR', where, `bridge zone not allowed in ${mode} mode`);
        if (def.bridge?.macTableManager) throw netError('XML_ERROR', where, `bridge macTableManager setting not allowed in ${mode} mode`);
      }
      if (def.bridge?.delay || bridgeEl?.hasAttr('stp') || def.bridge?.zone !== undefined) {
        throw netError('XML_ERROR', where, `bridge delay/stp/zone options only allowed in open, route, nat, and isolated mode, not in ${mode}`);
      }
      if (def.bridge?.name !== undefined && (nifs || fwd?.pf !== undefined)) {
        throw netError('XML_ERROR', where, `A network with forward mode='${mode}' can specify a bridge name or a forward dev, but not both`);
      }
      break;
  }
  if (def.mtu && !(mode === 'none' || mode === 'nat' || mode === 'route' || mode === 'open')) {
    throw netError('XML_ERROR', where, `mtu size only allowed in open, route, nat, and isolated mode, not in ${mode}`);
  }
}

function checkRouteGateways(def: NetworkDef, where: string): void {
  for (const r of def.routes) {
    const gw = tryParseIpAddress(r.gateway)!;
    const reachable = def.ips.some((ip) => {
      const addr = tryParseIpAddress(ip.address);
      const prefix = networkIpPrefix(ip);
      return !!addr && addr.family === gw.family && prefix >= 0 && ipInSubnet(gw, addr, prefix);
    });
    if (!reachable) throw netError('CONFIG_UNSUPPORTED', where, `unreachable static route gateway '${r.gateway}'`);
  }
}

/** Builds the model from an already parsed <network> element. */
export function networkFromElement(root: XmlElement, opts: NetworkParseOptions = {}): NetworkDef {
  if (root.name !== 'network') {
    throw netError('XML_ERROR', 'network XML', `unexpected root element <${root.name}>, expecting <network>`);
  }
  const nameEl = root.child('name');
  const name = nameEl ? stringValue(nameEl) : '';
  if (name === '') throw netError('XML_ERROR', 'network XML', 'missing name information (<name>)');
  const where = `network '${name}'`;
  if (name.includes('/')) throw netError('XML_ERROR', where, "name cannot contain '/'");

  const uuidEl = root.child('uuid');
  const uuidText = uuidEl ? stringValue(uuidEl) : '';
  let uuid: string;
  if (uuidText === '') uuid = (opts.generateUuid ?? generateUuid)();
  else {
    try {
      uuid = parseUuid(uuidText);
    } catch {
      throw netError('XML_ERROR', where, `malformed uuid element '${uuidText}'`);
    }
  }
  const def: NetworkDef = { name, uuid, ips: [], routes: [], portGroups: [] };

  const ipv6 = root.attr('ipv6');
  if (ipv6 !== undefined) {
    if (ipv6 !== 'yes' && ipv6 !== 'no') throw netError('XML_ERROR', where, `Invalid ipv6 setting '${ipv6}'`);
    if (ipv6 === 'yes') def.ipv6 = true;
  }
  const trust = tristate(root, 'trustGuestRxFilters', where);
  if (trust !== undefined) def.trustGuestRxFilters = trust;

  const domainEl = root.child('domain');
  if (domainEl) def.domain = parseDomain(domainEl, where);

  const bwEl = root.child('bandwidth');
  if (bwEl) {
    const bw = parseNetDevBandwidth(bwEl, where);
    if (bw) def.bandwidth = bw;
  }
  const vlanEl = root.child('vlan');
  if (vlanEl) def.vlan = parseNetDevVlan(vlanEl, where);
  const portEl = root.child('port');
  const isolated = tristate(portEl, 'isolated', where);
  if (isolated !== undefined) def.portIsolated = isolated;

  const bridgeEl = root.child('bridge');
  if (bridgeEl) def.bridge = parseBridge(bridgeEl, where);

  const macText = root.child('mac')?.attr('address');
  if (macText !== undefined) {
    let mac: string;
    try {
      mac = parseMac(macText);
    } catch {
      throw netError('XML_ERROR', where, `Invalid bridge mac address '${macText}'`);
    }
    if (isMulticastMac(mac)) throw netError('XML_ERROR', where, `Invalid multicast bridge mac address '${macText}'`);
    def.mac = mac;
  }

  const mtuText = root.child('mtu')?.attr('size');
  if (mtuText !== undefined) {
    const mtu = parseCUnsigned(mtuText);
    if (mtu === undefined || mtu > 0xffffffffn) throw netError('XML_ERROR', where, `Invalid mtu size '${mtuText}'`);
    if (mtu > 0n) def.mtu = Number(mtu);
  }

  const dnsEl = root.child('dns');
  if (dnsEl) def.dns = parseNetworkDns(dnsEl, where);

  const vpEl = root.child('virtualport');
  if (vpEl) def.virtualPort = parseNetDevVPortProfile(vpEl, where, { requireType: true });

  for (const pg of root.elements('portgroup')) def.portGroups.push(parseNetworkPortGroup(pg, where));
  for (const ip of root.elements('ip')) def.ips.push(parseNetworkIp(ip, where));
  for (const r of root.elements('route')) def.routes.push(parseNetworkRoute(r, where));
  checkRouteGateways(def, where);

  const fwdEl = root.child('forward');
  if (fwdEl) def.forward = parseNetworkForward(fwdEl, where);
  checkForwardModeRules(def, bridgeEl, where);

  const rootScope = scopeOf(root);
  const metaEl = root.child('metadata');
  if (metaEl) {
    const md = extractMetadata(metaEl, rootScope);
    if (md) def.metadata = md;
  }

  // <dnsmasq:options> is recognised by namespace, whatever the prefix.
  const isOptions = (el: XmlElement) => isNamespaced(el, rootScope, DNSMASQ_NAMESPACE, 'options');
  const options: string[] = [];
  for (const optsEl of root.elements().filter(isOptions)) {
    const inner = scopeOf(optsEl, rootScope);
    for (const o of optsEl.elements().filter((e) => isNamespaced(e, inner, DNSMASQ_NAMESPACE, 'option'))) {
      const v = o.attr('value');
      if (v === undefined) throw netError('XML_ERROR', where, 'No dnsmasq options value specified');
      options.push(v);
    }
  }
  if (options.length) def.dnsmasqOptions = options;

  const keptAttrs: Array<[string, string]> = [];
  for (const k in root.attrs) {
    if (!ROOT_ATTRS.has(k) && k !== 'xmlns' && !k.startsWith('xmlns:')) keptAttrs.push([k, root.attrs[k]!]);
  }
  const keptChildren = root.elements().filter((e) => !ROOT_CHILDREN.has(e.name) && !isOptions(e));
  if (keptAttrs.length || keptChildren.length) {
    def.kept = { ...(keptAttrs.length ? { attrs: keptAttrs } : {}), ...(keptChildren.length ? { children: keptChildren } : {}) };
  }
  return def;
}

/**
 * Parses libvirt network XML into a NetworkDef, with libvirt's checks.
 * Throws VirtError (XML_ERROR, XML_DETAIL, CONFIG_UNSUPPORTED, …) naming
 * the network and the cause.
 */
export function parseNetworkXml(xml: string, opts: NetworkParseOptions = {}): NetworkDef {
  return networkFromElement(parseXml(xml, 'network XML', opts.limits), opts);
}

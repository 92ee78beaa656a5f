/** parseInterfaceXml: libvirt's virInterfaceDefParseXML on the XmlElement tree. */
import { VirtError, type ErrorCode } from '../../errors.js';
import { keepUnknown } from '../../xml/keep.js';
import { parseXml, type XmlParseLimits } from '../../xml/parse.js';
import type { XmlElement } from '../../xml/tree.js';
import { parseMac, parseYesNo } from '../../xml/values.js';
import { tryParseIpAddress } from '../network/address.js';
import { parseCUnsigned } from '../network/numbers.js';
import {
  INTERFACE_BOND_MODES,
  INTERFACE_LINK_STATES,
  INTERFACE_START_MODES,
  INTERFACE_TYPES,
  type InterfaceBond,
  type InterfaceBondMode,
  type InterfaceDef,
  type InterfaceLink,
  type InterfaceLinkState,
  type InterfaceProtocol,
  type InterfaceStartMode,
  type InterfaceType,
} from './types.js';

export interface InterfaceParseOptions {
  limits?: XmlParseLimits;
}

function ifError(where: string, message: string, code: ErrorCode = 'XML_ERROR'): VirtError {
  return new VirtError(code, `${where}: ${message}`, { origin: 'interface' });
}

function signedInt(el: XmlElement, attr: string, where: string, required: boolean, what: string): number | undefined {
  const v = el.attr(attr);
  if (v === undefined || v === '') {
    if (required) throw ifError(where, `${what} missing or invalid`);
    return undefined;
  }
  // virXPathInt: base 10, optional sign, nothing after the number.
  if (!/^\s*[-+]?[0-9]+$/.test(v) || Math.abs(Number(v)) > 2147483647) throw ifError(where, `${what} invalid`);
  return Number(v);
}

function parseProtocol(el: XmlElement, where: string): InterfaceProtocol {
  const family = el.attr('family');
  if (family === undefined) throw ifError(where, 'protocol misses the family attribute');
  if (family !== 'ipv4' && family !== 'ipv6') throw ifError(where, `unsupported protocol family '${family}'`);
  const proto: InterfaceProtocol = { family, ips: [] };
  const gw = el.child('route')?.attr('gateway');
  if (gw !== undefined) {
    if (tryParseIpAddress(gw, family)?.family !== family) throw ifError(where, `invalid ${family} gateway address '${gw}'`);
    proto.gateway = gw;
  }
  if (family === 'ipv6' && el.child('autoconf')) proto.autoconf = true;
  const dhcp = el.child('dhcp');
  if (dhcp) {
    proto.dhcp = {};
    const peerdns = dhcp.attr('peerdns');
    if (peerdns !== undefined) proto.dhcp.peerdns = parseYesNo(peerdns, `${where}: attribute 'peerdns' of <dhcp>`);
  }
  for (const ipEl of el.elements('ip')) {
    const address = ipEl.attr('address');
    if (address === undefined) continue;
    if (tryParseIpAddress(address, family)?.family !== family) throw ifError(where, `invalid ${family} address '${address}'`);
    const prefix = signedInt(ipEl, 'prefix', where, false, `prefix of address '${address}'`);
    const max = family === 'ipv4' ? 32 : 128;
    if (prefix !== undefined && (prefix < 0 || prefix > max)) throw ifError(where, `invalid ${family} prefix '${prefix}' of address '${address}'`);
    proto.ips.push(prefix ? { address, prefix } : { address });
  }
  return proto;
}

function parseLink(el: XmlElement, where: string): InterfaceLink | undefined {
  const link: InterfaceLink = {};
  const state = el.attr('state');
  if (state !== undefined && state !== '') {
    if (!(INTERFACE_LINK_STATES as readonly string[]).includes(state)) throw ifError(where, `unknown link state: ${state}`);
    link.state = state as InterfaceLinkState;
  }
  const speed = el.attr('speed');
  if (speed !== undefined) {
    const s = parseCUnsigned(speed);
    if (s === undefined || s > 0xffffffffn) throw ifError(where, `Unable to parse link speed: ${speed}`);
    if (s > 0n) link.speed = Number(s);
  }
  return link.state || link.speed ? link : undefined;
}

function parseBond(el: XmlElement, where: string): InterfaceBond {
  const bond: InterfaceBond = { interfaces: [] };
  const mode = el.attr('mode');
  if (mode !== undefined) {
    if (!(INTERFACE_BOND_MODES as readonly string[]).includes(mode)) throw ifError(where, `unknown bonding mode ${mode}`);
    bond.mode = mode as InterfaceBondMode;
  }
  for (const i of el.elements('interface')) bond.interfaces.push(parseIface(i, 'bond'));
  const mii = el.child('miimon');
  const arp = el.child('arpmon');
  if (mii) {
    const freq = signedInt(mii, 'freq', where, true, 'bond interface miimon freq')!;
    bond.miimon = { freq };
    const down = signedInt(mii, 'downdelay', where, false, 'bond interface miimon downdelay');
    if (down !== undefined) bond.miimon.downdelay = down;
    const up = signedInt(mii, 'updelay', where, false, 'bond interface miimon updelay');
    if (up !== undefined) bond.miimon.updelay = up;
    const carrier = mii.attr('carrier');
    if (carrier !== undefined) {
      if (carrier !== 'ioctl' && carrier !== 'netif') throw ifError(where, `unknown mii bonding carrier ${carrier}`);
      bond.miimon.carrier = carrier;
    }
  } else if (arp) {
    const interval = signedInt(arp, 'interval', where, true, 'bond interface arpmon interval')!;
    const target = arp.attr('target');
    if (target === undefined || target === '') throw ifError(where, 'bond interface arpmon target missing');
    if (tryParseIpAddress(target, 'ipv4') === undefined) throw ifError(where, `invalid bond arpmon target '${target}'`);
    bond.arpmon = { interval, target };
    const validate = arp.attr('validate');
    if (validate !== undefined && validate !== 'none') {
      if (validate !== 'active' && validate !== 'backup' && validate !== 'all') throw ifError(where, `unknown arp bonding validate ${validate}`);
      bond.arpmon.validate = validate;
    }
  }
  return bond;
}

/** parentType: the enclosing interface's type ('top' for the document element). */
function parseIface(el: XmlElement, parentType: InterfaceType | 'top'): InterfaceDef {
  const typeText = el.attr('type');
  const name = el.attr('name');
  const where = name !== undefined ? `interface '${name}'` : 'interface XML';
  if (typeText === undefined) throw ifError(where, "missing required attribute 'type'");
  if (!(INTERFACE_TYPES as readonly string[]).includes(typeText)) throw ifError(where, `unknown interface type '${typeText}'`);
  const type = typeText as InterfaceType;
  if (
    (parentType === 'bond' && type !== 'ethernet') ||
    (parentType === 'bridge' && type === 'bridge') ||
    parentType === 'ethernet' ||
    parentType === 'vlan'
  ) {
    throw ifError(where, `interface has unsupported type '${type}'`);
  }
  if (name === undefined) throw ifError(where, 'interface has no name');
  const def: InterfaceDef = { type, name, protocols: [] };
  const known = ['start', 'mtu', 'protocol', 'link', 'mac', 'bridge', 'bond', 'vlan'];

  if (parentType === 'top') {
    // Start mode, MTU and addressing belong to the top-level device only.
    const start = el.child('start')?.attr('mode');
    if (start !== undefined) {
      if (!(INTERFACE_START_MODES as readonly string[]).includes(start)) throw ifError(where, `unknown interface startmode ${start}`);
      def.startMode = start as InterfaceStartMode;
    }
    const mtu = el.child('mtu')?.attr('size');
    if (mtu !== undefined) {
      const m = parseCUnsigned(mtu);
      if (m === undefined || m > 100000n) throw ifError(where, 'interface mtu value is improper');
      if (m > 0n) def.mtu = Number(m);
    }
    for (const p of el.elements('protocol')) def.protocols.push(parseProtocol(p, where));
  }
  if (type !== 'bridge') {
    const lnk = el.child('link');
    if (lnk) {
      const link = parseLink(lnk, where);
      if (link) def.link = link;
    }
  }
  switch (type) {
    case 'ethernet': {
      const mac = el.child('mac')?.attr('address');
      if (mac !== undefined) {
        try {
          parseMac(mac);
        } catch {
          throw ifError(where, `invalid MAC address '${mac}'`);
        }
        def.mac = mac;
      }
      break;
    }
    case 'bridge': {
      const br = el.child('bridge');
      if (!br) throw ifError(where, 'bridge interface misses the bridge element');
      def.bridge = { interfaces: [] };
      const stp = br.attr('stp');
      if (stp !== undefined) {
        if (stp !== 'on' && stp !== 'off') throw ifError(where, `bridge interface stp should be on or off got ${stp}`);
        def.bridge.stp = stp === 'on';
      }
      const delay = br.attr('delay');
      if (delay !== undefined) {
        if (!/^[0-9]+(\.[0-9]*)?$|^\.[0-9]+$/.test(delay)) throw ifError(where, `invalid bridge delay '${delay}'`);
        def.bridge.delay = delay;
      }
      for (const i of br.elements('interface')) def.bridge.interfaces.push(parseIface(i, 'bridge'));
      break;
    }
    case 'bond': {
      const b = el.child('bond');
      if (!b) throw ifError(where, 'bond interface misses the bond element');
      def.bond = parseBond(b, where);
      break;
    }
    case 'vlan': {
      const v = el.child('vlan');
      if (!v) throw ifError(where, 'vlan interface misses the vlan element');
      const tag = v.attr('tag');
      if (tag === undefined) throw ifError(where, 'vlan interface misses the tag attribute');
      const t = parseCUnsigned(tag);
      if (t === undefined || t > 4095n) throw ifError(where, `invalid vlan tag '${tag}' (0 to 4095)`);
      const device = v.child('interface')?.attr('name');
      if (device === undefined) throw ifError(where, 'vlan interface misses name attribute');
      def.vlan = { tag, device };
      break;
    }
  }
  const kept = keepUnknown(el, ['type', 'name'], known);
  if (kept) def.kept = kept;
  return def;
}

/** Builds the model from an already parsed <interface> element. */
export function interfaceFromElement(root: XmlElement): InterfaceDef {
  if (root.name !== 'interface') {
    throw ifError('interface XML', `unexpected root element <${root.name}>, expecting <interface>`);
  }
  return parseIface(root, 'top');
}

/** Parses libvirt host interface XML; throws VirtError XML_ERROR naming the interface and the cause. */
export function parseInterfaceXml(xml: string, opts: InterfaceParseOptions = {}): InterfaceDef {
  return interfaceFromElement(parseXml(xml, 'interface XML', opts.limits));
}

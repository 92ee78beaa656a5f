/**
 * Network pieces shared by <interface> (and by network XML): VLAN tags,
 * virtual port profiles, bandwidth limits, IP addresses and routes.
 */
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { parseUuid } from '../../../xml/values.js';
import { ElemReader, xmlError } from '../reader.js';
import { yn, type AttrList } from '../writer.js';

export interface VlanDef {
  trunk?: boolean;
  tags: Array<{ id: number; nativeMode?: 'tagged' | 'untagged' }>;
}

export function parseVlan(el: XmlElement, where: string): VlanDef {
  const r = new ElemReader(el, `${where} <vlan>`);
  const def: VlanDef = { tags: [] };
  const trunk = r.yesNo('trunk');
  for (const t of r.children('tag')) {
    const tr = new ElemReader(t, `${where} <vlan><tag>`);
    const id = tr.uint('id');
    if (id === undefined) throw xmlError(`${where} <vlan>`, 'missing or invalid vlan tag id attribute');
    if (id > 4095) throw xmlError(`${where} <vlan>`, `vlan tag id ${id} too large (maximum 4095)`);
    const nm = tr.enum('nativeMode', ['tagged', 'untagged'] as const);
    def.tags.push(nm ? { id, nativeMode: nm } : { id });
  }
  if (def.tags.length === 0) throw xmlError(`${where} <vlan>`, 'missing tag id - each <vlan> must have at least one <tag id=\'n\'/> subelement');
  if (trunk === false && def.tags.length > 1) throw xmlError(`${where} <vlan>`, "illegal \"trunk='no'\" setting in <vlan> with multiple tags");
  if (trunk !== undefined) def.trunk = trunk;
  else if (def.tags.length > 1) def.trunk = true;
  return def;
}

export function formatVlan(w: XmlWriter, v: VlanDef | undefined): void {
  if (!v || v.tags.length === 0) return;
  w.open('vlan', [['trunk', v.trunk ? 'yes' : undefined]]);
  for (const t of v.tags) w.empty('tag', [['id', t.id], ['nativeMode', t.nativeMode]]);
  w.close('vlan');
}

export interface VirtualPortDef {
  type?: string;
  managerid?: number;
  typeid?: number;
  typeidversion?: number;
  instanceid?: string;
  interfaceid?: string;
  profileid?: string;
}

export function parseVirtualPort(el: XmlElement, where: string): VirtualPortDef {
  const r = new ElemReader(el, `${where} <virtualport>`);
  const def: VirtualPortDef = {};
  const type = r.enum('type', ['none', '802.1Qbg', '802.1Qbh', 'openvswitch', 'midonet'] as const);
  if (type && type !== 'none') def.type = type;
  const p = r.child('parameters');
  if (p) {
    const pr = new ElemReader(p, `${where} <virtualport><parameters>`);
    const mid = pr.uint('managerid', 255);
    if (mid !== undefined) def.managerid = mid;
    const tid = pr.uint('typeid', 0xffffff);
    if (tid !== undefined) def.typeid = tid;
    const tv = pr.uint('typeidversion', 255);
    if (tv !== undefined) def.typeidversion = tv;
    const iid = pr.str('instanceid');
    if (iid !== undefined) def.instanceid = parseUuid(iid, `${where} <virtualport> instanceid`);
    const ifid = pr.str('interfaceid');
    if (ifid !== undefined) def.interfaceid = parseUuid(ifid, `${where} <virtualport> interfaceid`);
    const prof = pr.str('profileid');
    if (prof !== undefined) {
      if (prof.length > 39) throw xmlError(`${where} <virtualport>`, 'profileid parameter too long');
      def.profileid = prof;
    }
  }
  return def;
}

export function formatVirtualPort(w: XmlWriter, v: VirtualPortDef | undefined): void {
  if (!v) return;
  const params: AttrList = [
    ['managerid', v.managerid], ['typeid', v.typeid], ['typeidversion', v.typeidversion], ['instanceid', v.instanceid],
    ['interfaceid', v.interfaceid], ['profileid', v.profileid],
  ];
  const hasParams = params.some(([, x]) => x !== undefined);
  if (!hasParams) {
    if (v.type) w.empty('virtualport', [['type', v.type]]);
    return;
  }
  w.open('virtualport', [['type', v.type]]);
  w.empty('parameters', params);
  w.close('virtualport');
}

export interface BandwidthRate {
  average?: number;
  peak?: number;
  floor?: number;
  burst?: number;
}

export interface BandwidthDef {
  inbound?: BandwidthRate;
  outbound?: BandwidthRate;
}

function parseRate(el: XmlElement, where: string, allowFloor: boolean): BandwidthRate {
  const r = new ElemReader(el, where);
  const rate: BandwidthRate = {};
  const avg = r.ulong('average');
  const peak = r.ulong('peak');
  const floor = r.ulong('floor');
  const burst = r.ulong('burst');
  if (avg !== undefined) rate.average = avg;
  if (peak !== undefined) rate.peak = peak;
  if (floor !== undefined) {
    if (!allowFloor) throw xmlError(where, "floor attribute is supported only for inbound traffic");
    rate.floor = floor;
  }
  if (burst !== undefined) rate.burst = burst;
  if (avg === undefined && floor === undefined) throw xmlError(where, "Missing mandatory average or floor attributes");
  if ((peak !== undefined || burst !== undefined) && avg === undefined) throw xmlError(where, "'peak' and 'burst' require 'average' attribute");
  return rate;
}

export function parseBandwidth(el: XmlElement, where: string): BandwidthDef {
  const r = new ElemReader(el, `${where} <bandwidth>`);
  const def: BandwidthDef = {};
  const ins = r.children('inbound');
  if (ins.length > 1) throw xmlError(`${where} <bandwidth>`, 'Only one child <inbound> element allowed');
  const outs = r.children('outbound');
  if (outs.length > 1) throw xmlError(`${where} <bandwidth>`, 'Only one child <outbound> element allowed');
  if (ins[0]) def.inbound = parseRate(ins[0], `${where} <bandwidth><inbound>`, true);
  if (outs[0]) def.outbound = parseRate(outs[0], `${where} <bandwidth><outbound>`, false);
  return def;
}

export function formatBandwidth(w: XmlWriter, b: BandwidthDef | undefined): void {
  if (!b || (!b.inbound && !b.outbound)) return;
  w.open('bandwidth');
  for (const [name, rate] of [['inbound', b.inbound], ['outbound', b.outbound]] as const) {
    if (!rate) continue;
    w.empty(name, [
      ['average', rate.average || undefined], ['peak', rate.peak || undefined], ['floor', rate.floor || undefined], ['burst', rate.burst || undefined],
    ]);
  }
  w.close('bandwidth');
}

export interface IpDef {
  address: string;
  family?: 'ipv4' | 'ipv6';
  prefix?: number;
  peer?: string;
}

export interface RouteDef {
  family?: string;
  address: string;
  prefix?: number;
  netmask?: string;
  gateway: string;
  metric?: number;
}

export function ipFamily(addr: string): 'ipv4' | 'ipv6' {
  return addr.includes(':') ? 'ipv6' : 'ipv4';
}

function checkIp(addr: string, where: string): void {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) {
    if (v4.slice(1).some((p) => Number(p) > 255)) throw xmlError(where, `Invalid IP address '${addr}'`);
    return;
  }
  if (/^[0-9a-fA-F:.]+$/.test(addr) && addr.includes(':')) return;
  throw xmlError(where, `Failed to parse IP address '${addr}'`);
}

export function parseIp(el: XmlElement, where: string): IpDef {
  const r = new ElemReader(el, `${where} <ip>`);
  const address = r.str('address');
  if (!address) throw xmlError(`${where} <ip>`, 'Missing required address in <ip>');
  checkIp(address, `${where} <ip>`);
  const ip: IpDef = { address };
  const fam = r.enum('family', ['ipv4', 'ipv6'] as const);
  ip.family = fam ?? ipFamily(address);
  const prefix = r.uint('prefix');
  if (prefix !== undefined) {
    if (prefix > (ip.family === 'ipv4' ? 32 : 128)) throw xmlError(`${where} <ip>`, `Invalid prefix value '${prefix}' in <ip>`);
    ip.prefix = prefix;
  }
  const peer = r.str('peer');
  if (peer !== undefined) {
    checkIp(peer, `${where} <ip>`);
    ip.peer = peer;
  }
  return ip;
}

export function formatIp(w: XmlWriter, ip: IpDef): void {
  w.empty('ip', [['address', ip.address], ['family', ip.family ?? ipFamily(ip.address)], ['prefix', ip.prefix || undefined], ['peer', ip.peer]]);
}

export function parseRoute(el: XmlElement, where: string): RouteDef {
  const r = new ElemReader(el, `${where} <route>`);
  const address = r.str('address');
  const gateway = r.str('gateway');
  if (!address) throw xmlError(`${where} <route>`, "Missing required address attribute in route definition");
  if (!gateway) throw xmlError(`${where} <route>`, "Missing required gateway attribute in route definition");
  const route: RouteDef = { address, gateway };
  const family = r.str('family');
  if (family !== undefined) route.family = family;
  const prefix = r.uint('prefix');
  if (prefix !== undefined) route.prefix = prefix;
  const netmask = r.str('netmask');
  if (netmask !== undefined) route.netmask = netmask;
  const metric = r.uint('metric');
  if (metric !== undefined) route.metric = metric;
  return route;
}

export function formatRoute(w: XmlWriter, r: RouteDef): void {
  w.empty('route', [['family', r.family], ['address', r.address], ['netmask', r.netmask], ['prefix', r.prefix], ['gateway', r.gateway], ['metric', r.metric]]);
}

export { yn };

/**
 * <bandwidth> (libvirt's netdev_bandwidth_conf.c): inbound/outbound rates
 * in KiB/s (average, peak, floor) and KiB (burst).
 */
import { keepUnknown, type KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';

export interface NetDevBandwidthRate {
  average?: number;
  peak?: number;
  /** Guaranteed minimum, inbound only (and only where the context allows it). */
  floor?: number;
  burst?: number;
}

export interface NetDevBandwidth {
  inbound?: NetDevBandwidthRate;
  outbound?: NetDevBandwidthRate;
  kept?: KeptXml;
}

export interface BandwidthParseOptions {
  /** Whether `floor` is accepted on <inbound> (libvirt: domain interfaces on some networks). */
  allowFloor?: boolean;
}

const RATE_ATTRS = ['average', 'peak', 'floor', 'burst'] as const;

function parseRate(el: XmlElement, where: string): NetDevBandwidthRate {
  const rate: NetDevBandwidthRate = {};
  for (const a of RATE_ATTRS) {
    const v = el.attr(a);
    if (v === undefined) continue;
    const n = parseCUnsigned(v);
    if (n === undefined || n > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw netError('CONFIG_UNSUPPORTED', where, `could not convert bandwidth ${a} value '${v}' in <${el.name}>`);
    }
    rate[a] = Number(n);
  }
  if (rate.average === undefined && rate.floor === undefined) {
    throw netError('XML_DETAIL', where, `missing mandatory average or floor attributes in <bandwidth><${el.name}>`);
  }
  if ((rate.peak !== undefined || rate.burst !== undefined) && rate.average === undefined) {
    throw netError('CONFIG_UNSUPPORTED', where, `'peak' and 'burst' require 'average' attribute in <bandwidth><${el.name}>`);
  }
  return rate;
}

/** Parses <bandwidth>; undefined when it has neither <inbound> nor <outbound> (libvirt drops it). */
export function parseNetDevBandwidth(el: XmlElement, where: string, opts: BandwidthParseOptions = {}): NetDevBandwidth | undefined {
  if (el.hasAttr('classID')) {
    throw netError('XML_DETAIL', where, 'classID attribute not supported on <bandwidth> in this usage context');
  }
  const ins = el.elements('inbound');
  const outs = el.elements('outbound');
  if (ins.length > 1) throw netError('XML_DETAIL', where, 'only one child <inbound> element allowed in <bandwidth>');
  if (outs.length > 1) throw netError('XML_DETAIL', where, 'only one child <outbound> element allowed in <bandwidth>');
  const bw: NetDevBandwidth = {};
  if (ins[0]) {
    bw.inbound = parseRate(ins[0], where);
    if (bw.inbound.floor && !opts.allowFloor) {
      throw netError('CONFIG_UNSUPPORTED', where, 'floor attribute is not supported for this config');
    }
  }
  if (outs[0]) {
    bw.outbound = parseRate(outs[0], where);
    if (bw.outbound.floor) throw netError('CONFIG_UNSUPPORTED', where, "'floor' attribute allowed only in <inbound> element");
  }
  if (!bw.inbound && !bw.outbound) return undefined;
  const kept = keepUnknown(el, [], ['inbound', 'outbound']);
  if (kept) bw.kept = kept;
  return bw;
}

function writeRate(w: XmlWriter, name: string, r: NetDevBandwidthRate | undefined): void {
  if (!r || !(r.average || r.floor)) return;
  w.empty(name, [
    ['average', r.average || undefined],
    ['peak', r.peak || undefined],
    ['floor', r.floor || undefined],
    ['burst', r.burst || undefined],
  ]);
}

export function writeNetDevBandwidth(w: XmlWriter, bw: NetDevBandwidth | undefined): void {
  if (!bw) return;
  w.open('bandwidth', bw.kept?.attrs);
  writeRate(w, 'inbound', bw.inbound);
  writeRate(w, 'outbound', bw.outbound);
  if (bw.kept?.children) for (const c of bw.kept.children) w.node(c);
  w.close('bandwidth');
}

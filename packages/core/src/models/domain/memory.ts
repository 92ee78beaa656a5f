/**
 * Memory sizing and tuning: <maxMemory>, <memory>, <currentMemory>,
 * <blkiotune>, <memtune>, <memoryBacking>. Sizes are KiB.
 */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { formatIdList, parseIdList } from '../../xml/values.js';
import { ElemReader, readScaledKiB, readScaledAttrKiB, xmlError } from './reader.js';
import { writeEl } from './writer.js';

export interface HugepageDef {
  /** Page size in KiB (0 = the host's default huge page size). */
  size: number;
  /** Guest NUMA nodes this page size backs. */
  nodeset?: number[];
}

export interface MemoryBackingDef {
  /** Present when <hugepages> was given; may be empty (default size). */
  hugepages?: HugepageDef[];
  nosharepages?: boolean;
  locked?: boolean;
  source?: 'file' | 'anonymous' | 'memfd';
  access?: 'shared' | 'private';
  allocation?: { mode?: 'immediate' | 'ondemand'; threads?: number };
  discard?: boolean;
  kept?: KeptXml;
}

export interface BlkioDeviceDef {
  path: string;
  weight?: number;
  readIops?: number;
  writeIops?: number;
  readBytes?: number;
  writeBytes?: number;
}

export interface BlkioTuneDef {
  weight?: number;
  devices: BlkioDeviceDef[];
  kept?: KeptXml;
}

export interface MemTuneDef {
  hardLimit?: number;
  softLimit?: number;
  minGuarantee?: number;
  swapHardLimit?: number;
  kept?: KeptXml;
}

export interface MemoryDef {
  /** <memory>: total guest memory in KiB (initial + hotplugged modules). */
  total: number;
  /** <currentMemory> (balloon target) in KiB. */
  current: number;
  /** <maxMemory> in KiB, with its slot count, for memory hotplug. */
  max?: number;
  slots?: number;
  dumpCore?: boolean;
  memoryKept?: KeptXml;
}

// virMemoryLimitIsSet: values at or above this (KiB) read as "unlimited".
const MEMORY_UNLIMITED = 9007199254740991;

export function parseMemory(root: ElemReader): MemoryDef {
  const mem: MemoryDef = { total: 0, current: 0 };
  const memEl = root.child('memory');
  if (memEl) {
    const r = new ElemReader(memEl, '<memory>');
    r.ignoreAttrs('unit');
    const v = readScaledKiB(memEl, '<memory>', false);
    if (v !== undefined) mem.total = v;
    const dc = r.onOff('dumpCore');
    if (dc !== undefined) mem.dumpCore = dc;
    const kept = r.kept();
    if (kept) mem.memoryKept = kept;
  }
  const maxEl = root.child('maxMemory');
  if (maxEl) {
    const r = new ElemReader(maxEl, '<maxMemory>');
    r.ignoreAttrs('unit');
    const v = readScaledKiB(maxEl, '<maxMemory>', false);
    if (v !== undefined) mem.max = v;
    const slots = r.uint('slots');
    if (slots !== undefined) mem.slots = slots;
  }
  const curEl = root.child('currentMemory');
  if (curEl) {
    const v = readScaledKiB(curEl, '<currentMemory>', false);
    if (v !== undefined) mem.current = v;
  }
  return mem;
}

export function formatMemory(w: XmlWriter, mem: MemoryDef): void {
  if (mem.max || mem.slots) {
    w.text('maxMemory', mem.max ?? 0, [['slots', mem.slots], ['unit', 'KiB']]);
  }
  const attrs: Array<readonly [string, string | number | undefined]> = [];
  if (mem.dumpCore !== undefined) attrs.push(['dumpCore', mem.dumpCore ? 'on' : 'off']);
  attrs.push(['unit', 'KiB']);
  w.text('memory', mem.total, mem.memoryKept?.attrs ? [...attrs, ...mem.memoryKept.attrs] : attrs);
  w.text('currentMemory', mem.current, [['unit', 'KiB']]);
}

export function parseBlkioTune(el: XmlElement): BlkioTuneDef {
  const r = new ElemReader(el, '<blkiotune>');
  const def: BlkioTuneDef = { devices: [] };
  const weight = r.childTrimmed('weight');
  if (weight !== undefined) def.weight = uintText(weight, '<blkiotune><weight>');
  for (const d of r.children('device')) {
    const dr = new ElemReader(d, '<blkiotune><device>');
    const path = dr.childTrimmed('path');
    if (!path) throw xmlError('<blkiotune><device>', 'missing per-device path');
    if (def.devices.some((x) => x.path === path)) throw xmlError('<blkiotune>', `duplicate blkio device path '${path}'`);
    const dev: BlkioDeviceDef = { path };
    const num = (n: string) => {
      const t = dr.childTrimmed(n);
      return t === undefined ? undefined : uintText(t, `<blkiotune><device><${n}>`);
    };
    const wt = num('weight');
    if (wt !== undefined) dev.weight = wt;
    const ri = num('read_iops_sec');
    if (ri !== undefined) dev.readIops = ri;
    const wi = num('write_iops_sec');
    if (wi !== undefined) dev.writeIops = wi;
    const rb = num('read_bytes_sec');
    if (rb !== undefined) dev.readBytes = rb;
    const wb = num('write_bytes_sec');
    if (wb !== undefined) dev.writeBytes = wb;
    def.devices.push(dev);
  }
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

function uintText(t: string, where: string): number {
  if (!/^\s*[0-9]+\s*$/.test(t)) throw xmlError(where, `invalid value '${t}'`);
  return Number(t);
}

export function formatBlkioTune(w: XmlWriter, def: BlkioTuneDef | undefined): void {
  if (!def) return;
  writeEl(w, 'blkiotune', [], (c) => {
    c.text('weight', def.weight);
    for (const d of def.devices) {
      if (!d.weight && !d.readIops && !d.writeIops && !d.readBytes && !d.writeBytes) continue;
      c.open('device');
      c.text('path', d.path);
      if (d.weight) c.text('weight', d.weight);
      if (d.readIops) c.text('read_iops_sec', d.readIops);
      if (d.writeIops) c.text('write_iops_sec', d.writeIops);
      if (d.readBytes) c.text('read_bytes_sec', d.readBytes);
      if (d.writeBytes) c.text('write_bytes_sec', d.writeBytes);
      c.close('device');
    }
  }, def.kept);
}

export function parseMemTune(el: XmlElement): MemTuneDef {
  const r = new ElemReader(el, '<memtune>');
  const def: MemTuneDef = {};
  const read = (name: string): number | undefined => {
    const c = r.child(name);
    return c ? readScaledKiB(c, `<memtune><${name}>`, true) : undefined;
  };
  const h = read('hard_limit');
  if (h !== undefined) def.hardLimit = h;
  const s = read('soft_limit');
  if (s !== undefined) def.softLimit = s;
  const m = read('min_guarantee');
  if (m !== undefined) def.minGuarantee = m;
  const sw = read('swap_hard_limit');
  if (sw !== undefined) def.swapHardLimit = sw;
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

const limitSet = (v: number | undefined): v is number => v !== undefined && v < MEMORY_UNLIMITED;

export function formatMemTune(w: XmlWriter, def: MemTuneDef | undefined): void {
  if (!def) return;
  writeEl(w, 'memtune', [], (c) => {
    if (limitSet(def.hardLimit)) c.text('hard_limit', def.hardLimit, [['unit', 'KiB']]);
    if (limitSet(def.softLimit)) c.text('soft_limit', def.softLimit, [['unit', 'KiB']]);
    if (def.minGuarantee) c.text('min_guarantee', def.minGuarantee, [['unit', 'KiB']]);
    if (limitSet(def.swapHardLimit)) c.text('swap_hard_limit', def.swapHardLimit, [['unit', 'KiB']]);
  }, def.kept);
}

export function parseMemoryBacking(el: XmlElement): MemoryBackingDef {
  const r = new ElemReader(el, '<memoryBacking>');
  const def: MemoryBackingDef = {};
  const hp = r.child('hugepages');
  if (hp) {
    const hr = new ElemReader(hp, '<memoryBacking><hugepages>');
    const pages: HugepageDef[] = [];
    for (const p of hr.children('page')) {
      const pr = new ElemReader(p, '<hugepages><page>');
      const size = pr.str('size');
      if (size === undefined) throw xmlError('<hugepages><page>', "unable to parse size attribute");
      const page: HugepageDef = { size: readScaledAttrKiB(size, pr.str('unit'), '<hugepages><page> size', 1024n) };
      const nodeset = pr.str('nodeset');
      if (nodeset !== undefined) {
        page.nodeset = parseIdList(nodeset, '<hugepages><page> nodeset');
        if (page.nodeset.length === 0) throw xmlError('<hugepages><page>', 'nodeset for NUMA memory tuning must not be empty');
      }
      pages.push(page);
    }
    def.hugepages = pages;
  }
  if (r.child('nosharepages')) def.nosharepages = true;
  if (r.child('locked')) def.locked = true;
  const src = r.child('source');
  if (src) {
    const t = new ElemReader(src, '<memoryBacking><source>').enum('type', ['file', 'anonymous', 'memfd'] as const);
    if (t) def.source = t;
  }
  const acc = r.child('access');
  if (acc) {
    const m = new ElemReader(acc, '<memoryBacking><access>').enumNoDefault('mode', ['default', 'shared', 'private'] as const);
    if (m) def.access = m;
  }
  const alloc = r.child('allocation');
  if (alloc) {
    const ar = new ElemReader(alloc, '<memoryBacking><allocation>');
    const mode = ar.enumNoDefault('mode', ['default', 'immediate', 'ondemand'] as const);
    const threads = ar.uint('threads');
    def.allocation = {};
    if (mode) def.allocation.mode = mode;
    if (threads !== undefined) def.allocation.threads = threads;
  }
  if (r.child('discard')) def.discard = true;
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatMemoryBacking(w: XmlWriter, def: MemoryBackingDef | undefined): void {
  if (!def) return;
  writeEl(w, 'memoryBacking', [], (c) => {
    if (def.hugepages) {
      const pages = def.hugepages;
      if (pages.length === 0 || (pages.length === 1 && pages[0]!.size === 0 && !pages[0]!.nodeset)) c.empty('hugepages');
      else {
        c.open('hugepages');
        for (const p of pages) {
          c.empty('page', [['size', p.size], ['unit', 'KiB'], ['nodeset', p.nodeset ? formatIdList(p.nodeset) : undefined]]);
        }
        c.close('hugepages');
      }
    }
    if (def.nosharepages) c.empty('nosharepages');
    if (def.locked) c.empty('locked');
    if (def.source) c.empty('source', [['type', def.source]]);
    if (def.access) c.empty('access', [['mode', def.access]]);
    if (def.allocation && (def.allocation.mode || def.allocation.threads !== undefined)) {
      c.empty('allocation', [['mode', def.allocation.mode], ['threads', def.allocation.threads]]);
    }
    if (def.discard) c.empty('discard');
  }, def.kept);
}

/**
 * <cputune>: CFS shares/periods/quotas, pinning, real-time scheduling
 * (split per vCPU / I/O thread as libvirt stores it) and resctrl
 * allocations (<cachetune>, <memorytune>).
 */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { formatIdList, parseIdList, parseScaled } from '../../xml/values.js';
import { ElemReader, xmlError } from './reader.js';
import { writeEl } from './writer.js';

export const SCHED_POLICIES = ['batch', 'idle', 'fifo', 'rr'] as const;
export type SchedPolicy = (typeof SCHED_POLICIES)[number];

export interface SchedDef {
  policy: SchedPolicy;
  priority?: number;
}

export const CACHE_TYPES = ['both', 'code', 'data'] as const;
export type CacheType = (typeof CACHE_TYPES)[number];

export interface ResctrlCacheAlloc {
  id: number;
  level: number;
  type: CacheType;
  /** Bytes. */
  size: number;
}

export interface ResctrlMonitor {
  vcpus: number[];
  /** Cache level for a cache monitor; undefined for a memory-bandwidth monitor. */
  level?: number;
}

/** One resctrl group: a <cachetune> and/or <memorytune> over the same vCPUs. */
export interface ResctrlDef {
  vcpus: number[];
  id?: string;
  caches: ResctrlCacheAlloc[];
  memBandwidth: Array<{ id: number; bandwidth: number }>;
  monitors: ResctrlMonitor[];
  hasCachetune: boolean;
  hasMemorytune: boolean;
}

export interface CputuneDef {
  shares?: number;
  globalPeriod?: number;
  globalQuota?: number;
  period?: number;
  quota?: number;
  emulatorPeriod?: number;
  emulatorQuota?: number;
  iothreadPeriod?: number;
  iothreadQuota?: number;
  /** vCPU id → host CPUs. */
  vcpupin: Map<number, number[]>;
  emulatorpin?: number[];
  /** I/O thread id → host CPUs. */
  iothreadpin: Map<number, number[]>;
  /** vCPU id → scheduler. */
  vcpusched: Map<number, SchedDef>;
  emulatorsched?: SchedDef;
  /** I/O thread id → scheduler. */
  iothreadsched: Map<number, SchedDef>;
  resctrls: ResctrlDef[];
  kept?: KeptXml;
}

export function emptyCputune(): CputuneDef {
  return { vcpupin: new Map(), iothreadpin: new Map(), vcpusched: new Map(), iothreadsched: new Map(), resctrls: [] };
}

function num(r: ElemReader, name: string, where: string, min: number, max: number): number | undefined {
  const t = r.childTrimmed(name);
  if (t === undefined) return undefined;
  if (!/^[-+]?[0-9]+$/.test(t)) throw xmlError(where, `can't parse cputune ${name} value '${t}'`);
  const n = Number(t);
  if (n < min || n > max) throw xmlError(where, `Value of cputune '${name}' must be in range [${min}, ${max}]`);
  return n;
}

function readSched(r: ElemReader, where: string): SchedDef {
  const policy = r.enum('scheduler', SCHED_POLICIES);
  if (!policy) throw xmlError(where, 'Missing scheduler attribute');
  const s: SchedDef = { policy };
  if (policy === 'fifo' || policy === 'rr') {
    const p = r.int('priority');
    if (p === undefined) throw xmlError(where, 'Missing scheduler priority');
    s.priority = p;
  } else r.ignoreAttrs('priority');
  return s;
}

export function parseCputune(el: XmlElement, maxVcpus: number, iothreadIds: number[]): CputuneDef {
  const r = new ElemReader(el, '<cputune>');
  const def = emptyCputune();
  const w = '<cputune>';
  const U64 = Number.MAX_SAFE_INTEGER;
  const shares = num(r, 'shares', w, 0, U64);
  if (shares !== undefined) def.shares = shares;
  const setNum = (name: string, key: keyof CputuneDef, min: number, max: number, zeroOk = true) => {
    const v = num(r, name, w, min, max);
    if (v !== undefined && (v !== 0 || zeroOk)) (def as unknown as Record<string, number>)[key] = v;
  };
  const QMAX = 17592186044415;
  setNum('global_period', 'globalPeriod', 0, 1000000);
  setNum('global_quota', 'globalQuota', -1, QMAX);
  setNum('period', 'period', 0, 1000000);
  setNum('quota', 'quota', -1, QMAX);
  setNum('emulator_period', 'emulatorPeriod', 0, 1000000);
  setNum('emulator_quota', 'emulatorQuota', -1, QMAX);
  setNum('iothread_period', 'iothreadPeriod', 0, 1000000);
  setNum('iothread_quota', 'iothreadQuota', -1, QMAX);
  for (const k of ['globalPeriod', 'period', 'emulatorPeriod', 'iothreadPeriod'] as const) {
    const v = def[k];
    if (v !== undefined && v !== 0 && v < 1000) throw xmlError(w, `Value of cputune period must be in range [1000, 1000000]`);
  }
  for (const k of ['globalQuota', 'quota', 'emulatorQuota', 'iothreadQuota'] as const) {
    const v = def[k];
    if (v !== undefined && v > 0 && v < 1000) throw xmlError(w, `Value of cputune quota must be in range [1000, ${QMAX}] or less than 0`);
  }

  for (const p of r.children('vcpupin')) {
    const pr = new ElemReader(p, '<cputune><vcpupin>');
    const vcpu = pr.uint('vcpu');
    if (vcpu === undefined) throw xmlError('<vcpupin>', "missing vcpu id in vcpupin");
    if (vcpu >= maxVcpus) throw xmlError('<vcpupin>', `vcpu id must be lower than maxvcpus`);
    if (def.vcpupin.has(vcpu)) throw xmlError('<vcpupin>', 'duplicate vcpupin for same vcpu');
    const cpuset = pr.str('cpuset');
    if (cpuset === undefined) throw xmlError('<vcpupin>', 'missing cpuset for vcpupin');
    def.vcpupin.set(vcpu, parseIdList(cpuset, "<vcpupin> attribute 'cpuset'", 65535));
  }
  const ep = r.children('emulatorpin');
  if (ep.length > 1) throw xmlError(w, 'only one emulatorpin is supported');
  if (ep[0]) {
    const cpuset = new ElemReader(ep[0], '<emulatorpin>').str('cpuset');
    if (cpuset === undefined) throw xmlError('<emulatorpin>', 'missing cpuset for emulatorpin');
    def.emulatorpin = parseIdList(cpuset, "<emulatorpin> attribute 'cpuset'", 65535);
  }
  for (const p of r.children('iothreadpin')) {
    const pr = new ElemReader(p, '<cputune><iothreadpin>');
    const id = pr.uint('iothread');
    if (id === undefined) throw xmlError('<iothreadpin>', 'missing iothread id in iothreadpin');
    if (id === 0) throw xmlError('<iothreadpin>', 'zero is an invalid iothread id value');
    if (!iothreadIds.includes(id)) throw xmlError('<iothreadpin>', `Cannot find 'iothread' : ${id}`);
    if (def.iothreadpin.has(id)) throw xmlError('<iothreadpin>', 'duplicate iothreadpin for same iothread');
    const cpuset = pr.str('cpuset');
    if (cpuset === undefined) throw xmlError('<iothreadpin>', 'missing cpuset for iothreadpin');
    def.iothreadpin.set(id, parseIdList(cpuset, "<iothreadpin> attribute 'cpuset'", 65535));
  }
  for (const s of r.children('vcpusched')) {
    const sr = new ElemReader(s, '<cputune><vcpusched>');
    const ids = sr.str('vcpus');
    if (ids === undefined) throw xmlError('<vcpusched>', "Missing attribute 'vcpus' in element 'vcpusched'");
    const list = parseIdList(ids, "<vcpusched> attribute 'vcpus'", 65535);
    if (list.length === 0) throw xmlError('<vcpusched>', "Invalid value of 'vcpus': " + ids);
    const sched = readSched(sr, '<vcpusched>');
    for (const id of list) {
      if (id >= maxVcpus) continue;
      if (def.vcpusched.has(id)) throw xmlError('<vcpusched>', 'vcpusched attributes \'vcpus\' must not overlap');
      def.vcpusched.set(id, { ...sched });
    }
  }
  const es = r.children('emulatorsched');
  if (es.length > 1) throw xmlError(w, 'only one emulatorsched is supported');
  if (es[0]) def.emulatorsched = readSched(new ElemReader(es[0], '<emulatorsched>'), '<emulatorsched>');
  for (const s of r.children('iothreadsched')) {
    const sr = new ElemReader(s, '<cputune><iothreadsched>');
    const ids = sr.str('iothreads');
    if (ids === undefined) throw xmlError('<iothreadsched>', "Missing attribute 'iothreads' in element 'iothreadsched'");
    const list = parseIdList(ids, "<iothreadsched> attribute 'iothreads'", 65535);
    if (list.length === 0) throw xmlError('<iothreadsched>', "Invalid value of 'iothreads': " + ids);
    const sched = readSched(sr, '<iothreadsched>');
    for (const id of list) {
      if (!iothreadIds.includes(id)) throw xmlError('<iothreadsched>', `Cannot find 'iothread' : ${id}`);
      if (def.iothreadsched.has(id)) throw xmlError('<iothreadsched>', "iothreadsched attributes 'iothreads' must not overlap");
      def.iothreadsched.set(id, { ...sched });
    }
  }
  for (const c of r.children('cachetune')) parseCachetune(c, def, maxVcpus);
  for (const m of r.children('memorytune')) parseMemorytune(m, def, maxVcpus);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

function sameSet(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function overlaps(a: number[], b: number[]): boolean {
  return a.some((v) => b.includes(v));
}

function readTuneVcpus(r: ElemReader, where: string, maxVcpus: number): number[] {
  const v = r.str('vcpus');
  if (v === undefined) throw xmlError(where, "Missing attribute 'vcpus'");
  // vCPUs beyond the maximum are dropped; a tune left with none is ignored (libvirt warns).
  return parseIdList(v, `${where} attribute 'vcpus'`, 65535).filter((x) => x < maxVcpus);
}

function parseMonitor(el: XmlElement, group: ResctrlDef, where: string, cache: boolean, maxVcpus: number): ResctrlMonitor {
  const r = new ElemReader(el, `${where} <monitor>`);
  const vcpus = readTuneVcpus(r, `${where} <monitor>`, maxVcpus);
  if (vcpus.length === 0) throw xmlError(`${where} <monitor>`, 'Invalid monitor vcpus');
  if (!vcpus.every((v) => group.vcpus.includes(v))) throw xmlError(`${where} <monitor>`, "Monitor vcpus conflicts with allocation");
  if (group.monitors.some((m) => sameSet(m.vcpus, vcpus) && (m.level !== undefined) === cache)) {
    throw xmlError(`${where} <monitor>`, 'Identical vcpus found in same type monitors');
  }
  const mon: ResctrlMonitor = { vcpus };
  if (cache) {
    const level = r.uint('level');
    if (level === undefined) throw xmlError(`${where} <monitor>`, "Missing cache monitor attribute 'level'");
    if (level !== 3) throw xmlError(`${where} <monitor>`, `Invalid cache monitor level '${level}'`);
    mon.level = level;
  }
  return mon;
}

function parseCachetune(el: XmlElement, def: CputuneDef, maxVcpus: number): void {
  const where = '<cachetune>';
  const r = new ElemReader(el, where);
  const vcpus = readTuneVcpus(r, where, maxVcpus);
  if (vcpus.length === 0) return;
  for (const g of def.resctrls) {
    if (overlaps(g.vcpus, vcpus)) throw xmlError(where, 'Overlapping vcpus in cachetunes');
  }
  const group: ResctrlDef = { vcpus, caches: [], memBandwidth: [], monitors: [], hasCachetune: true, hasMemorytune: false };
  const id = r.str('id');
  if (id !== undefined) group.id = id;
  for (const c of r.children('cache')) {
    const cr = new ElemReader(c, `${where} <cache>`);
    const cid = cr.uint('id');
    if (cid === undefined) throw xmlError(where, "Missing cachetune attribute 'id'");
    const level = cr.uint('level');
    if (level === undefined) throw xmlError(where, "Missing cachetune attribute 'level'");
    const type = cr.enumReq('type', CACHE_TYPES);
    const size = cr.str('size');
    if (size === undefined) throw xmlError(where, "Missing cachetune attribute 'size'");
    const bytes = Number(parseScaled(size, cr.str('unit'), `${where} <cache> size`, 1024n));
    for (const x of group.caches) {
      if (x.level === level && x.id === cid) {
        if (x.type === type) throw xmlError(where, `Cache with id ${cid} and level ${level} and type ${type} already defined`);
        if (x.type === 'both' || type === 'both') throw xmlError(where, `Cache allocation of type '${type}' cannot be mixed with type '${x.type}' for the same cache`);
      }
    }
    group.caches.push({ id: cid, level, type, size: bytes });
  }
  for (const m of r.children('monitor')) group.monitors.push(parseMonitor(m, group, where, true, maxVcpus));
  if (group.caches.length === 0 && group.monitors.length === 0) {
    // libvirt drops an empty cachetune.
    return;
  }
  def.resctrls.push(group);
}

function parseMemorytune(el: XmlElement, def: CputuneDef, maxVcpus: number): void {
  const where = '<memorytune>';
  const r = new ElemReader(el, where);
  const vcpus = readTuneVcpus(r, where, maxVcpus);
  if (vcpus.length === 0) return;
  let group = def.resctrls.find((g) => sameSet(g.vcpus, vcpus));
  for (const g of def.resctrls) {
    if (g !== group && overlaps(g.vcpus, vcpus)) throw xmlError(where, 'Overlapping vcpus in memorytunes');
  }
  if (group?.hasMemorytune) throw xmlError(where, 'Overlapping vcpus in memorytunes');
  const fresh = !group;
  group ??= { vcpus, caches: [], memBandwidth: [], monitors: [], hasCachetune: false, hasMemorytune: true };
  group.hasMemorytune = true;
  const id = r.str('id');
  if (id !== undefined && group.id === undefined) group.id = id;
  for (const n of r.children('node')) {
    const nr = new ElemReader(n, `${where} <node>`);
    const nid = nr.uint('id');
    if (nid === undefined) throw xmlError(where, "Missing memorytune attribute 'id'");
    const bw = nr.uint('bandwidth');
    if (bw === undefined) throw xmlError(where, "Missing memorytune attribute 'bandwidth'");
    if (group.memBandwidth.some((x) => x.id === nid)) throw xmlError(where, `Memory Bandwidth already defined for node ${nid}`);
    group.memBandwidth.push({ id: nid, bandwidth: bw });
  }
  for (const m of r.children('monitor')) group.monitors.push(parseMonitor(m, group, where, false, maxVcpus));
  if (fresh) {
    if (group.memBandwidth.length === 0 && group.monitors.length === 0) return;
    def.resctrls.push(group);
  }
}

/** Cache sizes print in the largest unit that divides them. */
function cacheSize(bytes: number): [number, string] {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  let v = bytes;
  while (v !== 0 && v % 1024 === 0 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return [v, units[u]!];
}

function groupByValue<T>(map: Map<number, T>, key: (v: T) => string): Array<[number[], T]> {
  const out: Array<[number[], T]> = [];
  for (const id of [...map.keys()].sort((a, b) => a - b)) out.push([[id], map.get(id)!]);
  void key;
  return out;
}

export function formatCputune(w: XmlWriter, def: CputuneDef | undefined, inactive: boolean): void {
  if (!def) return;
  writeEl(w, 'cputune', [], (c) => {
    if (def.shares !== undefined) c.text('shares', def.shares);
    if (def.globalPeriod) c.text('global_period', def.globalPeriod);
    if (def.globalQuota) c.text('global_quota', def.globalQuota);
    if (def.period) c.text('period', def.period);
    if (def.quota) c.text('quota', def.quota);
    if (def.emulatorPeriod) c.text('emulator_period', def.emulatorPeriod);
    if (def.emulatorQuota) c.text('emulator_quota', def.emulatorQuota);
    if (def.iothreadPeriod) c.text('iothread_period', def.iothreadPeriod);
    if (def.iothreadQuota) c.text('iothread_quota', def.iothreadQuota);
    for (const id of [...def.vcpupin.keys()].sort((a, b) => a - b)) c.empty('vcpupin', [['vcpu', id], ['cpuset', formatIdList(def.vcpupin.get(id)!)]]);
    if (def.emulatorpin) c.empty('emulatorpin', [['cpuset', formatIdList(def.emulatorpin)]]);
    for (const id of [...def.iothreadpin.keys()].sort((a, b) => a - b)) {
      c.empty('iothreadpin', [['iothread', id], ['cpuset', formatIdList(def.iothreadpin.get(id)!)]]);
    }
    if (def.emulatorsched) c.empty('emulatorsched', [['scheduler', def.emulatorsched.policy], ['priority', def.emulatorsched.priority]]);
    for (const [ids, s] of groupByValue(def.vcpusched, (s) => `${s.policy}/${s.priority}`)) {
      c.empty('vcpusched', [['vcpus', formatIdList(ids)], ['scheduler', s.policy], ['priority', s.priority]]);
    }
    for (const [ids, s] of groupByValue(def.iothreadsched, (s) => `${s.policy}/${s.priority}`)) {
      c.empty('iothreadsched', [['iothreads', formatIdList(ids)], ['scheduler', s.policy], ['priority', s.priority]]);
    }
    for (const g of def.resctrls) {
      const caches = [...g.caches].sort((a, b) => a.level - b.level || CACHE_TYPES.indexOf(a.type) - CACHE_TYPES.indexOf(b.type) || a.id - b.id);
      const mons = g.monitors.filter((m) => m.level !== undefined);
      if (caches.length === 0 && mons.length === 0) continue;
      c.open('cachetune', [['vcpus', formatIdList(g.vcpus)], ['id', inactive ? undefined : g.id]]);
      for (const x of caches) {
        const [v, u] = cacheSize(x.size);
        c.empty('cache', [['id', x.id], ['level', x.level], ['type', x.type], ['size', v], ['unit', u]]);
      }
      for (const m of mons) c.empty('monitor', [['level', m.level], ['vcpus', formatIdList(m.vcpus)]]);
      c.close('cachetune');
    }
    for (const g of def.resctrls) {
      const mons = g.monitors.filter((m) => m.level === undefined);
      if (g.memBandwidth.length === 0 && mons.length === 0) continue;
      c.open('memorytune', [['vcpus', formatIdList(g.vcpus)], ['id', inactive ? undefined : g.id]]);
      for (const n of [...g.memBandwidth].sort((a, b) => a.id - b.id)) c.empty('node', [['id', n.id], ['bandwidth', n.bandwidth]]);
      for (const m of mons) c.empty('monitor', [['vcpus', formatIdList(m.vcpus)]]);
      c.close('memorytune');
    }
  }, def.kept);
}

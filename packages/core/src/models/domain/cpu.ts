/** <cpu>: guest CPU model, features, topology and NUMA cells. */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { formatIdList, parseIdList, parseScaled } from '../../xml/values.js';
import { ElemReader, readScaledAttrKiB, xmlError } from './reader.js';
import { oo, writeEl, yn, type AttrList } from './writer.js';

export const CPU_MODES = ['custom', 'host-model', 'host-passthrough', 'maximum'] as const;
export const CPU_FEATURE_POLICIES = ['force', 'require', 'optional', 'disable', 'forbid'] as const;

export interface NumaCellCache {
  level: number;
  associativity: string;
  policy: string;
  /** KiB. */
  size: number;
  /** bytes. */
  line: number;
}

export interface NumaCell {
  id: number;
  cpus?: number[];
  /** KiB. */
  memory: number;
  memAccess?: 'shared' | 'private';
  discard?: boolean;
  distances?: Array<{ id: number; value: number }>;
  caches?: NumaCellCache[];
}

export interface NumaInterconnect {
  kind: 'latency' | 'bandwidth';
  initiator: number;
  target: number;
  cache?: number;
  type: string;
  /** latency: ns; bandwidth: KiB/s. */
  value: number;
}

export interface NumaDef {
  cells: NumaCell[];
  interconnects?: NumaInterconnect[];
}

export interface CpuDef {
  mode: (typeof CPU_MODES)[number];
  match?: 'minimum' | 'exact' | 'strict';
  check?: 'none' | 'partial' | 'full';
  migratable?: boolean;
  model?: string;
  fallback?: 'allow' | 'forbid';
  vendorId?: string;
  vendor?: string;
  topology?: { sockets: number; dies: number; clusters?: number; cores: number; threads: number };
  cache?: { level?: number; mode: string };
  maxphysaddr?: { mode: string; bits?: number; limit?: number };
  features: Array<{ name: string; policy: (typeof CPU_FEATURE_POLICIES)[number] }>;
  numa?: NumaDef;
  kept?: KeptXml;
}

function parseNuma(el: XmlElement, where: string): NumaDef {
  const numa: NumaDef = { cells: [] };
  const cells = el.elements('cell');
  cells.forEach((c, i) => {
    const r = new ElemReader(c, `${where} <cell>`);
    const id = r.uint('id') ?? i;
    if (id >= cells.length) throw xmlError(where, "Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed");
    if (numa.cells.some((x) => x.id === id)) throw xmlError(where, `Duplicate NUMA cell info for cell id '${id}'`);
    const mem = r.str('memory');
    if (mem === undefined) throw xmlError(where, `Missing 'memory' attribute in NUMA cell`);
    const cell: NumaCell = { id, memory: readScaledAttrKiB(mem, r.str('unit'), `${where} <cell> memory`) };
    const cpus = r.str('cpus');
    if (cpus !== undefined) cell.cpus = parseIdList(cpus, `${where} <cell> cpus`, 65535);
    const ma = r.enum('memAccess', ['default', 'shared', 'private'] as const);
    if (ma && ma !== 'default') cell.memAccess = ma;
    const d = r.yesNo('discard');
    if (d !== undefined) cell.discard = d;
    const dist = r.child('distances');
    if (dist) {
      cell.distances = dist.elements('sibling').map((s) => {
        const sr = new ElemReader(s, `${where} <sibling>`);
        const sid = sr.uint('id');
        const value = sr.uint('value');
        if (sid === undefined || value === undefined) throw xmlError(where, 'Missing sibling id or value');
        if (value < 10 || value > 255) throw xmlError(where, `'value' attribute '${value}' should be between 10 and 255`);
        return { id: sid, value };
      });
    }
    const caches = r.children('cache');
    if (caches.length) {
      cell.caches = caches.map((ce) => {
        const cr = new ElemReader(ce, `${where} <cache>`);
        const level = cr.uint('level');
        if (level === undefined) throw xmlError(where, "Missing 'level' attribute in cache element for NUMA node");
        const associativity = cr.enumReq('associativity', ['none', 'direct', 'full'] as const);
        const policy = cr.enumReq('policy', ['none', 'writeback', 'writethrough'] as const);
        const size = ce.child('size');
        const line = ce.child('line');
        if (!size) throw xmlError(where, "Missing 'size' element in cache element for NUMA node");
        if (!line) throw xmlError(where, "Missing 'line' element in cache element for NUMA node");
        const sv = size.attr('value') ?? '';
        const lv = line.attr('value') ?? '';
        return {
          level, associativity, policy,
          size: Number((parseScaled(sv, size.attr('unit'), `${where} <cache><size>`, 1024n) + 1023n) / 1024n),
          line: Number(parseScaled(lv, line.attr('unit'), `${where} <cache><line>`, 1n)),
        };
      });
    }
    numa.cells.push(cell);
  });
  numa.cells.sort((a, b) => a.id - b.id);
  const ic = el.child('interconnects');
  if (ic) {
    numa.interconnects = ic.elements('latency', 'bandwidth').map((e) => {
      const r = new ElemReader(e, `${where} <${e.name}>`);
      const initiator = r.uint('initiator');
      const target = r.uint('target');
      if (initiator === undefined || target === undefined) throw xmlError(where, `invalid or missing 'initiator'/'target' attribute in ${e.name}`);
      const type = r.enumReq('type', ['access', 'read', 'write'] as const);
      const value = r.str('value');
      if (value === undefined) throw xmlError(where, `missing 'value' attribute in ${e.name}`);
      const x: NumaInterconnect = { kind: e.name as 'latency' | 'bandwidth', initiator, target, type, value: 0 };
      const cache = r.uint('cache');
      if (cache !== undefined && cache > 0) x.cache = cache;
      if (x.kind === 'bandwidth') x.value = Number((parseScaled(value, r.str('unit'), `${where} <bandwidth>`, 1024n) + 1023n) / 1024n);
      else {
        if (!/^[0-9]+$/.test(value)) throw xmlError(where, `invalid 'value' attribute in latency`);
        x.value = Number(value);
      }
      return x;
    });
  }
  return numa;
}

export function parseCpu(el: XmlElement): CpuDef {
  const r = new ElemReader(el, '<cpu>');
  const mode = r.enum('mode', CPU_MODES) ?? 'custom';
  const def: CpuDef = { mode, features: [] };
  const match = r.enum('match', ['minimum', 'exact', 'strict'] as const);
  const check = r.enum('check', ['default', 'none', 'partial', 'full'] as const);
  if (check && check !== 'default') def.check = check;
  const mig = r.onOff('migratable');
  if (mig !== undefined) {
    if (mode !== 'host-passthrough' && mode !== 'maximum') throw xmlError('<cpu>', `Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode`);
    def.migratable = mig;
  }
  const m = r.child('model');
  if (m) {
    const mr = new ElemReader(m, '<cpu><model>');
    const name = m.text().trim();
    if (name) def.model = name;
    const fb = mr.enum('fallback', ['allow', 'forbid'] as const);
    if (fb) def.fallback = fb;
    const vid = mr.str('vendor_id');
    if (vid !== undefined) {
      if (vid.length !== 12) throw xmlError('<cpu><model>', `vendor_id must be exactly 12 characters long`);
      def.vendorId = vid;
    }
  }
  if (mode === 'custom') {
    if (def.model) def.match = match ?? 'exact';
  } else if (match) def.match = match;
  const vendor = r.childTrimmed('vendor');
  if (vendor !== undefined) {
    if (!def.model) throw xmlError('<cpu>', 'CPU vendor specified without CPU model');
    def.vendor = vendor;
  }
  const topo = r.child('topology');
  if (topo) {
    const tr = new ElemReader(topo, '<cpu><topology>');
    const req = (n: string): number => {
      const v = tr.uint(n);
      if (v === undefined || v === 0) throw xmlError('<cpu><topology>', `Missing '${n}' attribute in CPU topology`);
      return v;
    };
    const sockets = req('sockets');
    const dies = tr.uint('dies') ?? 1;
    if (dies === 0) throw xmlError('<cpu><topology>', "Invalid 'dies' value in CPU topology");
    const clusters = tr.uint('clusters');
    const cores = req('cores');
    const threads = req('threads');
    def.topology = { sockets, dies, cores, threads };
    if (clusters !== undefined) def.topology.clusters = clusters;
  }
  const cache = r.child('cache');
  if (cache) {
    const cr = new ElemReader(cache, '<cpu><cache>');
    const cmode = cr.enumReq('mode', ['emulate', 'passthrough', 'disable'] as const);
    def.cache = { mode: cmode };
    const level = cr.uint('level');
    if (level !== undefined) def.cache.level = level;
  }
  const mpa = r.child('maxphysaddr');
  if (mpa) {
    const mr = new ElemReader(mpa, '<cpu><maxphysaddr>');
    const pmode = mr.enumReq('mode', ['emulate', 'passthrough'] as const);
    def.maxphysaddr = { mode: pmode };
    const bits = mr.uint('bits');
    if (bits !== undefined) def.maxphysaddr.bits = bits;
    const limit = mr.uint('limit');
    if (limit !== undefined) def.maxphysaddr.limit = limit;
  }
  for (const f of r.children('feature')) {
    const fr = new ElemReader(f, '<cpu><feature>');
    const name = fr.str('name');
    if (!name) throw xmlError('<cpu><feature>', 'Invalid CPU feature name');
    const policy = fr.enum('policy', CPU_FEATURE_POLICIES) ?? 'require';
    if (def.features.some((x) => x.name === name)) throw xmlError('<cpu>', `CPU feature '${name}' specified more than once`);
    def.features.push({ name, policy });
  }
  if (!def.model && mode === 'custom' && def.features.length) throw xmlError('<cpu>', 'Non-empty feature list specified without CPU model');
  const numa = r.child('numa');
  if (numa) def.numa = parseNuma(numa, '<cpu><numa>');
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatCpu(w: XmlWriter, def: CpuDef | undefined): void {
  if (!def) return;
  const a: AttrList = [];
  if (def.mode !== 'custom' || def.model) a.push(['mode', def.mode]);
  if (def.model && def.mode === 'custom') a.push(['match', def.match ?? 'exact']);
  a.push(['check', def.check]);
  if ((def.mode === 'host-passthrough' || def.mode === 'maximum') && def.migratable !== undefined) a.push(['migratable', oo(def.migratable)]);
  writeEl(w, 'cpu', a, (c) => {
    const formatModel = def.mode === 'custom' || def.mode === 'host-model';
    const formatFallback = def.mode === 'host-model' || (def.mode === 'custom' && !!def.model);
    if ((formatModel && def.model) || formatFallback) {
      const ma: AttrList = formatFallback ? [['fallback', def.fallback ?? 'allow'], ['vendor_id', def.vendorId]] : [];
      if (formatModel && def.model) c.text('model', def.model, ma);
      else c.empty('model', ma);
    }
    if (formatModel && def.vendor) c.text('vendor', def.vendor);
    const t = def.topology;
    if (t) c.empty('topology', [['sockets', t.sockets], ['dies', t.dies], ['clusters', t.clusters], ['cores', t.cores], ['threads', t.threads]]);
    if (def.cache) c.empty('cache', [['level', def.cache.level], ['mode', def.cache.mode]]);
    if (def.maxphysaddr) c.empty('maxphysaddr', [['mode', def.maxphysaddr.mode], ['bits', def.maxphysaddr.bits], ['limit', def.maxphysaddr.limit]]);
    for (const f of def.features) c.empty('feature', [['policy', f.policy], ['name', f.name]]);
    const numa = def.numa;
    if (numa && numa.cells.length) {
      c.open('numa');
      for (const cell of numa.cells) {
        const ca: AttrList = [
          ['id', cell.id], ['cpus', cell.cpus && cell.cpus.length ? formatIdList(cell.cpus) : undefined], ['memory', cell.memory], ['unit', 'KiB'],
          ['memAccess', cell.memAccess], ['discard', yn(cell.discard)],
        ];
        c.element('cell', ca, (x) => {
          if (cell.distances && cell.distances.length) {
            x.open('distances');
            for (const d of cell.distances) x.empty('sibling', [['id', d.id], ['value', d.value]]);
            x.close('distances');
          }
          for (const cc of cell.caches ?? []) {
            x.open('cache', [['level', cc.level], ['associativity', cc.associativity], ['policy', cc.policy]]);
            x.empty('size', [['value', cc.size], ['unit', 'KiB']]);
            x.empty('line', [['value', cc.line], ['unit', 'B']]);
            x.close('cache');
          }
        }, true);
      }
      if (numa.interconnects && numa.interconnects.length) {
        c.open('interconnects');
        for (const i of numa.interconnects) {
          c.empty(i.kind, [
            ['initiator', i.initiator], ['target', i.target], ['cache', i.cache], ['type', i.type], ['value', i.value],
            ['unit', i.kind === 'bandwidth' ? 'KiB' : undefined],
          ]);
        }
        c.close('interconnects');
      }
      c.close('numa');
    }
  }, def.kept);
}

/** Total memory of the guest NUMA cells, in KiB. */
export function numaMemory(def: CpuDef | undefined): number {
  return def?.numa?.cells.reduce((s, c) => s + c.memory, 0) ?? 0;
}

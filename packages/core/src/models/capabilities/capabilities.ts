/**
 * The host capabilities document (`virsh capabilities`, libvirt's virCaps):
 * the host (CPU, power management, NUMA topology, security models) and the
 * guest types each emulator offers.
 */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import { XmlWriter } from '../../xml/write.js';
import { parseIdList, formatIdList, parseUuid } from '../../xml/values.js';
import { parseXml } from '../../xml/parse.js';
import { ElemReader, xmlError } from '../domain/reader.js';
import { writeEl, yn, type AttrList } from '../domain/writer.js';

export interface CapsPage {
  /** KiB. */
  size: number;
  /** Free/total pages in a NUMA cell (topology only). */
  count?: number;
}

export interface CapsHostCpu {
  arch?: string;
  model?: string;
  vendor?: string;
  microcode?: number;
  signature?: { family: number; model: number; stepping: number };
  counter?: { name: string; frequency: number; scaling?: boolean };
  topology?: { sockets: number; dies: number; cores: number; threads: number };
  maxphysaddr?: { mode: string; bits?: number };
  features: string[];
  pages: CapsPage[];
  kept?: KeptXml;
}

export interface CapsCellCpu {
  id: number;
  socketId?: number;
  dieId?: number;
  coreId?: number;
  siblings?: number[];
}

export interface CapsCell {
  id: number;
  /** KiB. */
  memory?: number;
  pages: CapsPage[];
  distances: Array<{ id: number; value: number }>;
  cpus: CapsCellCpu[];
}

export interface CapsSecModel {
  model: string;
  doi: string;
  baselabels: Array<{ type: string; label: string }>;
}

export interface CapsHost {
  uuid?: string;
  cpu: CapsHostCpu;
  /** suspend_mem, suspend_disk, suspend_hybrid; undefined when unknown. */
  powerManagement?: string[];
  iommu?: boolean;
  migration?: { live: boolean; uriTransports: string[] };
  cells?: CapsCell[];
  /** <cache> and <memory_bandwidth>, kept verbatim. */
  cache?: XmlElement;
  memoryBandwidth?: XmlElement;
  secmodels: CapsSecModel[];
  kept?: KeptXml;
}

export interface CapsMachine {
  name: string;
  canonical?: string;
  maxCpus?: number;
  deprecated?: boolean;
}

export interface CapsGuestDomain {
  type: string;
  emulator?: string;
  loader?: string;
  machines: CapsMachine[];
}

export interface CapsGuestFeature {
  name: string;
  default?: boolean;
  toggle?: boolean;
}

export interface CapsGuest {
  osType: string;
  arch: string;
  wordsize?: number;
  emulator?: string;
  loader?: string;
  machines: CapsMachine[];
  domains: CapsGuestDomain[];
  features: CapsGuestFeature[];
}

export interface CapabilitiesDef {
  host: CapsHost;
  guests: CapsGuest[];
}

const GUEST_FEATURE_ORDER = ['pae', 'nonpae', 'ia64_be', 'acpi', 'apic', 'cpuselection', 'deviceboot', 'disksnapshot', 'hap', 'externalSnapshot'];

function num(r: ElemReader, name: string): number | undefined {
  return r.ulong(name);
}

function parsePages(els: XmlElement[], where: string, withCount: boolean): CapsPage[] {
  return els.map((p) => {
    const r = new ElemReader(p, where);
    const size = r.ulong('size');
    if (size === undefined) throw xmlError(where, 'missing page size');
    r.ignoreAttrs('unit');
    const page: CapsPage = { size };
    if (withCount) {
      const t = p.text().trim();
      if (t) page.count = Number(t);
    }
    return page;
  });
}

function parseMachines(els: XmlElement[], where: string): CapsMachine[] {
  return els.map((m) => {
    const r = new ElemReader(m, where);
    const name = m.text().trim();
    if (!name) throw xmlError(where, 'missing machine name');
    const mc: CapsMachine = { name };
    const c = r.str('canonical');
    if (c !== undefined) mc.canonical = c;
    const mx = num(r, 'maxCpus');
    if (mx !== undefined) mc.maxCpus = mx;
    const d = r.yesNo('deprecated');
    if (d !== undefined) mc.deprecated = d;
    return mc;
  });
}

function parseHost(el: XmlElement): CapsHost {
  const r = new ElemReader(el, '<host>');
  const host: CapsHost = { cpu: { features: [], pages: [] }, secmodels: [] };
  const uuid = r.childTrimmed('uuid');
  if (uuid !== undefined) host.uuid = parseUuid(uuid, '<host><uuid>');
  const cpu = r.child('cpu');
  if (cpu) {
    const cr = new ElemReader(cpu, '<host><cpu>');
    const c = host.cpu;
    const arch = cr.childTrimmed('arch');
    if (arch !== undefined) c.arch = arch;
    const model = cr.childTrimmed('model');
    if (model !== undefined) c.model = model;
    const vendor = cr.childTrimmed('vendor');
    if (vendor !== undefined) c.vendor = vendor;
    const mc = cr.child('microcode');
    if (mc) {
      const v = new ElemReader(mc, '<microcode>').ulong('version');
      if (v !== undefined) c.microcode = v;
    }
    const sig = cr.child('signature');
    if (sig) {
      const sr = new ElemReader(sig, '<signature>');
      c.signature = { family: sr.uint('family') ?? 0, model: sr.uint('model') ?? 0, stepping: sr.uint('stepping') ?? 0 };
    }
    const ctr = cr.child('counter');
    if (ctr) {
      const rr = new ElemReader(ctr, '<counter>');
      c.counter = { name: rr.str('name') ?? 'tsc', frequency: rr.ulong('frequency') ?? 0 };
      const sc = rr.yesNo('scaling');
      if (sc !== undefined) c.counter.scaling = sc;
    }
    const topo = cr.child('topology');
    if (topo) {
      const tr = new ElemReader(topo, '<topology>');
      c.topology = { sockets: tr.uint('sockets') ?? 0, dies: tr.uint('dies') ?? 1, cores: tr.uint('cores') ?? 0, threads: tr.uint('threads') ?? 0 };
    }
    const mpa = cr.child('maxphysaddr');
    if (mpa) {
      const mr = new ElemReader(mpa, '<maxphysaddr>');
      c.maxphysaddr = { mode: mr.str('mode') ?? 'passthrough' };
      const b = mr.uint('bits');
      if (b !== undefined) c.maxphysaddr.bits = b;
    }
    for (const f of cr.children('feature')) {
      const n = f.attr('name');
      if (n) c.features.push(n);
    }
    c.pages = parsePages(cr.children('pages'), '<host><cpu><pages>', false);
    const k = cr.kept();
    if (k) c.kept = k;
  }
  const pm = r.child('power_management');
  if (pm) host.powerManagement = pm.elements().map((e) => e.name);
  const iommu = r.child('iommu');
  if (iommu) host.iommu = new ElemReader(iommu, '<iommu>').yesNo('support') ?? false;
  const mig = r.child('migration_features');
  if (mig) {
    host.migration = { live: !!mig.child('live'), uriTransports: [] };
    const ut = mig.child('uri_transports');
    if (ut) host.migration.uriTransports = ut.elements('uri_transport').map((u) => u.text().trim());
  }
  const topo = r.child('topology');
  if (topo) {
    const cells = topo.child('cells');
    host.cells = (cells?.elements('cell') ?? []).map((cell) => {
      const cr = new ElemReader(cell, '<topology><cell>');
      const id = cr.uint('id');
      if (id === undefined) throw xmlError('<topology><cell>', 'missing cell id');
      const out: CapsCell = { id, pages: [], distances: [], cpus: [] };
      const mem = cell.child('memory');
      if (mem) out.memory = Number(mem.text().trim());
      out.pages = parsePages(cell.elements('pages'), '<cell><pages>', true);
      const d = cell.child('distances');
      if (d) out.distances = d.elements('sibling').map((s) => ({ id: Number(s.attr('id') ?? 0), value: Number(s.attr('value') ?? 0) }));
      const cpus = cell.child('cpus');
      if (cpus) {
        out.cpus = cpus.elements('cpu').map((c) => {
          const pr = new ElemReader(c, '<cell><cpu>');
          const cpu: CapsCellCpu = { id: pr.uint('id') ?? 0 };
          const s = pr.uint('socket_id');
          if (s !== undefined) cpu.socketId = s;
          const di = pr.uint('die_id');
          if (di !== undefined) cpu.dieId = di;
          const co = pr.uint('core_id');
          if (co !== undefined) cpu.coreId = co;
          const sib = pr.str('siblings');
          if (sib !== undefined) cpu.siblings = parseIdList(sib, '<cell><cpu> siblings');
          return cpu;
        });
      }
      return out;
    });
  }
  const cache = r.child('cache');
  if (cache) host.cache = cache;
  const mbw = r.child('memory_bandwidth');
  if (mbw) host.memoryBandwidth = mbw;
  for (const s of r.children('secmodel')) {
    host.secmodels.push({
      model: s.childText('model')?.trim() ?? '',
      doi: s.childText('doi')?.trim() ?? '',
      baselabels: s.elements('baselabel').map((b) => ({ type: b.attr('type') ?? '', label: b.text() })),
    });
  }
  const kept = r.kept();
  if (kept) host.kept = kept;
  return host;
}

function parseGuest(el: XmlElement): CapsGuest {
  const r = new ElemReader(el, '<guest>');
  const osType = r.childTrimmed('os_type');
  if (!osType) throw xmlError('<guest>', 'missing os_type');
  const archEl = r.child('arch');
  const arch = archEl?.attr('name');
  if (!archEl || !arch) throw xmlError('<guest>', 'missing arch name');
  const g: CapsGuest = { osType, arch, machines: [], domains: [], features: [] };
  const ar = new ElemReader(archEl, `<guest><arch name='${arch}'>`);
  const ws = ar.childTrimmed('wordsize');
  if (ws !== undefined) g.wordsize = Number(ws);
  const emu = ar.childTrimmed('emulator');
  if (emu !== undefined) g.emulator = emu;
  const loader = ar.childTrimmed('loader');
  if (loader !== undefined) g.loader = loader;
  g.machines = parseMachines(ar.children('machine'), '<arch><machine>');
  for (const d of ar.children('domain')) {
    const type = d.attr('type');
    if (!type) throw xmlError('<arch><domain>', 'missing domain type');
    const dom: CapsGuestDomain = { type, machines: parseMachines(d.elements('machine'), '<domain><machine>') };
    const de = d.childText('emulator')?.trim();
    if (de) dom.emulator = de;
    const dl = d.childText('loader')?.trim();
    if (dl) dom.loader = dl;
    g.domains.push(dom);
  }
  const feats = r.child('features');
  if (feats) {
    for (const f of feats.elements()) {
      const fr = new ElemReader(f, `<features><${f.name}>`);
      const feat: CapsGuestFeature = { name: f.name };
      const dflt = fr.onOff('default');
      if (dflt !== undefined) feat.default = dflt;
      const toggle = fr.yesNo('toggle');
      if (toggle !== undefined) feat.toggle = toggle;
      g.features.push(feat);
    }
  }
  return g;
}

/** Parses a capabilities document (`virsh capabilities` output). */
export function parseCapabilitiesXml(xml: string | XmlElement): CapabilitiesDef {
  const root = typeof xml === 'string' ? parseXml(xml, 'capabilities XML') : xml;
  if (root.name !== 'capabilities') throw xmlError('capabilities XML', `unexpected root element <${root.name}>, expecting <capabilities>`);
  const hostEl = root.child('host');
  if (!hostEl) throw xmlError('<capabilities>', 'missing <host> element');
  return { host: parseHost(hostEl), guests: root.elements('guest').map(parseGuest) };
}

function formatMachines(w: XmlWriter, machines: CapsMachine[]): void {
  for (const m of machines) {
    w.text('machine', m.name, [['canonical', m.canonical], ['maxCpus', m.maxCpus], ['deprecated', m.deprecated ? 'yes' : undefined]]);
  }
}

function formatHost(w: XmlWriter, h: CapsHost): void {
  w.open('host');
  w.text('uuid', h.uuid);
  const c = h.cpu;
  writeEl(w, 'cpu', [], (x) => {
    x.text('arch', c.arch);
    x.text('model', c.model);
    x.text('vendor', c.vendor);
    if (c.microcode !== undefined) x.empty('microcode', [['version', c.microcode]]);
    if (c.signature) x.empty('signature', [['family', c.signature.family], ['model', c.signature.model], ['stepping', c.signature.stepping]]);
    if (c.counter) x.empty('counter', [['name', c.counter.name], ['frequency', c.counter.frequency], ['scaling', yn(c.counter.scaling)]]);
    if (c.topology) x.empty('topology', [['sockets', c.topology.sockets], ['dies', c.topology.dies], ['cores', c.topology.cores], ['threads', c.topology.threads]]);
    if (c.maxphysaddr) x.empty('maxphysaddr', [['mode', c.maxphysaddr.mode], ['bits', c.maxphysaddr.bits]]);
    for (const f of c.features) x.empty('feature', [['name', f]]);
    for (const p of c.pages) x.empty('pages', [['unit', 'KiB'], ['size', p.size]]);
  }, c.kept, true);
  if (h.powerManagement) {
    if (h.powerManagement.length === 0) w.empty('power_management');
    else {
      w.open('power_management');
      for (const p of h.powerManagement) w.empty(p);
      w.close('power_management');
    }
  }
  if (h.iommu !== undefined) w.empty('iommu', [['support', yn(h.iommu)]]);
  if (h.migration) {
    w.open('migration_features');
    if (h.migration.live) w.empty('live');
    if (h.migration.uriTransports.length) {
      w.open('uri_transports');
      for (const t of h.migration.uriTransports) w.text('uri_transport', t);
      w.close('uri_transports');
    }
    w.close('migration_features');
  }
  if (h.cells) {
    w.open('topology');
    w.open('cells', [['num', h.cells.length]]);
    for (const cell of h.cells) {
      w.open('cell', [['id', cell.id]]);
      if (cell.memory !== undefined) w.text('memory', cell.memory, [['unit', 'KiB']]);
      for (const p of cell.pages) w.text('pages', p.count ?? 0, [['unit', 'KiB'], ['size', p.size]]);
      if (cell.distances.length) {
        w.open('distances');
        for (const d of cell.distances) w.empty('sibling', [['id', d.id], ['value', d.value]]);
        w.close('distances');
      }
      w.open('cpus', [['num', cell.cpus.length]]);
      for (const cpu of cell.cpus) {
        const a: AttrList = [['id', cpu.id], ['socket_id', cpu.socketId], ['die_id', cpu.dieId], ['core_id', cpu.coreId]];
        if (cpu.siblings) a.push(['siblings', formatIdList(cpu.siblings)]);
        w.empty('cpu', a);
      }
      w.close('cpus');
      w.close('cell');
    }
    w.close('cells');
    w.close('topology');
  }
  if (h.cache) w.node(h.cache);
  if (h.memoryBandwidth) w.node(h.memoryBandwidth);
  for (const s of h.secmodels) {
    w.open('secmodel');
    w.text('model', s.model);
    w.text('doi', s.doi);
    for (const b of s.baselabels) w.text('baselabel', b.label, [['type', b.type]]);
    w.close('secmodel');
  }
  if (h.kept?.children) for (const k of h.kept.children) w.node(k);
  w.close('host');
}

function formatGuest(w: XmlWriter, g: CapsGuest): void {
  w.open('guest');
  w.text('os_type', g.osType);
  w.open('arch', [['name', g.arch]]);
  w.text('wordsize', g.wordsize);
  w.text('emulator', g.emulator);
  w.text('loader', g.loader);
  formatMachines(w, g.machines);
  for (const d of g.domains) {
    w.element('domain', [['type', d.type]], (x) => {
      x.text('emulator', d.emulator);
      x.text('loader', d.loader);
      formatMachines(x, d.machines);
    }, true);
  }
  w.close('arch');
  if (g.features.length) {
    w.open('features');
    const ordered = [...g.features].sort((a, b) => {
      const ia = GUEST_FEATURE_ORDER.indexOf(a.name);
      const ib = GUEST_FEATURE_ORDER.indexOf(b.name);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
    for (const f of ordered) w.empty(f.name, [['default', f.default === undefined ? undefined : f.default ? 'on' : 'off'], ['toggle', yn(f.toggle)]]);
    w.close('features');
  }
  w.close('guest');
}

/** Formats capabilities as `virsh capabilities` prints them (blank line after each section). */
export function formatCapabilitiesXml(caps: CapabilitiesDef): string {
  const w = new XmlWriter();
  w.raw('<capabilities>\n\n');
  const inner = new XmlWriter(2);
  formatHost(inner, caps.host);
  w.raw(inner.toString() + '\n');
  for (const g of caps.guests) {
    const gw = new XmlWriter(2);
    formatGuest(gw, g);
    w.raw(gw.toString() + '\n');
  }
  w.raw('</capabilities>\n');
  return w.toString();
}

/**
 * Finds the guest entry for an OS type / arch / virt type like libvirt's
 * virCapabilitiesDomainDataLookup: returns the emulator and default machine.
 */
export function lookupGuestCaps(
  caps: CapabilitiesDef,
  osType: string,
  arch: string | undefined,
  virtType: string,
  machine?: string,
): { guest: CapsGuest; emulator?: string; machine?: string } | undefined {
  for (const g of caps.guests) {
    if (g.osType !== osType || (arch && g.arch !== arch)) continue;
    const d = g.domains.find((x) => x.type === virtType);
    if (!d) continue;
    const machines = d.machines.length ? d.machines : g.machines;
    if (machine && !machines.some((m) => m.name === machine || m.canonical === machine)) continue;
    const res: { guest: CapsGuest; emulator?: string; machine?: string } = { guest: g };
    const emu = d.emulator ?? g.emulator;
    if (emu) res.emulator = emu;
    const m = machine ?? machines[0]?.name;
    if (m) res.machine = m;
    return res;
  }
  return undefined;
}



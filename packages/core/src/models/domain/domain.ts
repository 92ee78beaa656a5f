/**
 * The domain definition (libvirt's virDomainDef): its typed model and the
 * parse / format entry points. Element order, defaults and units follow
 * libvirt 9.0's domain_conf.c.
 */
import type { KeptXml } from '../../xml/keep.js';
import { XmlElement } from '../../xml/tree.js';
import { XmlWriter, escapeXml } from '../../xml/write.js';
import { generateUuid, parseUuid } from '../../xml/values.js';
import { parseXml } from '../../xml/parse.js';
import type { DomainFormatOptions, DomainParseOptions, DomainParserConfig, FormatContext, ParseContext } from './context.js';
import { ElemReader, xmlError } from './reader.js';
import { writeEl } from './writer.js';
import {
  formatBlkioTune, formatMemoryBacking, formatMemTune, formatMemory, parseBlkioTune, parseMemoryBacking, parseMemTune, parseMemory,
  type BlkioTuneDef, type MemoryBackingDef, type MemoryDef, type MemTuneDef,
} from './memory.js';
import {
  formatIothreads, formatNumatune, formatVcpu, parseIothreads, parseNumatune, parseVcpu,
  type DefaultIothreadDef, type IothreadIdDef, type NumatuneDef, type VcpuDef,
} from './vcpu.js';
import { formatCputune, parseCputune, type CputuneDef } from './cputune.js';
import { formatOs, parseOs, type OsDef } from './os.js';
import { formatFeatures, parseFeatures, type FeaturesDef } from './features.js';
import { formatCpu, parseCpu, type CpuDef } from './cpu.js';
import { formatClock, parseClock, type ClockDef } from './clock.js';
import { formatLifecycle, formatPerf, formatPm, parseLifecycle, parsePerf, parsePm, type LifecycleDef, type PerfDef, type PmDef } from './lifecycle.js';
import {
  formatKeywrap, formatLaunchSecurity, formatSeclabel, parseKeywrap, parseLaunchSecurity, parseSeclabel,
  type KeywrapDef, type LaunchSecurityDef, type SeclabelDef,
} from './security.js';
import { formatDevices, parseDevices, type DomainDevices } from './devices/index.js';
import { postParseDomain } from './postparse.js';
import { validateDomainDef } from './validate.js';

export const VIRT_TYPES = [
  'none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz',
] as const;
export type VirtType = (typeof VIRT_TYPES)[number];

export interface IdmapEntry {
  start: number;
  target: number;
  count: number;
}

export interface ResourceDef {
  partition?: string;
  fibrechannelAppid?: string;
}

export interface DomainDef {
  /** Hypervisor type (`<domain type>`): qemu, kvm, lxc, xen, test, … */
  /** One of libvirt's virt types, or a third-party driver's own (declared in its DomainParserConfig.domainTypes). */
  type: VirtType | (string & {});
  /** Live domain id; -1 when not running (or parsed inactive). */
  id: number;
  name: string;
  uuid: string;
  /** VM generation id: absent, or requested (value set; `genidGenerated` when it was made up). */
  genid?: string;
  genidGenerated?: boolean;
  title?: string;
  description?: string;
  /** <metadata> children, kept verbatim. */
  metadata?: XmlElement[];
  memory: MemoryDef;
  blkiotune?: BlkioTuneDef;
  memtune?: MemTuneDef;
  memoryBacking?: MemoryBackingDef;
  vcpu: VcpuDef;
  iothreads: number;
  iothreadids: IothreadIdDef[];
  defaultIothread?: DefaultIothreadDef;
  cputune?: CputuneDef;
  numatune?: NumatuneDef;
  resource?: ResourceDef;
  /** <sysinfo> elements, kept verbatim. */
  sysinfo?: XmlElement[];
  os: OsDef;
  idmap?: { uid: IdmapEntry[]; gid: IdmapEntry[] };
  features?: FeaturesDef;
  cpu?: CpuDef;
  clock: ClockDef;
  lifecycle: LifecycleDef;
  pm?: PmDef;
  perf?: PerfDef;
  devices: DomainDevices;
  seclabels: SeclabelDef[];
  keywrap?: KeywrapDef;
  launchSecurity?: LaunchSecurityDef;
  /** Driver namespace data by namespace URI (qemu:commandline, lxc:namespace, …). */
  namespaceData?: Map<string, unknown>;
  /** Unknown attributes/children of <domain>, written back at the end. */
  kept?: KeptXml;
}

function parseIdmapEntries(els: XmlElement[], where: string): IdmapEntry[] {
  const out = els.map((e) => {
    const r = new ElemReader(e, where);
    const start = r.uint('start');
    const target = r.uint('target');
    const count = r.uint('count');
    if (start === undefined || target === undefined || count === undefined) throw xmlError(where, 'invalid idmap start/target/count settings');
    return { start, target, count };
  });
  out.sort((a, b) => a.start - b.start);
  if (out.length && out[0]!.start !== 0) throw xmlError(where, "You must map the root user of container");
  return out;
}

/** Metadata children must be namespaced; duplicates of one namespace are dropped (virXMLNodeSanitizeNamespaces). */
function sanitizeMetadata(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  const seen = new Set<string>();
  for (const c of el.elements()) {
    const colon = c.name.indexOf(':');
    const prefix = colon > 0 ? c.name.slice(0, colon) : '';
    const ns = prefix ? c.attr(`xmlns:${prefix}`) : c.attr('xmlns');
    if (!ns) continue;
    if (seen.has(ns)) continue;
    seen.add(ns);
    out.push(c);
  }
  return out;
}

/** Writes an element as libxml2's xmlNodeDump does (double-quoted attributes), for <metadata>. */
function writeLibxmlNode(w: XmlWriter, el: XmlElement, pad: string): void {
  let s = `${pad}<${el.name}`;
  for (const k in el.attrs) s += ` ${k}="${escapeXml(el.attrs[k]!).replace(/&apos;/g, "'")}"`;
  if (el.children.length === 0) {
    w.raw(`${s}/>\n`);
    return;
  }
  if (!el.hasElementChildren()) {
    w.raw(`${s}>${escapeXml(el.text()).replace(/&apos;/g, "'").replace(/&quot;/g, '"')}</${el.name}>\n`);
    return;
  }
  w.raw(`${s}>\n`);
  for (const c of el.children) {
    if (typeof c === 'string') w.raw(`${pad}  ${escapeXml(c.trim())}\n`);
    else writeLibxmlNode(w, c, pad + '  ');
  }
  w.raw(`${pad}</${el.name}>\n`);
}

/**
 * Parses domain XML into a DomainDef, running the generic post-parse and
 * validation and the driver hooks of `opts.config`. Throws VirtError
 * (XML_ERROR, CONFIG_UNSUPPORTED, XML_DETAIL) naming the element at fault.
 */
export function parseDomainXml(xml: string | XmlElement, opts: DomainParseOptions = {}): DomainDef {
  const root = typeof xml === 'string' ? parseXml(xml, opts.what ?? 'domain XML') : xml;
  if (root.name !== 'domain') throw xmlError('domain XML', `unexpected root element <${root.name}>, expecting <domain>`);
  const config: DomainParserConfig = opts.config ?? {};
  const ctx: ParseContext = { inactive: !!opts.inactive, config, opts };
  const def = parseDomainElement(root, ctx);
  if (!opts.skipPostParse) postParseDomain(def, ctx);
  if (!opts.skipValidate && !opts.skipPostParse) validateDomainDef(def, config, opts);
  return def;
}

function parseDomainElement(root: XmlElement, ctx: ParseContext): DomainDef {
  const r = new ElemReader(root, '<domain>');
  const typeStr = r.str('type');
  if (typeStr === undefined) throw xmlError('<domain>', 'missing domain type attribute');
  // A third-party driver may bring its own virt type by naming it in its parser config.
  const known = (VIRT_TYPES as readonly string[]).includes(typeStr) && typeStr !== 'none';
  if (!known && !ctx.config.domainTypes?.includes(typeStr)) throw xmlError('<domain>', `invalid domain type ${typeStr}`);
  const type = typeStr as VirtType;
  let id = -1;
  const idStr = r.str('id');
  if (idStr !== undefined && !ctx.inactive) {
    if (!/^-?[0-9]+$/.test(idStr)) throw xmlError('<domain>', `invalid domain id '${idStr}'`);
    id = Number(idStr);
  }
  const nsData = new Map<string, unknown>();
  const nsChildren = new Set<string>();
  for (const ns of ctx.config.namespaces ?? []) {
    let prefix: string | undefined;
    for (const k in root.attrs) if (k.startsWith('xmlns:') && root.attrs[k] === ns.uri) prefix = k.slice(6);
    if (prefix === undefined) continue;
    r.ignoreAttrs(`xmlns:${prefix}`);
    const els = root.elements().filter((e) => e.name.startsWith(prefix + ':'));
    for (const e of els) nsChildren.add(e.name);
    if (els.length) {
      const data = ns.parse(els);
      if (data !== undefined) nsData.set(ns.uri, data);
    }
  }
  if (nsChildren.size) r.ignoreChildren(...nsChildren);

  const name = r.childText('name')?.trim();
  if (!name) throw xmlError('<domain>', 'missing domain name information');
  const uuidStr = r.childText('uuid');
  let uuid: string;
  if (uuidStr === undefined || uuidStr.trim() === '') uuid = generateUuid(ctx.opts.randomBytes);
  else {
    try {
      uuid = parseUuid(uuidStr, '<uuid>');
    } catch {
      throw xmlError('<uuid>', `malformed uuid element '${uuidStr}'`);
    }
  }
  const def: DomainDef = {
    type, id, name, uuid,
    memory: { total: 0, current: 0 },
    vcpu: { max: 1, current: 1, placement: 'static' },
    iothreads: 0,
    iothreadids: [],
    os: { type: 'hvm', initargs: [], initenv: [], bootDevs: [] },
    clock: { offset: 'utc', timers: [] },
    lifecycle: { onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy' },
    devices: undefined as unknown as DomainDevices,
    seclabels: [],
  };
  const genid = r.child('genid');
  if (genid) {
    const t = genid.text().trim();
    if (t) def.genid = parseUuid(t, '<genid>');
    else {
      def.genid = generateUuid(ctx.opts.randomBytes);
      def.genidGenerated = true;
    }
  }
  const title = r.childText('title');
  if (title !== undefined) {
    if (title.includes('\n')) throw xmlError('<title>', 'Domain title can\'t contain newlines');
    def.title = title;
  }
  const desc = r.childText('description');
  if (desc !== undefined) def.description = desc;
  const md = r.child('metadata');
  if (md) def.metadata = sanitizeMetadata(md);

  def.memory = parseMemory(r);
  const blk = r.child('blkiotune');
  if (blk) def.blkiotune = parseBlkioTune(blk);
  const mt = r.child('memtune');
  if (mt) def.memtune = parseMemTune(mt);
  const mb = r.child('memoryBacking');
  if (mb) def.memoryBacking = parseMemoryBacking(mb);
  def.vcpu = parseVcpu(r, ctx.config.features ?? {});
  const io = parseIothreads(r);
  def.iothreads = io.count;
  def.iothreadids = io.ids;
  if (io.defaultIothread) def.defaultIothread = io.defaultIothread;
  const ct = r.child('cputune');
  if (ct) {
    const ids = [...def.iothreadids.map((x) => x.id)];
    for (let i = 1; ids.length < def.iothreads; i++) if (!ids.includes(i)) ids.push(i);
    def.cputune = parseCputune(ct, def.vcpu.max, ids);
  }
  const nt = r.child('numatune');
  if (nt) def.numatune = parseNumatune(nt);
  const res = r.child('resource');
  if (res) {
    const rr = new ElemReader(res, '<resource>');
    def.resource = {};
    const p = rr.childTrimmed('partition');
    if (p !== undefined) {
      if (!p.startsWith('/')) throw xmlError('<resource>', `Resource partition '${p}' must start with '/'`);
      def.resource.partition = p;
    }
    const fc = rr.child('fibrechannel');
    if (fc) {
      const appid = fc.attr('appid');
      if (!appid) throw xmlError('<resource>', 'missing fibrechannel appid');
      if (appid.length < 1 || appid.length > 128 || !/^[\x21-\x7e]+$/.test(appid)) throw xmlError('<resource>', `Wrong format for appid value '${appid}'`);
      def.resource.fibrechannelAppid = appid;
    }
  }
  const sysinfo = r.children('sysinfo');
  if (sysinfo.length) def.sysinfo = sysinfo;
  def.os = parseOs(r, ctx);
  const idmap = r.child('idmap');
  if (idmap) {
    def.idmap = {
      uid: parseIdmapEntries(idmap.elements('uid'), '<idmap><uid>'),
      gid: parseIdmapEntries(idmap.elements('gid'), '<idmap><gid>'),
    };
  }
  const features = r.child('features');
  if (features) def.features = parseFeatures(features);
  const cpu = r.child('cpu');
  if (cpu) def.cpu = parseCpu(cpu);
  def.clock = parseClock(r.child('clock'));
  def.lifecycle = parseLifecycle(r);
  const pm = r.child('pm');
  if (pm) def.pm = parsePm(pm);
  const perf = r.child('perf');
  if (perf) def.perf = parsePerf(perf);
  def.devices = parseDevices(r.child('devices'), ctx, def.os.type, def.type);
  for (const s of r.children('seclabel')) def.seclabels.push(parseSeclabel(s, ctx.inactive));
  const kw = r.child('keywrap');
  if (kw) def.keywrap = parseKeywrap(kw);
  const ls = r.child('launchSecurity');
  if (ls) def.launchSecurity = parseLaunchSecurity(ls);
  if (nsData.size) def.namespaceData = nsData;
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

/** Formats a DomainDef as libvirt 9.0 would print it (`virsh dumpxml` layout). */
export function formatDomainXml(def: DomainDef, opts: DomainFormatOptions = {}): string {
  const ctx: FormatContext = {
    inactive: !!opts.inactive,
    secure: !!opts.secure,
    migratable: !!opts.migratable,
    config: opts.config,
  };
  const w = new XmlWriter(opts.indent ?? 0);
  const rootName = opts.rootName ?? 'domain';
  const attrs: Array<readonly [string, string | number | undefined]> = [['type', def.type]];
  if (def.id >= 0 && !ctx.inactive) attrs.push(['id', def.id]);
  const nsList = (opts.config?.namespaces ?? []).filter((ns) => def.namespaceData?.has(ns.uri));
  for (const ns of nsList) attrs.push([`xmlns:${ns.prefix}`, ns.uri]);
  if (def.kept?.attrs) attrs.push(...def.kept.attrs);
  w.open(rootName, attrs);
  w.text('name', def.name);
  w.text('uuid', def.uuid);
  if (def.genid) w.text('genid', def.genid);
  w.text('title', def.title);
  w.text('description', def.description);
  if (def.metadata) {
    if (def.metadata.length === 0) w.empty('metadata');
    else {
      w.open('metadata');
      const pad = ' '.repeat(w.indentation);
      for (const m of def.metadata) writeLibxmlNode(w, m, pad);
      w.close('metadata');
    }
  }
  formatMemory(w, def.memory);
  formatBlkioTune(w, def.blkiotune);
  formatMemTune(w, def.memtune);
  formatMemoryBacking(w, def.memoryBacking);
  formatVcpu(w, def.vcpu);
  formatIothreads(w, def.iothreads, def.iothreadids, def.defaultIothread);
  formatCputune(w, def.cputune, ctx.inactive);
  formatNumatune(w, def.numatune);
  if (def.resource && (def.resource.partition || def.resource.fibrechannelAppid)) {
    w.open('resource');
    w.text('partition', def.resource.partition);
    if (def.resource.fibrechannelAppid) w.empty('fibrechannel', [['appid', def.resource.fibrechannelAppid]]);
    w.close('resource');
  }
  for (const s of def.sysinfo ?? []) w.node(s);
  formatOs(w, def.os, ctx, def.type);
  if (def.idmap && (def.idmap.uid.length || def.idmap.gid.length)) {
    w.open('idmap');
    for (const u of def.idmap.uid) w.empty('uid', [['start', u.start], ['target', u.target], ['count', u.count]]);
    for (const g of def.idmap.gid) w.empty('gid', [['start', g.start], ['target', g.target], ['count', g.count]]);
    w.close('idmap');
  }
  formatFeatures(w, def.features);
  formatCpu(w, def.cpu);
  formatClock(w, def.clock);
  formatLifecycle(w, def.lifecycle);
  formatPm(w, def.pm);
  formatPerf(w, def.perf);
  formatDevices(w, def.devices, ctx, def.os.type);
  for (const s of def.seclabels) formatSeclabel(w, s, ctx.migratable);
  formatKeywrap(w, def.keywrap);
  formatLaunchSecurity(w, def.launchSecurity);
  for (const ns of nsList) ns.format(w, def.namespaceData!.get(ns.uri));
  if (def.kept?.children) for (const c of def.kept.children) w.node(c);
  w.close(rootName);
  return w.toString();
}

export { writeEl };

/** <filesystem>: host directories, images and RAM file systems shared with the guest. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { parseScaled } from '../../../xml/values.js';
import { ElemReader, xmlError } from '../reader.js';
import { oo, writeEl, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export const FS_TYPES = ['mount', 'block', 'file', 'template', 'ram', 'bind', 'volume'] as const;
export const FS_DRIVERS = ['default', 'path', 'handle', 'loop', 'nbd', 'ploop', 'virtiofs'] as const;

export interface FilesystemDef {
  type: (typeof FS_TYPES)[number];
  accessmode?: 'passthrough' | 'mapped' | 'squash';
  model?: string;
  multidevs?: string;
  fmode?: number;
  dmode?: number;
  driver?: { type?: string; format?: string; wrpolicy?: string; queue?: number };
  virtio?: VirtioOptions;
  binary?: {
    path?: string;
    xattr?: boolean;
    cacheMode?: string;
    sandboxMode?: string;
    lockPosix?: boolean;
    lockFlock?: boolean;
    threadPoolSize?: number;
  };
  /** dir / dev / file / template name / vhost-user socket. */
  src?: string;
  /** vhost-user socket (<source socket>). */
  socket?: string;
  /** volume source. */
  pool?: string;
  volume?: string;
  /** RAM size in KiB. */
  usage?: number;
  dst: string;
  readonly?: boolean;
  spaceHardLimit?: number;
  spaceSoftLimit?: number;
  info: DeviceInfo;
  kept?: KeptXml;
}

function octal(v: string | undefined, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-7]+$/.test(v) || parseInt(v, 8) > 0o777) throw xmlError(where, `invalid mode: '${v}'`);
  return parseInt(v, 8);
}

export function parseFilesystem(el: XmlElement, ctx: ParseContext): FilesystemDef {
  const r = new ElemReader(el, '<filesystem>');
  const type = r.enum('type', FS_TYPES) ?? 'mount';
  const def: FilesystemDef = { type, dst: '', info: {} };
  const am = r.enum('accessmode', ['default', 'passthrough', 'mapped', 'squash'] as const);
  if (am && am !== 'default') def.accessmode = am;
  const model = r.enum('model', ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const);
  if (model && model !== 'default') def.model = model;
  const md = r.enum('multidevs', ['default', 'remap', 'forbid', 'warn'] as const);
  if (md && md !== 'default') def.multidevs = md;
  const fm = octal(r.str('fmode'), '<filesystem> fmode');
  if (fm !== undefined) def.fmode = fm;
  const dm = octal(r.str('dmode'), '<filesystem> dmode');
  if (dm !== undefined) def.dmode = dm;
  const drv = r.child('driver');
  if (drv) {
    const dr = new ElemReader(drv, '<filesystem><driver>');
    def.driver = {};
    const t = dr.enum('type', FS_DRIVERS);
    if (t && t !== 'default') def.driver.type = t;
    const f = dr.str('format');
    if (f !== undefined) def.driver.format = f;
    const wp = dr.enum('wrpolicy', ['default', 'immediate'] as const);
    if (wp && wp !== 'default') def.driver.wrpolicy = wp;
    const q = dr.uint('queue');
    if (q !== undefined) def.driver.queue = q;
    const v = parseVirtioOptions(dr);
    if (v) def.virtio = v;
  }
  const bin = r.child('binary');
  if (bin) {
    const br = new ElemReader(bin, '<filesystem><binary>');
    def.binary = {};
    const p = br.str('path');
    if (p !== undefined) def.binary.path = p;
    const x = br.onOff('xattr');
    if (x !== undefined) def.binary.xattr = x;
    const cache = br.child('cache');
    if (cache) {
      const m = new ElemReader(cache, '<binary><cache>').enum('mode', ['default', 'none', 'always'] as const);
      if (m && m !== 'default') def.binary.cacheMode = m;
    }
    const sb = br.child('sandbox');
    if (sb) {
      const m = new ElemReader(sb, '<binary><sandbox>').enum('mode', ['default', 'namespace', 'chroot'] as const);
      if (m && m !== 'default') def.binary.sandboxMode = m;
    }
    const lock = br.child('lock');
    if (lock) {
      const lr = new ElemReader(lock, '<binary><lock>');
      const px = lr.onOff('posix');
      if (px !== undefined) def.binary.lockPosix = px;
      const fl = lr.onOff('flock');
      if (fl !== undefined) def.binary.lockFlock = fl;
    }
    const tp = br.child('thread_pool');
    if (tp) {
      const s = new ElemReader(tp, '<binary><thread_pool>').uint('size');
      if (s !== undefined) def.binary.threadPoolSize = s;
    }
  }
  const src = r.child('source');
  if (src) {
    const sr = new ElemReader(src, '<filesystem><source>');
    switch (type) {
      case 'mount': case 'bind': {
        const d = sr.str('dir');
        if (d !== undefined) def.src = d;
        const s = sr.str('socket');
        if (s !== undefined) def.socket = s;
        break;
      }
      case 'block': {
        const d = sr.str('dev');
        if (d !== undefined) def.src = d;
        break;
      }
      case 'file': {
        const d = sr.str('file');
        if (d !== undefined) def.src = d;
        break;
      }
      case 'template': {
        const d = sr.str('name');
        if (d !== undefined) def.src = d;
        break;
      }
      case 'volume': {
        const p = sr.str('pool');
        if (p !== undefined) def.pool = p;
        const v = sr.str('volume');
        if (v !== undefined) def.volume = v;
        break;
      }
      case 'ram': {
        const u = sr.str('usage');
        if (u === undefined) throw xmlError('<filesystem>', 'missing \'usage\' attribute for RAM filesystem');
        const bytes = parseScaled(u, sr.str('units'), '<filesystem><source> usage', 1024n);
        def.usage = Number((bytes + 1023n) / 1024n);
        break;
      }
    }
  }
  const t = r.child('target');
  const dst = t?.attr('dir');
  if (!dst) throw xmlError('<filesystem>', 'missing target information for filesystem');
  def.dst = dst;
  if (!def.src && !def.socket && type !== 'ram' && type !== 'volume') throw xmlError(`filesystem '${dst}'`, 'missing source information for filesystem');
  if (r.child('readonly')) def.readonly = true;
  const lim = (n: string) => {
    const e = r.child(n);
    if (!e) return undefined;
    return Number(parseScaled(e.text().trim(), e.attr('unit'), `<filesystem><${n}>`, 1n));
  };
  const hl = lim('space_hard_limit');
  if (hl !== undefined) def.spaceHardLimit = hl;
  const sl = lim('space_soft_limit');
  if (sl !== undefined) def.spaceSoftLimit = sl;
  def.info = parseDeviceInfo(r, ctx, { boot: true });
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatFilesystem(w: XmlWriter, def: FilesystemDef, ctx: FormatContext): void {
  const virtiofs = def.driver?.type === 'virtiofs';
  const a: AttrList = [['type', def.type]];
  if (!virtiofs || def.accessmode) a.push(['accessmode', def.accessmode ?? 'passthrough']);
  a.push(['model', def.model], ['multidevs', def.multidevs]);
  if (def.fmode !== undefined) a.push(['fmode', def.fmode.toString(8).padStart(4, '0')]);
  if (def.dmode !== undefined) a.push(['dmode', def.dmode.toString(8).padStart(4, '0')]);
  writeEl(w, 'filesystem', a, (c) => {
    const da: AttrList = [];
    if (def.driver) da.push(['type', def.driver.type], ['format', def.driver.format], ['wrpolicy', def.driver.wrpolicy], ['queue', def.driver.queue]);
    formatVirtioOptions(da, def.virtio);
    c.element('driver', da);
    const b = def.binary;
    if (b) {
      c.element('binary', [['path', b.path], ['xattr', oo(b.xattr)]], (x) => {
        if (b.cacheMode) x.empty('cache', [['mode', b.cacheMode]]);
        if (b.sandboxMode) x.empty('sandbox', [['mode', b.sandboxMode]]);
        if (b.lockPosix !== undefined || b.lockFlock !== undefined) x.empty('lock', [['posix', oo(b.lockPosix)], ['flock', oo(b.lockFlock)]]);
        if (b.threadPoolSize !== undefined) x.empty('thread_pool', [['size', b.threadPoolSize]]);
      });
    }
    switch (def.type) {
      case 'mount': case 'bind':
        if (def.socket) c.empty('source', [['socket', def.socket]]);
        else c.empty('source', [['dir', def.src]]);
        break;
      case 'block':
        c.empty('source', [['dev', def.src]]);
        break;
      case 'file':
        c.empty('source', [['file', def.src]]);
        break;
      case 'template':
        c.empty('source', [['name', def.src]]);
        break;
      case 'ram':
        c.empty('source', [['usage', def.usage], ['units', 'KiB']]);
        break;
      case 'volume':
        c.empty('source', [['pool', def.pool], ['volume', def.volume]]);
        break;
    }
    c.empty('target', [['dir', def.dst]]);
    if (def.readonly) c.empty('readonly');
    if (def.spaceHardLimit) c.text('space_hard_limit', def.spaceHardLimit, [['unit', 'bytes']]);
    if (def.spaceSoftLimit) c.text('space_soft_limit', def.spaceSoftLimit, [['unit', 'bytes']]);
    formatDeviceInfo(c, def.info, ctx, { boot: true });
  }, def.kept, true);
}

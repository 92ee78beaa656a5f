/** <video>: display adapters. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { writeEl, yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export const VIDEO_TYPES = ['default', 'vga', 'cirrus', 'vmvga', 'xen', 'vbox', 'qxl', 'parallels', 'virtio', 'gop', 'none', 'bochs', 'ramfb'] as const;

export interface VideoDef {
  /** Model type; undefined until a driver picks its default. */
  type?: string;
  ram?: number;
  vram?: number;
  vram64?: number;
  vgamem?: number;
  heads?: number;
  primary?: boolean;
  accel?: { accel3d?: boolean; accel2d?: boolean; rendernode?: string };
  resolution?: { x: number; y: number };
  /** <driver name='qemu|vhostuser'>. */
  backend?: string;
  vgaconf?: string;
  virtio?: VirtioOptions;
  info: DeviceInfo;
  kept?: KeptXml;
  modelKept?: KeptXml;
}

export function parseVideo(el: XmlElement, ctx: ParseContext): VideoDef {
  const r = new ElemReader(el, '<video>');
  // virDomainVideoDefNew starts every video with one head.
  const def: VideoDef = { heads: 1, info: {} };
  const m = r.child('model');
  if (m) {
    const mr = new ElemReader(m, '<video><model>');
    const type = mr.enum('type', VIDEO_TYPES);
    if (type && type !== 'default') def.type = type;
    const n = (k: string) => mr.uint(k);
    const ram = n('ram');
    if (ram !== undefined) def.ram = ram;
    const vram = n('vram');
    if (vram !== undefined) def.vram = vram;
    const vram64 = n('vram64');
    if (vram64 !== undefined) def.vram64 = vram64;
    const vgamem = n('vgamem');
    if (vgamem !== undefined) def.vgamem = vgamem;
    const heads = n('heads');
    if (heads !== undefined) def.heads = heads;
    const primary = mr.yesNo('primary');
    if (primary) def.primary = true;
    const acc = mr.child('acceleration');
    if (acc) {
      const ar = new ElemReader(acc, '<video><model><acceleration>');
      def.accel = {};
      const a3 = ar.yesNo('accel3d');
      if (a3 !== undefined) def.accel.accel3d = a3;
      const a2 = ar.yesNo('accel2d');
      if (a2 !== undefined) def.accel.accel2d = a2;
      const rn = ar.str('rendernode');
      if (rn !== undefined) def.accel.rendernode = rn;
    }
    const res = mr.child('resolution');
    if (res) {
      const rr = new ElemReader(res, '<video><model><resolution>');
      const x = rr.uint('x');
      const y = rr.uint('y');
      if (x === undefined || y === undefined) throw xmlError('<video>', 'missing values for resolution');
      def.resolution = { x, y };
    }
    const k = mr.kept();
    if (k) def.modelKept = k;
  }
  const drv = r.child('driver');
  if (drv) {
    const dr = new ElemReader(drv, '<video><driver>');
    const name = dr.enum('name', ['default', 'qemu', 'vhostuser'] as const);
    if (name && name !== 'default') def.backend = name;
    const vc = dr.enum('vgaconf', ['io', 'on', 'off'] as const);
    if (vc) def.vgaconf = vc;
    const v = parseVirtioOptions(dr);
    if (v) def.virtio = v;
  }
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatVideo(w: XmlWriter, def: VideoDef, ctx: FormatContext): void {
  writeEl(w, 'video', [], (c) => {
    const da: AttrList = [];
    formatVirtioOptions(da, def.virtio);
    da.push(['vgaconf', def.vgaconf], ['name', def.backend]);
    c.element('driver', da);
    const ma: AttrList = [
      ['type', def.type ?? 'default'], ['ram', def.ram || undefined], ['vram', def.vram || undefined], ['vram64', def.vram64 || undefined],
      ['vgamem', def.vgamem || undefined], ['heads', def.heads || undefined], ['primary', def.primary ? 'yes' : undefined],
    ];
    writeEl(c, 'model', ma, (m) => {
      if (def.accel) m.element('acceleration', [['accel3d', yn(def.accel.accel3d)], ['accel2d', yn(def.accel.accel2d)], ['rendernode', def.accel.rendernode]]);
      if (def.resolution) m.empty('resolution', [['x', def.resolution.x], ['y', def.resolution.y]]);
    }, def.modelKept, true);
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}

/** Video RAM (KiB) libvirt assumes when none is given (virDomainVideoDefaultRAM). */
export function defaultVideoRam(type: string | undefined, virtType: string): number {
  switch (type) {
    case 'vga': case 'cirrus': case 'vmvga':
      return virtType === 'vbox' ? 8 * 1024 : virtType === 'vmware' ? 4 * 1024 : 16 * 1024;
    case 'bochs':
      return 16 * 1024;
    case 'xen':
      return 4 * 1024;
    case 'qxl':
      return 64 * 1024;
    default:
      return 0;
  }
}

export function roundUpPowerOfTwo(n: number): number {
  if (n <= 0) return 0;
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** <rng>: random number generators. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { writeEl, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatChrSource, parseChrSource, type ChrSourceDef } from './chardev.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export interface RngDef {
  model: string;
  backend: 'random' | 'egd' | 'builtin';
  /** random: device file. */
  file?: string;
  /** egd: character device. */
  chardev?: ChrSourceDef;
  rate?: { bytes: number; period?: number };
  virtio?: VirtioOptions;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseRng(el: XmlElement, ctx: ParseContext): RngDef {
  const r = new ElemReader(el, '<rng>');
  const model = r.enum('model', ['virtio', 'virtio-transitional', 'virtio-non-transitional'] as const);
  if (!model) throw xmlError('<rng>', r.has('model') ? `unknown RNG model '${el.attr('model')}'` : 'missing RNG device model');
  const be = r.child('backend');
  if (!be) throw xmlError('<rng>', 'missing RNG device backend');
  const br = new ElemReader(be, '<rng><backend>');
  const backend = br.enum('model', ['random', 'egd', 'builtin'] as const);
  if (!backend) throw xmlError('<rng>', 'missing or unknown RNG backend model');
  const def: RngDef = { model, backend, info: {} };
  if (backend === 'random') {
    const f = be.text().trim();
    if (f) def.file = f;
  } else if (backend === 'egd') {
    const type = br.str('type');
    if (type === undefined) throw xmlError('<rng>', 'missing EGD backend type');
    def.chardev = parseChrSource(br, type, ctx, '<rng><backend>');
  }
  const rate = r.child('rate');
  if (rate) {
    const rr = new ElemReader(rate, '<rng><rate>');
    const bytes = rr.uint('bytes');
    if (bytes === undefined) throw xmlError('<rng>', "missing RNG rate bytes");
    if (bytes === 0) throw xmlError('<rng>', 'invalid RNG rate bytes value');
    def.rate = { bytes };
    const period = rr.uint('period');
    if (period !== undefined) {
      if (period === 0) throw xmlError('<rng>', 'invalid RNG rate period value');
      def.rate.period = period;
    }
  }
  const drv = r.child('driver');
  if (drv) {
    const v = parseVirtioOptions(new ElemReader(drv, '<rng><driver>'));
    if (v) def.virtio = v;
  }
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatRng(w: XmlWriter, def: RngDef, ctx: FormatContext): void {
  writeEl(w, 'rng', [['model', def.model]], (c) => {
    if (def.rate) c.empty('rate', [['bytes', def.rate.bytes], ['period', def.rate.period]]);
    if (def.backend === 'random') {
      if (def.file) c.text('backend', def.file, [['model', 'random']]);
      else c.empty('backend', [['model', 'random']]);
    } else if (def.backend === 'egd' && def.chardev) {
      const ch = def.chardev;
      c.open('backend', [['model', 'egd'], ['type', ch.type]]);
      formatChrSource(c, ch, ctx);
      c.close('backend');
    } else c.empty('backend', [['model', def.backend]]);
    const da: AttrList = [];
    formatVirtioOptions(da, def.virtio);
    c.element('driver', da);
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}

/** <memballoon>. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { oo, writeEl, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export const MEMBALLOON_MODELS = ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'] as const;

export interface MemballoonDef {
  model: (typeof MEMBALLOON_MODELS)[number];
  autodeflate?: boolean;
  freePageReporting?: boolean;
  /** Stats period in seconds (live data). */
  period?: number;
  virtio?: VirtioOptions;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseMemballoon(el: XmlElement, ctx: ParseContext): MemballoonDef {
  const r = new ElemReader(el, '<memballoon>');
  const model = r.enum('model', MEMBALLOON_MODELS);
  if (!model) throw xmlError('<memballoon>', r.has('model') ? `invalid memory balloon model '${el.attr('model')}'` : 'balloon memory must contain model name');
  const def: MemballoonDef = { model, info: {} };
  const ad = r.onOff('autodeflate');
  if (ad !== undefined) def.autodeflate = ad;
  const fpr = r.onOff('freePageReporting');
  if (fpr !== undefined) def.freePageReporting = fpr;
  const stats = r.child('stats');
  if (stats) {
    const p = new ElemReader(stats, '<memballoon><stats>').int('period');
    if (p === undefined) throw xmlError('<memballoon>', 'invalid statistics collection period value');
    def.period = p;
  }
  const drv = r.child('driver');
  if (drv) {
    const v = parseVirtioOptions(new ElemReader(drv, '<memballoon><driver>'));
    if (v) def.virtio = v;
  }
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatMemballoon(w: XmlWriter, def: MemballoonDef, ctx: FormatContext): void {
  writeEl(w, 'memballoon', [['model', def.model], ['autodeflate', oo(def.autodeflate)], ['freePageReporting', oo(def.freePageReporting)]], (c) => {
    if (def.period) c.empty('stats', [['period', def.period]]);
    formatDeviceInfo(c, def.info, ctx);
    const da: AttrList = [];
    formatVirtioOptions(da, def.virtio);
    c.element('driver', da);
  }, def.kept);
}

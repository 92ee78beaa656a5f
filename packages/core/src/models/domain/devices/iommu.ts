/** <iommu>. */
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { oo } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export interface IommuDef {
  model: 'intel' | 'smmuv3' | 'virtio';
  intremap?: boolean;
  cachingMode?: boolean;
  eim?: boolean;
  iotlb?: boolean;
  awBits?: number;
  info: DeviceInfo;
}

export function parseIommu(el: XmlElement, ctx: ParseContext): IommuDef {
  const r = new ElemReader(el, '<iommu>');
  const model = r.enum('model', ['intel', 'smmuv3', 'virtio'] as const);
  if (!model) throw xmlError('<iommu>', 'missing or unknown iommu model');
  const def: IommuDef = { model, info: {} };
  const d = r.child('driver');
  if (d) {
    const dr = new ElemReader(d, '<iommu><driver>');
    const ir = dr.onOff('intremap');
    if (ir !== undefined) def.intremap = ir;
    const cm = dr.onOff('caching_mode');
    if (cm !== undefined) def.cachingMode = cm;
    const eim = dr.onOff('eim');
    if (eim !== undefined) def.eim = eim;
    const it = dr.onOff('iotlb');
    if (it !== undefined) def.iotlb = it;
    const aw = dr.uint('aw_bits');
    if (aw !== undefined) def.awBits = aw;
  }
  def.info = parseDeviceInfo(r, ctx);
  return def;
}

export function formatIommu(w: XmlWriter, def: IommuDef, ctx: FormatContext): void {
  w.element('iommu', [['model', def.model]], (c) => {
    c.element('driver', [['intremap', oo(def.intremap)], ['caching_mode', oo(def.cachingMode)], ['eim', oo(def.eim)], ['iotlb', oo(def.iotlb)], ['aw_bits', def.awBits]]);
    formatDeviceInfo(c, def.info, ctx);
  }, true);
}

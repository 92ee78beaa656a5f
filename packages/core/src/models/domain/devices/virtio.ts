/** Common virtio <driver> switches (virDomainVirtioOptions). */
import type { ElemReader } from '../reader.js';
import { oo, type AttrList } from '../writer.js';

export interface VirtioOptions {
  iommu?: boolean;
  ats?: boolean;
  packed?: boolean;
  pagePerVq?: boolean;
}

export function parseVirtioOptions(r: ElemReader): VirtioOptions | undefined {
  const o: VirtioOptions = {};
  const iommu = r.onOff('iommu');
  if (iommu !== undefined) o.iommu = iommu;
  const ats = r.onOff('ats');
  if (ats !== undefined) o.ats = ats;
  const packed = r.onOff('packed');
  if (packed !== undefined) o.packed = packed;
  const ppv = r.onOff('page_per_vq');
  if (ppv !== undefined) o.pagePerVq = ppv;
  return Object.keys(o).length ? o : undefined;
}

/** Appends the virtio switches to a <driver> attribute list. */
export function formatVirtioOptions(attrs: AttrList, o: VirtioOptions | undefined): void {
  if (!o) return;
  attrs.push(['iommu', oo(o.iommu)], ['ats', oo(o.ats)], ['packed', oo(o.packed)], ['page_per_vq', oo(o.pagePerVq)]);
}

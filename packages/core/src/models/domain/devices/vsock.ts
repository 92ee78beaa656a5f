/** <vsock>. */
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export interface VsockDef {
  model?: string;
  autoCid?: boolean;
  cid?: number;
  virtio?: VirtioOptions;
  info: DeviceInfo;
}

export function parseVsock(el: XmlElement, ctx: ParseContext): VsockDef {
  const r = new ElemReader(el, '<vsock>');
  const def: VsockDef = { info: {} };
  const m = r.enum('model', ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const);
  if (m && m !== 'default') def.model = m;
  const cid = r.child('cid');
  if (cid) {
    const cr = new ElemReader(cid, '<vsock><cid>');
    const addr = cr.uint('address');
    if (addr !== undefined) {
      if (addr < 3 || addr === 0xffffffff) throw xmlError('<vsock>', 'guest CID must be >= 3');
      def.cid = addr;
    }
    const auto = cr.yesNo('auto');
    if (auto !== undefined) def.autoCid = auto;
  }
  const drv = r.child('driver');
  if (drv) {
    const v = parseVirtioOptions(new ElemReader(drv, '<vsock><driver>'));
    if (v) def.virtio = v;
  }
  def.info = parseDeviceInfo(r, ctx);
  return def;
}

export function formatVsock(w: XmlWriter, def: VsockDef, ctx: FormatContext): void {
  w.element('vsock', [['model', def.model]], (c) => {
    c.element('cid', [['auto', yn(def.autoCid)], ['address', def.cid || undefined]]);
    formatDeviceInfo(c, def.info, ctx);
    const da: AttrList = [];
    formatVirtioOptions(da, def.virtio);
    c.element('driver', da);
  }, true);
}

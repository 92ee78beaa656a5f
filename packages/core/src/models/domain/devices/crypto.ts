/** <crypto>: virtio-crypto devices. */
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import type { AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export interface CryptoDef {
  model: 'virtio';
  type: 'qemu';
  backend: 'builtin' | 'lkcf';
  queues?: number;
  virtio?: VirtioOptions;
  info: DeviceInfo;
}

export function parseCrypto(el: XmlElement, ctx: ParseContext): CryptoDef {
  const r = new ElemReader(el, '<crypto>');
  const model = r.enum('model', ['virtio'] as const);
  if (!model) throw xmlError('<crypto>', 'missing or unknown crypto model');
  const type = r.enum('type', ['qemu'] as const);
  if (!type) throw xmlError('<crypto>', 'missing or unknown crypto type');
  const be = r.child('backend');
  if (!be) throw xmlError('<crypto>', 'missing crypto device backend');
  const br = new ElemReader(be, '<crypto><backend>');
  const backend = br.enum('model', ['builtin', 'lkcf'] as const);
  if (!backend) throw xmlError('<crypto>', 'missing or unknown crypto backend model');
  const def: CryptoDef = { model, type, backend, info: {} };
  const q = br.uint('queues');
  if (q !== undefined) def.queues = q;
  const drv = r.child('driver');
  if (drv) {
    const v = parseVirtioOptions(new ElemReader(drv, '<crypto><driver>'));
    if (v) def.virtio = v;
  }
  def.info = parseDeviceInfo(r, ctx);
  return def;
}

export function formatCrypto(w: XmlWriter, def: CryptoDef, ctx: FormatContext): void {
  w.open('crypto', [['model', def.model], ['type', def.type]]);
  w.empty('backend', [['model', def.backend], ['queues', def.queues]]);
  const da: AttrList = [];
  formatVirtioOptions(da, def.virtio);
  w.element('driver', da);
  formatDeviceInfo(w, def.info, ctx);
  w.close('crypto');
}

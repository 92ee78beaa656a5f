/** <panic>: guest crash notification devices. */
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader } from '../reader.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export interface PanicDef {
  model?: 'isa' | 'pseries' | 'hyperv' | 's390' | 'pvpanic';
  info: DeviceInfo;
}

export function parsePanic(el: XmlElement, ctx: ParseContext): PanicDef {
  const r = new ElemReader(el, '<panic>');
  const m = r.enum('model', ['default', 'isa', 'pseries', 'hyperv', 's390', 'pvpanic'] as const);
  const def: PanicDef = { info: parseDeviceInfo(r, ctx) };
  if (m && m !== 'default') def.model = m;
  return def;
}

export function formatPanic(w: XmlWriter, def: PanicDef, ctx: FormatContext): void {
  w.element('panic', [['model', def.model]], (c) => formatDeviceInfo(c, def.info, ctx), true);
}

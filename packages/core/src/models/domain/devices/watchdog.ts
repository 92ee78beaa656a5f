/** <watchdog>. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { writeEl } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export const WATCHDOG_MODELS = ['i6300esb', 'ib700', 'diag288', 'itco'] as const;
export const WATCHDOG_ACTIONS = ['reset', 'shutdown', 'poweroff', 'pause', 'dump', 'none', 'inject-nmi'] as const;

export interface WatchdogDef {
  model: (typeof WATCHDOG_MODELS)[number];
  action: (typeof WATCHDOG_ACTIONS)[number];
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseWatchdog(el: XmlElement, ctx: ParseContext): WatchdogDef {
  const r = new ElemReader(el, '<watchdog>');
  const model = r.enum('model', WATCHDOG_MODELS);
  if (!model) throw xmlError('<watchdog>', 'watchdog must contain model name');
  const action = r.enum('action', WATCHDOG_ACTIONS) ?? 'reset';
  const def: WatchdogDef = { model, action, info: parseDeviceInfo(r, ctx) };
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatWatchdog(w: XmlWriter, def: WatchdogDef, ctx: FormatContext): void {
  writeEl(w, 'watchdog', [['model', def.model], ['action', def.action]], (c) => formatDeviceInfo(c, def.info, ctx), def.kept);
}

/** <lease> (lock manager leases) and the <nvram> device (spapr NVRAM). */
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export interface LeaseDef {
  lockspace?: string;
  key: string;
  path: string;
  offset?: number;
}

export function parseLease(el: XmlElement): LeaseDef {
  const r = new ElemReader(el, '<lease>');
  const key = r.childTrimmed('key');
  if (!key) throw xmlError('<lease>', 'Missing \'key\' element for lease');
  const t = r.child('target');
  const path = t?.attr('path');
  if (!path) throw xmlError('<lease>', 'Missing \'target\' element for lease');
  const def: LeaseDef = { key, path };
  const ls = r.childTrimmed('lockspace');
  if (ls !== undefined) def.lockspace = ls;
  const off = t?.attr('offset');
  if (off !== undefined) {
    if (!/^[0-9]+$/.test(off)) throw xmlError('<lease>', `Malformed lease target offset ${off}`);
    def.offset = Number(off);
  }
  return def;
}

export function formatLease(w: XmlWriter, def: LeaseDef): void {
  w.open('lease');
  w.text('lockspace', def.lockspace);
  w.text('key', def.key);
  w.empty('target', [['path', def.path], ['offset', def.offset]]);
  w.close('lease');
}

export interface NvramDeviceDef {
  info: DeviceInfo;
}

export function parseNvramDevice(el: XmlElement, ctx: ParseContext): NvramDeviceDef {
  return { info: parseDeviceInfo(new ElemReader(el, '<nvram>'), ctx) };
}

export function formatNvramDevice(w: XmlWriter, def: NvramDeviceDef, ctx: FormatContext): void {
  w.element('nvram', [], (c) => formatDeviceInfo(c, def.info, ctx), true);
}

/** <input>: mice, tablets, keyboards and passed-through event devices. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { oo, writeEl, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export const INPUT_TYPES = ['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'] as const;
export type InputType = (typeof INPUT_TYPES)[number];
export const INPUT_BUSES = ['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'] as const;

export interface InputDef {
  type: InputType;
  bus?: string;
  model?: string;
  /** passthrough: evdev path; evdev: dev path. */
  evdev?: string;
  dev?: string;
  grab?: string;
  grabToggle?: string;
  repeat?: boolean;
  virtio?: VirtioOptions;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseInput(el: XmlElement, ctx: ParseContext, osType: string, virtType: string): InputDef {
  const r = new ElemReader(el, '<input>');
  const type = r.enum('type', INPUT_TYPES);
  if (!type) throw xmlError('<input>', r.has('type') ? `unknown input device type '${el.attr('type')}'` : 'missing input device type');
  const def: InputDef = { type, info: {} };
  const bus = r.enum('bus', INPUT_BUSES);
  if (bus) {
    if (bus === 'ps2' && type === 'tablet') throw xmlError('<input>', `ps2 bus does not support ${type} input device`);
    if (bus === 'xen' && (type === 'tablet' || type === 'passthrough')) throw xmlError('<input>', `xen bus does not support ${type} input device`);
    def.bus = bus;
  } else if (type === 'passthrough') def.bus = 'virtio';
  else if (type === 'evdev') def.bus = undefined;
  else if (osType === 'hvm') def.bus = type === 'mouse' || type === 'keyboard' ? 'ps2' : 'usb';
  else if (osType === 'xen' || osType === 'xenpvh') def.bus = 'xen';
  else if (virtType === 'parallels' || virtType === 'vz') def.bus = 'parallels';
  const model = r.enum('model', ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const);
  if (model && model !== 'default') def.model = model;
  const src = r.child('source');
  if (src) {
    const sr = new ElemReader(src, '<input><source>');
    if (type === 'passthrough') {
      const e = sr.str('evdev');
      if (e !== undefined) def.evdev = e;
    } else if (type === 'evdev') {
      const d = sr.str('dev');
      if (d !== undefined) def.dev = d;
      const g = sr.enum('grab', ['all'] as const);
      if (g) def.grab = g;
      const gt = sr.enum('grabToggle', ['ctrl-ctrl', 'alt-alt', 'shift-shift', 'meta-meta', 'scrolllock', 'ctrl-scrolllock'] as const);
      if (gt) def.grabToggle = gt;
      const rep = sr.onOff('repeat');
      if (rep !== undefined) def.repeat = rep;
    }
  }
  if (type === 'passthrough' && !def.evdev) throw xmlError('<input>', 'Missing evdev path for input device passthrough');
  if (type === 'evdev' && !def.dev) throw xmlError('<input>', 'Missing evdev path for input device');
  const drv = r.child('driver');
  if (drv) {
    const v = parseVirtioOptions(new ElemReader(drv, '<input><driver>'));
    if (v) def.virtio = v;
  }
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatInput(w: XmlWriter, def: InputDef, ctx: FormatContext): void {
  const a: AttrList = [['type', def.type], ['bus', def.bus === 'none' ? undefined : def.bus], ['model', def.model]];
  writeEl(w, 'input', a, (c) => {
    const da: AttrList = [];
    formatVirtioOptions(da, def.virtio);
    c.element('driver', da);
    if (def.type === 'passthrough' || def.evdev) c.element('source', [['evdev', def.evdev]]);
    else if (def.type === 'evdev') c.element('source', [['dev', def.dev], ['grab', def.grab], ['grabToggle', def.grabToggle], ['repeat', oo(def.repeat)]]);
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}

/** <redirdev> (USB redirection), <redirfilter> and <hub>. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, parseBase0, xmlError } from '../reader.js';
import { writeEl, yn } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatChrSource, parseChrSource, type ChrSourceDef } from './chardev.js';

export interface RedirdevDef {
  bus: 'usb';
  source: ChrSourceDef;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseRedirdev(el: XmlElement, ctx: ParseContext): RedirdevDef {
  const r = new ElemReader(el, '<redirdev>');
  const bus = r.enum('bus', ['usb'] as const) ?? 'usb';
  const type = r.str('type');
  if (type === undefined) throw xmlError('<redirdev>', 'missing type in redirdev');
  const source = parseChrSource(r, type, ctx, '<redirdev>');
  const def: RedirdevDef = { bus, source, info: parseDeviceInfo(r, ctx, { boot: true }) };
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatRedirdev(w: XmlWriter, def: RedirdevDef, ctx: FormatContext): void {
  writeEl(w, 'redirdev', [['bus', def.bus], ['type', def.source.type]], (c) => {
    formatChrSource(c, def.source, ctx);
    formatDeviceInfo(c, def.info, ctx, { boot: true });
  }, def.kept, true);
}

export interface RedirFilterUsbDev {
  usbClass?: number;
  vendor?: number;
  product?: number;
  version?: number;
  allow: boolean;
}

export function parseRedirFilter(el: XmlElement): RedirFilterUsbDev[] {
  const out: RedirFilterUsbDev[] = [];
  for (const u of el.elements('usbdev')) {
    const r = new ElemReader(u, '<redirfilter><usbdev>');
    const allow = r.yesNo('allow');
    if (allow === undefined) throw xmlError('<redirfilter><usbdev>', "Missing 'allow' attribute for usbdev");
    const d: RedirFilterUsbDev = { allow };
    const num = (k: string, max: number): number | undefined => {
      const v = r.str(k);
      if (v === undefined || v === '-1') return undefined;
      const n = parseBase0(/^0x/i.test(v) ? v : '0x' + v, `<usbdev> ${k}`, 0xffffffff);
      if (n > max) throw xmlError('<redirfilter><usbdev>', `Invalid USB ${k} value ${v}`);
      return n;
    };
    const cls = num('class', 0xff);
    if (cls !== undefined) d.usbClass = cls;
    const vendor = num('vendor', 0xffff);
    if (vendor !== undefined) d.vendor = vendor;
    const product = num('product', 0xffff);
    if (product !== undefined) d.product = product;
    const ver = r.str('version');
    if (ver !== undefined && ver !== '-1') {
      const m = /^([0-9a-fA-F]+)\.([0-9a-fA-F]+)$/.exec(ver);
      if (!m) throw xmlError('<redirfilter><usbdev>', `Cannot parse USB version ${ver}`);
      d.version = (parseInt(m[1]!, 16) << 8) | parseInt(m[2]!, 16);
    }
    out.push(d);
  }
  return out;
}

export function formatRedirFilter(w: XmlWriter, filter: RedirFilterUsbDev[] | undefined): void {
  if (!filter) return;
  w.open('redirfilter');
  for (const d of filter) {
    const hx = (n: number | undefined, width: number) => (n === undefined ? '-1' : '0x' + n.toString(16).toUpperCase().padStart(width, '0'));
    const v = d.version;
    const ver = v === undefined ? '-1'
      : `${((v & 0xf000) >> 12) * 10 + ((v & 0x0f00) >> 8)}.${String(((v & 0x00f0) >> 4) * 10 + (v & 0x000f)).padStart(2, '0')}`;
    w.empty('usbdev', [
      ['class', hx(d.usbClass, 2)],
      ['vendor', hx(d.vendor, 4)],
      ['product', hx(d.product, 4)],
      ['version', ver],
      ['allow', yn(d.allow)],
    ]);
  }
  w.close('redirfilter');
}

export interface HubDef {
  type: 'usb';
  info: DeviceInfo;
}

export function parseHub(el: XmlElement, ctx: ParseContext): HubDef {
  const r = new ElemReader(el, '<hub>');
  const type = r.enum('type', ['usb'] as const);
  if (!type) throw xmlError('<hub>', 'missing hub device type');
  return { type, info: parseDeviceInfo(r, ctx) };
}

export function formatHub(w: XmlWriter, def: HubDef, ctx: FormatContext): void {
  w.element('hub', [['type', def.type]], (c) => formatDeviceInfo(c, def.info, ctx));
}

/** <smartcard>: host, host-certificates or passthrough smartcard readers. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { writeEl, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatChrSource, parseChrSource, type ChrSourceDef } from './chardev.js';

export interface SmartcardDef {
  mode: 'host' | 'host-certificates' | 'passthrough';
  certificates?: string[];
  database?: string;
  passthrough?: ChrSourceDef;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseSmartcard(el: XmlElement, ctx: ParseContext): SmartcardDef {
  const r = new ElemReader(el, '<smartcard>');
  const mode = r.enum('mode', ['host', 'host-certificates', 'passthrough'] as const);
  if (!mode) throw xmlError('<smartcard>', 'missing smartcard device mode');
  const def: SmartcardDef = { mode, info: {} };
  if (mode === 'host-certificates') {
    const certs = r.children('certificate').map((c) => c.text().trim());
    if (certs.length !== 3) throw xmlError('<smartcard>', 'host-certificates mode needs exactly three certificates');
    if (certs.some((c) => c === '')) throw xmlError('<smartcard>', 'host-certificates mode needs exactly three certificates');
    def.certificates = certs;
    const db = r.childTrimmed('database');
    if (db !== undefined) {
      if (!db.startsWith('/')) throw xmlError('<smartcard>', `expecting absolute path: ${db}`);
      def.database = db;
    }
  } else if (mode === 'passthrough') {
    const type = r.str('type');
    if (type === undefined) throw xmlError('<smartcard>', 'passthrough mode requires a character device type attribute');
    def.passthrough = parseChrSource(r, type, ctx, '<smartcard>');
  }
  def.info = parseDeviceInfo(r, ctx);
  if (def.info.address && def.info.address.type !== 'ccid') throw xmlError('<smartcard>', 'Controllers must use the \'ccid\' address type');
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatSmartcard(w: XmlWriter, def: SmartcardDef, ctx: FormatContext): void {
  const a: AttrList = [['mode', def.mode]];
  if (def.passthrough) a.push(['type', def.passthrough.type]);
  writeEl(w, 'smartcard', a, (c) => {
    for (const cert of def.certificates ?? []) c.text('certificate', cert);
    c.text('database', def.database);
    if (def.passthrough) formatChrSource(c, def.passthrough, ctx);
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}
